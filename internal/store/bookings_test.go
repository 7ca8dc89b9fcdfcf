package store

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// slotStart is the start every test booking competes for.
var slotStart = time.Date(2026, 3, 4, 9, 0, 0, 0, brisbane)

func testBooking(t *testing.T) Booking {
	t.Helper()
	id := testID(t)
	return Booking{
		DraftID:           id,
		Clinic:            "demo",
		PractitionerID:    "prac-1",
		LocationID:        "loc-1",
		AppointmentTypeID: "type-1",
		Start:             slotStart,
		End:               slotStart.Add(45 * time.Minute),
	}
}

func TestClaimBookingRoundTrip(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		setClock(s, base)
		b := testBooking(t)
		b.Status = BookingBooked // ignored: a claim always starts pending
		if err := s.ClaimBooking(ctx, b, BookingPending); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetBookingByDraft(ctx, b.DraftID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != BookingPending {
			t.Errorf("Status = %q, want pending", got.Status)
		}
		if got.Start.Format(time.RFC3339) != "2026-03-04T09:00:00+10:00" || !got.End.Equal(b.End) {
			t.Errorf("Start, End = %s, %s; want the offset kept", got.Start.Format(time.RFC3339), got.End)
		}
		if !got.CreatedAt.Equal(base) || !got.UpdatedAt.Equal(base) {
			t.Errorf("CreatedAt, UpdatedAt = %v, %v; want %v", got.CreatedAt, got.UpdatedAt, base)
		}
		if got.Clinic != b.Clinic || got.PractitionerID != b.PractitionerID || got.LocationID != b.LocationID ||
			got.AppointmentTypeID != b.AppointmentTypeID {
			t.Errorf("got %+v, want the ids of %+v", got, b)
		}
		if _, err := s.GetBookingByDraft(ctx, "ffffffffffffffffffffffffffffffff"); !errors.Is(err, ErrNotFound) {
			t.Errorf("missing booking: err = %v, want ErrNotFound", err)
		}
	})
}

func TestClaimBookingDuplicateDraft(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		b := testBooking(t)
		if err := s.ClaimBooking(ctx, b, BookingPending); err != nil {
			t.Fatal(err)
		}
		// A double submit of the same draft, same slot: both unique
		// constraints fire, and the patient must hear "already booked".
		if err := s.ClaimBooking(ctx, b, BookingPending); !errors.Is(err, ErrDuplicateDraft) {
			t.Errorf("same draft, same slot: err = %v, want ErrDuplicateDraft", err)
		}
		other := b
		other.Start = b.Start.Add(time.Hour)
		if err := s.ClaimBooking(ctx, other, BookingPending); !errors.Is(err, ErrDuplicateDraft) {
			t.Errorf("same draft, other slot: err = %v, want ErrDuplicateDraft", err)
		}
		// Even a failed booking keeps its draft from booking again.
		b.Status = BookingFailed
		if err := s.UpdateBooking(ctx, b); err != nil {
			t.Fatal(err)
		}
		if err := s.ClaimBooking(ctx, b, BookingPending); !errors.Is(err, ErrDuplicateDraft) {
			t.Errorf("after failure: err = %v, want ErrDuplicateDraft", err)
		}
	})
}

func TestClaimBookingSlotTaken(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		first := testBooking(t)
		if err := s.ClaimBooking(ctx, first, BookingPending); err != nil {
			t.Fatal(err)
		}

		rival := testBooking(t)
		if err := s.ClaimBooking(ctx, rival, BookingPending); !errors.Is(err, ErrSlotTaken) {
			t.Errorf("same practitioner and start: err = %v, want ErrSlotTaken", err)
		}
		// The same instant written in another offset is the same slot.
		rival.Start = slotStart.UTC()
		if err := s.ClaimBooking(ctx, rival, BookingPending); !errors.Is(err, ErrSlotTaken) {
			t.Errorf("same start in UTC: err = %v, want ErrSlotTaken", err)
		}
		for _, change := range []func(*Booking){
			func(b *Booking) { b.PractitionerID = "prac-2" },
			func(b *Booking) { b.Clinic = "other-clinic" },
			func(b *Booking) { b.Start = slotStart.Add(45 * time.Minute) },
		} {
			b := testBooking(t)
			change(&b)
			if err := s.ClaimBooking(ctx, b, BookingPending); err != nil {
				t.Errorf("ClaimBooking(%+v): %v", b, err)
			}
		}

		// The slot stays held through booked and unknown ...
		for _, status := range []string{BookingBooked, BookingUnknown} {
			first.Status = status
			if err := s.UpdateBooking(ctx, first); err != nil {
				t.Fatal(err)
			}
			if err := s.ClaimBooking(ctx, testBooking(t), BookingPending); !errors.Is(err, ErrSlotTaken) {
				t.Errorf("while %s: err = %v, want ErrSlotTaken", status, err)
			}
		}
		// ... and a failed or cancelled booking frees it.
		first.Status = BookingFailed
		if err := s.UpdateBooking(ctx, first); err != nil {
			t.Fatal(err)
		}
		second := testBooking(t)
		if err := s.ClaimBooking(ctx, second, BookingPending); err != nil {
			t.Fatalf("after the first failed: %v", err)
		}
		second.Status = BookingCancelled
		if err := s.UpdateBooking(ctx, second); err != nil {
			t.Fatal(err)
		}
		third := testBooking(t)
		if err := s.ClaimBooking(ctx, third, BookingPending); err != nil {
			t.Fatalf("after the second was cancelled: %v", err)
		}

		// Reviving the failed booking while the third holds the slot is refused.
		first.Status = BookingPending
		if err := s.UpdateBooking(ctx, first); !errors.Is(err, ErrSlotTaken) {
			t.Errorf("reviving a failed booking: err = %v, want ErrSlotTaken", err)
		}
	})
}

func TestClaimBookingConcurrent(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		const n = 20
		var (
			wg    sync.WaitGroup
			start = make(chan struct{})
			errs  = make([]error, n)
		)
		for i := range n {
			b := testBooking(t)
			wg.Go(func() {
				<-start
				errs[i] = s.ClaimBooking(ctx, b, BookingPending)
			})
		}
		close(start)
		wg.Wait()

		won := 0
		for i, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, ErrSlotTaken):
				t.Errorf("claim %d: %v, want nil or ErrSlotTaken", i, err)
			}
		}
		if won != 1 {
			t.Errorf("%d claims won the slot, want exactly 1", won)
		}
	})
}

func TestUpdateBooking(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		setClock(s, base)
		b := testBooking(t)
		if err := s.ClaimBooking(ctx, b, BookingPending); err != nil {
			t.Fatal(err)
		}
		later := base.Add(3 * time.Second)
		setClock(s, later)
		b.Status = BookingBooked
		b.AppointmentID = "e9a11c98-a77b-45e2-9c27-0dce5f7796e2"
		b.ReferenceNumber = "7712093"
		b.ClientID = "c5794d63-b1be-42f8-abb8-777b3d861467"
		b.ContactDiffers = true
		b.PractitionerID = "prac-9" // not something an update may change
		if err := s.UpdateBooking(ctx, b); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetBookingByDraft(ctx, b.DraftID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != BookingBooked || got.AppointmentID != b.AppointmentID ||
			got.ReferenceNumber != b.ReferenceNumber || got.ClientID != b.ClientID || !got.ContactDiffers {
			t.Errorf("got %+v, want coreplus's answer recorded", got)
		}
		if got.PractitionerID != "prac-1" {
			t.Errorf("PractitionerID = %q, want the claimed prac-1", got.PractitionerID)
		}
		if !got.CreatedAt.Equal(base) || !got.UpdatedAt.Equal(later) {
			t.Errorf("CreatedAt, UpdatedAt = %v, %v; want %v, %v", got.CreatedAt, got.UpdatedAt, base, later)
		}

		missing := testBooking(t)
		missing.Status = BookingBooked
		if err := s.UpdateBooking(ctx, missing); !errors.Is(err, ErrNotFound) {
			t.Errorf("missing booking: err = %v, want ErrNotFound", err)
		}
		b.Status = "lost"
		if err := s.UpdateBooking(ctx, b); err == nil || errors.Is(err, ErrSlotTaken) {
			t.Errorf("unknown status: err = %v, want a plain error", err)
		}
	})
}

func TestListBookingsByStatus(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		var unknown []string
		for i := range 5 {
			setClock(s, base.Add(time.Duration(i)*time.Minute))
			b := testBooking(t)
			b.Start = slotStart.Add(time.Duration(i) * time.Hour)
			if err := s.ClaimBooking(ctx, b, BookingPending); err != nil {
				t.Fatal(err)
			}
			if i%2 == 0 {
				b.Status = BookingUnknown
				if err := s.UpdateBooking(ctx, b); err != nil {
					t.Fatal(err)
				}
				unknown = append(unknown, b.DraftID)
			}
		}

		all, err := s.ListBookingsByStatus(ctx, BookingUnknown, 0)
		if err != nil {
			t.Fatal(err)
		}
		if got := draftIDs(all); !slices.Equal(got, unknown) {
			t.Errorf("unknown bookings = %v, want %v, oldest first", got, unknown)
		}
		two, err := s.ListBookingsByStatus(ctx, BookingUnknown, 2)
		if err != nil {
			t.Fatal(err)
		}
		if got := draftIDs(two); !slices.Equal(got, unknown[:2]) {
			t.Errorf("first two = %v, want %v", got, unknown[:2])
		}
		none, err := s.ListBookingsByStatus(ctx, BookingCancelled, 10)
		if err != nil || len(none) != 0 {
			t.Errorf("cancelled bookings = %v, %v; want none", none, err)
		}
	})
}

func draftIDs(list []Booking) []string {
	ids := make([]string, 0, len(list))
	for _, b := range list {
		ids = append(ids, b.DraftID)
	}
	return ids
}

// TestSettleBookingNeverOverwritesASettledOne: of two replicas settling the
// same booking, the second changes nothing.
func TestSettleBookingNeverOverwritesASettledOne(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		setClock(s, base)
		d := testDraft(t, "demo", base.Add(time.Hour))
		if err := s.CreateDraft(ctx, d); err != nil {
			t.Fatal(err)
		}
		b := Booking{DraftID: d.ID, Clinic: "demo", PractitionerID: "prac-1", ClientID: "c-1", Start: d.SlotStart, End: d.SlotEnd}
		if err := s.ClaimBooking(ctx, b, BookingPending); err != nil {
			t.Fatal(err)
		}
		booked := b
		booked.Status, booked.AppointmentID, booked.ReferenceNumber = BookingBooked, "appt-1", "R1"
		if ok, err := s.SettleBooking(ctx, booked, []string{BookingPending, BookingUnknown}); err != nil || !ok {
			t.Fatalf("SettleBooking(booked) = %v, %v; want true", ok, err)
		}
		failed := b
		failed.Status = BookingFailed
		if ok, err := s.SettleBooking(ctx, failed, []string{BookingPending, BookingUnknown}); err != nil || ok {
			t.Fatalf("SettleBooking(failed) after booked = %v, %v; want false", ok, err)
		}
		got, err := s.GetBookingByDraft(ctx, d.ID)
		if err != nil || got.Status != BookingBooked || got.AppointmentID != "appt-1" {
			t.Errorf("booking %+v, %v; want booked with appt-1", got, err)
		}
	})
}

// TestReleaseClaim: a claim never sent (pending, no client id) is given up,
// freeing its slot and letting its draft claim again; anything that may have
// been sent is kept.
func TestReleaseClaim(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		setClock(s, base)
		claim := testBooking(t)
		if err := s.ClaimBooking(ctx, claim, BookingPending); err != nil {
			t.Fatal(err)
		}
		if ok, err := s.ReleaseClaim(ctx, claim.DraftID, BookingPending, base.Add(-time.Second)); err != nil || ok {
			t.Errorf("released a claim updated after it was seen: %v, %v", ok, err)
		}
		if ok, err := s.ReleaseClaim(ctx, claim.DraftID, BookingPending, base); err != nil || !ok {
			t.Fatalf("release as seen: %v, %v; want released", ok, err)
		}
		if _, err := s.GetBookingByDraft(ctx, claim.DraftID); !errors.Is(err, ErrNotFound) {
			t.Errorf("released claim still there: %v", err)
		}
		if ok, err := s.ReleaseClaim(ctx, claim.DraftID, BookingPending, time.Time{}); err != nil || ok {
			t.Errorf("released twice: %v, %v", ok, err)
		}
		rival := testBooking(t)
		if err := s.ClaimBooking(ctx, rival, BookingPending); err != nil {
			t.Fatalf("slot not free after the release: %v", err)
		}
		if err := s.ClaimBooking(ctx, claim, BookingPending); !errors.Is(err, ErrSlotTaken) {
			t.Errorf("the draft claims again: err = %v, want ErrSlotTaken (its own claim is gone)", err)
		}

		// Named a client, so it may be sent: kept, whoever asks.
		if err := s.UpdateBooking(ctx, Booking{DraftID: rival.DraftID, Status: BookingPending, ClientID: "client-1"}); err != nil {
			t.Fatal(err)
		}
		if ok, err := s.ReleaseClaim(ctx, rival.DraftID, BookingPending, time.Time{}); err != nil || ok {
			t.Errorf("released a claim with a client id: %v, %v", ok, err)
		}
		// Not in the claimed status: kept.
		other := testBooking(t)
		other.Start = slotStart.Add(time.Hour)
		if err := s.ClaimBooking(ctx, other, BookingPending); err != nil {
			t.Fatal(err)
		}
		if err := s.UpdateBooking(ctx, Booking{DraftID: other.DraftID, Status: BookingUnknown}); err != nil {
			t.Fatal(err)
		}
		if ok, err := s.ReleaseClaim(ctx, other.DraftID, BookingPending, time.Time{}); err != nil || ok {
			t.Errorf("released an unknown booking: %v, %v", ok, err)
		}
	})
}
