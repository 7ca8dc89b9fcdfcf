package coreplus

import (
	"context"
	"slices"
	"sync"
	"time"
)

// StartLedger hands out request starts shared by several processes (the
// portal's replicas, through their database): Take starts one now if the
// window allows, or says how long until one may; Sent moves a start on to
// when its request reached the wire.
type StartLedger interface {
	Take(ctx context.Context) (slot int64, ok bool, retryIn time.Duration, err error)
	Sent(ctx context.Context, slot int64) error
}

// SharedLimiter is a Limiter over a StartLedger: every replica's requests
// count against one budget, so a busy replica can use what idle ones leave
// (a static split by replica count cannot). Waiting requests go most urgent
// first within each replica, as with WindowLimiter. While the ledger cannot
// be read (the database down), requests wait on fallback instead, a
// limiter with this replica's static share, so the budget still holds.
type SharedLimiter struct {
	ledger   StartLedger
	fallback Limiter
	wake     chan struct{}

	mu    sync.Mutex
	queue [priorities][]*sharedWaiter
}

type sharedWaiter struct {
	ctx   context.Context
	ready chan struct{}
	slot  int64
	err   error // set with ready closed: wait on fallback instead
	taken bool
}

// ledgerPoll bounds how long the dispatcher sleeps before asking the
// ledger again: other replicas take and free starts meanwhile.
const ledgerPoll = 50 * time.Millisecond

// NewSharedLimiter returns a limiter over ledger, falling back on fallback.
// Its dispatcher runs until ctx ends.
func NewSharedLimiter(ctx context.Context, ledger StartLedger, fallback Limiter) *SharedLimiter {
	l := &SharedLimiter{ledger: ledger, fallback: fallback, wake: make(chan struct{}, 1)}
	go l.dispatch(ctx)
	return l
}

// Wait blocks until a request may start.
func (l *SharedLimiter) Wait(ctx context.Context) error {
	_, err := l.WaitStart(ctx)
	return err
}

// WaitStart is Wait, returning sent, to be called when the request reached
// the wire.
func (l *SharedLimiter) WaitStart(ctx context.Context) (func(time.Time), error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p := priorityOf(ctx)
	w := &sharedWaiter{ctx: ctx, ready: make(chan struct{})}
	l.mu.Lock()
	l.queue[p] = append(l.queue[p], w)
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
	select {
	case <-w.ready:
	case <-ctx.Done():
		l.mu.Lock()
		taken := w.taken
		if !taken {
			l.queue[p] = slices.DeleteFunc(l.queue[p], func(o *sharedWaiter) bool { return o == w })
		}
		l.mu.Unlock()
		if !taken {
			return nil, ctx.Err()
		}
		<-w.ready // given a start or sent to the fallback at that moment
	}
	if w.err != nil {
		if err := l.fallback.Wait(ctx); err != nil {
			return nil, err
		}
		return func(time.Time) {}, nil
	}
	slot := w.slot
	return func(time.Time) {
		// Detached and bounded: the request is on its way whatever this does.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = l.ledger.Sent(sctx, slot)
	}, nil
}

// dispatch hands out starts from the ledger to the waiting requests, most
// urgent first, until ctx ends.
func (l *SharedLimiter) dispatch(ctx context.Context) {
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		w := l.head()
		if w == nil {
			select {
			case <-ctx.Done():
				return
			case <-l.wake:
				continue
			}
		}
		tctx, cancel := context.WithTimeout(ctx, time.Second)
		slot, ok, retry, err := l.ledger.Take(tctx)
		cancel()
		if err != nil || ok {
			l.give(slot, err)
			continue
		}
		t.Reset(min(max(retry, time.Millisecond), ledgerPoll))
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-l.wake:
			if !t.Stop() {
				<-t.C
			}
		}
	}
}

// head is the most urgent waiting request, nil when none waits.
func (l *SharedLimiter) head() *sharedWaiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	for q := range l.queue {
		if len(l.queue[q]) > 0 {
			return l.queue[q][0]
		}
	}
	return nil
}

// give hands the start slot (or, with err, the fallback) to the most
// urgent request still waiting.
func (l *SharedLimiter) give(slot int64, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for q := range l.queue {
		if len(l.queue[q]) > 0 {
			w := l.queue[q][0]
			l.queue[q] = l.queue[q][1:]
			w.taken, w.slot, w.err = true, slot, err
			close(w.ready)
			return
		}
	}
	// Everyone left meanwhile: the start goes unused, erring on the safe side.
}
