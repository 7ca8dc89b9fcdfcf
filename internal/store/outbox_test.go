package store

import (
	"context"
	"sync"
	"testing"
	"time"
)

func testMessage(t *testing.T, b Booking) OutboxMessage {
	return OutboxMessage{ID: testID(t), Kind: "confirmed", Clinic: b.Clinic, DraftID: b.DraftID, Sealed: "v1:sealed"}
}

func outboxLen(t *testing.T, s *Store) int {
	t.Helper()
	list, err := s.ListOutbox(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return len(list)
}

// TestOutboxQueuedWithTheBookingsStatus: a message is queued in the same
// transaction as the status that makes it due, once however often that
// status is recorded, and not at all when the change fails.
func TestOutboxQueuedWithTheBookingsStatus(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		setClock(s, base)
		b := testBooking(t)
		if err := s.ClaimBooking(ctx, b, BookingPending); err != nil {
			t.Fatal(err)
		}
		// A queue insert that fails takes the status change with it.
		b.Status = BookingBooked
		bad := testMessage(t, b)
		bad.Sealed = ""
		if err := s.UpdateBooking(ctx, b, bad); err == nil {
			t.Fatal("an unqueueable message was accepted")
		}
		if got, _ := s.GetBookingByDraft(ctx, b.DraftID); got.Status != BookingPending || outboxLen(t, s) != 0 {
			t.Fatalf("status %s and %d queued after a failed change, want pending and none", got.Status, outboxLen(t, s))
		}
		if err := s.UpdateBooking(ctx, b, testMessage(t, b)); err != nil {
			t.Fatal(err)
		}
		if err := s.UpdateBooking(ctx, b, testMessage(t, b)); err != nil { // recorded again
			t.Fatal(err)
		}
		if n := outboxLen(t, s); n != 1 {
			t.Errorf("%d messages queued, want 1", n)
		}
		// A settle that loses (already settled) queues nothing.
		if won, err := s.SettleBooking(ctx, b, []string{BookingPending, BookingUnknown}, testMessage(t, b)); err != nil || won {
			t.Fatalf("settle of a booked booking: won %v, %v", won, err)
		}
		if n := outboxLen(t, s); n != 1 {
			t.Errorf("%d messages queued after a lost settle, want 1", n)
		}
		other := testBooking(t)
		other.Start = other.Start.Add(time.Hour)
		if err := s.ClaimBooking(ctx, other, BookingUnknown); err != nil {
			t.Fatal(err)
		}
		other.Status = BookingBooked
		if won, err := s.SettleBooking(ctx, other, []string{BookingPending, BookingUnknown}, testMessage(t, other)); err != nil || !won {
			t.Fatalf("settle: won %v, %v", won, err)
		}
		if n := outboxLen(t, s); n != 2 {
			t.Errorf("%d messages queued after a won settle, want 2", n)
		}
	})
}

// TestOutboxClaimIsExclusiveAndLeased: of many workers claiming at once
// exactly one gets the message; nobody else gets it while the lease holds;
// after it, the next claim does, with one more try; a retry waits.
func TestOutboxClaimIsExclusiveAndLeased(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		setClock(s, base)
		b := testBooking(t)
		if err := s.ClaimBooking(ctx, b, BookingPending); err != nil {
			t.Fatal(err)
		}
		b.Status = BookingBooked
		m := testMessage(t, b)
		if err := s.UpdateBooking(ctx, b, m); err != nil {
			t.Fatal(err)
		}
		const lease = 2 * time.Minute
		var (
			wg  sync.WaitGroup
			mu  sync.Mutex
			won int
		)
		for range 8 {
			wg.Go(func() {
				_, ok, err := s.ClaimOutbox(ctx, base, lease)
				if err != nil {
					t.Error(err)
				}
				if ok {
					mu.Lock()
					won++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if won != 1 {
			t.Fatalf("%d workers claimed the one message, want 1", won)
		}
		if _, ok, _ := s.ClaimOutbox(ctx, base.Add(lease-time.Second), lease); ok {
			t.Error("claimed again inside the lease")
		}
		got, ok, err := s.ClaimOutbox(ctx, base.Add(lease), lease)
		if err != nil || !ok || got.ID != m.ID || got.Tries != 2 || got.Sealed != m.Sealed || got.DraftID != b.DraftID {
			t.Fatalf("claim after the lease: %+v %v %v", got, ok, err)
		}
		due := base.Add(time.Hour)
		if held, err := s.RetryOutbox(ctx, m.ID, got.Tries, due); err != nil || !held {
			t.Fatalf("retry: %v, %v", held, err)
		}
		if _, ok, _ := s.ClaimOutbox(ctx, due.Add(-time.Second), lease); ok {
			t.Error("claimed before its retry was due")
		}
		last, ok, _ := s.ClaimOutbox(ctx, due, lease)
		if !ok {
			t.Fatal("not claimed when its retry was due")
		}
		if held, err := s.DeleteOutbox(ctx, m.ID, last.Tries); err != nil || !held || outboxLen(t, s) != 0 {
			t.Errorf("delete: %v, %v, %d left", held, err, outboxLen(t, s))
		}
	})
}

// TestOutboxChangesNeedTheLatestClaim: a worker whose lease ran out, and
// whose message another worker then claimed, can neither delete the
// message nor reschedule it: the other worker's claim stands, and its own
// delete works.
func TestOutboxChangesNeedTheLatestClaim(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		setClock(s, base)
		b := testBooking(t)
		if err := s.ClaimBooking(ctx, b, BookingPending); err != nil {
			t.Fatal(err)
		}
		b.Status = BookingBooked
		m := testMessage(t, b)
		if err := s.UpdateBooking(ctx, b, m); err != nil {
			t.Fatal(err)
		}
		const lease = 2 * time.Minute
		slow, ok, err := s.ClaimOutbox(ctx, base, lease)
		if err != nil || !ok {
			t.Fatalf("first claim: %v %v", ok, err)
		}
		next, ok, err := s.ClaimOutbox(ctx, base.Add(lease), lease)
		if err != nil || !ok || next.ID != slow.ID {
			t.Fatalf("claim after the lease: %v %v", ok, err)
		}

		if held, err := s.RetryOutbox(ctx, m.ID, slow.Tries, base); err != nil || held {
			t.Errorf("the slow worker's retry: held %v, %v; want not held", held, err)
		}
		if _, ok, _ := s.ClaimOutbox(ctx, base.Add(lease+time.Second), lease); ok {
			t.Error("the slow worker's retry released the message another worker holds")
		}
		if held, err := s.DeleteOutbox(ctx, m.ID, slow.Tries); err != nil || held || outboxLen(t, s) != 1 {
			t.Errorf("the slow worker's delete: held %v, %v, %d left; want not held, 1 left", held, err, outboxLen(t, s))
		}
		if held, err := s.DeleteOutbox(ctx, m.ID, next.Tries); err != nil || !held || outboxLen(t, s) != 0 {
			t.Errorf("the holder's delete: held %v, %v, %d left", held, err, outboxLen(t, s))
		}
	})
}
