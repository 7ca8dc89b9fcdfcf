package booking

import (
	"context"
	"errors"
	"fmt"
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
