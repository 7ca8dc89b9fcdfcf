package bookingstore_test

import (
	"time"

	"context"
	"errors"
	"testing"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/internal/booking/bookingstore"
	"github.com/clinic-booking/portal/internal/store"
)

// TestMarkRequestContacted: a request is found by at least the start of its
// id that staff are shown, among its clinic's unexpired requests only, and
// marked once.
func TestMarkRequestContacted(t *testing.T) {
	forEachAdapter(t, func(t *testing.T, a bookingstore.Adapter) {
		ctx := context.Background()
		for _, r := range []booking.Request{
			{ID: "3f2a9c1e000000000000000000000001", Clinic: "northside", FirstName: "First", CreatedAt: base},
			{ID: "3f2a9c1e000000000000000000000002", Clinic: "northside", FirstName: "Second", CreatedAt: base},
			{ID: "77777777000000000000000000000001", Clinic: "eastside", CreatedAt: base},
		} {
			if err := a.CreateRequest(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		var ambiguous *booking.AmbiguousRequestIDError
		for _, tc := range []struct {
			id   string
			want func(error) bool
		}{
			{"3f2a", func(err error) bool { return errors.Is(err, booking.ErrRequestIDTooShort) }},
			{"3f2a9c1e", func(err error) bool { return errors.As(err, &ambiguous) && ambiguous.Matches == 2 }},
			{"77777777", func(err error) bool { return errors.Is(err, booking.ErrNoSuchRequest) }}, // eastside's
			{"ffffffff", func(err error) bool { return errors.Is(err, booking.ErrNoSuchRequest) }},
		} {
			if _, err := booking.MarkRequestContacted(ctx, a, "northside", tc.id, "jo@northside.example", base); !tc.want(err) {
				t.Errorf("MarkRequestContacted(%q) = %v", tc.id, err)
			}
		}
		r, err := booking.MarkRequestContacted(ctx, a, "northside", "3f2a9c1e000000000000000000000002", "jo@northside.example", base)
		if err != nil || r.FirstName != "Second" || r.Status != booking.RequestContacted {
			t.Fatalf("mark = %+v, %v", r, err)
		}
		if r, err := booking.MarkRequestContacted(ctx, a, "northside", "3f2a9c1e000000000000000000000002", "sam@northside.example", base.Add(time.Hour)); !errors.Is(err, booking.ErrAlreadyContacted) || r.FirstName != "Second" ||
			r.ContactedBy != "jo@northside.example" || !r.ContactedAt.Equal(base) {
			t.Errorf("marking twice = %+v, %v; want ErrAlreadyContacted naming the request and who marked it first, when", r, err)
		}
		if _, err := booking.MarkRequestContacted(ctx, a, "northside", "3f2a9c1e000000000000000000000001", "jo@northside.example", base.Add(store.RequestTTL)); !errors.Is(err, booking.ErrNoSuchRequest) {
			t.Errorf("marking an expired request = %v, want ErrNoSuchRequest", err)
		}
	})
}

// TestRequestStatusesStorable: the store keeps every request status the
// booking rules use, and a request is kept new whatever it says.
func TestRequestStatusesStorable(t *testing.T) {
	forEachAdapter(t, func(t *testing.T, a bookingstore.Adapter) {
		ctx := context.Background()
		r := booking.Request{ID: "5e000000000000000000000000000001", Clinic: "demo", CreatedAt: base, Status: booking.RequestContacted}
		if err := a.CreateRequest(ctx, r); err != nil {
			t.Fatal(err)
		}
		from := booking.RequestNew
		for _, to := range booking.RequestStatuses() {
			if ok, err := a.SetRequestStatus(ctx, "demo", r.ID, from, to, "jo@demo.example", base); err != nil || !ok {
				t.Fatalf("%s -> %s: %v, %v", from, to, ok, err)
			}
			list, err := a.ListRequests(ctx, "demo", base)
			if err != nil || len(list) != 1 || list[0].Status != to {
				t.Fatalf("after %s -> %s: %+v, %v", from, to, list, err)
			}
			from = to
		}
	})
}
