package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// SpanKey names one span of one location's free time.
type SpanKey struct {
	Clinic     string
	LocationID string
	TimezoneID string
	Start      string // the span's first day, "2006-01-02"
}

// Span is a span's free time as some replica fetched it. The store keeps
// Blocks as given and never reads them.
type Span struct {
	Blocks     string
	FetchedAt  time.Time // UTC, to the second; zero while none were fetched
	LeaseUntil time.Time // zero when no lease was ever taken
}

// spanKeep is how long after its last fetch a span row is kept: free time
// is never served that old, so a row nobody fetched for this long (a span
// in the past) is dropped when its location is next written.
const spanKeep = 24 * time.Hour

// GetSpan returns the span's row, or ErrNotFound when there is none.
func (s *Store) GetSpan(ctx context.Context, k SpanKey) (Span, error) {
	var (
		sp             Span
		fetched, lease int64
	)
	err := s.db.QueryRowContext(ctx, `
		SELECT blocks, fetched_at, lease_until FROM availability_spans
		WHERE clinic = $1 AND location_id = $2 AND timezone_id = $3 AND span_start = $4`,
		k.Clinic, k.LocationID, k.TimezoneID, k.Start).Scan(&sp.Blocks, &fetched, &lease)
	if errors.Is(err, sql.ErrNoRows) {
		return Span{}, ErrNotFound
	}
	if err != nil {
		return Span{}, fmt.Errorf("get span %s %s: %w", k.LocationID, k.Start, err)
	}
	if fetched != 0 {
		sp.FetchedAt = fromUnix(fetched)
	}
	if lease != 0 {
		sp.LeaseUntil = fromUnix(lease)
	}
	return sp, nil
}

// LeaseSpan takes the span's refresh lease until until, if nobody holds
// it at now, reporting whether this caller took it: of several replicas
// that find a span stale at once, one fetches it again. The row is made
// if there is none. The caller's clock gives both times, as for TakeLook.
func (s *Store) LeaseSpan(ctx context.Context, k SpanKey, now, until time.Time) (bool, error) {
	n, err := s.execCount(ctx, `
		INSERT INTO availability_spans (clinic, location_id, timezone_id, span_start, lease_until)
		VALUES ($1, $2, $3, $4, $6)
		ON CONFLICT (clinic, location_id, timezone_id, span_start) DO UPDATE
		SET lease_until = excluded.lease_until
		WHERE availability_spans.lease_until <= $5`,
		k.Clinic, k.LocationID, k.TimezoneID, k.Start, unix(now), unix(until))
	if err != nil {
		return false, fmt.Errorf("lease span %s %s: %w", k.LocationID, k.Start, err)
	}
	return n == 1, nil
}

// PutSpan keeps blocks as the span's free time fetched at fetchedAt,
// unless the row holds some fetched later. The lease is left to run out,
// so a replica that found the span stale just before this write does not
// fetch it again. Rows of the same location nobody wrote for spanKeep are
// dropped.
func (s *Store) PutSpan(ctx context.Context, k SpanKey, blocks string, fetchedAt time.Time) error {
	if fetchedAt.IsZero() {
		return errors.New("put span: fetched at is required")
	}
	if _, err := s.db.ExecContext(ctx, `
		INSERT INTO availability_spans (clinic, location_id, timezone_id, span_start, blocks, fetched_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (clinic, location_id, timezone_id, span_start) DO UPDATE
		SET blocks = excluded.blocks, fetched_at = excluded.fetched_at
		WHERE availability_spans.fetched_at <= excluded.fetched_at`,
		k.Clinic, k.LocationID, k.TimezoneID, k.Start, blocks, unix(fetchedAt)); err != nil {
		return fmt.Errorf("put span %s %s: %w", k.LocationID, k.Start, err)
	}
	old := unix(fetchedAt.Add(-spanKeep))
	if _, err := s.db.ExecContext(ctx, `
		DELETE FROM availability_spans
		WHERE clinic = $1 AND location_id = $2 AND fetched_at < $3 AND lease_until < $4`,
		k.Clinic, k.LocationID, old, unix(fetchedAt)); err != nil {
		return fmt.Errorf("drop old spans of %s: %w", k.LocationID, err)
	}
	return nil
}
