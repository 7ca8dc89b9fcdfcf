package coreplus

import (
	"context"
	"fmt"
	"slices"
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

// Priority orders requests waiting for the upstream budget: when several
// wait, the most urgent starts first, and within a priority the first to
// ask. Set it on a context with WithPriority; requests without one are
// PriorityInteractive.
type Priority int

const (
	// PriorityUrgent is a patient's booking under way: the confirm's
	// re-check, the client and the appointment. It never waits behind
	// browsing.
	PriorityUrgent Priority = iota
	// PriorityInteractive is a patient waiting on a page.
	PriorityInteractive
	// PriorityBackground is work nobody waits on: a cache refreshed ahead
	// of need, the sweeper. It uses what the others leave.
	PriorityBackground
	priorities = iota
)

type priorityKey struct{}

// WithPriority returns ctx with requests made under it waiting for the
// upstream budget at priority p.
func WithPriority(ctx context.Context, p Priority) context.Context {
	return context.WithValue(ctx, priorityKey{}, p)
}

func priorityOf(ctx context.Context) Priority {
	if p, ok := ctx.Value(priorityKey{}).(Priority); ok && p >= 0 && p < priorities {
		return p
	}
	return PriorityInteractive
}

// WindowLimiter lets at most n requests start in any window of the given
// length, and lets them start together. A token bucket (rate.Limiter) cannot
// promise that: with a burst above one it lets burst+rate through in some
// second, and with a burst of one it spaces even a page's two calls apart.
// Requests waiting for a start are let go most urgent first (see
// Priority), so a booking never queues behind browsing. It is safe for
// concurrent use; share one among every client of a consumer.
type WindowLimiter struct {
	per time.Duration

	mu     sync.Mutex
	starts []*start // the last n starts handed out, a ring
	next   int      // index of the oldest, the one the next start must follow by per
	queue  [priorities][]*waiter
	timer  *time.Timer // armed while someone waits, for when the next start frees
}

// waiter is one request waiting for a start.
type waiter struct {
	ready   chan struct{}
	granted *start
}

// start is when a request was let start, moved on to when it reached the
// wire if that was later.
type start struct{ at time.Time }

// NewWindowLimiter returns a limiter of n requests per window. It panics if
// n < 1 or per <= 0, which is a programming error.
func NewWindowLimiter(n int, per time.Duration) *WindowLimiter {
	if n < 1 || per <= 0 {
		panic(fmt.Sprintf("coreplus: NewWindowLimiter(%d, %v): want n >= 1 and a positive window", n, per))
	}
	starts := make([]*start, n)
	for i := range starts {
		starts[i] = &start{}
	}
	return &WindowLimiter{per: per, starts: starts}
}

// Wait blocks until a request may start: each start at least per after
// the one n places before it, so any n+1 consecutive starts span at least
// per. It returns an error at once when the wait, as far as it can be told
// (more urgent requests may yet come), would outlast ctx's deadline.
func (l *WindowLimiter) Wait(ctx context.Context) error {
	_, err := l.WaitStart(ctx)
	return err
}

// WaitStart is Wait, returning sent, to be called with the time the
// request reached the wire. The window is counted from then: a request the
// machine was too busy to send at once pushes the next ones back, instead
// of reaching coreplus in one bunch with them.
func (l *WindowLimiter) WaitStart(ctx context.Context) (sent func(time.Time), err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p := priorityOf(ctx)
	l.mu.Lock()
	now := time.Now()
	ahead := 0
	for q := Priority(0); q <= p; q++ {
		ahead += len(l.queue[q])
	}
	if ahead == 0 && l.free(now) {
		st := l.take(now)
		l.mu.Unlock()
		return l.sender(st), nil
	}
	if dl, ok := ctx.Deadline(); ok {
		if at := l.earliest(now, ahead); at.After(dl) {
			l.mu.Unlock()
			return nil, fmt.Errorf("coreplus: the next request may start in %v, after the deadline", at.Sub(now).Round(time.Millisecond))
		}
	}
	w := &waiter{ready: make(chan struct{})}
	l.queue[p] = append(l.queue[p], w)
	l.dispatch()
	l.mu.Unlock()

	select {
	case <-w.ready:
		return l.sender(w.granted), nil
	case <-ctx.Done():
		l.mu.Lock()
		defer l.mu.Unlock()
		if w.granted == nil {
			l.queue[p] = slices.DeleteFunc(l.queue[p], func(o *waiter) bool { return o == w })
		}
		// A start granted meanwhile stays taken: giving it back would need
		// every later start moved too, and an unused one only errs on the
		// safe side.
		return nil, ctx.Err()
	}
}

// sender returns the function that moves st on to when its request
// reached the wire.
func (l *WindowLimiter) sender(st *start) func(time.Time) {
	return func(at time.Time) {
		l.mu.Lock()
		defer l.mu.Unlock()
		if at.After(st.at) {
			st.at = at
		}
	}
}

// free reports whether a request may start at now. Callers hold l.mu.
func (l *WindowLimiter) free(now time.Time) bool {
	oldest := l.starts[l.next].at
	return oldest.IsZero() || !now.Before(oldest.Add(l.per))
}

// take hands out a start at now. Callers hold l.mu.
func (l *WindowLimiter) take(now time.Time) *start {
	st := &start{at: now}
	l.starts[l.next] = st
	l.next = (l.next + 1) % len(l.starts)
	return st
}

// earliest is the soonest the request after ahead others may start: the
// k-th start from now follows the start k places on in the ring by per,
// and by another per for each time round it. Callers hold l.mu.
func (l *WindowLimiter) earliest(now time.Time, ahead int) time.Time {
	n := len(l.starts)
	at := now
	if s := l.starts[(l.next+ahead)%n].at; !s.IsZero() {
		at = later(at, s.Add(l.per*time.Duration(ahead/n+1)))
	}
	return at
}

// dispatch lets the waiting requests start that may start now, most urgent
// first, and arms the timer for the next start to free. Callers hold l.mu.
func (l *WindowLimiter) dispatch() {
	now := time.Now()
	for {
		w := l.head()
		if w == nil {
			return
		}
		if !l.free(now) {
			break
		}
		l.pop()
		w.granted = l.take(now)
		close(w.ready)
	}
	if l.timer == nil {
		l.timer = time.AfterFunc(l.starts[l.next].at.Add(l.per).Sub(now), func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.timer = nil
			l.dispatch()
		})
	}
}

// head is the most urgent waiting request, nil when none waits.
func (l *WindowLimiter) head() *waiter {
	for q := range l.queue {
		if len(l.queue[q]) > 0 {
			return l.queue[q][0]
		}
	}
	return nil
}

// pop removes head.
func (l *WindowLimiter) pop() {
	for q := range l.queue {
		if len(l.queue[q]) > 0 {
			l.queue[q][0] = nil
			l.queue[q] = l.queue[q][1:]
			return
		}
	}
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
