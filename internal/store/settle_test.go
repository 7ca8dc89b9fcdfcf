package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestClaimResendOnce(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		setClock(s, base)
		b := testBooking(t)
		if err := s.ClaimBooking(ctx, b, BookingPending); err != nil {
			t.Fatal(err)
		}
		b.Status, b.ClientID = BookingUnknown, "client-1"
		if err := s.UpdateBooking(ctx, b); err != nil {
			t.Fatal(err)
		}
		got, _ := s.GetBookingByDraft(ctx, b.DraftID)
		if got.Resent || got.Status != BookingUnknown {
			t.Fatalf("got %+v", got)
		}

		setClock(s, base.Add(time.Minute))
		if ok, err := s.ClaimResend(ctx, b.DraftID, base.Add(time.Second), BookingUnknown, BookingPending); err != nil || ok {
			t.Errorf("claim with a stale update time: %v, %v; want refused", ok, err)
		}
		if ok, err := s.ClaimResend(ctx, b.DraftID, got.UpdatedAt, BookingUnknown, BookingPending); err != nil || !ok {
			t.Fatalf("first claim: %v, %v", ok, err)
		}
		if ok, _ := s.ClaimResend(ctx, b.DraftID, got.UpdatedAt, BookingUnknown, BookingPending); ok {
			t.Error("a second replica won the same claim")
		}
		got, _ = s.GetBookingByDraft(ctx, b.DraftID)
		if !got.Resent || got.Status != BookingPending || !got.UpdatedAt.Equal(base.Add(time.Minute)) {
			t.Fatalf("after the claim: %+v", got)
		}
		// Unknown again after the resend: never claimable a second time.
		got.Status = BookingUnknown
		if err := s.UpdateBooking(ctx, got); err != nil {
			t.Fatal(err)
		}
		again, _ := s.GetBookingByDraft(ctx, b.DraftID)
		if ok, _ := s.ClaimResend(ctx, b.DraftID, again.UpdatedAt, BookingUnknown, BookingPending); ok {
			t.Error("a resent booking was claimed for a third send")
		}
	})
}

func TestSetBookingStatus(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		setClock(s, base)
		b := testBooking(t)
		if err := s.ClaimBooking(ctx, b, BookingPending); err != nil {
			t.Fatal(err)
		}
		setClock(s, base.Add(time.Hour))
		if ok, _ := s.SetBookingStatus(ctx, b.DraftID, BookingUnknown, base, BookingFailed); ok {
			t.Error("moved from a status it was not in")
		}
		if ok, err := s.SetBookingStatus(ctx, b.DraftID, BookingPending, base, BookingUnknown); err != nil || !ok {
			t.Fatalf("pending to unknown: %v, %v", ok, err)
		}
		if ok, _ := s.SetBookingStatus(ctx, b.DraftID, BookingPending, base, BookingUnknown); ok {
			t.Error("moved twice")
		}
		got, _ := s.GetBookingByDraft(ctx, b.DraftID)
		if got.Status != BookingUnknown || !got.UpdatedAt.Equal(base.Add(time.Hour)) {
			t.Errorf("got %+v", got)
		}
		list, err := s.ListBookingsByStatus(ctx, BookingUnknown, 10)
		if err != nil || len(list) != 1 || list[0].DraftID != b.DraftID {
			t.Errorf("unknown bookings %+v, %v", list, err)
		}
	})
}

func TestRequestsRoundTrip(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		setClock(s, base)
		r := Request{ID: "cc000000000000000000000000000001", Clinic: "demo", LocationID: "loc-1", AppointmentTypeID: "type-1",
			PractitionerID: "any", Days: []string{"mon", "sat"}, Times: []string{"evening"},
			Details: RequestDetails{FirstName: "Jo", LastName: "Citizen", Email: "jo@example.com", Mobile: "0400000000", Note: "hi"}}
		if err := s.CreateRequest(ctx, r); err == nil {
			t.Fatal("a request with no status was stored")
		}
		r.Status = RequestNew
		if err := s.CreateRequest(ctx, r); err != nil {
			t.Fatal(err)
		}
		empty := Request{ID: "cc000000000000000000000000000002", Clinic: "demo", Details: RequestDetails{FirstName: "A"}, Status: RequestNew}
		setClock(s, base.Add(time.Minute))
		if err := s.CreateRequest(ctx, empty); err != nil {
			t.Fatal(err)
		}
		list, err := s.ListRequests(ctx, "demo", base.Add(time.Hour))
		if err != nil || len(list) != 2 {
			t.Fatalf("list %d, %v", len(list), err)
		}
		if list[0].ID != empty.ID || list[0].Days != nil {
			t.Errorf("newest first, with no days: %+v", list[0])
		}
		got := list[1]
		if got.Details != r.Details || got.Status != RequestNew || len(got.Days) != 2 || got.Days[1] != "sat" ||
			!got.CreatedAt.Equal(base) || !got.ExpiresAt.Equal(base.Add(RequestTTL)) || got.PractitionerID != "any" {
			t.Errorf("got %+v", got)
		}
		if n, err := s.DeleteExpiredRequests(ctx, base.Add(RequestTTL)); err != nil || n != 1 {
			t.Errorf("deleted %d, %v; want the older one", n, err)
		}
		if list, _ := s.ListRequests(ctx, "demo", base); len(list) != 1 {
			t.Errorf("%d left", len(list))
		}
	})
}

func TestSetRequestStatusCompareAndSet(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		r := Request{ID: "cc000000000000000000000000000003", Clinic: "demo", Details: RequestDetails{FirstName: "Jo"}, Status: RequestNew}
		if err := s.CreateRequest(ctx, r); err != nil {
			t.Fatal(err)
		}
		steps := []struct {
			clinic, id, from, to string
			want                 bool
		}{
			{"other", r.ID, RequestNew, RequestContacted, false}, // another clinic's staff
			{"demo", "cc00000000000000000000000000dead", RequestNew, RequestContacted, false},
			{"demo", r.ID, RequestContacted, RequestNew, false},
			{"demo", r.ID, RequestNew, RequestContacted, true},
			{"demo", r.ID, RequestNew, RequestContacted, false}, // marked twice
		}
		at := time.Unix(1_800_000_000, 0).UTC()
		for i, st := range steps {
			ok, err := s.SetRequestStatus(ctx, st.clinic, st.id, st.from, st.to, fmt.Sprintf("staff%d@demo.example", i), at.Add(time.Duration(i)*time.Minute))
			if err != nil || ok != st.want {
				t.Errorf("SetRequestStatus(%s, %s, %s -> %s) = %v, %v; want %v", st.clinic, st.id[:8], st.from, st.to, ok, err, st.want)
			}
		}
		list, err := s.ListRequests(ctx, "demo", time.Now())
		if err != nil || len(list) != 1 || list[0].Status != RequestContacted {
			t.Fatalf("after marking: %+v, %v", list, err)
		}
		// Who marked it and when are the first marker's: marking twice
		// changes nothing.
		if got := list[0]; got.ContactedBy != "staff3@demo.example" || !got.ContactedAt.Equal(at.Add(3*time.Minute)) {
			t.Errorf("contacted by %q at %v; want staff3@demo.example at %v", got.ContactedBy, got.ContactedAt, at.Add(3*time.Minute))
		}
		if _, err := s.SetRequestStatus(ctx, "demo", r.ID, RequestContacted, "lost", "x", at); err == nil {
			t.Error("SetRequestStatus to an unknown status succeeded")
		}
	})
}

// TestBookingsDueTakeTheirTurn: a sweeper reads unknown bookings by when
// they are due, so a booking looked at and left unsettled goes behind every
// other that is due; the lease lets one of several sweepers look.
func TestBookingsDueTakeTheirTurn(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		ids := make([]string, 3)
		for i := range ids {
			setClock(s, base.Add(time.Duration(i)*time.Second))
			b := testBooking(t)
			b.Start = slotStart.Add(time.Duration(i) * time.Hour)
			if err := s.ClaimBooking(ctx, b, BookingPending); err != nil {
				t.Fatal(err)
			}
			b.Status, b.ClientID = BookingUnknown, "client-1"
			if err := s.UpdateBooking(ctx, b); err != nil {
				t.Fatal(err)
			}
			ids[i] = b.DraftID
		}
		settled := testBooking(t)
		settled.Start = slotStart.Add(5 * time.Hour)
		if err := s.ClaimBooking(ctx, settled, BookingPending); err != nil {
			t.Fatal(err)
		}
		due := func(at time.Time, want ...string) {
			t.Helper()
			list, err := s.ListBookingsDue(ctx, BookingUnknown, at, 0)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, b := range list {
				got = append(got, b.DraftID)
			}
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("due at %s: %v, want %v", at.Sub(base), got, want)
			}
		}
		a, b, c := ids[0], ids[1], ids[2]
		due(base, a, b, c) // new: due at once, oldest first

		first, _ := s.ListBookingsDue(ctx, BookingUnknown, base, 1)
		if len(first) != 1 || !first[0].NextLook.IsZero() {
			t.Fatalf("limit 1: %+v", first)
		}
		lease := base.Add(30 * time.Second)
		if ok, err := s.TakeLook(ctx, a, first[0].NextLook, lease); err != nil || !ok {
			t.Fatalf("take look: %v, %v", ok, err)
		}
		if ok, _ := s.TakeLook(ctx, a, first[0].NextLook, lease); ok {
			t.Error("a second sweeper took the same look")
		}
		due(base, b, c)
		if err := s.SetNextLook(ctx, b, base.Add(2*time.Minute)); err != nil {
			t.Fatal(err)
		}
		due(base.Add(40*time.Second), c, a) // a looked at: behind c
		due(base.Add(3*time.Minute), c, a, b)
		got, _ := s.GetBookingByDraft(ctx, a)
		if !got.NextLook.Equal(lease) {
			t.Errorf("next look %v, want %v", got.NextLook, lease)
		}
	})
}

// The metrics count unsettled bookings on every scrape: each status asked
// for is answered, with none as 0, and the oldest's creation time.
func TestCountBookings(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		statuses := []string{BookingPending, BookingUnknown}
		got, err := s.CountBookings(ctx, statuses)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].Status != BookingPending || got[0].Count != 0 || got[1].Count != 0 || !got[1].Oldest.IsZero() {
			t.Fatalf("empty store: %+v", got)
		}

		for i, at := range []time.Time{base, base.Add(time.Minute), base.Add(2 * time.Minute)} {
			setClock(s, at)
			b := testBooking(t)
			b.PractitionerID = "prac-" + string(rune('a'+i))
			if err := s.ClaimBooking(ctx, b, BookingPending); err != nil {
				t.Fatal(err)
			}
			if i > 0 {
				b.Status = BookingUnknown
				if err := s.UpdateBooking(ctx, b); err != nil {
					t.Fatal(err)
				}
			}
		}
		got, err = s.CountBookings(ctx, statuses)
		if err != nil {
			t.Fatal(err)
		}
		if got[0].Count != 1 || !got[0].Oldest.Equal(base) {
			t.Errorf("pending: %+v, want 1 made at %v", got[0], base)
		}
		if got[1].Status != BookingUnknown || got[1].Count != 2 || !got[1].Oldest.Equal(base.Add(time.Minute)) {
			t.Errorf("unknown: %+v, want 2, the oldest made at %v", got[1], base.Add(time.Minute))
		}
	})
}

// TestCreateRequestQueuesItsMessagesInOneTransaction: a request and the
// note it makes due are kept together or not at all.
func TestCreateRequestQueuesItsMessagesInOneTransaction(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		r := Request{ID: "cc000000000000000000000000000010", Clinic: "demo", Details: RequestDetails{FirstName: "Jo"}, Status: RequestNew}
		note := OutboxMessage{ID: "ee000000000000000000000000000010", Kind: "request-left", Clinic: "demo", Sealed: "sealed"}
		if err := s.CreateRequest(ctx, r, note); err != nil {
			t.Fatal(err)
		}
		broken := Request{ID: "cc000000000000000000000000000011", Clinic: "demo", Details: RequestDetails{FirstName: "Sam"}, Status: RequestNew}
		if err := s.CreateRequest(ctx, broken, OutboxMessage{ID: "ee000000000000000000000000000011", Kind: "request-left", Clinic: "demo"}); err == nil {
			t.Fatal("a request with a message that cannot be queued was kept")
		}
		list, err := s.ListRequests(ctx, "demo", time.Now())
		if err != nil || len(list) != 1 || list[0].ID != r.ID {
			t.Errorf("requests: %+v, %v; want only the first", list, err)
		}
		queued, err := s.ListOutbox(ctx)
		if err != nil || len(queued) != 1 || queued[0].ID != note.ID {
			t.Errorf("outbox: %+v, %v; want only the first request's note", queued, err)
		}
	})
}
