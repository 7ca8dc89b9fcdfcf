package booking

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clinic-booking/portal/internal/coreplus"
	"github.com/clinic-booking/portal/internal/coreplus/sandbox"
)

// countingAPI counts the free-time queries that reach coreplus.
type countingAPI struct {
	Coreplus
	mu      sync.Mutex
	queries []coreplus.SlotQuery
}

func (a *countingAPI) FindAvailability(ctx context.Context, q coreplus.SlotQuery) ([]coreplus.Slot, error) {
	a.mu.Lock()
	a.queries = append(a.queries, q)
	a.mu.Unlock()
	return a.Coreplus.FindAvailability(ctx, q)
}

func (a *countingAPI) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.queries)
}

// TestTimesOfferedAreTheTimesCoreplusCuts: the portal cuts every service's
// times from a location's whole free blocks. For every location, service
// and practitioner of the sandbox, over a fortnight with appointments
// already in the diary, they are exactly the times coreplus gives when
// asked for that appointment type and practitioner (less the clinic's
// notice), so whatever the portal offers, coreplus accepts. And all of
// them together cost one free-time query per location and span.
func TestTimesOfferedAreTheTimesCoreplusCuts(t *testing.T) {
	svc, _, _, api := sandboxClients(t, 0)
	counted := &countingAPI{Coreplus: api}
	svc.api = counted
	ctx := t.Context()

	locs, err := svc.Locations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	services, err := svc.Services(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// An appointment a quarter of an hour into a free block leaves blocks
	// that start off the hour, so that every service is cut from an odd
	// start.
	from := dayOf(time.Now(), locs[0].Zone)
	blocks, err := api.FindAvailability(ctx, coreplus.SlotQuery{
		StartDate: addDays(from, 1).Format(dateLayout), EndDate: addDays(from, 7).Format(dateLayout),
		TimezoneID: locs[0].TimezoneID, LocationIDs: []string{sandbox.LocationSydneyID}, PractitionerIDs: []string{sandbox.PractitionerPriyaID},
	})
	if err != nil {
		t.Fatal(err)
	}
	var odd time.Time
	for _, b := range blocks {
		if b.End.Sub(b.Start) >= time.Hour {
			odd = b.Start.Add(15 * time.Minute)
			break
		}
	}
	if odd.IsZero() {
		t.Fatalf("Priya has no free hour in a week: %v", blocks)
	}
	if _, err := api.CreateAppointment(ctx, coreplus.NewAppointment{
		Start: odd, End: odd.Add(30 * time.Minute), PractitionerID: sandbox.PractitionerPriyaID,
		LocationID: sandbox.LocationSydneyID, AppointmentTypeID: sandbox.AppointmentTypeStandardID,
		ClientID: sandbox.ClientPeterNguyenID,
	}); err != nil {
		t.Fatal(err)
	}

	var compared int
	for _, loc := range locs {
		from := dayOf(svc.now(), loc.Zone)
		to := addDays(from, spanDays-1)
		for _, st := range services {
			pracs, err := svc.Practitioners(ctx, loc, st)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range pracs {
				sel := Selection{Location: &loc, Service: &st, Practitioner: &p}
				got, err := svc.freeSlots(ctx, sel, []Practitioner{p}, from, to)
				if err != nil {
					t.Fatal(err)
				}
				cut, err := api.FindAvailability(ctx, coreplus.SlotQuery{
					StartDate: from.Format(dateLayout), EndDate: to.Format(dateLayout), TimezoneID: loc.TimezoneID,
					LocationIDs: []string{loc.ID}, PractitionerIDs: []string{p.ID}, AppointmentTypeID: st.ID,
				})
				if err != nil {
					t.Fatal(err)
				}
				var want []string
				for _, c := range cut {
					if svc.clinic.Bookable(c.Start, svc.now()) {
						want = append(want, c.Start.In(loc.Zone).Format(time.RFC3339)+"/"+c.End.Sub(c.Start).String())
					}
				}
				var offered []string
				for _, sl := range got {
					offered = append(offered, sl.Start.Format(time.RFC3339)+"/"+sl.End.Sub(sl.Start).String())
				}
				if strings.Join(offered, " ") != strings.Join(want, " ") {
					t.Errorf("%s, %s, %s:\n portal offers %v\n coreplus cuts %v", loc.Name, st.Name, p.Name, offered, want)
				}
				compared += len(want)
			}
		}
	}
	if compared == 0 {
		t.Fatal("no times compared")
	}
	// Each span of each location was asked for once, whatever the services
	// and practitioners: those of the four weeks that tell who works
	// there, which hold the fortnight compared.
	if n, most := counted.count(), len(locs)*(workingLookDays/spanDays+1); n > most {
		t.Errorf("%d free-time queries for %d locations; want at most %d", n, len(locs), most)
	}
	t.Logf("%d times compared; %d free-time queries", compared, counted.count())
}

// TestSpansAreAlignedAcrossZonesAndDST: spans start every spanDays days
// from the epoch, at midnight in the location's zone, whatever the day
// asked for and across a DST change.
func TestSpansAreAlignedAcrossZonesAndDST(t *testing.T) {
	for _, zone := range []*time.Location{sydney, time.UTC, mustLoad(t, "Australia/Brisbane"), mustLoad(t, "America/New_York")} {
		first := spanStart(time.Date(2026, 10, 1, 0, 0, 0, 0, zone))
		for d := 0; d < 90; d++ {
			day := time.Date(2026, 10, 1+d, 0, 0, 0, 0, zone)
			ss := spanStart(day)
			if ss.After(day) || !addDays(ss, spanDays).After(day) {
				t.Fatalf("%s: span of %s starts %s", zone, day.Format(dateLayout), ss.Format(dateLayout))
			}
			if ss.Hour() != 0 || ss.Location() != zone {
				t.Fatalf("%s: span starts at %s", zone, ss)
			}
			gap := int(time.Date(ss.Year(), ss.Month(), ss.Day(), 0, 0, 0, 0, time.UTC).Sub(
				time.Date(first.Year(), first.Month(), first.Day(), 0, 0, 0, 0, time.UTC)).Hours() / 24)
			if gap%spanDays != 0 {
				t.Fatalf("%s: span %s is %d days after %s", zone, ss.Format(dateLayout), gap, first.Format(dateLayout))
			}
		}
	}
}

func mustLoad(t *testing.T, name string) *time.Location {
	t.Helper()
	z, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return z
}

// TestFreeTimeIsServedStaleWhileOneReloadRefreshesIt: past its ttl, free
// time is answered from the cache at once while one reload, shared by
// everyone who asks meanwhile, fetches it again; past the stale bound, the
// patient waits for a fresh answer. The age of what was served is known.
func TestFreeTimeIsServedStaleWhileOneReloadRefreshesIt(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, sydney)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	release := make(chan struct{})
	var loads sync.WaitGroup
	var calls int
	c := &refCache{ttl: AvailabilityTTL, swr: AvailabilityStale, now: clock, entries: map[string]cacheEntry{}}
	load := func(context.Context) (any, error) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		if n > 1 {
			<-release // a slow coreplus
			loads.Done()
		}
		return n, nil
	}
	get := func() (int, time.Time) {
		v, at, err := c.getAged(t.Context(), "k", load)
		if err != nil {
			t.Fatal(err)
		}
		return v.(int), at
	}
	first := clock()
	if v, at := get(); v != 1 || !at.Equal(first) {
		t.Fatalf("first load: %d at %v", v, at)
	}
	advance(AvailabilityTTL + time.Second)
	loads.Add(1)
	for range 5 {
		if v, at := get(); v != 1 || !at.Equal(first) {
			t.Fatalf("stale read: %d loaded %v; want the old value at once", v, at)
		}
	}
	close(release)
	loads.Wait()
	// The one background reload has landed.
	deadline := time.Now().Add(5 * time.Second)
	for {
		if v, _ := get(); v == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the background reload never landed")
		}
		time.Sleep(time.Millisecond)
	}
	if calls != 2 {
		t.Errorf("%d loads; want one reload for five stale reads", calls)
	}
	// Long unread: older than the stale bound, so the reader waits.
	advance(AvailabilityTTL + AvailabilityStale + time.Second)
	loads.Add(1)
	if v, at := get(); v != 3 || !at.Equal(clock()) {
		t.Errorf("read past the stale bound: %d loaded %v; want a fresh load", v, at)
	}
}

// TestHeldTimesLeaveEveryOverlappingOffer: a time the portal's own booking
// holds is left out of what is offered, and so is any time of another
// length that would overlap it, since coreplus would refuse that too.
func TestHeldTimesLeaveEveryOverlappingOffer(t *testing.T) {
	now := time.Date(2026, 11, 30, 6, 0, 0, 0, sydney)
	at := func(h, m int) time.Time { return time.Date(2026, 12, 1, h, m, 0, 0, sydney) }
	api := &fakeAPI{slots: []coreplus.Slot{{Start: at(9, 0), End: at(12, 0), PractitionerID: "tom", LocationID: "syd"}}}
	held := heldStore{held: []Record{{DraftID: "a", Clinic: "x", PractitionerID: "tom", Start: at(10, 0), End: at(10, 30)}}}
	svc := NewService(Clinic{Slug: "x"}, api, held, func() time.Time { return now })
	tom := Practitioner{ID: "tom", Name: "Tom"}
	sel := Selection{Location: &Location{ID: "syd", Zone: sydney, TimezoneID: "tz"}, Service: &ServiceType{ID: "long", Minutes: 45}, Practitioner: &tom}
	day := dayOf(at(9, 0), sydney)
	got, err := svc.freeSlots(t.Context(), sel, []Practitioner{tom}, day, day)
	if err != nil {
		t.Fatal(err)
	}
	var starts []string
	for _, sl := range got {
		starts = append(starts, sl.Start.Format("15:04"))
	}
	if strings.Join(starts, " ") != "09:00 10:30 11:15" {
		t.Errorf("offered %v; want 09:00 10:30 11:15 (09:45 overlaps the held 10:00)", starts)
	}
}

// TestAPageWaitsForLoadsWithinOneBudget: however many loads a page needs,
// they wait within one budget together: the first slow load takes what is
// left of it, and the next gets an answer at once.
func TestAPageWaitsForLoadsWithinOneBudget(t *testing.T) {
	c := newRefCache(time.Minute, time.Now)
	release := make(chan struct{})
	defer close(release)
	slow := func(context.Context) (any, error) { <-release; return 1, nil }
	ctx := WithWaitBudget(t.Context(), 300*time.Millisecond)
	began := time.Now()
	if _, err := c.get(ctx, "a", slow); !errors.Is(err, errBusy) {
		t.Fatalf("first load: %v, want busy", err)
	}
	if _, err := c.get(ctx, "b", slow); !errors.Is(err, errBusy) {
		t.Fatalf("second load: %v, want busy", err)
	}
	if took := time.Since(began); took > pageWait {
		t.Errorf("two slow loads kept the page %v; its budget was 300ms", took)
	}
}

// mutableHeld is a store whose held times a test changes as another
// replica's booking would.
type mutableHeld struct {
	Store
	mu   sync.Mutex
	held []Record
	read int
}

func (m *mutableHeld) HeldSlots(_ context.Context, clinic string, from, to time.Time) ([]Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.read++
	var out []Record
	for _, r := range m.held {
		if r.Clinic == clinic && !r.Start.Before(from) && r.Start.Before(to) {
			out = append(out, r)
		}
	}
	return out, nil
}

// TestAnotherReplicasBookingLeavesTheOffersWithinASecond: a replica reads
// the clinic's held times once per heldFresh for all its pages, so a time
// another replica books leaves its pages within heldFresh, and pages in
// between cost no read of their own.
func TestAnotherReplicasBookingLeavesTheOffersWithinASecond(t *testing.T) {
	now := time.Date(2026, 11, 30, 6, 0, 0, 0, sydney)
	at := func(h int) time.Time { return time.Date(2026, 12, 1, h, 0, 0, 0, sydney) }
	api := &fakeAPI{slots: []coreplus.Slot{{Start: at(9), End: at(11), PractitionerID: "tom", LocationID: "syd"}}}
	st := &mutableHeld{}
	svc := NewService(Clinic{Slug: "x"}, api, st, func() time.Time { return now })
	tom := Practitioner{ID: "tom", Name: "Tom"}
	sel := Selection{Location: &Location{ID: "syd", Zone: sydney, TimezoneID: "tz"}, Service: &ServiceType{ID: "std", Minutes: 30}, Practitioner: &tom}
	day := dayOf(at(9), sydney)
	offered := func() int {
		t.Helper()
		got, err := svc.freeSlots(t.Context(), sel, []Practitioner{tom}, day, day)
		if err != nil {
			t.Fatal(err)
		}
		return len(got)
	}
	if n := offered(); n != 4 {
		t.Fatalf("%d times offered, want 4", n)
	}
	st.mu.Lock()
	st.held = append(st.held, Record{DraftID: "elsewhere", Clinic: "x", PractitionerID: "tom", Start: at(9), End: at(9).Add(30 * time.Minute)})
	reads := st.read
	st.mu.Unlock()
	for range 10 {
		offered()
	}
	st.mu.Lock()
	if st.read != reads {
		t.Errorf("%d more reads of held times for 10 pages inside heldFresh", st.read-reads)
	}
	st.mu.Unlock()
	time.Sleep(heldFresh + 50*time.Millisecond)
	if n := offered(); n != 3 {
		t.Errorf("%d times offered %v after another replica's booking, want 3", n, heldFresh)
	}
}
