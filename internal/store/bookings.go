package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Booking records one booking sent (or about to be sent) to coreplus. It
// holds ids only, no patient names or contact details.
type Booking struct {
	// DraftID is the idempotency key: one booking per draft.
	DraftID           string
	Clinic            string
	AppointmentID     string
	ReferenceNumber   string
	ClientID          string
	PractitionerID    string
	LocationID        string
	AppointmentTypeID string
	// Start and End keep the offset they were given with.
	Start time.Time
	End   time.Time
	// Status is the caller's; the store only compares and copies it. The
	// schema lets only statuses that hold the slot collide.
	Status string
	// Resent is set once a sweeper has sent the booking a second time after
	// its first outcome was unknown; it is never sent a third time.
	Resent bool
	// NextLook is when a sweeper may next look for the booking in coreplus
	// (zero: at once); see ListBookingsDue and TakeLook.
	NextLook time.Time
	// ContactDiffers is the caller's flag that the client record lacks the
	// contact details the patient gave; the store only keeps it.
	ContactDiffers bool
	// Sequence counts the times the patient moved the booking.
	Sequence int64
	// SealedContact, when set, is written by UpdateBooking and
	// SettleBooking together with their queue (only when they queue it):
	// the patient's address, sealed by the caller, for the emails after
	// the booking. Reads leave it empty; see GetBookingContact.
	SealedContact string
	// ChangeState is "" at rest, or the change under way (see BeginChange):
	// from just before it is sent to coreplus until its outcome is recorded.
	ChangeState     string
	ChangeStartedAt time.Time
	// PrevPractitionerID, PrevStart and PrevEnd are the time a move is
	// leaving, while ChangeState says it is moving; zero otherwise.
	PrevPractitionerID string
	PrevStart          time.Time
	PrevEnd            time.Time
	// CreatedAt and UpdatedAt are UTC, to the second.
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ClaimBooking records b in status initial (whatever b.Status says) before
// anything is sent to coreplus. It returns ErrDuplicateDraft if the draft
// already has a booking (whatever its status) and ErrSlotTaken if another
// draft's booking in a status that holds the slot (the schema's
// bookings_slot_held index names them) has the same clinic, practitioner
// and start. The database enforces both, so this holds across replicas.
//
// Only an identical start collides: overlapping appointments with different
// starts are left to coreplus's own availability check.
func (s *Store) ClaimBooking(ctx context.Context, b Booking, initial string) error {
	if b.DraftID == "" || b.Clinic == "" || b.PractitionerID == "" || b.Start.IsZero() || initial == "" {
		return errors.New("claim booking: draft id, clinic, practitioner, start and status are required")
	}
	now := unix(s.now())
	_, err := s.db.ExecContext(ctx, `
		INSERT INTO bookings (draft_id, clinic, appointment_id, reference_number, client_id,
			practitioner_id, location_id, appointment_type_id,
			starts_at, ends_at, start_unix, status, created_at, updated_at, contact_differs)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14)`,
		b.DraftID, b.Clinic, b.AppointmentID, b.ReferenceNumber, b.ClientID,
		b.PractitionerID, b.LocationID, b.AppointmentTypeID,
		formatSlotTime(b.Start), formatSlotTime(b.End), unix(b.Start), initial, now, boolInt(b.ContactDiffers))
	if err == nil {
		return nil
	}
	switch conflict := bookingConflict(err); conflict {
	case ErrDuplicateDraft:
		return conflict
	case ErrSlotTaken:
		// A resubmitted draft whose own booking holds the slot must hear
		// "already booked", not "taken by someone else"; which constraint
		// the database reports first is not something to rely on.
		if _, err := s.GetBookingByDraft(ctx, b.DraftID); err == nil {
			return ErrDuplicateDraft
		}
		return conflict
	}
	return fmt.Errorf("claim booking for draft %s: %w", shortID(b.DraftID), err)
}

// ReleaseClaim deletes the draft's booking if it is still in status
// claimed with no client id and no appointment id, and, unless seen is
// zero, was last updated at seen (to the second): a claim that was never
// sent, given up so that its slot is free and the draft may claim again.
// It reports whether it deleted the booking.
func (s *Store) ReleaseClaim(ctx context.Context, draftID, claimed string, seen time.Time) (bool, error) {
	query := `DELETE FROM bookings
		WHERE draft_id = $1 AND status = $2 AND client_id = '' AND appointment_id = ''`
	args := []any{draftID, claimed}
	if !seen.IsZero() {
		query += ` AND updated_at = $3`
		args = append(args, unix(seen))
	}
	n, err := s.execCount(ctx, query, args...)
	if err != nil {
		return false, fmt.Errorf("release claim of draft %s: %w", shortID(draftID), err)
	}
	return n == 1, nil
}

// GetBookingByDraft returns the booking made from this draft, or ErrNotFound.
func (s *Store) GetBookingByDraft(ctx context.Context, draftID string) (Booking, error) {
	row := s.db.QueryRowContext(ctx, selectBooking+` WHERE draft_id = $1`, draftID)
	b, err := scanBooking(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Booking{}, ErrNotFound
	}
	if err != nil {
		return Booking{}, fmt.Errorf("get booking for draft %s: %w", shortID(draftID), err)
	}
	return b, nil
}

// UpdateBooking records what coreplus answered: status, appointment id,
// reference number, client id, contact differs and resent, with updated_at
// now. It returns
// ErrNotFound if there is no booking for b.DraftID, and ErrSlotTaken if a
// failed booking is revived while another draft holds its slot.
//
// queue is the messages this change makes due: they are queued in the
// same transaction, and only if the booking was not already in b.Status,
// so an outcome recorded twice sends its message once.
func (s *Store) UpdateBooking(ctx context.Context, b Booking, queue ...OutboxMessage) error {
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var before string
		if len(queue) > 0 {
			lock := ""
			if s.dialect == DialectPostgres {
				lock = " FOR UPDATE"
			}
			if err := tx.QueryRowContext(ctx, `SELECT status FROM bookings WHERE draft_id = $1`+lock, b.DraftID).Scan(&before); err != nil {
				if errors.Is(err, sql.ErrNoRows) {
					return nil // n stays 0: not found
				}
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `
		UPDATE bookings SET status = $2, appointment_id = $3, reference_number = $4,
			client_id = $5, updated_at = $6, resent = $7, contact_differs = $8
		WHERE draft_id = $1`,
			b.DraftID, b.Status, b.AppointmentID, b.ReferenceNumber, b.ClientID, unix(s.now()), boolInt(b.Resent),
			boolInt(b.ContactDiffers))
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil || n == 0 || before == b.Status {
			return err
		}
		return s.queueWithContact(ctx, tx, b, queue)
	})
	if err != nil {
		if conflict := bookingConflict(err); conflict != err {
			return conflict
		}
		return fmt.Errorf("update booking for draft %s: %w", shortID(b.DraftID), err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// queueWithContact queues the messages of a change to b in tx, and keeps
// b's sealed contact for the messages after it.
func (s *Store) queueWithContact(ctx context.Context, tx *sql.Tx, b Booking, queue []OutboxMessage) error {
	for _, m := range queue {
		if err := s.insertOutbox(ctx, tx, m); err != nil {
			return err
		}
	}
	if b.SealedContact == "" || len(queue) == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, `UPDATE bookings SET sealed_contact = $2 WHERE draft_id = $1`, b.DraftID, b.SealedContact)
	return err
}

// GetBookingContact returns the sealed contact kept on the booking made
// from draftID: "" when none is kept (no address given, no mail sent, or
// wiped), ErrNotFound when there is no such booking.
func (s *Store) GetBookingContact(ctx context.Context, draftID string) (string, error) {
	var sealed string
	err := s.db.QueryRowContext(ctx, `SELECT sealed_contact FROM bookings WHERE draft_id = $1`, draftID).Scan(&sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("get contact of booking %s: %w", shortID(draftID), err)
	}
	return sealed, nil
}

// WipeStartedContacts wipes the sealed contact of every booking that
// started at or before now with no change under way: once the appointment
// has begun the patient can no longer change it, so no email after it is
// due. It returns how many it wiped.
func (s *Store) WipeStartedContacts(ctx context.Context, now time.Time) (int64, error) {
	n, err := s.execCount(ctx, `
		UPDATE bookings SET sealed_contact = ''
		WHERE sealed_contact <> '' AND start_unix <= $1 AND change_state = ''`, unix(now))
	if err != nil {
		return 0, fmt.Errorf("wipe contacts of started bookings: %w", err)
	}
	return n, nil
}

// HeldSlots returns the clinic's bookings in one of holding (the statuses
// that hold a slot) starting at or after from and before to, by start: the
// practitioners' starts no other draft may claim.
func (s *Store) HeldSlots(ctx context.Context, clinic string, from, to time.Time, holding []string) ([]Booking, error) {
	return s.queryBookings(ctx, "list held slots", selectBooking+`
		WHERE clinic = $1 AND start_unix >= $2 AND start_unix < $3 AND status IN `+inList(4, len(holding))+`
		ORDER BY start_unix, practitioner_id`,
		append([]any{clinic, unix(from), unix(to)}, stringArgs(holding...)...)...)
}

// ListBookingsByStatus returns up to limit bookings in status, oldest
// first, for example the unknown ones a reconciler must settle. A limit of
// zero or less means no limit.
func (s *Store) ListBookingsByStatus(ctx context.Context, status string, limit int) ([]Booking, error) {
	query := selectBooking + ` WHERE status = $1 ORDER BY created_at, draft_id`
	args := []any{status}
	if limit > 0 {
		query += ` LIMIT $2`
		args = append(args, limit)
	}
	return s.queryBookings(ctx, "list "+status+" bookings", query, args...)
}

// StatusCount is how many bookings are in one status, and when the
// oldest of them was made.
type StatusCount struct {
	Status string
	Count  int64
	Oldest time.Time // zero when Count is 0
}

// CountBookings counts the bookings in each of statuses, one StatusCount
// per status in that order, those with none included. It reads the
// (status, created_at) index only, so it is cheap enough for every scrape
// of the metrics.
func (s *Store) CountBookings(ctx context.Context, statuses []string) ([]StatusCount, error) {
	out := make([]StatusCount, len(statuses))
	for i, st := range statuses {
		out[i].Status = st
	}
	if len(statuses) == 0 {
		return out, nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT status, COUNT(*), MIN(created_at) FROM bookings
		WHERE status IN `+inList(1, len(statuses))+` GROUP BY status`, stringArgs(statuses...)...)
	if err != nil {
		return nil, fmt.Errorf("count bookings: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c StatusCount
		var oldest int64
		if err := rows.Scan(&c.Status, &c.Count, &oldest); err != nil {
			return nil, fmt.Errorf("count bookings: %w", err)
		}
		for i := range out {
			if out[i].Status == c.Status {
				out[i].Count, out[i].Oldest = c.Count, fromUnix(oldest)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count bookings: %w", err)
	}
	return out, nil
}

// ListBookingsDue returns up to limit bookings in status whose next look
// is due at now: first those never looked at, by the time they last
// changed, then the others by when their look fell due. A booking looked
// at and left unsettled goes behind every other that is due, so however
// many are stuck, each is looked at in turn and none starves a new one. A
// limit of zero or less means no limit.
func (s *Store) ListBookingsDue(ctx context.Context, status string, now time.Time, limit int) ([]Booking, error) {
	query := selectBooking + ` WHERE status = $1 AND next_look <= $2 ORDER BY next_look, updated_at, draft_id`
	args := []any{status, unix(now)}
	if limit > 0 {
		query += ` LIMIT $3`
		args = append(args, limit)
	}
	return s.queryBookings(ctx, "list due "+status+" bookings", query, args...)
}

// queryBookings runs a query of selectBooking and reads every row; what
// names it in errors.
func (s *Store) queryBookings(ctx context.Context, what, query string, args ...any) ([]Booking, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var list []Booking
	for rows.Next() {
		b, err := scanBooking(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		list = append(list, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return list, nil
}

// TakeLook moves the booking's next look from seen (as ListBookingsDue
// read it) to until, reporting whether this caller moved it: of several
// sweepers that read the same due booking, exactly one looks, and no other
// looks again before until.
func (s *Store) TakeLook(ctx context.Context, draftID string, seen, until time.Time) (bool, error) {
	n, err := s.execCount(ctx, `UPDATE bookings SET next_look = $3 WHERE draft_id = $1 AND next_look = $2`,
		draftID, unixOrZero(seen), unix(until))
	if err != nil {
		return false, fmt.Errorf("take look at booking %s: %w", shortID(draftID), err)
	}
	return n == 1, nil
}

// SetNextLook puts the booking's next look at until.
func (s *Store) SetNextLook(ctx context.Context, draftID string, until time.Time) error {
	if _, err := s.execCount(ctx, `UPDATE bookings SET next_look = $2 WHERE draft_id = $1`, draftID, unix(until)); err != nil {
		return fmt.Errorf("set next look at booking %s: %w", shortID(draftID), err)
	}
	return nil
}

const selectBooking = `
	SELECT draft_id, clinic, appointment_id, reference_number, client_id,
		practitioner_id, location_id, appointment_type_id,
		starts_at, ends_at, status, resent, contact_differs, next_look, created_at, updated_at,
		sequence, change_state, change_started_at, prev_practitioner_id, prev_starts_at, prev_ends_at
	FROM bookings`

// scanBooking reads one row of selectBooking from a *sql.Row or *sql.Rows.
func scanBooking(row interface{ Scan(...any) error }) (Booking, error) {
	var (
		b                Booking
		start, end       string
		created, updated int64
		resent, differs  int64
		next             int64
		changeStarted    int64
		prevStart        string
		prevEnd          string
	)
	err := row.Scan(&b.DraftID, &b.Clinic, &b.AppointmentID, &b.ReferenceNumber, &b.ClientID,
		&b.PractitionerID, &b.LocationID, &b.AppointmentTypeID,
		&start, &end, &b.Status, &resent, &differs, &next, &created, &updated,
		&b.Sequence, &b.ChangeState, &changeStarted, &b.PrevPractitionerID, &prevStart, &prevEnd)
	if err != nil {
		return Booking{}, err
	}
	if changeStarted != 0 {
		b.ChangeStartedAt = fromUnix(changeStarted)
	}
	if prevStart != "" {
		if b.PrevStart, err = parseSlotTime(prevStart); err != nil {
			return Booking{}, fmt.Errorf("booking %s previous start: %w", shortID(b.DraftID), err)
		}
		if b.PrevEnd, err = parseSlotTime(prevEnd); err != nil {
			return Booking{}, fmt.Errorf("booking %s previous end: %w", shortID(b.DraftID), err)
		}
	}
	if b.Start, err = parseSlotTime(start); err != nil {
		return Booking{}, fmt.Errorf("booking %s start: %w", shortID(b.DraftID), err)
	}
	if b.End, err = parseSlotTime(end); err != nil {
		return Booking{}, fmt.Errorf("booking %s end: %w", shortID(b.DraftID), err)
	}
	b.CreatedAt, b.UpdatedAt = fromUnix(created), fromUnix(updated)
	b.Resent, b.ContactDiffers = resent != 0, differs != 0
	if next != 0 {
		b.NextLook = fromUnix(next)
	}
	return b, nil
}

// SetBookingStatus moves a booking from one status to another only if it is
// still in from and was last updated at seen (to the second), so that of
// several replicas' sweepers exactly one acts on what they all read. It
// reports whether it changed the booking.
func (s *Store) SetBookingStatus(ctx context.Context, draftID, from string, seen time.Time, to string) (bool, error) {
	n, err := s.execCount(ctx, `
		UPDATE bookings SET status = $3, updated_at = $5
		WHERE draft_id = $1 AND status = $2 AND updated_at = $4`,
		draftID, from, to, unix(seen), unix(s.now()))
	if err != nil {
		return false, fmt.Errorf("set booking %s status %s to %s: %w", shortID(draftID), from, to, err)
	}
	return n == 1, nil
}

// ClaimResend takes a booking in status from that was never resent and was
// last updated at seen, moving it to status to and marking it resent, for
// the one caller that will send it again. It reports whether this caller
// won the claim.
func (s *Store) ClaimResend(ctx context.Context, draftID string, seen time.Time, from, to string) (bool, error) {
	n, err := s.execCount(ctx, `
		UPDATE bookings SET status = $5, resent = 1, updated_at = $3
		WHERE draft_id = $1 AND status = $4 AND resent = 0 AND updated_at = $2`,
		draftID, unix(seen), unix(s.now()), from, to)
	if err != nil {
		return false, fmt.Errorf("claim resend of booking %s: %w", shortID(draftID), err)
	}
	return n == 1, nil
}

// SettleBooking records the outcome of a booking still in one of
// unsettled: status, appointment id, reference number and client id, with
// updated_at now. It reports whether it changed the booking; false with a
// nil error means another caller settled it first (or there is none), and
// what that caller wrote stands. queue is queued in the same transaction,
// only by the caller that settles it.
func (s *Store) SettleBooking(ctx context.Context, b Booking, unsettled []string, queue ...OutboxMessage) (bool, error) {
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `
		UPDATE bookings SET status = $2, appointment_id = $3, reference_number = $4,
			client_id = $5, updated_at = $6
		WHERE draft_id = $1 AND status IN `+inList(7, len(unsettled)),
			append([]any{b.DraftID, b.Status, b.AppointmentID, b.ReferenceNumber, b.ClientID, unix(s.now())},
				stringArgs(unsettled...)...)...)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil || n != 1 {
			return err
		}
		return s.queueWithContact(ctx, tx, b, queue)
	})
	if err != nil {
		return false, fmt.Errorf("settle booking for draft %s: %w", shortID(b.DraftID), err)
	}
	return n == 1, nil
}
