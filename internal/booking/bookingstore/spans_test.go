package bookingstore_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/internal/booking/bookingstore"
	"github.com/clinic-booking/portal/internal/coreplus"
)

// blocksAPI is coreplus with every practitioner free 9:00 to 12:00 each
// day, counting the free-time queries and taking a moment over each.
type blocksAPI struct {
	booking.Coreplus
	mu      sync.Mutex
	queries int
	spans   map[string]int // queries by first day
}

func (f *blocksAPI) FindAvailability(_ context.Context, q coreplus.SlotQuery) ([]coreplus.Slot, error) {
	f.mu.Lock()
	f.queries++
	if f.spans == nil {
		f.spans = map[string]int{}
	}
	f.spans[q.StartDate]++
	f.mu.Unlock()
	time.Sleep(20 * time.Millisecond)
	from, _ := time.ParseInLocation("2006-01-02", q.StartDate, brisbane)
	to, _ := time.ParseInLocation("2006-01-02", q.EndDate, brisbane)
	var out []coreplus.Slot
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		for _, p := range []string{"prac-1", "prac-2"} {
			out = append(out, coreplus.Slot{Start: d.Add(9 * time.Hour), End: d.Add(12 * time.Hour), PractitionerID: p, LocationID: q.LocationIDs[0]})
		}
	}
	return out, nil
}

func (f *blocksAPI) count() int { f.mu.Lock(); defer f.mu.Unlock(); return f.queries }

// TestTwoReplicasShareFreeTimeThroughTheStore: two services over one
// database, as two replicas, fetch each span once between them, even when
// both ask at once, and offer the same times from it, read back from the
// database as they were fetched.
func TestTwoReplicasShareFreeTimeThroughTheStore(t *testing.T) {
	forEachAdapter(t, func(t *testing.T, a bookingstore.Adapter) {
		api := &blocksAPI{}
		now := time.Date(2026, 12, 7, 7, 0, 0, 0, brisbane)
		clock := func() time.Time { return now }
		replica := func() *booking.Service {
			s := booking.NewService(booking.Clinic{Slug: "harbourside"}, api, a, clock)
			s.SetSharedSpans(a)
			return s
		}
		loc := &booking.Location{ID: "loc-1", Zone: brisbane, TimezoneID: "tz-9"}
		sel := booking.Selection{Location: loc, Service: &booking.ServiceType{ID: "std", Minutes: 30},
			Practitioner: &booking.Practitioner{ID: "prac-1", Name: "Priya"}}
		ctx := context.Background()

		weeks := func(s *booking.Service) (times []time.Time) {
			for w := range 4 {
				sel.Week = time.Date(2026, 12, 7+7*w, 0, 0, 0, 0, brisbane)
				week, err := s.ShowWeek(ctx, sel)
				if err != nil {
					t.Fatal(err)
				}
				for _, d := range week.Days {
					for _, sl := range d.Slots {
						times = append(times, sl.Start)
					}
				}
			}
			return times
		}
		first := weeks(replica())
		fetched := api.count()
		second := weeks(replica())
		again := api.count() - fetched
		if again != 0 || fetched == 0 {
			t.Errorf("free-time queries: %d by the first replica, %d by the second; want none by the second", fetched, again)
		}
		if len(first) == 0 || len(first) != len(second) {
			t.Fatalf("%d times on the first replica, %d on the second", len(first), len(second))
		}
		for i := range first {
			if !first[i].Equal(second[i]) {
				t.Fatalf("time %d: %v on the first replica, %v on the second", i, first[i], second[i])
			}
		}

		// Two more, cold, asking at once for a week nobody fetched yet.
		c, d := replica(), replica()
		before := api.count()
		var wg sync.WaitGroup
		for _, s := range []*booking.Service{c, d} {
			wg.Go(func() {
				sel := sel
				sel.Week = time.Date(2027, 1, 21, 0, 0, 0, 0, brisbane)
				if _, err := s.ShowWeek(ctx, sel); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		// Each span was asked for once, between both replicas.
		n := api.count() - before
		if n == 0 {
			t.Fatal("showing a new week made no free-time query")
		}
		api.mu.Lock()
		for start, k := range api.spans {
			if k > 1 {
				t.Errorf("the span from %s was fetched %d times", start, k)
			}
		}
		api.mu.Unlock()
		t.Logf("queries: %d for four weeks on the first replica, %d on the second; %d for one new week on two at once",
			fetched, again, api.count()-before)
	})
}
