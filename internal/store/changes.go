package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Changes a patient makes to a booking from its manage page. Each is
// recorded in three steps: BeginChange (or BeginMove) sets the intent before
// anything is sent to coreplus, and exactly one caller wins it; then
// FinishCancel, FinishMove or UndoMove records the outcome, once. A change
// whose outcome never came stays begun, for ListChangesBegun to find.

// Change states (bookings.change_state).
const (
	ChangeNone       = ""
	ChangeMoving     = "moving"
	ChangeCancelling = "cancelling"
)

// BeginCancel marks a booking in status booked, with no change under way,
// as being cancelled. It reports whether this caller did (and so is the one
// to send the cancel).
func (s *Store) BeginCancel(ctx context.Context, draftID, booked string) (bool, error) {
	now := unix(s.now())
	n, err := s.execCount(ctx, `
		UPDATE bookings SET change_state = $3, change_started_at = $4, updated_at = $4
		WHERE draft_id = $1 AND status = $2 AND change_state = ''`,
		draftID, booked, ChangeCancelling, now)
	if err != nil {
		return false, fmt.Errorf("begin cancel of booking %s: %w", shortID(draftID), err)
	}
	return n == 1, nil
}

// FinishCancel records that the booking being cancelled is cancelled:
// status cancelled, which drops it out of bookings_slot_held, the
// calendar event's sequence one more (a cancel is a change to the event),
// and its sealed contact wiped. It reports whether it changed the booking.
//
// queue (the "cancelled" email) is queued in the same transaction, only
// when this call changed the row, each message with the row's new
// sequence: a double click or a second replica queues nothing more.
func (s *Store) FinishCancel(ctx context.Context, draftID, cancelled string, queue ...OutboxMessage) (bool, error) {
	changed, err := s.finishChange(ctx, draftID, queue, `
		UPDATE bookings SET status = $2, change_state = '', change_started_at = 0, sequence = sequence + 1,
			sealed_contact = '', updated_at = $3
		WHERE draft_id = $1 AND change_state = $4`,
		draftID, cancelled, unix(s.now()), ChangeCancelling)
	if err != nil {
		return false, fmt.Errorf("finish cancel of booking %s: %w", shortID(draftID), err)
	}
	return changed, nil
}

// finishChange runs update, the recording of a change's outcome, and when
// it changed a row queues queue in the same transaction, each message with
// the booking's sequence after update.
func (s *Store) finishChange(ctx context.Context, draftID string, queue []OutboxMessage, update string, args ...any) (bool, error) {
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, update, args...)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil || n != 1 || len(queue) == 0 {
			return err
		}
		var seq int64
		if err := tx.QueryRowContext(ctx, `SELECT sequence FROM bookings WHERE draft_id = $1`, draftID).Scan(&seq); err != nil {
			return err
		}
		for _, m := range queue {
			m.Sequence = int(seq)
			if err := s.insertOutbox(ctx, tx, m); err != nil {
				return err
			}
		}
		return nil
	})
	return n == 1, err
}

// MarkCancelled records that a booked booking with no change under way was
// cancelled elsewhere (staff, in coreplus), and wipes the patient's sealed
// contact as the patient's own cancel does: no email follows a cancelled
// booking. It reports whether it changed it.
func (s *Store) MarkCancelled(ctx context.Context, draftID, booked, cancelled string) (bool, error) {
	n, err := s.execCount(ctx, `
		UPDATE bookings SET status = $3, sealed_contact = '', updated_at = $4
		WHERE draft_id = $1 AND status = $2 AND change_state = ''`,
		draftID, booked, cancelled, unix(s.now()))
	if err != nil {
		return false, fmt.Errorf("mark booking %s cancelled: %w", shortID(draftID), err)
	}
	return n == 1, nil
}

// AbandonCancel clears a cancel that was never applied (coreplus refused it,
// or it was not sent), leaving the booking as it was.
func (s *Store) AbandonCancel(ctx context.Context, draftID string) (bool, error) {
	n, err := s.execCount(ctx, `
		UPDATE bookings SET change_state = '', change_started_at = 0, updated_at = $2
		WHERE draft_id = $1 AND change_state = $3`,
		draftID, unix(s.now()), ChangeCancelling)
	if err != nil {
		return false, fmt.Errorf("abandon cancel of booking %s: %w", shortID(draftID), err)
	}
	return n == 1, nil
}

// BeginMove marks a booking in status booked, with no change under way and
// still with fromPractitionerID at fromStart (where the caller read it), as
// moving to practitionerID at [start, end): the row takes the new time at
// once, so bookings_slot_held keeps it from every other draft, and keeps
// the old one in prev_*. It reports whether this caller did (a second
// press that read the booking before the first moved it does not);
// ErrSlotTaken when another draft holds the new time.
func (s *Store) BeginMove(ctx context.Context, draftID, booked, fromPractitionerID string, fromStart time.Time, practitionerID string, start, end time.Time) (bool, error) {
	now := unix(s.now())
	n, err := s.execCount(ctx, `
		UPDATE bookings SET prev_practitioner_id = practitioner_id, prev_starts_at = starts_at,
			prev_ends_at = ends_at, prev_start_unix = start_unix,
			practitioner_id = $3, starts_at = $4, ends_at = $5, start_unix = $6,
			change_state = $7, change_started_at = $8, updated_at = $8
		WHERE draft_id = $1 AND status = $2 AND change_state = '' AND practitioner_id = $9 AND start_unix = $10`,
		draftID, booked, practitionerID, formatSlotTime(start), formatSlotTime(end), unix(start), ChangeMoving, now,
		fromPractitionerID, unix(fromStart))
	if err != nil {
		if conflict := bookingConflict(err); conflict == ErrSlotTaken {
			return false, conflict
		}
		return false, fmt.Errorf("begin move of booking %s: %w", shortID(draftID), err)
	}
	return n == 1, nil
}

// FinishMove records that coreplus moved the booking to the time BeginMove
// set: the old time is forgotten and the sequence counts one more move.
// It reports whether it changed the booking.
//
// queue (the "moved" email) is queued in the same transaction, only when
// this call changed the row, each message with the row's new sequence.
func (s *Store) FinishMove(ctx context.Context, draftID string, queue ...OutboxMessage) (bool, error) {
	changed, err := s.finishChange(ctx, draftID, queue, `
		UPDATE bookings SET change_state = '', change_started_at = 0, sequence = sequence + 1,
			prev_practitioner_id = '', prev_starts_at = '', prev_ends_at = '', prev_start_unix = 0,
			updated_at = $2
		WHERE draft_id = $1 AND change_state = $3`,
		draftID, unix(s.now()), ChangeMoving)
	if err != nil {
		return false, fmt.Errorf("finish move of booking %s: %w", shortID(draftID), err)
	}
	return changed, nil
}

// UndoMove puts a booking that coreplus did not move back on its old time.
func (s *Store) UndoMove(ctx context.Context, draftID string) (bool, error) {
	n, err := s.execCount(ctx, `
		UPDATE bookings SET practitioner_id = prev_practitioner_id, starts_at = prev_starts_at,
			ends_at = prev_ends_at, start_unix = prev_start_unix,
			prev_practitioner_id = '', prev_starts_at = '', prev_ends_at = '', prev_start_unix = 0,
			change_state = '', change_started_at = 0, updated_at = $2
		WHERE draft_id = $1 AND change_state = $3`,
		draftID, unix(s.now()), ChangeMoving)
	if err != nil {
		return false, fmt.Errorf("undo move of booking %s: %w", shortID(draftID), err)
	}
	return n == 1, nil
}

// RecordMovedTo records that the booking, at rest and still with
// fromPractitionerID at fromStart (where the caller read it), now stands at
// practitionerID [start, end) because it was moved elsewhere (staff, in
// coreplus): the portal's record follows coreplus, and the sequence counts
// it. A booking changed since it was read (the patient's own move, finished
// by another press) is left alone: false. ErrSlotTaken when another draft
// holds that time in the portal.
func (s *Store) RecordMovedTo(ctx context.Context, draftID, fromPractitionerID string, fromStart time.Time, practitionerID string, start, end time.Time) (bool, error) {
	n, err := s.execCount(ctx, `
		UPDATE bookings SET practitioner_id = $2, starts_at = $3, ends_at = $4, start_unix = $5,
			sequence = sequence + 1, updated_at = $6
		WHERE draft_id = $1 AND change_state = '' AND practitioner_id = $7 AND start_unix = $8`,
		draftID, practitionerID, formatSlotTime(start), formatSlotTime(end), unix(start), unix(s.now()),
		fromPractitionerID, unix(fromStart))
	if err != nil {
		if conflict := bookingConflict(err); conflict == ErrSlotTaken {
			return false, conflict
		}
		return false, fmt.Errorf("record move of booking %s: %w", shortID(draftID), err)
	}
	return n == 1, nil
}

// ListChangesBegun lists every clinic's bookings with a change begun at or
// before before, the oldest first, at most limit: changes whose outcome a
// crash or a lost answer left unrecorded.
func (s *Store) ListChangesBegun(ctx context.Context, before time.Time, limit int) ([]Booking, error) {
	return s.queryBookings(ctx, "list changes begun", selectBooking+`
		WHERE change_state <> '' AND change_started_at <= $1
		ORDER BY change_started_at LIMIT $2`, unix(before), limit)
}
