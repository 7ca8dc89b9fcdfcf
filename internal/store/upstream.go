package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"
)

// UpstreamLedger hands out starts of requests to coreplus for one consumer,
// shared by every replica on one PostgreSQL database: at most n in any
// window of per, counted on the database's clock. It satisfies
// coreplus.StartLedger.
type UpstreamLedger struct {
	s        *Store
	consumer string
	n        int
	per      time.Duration

	once    sync.Once
	seedErr error
}

// ErrNoSharedBudget means the dialect keeps no shared upstream budget:
// SQLite serves one process, whose limiter is in memory.
var ErrNoSharedBudget = errors.New("store: the upstream budget is shared only on PostgreSQL")

// UpstreamLedger returns the ledger of consumer's starts, n per window of
// per, or ErrNoSharedBudget on SQLite.
func (s *Store) UpstreamLedger(consumer string, n int, per time.Duration) (*UpstreamLedger, error) {
	if s.dialect != DialectPostgres {
		return nil, ErrNoSharedBudget
	}
	if consumer == "" || n < 1 || per <= 0 {
		return nil, fmt.Errorf("upstream ledger: want a consumer, n >= 1 and a positive window, got %q, %d, %v", consumer, n, per)
	}
	return &UpstreamLedger{s: s, consumer: consumer, n: n, per: per}, nil
}

// nowMS is the database's clock in milliseconds, in SQL.
const nowMS = `(extract(epoch from clock_timestamp()) * 1000)::bigint`

// seed makes sure the consumer's ring has its n rows; more replicas may
// seed at once.
func (l *UpstreamLedger) seed(ctx context.Context) error {
	l.once.Do(func() {
		_, l.seedErr = l.s.db.ExecContext(ctx, `
			INSERT INTO upstream_starts (consumer, slot)
			SELECT $1, g FROM generate_series(0, $2 - 1) AS g
			ON CONFLICT DO NOTHING`, l.consumer, l.n)
	})
	if l.seedErr != nil {
		err := l.seedErr
		l.once = sync.Once{} // try again next time
		return fmt.Errorf("seed upstream starts: %w", err)
	}
	return nil
}

// Take starts a request now if the window allows, returning its slot. If
// not, it says how long until the oldest start is a window old. Replicas
// taking at once each get a different slot, or none.
func (l *UpstreamLedger) Take(ctx context.Context) (slot int64, ok bool, retryIn time.Duration, err error) {
	if err := l.seed(ctx); err != nil {
		return 0, false, 0, err
	}
	per := l.per.Milliseconds()
	err = l.s.db.QueryRowContext(ctx, `
		UPDATE upstream_starts SET at_ms = `+nowMS+`
		WHERE consumer = $1 AND slot = (
			SELECT slot FROM upstream_starts
			WHERE consumer = $1 AND slot < $2 AND at_ms <= `+nowMS+` - $3
			ORDER BY at_ms, slot LIMIT 1
			FOR UPDATE SKIP LOCKED)
		RETURNING slot`, l.consumer, l.n, per).Scan(&slot)
	if err == nil {
		return slot, true, 0, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, false, 0, fmt.Errorf("take an upstream start: %w", err)
	}
	var wait int64
	if err := l.s.db.QueryRowContext(ctx, `
		SELECT COALESCE(MIN(at_ms), 0) + $3 - `+nowMS+`
		FROM upstream_starts WHERE consumer = $1 AND slot < $2`, l.consumer, l.n, per).Scan(&wait); err != nil {
		return 0, false, 0, fmt.Errorf("read upstream starts: %w", err)
	}
	return 0, false, max(0, time.Duration(wait)*time.Millisecond), nil
}

// Sent moves slot's start on to now, when its request reached the wire, if
// that is later: a request sent late pushes the next starts back.
func (l *UpstreamLedger) Sent(ctx context.Context, slot int64) error {
	if _, err := l.s.db.ExecContext(ctx, `
		UPDATE upstream_starts SET at_ms = GREATEST(at_ms, `+nowMS+`)
		WHERE consumer = $1 AND slot = $2`, l.consumer, slot); err != nil {
		return fmt.Errorf("record an upstream start sent: %w", err)
	}
	return nil
}
