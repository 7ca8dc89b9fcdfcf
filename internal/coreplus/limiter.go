package coreplus

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Limiter is waited on before every request to coreplus, each retry and each
// page of a list included. *rate.Limiter and *WindowLimiter satisfy it.
// Wait returns an error at once when the wait would outlast ctx's deadline.
type Limiter interface {
	Wait(ctx context.Context) error
}

// Defaults for the limiter a client builds when Config.Limiter is nil.
//
// coreplus refuses more than 10 requests a second per consumer, counted (in
// the sandbox, and we assume upstream) over a sliding second at its end of
// the wire. Our count is taken where requests start, so two margins: one
// request fewer, against an off-by-one in how coreplus bounds its window,
// and 250 ms more, against requests of one burst reaching coreplus later
// than those of the next (a new connection, a slow goroutine, a loaded
// two-core machine: 100 ms was seen to be too little under -race).
const (
	DefaultLimit       = 9
	DefaultLimitWindow = 1250 * time.Millisecond
)

// WindowLimiter lets at most n requests start in any window of the given
// length, and lets them start together. A token bucket (rate.Limiter) cannot
// promise that: with a burst above one it lets burst+rate through in some
// second, and with a burst of one it spaces even a page's two calls apart.
// It is safe for concurrent use; share one among every client of a consumer.
type WindowLimiter struct {
	per time.Duration

	mu     sync.Mutex
	starts []time.Time // the last n start times handed out, a ring
	next   int         // index of the oldest, the one the next start must follow by per
}

// NewWindowLimiter returns a limiter of n requests per window. It panics if
// n < 1 or per <= 0, which is a programming error.
func NewWindowLimiter(n int, per time.Duration) *WindowLimiter {
	if n < 1 || per <= 0 {
		panic(fmt.Sprintf("coreplus: NewWindowLimiter(%d, %v): want n >= 1 and a positive window", n, per))
	}
	return &WindowLimiter{per: per, starts: make([]time.Time, n)}
}

// Wait blocks until a request may start. Start times are handed out in
// order, each at least per after the one n places before it, so any n+1
// consecutive starts span at least per.
func (l *WindowLimiter) Wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	now := time.Now()
	at := now
	if oldest := l.starts[l.next]; !oldest.IsZero() {
		if t := oldest.Add(l.per); t.After(at) {
			at = t
		}
	}
	if dl, ok := ctx.Deadline(); ok && at.After(dl) {
		l.mu.Unlock()
		return fmt.Errorf("coreplus: the next request may start in %v, after the deadline", at.Sub(now).Round(time.Millisecond))
	}
	l.starts[l.next] = at
	l.next = (l.next + 1) % len(l.starts)
	l.mu.Unlock()

	wait := at.Sub(now)
	if wait <= 0 {
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		// The start time stays taken: giving it back would need every later
		// start moved too, and an unused one only errs on the safe side.
		return ctx.Err()
	}
}
