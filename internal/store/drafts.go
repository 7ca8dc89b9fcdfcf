package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Draft is an in-progress booking: the patient's choices and details.
type Draft struct {
	// ID is the only thing that ties a browser to its draft, so it must be
	// unguessable.
	ID                string
	Clinic            string
	LocationID        string
	AppointmentTypeID string
	// PractitionerID is the patient's choice and may be empty ("anyone");
	// SlotPractitionerID is whose slot was picked.
	PractitionerID     string
	SlotStart          time.Time
	SlotEnd            time.Time
	SlotPractitionerID string
	Details            PatientDetails
	// Status is the caller's; the store only compares and copies it.
	Status string
	// RetriedAs is the draft that carries this one's retry, once set by
	// RetryDraft; empty until then.
	RetriedAs string
	// Timestamps are UTC, to the second.
	CreatedAt time.Time
	UpdatedAt time.Time
	ExpiresAt time.Time
}

// PatientDetails is what the patient typed. It is stored as one JSON
// document so that it can be wiped in one go once no longer needed.
type PatientDetails struct {
	FirstName string `json:"first_name,omitempty"`
	LastName  string `json:"last_name,omitempty"`
	// DateOfBirth is a calendar date, "2006-01-02".
	DateOfBirth string `json:"dob,omitempty"`
	Email       string `json:"email,omitempty"`
	Mobile      string `json:"mobile,omitempty"`
	Note        string `json:"note,omitempty"`
	Consent     bool   `json:"consent,omitempty"`
}

// CreateDraft inserts d. ID, Clinic, Status and ExpiresAt are required;
// zero CreatedAt or UpdatedAt mean now. RetriedAs is left empty.
func (s *Store) CreateDraft(ctx context.Context, d Draft) error {
	if err := s.insertDraft(ctx, s.db, d); err != nil {
		return fmt.Errorf("create draft: %w", err)
	}
	return nil
}

// execer is a *sql.DB or a *sql.Tx.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func (s *Store) insertDraft(ctx context.Context, db execer, d Draft) error {
	if d.ID == "" || d.Clinic == "" || d.Status == "" || d.ExpiresAt.IsZero() {
		return errors.New("id, clinic, status and expiry are required")
	}
	now := s.now()
	if d.CreatedAt.IsZero() {
		d.CreatedAt = now
	}
	if d.UpdatedAt.IsZero() {
		d.UpdatedAt = d.CreatedAt
	}
	details, err := json.Marshal(d.Details)
	if err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, `
		INSERT INTO drafts (id, clinic, location_id, appointment_type_id, practitioner_id,
			slot_start, slot_end, slot_practitioner_id, details, status,
			created_at, updated_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		d.ID, d.Clinic, d.LocationID, d.AppointmentTypeID, d.PractitionerID,
		formatSlotTime(d.SlotStart), formatSlotTime(d.SlotEnd), d.SlotPractitionerID,
		string(details), d.Status,
		unix(d.CreatedAt), unix(d.UpdatedAt), unix(d.ExpiresAt))
	return err
}

// RetryDraft inserts next, a copy of the draft from made to try its
// booking again, and records next.ID as from's retry, both or neither in
// one transaction, only if from is in status retryable and names no retry
// yet. It returns the id of the draft that carries from's retry: next.ID,
// or the one another caller recorded first (next is then not inserted).
// So of several callers, on any replica, exactly one inserts a copy. It
// returns ErrNotFound if from is missing, and ErrDraftNotOpen if it is in
// another status with no retry.
func (s *Store) RetryDraft(ctx context.Context, from, retryable string, next Draft) (string, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return "", fmt.Errorf("retry draft %s: %w", shortID(from), err)
	}
	defer tx.Rollback() // a no-op once committed or rolled back
	res, err := tx.ExecContext(ctx, `
		UPDATE drafts SET retried_as = $2, updated_at = $3
		WHERE id = $1 AND status = $4 AND retried_as = ''`,
		from, next.ID, unix(s.now()), retryable)
	if err != nil {
		return "", fmt.Errorf("retry draft %s: %w", shortID(from), err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return "", fmt.Errorf("retry draft %s: %w", shortID(from), err)
	} else if n == 1 {
		if err := s.insertDraft(ctx, tx, next); err != nil {
			return "", fmt.Errorf("retry draft %s: %w", shortID(from), err)
		}
		if err := tx.Commit(); err != nil {
			return "", fmt.Errorf("retry draft %s: %w", shortID(from), err)
		}
		return next.ID, nil
	}
	if err := tx.Rollback(); err != nil {
		return "", fmt.Errorf("retry draft %s: %w", shortID(from), err)
	}
	// Read after the rollback: a caller that won meanwhile has committed.
	var status, retriedAs string
	err = s.db.QueryRowContext(ctx, `SELECT status, retried_as FROM drafts WHERE id = $1`, from).Scan(&status, &retriedAs)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", ErrNotFound
	case err != nil:
		return "", fmt.Errorf("retry draft %s: %w", shortID(from), err)
	case retriedAs != "":
		return retriedAs, nil
	}
	return "", ErrDraftNotOpen
}

// GetDraft returns the draft with this id, expired or not, or ErrNotFound
// if there is none. Which expired drafts still count is the caller's rule.
func (s *Store) GetDraft(ctx context.Context, id string) (Draft, error) {
	var (
		d                    Draft
		slotStart, slotEnd   string
		details              sql.NullString
		created, updated, ex int64
	)
	err := s.db.QueryRowContext(ctx, `
		SELECT id, clinic, location_id, appointment_type_id, practitioner_id,
			slot_start, slot_end, slot_practitioner_id, details, status, retried_as,
			created_at, updated_at, expires_at
		FROM drafts WHERE id = $1`, id).Scan(
		&d.ID, &d.Clinic, &d.LocationID, &d.AppointmentTypeID, &d.PractitionerID,
		&slotStart, &slotEnd, &d.SlotPractitionerID, &details, &d.Status, &d.RetriedAs,
		&created, &updated, &ex)
	if errors.Is(err, sql.ErrNoRows) {
		return Draft{}, ErrNotFound
	}
	if err != nil {
		return Draft{}, fmt.Errorf("get draft: %w", err)
	}
	d.CreatedAt, d.UpdatedAt, d.ExpiresAt = fromUnix(created), fromUnix(updated), fromUnix(ex)
	if d.SlotStart, err = parseSlotTime(slotStart); err != nil {
		return Draft{}, fmt.Errorf("get draft %s: slot start: %w", shortID(id), err)
	}
	if d.SlotEnd, err = parseSlotTime(slotEnd); err != nil {
		return Draft{}, fmt.Errorf("get draft %s: slot end: %w", shortID(id), err)
	}
	if details.Valid {
		if err := json.Unmarshal([]byte(details.String), &d.Details); err != nil {
			return Draft{}, fmt.Errorf("get draft %s: details: %w", shortID(id), err)
		}
	}
	return d, nil
}

// UpdateDraft saves d's choices, details and, when set, ExpiresAt (to let a
// caller extend a draft the patient is still working on). It keeps
// created_at and status, and sets updated_at to d.UpdatedAt or now. Only a
// draft in status editable can change, checked in the same statement: once
// a submit starts, what was sent must stay what is stored, so any other
// status gives ErrDraftNotOpen.
func (s *Store) UpdateDraft(ctx context.Context, d Draft, editable string) error {
	if d.UpdatedAt.IsZero() {
		d.UpdatedAt = s.now()
	}
	details, err := json.Marshal(d.Details)
	if err != nil {
		return fmt.Errorf("update draft: %w", err)
	}
	var expires sql.NullInt64
	if !d.ExpiresAt.IsZero() {
		expires = sql.NullInt64{Int64: unix(d.ExpiresAt), Valid: true}
	}
	n, err := s.execCount(ctx, `
		UPDATE drafts SET location_id = $2, appointment_type_id = $3, practitioner_id = $4,
			slot_start = $5, slot_end = $6, slot_practitioner_id = $7, details = $8,
			updated_at = $9, expires_at = COALESCE($10, expires_at)
		WHERE id = $1 AND status = $11`,
		d.ID, d.LocationID, d.AppointmentTypeID, d.PractitionerID,
		formatSlotTime(d.SlotStart), formatSlotTime(d.SlotEnd), d.SlotPractitionerID,
		string(details), unix(d.UpdatedAt), expires, editable)
	if err != nil {
		return fmt.Errorf("update draft: %w", err)
	}
	if n == 1 {
		return nil
	}
	// Nothing changed: tell a missing draft from one that moved on.
	var status string
	err = s.db.QueryRowContext(ctx, `SELECT status FROM drafts WHERE id = $1`, d.ID).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("update draft: %w", err)
	}
	return ErrDraftNotOpen
}

// SetDraftStatus moves a draft from one status to another only if it is
// still in from, so that of two concurrent submits exactly one proceeds. It
// reports whether it changed the draft; false with a nil error means the
// draft is missing or was not in from.
func (s *Store) SetDraftStatus(ctx context.Context, id, from, to string) (bool, error) {
	n, err := s.execCount(ctx,
		`UPDATE drafts SET status = $3, updated_at = $4 WHERE id = $1 AND status = $2`,
		id, from, to, unix(s.now()))
	if err != nil {
		return false, fmt.Errorf("set draft %s status %s to %s: %w", shortID(id), from, to, err)
	}
	return n == 1, nil
}

// ReopenStuckDrafts moves every draft still in status from that was last
// updated at or before cutoff and has no booking row to status to: its
// submit died (a crash, a restart) after starting and before claiming the
// slot, so nothing was sent and the patient may confirm again. Each draft
// moves in one compare-and-set statement, so of several replicas sweeping
// at once exactly one reopens it. It returns the ids it reopened.
func (s *Store) ReopenStuckDrafts(ctx context.Context, cutoff time.Time, from, to string) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `
		UPDATE drafts SET status = $4, updated_at = $2
		WHERE status = $3 AND updated_at <= $1
			AND NOT EXISTS (SELECT 1 FROM bookings WHERE bookings.draft_id = drafts.id)
		RETURNING id`, unix(cutoff), unix(s.now()), from, to)
	if err != nil {
		return nil, fmt.Errorf("reopen stuck drafts: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("reopen stuck drafts: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reopen stuck drafts: %w", err)
	}
	return ids, nil
}

// DeleteExpiredDrafts deletes the drafts in one of statuses that expired
// at or before now, and the personal details in them. It returns how many
// it deleted.
func (s *Store) DeleteExpiredDrafts(ctx context.Context, now time.Time, statuses []string) (int64, error) {
	n, err := s.execCount(ctx,
		`DELETE FROM drafts WHERE expires_at <= $1 AND status IN `+inList(2, len(statuses)),
		append([]any{unix(now)}, stringArgs(statuses...)...)...)
	if err != nil {
		return 0, fmt.Errorf("delete expired drafts: %w", err)
	}
	return n, nil
}

// WipeExpiredDetails empties the details of drafts that expired at or
// before now and are in one of draftStatuses or have a booking record in
// one of recordStatuses; the rows stay. It returns how many it wiped.
func (s *Store) WipeExpiredDetails(ctx context.Context, now time.Time, draftStatuses, recordStatuses []string) (int64, error) {
	n, err := s.execCount(ctx, `
		UPDATE drafts SET details = NULL, updated_at = $1
		WHERE expires_at <= $1 AND details IS NOT NULL AND (status IN `+inList(2, len(draftStatuses))+` OR EXISTS (
			SELECT 1 FROM bookings WHERE bookings.draft_id = drafts.id
				AND bookings.status IN `+inList(2+len(draftStatuses), len(recordStatuses))+`))`,
		append(append([]any{unix(now)}, stringArgs(draftStatuses...)...), stringArgs(recordStatuses...)...)...)
	if err != nil {
		return 0, fmt.Errorf("wipe expired drafts: %w", err)
	}
	return n, nil
}

// AlignDraftStatuses moves drafts in one of from whose booking record is in
// one of records to status to, for drafts a failed status write left behind
// their record. It returns how many it moved.
func (s *Store) AlignDraftStatuses(ctx context.Context, to string, from, records []string) (int64, error) {
	n, err := s.execCount(ctx, `
		UPDATE drafts SET status = $1, updated_at = $2
		WHERE status IN `+inList(3, len(from))+` AND EXISTS (
			SELECT 1 FROM bookings WHERE bookings.draft_id = drafts.id
				AND bookings.status IN `+inList(3+len(from), len(records))+`)`,
		append(append([]any{to, unix(s.now())}, stringArgs(from...)...), stringArgs(records...)...)...)
	if err != nil {
		return 0, fmt.Errorf("align draft statuses: %w", err)
	}
	return n, nil
}
