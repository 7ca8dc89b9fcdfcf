package store

import (
	"context"
	"errors"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/clinic-booking/portal/internal/coreplus"
	"github.com/clinic-booking/portal/internal/store/storetest"
)

// TestUpstreamBudgetSharedByReplicas: two replicas (two stores on one
// PostgreSQL database) start at most n requests to coreplus in any window
// between them, counted on the database's clock; a replica alone may use
// the whole budget; and SQLite, one process, keeps none.
func TestUpstreamBudgetSharedByReplicas(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		s := openTestStore(t, t.TempDir()+"/portal.db")
		if _, err := s.UpstreamLedger("consumer", 9, time.Second); !errors.Is(err, ErrNoSharedBudget) {
			t.Errorf("SQLite ledger: %v, want ErrNoSharedBudget", err)
		}
	})
	t.Run("postgres", func(t *testing.T) {
		url := storetest.FreshPostgresSchema(t)
		const n, per = 3, 300 * time.Millisecond
		limiters := make([]*coreplus.SharedLimiter, 2)
		for i := range limiters {
			ledger, err := openTestStore(t, url).UpstreamLedger("consumer-1", n, per)
			if err != nil {
				t.Fatal(err)
			}
			limiters[i] = coreplus.NewSharedLimiter(t.Context(), ledger, coreplus.NewWindowLimiter(1, per))
		}

		began := time.Now()
		for range n {
			sent, err := limiters[0].WaitStart(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			sent(time.Now())
		}
		if took := time.Since(began); took > per/2 {
			t.Errorf("one replica's first %d requests took %v: it did not have the whole budget", n, took)
		}

		var mu sync.Mutex
		var starts []time.Duration
		var wg sync.WaitGroup
		began = time.Now()
		for i := range 12 {
			wg.Go(func() {
				if err := limiters[i%2].Wait(context.Background()); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				starts = append(starts, time.Since(began))
				mu.Unlock()
			})
		}
		wg.Wait()
		sort.Slice(starts, func(i, j int) bool { return starts[i] < starts[j] })
		// The starts are read as each goroutine wakes, a little after the
		// database gave it: allow for that, not for a fourth in the window.
		for i := n; i < len(starts); i++ {
			if d := starts[i] - starts[i-n]; d < per-50*time.Millisecond {
				t.Errorf("starts %d and %d are %v apart: %d requests in one %v window across the replicas", i-n, i, d, n+1, per)
			}
		}
		if last := starts[len(starts)-1]; last > 5*per {
			t.Errorf("12 starts took %v; the shared budget allows them in about %v", last, 4*per)
		}
	})
}
