package store

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// base is a fixed instant so expiry tests do not depend on the wall clock.
var base = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

// brisbane is a fixed +10:00 zone like the offsets coreplus sends.
var brisbane = time.FixedZone("", 10*60*60)

func testDraft(t *testing.T, clinic string, expires time.Time) Draft {
	t.Helper()
	id := testID(t)
	return Draft{
		ID:                 id,
		Clinic:             clinic,
		LocationID:         "loc-1",
		AppointmentTypeID:  "type-1",
		PractitionerID:     "",
		SlotStart:          time.Date(2026, 3, 4, 9, 0, 0, 0, brisbane),
		SlotEnd:            time.Date(2026, 3, 4, 9, 45, 0, 0, brisbane),
		SlotPractitionerID: "prac-1",
		Details: PatientDetails{
			FirstName: "Jo", LastName: "Citizen", DateOfBirth: "1950-07-01",
			Email: "jo@example.com", Mobile: "0400 000 000", Note: "left knee", Consent: true,
		},
		Status:    DraftOpen,
		ExpiresAt: expires,
	}
}

func TestDraftRoundTrip(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		setClock(s, base)
		want := testDraft(t, "demo", base.Add(time.Hour))
		if err := s.CreateDraft(ctx, want); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetDraft(ctx, want.ID)
		if err != nil {
			t.Fatal(err)
		}
		want.Status = DraftOpen
		want.CreatedAt, want.UpdatedAt = base, base
		assertDraft(t, got, want)
		// The clinic's offset survives, not just the instant.
		if got.SlotStart.Format(time.RFC3339) != "2026-03-04T09:00:00+10:00" {
			t.Errorf("SlotStart = %s, want the +10:00 offset kept", got.SlotStart.Format(time.RFC3339))
		}

		if err := s.CreateDraft(ctx, want); err == nil {
			t.Error("CreateDraft with an existing id succeeded")
		}
		if err := s.CreateDraft(ctx, Draft{ID: "x", Clinic: "demo"}); err == nil {
			t.Error("CreateDraft with no expiry succeeded")
		}
	})
}

func TestUpdateDraft(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		setClock(s, base)
		d := testDraft(t, "demo", base.Add(time.Hour))
		if err := s.CreateDraft(ctx, d); err != nil {
			t.Fatal(err)
		}

		later := base.Add(10 * time.Minute)
		setClock(s, later)
		d.PractitionerID = "prac-2"
		d.SlotPractitionerID = "prac-2"
		d.SlotStart = time.Date(2026, 3, 5, 14, 30, 0, 0, brisbane)
		d.SlotEnd = d.SlotStart.Add(45 * time.Minute)
		d.Details.Note = "right knee, actually"
		d.Details.Consent = false
		d.ExpiresAt = later.Add(time.Hour)
		d.CreatedAt = time.Time{} // a caller cannot move created_at
		if err := s.UpdateDraft(ctx, d, DraftOpen); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetDraft(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := d
		want.Status = DraftOpen
		want.CreatedAt, want.UpdatedAt = base, later
		assertDraft(t, got, want)

		// A zero ExpiresAt keeps the stored expiry.
		got.ExpiresAt = time.Time{}
		if err := s.UpdateDraft(ctx, got, DraftOpen); err != nil {
			t.Fatal(err)
		}
		if again, err := s.GetDraft(ctx, d.ID); err != nil {
			t.Fatal(err)
		} else if !again.ExpiresAt.Equal(later.Add(time.Hour)) {
			t.Errorf("ExpiresAt = %v, want it kept at %v", again.ExpiresAt, later.Add(time.Hour))
		}

		// Once a submit has started, what was sent stays what is stored.
		if ok, err := s.SetDraftStatus(ctx, d.ID, DraftOpen, DraftBooking); err != nil || !ok {
			t.Fatalf("SetDraftStatus = %v, %v", ok, err)
		}
		d.Details.Email = "someone-else@example.com"
		if err := s.UpdateDraft(ctx, d, DraftOpen); !errors.Is(err, ErrDraftNotOpen) {
			t.Errorf("UpdateDraft while booking: err = %v, want ErrDraftNotOpen", err)
		}
		if got, _ := s.GetDraft(ctx, d.ID); got.Details.Email != "jo@example.com" {
			t.Errorf("details changed while booking: email %q", got.Details.Email)
		}

		missing := d
		missing.ID = "ffffffffffffffffffffffffffffffff"
		if err := s.UpdateDraft(ctx, missing, DraftOpen); !errors.Is(err, ErrNotFound) {
			t.Errorf("UpdateDraft of a missing draft: err = %v, want ErrNotFound", err)
		}
	})
}

func TestSetDraftStatusCompareAndSet(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		d := testDraft(t, "demo", time.Now().Add(time.Hour))
		if err := s.CreateDraft(ctx, d); err != nil {
			t.Fatal(err)
		}
		steps := []struct {
			from, to string
			want     bool
		}{
			{DraftOpen, DraftBooking, true},
			{DraftOpen, DraftBooking, false}, // the second of two submits loses
			{DraftBooking, DraftBooked, true},
			{DraftBooking, DraftFailed, false},
		}
		for _, step := range steps {
			ok, err := s.SetDraftStatus(ctx, d.ID, step.from, step.to)
			if err != nil {
				t.Fatalf("SetDraftStatus(%s -> %s): %v", step.from, step.to, err)
			}
			if ok != step.want {
				t.Errorf("SetDraftStatus(%s -> %s) = %v, want %v", step.from, step.to, ok, step.want)
			}
		}
		if got, err := s.GetDraft(ctx, d.ID); err != nil || got.Status != DraftBooked {
			t.Errorf("status = %q, %v; want booked", got.Status, err)
		}
		if ok, err := s.SetDraftStatus(ctx, "ffffffffffffffffffffffffffffffff", DraftOpen, DraftBooking); ok || err != nil {
			t.Errorf("SetDraftStatus on a missing draft = %v, %v; want false, nil", ok, err)
		}
		if _, err := s.SetDraftStatus(ctx, d.ID, DraftBooked, "lost"); err == nil {
			t.Error("SetDraftStatus to an unknown status succeeded")
		}
	})
}

func assertDraft(t *testing.T, got, want Draft) {
	t.Helper()
	// Times are compared as instants; the stored offset is checked apart.
	times := [][2]time.Time{
		{got.SlotStart, want.SlotStart}, {got.SlotEnd, want.SlotEnd},
		{got.CreatedAt, want.CreatedAt}, {got.UpdatedAt, want.UpdatedAt}, {got.ExpiresAt, want.ExpiresAt},
	}
	for i, pair := range times {
		if !pair[0].Equal(pair[1]) {
			t.Errorf("time %d: got %v, want %v", i, pair[0], pair[1])
		}
	}
	got.SlotStart, got.SlotEnd, got.CreatedAt, got.UpdatedAt, got.ExpiresAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}, time.Time{}
	want.SlotStart, want.SlotEnd, want.CreatedAt, want.UpdatedAt, want.ExpiresAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if got != want {
		t.Errorf("draft:\n got %+v\nwant %+v", got, want)
	}
}

func TestReopenStuckDrafts(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		setClock(s, base)
		draft := func(status string) Draft {
			t.Helper()
			d := testDraft(t, "demo", base.Add(time.Hour))
			d.Status = status
			if err := s.CreateDraft(ctx, d); err != nil {
				t.Fatal(err)
			}
			return d
		}
		stuck := draft(DraftBooking)
		claimed := draft(DraftBooking) // died after claiming: the pending booking's sweep settles it
		b := testBooking(t)
		b.DraftID = claimed.ID
		if err := s.ClaimBooking(ctx, b, BookingPending); err != nil {
			t.Fatal(err)
		}
		for _, status := range []string{DraftOpen, DraftBooked, DraftUnknown, DraftFailed} {
			draft(status)
		}
		setClock(s, base.Add(time.Minute))
		recent := draft(DraftBooking)

		if ids, err := s.ReopenStuckDrafts(ctx, base.Add(-time.Second), DraftBooking, DraftOpen); err != nil || len(ids) != 0 {
			t.Fatalf("cutoff before every update: reopened %v, %v; want none", ids, err)
		}
		setClock(s, base.Add(2*time.Minute))
		ids, err := s.ReopenStuckDrafts(ctx, base, DraftBooking, DraftOpen)
		if err != nil || len(ids) != 1 || ids[0] != stuck.ID {
			t.Fatalf("reopened %v, %v; want only %s", ids, err, stuck.ID)
		}
		got, err := s.GetDraft(ctx, stuck.ID)
		if err != nil || got.Status != DraftOpen || !got.UpdatedAt.Equal(base.Add(2*time.Minute)) || got.Details != stuck.Details {
			t.Errorf("reopened draft: %+v, %v; want open, updated now, details kept", got, err)
		}
		for _, d := range []Draft{claimed, recent} {
			if got, _ := s.GetDraft(ctx, d.ID); got.Status != DraftBooking {
				t.Errorf("draft %s is %q, want still booking", d.ID[:8], got.Status)
			}
		}
		if ids, _ := s.ReopenStuckDrafts(ctx, base, DraftBooking, DraftOpen); len(ids) != 0 {
			t.Errorf("a second sweep reopened %v", ids)
		}
	})
}

// TestReopenStuckDraftsOnce: replicas sweeping together reopen each stuck
// draft once between them.
func TestReopenStuckDraftsOnce(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		setClock(s, base)
		want := map[string]bool{}
		for range 5 {
			d := testDraft(t, "demo", base.Add(time.Hour))
			d.Status = DraftBooking
			if err := s.CreateDraft(ctx, d); err != nil {
				t.Fatal(err)
			}
			want[d.ID] = true
		}
		setClock(s, base.Add(time.Hour))
		results := make([][]string, 4)
		var wg sync.WaitGroup
		for i := range results {
			wg.Go(func() {
				ids, err := s.ReopenStuckDrafts(ctx, base, DraftBooking, DraftOpen)
				if err != nil {
					t.Error(err)
				}
				results[i] = ids
			})
		}
		wg.Wait()
		seen := map[string]int{}
		for _, ids := range results {
			for _, id := range ids {
				seen[id]++
			}
		}
		for id := range want {
			if seen[id] != 1 {
				t.Errorf("draft %s reopened %d times, want once", id[:8], seen[id])
			}
		}
	})
}

// TestErrorsNameDraftsByPrefix: store errors reach the logs, and a full
// draft id opens a patient's draft; they carry its first 8 characters.
func TestErrorsNameDraftsByPrefix(t *testing.T) {
	s := openTestStore(t, filepath.Join(t.TempDir(), "portal.db"))
	d := testDraft(t, "demo", base.Add(time.Hour))
	if err := s.CreateDraft(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // every call fails
	var errs []error
	_, err := s.SetDraftStatus(ctx, d.ID, "open", "booking")
	errs = append(errs, err)
	_, err = s.GetBookingByDraft(ctx, d.ID)
	errs = append(errs, err)
	_, err = s.SetBookingStatus(ctx, d.ID, "pending", base, "unknown")
	errs = append(errs, err)
	_, err = s.ClaimResend(ctx, d.ID, base, BookingUnknown, BookingPending)
	errs = append(errs, err)
	errs = append(errs, s.UpdateBooking(ctx, Booking{DraftID: d.ID, Status: "booked"}))
	for i, err := range errs {
		if err == nil {
			t.Errorf("call %d: no error", i)
			continue
		}
		if strings.Contains(err.Error(), d.ID) || !strings.Contains(err.Error(), d.ID[:8]) {
			t.Errorf("call %d: %v; want the id's first 8 characters only", i, err)
		}
	}
}

// TestRetryDraft: a failed draft gets one copy to try again, recorded on
// it; callers that come later, or at the same time on other connections
// (replicas), are given that copy and insert none of their own.
func TestRetryDraft(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		setClock(s, base)
		failed := testDraft(t, "demo", base.Add(time.Hour))
		failed.Status = DraftFailed
		if err := s.CreateDraft(ctx, failed); err != nil {
			t.Fatal(err)
		}
		copyOf := func(d Draft) Draft {
			c := d
			c.ID, c.Status, c.ExpiresAt = testID(t), DraftOpen, base.Add(2*time.Hour)
			return c
		}

		const callers = 8
		nexts := make([]Draft, callers)
		got := make([]string, callers)
		var wg sync.WaitGroup
		for i := range callers {
			nexts[i] = copyOf(failed)
			wg.Go(func() {
				id, err := s.RetryDraft(ctx, failed.ID, DraftFailed, nexts[i])
				if err != nil {
					t.Errorf("caller %d: %v", i, err)
				}
				got[i] = id
			})
		}
		wg.Wait()
		winner := got[0]
		inserted := 0
		for i, id := range got {
			if id != winner {
				t.Errorf("caller %d was given %s, caller 0 %s; want one copy for all", i, id[:min(8, len(id))], winner[:min(8, len(winner))])
			}
			if _, err := s.GetDraft(ctx, nexts[i].ID); err == nil {
				inserted++
			}
		}
		if inserted != 1 {
			t.Errorf("%d copies inserted, want 1", inserted)
		}
		copied, err := s.GetDraft(ctx, winner)
		if err != nil || copied.Status != DraftOpen || copied.Details != failed.Details || copied.RetriedAs != "" {
			t.Errorf("copy %+v, %v; want open, with the details, no retry of its own", copied, err)
		}
		if got, _ := s.GetDraft(ctx, failed.ID); got.RetriedAs != winner || got.Status != DraftFailed {
			t.Errorf("failed draft: retried as %q, status %q; want %q, still failed", got.RetriedAs, got.Status, winner)
		}

		// Later, in a row: the same copy.
		if id, err := s.RetryDraft(ctx, failed.ID, DraftFailed, copyOf(failed)); err != nil || id != winner {
			t.Errorf("later retry: %q, %v; want %q", id, err, winner)
		}
		// A draft in another status, or none, gets no copy.
		if _, err := s.RetryDraft(ctx, copied.ID, DraftFailed, copyOf(copied)); !errors.Is(err, ErrDraftNotOpen) {
			t.Errorf("retry of an open draft: err = %v, want ErrDraftNotOpen", err)
		}
		if _, err := s.RetryDraft(ctx, "ffffffffffffffffffffffffffffffff", DraftFailed, copyOf(copied)); !errors.Is(err, ErrNotFound) {
			t.Errorf("retry of a missing draft: err = %v, want ErrNotFound", err)
		}
	})
}
