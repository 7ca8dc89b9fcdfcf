package booking

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/clinic-booking/portal/internal/coreplus"
)

// memSpans is SharedSpans in memory, as one database shared by replicas.
type memSpans struct {
	mu   sync.Mutex
	rows map[SpanKey]memSpan
	down bool // every call fails, as a database that is not there
}

type memSpan struct {
	blocks  []coreplus.Slot
	fetched time.Time
	lease   time.Time
}

var errDown = errors.New("database down")

func (m *memSpans) GetSpan(_ context.Context, k SpanKey) ([]coreplus.Slot, time.Time, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down {
		return nil, time.Time{}, false, errDown
	}
	r, ok := m.rows[k]
	if !ok || r.fetched.IsZero() {
		return nil, time.Time{}, false, nil
	}
	return r.blocks, r.fetched, true, nil
}

func (m *memSpans) LeaseSpan(_ context.Context, k SpanKey, now, until time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down {
		return false, errDown
	}
	r := m.rows[k]
	if r.lease.After(now) {
		return false, nil
	}
	r.lease = until
	m.set(k, r)
	return true, nil
}

func (m *memSpans) PutSpan(_ context.Context, k SpanKey, blocks []coreplus.Slot, fetchedAt time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down {
		return errDown
	}
	r := m.rows[k]
	if !fetchedAt.Before(r.fetched) {
		r.blocks, r.fetched = blocks, fetchedAt
		m.set(k, r)
	}
	return nil
}

// fetchedBefore counts the spans kept that were fetched before t.
func (m *memSpans) fetchedBefore(t time.Time) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int
	for _, r := range m.rows {
		if r.fetched.Before(t) {
			n++
		}
	}
	return n
}

func (m *memSpans) set(k SpanKey, r memSpan) {
	if m.rows == nil {
		m.rows = map[SpanKey]memSpan{}
	}
	m.rows[k] = r
}

// testClock is a clock tests move by hand.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *testClock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// replicas is n services of one clinic over one coreplus account (counted)
// and one shared span store, as n portal processes on one database.
func replicas(t *testing.T, n int, latency time.Duration, shared SharedSpans) ([]*Service, *countingAPI, *testClock) {
	t.Helper()
	_, _, _, api := sandboxClients(t, latency)
	counted := &countingAPI{Coreplus: api}
	clock := &testClock{now: time.Now()}
	var out []*Service
	for range n {
		s := NewService(Clinic{Slug: "harbourside"}, counted, nil, clock.Now)
		s.SetSharedSpans(shared)
		out = append(out, s)
	}
	return out, counted, clock
}

// TestReplicasShareWhatOneFetched: a second replica browsing what a first
// one browsed makes no free-time query of its own, offers the same times,
// and says they are as old as the first one's.
func TestReplicasShareWhatOneFetched(t *testing.T) {
	svcs, counted, _ := replicas(t, 2, 0, &memSpans{})
	a, b := svcs[0], svcs[1]
	ctx := t.Context()

	browse := func(s *Service) (slots []Slot, asOf []time.Time) {
		locs, err := s.Locations(ctx)
		if err != nil {
			t.Fatal(err)
		}
		services, err := s.Services(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, loc := range locs {
			pracs, err := s.Practitioners(ctx, loc, services[0])
			if err != nil {
				t.Fatal(err)
			}
			from := dayOf(s.now(), loc.Zone)
			got, at, err := s.freeSlotsAsOf(ctx, Selection{Location: &loc, Service: &services[0], Any: true}, pracs, from, addDays(from, 4*weekDays-1))
			if err != nil {
				t.Fatal(err)
			}
			slots, asOf = append(slots, got...), append(asOf, at)
		}
		return slots, asOf
	}
	slotsA, atA := browse(a)
	fetched := counted.count()
	if fetched == 0 || len(slotsA) == 0 {
		t.Fatalf("the first replica offered %d times from %d queries", len(slotsA), fetched)
	}
	slotsB, atB := browse(b)
	if n := counted.count() - fetched; n != 0 {
		t.Errorf("the second replica made %d free-time queries; want none, the first made %d", n, fetched)
	}
	if len(slotsB) != len(slotsA) {
		t.Fatalf("the second replica offers %d times, the first %d", len(slotsB), len(slotsA))
	}
	for i := range slotsA {
		if !slotsA[i].Start.Equal(slotsB[i].Start) || slotsA[i].Practitioner.ID != slotsB[i].Practitioner.ID {
			t.Fatalf("time %d: %v with %s on one, %v with %s on the other", i,
				slotsA[i].Start, slotsA[i].Practitioner.ID, slotsB[i].Start, slotsB[i].Practitioner.ID)
		}
	}
	for i := range atA {
		if !atA[i].Equal(atB[i]) {
			t.Errorf("location %d: the second replica says its times are from %v, the first %v", i, atB[i], atA[i])
		}
	}
	t.Logf("%d times offered by each replica; free-time queries: %d by the first, %d by the second", len(slotsA), fetched, counted.count()-fetched)
}

// TestOneOfConcurrentReplicasFetches: replicas loading the same spans at
// once, and later refreshing them at once, make one query a span between
// them: the lease decides who fetches, and the others wait for its copy.
func TestOneOfConcurrentReplicasFetches(t *testing.T) {
	const n, spans = 3, 4
	shared := &memSpans{}
	svcs, counted, clock := replicas(t, n, 50*time.Millisecond, shared)
	ctx := t.Context()
	locs, err := svcs[0].Locations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	loc := locs[0]
	first := spanStart(dayOf(clock.Now(), loc.Zone))

	loadAll := func() []time.Time {
		ats := make([]time.Time, n*spans)
		var wg sync.WaitGroup
		for i, s := range svcs {
			for j := range spans {
				wg.Go(func() {
					blocks, at, err := s.span(ctx, &loc, addDays(first, j*spanDays))
					if err != nil {
						t.Error(err)
					}
					if j == 0 && len(blocks) == 0 {
						t.Error("no free blocks in the first span")
					}
					ats[i*spans+j] = at
				})
			}
		}
		wg.Wait()
		return ats
	}
	loadAll()
	if got := counted.count(); got != spans {
		t.Errorf("%d replicas loading %d spans at once made %d queries; want %d", n, spans, got, spans)
	}

	// Stale everywhere at once: every replica answers from what it has and
	// reloads in the background; one of them fetches each span.
	clock.Advance(AvailabilityTTL + time.Second)
	loadAll()
	deadline := time.Now().Add(5 * time.Second)
	for counted.count() < 2*spans && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // any more queries would come now
	if got := counted.count(); got != 2*spans {
		t.Errorf("refreshing %d stale spans on %d replicas made %d queries; want %d", spans, n, got-spans, spans)
	}
	// Once the refreshed copies are in the store, and a moment later,
	// every replica serves them.
	refreshed := clock.Now()
	deadline = time.Now().Add(5 * time.Second)
	for shared.fetchedBefore(refreshed) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d spans never refreshed in the store", shared.fetchedBefore(refreshed))
		}
		time.Sleep(10 * time.Millisecond)
	}
	clock.Advance(2 * sharedRecheck)
	deadline = time.Now().Add(5 * time.Second)
	for {
		var old int
		for _, at := range loadAll() {
			if at.Before(refreshed) {
				old++
			}
		}
		if old == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d loads still serve the copy from before the refresh", old, n*spans)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := counted.count(); got != 2*spans {
		t.Errorf("%d queries after every replica caught up; want %d", got, 2*spans)
	}
}

// TestReplicaWaitsForTheOneFetching: with no copy to serve and another
// replica holding the lease, a replica waits for that one's copy instead
// of asking coreplus too.
func TestReplicaWaitsForTheOneFetching(t *testing.T) {
	shared := &memSpans{}
	svcs, counted, clock := replicas(t, 1, 0, shared)
	s := svcs[0]
	loc := Location{ID: "loc-1", Zone: sydney, TimezoneID: "tz"}
	start := spanStart(dayOf(clock.Now(), loc.Zone))
	k := SpanKey{Clinic: "harbourside", LocationID: loc.ID, TimezoneID: loc.TimezoneID, Start: start.Format(dateLayout)}
	if ok, _ := shared.LeaseSpan(t.Context(), k, clock.Now(), clock.Now().Add(spanLease)); !ok {
		t.Fatal("the other replica did not get the lease")
	}
	theirs := []coreplus.Slot{{Start: start.Add(9 * time.Hour), End: start.Add(12 * time.Hour), PractitionerID: "p", LocationID: loc.ID}}
	fetchedAt := clock.Now()
	go func() {
		time.Sleep(5 * spanPoll)
		_ = shared.PutSpan(context.Background(), k, theirs, fetchedAt)
	}()
	began := time.Now()
	blocks, at, err := s.span(t.Context(), &loc, start)
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) != 1 || !blocks[0].Start.Equal(theirs[0].Start) || !at.Equal(fetchedAt) {
		t.Errorf("got %v from %v; want the other replica's copy from %v", blocks, at, fetchedAt)
	}
	if counted.count() != 0 {
		t.Errorf("%d free-time queries; want none while another replica fetches", counted.count())
	}
	t.Logf("waited %v for the other replica's copy", time.Since(began).Round(time.Millisecond))
}

// TestSharedSpansDownFetchesHere: a database that cannot be read or
// written never fails a page: the replica fetches for itself.
func TestSharedSpansDownFetchesHere(t *testing.T) {
	svcs, counted, clock := replicas(t, 1, 0, &memSpans{down: true})
	s := svcs[0]
	ctx := t.Context()
	locs, err := s.Locations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	blocks, _, err := s.span(ctx, &locs[0], spanStart(dayOf(clock.Now(), locs[0].Zone)))
	if err != nil {
		t.Fatalf("span with the database down: %v", err)
	}
	if len(blocks) == 0 || counted.count() != 1 {
		t.Errorf("%d blocks from %d queries; want the span fetched here, once", len(blocks), counted.count())
	}
}
