package bookingstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/internal/booking/bookingstore"
	"github.com/clinic-booking/portal/internal/clinics"
)

// TestOutboxSealsWhatItHoldsOfThePatient: the address and first name are
// sealed at rest and open with the portal's keys only; with no keys (no
// mail) nothing is queued.
func TestOutboxSealsWhatItHoldsOfThePatient(t *testing.T) {
	keys, err := clinics.ParseKeyring(strings.Repeat("ab", 32))
	if err != nil {
		t.Fatal(err)
	}
	otherKeys, _ := clinics.ParseKeyring(strings.Repeat("ef", 32))
	forEachAdapter(t, func(t *testing.T, plain bookingstore.Adapter) {
		ctx := context.Background()
		a := plain.WithOutbox(keys)
		book := func(a bookingstore.Adapter, hour int) booking.Record {
			d := testDraft(t, booking.DraftBooking, base.Add(time.Hour))
			if err := a.CreateDraft(ctx, d); err != nil {
				t.Fatal(err)
			}
			rec := booking.Record{DraftID: d.ID, Clinic: "demo", PractitionerID: "prac-1", ClientID: "client-1",
				Start: d.SlotStart.Add(time.Duration(hour) * time.Hour), End: d.SlotEnd.Add(time.Duration(hour) * time.Hour)}
			if err := a.ClaimBooking(ctx, rec); err != nil {
				t.Fatal(err)
			}
			rec.Status = booking.RecordBooked
			msg := booking.Message{Kind: booking.MessageConfirmed, Clinic: "demo", DraftID: d.ID, To: "sealed.pat@example.com", FirstName: "Sealina"}
			if err := a.UpdateBooking(ctx, rec, msg); err != nil {
				t.Fatal(err)
			}
			return rec
		}

		book(plain, 0) // no keys: the portal sends no mail
		if list, _ := a.S.ListOutbox(ctx); len(list) != 0 {
			t.Fatalf("%d messages queued with mail off", len(list))
		}
		rec := book(a, 1)
		list, err := a.S.ListOutbox(ctx)
		if err != nil || len(list) != 1 {
			t.Fatalf("outbox: %d, %v", len(list), err)
		}
		if strings.Contains(list[0].Sealed, "sealed.pat") || strings.Contains(list[0].Sealed, "Sealina") {
			t.Errorf("the outbox holds the patient in the clear: %s", list[0].Sealed)
		}

		// Keys that did not seal it do not open it: the worker is told.
		if _, ok, err := a.WithOutbox(otherKeys).ClaimMessage(ctx, time.Now(), time.Minute); !ok || err == nil {
			t.Fatalf("opened with the wrong keys: %v %v", ok, err)
		}
		if held, err := a.RetryMessage(ctx, list[0].ID, 1, time.Now()); err != nil || !held {
			t.Fatalf("retry: %v, %v", held, err)
		}
		q, ok, err := a.ClaimMessage(ctx, time.Now(), time.Minute)
		if err != nil || !ok {
			t.Fatalf("claim: %v %v", ok, err)
		}
		if q.To != "sealed.pat@example.com" || q.FirstName != "Sealina" || q.Kind != booking.MessageConfirmed ||
			q.DraftID != rec.DraftID || q.Clinic != "demo" || q.Tries != 2 {
			t.Errorf("claimed %+v", q)
		}
		if held, err := a.DeleteMessage(ctx, q.ID, q.Tries); err != nil || !held {
			t.Fatalf("delete: %v, %v", held, err)
		}
	})
}

// TestChangesAddressTheirMessageFromTheBooking: the confirmation keeps the
// patient's contact on the booking, sealed (bound to it); a move's and a
// cancel's messages are addressed from it. A contact that does not open
// (the key gone) still lets the change be recorded, with no message and
// ErrNotAddressed.
func TestChangesAddressTheirMessageFromTheBooking(t *testing.T) {
	keys, err := clinics.ParseKeyring(strings.Repeat("ab", 32))
	if err != nil {
		t.Fatal(err)
	}
	otherKeys, _ := clinics.ParseKeyring(strings.Repeat("ef", 32))
	forEachAdapter(t, func(t *testing.T, plain bookingstore.Adapter) {
		ctx := context.Background()
		a := plain.WithOutbox(keys)
		d := testDraft(t, booking.DraftBooking, base.Add(time.Hour))
		if err := a.CreateDraft(ctx, d); err != nil {
			t.Fatal(err)
		}
		rec := booking.Record{DraftID: d.ID, Clinic: "demo", PractitionerID: "prac-1", ClientID: "client-1", Start: d.SlotStart, End: d.SlotEnd}
		if err := a.ClaimBooking(ctx, rec); err != nil {
			t.Fatal(err)
		}
		rec.Status = booking.RecordBooked
		confirmed := booking.Message{Kind: booking.MessageConfirmed, Clinic: "demo", DraftID: d.ID, To: "kept.pat@example.com", FirstName: "Keptina"}
		if err := a.UpdateBooking(ctx, rec, confirmed); err != nil {
			t.Fatal(err)
		}
		sealed, err := a.S.GetBookingContact(ctx, d.ID)
		if err != nil || sealed == "" || strings.Contains(sealed, "kept.pat") || strings.Contains(sealed, "Keptina") {
			t.Fatalf("contact kept on the booking: %q, %v; want it sealed", sealed, err)
		}
		claim := func() booking.QueuedMessage {
			t.Helper()
			m, ok, err := a.ClaimMessage(ctx, time.Now().Add(time.Hour), time.Minute)
			if err != nil || !ok {
				t.Fatalf("claim: %v %v", ok, err)
			}
			if held, err := a.DeleteMessage(ctx, m.ID, m.Tries); err != nil || !held {
				t.Fatalf("delete: %v, %v", held, err)
			}
			return m
		}
		claim() // the confirmation

		later := d.SlotStart.Add(24 * time.Hour)
		if won, err := a.BeginMove(ctx, d.ID, "prac-1", d.SlotStart, "prac-1", later, later.Add(time.Hour)); err != nil || !won {
			t.Fatalf("BeginMove = %v, %v", won, err)
		}
		moved := booking.Message{Kind: booking.MessageMoved, Clinic: "demo", DraftID: d.ID}
		if ok, err := a.FinishMove(ctx, d.ID, moved); err != nil || !ok {
			t.Fatalf("FinishMove = %v, %v", ok, err)
		}
		if m := claim(); m.Kind != booking.MessageMoved || m.To != "kept.pat@example.com" || m.FirstName != "Keptina" || m.Sequence != 1 {
			t.Fatalf("moved message: %+v", m.Message)
		}

		// The key that sealed the contact is gone: the cancel is recorded
		// all the same, with no message.
		if won, err := a.BeginCancel(ctx, d.ID); err != nil || !won {
			t.Fatalf("BeginCancel = %v, %v", won, err)
		}
		cancelled := booking.Message{Kind: booking.MessageCancelled, Clinic: "demo", DraftID: d.ID}
		if ok, err := plain.WithOutbox(otherKeys).FinishCancel(ctx, d.ID, cancelled); !ok || !errors.Is(err, booking.ErrNotAddressed) {
			t.Fatalf("FinishCancel with the contact's key gone = %v, %v; want recorded, ErrNotAddressed", ok, err)
		}
		if got, _ := a.GetBookingByDraft(ctx, d.ID); got.Status != booking.RecordCancelled {
			t.Fatalf("booking after the cancel: %s", got.Status)
		}
		if list, _ := a.S.ListOutbox(ctx); len(list) != 0 {
			t.Fatalf("%d message(s) queued with no address", len(list))
		}
	})
}
