package booking

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/clinic-booking/portal/internal/coreplus"
)

// gatedAPI answers free time only when let through, counting the asks.
type gatedAPI struct {
	Coreplus
	blocks  []coreplus.Slot
	started chan struct{}
	gate    chan struct{}

	mu    sync.Mutex
	calls int
}

func (g *gatedAPI) FindAvailability(context.Context, coreplus.SlotQuery) ([]coreplus.Slot, error) {
	g.mu.Lock()
	g.calls++
	g.mu.Unlock()
	g.started <- struct{}{}
	<-g.gate
	return g.blocks, nil
}

// claimsStore holds the slots of the records it is given, as they change.
type claimsStore struct {
	Store
	mu   sync.Mutex
	held []Record
}

func (c *claimsStore) HeldSlots(context.Context, string, time.Time, time.Time) ([]Record, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Record(nil), c.held...), nil
}

// TestRecheckToClaimSharesOneCallAndSeesClaimsMadeMeanwhile: submits that
// ask for the same time while its re-check is under way share the next
// re-check; a re-check reads the store's claims before coreplus, so submits
// that wait for one after the time was claimed hear "taken" and cost
// coreplus nothing.
func TestRecheckToClaimSharesOneCallAndSeesClaimsMadeMeanwhile(t *testing.T) {
	now := time.Date(2026, 11, 30, 6, 0, 0, 0, sydney)
	at := func(h int) time.Time { return time.Date(2026, 12, 1, h, 0, 0, 0, sydney) }
	tom := Practitioner{ID: "tom", Name: "Tom"}
	api := &gatedAPI{
		blocks:  []coreplus.Slot{{Start: at(9), End: at(12), PractitionerID: "tom", LocationID: "syd"}},
		started: make(chan struct{}, 4), gate: make(chan struct{}),
	}
	amys := Record{DraftID: "d9", Clinic: "x", PractitionerID: "amy", Start: at(10)} // no matter to Tom's time
	claims := &claimsStore{held: []Record{amys}}
	svc := NewService(Clinic{Slug: "x"}, api, claims, func() time.Time { return now })
	loc := &Location{ID: "syd", Zone: sydney, TimezoneID: "tz"}
	sl := Slot{Start: at(10), End: at(10).Add(30 * time.Minute), Practitioner: tom}
	// ask has the drafts re-check the time at once, once the re-check under
	// way has started, and waits until they share the next one.
	ask := func(ids ...string) chan slotState {
		out := make(chan slotState, len(ids))
		for _, id := range ids {
			go func() {
				state, err := svc.recheckToClaim(t.Context(), id, loc, 30*time.Minute, sl)
				if err != nil {
					t.Errorf("draft %s: %v", id, err)
				}
				out <- state
			}()
		}
		waitFor(t, func() bool {
			svc.fresh.mu.Lock()
			defer svc.fresh.mu.Unlock()
			for _, k := range svc.fresh.keys {
				if k.next != nil && k.next.waiters == len(ids) {
					return true
				}
			}
			return false
		})
		return out
	}
	want := func(ch chan slotState, n int, state slotState, who string) {
		t.Helper()
		for range n {
			if got := <-ch; got != state {
				t.Errorf("%s: state %v, want %v", who, got, state)
			}
		}
	}

	first := make(chan slotState, 1)
	go func() {
		state, _ := svc.recheckToClaim(t.Context(), "d0", loc, 30*time.Minute, sl)
		first <- state
	}()
	<-api.started
	second := ask("d1", "d2", "d3")
	api.gate <- struct{}{}
	want(first, 1, slotFree, "the first submit")
	<-api.started // the second re-check, for those who asked during the first

	// The first submit claims the time; three more ask meanwhile.
	claims.mu.Lock()
	claims.held = append(claims.held, Record{DraftID: "d0", Clinic: "x", PractitionerID: "tom", Start: sl.Start})
	claims.mu.Unlock()
	third := ask("d4", "d5", "d6")
	api.gate <- struct{}{}
	// Free in coreplus: the store refuses their claims.
	want(second, 3, slotFree, "a submit that asked during the first re-check")
	want(third, 3, slotTaken, "a submit that asked once the time was claimed")
	api.mu.Lock()
	defer api.mu.Unlock()
	if api.calls != 2 {
		t.Errorf("coreplus asked %d times, want twice", api.calls)
	}
}
