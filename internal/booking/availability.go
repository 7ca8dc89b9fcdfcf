package booking

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/clinic-booking/portal/internal/coreplus"
)

// Week is the time step: a strip of up to seven days, one of them chosen.
type Week struct {
	// Start is the strip's first day, midnight in the location's zone.
	// Strips are whole weeks counted from today (stripStart), and a whole
	// strip's free time is on the page, so moving between its days asks
	// nothing more.
	Start time.Time
	// Days are the strip's days, cut at the end of the booking window;
	// days with no free time have no slots.
	Days []Day
	// Chosen is the day shown: the day asked for, or the strip's first
	// free day after it (before it when none is after); zero when nothing
	// in the strip is free.
	Chosen time.Time
	// Earlier and Later start the neighbouring strips; zero outside the
	// booking window.
	Earlier, Later time.Time
	// NextFrom is where "next available" searches from when the strip has
	// no free time (the day after it); zero otherwise or past the window.
	// The search happens when the patient follows it, to keep upstream
	// requests few.
	NextFrom time.Time
	// Moved is set when nothing was free from the date asked for to the end
	// of the window, and the earliest free times are shown instead.
	Moved bool
	// PastWindow is set when the date asked for is after the last day of
	// the booking window; LastWeek is then the last bookable strip's start
	// and nothing else is set.
	PastWindow bool
	LastWeek   time.Time
	// LastDay is the booking window's last day.
	LastDay time.Time
	// Empty is set when nothing at all is free in the booking window.
	Empty bool
	// AsOf is when coreplus gave the oldest free time the strip was cut
	// from (the service's clock); see StaleAfter.
	AsOf time.Time
	// Serial names the computation this Week came from: two Weeks with the
	// same non-zero Serial are the same strip, cut from the same free and
	// held times for the same choices and day, so a page made from one
	// serves the other. A claim, a newer snapshot or a new day gives a new
	// Serial. Zero means not memoised.
	Serial uint64
}

// StaleAfter is how old a time step's free time must be before its page
// says how old it is. Free time is served at most AvailabilityTTL +
// AvailabilityStale old while coreplus answers (and with anyone browsing,
// about AvailabilityTTL); older only when coreplus is down or too slow to
// refresh it and the page was served its last copy instead of waiting.
// Then, and only then, the patient is told.
const StaleAfter = AvailabilityTTL + AvailabilityStale

// Day is one calendar day of a week and its free times.
type Day struct {
	Date  time.Time
	Slots []Slot
}

// weekDays is how many days the time step shows at once.
const weekDays = 7

// ShowWeek finds the free times to show for sel, which must have a location,
// a service and a practitioner choice. Without a date (or with FromWeek) it
// opens on the first day with a free time from that date on; with one, on
// that date's strip. For "first available" each start time is offered once,
// with the practitioner FirstAvailable picks.
func (s *Service) ShowWeek(ctx context.Context, sel Selection) (Week, error) {
	return s.weeks.get(sel, s.now(), func() (Week, error) { return s.showWeek(ctx, sel) })
}

func (s *Service) showWeek(ctx context.Context, sel Selection) (Week, error) {
	loc := sel.Location
	now := s.now()
	today := dayOf(now, loc.Zone)
	last := dayOf(now.Add(s.clinic.bookingWindow()), loc.Zone)
	if sel.Week.After(last) {
		return Week{PastWindow: true, LastWeek: stripStart(today, last), LastDay: last}, nil
	}
	pracs, err := s.offering(ctx, sel)
	if err != nil {
		return Week{}, err
	}

	want := sel.Week
	if want.Before(today) {
		want = today
	}
	w := Week{LastDay: last}
	if sel.Week.IsZero() || sel.FromWeek {
		first, ok, err := s.firstFreeDay(ctx, sel, pracs, want, last)
		if err != nil {
			return Week{}, err
		}
		if !ok && want.After(today) {
			// Nothing later: look from today before saying nothing is free.
			if first, ok, err = s.firstFreeDay(ctx, sel, pracs, today, want); err != nil {
				return Week{}, err
			}
			w.Moved = ok
		}
		if !ok {
			return Week{Start: today, LastDay: last, Empty: true}, nil
		}
		want = first
	}

	w.Start = stripStart(today, want)
	end := addDays(w.Start, weekDays-1)
	if end.After(last) {
		end = last
	}
	slots, asOf, err := s.freeSlotsAsOf(ctx, sel, pracs, w.Start, end)
	w.AsOf = asOf
	if err != nil {
		return Week{}, err
	}
	if sel.Any {
		slots = FirstAvailable(slots, pracs)
	}
	rest := slots // sorted by start: each day takes its run
	for d := w.Start; !d.After(end); d = addDays(d, 1) {
		next := addDays(d, 1)
		for len(rest) > 0 && rest[0].Start.Before(d) {
			rest = rest[1:]
		}
		n := 0
		for n < len(rest) && rest[n].Start.Before(next) {
			n++
		}
		w.Days = append(w.Days, Day{Date: d, Slots: rest[:n:n]})
		rest = rest[n:]
	}
	w.Chosen = chooseDay(w.Days, want)
	if w.Start.After(today) {
		w.Earlier = addDays(w.Start, -weekDays)
	}
	if after := addDays(w.Start, weekDays); !after.After(last) {
		w.Later = after
		if w.Chosen.IsZero() {
			w.NextFrom = after
		}
	}
	return w, nil
}

// chooseDay is the day to show of days: want if it has free times, else
// the first free day after it, else the last free day before it; zero
// when none is free.
func chooseDay(days []Day, want time.Time) time.Time {
	var before time.Time
	for _, d := range days {
		if len(d.Slots) == 0 {
			continue
		}
		if !d.Date.Before(want) {
			return d.Date
		}
		before = d.Date
	}
	return before
}

// FirstAvailable is the clinic's rule for "first available practitioner":
// each start time is offered once, with the first practitioner free at it
// in order, the order of the practitioner step (the clinic's list), so the
// same time always goes to the same person. slots must be sorted by start.
func FirstAvailable(slots []Slot, order []Practitioner) []Slot {
	rank := make(map[string]int, len(order))
	for i, p := range order {
		rank[p.ID] = i
	}
	var out []Slot
	for _, sl := range slots {
		n := len(out)
		if n > 0 && out[n-1].Start.Equal(sl.Start) {
			if rank[sl.Practitioner.ID] < rank[out[n-1].Practitioner.ID] {
				out[n-1] = sl
			}
			continue
		}
		out = append(out, sl)
	}
	return out
}

// stripStart is the first day of the time step's strip holding day d:
// strips are whole weeks counted from today, so that moving between the
// days of a strip keeps one page's free time.
func stripStart(today, d time.Time) time.Time {
	n := 0
	for c := today; !addDays(c, weekDays).After(d); c = addDays(c, weekDays) {
		n++
	}
	return addDays(today, n*weekDays)
}

// firstFreeDay searches forward a week at a time, within the window.
func (s *Service) firstFreeDay(ctx context.Context, sel Selection, pracs []Practitioner, from, last time.Time) (time.Time, bool, error) {
	for d := from; !d.After(last); d = addDays(d, weekDays) {
		slots, err := s.freeSlots(ctx, sel, pracs, d, addDays(d, weekDays-1))
		if err != nil {
			return time.Time{}, false, err
		}
		if len(slots) > 0 {
			return dayOf(slots[0].Start, sel.Location.Zone), true, nil
		}
	}
	return time.Time{}, false, nil
}

// offering lists whose free time counts for sel: the chosen practitioner, or
// for "first available" everyone who offers the service at the location.
func (s *Service) offering(ctx context.Context, sel Selection) ([]Practitioner, error) {
	if sel.Practitioner != nil {
		return []Practitioner{*sel.Practitioner}, nil
	}
	return s.Practitioners(ctx, *sel.Location, *sel.Service)
}

// Free time is fetched a location at a time, for every practitioner
// there, as whole free blocks (no appointment type), in spans of spanDays
// days that start on spanEpoch plus a multiple of spanDays. Every service,
// every practitioner and "first available" at a location are cut from the
// same few answers, so all patients browsing it share them, and a week on
// screen needs at most two. Each block is cut the way coreplus cuts free
// time for an appointment type (§3.4 of the API notes; the sandbox does
// the same): back to back from the block's start, in the service's length,
// so every time offered is one coreplus would offer, and the confirm's
// uncached re-check still has the last word.
const spanDays = 14

// spanStart is the first day of the span holding day d, a midnight in the
// location's zone.
func spanStart(d time.Time) time.Time {
	// Calendar days since the epoch (a Monday), counted in UTC so that a
	// DST change in the zone does not shorten a day.
	days := int(time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC).Sub(spanEpoch) / (24 * time.Hour))
	days -= ((days % spanDays) + spanDays) % spanDays
	return time.Date(spanEpoch.Year(), spanEpoch.Month(), spanEpoch.Day()+days, 0, 0, 0, 0, d.Location())
}

var spanEpoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// span returns the free blocks of every practitioner at loc in the span
// starting on start, and when coreplus gave them. Its errors are coreplus's.
func (s *Service) span(ctx context.Context, loc *Location, start time.Time) ([]coreplus.Slot, time.Time, error) {
	q := coreplus.SlotQuery{
		StartDate: start.Format(dateLayout), EndDate: addDays(start, spanDays-1).Format(dateLayout),
		TimezoneID: loc.TimezoneID, LocationIDs: []string{loc.ID},
	}
	key := strings.Join([]string{"span", loc.ID, loc.TimezoneID, q.StartDate}, "|")
	v, at, err := s.slots.getAged(ctx, key, func(ctx context.Context) (any, error) {
		if s.shared != nil {
			return s.sharedSpan(ctx, SpanKey{Clinic: s.clinic.Slug, LocationID: loc.ID, TimezoneID: loc.TimezoneID, Start: q.StartDate}, q)
		}
		return s.api.FindAvailability(ctx, q)
	})
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("find availability: %w", err)
	}
	return v.([]coreplus.Slot), at, nil
}

// freeSlots returns the bookable slots from day from to day to (inclusive),
// sorted by start then practitioner name, from cached free time less the
// times the portal's own bookings hold.
func (s *Service) freeSlots(ctx context.Context, sel Selection, pracs []Practitioner, from, to time.Time) ([]Slot, error) {
	slots, _, err := s.freeSlotsAsOf(ctx, sel, pracs, from, to)
	return slots, err
}

// freeSlotsAsOf is freeSlots, also saying when coreplus gave the oldest
// free time it used (zero when it used none).
func (s *Service) freeSlotsAsOf(ctx context.Context, sel Selection, pracs []Practitioner, from, to time.Time) ([]Slot, time.Time, error) {
	loc, length := sel.Location, sel.Service.Length()
	if len(pracs) == 0 || length <= 0 {
		return nil, time.Time{}, nil
	}
	now := s.now()
	if today := dayOf(now, loc.Zone); from.Before(today) {
		from = today
	}
	end := addDays(to, 1)
	byID := map[string]Practitioner{}
	for _, p := range pracs {
		byID[p.ID] = p
	}

	var (
		out  []Slot
		asOf time.Time
	)
	for ss := spanStart(from); ss.Before(end); ss = addDays(ss, spanDays) {
		blocks, at, err := s.span(ctx, loc, ss)
		if err != nil {
			return nil, time.Time{}, upstream(err)
		}
		if asOf.IsZero() || at.Before(asOf) {
			asOf = at
		}
		for _, b := range blocks {
			p, ok := byID[b.PractitionerID]
			if !ok || (b.LocationID != "" && b.LocationID != loc.ID) || !b.End.After(from) || !b.Start.Before(end) {
				continue
			}
			for t := b.Start; !t.Add(length).After(b.End); t = t.Add(length) {
				start := t.In(loc.Zone)
				if start.Before(from) || !start.Before(end) || !s.clinic.Bookable(start, now) {
					continue
				}
				out = append(out, Slot{Start: start, End: start.Add(length), Practitioner: p, LocationID: loc.ID})
			}
		}
	}
	// coreplus gives a practitioner's free time as blocks that do not
	// overlap; a block given twice (seen in the wild) is one.
	sortSlots(out)
	out = slices.CompactFunc(out, func(a, b Slot) bool {
		return a.Start.Equal(b.Start) && a.Practitioner.ID == b.Practitioner.ID
	})
	return s.notHeld(ctx, out, from, end), asOf, nil
}

// sortSlots orders slots by time, then by practitioner name: the merged list
// for "first available practitioner".
func sortSlots(slots []Slot) {
	sort.SliceStable(slots, func(i, j int) bool {
		if !slots[i].Start.Equal(slots[j].Start) {
			return slots[i].Start.Before(slots[j].Start)
		}
		return slots[i].Practitioner.Name < slots[j].Practitioner.Name
	})
}

// slotState is what coreplus says of a slot when asked just before booking.
type slotState int

const (
	slotFree       slotState = iota + 1 // wholly inside free time
	slotTaken                           // not free any more
	slotNotOffered                      // never a time the portal offers (an edited link)
)

// slotGrid is the step free times start on: coreplus starts a day's first
// free block at now rounded up to it.
const slotGrid = 5 * time.Minute

// offerable reports whether a slot could ever have been shown: it starts on
// the 5-minute grid in the location's zone and lasts the service's length.
// Which starts coreplus offers shifts as time passes and blocks change, so
// anything more is asked of the free time itself.
func offerable(sl Slot, zone *time.Location, length time.Duration) bool {
	_, off := sl.Start.In(zone).Zone()
	onGrid := (sl.Start.Unix()+int64(off))%int64(slotGrid/time.Second) == 0 && sl.Start.Nanosecond() == 0
	return onGrid && sl.End.Sub(sl.Start) == length
}

// checkSlot asks coreplus, uncached, whether the slot still lies wholly
// inside the practitioner's free time at the location. The free time is
// asked for whole (no service), because the starts coreplus offers for a
// service move with the start of each free block.
func (s *Service) checkSlot(ctx context.Context, loc *Location, length time.Duration, sl Slot) (slotState, error) {
	if !offerable(sl, loc.Zone, length) {
		return slotNotOffered, nil
	}
	free, err := s.freeTime(ctx, loc, sl, true)
	if err != nil {
		return 0, upstream(fmt.Errorf("re-check availability: %w", err))
	}
	if free {
		return slotFree, nil
	}
	return slotTaken, nil
}

// freeTime reports whether [sl.Start, sl.End) lies inside contiguous free
// time of sl's practitioner at loc. fresh skips the cache (and refreshes
// it): identical fresh reads at once share one call, made after each of
// them asked (see freshGroup), so each answer is as fresh as its own call.
// The key is the whole query; the service is one clinic's.
func (s *Service) freeTime(ctx context.Context, loc *Location, sl Slot, fresh bool) (bool, error) {
	q := coreplus.SlotQuery{
		StartDate: sl.Start.In(loc.Zone).Format(dateLayout), EndDate: sl.End.Add(-time.Nanosecond).In(loc.Zone).Format(dateLayout),
		TimezoneID: loc.TimezoneID, LocationIDs: []string{loc.ID}, PractitionerIDs: []string{sl.Practitioner.ID},
	}
	key := strings.Join([]string{"free", loc.ID, loc.TimezoneID, sl.Practitioner.ID, q.StartDate, q.EndDate}, "|")
	var v any
	var err error
	if fresh {
		v, err = s.fresh.do(ctx, key, func(ctx context.Context) (any, error) {
			blocks, err := s.api.FindAvailability(ctx, q)
			if err == nil {
				s.slots.put(key, blocks)
			}
			return blocks, err
		})
	} else {
		v, err = s.slots.get(ctx, key, func(ctx context.Context) (any, error) {
			return s.api.FindAvailability(ctx, q)
		})
	}
	if err != nil {
		return false, err
	}
	return covers(v.([]coreplus.Slot), loc.ID, sl), nil
}

// covers reports whether the blocks of sl's practitioner at locID, joined
// where one ends as the next starts, hold all of [sl.Start, sl.End).
func covers(blocks []coreplus.Slot, locID string, sl Slot) bool {
	var mine []coreplus.Slot
	for _, b := range blocks {
		if b.PractitionerID == sl.Practitioner.ID && (b.LocationID == "" || b.LocationID == locID) && b.Start.Before(b.End) {
			mine = append(mine, b)
		}
	}
	sort.Slice(mine, func(i, j int) bool { return mine[i].Start.Before(mine[j].Start) })
	reach := sl.Start // free time is known up to here
	for _, b := range mine {
		if b.Start.After(reach) {
			return false // a gap at reach, inside the slot
		}
		if b.End.After(reach) {
			reach = b.End
		}
		if !reach.Before(sl.End) {
			return true
		}
	}
	return false
}

// errSlotNotOffered is the answer to a time that is not one of the free
// times shown for the service, which only an edited link can ask for.
func errSlotNotOffered() error {
	return invalid("That time isn't one of the free times for this service. Choose a time again.")
}

// CheckSlot reports, from cached free time, whether sel's slot is one the
// time step could have shown: a CodeInvalid error if not, a CodeTaken one
// if it could and is not free any more. When coreplus
// cannot be asked it lets the slot through; Confirm checks again, uncached,
// before anything is booked.
func (s *Service) CheckSlot(ctx context.Context, sel Selection) error {
	if sel.Location == nil || sel.Service == nil || sel.Slot == nil {
		return nil
	}
	if !offerable(*sel.Slot, sel.Location.Zone, sel.Service.Length()) || !s.clinic.Bookable(sel.Slot.Start, s.now()) {
		return errSlotNotOffered()
	}
	// Usually one of the starts the time step showed, from the same cache.
	day := dayOf(sel.Slot.Start, sel.Location.Zone)
	shown, err := s.freeSlots(ctx, sel, []Practitioner{sel.Slot.Practitioner}, day, day)
	if err == nil {
		for _, sl := range shown {
			if sl.Start.Equal(sel.Slot.Start) && sl.Practitioner.ID == sel.Slot.Practitioner.ID {
				return nil
			}
		}
	}
	free, err := s.freeTime(ctx, sel.Location, *sel.Slot, false)
	if err != nil {
		s.log.Warn("check slot", "err", err)
		return nil
	}
	if !free {
		// A time the step could show (on the grid, in the window) that is
		// not free: it went since the patient's page was made, most likely
		// to a booking made in coreplus itself.
		return &Error{Code: CodeTaken, Message: "That time has just been taken. Choose another time."}
	}
	return nil
}

// Alternatives finds up to n free times nearest to the taken slot, with the
// same practitioner choice (the same person, or anyone): the cached free
// times everyone browses, less the times the portal's own bookings hold.
// Nothing fresh is asked of coreplus for a patient who lost a time; these
// are offers, and the one the patient picks is re-checked at its confirm.
func (s *Service) Alternatives(ctx context.Context, sel Selection, n int) ([]Slot, error) {
	if sel.Slot == nil {
		return nil, nil
	}
	pracs, err := s.offering(ctx, sel)
	if err != nil {
		return nil, err
	}
	taken := *sel.Slot
	day := dayOf(taken.Start, sel.Location.Zone)
	from, to := addDays(day, -3), addDays(day, weekDays)
	slots, err := s.freeSlots(ctx, sel, pracs, from, to)
	if err != nil {
		return nil, err
	}
	return nearest(slots, taken, n), nil
}

// notHeld leaves out of slots, which start in [from, to), those that
// overlap a time another booking of the portal's holds: its own bookings
// leave what it offers at once, on every replica, since they share the
// store. When the store cannot say, slots are kept: a held time picked
// later is refused at its own claim.
func (s *Service) notHeld(ctx context.Context, slots []Slot, from, to time.Time) []Slot {
	if s.store == nil || len(slots) == 0 {
		return slots
	}
	held, err := s.heldIn(ctx, from.Add(-heldReach), to)
	if err != nil {
		s.log.Warn("list held slots", "err", err)
		return slots
	}
	if len(held) == 0 {
		return slots
	}
	out := slots[:0:0]
	for _, sl := range slots {
		if !overlapsHeld(held, sl) {
			out = append(out, sl)
		}
	}
	return out
}

// heldReach is how long before a range a booking may start and still reach
// into it: longer than any appointment.
const heldReach = 24 * time.Hour

// overlapsHeld reports whether a record in held holds sl's practitioner for
// any part of sl. A record with no end holds its start.
func overlapsHeld(held []Record, sl Slot) bool {
	for _, r := range held {
		end := r.End
		if !end.After(r.Start) {
			end = r.Start.Add(time.Nanosecond)
		}
		if r.PractitionerID == sl.Practitioner.ID && r.Start.Before(sl.End) && sl.Start.Before(end) {
			return true
		}
	}
	return false
}

// holds reports whether a record in held, other than draft except's, holds
// the practitioner at start.
func holds(held []Record, practitionerID string, start time.Time, except string) bool {
	for _, r := range held {
		if r.PractitionerID == practitionerID && r.Start.Equal(start) && r.DraftID != except {
			return true
		}
	}
	return false
}

// nearest picks the n slots closest in time to taken (leaving taken itself
// out), in time order.
func nearest(slots []Slot, taken Slot, n int) []Slot {
	var cands []Slot
	for _, sl := range slots {
		if sl.Start.Equal(taken.Start) && sl.Practitioner.ID == taken.Practitioner.ID {
			continue
		}
		cands = append(cands, sl)
	}
	dist := func(sl Slot) time.Duration {
		d := sl.Start.Sub(taken.Start)
		if d < 0 {
			return -d
		}
		return d
	}
	sort.SliceStable(cands, func(i, j int) bool { return dist(cands[i]) < dist(cands[j]) })
	if len(cands) > n {
		cands = cands[:n]
	}
	sortSlots(cands)
	return cands
}
