package booking

import (
	"context"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// heldFresh is how long one read of the times the clinic's bookings hold
// serves every time page of this replica. A booking made here is seen at
// once (a claim drops the snapshot); one made on another replica within
// heldFresh, so within a second everywhere (issue 14). A time page costs
// no database read of its own, which under load was the most of its work.
const heldFresh = 500 * time.Millisecond

// heldSnapshot is the last read of the clinic's held times over the whole
// booking window.
type heldSnapshot struct {
	group singleflight.Group

	mu       sync.Mutex
	read     time.Time // wall clock: the service clock may stand still
	from, to time.Time
	records  []Record
}

// heldIn returns the records holding a time that starts in [from, to):
// from the snapshot when it is fresh and covers the range, else read anew.
func (s *Service) heldIn(ctx context.Context, from, to time.Time) ([]Record, error) {
	h := &s.held
	h.mu.Lock()
	fresh := time.Since(h.read) < heldFresh && !from.Before(h.from) && !to.After(h.to)
	records := h.records
	h.mu.Unlock()
	if !fresh {
		// The whole window, so that every page of the next heldFresh is
		// answered from one read: from a day before today (a booking may
		// reach into it) to the end of the last strip that starts inside
		// the window, with a day's margin either side for time zones.
		today := dayOf(s.now(), time.UTC)
		wfrom, wto := addDays(today, -2), addDays(today, s.clinic.BookingWindowDays+weekDays+2)
		if from.Before(wfrom) || to.After(wto) {
			return s.store.HeldSlots(ctx, s.clinic.Slug, from, to)
		}
		v, err, _ := h.group.Do("held", func() (any, error) {
			list, err := s.store.HeldSlots(ctx, s.clinic.Slug, wfrom, wto)
			if err != nil {
				return nil, err
			}
			h.mu.Lock()
			h.read, h.from, h.to, h.records = time.Now(), wfrom, wto, list
			h.mu.Unlock()
			return list, nil
		})
		if err != nil {
			return nil, err
		}
		records = v.([]Record)
	}
	var out []Record
	for _, r := range records {
		if !r.Start.Before(from) && r.Start.Before(to) {
			out = append(out, r)
		}
	}
	return out, nil
}

// heldChanged drops the snapshot, and every time step cut with it: this
// replica has just claimed a time.
func (s *Service) heldChanged() {
	s.held.mu.Lock()
	s.held.read = time.Time{}
	s.held.mu.Unlock()
	s.weeks.dropAll()
}
