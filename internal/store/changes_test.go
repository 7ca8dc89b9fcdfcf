package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

// bookedBooking claims b and records it booked.
func bookedBooking(t *testing.T, s *Store, b Booking) {
	t.Helper()
	ctx := context.Background()
	if err := s.ClaimBooking(ctx, b, BookingPending); err != nil {
		t.Fatal(err)
	}
	b.Status, b.AppointmentID, b.ClientID = BookingBooked, "appt-"+b.DraftID[:4], "client-1"
	if err := s.UpdateBooking(ctx, b); err != nil {
		t.Fatal(err)
	}
}

// TestMoveHoldsTheNewTime: a move begun holds the new time in
// bookings_slot_held at once and frees the old one; undone, the booking is
// back on the old time; finished, the sequence counts it. One caller of
// two wins the intent.
func TestMoveHoldsTheNewTime(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		setClock(s, base)
		b := testBooking(t)
		bookedBooking(t, s, b)
		later := slotStart.Add(24 * time.Hour)

		won, err := s.BeginMove(ctx, b.DraftID, BookingBooked, "prac-1", slotStart, "prac-2", later, later.Add(45*time.Minute))
		if err != nil || !won {
			t.Fatalf("BeginMove = %v, %v", won, err)
		}
		if again, err := s.BeginMove(ctx, b.DraftID, BookingBooked, "prac-1", slotStart, "prac-2", later, later.Add(45*time.Minute)); err != nil || again {
			t.Fatalf("second BeginMove = %v, %v; want lost", again, err)
		}
		if won, err := s.BeginCancel(ctx, b.DraftID, BookingBooked); err != nil || won {
			t.Fatalf("BeginCancel during a move = %v, %v; want lost", won, err)
		}
		got, _ := s.GetBookingByDraft(ctx, b.DraftID)
		if got.ChangeState != ChangeMoving || got.PractitionerID != "prac-2" || !got.Start.Equal(later) ||
			got.PrevPractitionerID != "prac-1" || !got.PrevStart.Equal(slotStart) || !got.ChangeStartedAt.Equal(base) {
			t.Fatalf("while moving: %+v", got)
		}
		// The new time is held from another draft; the old one is not.
		other := testBooking(t)
		other.PractitionerID, other.Start, other.End = "prac-2", later, later.Add(45*time.Minute)
		if err := s.ClaimBooking(ctx, other, BookingPending); !errors.Is(err, ErrSlotTaken) {
			t.Fatalf("claiming the time a move holds: %v, want ErrSlotTaken", err)
		}
		if begun, err := s.ListChangesBegun(ctx, base, 10); err != nil || len(begun) != 1 || begun[0].DraftID != b.DraftID {
			t.Fatalf("ListChangesBegun = %+v, %v", begun, err)
		}
		if begun, _ := s.ListChangesBegun(ctx, base.Add(-time.Second), 10); len(begun) != 0 {
			t.Fatalf("a change begun later is listed: %+v", begun)
		}

		if ok, err := s.UndoMove(ctx, b.DraftID); err != nil || !ok {
			t.Fatalf("UndoMove = %v, %v", ok, err)
		}
		got, _ = s.GetBookingByDraft(ctx, b.DraftID)
		if got.ChangeState != ChangeNone || got.PractitionerID != "prac-1" || !got.Start.Equal(slotStart) || got.Sequence != 0 || !got.PrevStart.IsZero() {
			t.Fatalf("after undo: %+v", got)
		}
		if err := s.ClaimBooking(ctx, other, BookingPending); err != nil {
			t.Fatalf("the undone move's time is still held: %v", err)
		}

		if won, err := s.BeginMove(ctx, b.DraftID, BookingBooked, "prac-1", slotStart, "prac-2", later, later.Add(45*time.Minute)); !errors.Is(err, ErrSlotTaken) || won {
			t.Fatalf("moving onto another draft's time = %v, %v; want ErrSlotTaken", won, err)
		}
		later2 := later.Add(time.Hour)
		if won, err := s.BeginMove(ctx, b.DraftID, BookingBooked, "prac-1", slotStart, "prac-2", later2, later2.Add(45*time.Minute)); err != nil || !won {
			t.Fatalf("BeginMove = %v, %v", won, err)
		}
		if ok, err := s.FinishMove(ctx, b.DraftID); err != nil || !ok {
			t.Fatalf("FinishMove = %v, %v", ok, err)
		}
		if ok, _ := s.FinishMove(ctx, b.DraftID); ok {
			t.Fatal("a move finished twice")
		}
		got, _ = s.GetBookingByDraft(ctx, b.DraftID)
		if got.ChangeState != ChangeNone || !got.Start.Equal(later2) || got.Sequence != 1 || got.PrevPractitionerID != "" {
			t.Fatalf("after finish: %+v", got)
		}
		// A second press that read the booking at its old time loses.
		if won, err := s.BeginMove(ctx, b.DraftID, BookingBooked, "prac-1", slotStart, "prac-2", later2, later2.Add(45*time.Minute)); err != nil || won {
			t.Fatalf("a move from a time the booking has left = %v, %v; want lost", won, err)
		}
		// A move made elsewhere, recorded by a reader who saw the booking
		// at a time it has left, changes nothing.
		if ok, err := s.RecordMovedTo(ctx, b.DraftID, "prac-1", slotStart, "prac-1", slotStart, slotStart.Add(45*time.Minute)); err != nil || ok {
			t.Fatalf("RecordMovedTo from a stale read = %v, %v; want nothing recorded", ok, err)
		}
		if ok, err := s.RecordMovedTo(ctx, b.DraftID, "prac-2", later2, "prac-1", slotStart, slotStart.Add(45*time.Minute)); err != nil || !ok {
			t.Fatalf("RecordMovedTo = %v, %v", ok, err)
		}
		got, _ = s.GetBookingByDraft(ctx, b.DraftID)
		if !got.Start.Equal(slotStart) || got.Sequence != 2 {
			t.Fatalf("after a move made elsewhere: %+v", got)
		}
	})
}

// TestCancelFreesTheTime: one of two callers wins a cancel; finished, the
// booking is cancelled and its time free for another draft.
func TestCancelFreesTheTime(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		setClock(s, base)
		b := testBooking(t)
		bookedBooking(t, s, b)
		if won, err := s.BeginCancel(ctx, b.DraftID, BookingBooked); err != nil || !won {
			t.Fatalf("BeginCancel = %v, %v", won, err)
		}
		if won, _ := s.BeginCancel(ctx, b.DraftID, BookingBooked); won {
			t.Fatal("two callers won the cancel")
		}
		if ok, err := s.AbandonCancel(ctx, b.DraftID); err != nil || !ok {
			t.Fatalf("AbandonCancel = %v, %v", ok, err)
		}
		if won, _ := s.BeginCancel(ctx, b.DraftID, BookingBooked); !won {
			t.Fatal("an abandoned cancel cannot be begun again")
		}
		if ok, err := s.FinishCancel(ctx, b.DraftID, BookingCancelled); err != nil || !ok {
			t.Fatalf("FinishCancel = %v, %v", ok, err)
		}
		got, _ := s.GetBookingByDraft(ctx, b.DraftID)
		if got.Status != BookingCancelled || got.ChangeState != ChangeNone {
			t.Fatalf("after cancel: %+v", got)
		}
		other := testBooking(t)
		if err := s.ClaimBooking(ctx, other, BookingPending); err != nil {
			t.Fatalf("a cancelled booking's time is still held: %v", err)
		}
		if ok, _ := s.MarkCancelled(ctx, b.DraftID, BookingBooked, BookingCancelled); ok {
			t.Fatal("a cancelled booking was cancelled again")
		}
	})
}

// TestChangesQueueTheirMessageOnce: the contact sealed with the
// confirmation stays on the booking; a move finished twice queues one
// message with the new sequence; a cancel finished twice queues one with
// the sequence after it and wipes the contact; a finish that fails to
// record queues nothing.
func TestChangesQueueTheirMessageOnce(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		setClock(s, base)
		b := testBooking(t)
		if err := s.ClaimBooking(ctx, b, BookingPending); err != nil {
			t.Fatal(err)
		}
		b.Status, b.AppointmentID, b.SealedContact = BookingBooked, "appt-1", "v1:contact"
		if err := s.UpdateBooking(ctx, b, testMessage(t, b)); err != nil {
			t.Fatal(err)
		}
		if c, err := s.GetBookingContact(ctx, b.DraftID); err != nil || c != "v1:contact" {
			t.Fatalf("contact after the confirmation = %q, %v", c, err)
		}
		if _, err := s.GetBookingContact(ctx, testID(t)); !errors.Is(err, ErrNotFound) {
			t.Fatalf("contact of no booking: %v, want ErrNotFound", err)
		}

		message := func(kind string) OutboxMessage {
			m := testMessage(t, b)
			m.Kind = kind
			return m
		}
		queued := func(kind string) []OutboxMessage {
			t.Helper()
			all, err := s.ListOutbox(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var out []OutboxMessage
			for _, m := range all {
				if m.Kind == kind {
					out = append(out, m)
				}
			}
			return out
		}
		// Not begun: nothing recorded, nothing queued.
		if ok, err := s.FinishMove(ctx, b.DraftID, message("moved")); err != nil || ok {
			t.Fatalf("FinishMove with no move begun = %v, %v", ok, err)
		}
		later := slotStart.Add(24 * time.Hour)
		if won, err := s.BeginMove(ctx, b.DraftID, BookingBooked, "prac-1", slotStart, "prac-1", later, later.Add(45*time.Minute)); err != nil || !won {
			t.Fatalf("BeginMove = %v, %v", won, err)
		}
		for i, want := range []bool{true, false} {
			if ok, err := s.FinishMove(ctx, b.DraftID, message("moved")); err != nil || ok != want {
				t.Fatalf("FinishMove #%d = %v, %v; want %v", i+1, ok, err, want)
			}
		}
		if moved := queued("moved"); len(moved) != 1 || moved[0].Sequence != 1 {
			t.Fatalf("moved messages queued: %+v, want one with sequence 1", moved)
		}
		if c, _ := s.GetBookingContact(ctx, b.DraftID); c != "v1:contact" {
			t.Fatal("a move wiped the contact")
		}

		if won, err := s.BeginCancel(ctx, b.DraftID, BookingBooked); err != nil || !won {
			t.Fatalf("BeginCancel = %v, %v", won, err)
		}
		for i, want := range []bool{true, false} {
			if ok, err := s.FinishCancel(ctx, b.DraftID, BookingCancelled, message("cancelled")); err != nil || ok != want {
				t.Fatalf("FinishCancel #%d = %v, %v; want %v", i+1, ok, err, want)
			}
		}
		if cancelled := queued("cancelled"); len(cancelled) != 1 || cancelled[0].Sequence != 2 {
			t.Fatalf("cancelled messages queued: %+v, want one with sequence 2", cancelled)
		}
		if got, _ := s.GetBookingByDraft(ctx, b.DraftID); got.Sequence != 2 || got.Status != BookingCancelled {
			t.Fatalf("after the cancel: %+v", got)
		}
		if c, err := s.GetBookingContact(ctx, b.DraftID); err != nil || c != "" {
			t.Fatalf("contact after the cancel = %q, %v; want wiped", c, err)
		}
		if n := outboxLen(t, s); n != 3 {
			t.Fatalf("outbox holds %d, want the confirmation, the move and the cancel", n)
		}
	})
}

// TestStartedBookingsLoseTheirContact: once the appointment has started,
// its contact is wiped (no change, so no email, can follow); a booking yet
// to start, or with a change under way, keeps it.
func TestStartedBookingsLoseTheirContact(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		setClock(s, base)
		keep := func(b Booking) {
			t.Helper()
			if err := s.ClaimBooking(ctx, b, BookingPending); err != nil {
				t.Fatal(err)
			}
			b.Status, b.SealedContact = BookingBooked, "v1:contact-"+b.DraftID[:4]
			if err := s.UpdateBooking(ctx, b, testMessage(t, b)); err != nil {
				t.Fatal(err)
			}
		}
		past, future := testBooking(t), testBooking(t)
		future.PractitionerID = "prac-2"
		future.Start, future.End = slotStart.Add(48*time.Hour), slotStart.Add(49*time.Hour)
		keep(past)
		keep(future)
		if n, err := s.WipeStartedContacts(ctx, slotStart.Add(-time.Minute)); err != nil || n != 0 {
			t.Fatalf("before any start, WipeStartedContacts = %d, %v", n, err)
		}
		if n, err := s.WipeStartedContacts(ctx, slotStart); err != nil || n != 1 {
			t.Fatalf("at the first start, WipeStartedContacts = %d, %v; want 1", n, err)
		}
		if c, _ := s.GetBookingContact(ctx, past.DraftID); c != "" {
			t.Error("a started booking keeps its contact")
		}
		if c, _ := s.GetBookingContact(ctx, future.DraftID); c == "" {
			t.Error("a booking yet to start lost its contact")
		}
		// Cancelled by the clinic in coreplus: no email follows, so the
		// contact goes, as with the patient's own cancel.
		if ok, err := s.MarkCancelled(ctx, future.DraftID, BookingBooked, BookingCancelled); err != nil || !ok {
			t.Fatalf("MarkCancelled = %v, %v", ok, err)
		}
		if c, _ := s.GetBookingContact(ctx, future.DraftID); c != "" {
			t.Error("a booking the clinic cancelled keeps its contact")
		}
	})
}
