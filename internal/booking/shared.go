package booking

import (
	"context"
	"time"

	"github.com/clinic-booking/portal/internal/coreplus"
)

// SharedSpans keeps each span of free time where every replica of the
// portal can read it: coreplus's budget is per consumer, so replicas on
// one database fetch a span once between them, not once each.
type SharedSpans interface {
	// GetSpan returns the span's blocks and when they were fetched; ok is
	// false when none were.
	GetSpan(ctx context.Context, k SpanKey) (blocks []coreplus.Slot, fetchedAt time.Time, ok bool, err error)
	// LeaseSpan takes the span's refresh lease until until if nobody
	// holds it at now, reporting whether this caller took it.
	LeaseSpan(ctx context.Context, k SpanKey, now, until time.Time) (bool, error)
	// PutSpan keeps blocks fetched at fetchedAt, unless newer ones are
	// kept already.
	PutSpan(ctx context.Context, k SpanKey, blocks []coreplus.Slot, fetchedAt time.Time) error
}

// SpanKey names one span: a clinic's location, the zone its dates are
// read in, and the span's first day ("2006-01-02").
type SpanKey struct {
	Clinic, LocationID, TimezoneID, Start string
}

// Sharing a span: whoever finds it fresh in the store (fetched within
// AvailabilityTTL) uses it as it is. Whoever finds it stale or missing
// takes the lease and fetches it, or, when another replica holds the
// lease, serves the stale copy and looks again after sharedRecheck, or
// with no copy to serve waits, looking every spanPoll, until the other's
// copy is there or its lease runs out. The lease outlasts a fetch by far
// and is shorter than AvailabilityTTL, so it has always run out by the
// time the copy it led to is stale.
const (
	spanLease     = 10 * time.Second
	sharedRecheck = time.Second
	spanPoll      = 100 * time.Millisecond
)

// sharedSpan loads a span through s.shared, fetching it with q only when no
// other replica has or is fetching it. The store failing never fails a
// page: the span is then fetched as if it were not shared.
func (s *Service) sharedSpan(ctx context.Context, k SpanKey, q coreplus.SlotQuery) (any, error) {
	for {
		now := s.now()
		blocks, at, ok, err := s.shared.GetSpan(ctx, k)
		if err != nil {
			s.log.Warn("read shared free time; fetching it here", "location", k.LocationID, "span", k.Start, "err", err)
			return s.api.FindAvailability(ctx, q)
		}
		if at.After(now) {
			at = now // fetched by a replica whose clock runs ahead
		}
		if ok && now.Sub(at) < AvailabilityTTL {
			return aged{value: blocks, at: at, expires: at.Add(AvailabilityTTL)}, nil
		}
		won, err := s.shared.LeaseSpan(ctx, k, now, now.Add(spanLease))
		if err != nil {
			s.log.Warn("lease shared free time; fetching it here", "location", k.LocationID, "span", k.Start, "err", err)
			return s.api.FindAvailability(ctx, q)
		}
		if won {
			blocks, err := s.api.FindAvailability(ctx, q)
			if err != nil {
				return nil, err // the lease runs out; then anyone may try
			}
			fetched := s.now()
			if err := s.shared.PutSpan(ctx, k, blocks, fetched); err != nil {
				s.log.Warn("share fetched free time", "location", k.LocationID, "span", k.Start, "err", err)
			}
			return aged{value: blocks, at: fetched, expires: fetched.Add(AvailabilityTTL)}, nil
		}
		if ok && now.Sub(at) < AvailabilityTTL+AvailabilityStale {
			return aged{value: blocks, at: at, expires: now.Add(sharedRecheck)}, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(spanPoll):
		}
	}
}
