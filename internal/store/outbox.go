package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// OutboxMessage is a message due, because of a change to a booking or on
// its own (a staff sign-in link, DraftID ""), kept until a worker has sent
// it. The store knows no kinds and opens nothing:
// Sealed is the caller's, already sealed.
type OutboxMessage struct {
	ID       string
	Kind     string
	Clinic   string
	DraftID  string
	Sequence int
	Sealed   string
	// Tries counts the claims, this one included once claimed.
	Tries     int
	DueAt     time.Time
	CreatedAt time.Time
}

// insertOutbox queues m inside db's transaction.
func (s *Store) insertOutbox(ctx context.Context, db execer, m OutboxMessage) error {
	if m.ID == "" || m.Kind == "" || m.Sealed == "" {
		return errors.New("queue message: id, kind and sealed content are required")
	}
	now := s.now()
	if m.DueAt.IsZero() {
		m.DueAt = now
	}
	_, err := db.ExecContext(ctx, `
		INSERT INTO outbox (id, kind, clinic, draft_id, sequence, sealed, tries, due_at, lease_until, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, 0, $7, 0, $8)`,
		m.ID, m.Kind, m.Clinic, m.DraftID, m.Sequence, m.Sealed, unix(m.DueAt), unix(now))
	if err != nil {
		return fmt.Errorf("queue %s message for draft %s: %w", m.Kind, shortID(m.DraftID), err)
	}
	return nil
}

// QueueOutbox queues a message due because of no change in the database
// (a staff sign-in link): on its own, not in a transaction.
func (s *Store) QueueOutbox(ctx context.Context, m OutboxMessage) error {
	return s.insertOutbox(ctx, s.db, m)
}

// inTx runs fn in one transaction, committed if fn returns nil.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() // a no-op once committed
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// ClaimOutbox takes the message due longest, at now, that no other worker
// holds, for lease: it stays this caller's until then, and its tries go
// up by one. A worker that dies with it leaves it to the next claim after
// the lease. On PostgreSQL, workers on several replicas skip each other's
// rows (FOR UPDATE SKIP LOCKED) instead of queueing on them; SQLite
// serves one process and serialises writers. false: nothing is due.
func (s *Store) ClaimOutbox(ctx context.Context, now time.Time, lease time.Duration) (OutboxMessage, bool, error) {
	pick := `SELECT id FROM outbox WHERE due_at <= $1 AND lease_until <= $1 ORDER BY due_at, id LIMIT 1`
	if s.dialect == DialectPostgres {
		pick += ` FOR UPDATE SKIP LOCKED`
	}
	var (
		m            OutboxMessage
		due, created int64
		tries, seq   int64
	)
	err := s.db.QueryRowContext(ctx, `
		UPDATE outbox SET lease_until = $2, tries = tries + 1
		WHERE id = (`+pick+`) AND due_at <= $1 AND lease_until <= $1
		RETURNING id, kind, clinic, draft_id, sequence, sealed, tries, due_at, created_at`,
		unix(now), unix(now.Add(lease))).Scan(
		&m.ID, &m.Kind, &m.Clinic, &m.DraftID, &seq, &m.Sealed, &tries, &due, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return OutboxMessage{}, false, nil
	}
	if err != nil {
		return OutboxMessage{}, false, fmt.Errorf("claim outbox message: %w", err)
	}
	m.Sequence, m.Tries = int(seq), int(tries)
	m.DueAt, m.CreatedAt = fromUnix(due), fromUnix(created)
	return m, true, nil
}

// A claim of a message is its Tries as ClaimOutbox returned them: every
// claim raises tries, so a worker whose lease ran out, and whose message
// another worker then claimed, no longer holds a claim that matches.
// DeleteOutbox and RetryOutbox change the row only for the claim that
// matches, so a slow worker can neither delete a message another is now
// sending nor reschedule it under them; held false says so.

// DeleteOutbox deletes a message, sent or given up on, if claim is still
// the message's latest.
func (s *Store) DeleteOutbox(ctx context.Context, id string, claim int) (held bool, err error) {
	n, err := s.execCount(ctx, `DELETE FROM outbox WHERE id = $1 AND tries = $2`, id, claim)
	if err != nil {
		return false, fmt.Errorf("delete outbox message %s: %w", shortID(id), err)
	}
	return n == 1, nil
}

// RetryOutbox releases a claimed message to be tried again at due, if
// claim is still the message's latest.
func (s *Store) RetryOutbox(ctx context.Context, id string, claim int, due time.Time) (held bool, err error) {
	n, err := s.execCount(ctx, `UPDATE outbox SET due_at = $3, lease_until = 0 WHERE id = $1 AND tries = $2`, id, claim, unix(due))
	if err != nil {
		return false, fmt.Errorf("retry outbox message %s: %w", shortID(id), err)
	}
	return n == 1, nil
}

// ListOutbox returns every queued message, the longest due first, for
// tests and the operator.
func (s *Store) ListOutbox(ctx context.Context) ([]OutboxMessage, error) {
	rows, err := s.db.QueryContext(ctx, `
		SELECT id, kind, clinic, draft_id, sequence, sealed, tries, due_at, created_at
		FROM outbox ORDER BY due_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list outbox: %w", err)
	}
	defer rows.Close()
	var out []OutboxMessage
	for rows.Next() {
		var (
			m                    OutboxMessage
			seq, tries, due, crt int64
		)
		if err := rows.Scan(&m.ID, &m.Kind, &m.Clinic, &m.DraftID, &seq, &m.Sealed, &tries, &due, &crt); err != nil {
			return nil, fmt.Errorf("list outbox: %w", err)
		}
		m.Sequence, m.Tries, m.DueAt, m.CreatedAt = int(seq), int(tries), fromUnix(due), fromUnix(crt)
		out = append(out, m)
	}
	return out, rows.Err()
}
