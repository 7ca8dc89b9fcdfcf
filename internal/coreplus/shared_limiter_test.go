package coreplus

import (
	"context"
	"errors"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// memLedger is a StartLedger in memory: the ring the database keeps.
type memLedger struct {
	mu    sync.Mutex
	n     int
	per   time.Duration
	at    []time.Time
	down  bool
	sent  int
	taken int
}

func (m *memLedger) Take(context.Context) (int64, bool, time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down {
		return 0, false, 0, errors.New("database down")
	}
	if m.at == nil {
		m.at = make([]time.Time, m.n)
	}
	now := time.Now()
	oldest := 0
	for i := range m.at {
		if m.at[i].Before(m.at[oldest]) {
			oldest = i
		}
	}
	if free := m.at[oldest].Add(m.per); free.After(now) {
		return 0, false, free.Sub(now), nil
	}
	m.at[oldest] = now
	m.taken++
	return int64(oldest), true, 0, nil
}

func (m *memLedger) Sent(_ context.Context, slot int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent++
	if now := time.Now(); now.After(m.at[slot]) {
		m.at[slot] = now
	}
	return nil
}

// TestSharedLimiterKeepsOneWindowForEveryReplica: two replicas' limiters
// over one ledger start no more than n requests in any window between
// them; one replica alone may use the whole budget; within a replica the
// urgent go first; and while the ledger is down, requests wait on the
// replica's own share instead of failing.
func TestSharedLimiterKeepsOneWindowForEveryReplica(t *testing.T) {
	const n, per = 3, 200 * time.Millisecond
	ledger := &memLedger{n: n, per: per}
	a := NewSharedLimiter(t.Context(), ledger, NewWindowLimiter(1, per))
	b := NewSharedLimiter(t.Context(), ledger, NewWindowLimiter(1, per))

	// One replica alone, idle budget: its n requests start at once.
	began := time.Now()
	for range n {
		sent, err := a.WaitStart(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		sent(time.Now())
	}
	if took := time.Since(began); took > per/2 {
		t.Errorf("one replica's first %d requests took %v: it did not have the whole budget", n, took)
	}
	if ledger.sent != n {
		t.Errorf("%d starts told the ledger they were sent, want %d", ledger.sent, n)
	}

	// Both at once: the window holds between them.
	var mu sync.Mutex
	var starts []time.Duration
	began = time.Now()
	var wg sync.WaitGroup
	for i := range 12 {
		l := a
		if i%2 == 1 {
			l = b
		}
		wg.Go(func() {
			if err := l.Wait(context.Background()); err != nil {
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
	for i := n; i < len(starts); i++ {
		if d := starts[i] - starts[i-n]; d < per-20*time.Millisecond {
			t.Errorf("starts %d and %d are %v apart: %d requests in one %v window across the replicas", i-n, i, d, n+1, per)
		}
	}

	// Within a replica, the urgent first (one start a window, so that
	// they cannot start together).
	one := NewSharedLimiter(t.Context(), &memLedger{n: 1, per: per}, NewWindowLimiter(1, per))
	_ = one.Wait(context.Background()) // spend the window
	var order []string
	var omu sync.Mutex
	ask := func(name string, p Priority) {
		wg.Go(func() {
			if err := one.Wait(WithPriority(context.Background(), p)); err != nil {
				t.Error(err)
				return
			}
			omu.Lock()
			order = append(order, name)
			omu.Unlock()
		})
		time.Sleep(10 * time.Millisecond)
	}
	ask("background", PriorityBackground)
	ask("page", PriorityInteractive)
	ask("booking", PriorityUrgent)
	wg.Wait()
	if got := strings.Join(order, " "); got != "booking page background" {
		t.Errorf("started in the order %s; want booking page background", got)
	}

	// The ledger down: the replica's own share, not a failure.
	ledger.mu.Lock()
	ledger.down = true
	ledger.mu.Unlock()
	if err := b.Wait(context.Background()); err != nil {
		t.Errorf("with the ledger down: %v", err)
	}
}
