package booking

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/clinic-booking/portal/internal/coreplus"
)

// TestStaleReferenceDataOnlyWhileCoreplusIsDown: a failed reload answers
// with the last good value only when coreplus is unavailable or rate
// limited, for at most an hour, and asks coreplus again at most every 15
// seconds meanwhile.
func TestStaleReferenceDataOnlyWhileCoreplusIsDown(t *testing.T) {
	down := &coreplus.Error{Kind: coreplus.ErrUnavailable, Op: "GET /Location/"}
	limited := fmt.Errorf("list locations: %w", &coreplus.Error{Kind: coreplus.ErrRateLimited, Op: "GET /Location/"})
	for _, tc := range []struct {
		name      string
		err       error
		wantStale bool
	}{
		{"unavailable", down, true},
		{"rate limited", limited, true},
		{"invalid credentials", &coreplus.Error{Kind: coreplus.ErrInvalidCredentials}, false},
		{"not found", &coreplus.Error{Kind: coreplus.ErrNotFound}, false},
		{"other", errors.New("boom"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
			c := newRefCache(time.Minute, func() time.Time { return now })
			stale := 0
			c.onStale = func(string, error) { stale++ }
			calls := 0
			var fail error
			load := func(context.Context) (any, error) {
				calls++
				if fail != nil {
					return nil, fail
				}
				return "good", nil
			}
			ctx := context.Background()
			if v, err := c.get(ctx, "k", load); err != nil || v != "good" {
				t.Fatalf("first get = %v, %v", v, err)
			}
			fail = tc.err
			now = now.Add(2 * time.Minute)
			v, err := c.get(ctx, "k", load)
			if !tc.wantStale {
				if err == nil {
					t.Fatalf("get after %v = %v, want the error", tc.err, v)
				}
				return
			}
			if err != nil || v != "good" || stale != 1 {
				t.Fatalf("get while down = %v, %v (stale %d); want the stale value", v, err, stale)
			}

			// Within 15 seconds coreplus is not asked again.
			calls = 0
			now = now.Add(10 * time.Second)
			if v, err := c.get(ctx, "k", load); err != nil || v != "good" || calls != 0 {
				t.Errorf("get 10s later = %v, %v with %d calls; want the stale value, no call", v, err, calls)
			}
			now = now.Add(10 * time.Second)
			_, _ = c.get(ctx, "k", load)
			if calls != 1 {
				t.Errorf("get 20s later made %d calls, want 1", calls)
			}

			// Never more than an hour old.
			now = now.Add(time.Hour)
			if v, err := c.get(ctx, "k", load); err == nil {
				t.Errorf("get an hour later = %v, want the error", v)
			}
		})
	}
}

// TestFreshGroupNeverAnswersWithAnOlderCall: a caller who asks while a call
// is under way is not given its answer, which may predate the caller, but
// shares the next call with everyone else who asked meanwhile; a next call
// nobody waits for any more is not made.
func TestFreshGroupNeverAnswersWithAnOlderCall(t *testing.T) {
	var g freshGroup
	var mu sync.Mutex
	calls := 0
	release := make(chan struct{})
	started := make(chan int, 10)
	load := func(context.Context) (any, error) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		started <- n
		<-release
		return n, nil
	}
	ctx := context.Background()

	first := make(chan any, 1)
	go func() { v, _ := g.do(ctx, "k", load); first <- v }()
	if n := <-started; n != 1 {
		t.Fatalf("first call is number %d", n)
	}
	// Three callers ask while the first call is under way.
	later := make(chan any, 3)
	for range 3 {
		go func() { v, _ := g.do(ctx, "k", load); later <- v }()
	}
	waitFor(t, func() bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		return g.keys["k"].next != nil && g.keys["k"].next.waiters == 3
	})
	release <- struct{}{}
	if v := <-first; v != 1 {
		t.Errorf("first caller got call %v, want 1", v)
	}
	if n := <-started; n != 2 {
		t.Fatalf("second call is number %d", n)
	}
	release <- struct{}{}
	for range 3 {
		if v := <-later; v != 2 {
			t.Errorf("a caller who asked during call 1 got call %v, want 2", v)
		}
	}

	// A next call whose callers all gave up is not made.
	go func() { _, _ = g.do(ctx, "k", load) }()
	<-started
	gone, cancel := context.WithCancel(ctx)
	left := make(chan error, 1)
	go func() { _, err := g.do(gone, "k", load); left <- err }()
	waitFor(t, func() bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		return g.keys["k"].next != nil
	})
	cancel()
	if err := <-left; !errors.Is(err, context.Canceled) {
		t.Errorf("caller who gave up: %v", err)
	}
	release <- struct{}{}
	waitFor(t, func() bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		return g.keys["k"] == nil
	})
	mu.Lock()
	defer mu.Unlock()
	if calls != 3 {
		t.Errorf("%d calls made, want 3: none for callers who all left", calls)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
	}
}

// TestCacheTellsHowEachReadWasAnswered: a load is a miss, a read inside the
// ttl a hit with the value's age, and a value served past its ttl because
// coreplus is down is stale, both from the failed reload and from the
// reads that follow it.
func TestCacheTellsHowEachReadWasAnswered(t *testing.T) {
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	c := newRefCache(time.Minute, func() time.Time { return now })
	c.onStale = func(string, error) {}
	type read struct {
		result CacheResult
		age    time.Duration
	}
	var got []read
	c.observe = func(r CacheResult, age time.Duration) { got = append(got, read{r, age}) }
	var fail error
	load := func(context.Context) (any, error) { return "v", fail }
	ctx := context.Background()

	_, _ = c.get(ctx, "k", load)
	now = now.Add(20 * time.Second)
	_, _ = c.get(ctx, "k", load)
	now = now.Add(time.Minute)
	fail = &coreplus.Error{Kind: coreplus.ErrUnavailable}
	_, _ = c.get(ctx, "k", load) // reload fails: the last good value
	now = now.Add(5 * time.Second)
	_, _ = c.get(ctx, "k", load) // within staleRetry: not asked again
	fail = nil
	now = now.Add(staleRetry)
	_, _ = c.get(ctx, "k", load) // coreplus is back
	_, _ = c.get(ctx, "other", func(context.Context) (any, error) { return nil, errors.New("boom") })

	want := []read{
		{CacheMiss, 0},
		{CacheHit, 20 * time.Second},
		{CacheStale, 80 * time.Second},
		{CacheStale, 85 * time.Second},
		{CacheMiss, 0},
		{CacheMiss, 0},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("reads told as\n%v\nwant\n%v", got, want)
	}
}
