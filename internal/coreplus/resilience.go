package coreplus

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/sony/gobreaker/v2"
)

// CallInfo describes one attempt at a request, for Config.OnCall. It holds
// no URL query, record id, body or coreplus text, so it can be logged as it is.
type CallInfo struct {
	Op       string        // method and route, e.g. "GET /AvailabilitySlot/", "GET /Client/{id}"
	Attempt  int           // 1 for the first try of a request, 2 for its first retry
	Status   int           // HTTP status; 0 when no answer came or nothing was sent
	Wait     time.Duration // spent waiting on the Limiter before sending
	Duration time.Duration // from sending to the last byte of the answer
	Err      error         // the failure's kind (ErrUnavailable, ...), nil on success
	NotTried bool          // the circuit breaker refused it: nothing reached coreplus
	Retry    bool          // another attempt will follow
}

// CallCount counts the requests that go out to coreplus under a context
// (see CountingCalls): each attempt the circuit breaker and the Limiter let
// through, every page and every retry included.
type CallCount struct{ n atomic.Int64 }

// Load returns how many requests went out.
func (c *CallCount) Load() int64 { return c.n.Load() }

type callCountKey struct{}

// CountingCalls returns ctx with c attached: every request that goes out
// under it, or under a context made from it, adds one to c. Work that is
// given a share of the upstream budget (the booking sweeper) measures
// what it spent with it.
func CountingCalls(ctx context.Context, c *CallCount) context.Context {
	return context.WithValue(ctx, callCountKey{}, c)
}

// countCall adds one request that went out to ctx's CallCount, if any.
func countCall(ctx context.Context) {
	if c, ok := ctx.Value(callCountKey{}).(*CallCount); ok {
		c.n.Add(1)
	}
}

func (a *API) report(ctx context.Context, info CallInfo) {
	if a.onCall != nil {
		a.onCall(ctx, info)
	}
}

// Backoff between attempts at a read: the first retry within 200 ms, then
// up to twice as long each time, never more than 2 s. Full jitter (anywhere
// from zero) keeps many patients' retries from arriving together.
const (
	retryInterval    = 100 * time.Millisecond
	retryMaxInterval = time.Second
)

// After a 429, the next attempt waits for what Retry-After asked, or for
// rateLimitWait when it asked nothing usable: coreplus counts requests over
// a second, so sooner would only be refused again. A 429 asking for more
// than maxRetryAfter is not waited out: the caller gets ErrRateLimited at
// once, with the RetryAfter coreplus gave, rather than a patient a spinner.
const (
	rateLimitWait = time.Second
	maxRetryAfter = 10 * time.Second
)

// retrier decides whether and when a failed attempt is tried again.
type retrier struct {
	max int
	// write is set for a request that changes coreplus (POST): it is tried
	// again only after a 429, never after a failure that may have stored it.
	write bool
	bo    *backoff.ExponentialBackOff
}

// next returns how long to wait before attempt n+1, and whether to make it.
func (r *retrier) next(ctx context.Context, n int, e *Error) (time.Duration, bool) {
	if n >= r.max || !retryable(ctx, e, r.write) {
		return 0, false
	}
	if r.bo == nil {
		// RandomizationFactor 1 spreads each wait over [0, 2×interval].
		r.bo = &backoff.ExponentialBackOff{InitialInterval: retryInterval, RandomizationFactor: 1,
			Multiplier: 2, MaxInterval: retryMaxInterval}
		r.bo.Reset()
	}
	wait := r.bo.NextBackOff()
	if tooMany(e) {
		after := e.RetryAfter
		if after <= 0 {
			after = rateLimitWait
		}
		if after > maxRetryAfter {
			return 0, false
		}
		// coreplus said when; sooner would only be refused again.
		wait = max(wait, after)
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= wait {
		// Give the caller coreplus's answer now rather than after a wait
		// that cannot end in success.
		return 0, false
	}
	return wait, true
}

// tooMany reports coreplus's own 429, as opposed to our Limiter's refusal.
func tooMany(e *Error) bool {
	return e.Kind == ErrRateLimited && e.Status == http.StatusTooManyRequests
}

// retryable reports a failure another attempt may cure: coreplus down, slow
// or out of breath. Refusals, 4xx answers and our own spent budget are not.
// For a write only a 429 is: coreplus refused it unread, so it stored
// nothing, whereas after a 5xx, a timeout or a dropped connection a booking
// may exist, and a second one would be a double booking.
func retryable(ctx context.Context, e *Error, write bool) bool {
	switch {
	case ctx.Err() != nil || errors.Is(e.Cause, errCircuitOpen):
		return false
	case tooMany(e):
		return true
	case write:
		return false
	case e.Kind == ErrUnavailable:
		return true
	}
	return false
}

// errCircuitOpen is the Cause of a call the breaker refused.
var errCircuitOpen = errors.New("circuit breaker open")

func notTried(c call) *Error {
	return &Error{Kind: ErrUnavailable, Op: c.op(), Reason: "coreplus is not answering; not tried", Cause: errCircuitOpen}
}

// Outcomes reported to the breaker.
var (
	errUpstreamFailed = errors.New("coreplus failed")
	errNotCounted     = errors.New("says nothing about coreplus")
)

// newBreaker returns the client's circuit breaker, or nil when failures < 0.
func newBreaker(name string, failures int, open time.Duration) *gobreaker.TwoStepCircuitBreaker[struct{}] {
	if failures < 0 {
		return nil
	}
	threshold := uint32(orDefault(failures, DefaultBreakerFailures))
	return gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        name,
		MaxRequests: 1, // half-open: one probe at a time
		Timeout:     open,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= threshold },
		IsExcluded:  func(err error) bool { return errors.Is(err, errNotCounted) },
	})
}

// breakerOutcome classifies an attempt for the breaker. Only coreplus
// failing to answer counts against it: a 4xx, a refusal or a 429 is an
// answer. An attempt cut short by the caller's own deadline or cancellation
// says nothing about coreplus; without that rule a long queue on the limiter
// would open the circuit on a healthy coreplus.
func breakerOutcome(ctx context.Context, e *Error) error {
	switch {
	case e == nil || e.Kind != ErrUnavailable:
		return nil
	case ctx.Err() != nil:
		return errNotCounted
	}
	return errUpstreamFailed
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
