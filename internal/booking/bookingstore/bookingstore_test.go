package bookingstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/internal/booking/bookingstore"
	"github.com/clinic-booking/portal/internal/store"
	"github.com/clinic-booking/portal/internal/store/storetest"
)

// base is a fixed instant so expiry tests do not depend on the wall clock.
var base = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

// brisbane is a fixed +10:00 zone like the offsets coreplus sends.
var brisbane = time.FixedZone("", 10*60*60)

// forEachAdapter runs fn with an adapter over a fresh store of each dialect.
func forEachAdapter(t *testing.T, fn func(t *testing.T, a bookingstore.Adapter)) {
	t.Helper()
	storetest.ForEachDatabase(t, func(t *testing.T, databaseURL string) {
		s, err := store.Open(context.Background(), databaseURL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		fn(t, bookingstore.New(s))
	})
}

func testDraft(t *testing.T, status booking.DraftStatus, expires time.Time) booking.Draft {
	t.Helper()
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		t.Fatal(err)
	}
	return booking.Draft{
		ID: hex.EncodeToString(id[:]), Clinic: "demo", LocationID: "loc-1", ServiceID: "type-1",
		SlotStart:          time.Date(2026, 3, 4, 9, 0, 0, 0, brisbane),
		SlotEnd:            time.Date(2026, 3, 4, 9, 45, 0, 0, brisbane),
		SlotPractitionerID: "prac-1",
		Details: booking.Details{
			FirstName: "Jo", LastName: "Citizen", DateOfBirth: time.Date(1950, 7, 1, 0, 0, 0, 0, time.UTC),
			Email: "jo@example.com", Mobile: "0400 000 000", Note: "left knee", Consent: true,
		},
		Status: status, ExpiresAt: expires,
	}
}

// stored is the draft as the store keeps it, expired or not: whether it is
// there, and whether it still holds details.
func stored(t *testing.T, a bookingstore.Adapter, id string) (kept, details bool, status string) {
	t.Helper()
	d, err := a.S.GetDraft(context.Background(), id)
	if errors.Is(err, store.ErrNotFound) {
		return false, false, ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return true, d.Details != (store.PatientDetails{}), d.Status
}

func TestGetDraftExpiry(t *testing.T) {
	forEachAdapter(t, func(t *testing.T, a bookingstore.Adapter) {
		ctx := context.Background()
		expires := base.Add(30 * time.Minute)

		if _, err := a.GetDraft(ctx, "0123456789abcdef0123456789abcdef", base); !errors.Is(err, booking.ErrDraftNotFound) {
			t.Errorf("missing draft: err = %v, want ErrDraftNotFound", err)
		}

		byStatus := map[booking.DraftStatus]booking.Draft{}
		for _, status := range booking.DraftStatuses() {
			d := testDraft(t, status, expires)
			if err := a.CreateDraft(ctx, d); err != nil {
				t.Fatal(err)
			}
			byStatus[status] = d
		}

		for status, d := range byStatus {
			got, err := a.GetDraft(ctx, d.ID, expires.Add(-time.Second))
			if err != nil {
				t.Errorf("%s draft before expiry: %v", status, err)
			} else if got.Details != d.Details {
				t.Errorf("%s draft before expiry: details %+v, want %+v", status, got.Details, d.Details)
			}
		}

		// At the expiry instant an abandoned draft is gone; a draft whose
		// submit started stays readable.
		for _, status := range []booking.DraftStatus{booking.DraftOpen, booking.DraftFailed} {
			if _, err := a.GetDraft(ctx, byStatus[status].ID, expires); !errors.Is(err, booking.ErrDraftNotFound) {
				t.Errorf("expired %s draft: err = %v, want ErrDraftNotFound", status, err)
			}
		}
		for _, status := range []booking.DraftStatus{booking.DraftBooking, booking.DraftUnknown} {
			got, err := a.GetDraft(ctx, byStatus[status].ID, expires)
			if err != nil {
				t.Errorf("expired %s draft: %v", status, err)
			} else if got.Details != byStatus[status].Details {
				t.Errorf("expired %s draft lost its details: %+v", status, got.Details)
			}
		}
		got, err := a.GetDraft(ctx, byStatus[booking.DraftBooked].ID, expires)
		if err != nil {
			t.Fatalf("expired booked draft: %v", err)
		}
		if got.Details != (booking.Details{}) {
			t.Errorf("expired booked draft still shows details %+v", got.Details)
		}
		if got.Status != booking.DraftBooked || got.SlotPractitionerID != "prac-1" {
			t.Errorf("expired booked draft = %+v, want its status and choices", got)
		}
	})
}

func TestDeleteExpiredDrafts(t *testing.T) {
	forEachAdapter(t, func(t *testing.T, a bookingstore.Adapter) {
		ctx := context.Background()
		now := base.Add(time.Hour)
		type row struct {
			status      booking.DraftStatus
			expired     bool
			wantKept    bool
			wantDetails bool
		}
		rows := []row{
			{booking.DraftOpen, true, false, false},
			{booking.DraftFailed, true, false, false},
			{booking.DraftBooked, true, true, false}, // kept, details wiped
			{booking.DraftBooking, true, true, true}, // outcome not settled yet
			{booking.DraftUnknown, true, true, true},
			{booking.DraftOpen, false, true, true},
			{booking.DraftFailed, false, true, true},
			{booking.DraftBooked, false, true, true},
		}
		ids := make([]string, len(rows))
		for i, r := range rows {
			expires := now.Add(time.Minute)
			if r.expired {
				expires = now // expired at exactly now counts
			}
			d := testDraft(t, r.status, expires)
			if err := a.CreateDraft(ctx, d); err != nil {
				t.Fatal(err)
			}
			ids[i] = d.ID
		}

		n, err := a.DeleteExpiredDrafts(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		if n != 3 {
			t.Errorf("DeleteExpiredDrafts = %d, want 3 (2 deleted, 1 wiped)", n)
		}
		for i, r := range rows {
			kept, details, _ := stored(t, a, ids[i])
			if kept != r.wantKept || (kept && details != r.wantDetails) {
				t.Errorf("%s draft (expired %v): kept %v with details %v; want kept %v with details %v",
					r.status, r.expired, kept, details, r.wantKept, r.wantDetails)
			}
		}

		if n, err := a.DeleteExpiredDrafts(ctx, now); err != nil || n != 0 {
			t.Errorf("second DeleteExpiredDrafts = %d, %v; want 0", n, err)
		}
	})
}

// TestSettledBookingsLeaveNoDetailsBehind: a draft left in booking or
// unknown after its booking record was settled (a status write that
// failed) is wiped once expired, and AlignDraftStatuses brings its status
// in line with the record.
func TestSettledBookingsLeaveNoDetailsBehind(t *testing.T) {
	forEachAdapter(t, func(t *testing.T, a bookingstore.Adapter) {
		ctx := context.Background()
		now := base.Add(time.Hour)
		rows := []struct {
			draft       booking.DraftStatus
			record      booking.RecordStatus
			wantDetails bool
			wantStatus  booking.DraftStatus
		}{
			{booking.DraftBooking, booking.RecordBooked, false, booking.DraftBooked},
			{booking.DraftUnknown, booking.RecordBooked, false, booking.DraftBooked},
			{booking.DraftBooking, booking.RecordFailed, false, booking.DraftFailed},
			{booking.DraftUnknown, booking.RecordFailed, false, booking.DraftFailed},
			{booking.DraftUnknown, booking.RecordCancelled, false, booking.DraftFailed},
			{booking.DraftUnknown, booking.RecordUnknown, true, booking.DraftUnknown},
			{booking.DraftBooking, booking.RecordPending, true, booking.DraftBooking},
		}
		ids := make([]string, len(rows))
		for i, r := range rows {
			d := testDraft(t, r.draft, now)
			if err := a.CreateDraft(ctx, d); err != nil {
				t.Fatal(err)
			}
			rec := booking.Record{DraftID: d.ID, Clinic: "demo", PractitionerID: "prac-1", ClientID: "client-1",
				Start: d.SlotStart.Add(time.Duration(i) * time.Hour), End: d.SlotEnd.Add(time.Duration(i) * time.Hour)}
			if err := a.ClaimBooking(ctx, rec); err != nil {
				t.Fatal(err)
			}
			rec.Status = r.record
			if err := a.UpdateBooking(ctx, rec); err != nil {
				t.Fatal(err)
			}
			ids[i] = d.ID
		}

		if n, err := a.DeleteExpiredDrafts(ctx, now); err != nil || n != 5 {
			t.Errorf("DeleteExpiredDrafts = %d, %v; want 5 wiped", n, err)
		}
		if n, err := a.AlignDraftStatuses(ctx); err != nil || n != 5 {
			t.Errorf("AlignDraftStatuses = %d, %v; want 5", n, err)
		}
		for i, r := range rows {
			_, details, status := stored(t, a, ids[i])
			if details != r.wantDetails || status != string(r.wantStatus) {
				t.Errorf("%s draft with a %s booking: details %v, status %s; want details %v, status %s",
					r.draft, r.record, details, status, r.wantDetails, r.wantStatus)
			}
		}
		if n, err := a.AlignDraftStatuses(ctx); err != nil || n != 0 {
			t.Errorf("second AlignDraftStatuses = %d, %v; want 0", n, err)
		}
	})
}

// TestRecordStatusesHoldSlotsAsTheSchemaDoes: every record status can be
// stored, and another draft can claim the same practitioner and start, and
// HeldSlots leaves the first record out, exactly when RecordStatus.HoldsSlot
// says the first record lets it go.
func TestRecordStatusesHoldSlotsAsTheSchemaDoes(t *testing.T) {
	forEachAdapter(t, func(t *testing.T, a bookingstore.Adapter) {
		ctx := context.Background()
		for i, status := range booking.RecordStatuses() {
			start := time.Date(2026, 3, 4, 9+i, 0, 0, 0, brisbane)
			first := booking.Record{
				DraftID: testDraft(t, booking.DraftBooking, base).ID, Clinic: "demo", PractitionerID: "prac-1",
				LocationID: "loc-1", ServiceID: "type-1", Start: start, End: start.Add(45 * time.Minute),
			}
			if err := a.ClaimBooking(ctx, first); err != nil {
				t.Fatalf("%s: claim: %v", status, err)
			}
			first.Status = status
			if err := a.UpdateBooking(ctx, first); err != nil {
				t.Fatalf("%s: the store refused the status: %v", status, err)
			}
			if got, err := a.GetBookingByDraft(ctx, first.DraftID); err != nil || got.Status != status {
				t.Fatalf("%s: read back %q, %v", status, got.Status, err)
			}
			held, err := a.HeldSlots(ctx, "demo", start, start.Add(time.Second))
			if err != nil {
				t.Fatalf("%s: held slots: %v", status, err)
			}
			if listed := len(held) == 1 && held[0].DraftID == first.DraftID && held[0].Start.Equal(start); listed != status.HoldsSlot() {
				t.Errorf("%s: HeldSlots listed %+v; HoldsSlot says %v", status, held, status.HoldsSlot())
			}
			second := first
			second.DraftID = testDraft(t, booking.DraftBooking, base).ID
			err = a.ClaimBooking(ctx, second)
			switch held := errors.Is(err, booking.ErrSlotClaimed); {
			case held != status.HoldsSlot():
				t.Errorf("%s: another draft's claim answered %v; HoldsSlot says %v", status, err, status.HoldsSlot())
			case !held && err != nil:
				t.Errorf("%s: another draft's claim: %v", status, err)
			}
		}
	})
}

// TestRetryDraft: only a failed draft gets a copy to try again, open
// whatever the copy said, read back as the failed draft's RetriedAs; errors
// come back as booking's.
func TestRetryDraft(t *testing.T) {
	forEachAdapter(t, func(t *testing.T, a bookingstore.Adapter) {
		ctx := context.Background()
		failed := testDraft(t, booking.DraftFailed, base.Add(time.Hour))
		if err := a.CreateDraft(ctx, failed); err != nil {
			t.Fatal(err)
		}
		next := testDraft(t, booking.DraftFailed, base.Add(2*time.Hour))
		next.RetriedAs = "ffffffffffffffffffffffffffffffff"
		id, err := a.RetryDraft(ctx, failed.ID, next)
		if err != nil || id != next.ID {
			t.Fatalf("RetryDraft = %q, %v; want %q", id, err, next.ID)
		}
		if got, err := a.GetDraft(ctx, failed.ID, base); err != nil || got.RetriedAs != next.ID {
			t.Errorf("failed draft retried as %q, %v; want %q", got.RetriedAs, err, next.ID)
		}
		got, err := a.GetDraft(ctx, next.ID, base)
		if err != nil || got.Status != booking.DraftOpen || got.RetriedAs != "" || got.Details != failed.Details {
			t.Errorf("copy %+v, %v; want open, not retried, the same details", got, err)
		}
		if _, err := a.RetryDraft(ctx, next.ID, testDraft(t, booking.DraftOpen, base.Add(time.Hour))); !errors.Is(err, booking.ErrDraftNotOpen) {
			t.Errorf("retry of an open draft: err = %v, want ErrDraftNotOpen", err)
		}
		if _, err := a.RetryDraft(ctx, "0123456789abcdef0123456789abcdef", next); !errors.Is(err, booking.ErrDraftNotFound) {
			t.Errorf("retry of a missing draft: err = %v, want ErrDraftNotFound", err)
		}
	})
}
