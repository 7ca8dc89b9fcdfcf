package metrics

import (
	"errors"
	"sync"
	"time"

	"github.com/clinic-booking/portal/internal/coreplus"
)

// HealthWindow is how far back Health counts calls.
const HealthWindow = time.Hour

// Health keeps, per clinic and in memory, what this process has seen of
// coreplus: the last good answer, the last failure, and counts by minute
// over the last HealthWindow. The staff console shows it. It is always on,
// unlike the Prometheus metrics, and costs a map look-up per call.
type Health struct {
	now   func() time.Time
	since time.Time

	mu      sync.Mutex
	clinics map[string]*clinicHealth
}

// noticeableWait is the least wait on the upstream budget counted as one:
// taking a token from a budget with room takes microseconds.
const noticeableWait = 10 * time.Millisecond

// HealthReport is what Health has seen of one clinic's calls.
type HealthReport struct {
	Since           time.Time
	LastGood        time.Time
	LastFailure     time.Time
	LastFailureKind string
	Window          time.Duration
	// Calls were sent; Failures got no usable answer (down, refused as
	// too many, credentials rejected); Refused were kept from coreplus by
	// the circuit breaker; RateLimited were answered 429.
	Calls, Failures, Refused, RateLimited int
	// Waits waited on the upstream budget; LongestWait is the longest.
	Waits       int
	LongestWait time.Duration
}

type clinicHealth struct {
	lastGood, lastFailure time.Time
	lastKind              string
	minutes               [60]healthMinute
}

type healthMinute struct {
	minute                                      int64 // unix minute the counts are of
	calls, failures, refused, rateLimited, wait int
	longestWait                                 time.Duration
}

// NewHealth starts watching; now is the clock (time.Now when nil).
func NewHealth(now func() time.Time) *Health {
	if now == nil {
		now = time.Now
	}
	return &Health{now: now, since: now(), clinics: map[string]*clinicHealth{}}
}

// Observe notes one call made for clinic. A nil *Health does nothing.
func (h *Health) Observe(clinic string, i coreplus.CallInfo) {
	if h == nil {
		return
	}
	now := h.now()
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.clinics[clinic]
	if c == nil {
		c = &clinicHealth{}
		h.clinics[clinic] = c
	}
	m := now.Unix() / 60
	b := &c.minutes[m%int64(len(c.minutes))]
	if b.minute != m {
		*b = healthMinute{minute: m}
	}
	if i.Wait >= noticeableWait {
		b.wait++
		b.longestWait = max(b.longestWait, i.Wait)
	}
	if i.NotTried {
		b.refused++
	} else {
		b.calls++
	}
	if kind := failureKind(i); kind != "" {
		b.failures++
		if errors.Is(i.Err, coreplus.ErrRateLimited) {
			b.rateLimited++
		}
		c.lastFailure, c.lastKind = now, kind
		return
	}
	c.lastGood = now
}

// failureKind says, in words, why a call got no usable answer; "" when
// coreplus answered (a "no" about the request itself, such as a time
// already taken, is an answer).
func failureKind(i coreplus.CallInfo) string {
	switch {
	case i.NotTried:
		return "not sent: coreplus had been failing"
	case i.Err == nil:
		return ""
	case errors.Is(i.Err, coreplus.ErrRateLimited):
		return "too many requests (429)"
	case errors.Is(i.Err, coreplus.ErrInvalidCredentials):
		return "credentials rejected"
	case errors.Is(i.Err, coreplus.ErrUnavailable):
		return "not answering"
	}
	return ""
}

// Report is what Health has seen of clinic's calls; false when none.
func (h *Health) Report(clinic string) (HealthReport, bool) {
	if h == nil {
		return HealthReport{}, false
	}
	now := h.now()
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.clinics[clinic]
	if c == nil {
		return HealthReport{}, false
	}
	r := HealthReport{Since: h.since, LastGood: c.lastGood, LastFailure: c.lastFailure, LastFailureKind: c.lastKind, Window: HealthWindow}
	oldest := now.Add(-HealthWindow).Unix() / 60
	for _, b := range c.minutes {
		if b.minute <= oldest {
			continue
		}
		r.Calls += b.calls
		r.Failures += b.failures
		r.Refused += b.refused
		r.RateLimited += b.rateLimited
		r.Waits += b.wait
		r.LongestWait = max(r.LongestWait, b.longestWait)
	}
	return r, true
}
