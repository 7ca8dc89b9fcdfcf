package sandbox

import (
	"net/http"
	"testing"
	"time"
)

func TestRateLimit(t *testing.T) {
	e := newEnv(t, Config{RateLimit: 10})
	for i := 1; i <= 10; i++ {
		if resp := e.get("Location/", nil); resp.status != http.StatusOK {
			t.Fatalf("request %d: status %d", i, resp.status)
		}
	}
	resp := e.get("Location/", nil)
	if resp.status != http.StatusTooManyRequests {
		t.Fatalf("11th request: status %d, want 429", resp.status)
	}
	if got := resp.header.Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After = %q, want 1", got)
	}
	if len(resp.reasons()) != 1 {
		t.Errorf("429 body %s, want a result body", resp.body)
	}

	e.clock.Advance(time.Second)
	if resp := e.get("Location/", nil); resp.status != http.StatusOK {
		t.Fatalf("after the window: status %d", resp.status)
	}
	st := e.srv.Stats()
	if st.RateLimited != 1 || st.MaxPerSecond != 11 || st.Requests != 12 {
		t.Errorf("stats %+v, want RateLimited 1, MaxPerSecond 11, Requests 12", st)
	}
}

// TestRateLimitSlidingWindow: the window slides; it is not reset on whole seconds.
func TestRateLimitSlidingWindow(t *testing.T) {
	e := newEnv(t, Config{RateLimit: 10})
	for i := 0; i < 5; i++ {
		e.get("Location/", nil)
	}
	e.clock.Advance(600 * time.Millisecond)
	for i := 0; i < 5; i++ {
		if resp := e.get("Location/", nil); resp.status != http.StatusOK {
			t.Fatalf("request %d: status %d", i, resp.status)
		}
	}
	if resp := e.get("Location/", nil); resp.status != http.StatusTooManyRequests {
		t.Fatalf("11th in window: status %d, want 429", resp.status)
	}
	e.clock.Advance(500 * time.Millisecond) // the first five have left the window
	if resp := e.get("Location/", nil); resp.status != http.StatusOK {
		t.Fatalf("after the first five left: status %d", resp.status)
	}
}

func TestRateLimitIgnoresRejectedTokens(t *testing.T) {
	e := newEnv(t, Config{RateLimit: 2})
	for i := 0; i < 5; i++ {
		req := e.newRequest(http.MethodGet, e.url("Location/", nil), nil)
		req.Header.Del("Authorization")
		e.send(req)
	}
	if resp := e.get("Location/", nil); resp.status != http.StatusOK {
		t.Fatalf("status %d: unauthenticated requests must not use a consumer's budget", resp.status)
	}
}
