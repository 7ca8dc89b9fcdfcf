package bookingstore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/internal/booking/bookingstore"
	"github.com/clinic-booking/portal/internal/store"
)

func TestConsoleListsBookingsInEveryStatusAndTheUnsettled(t *testing.T) {
	forEachAdapter(t, func(t *testing.T, a bookingstore.Adapter) {
		ctx := context.Background()
		at := func(h int) time.Time { return time.Date(2026, 3, 4, h, 0, 0, 0, brisbane) }
		claim := func(id, clinic string, start time.Time, status booking.RecordStatus) {
			t.Helper()
			err := a.S.ClaimBooking(ctx, store.Booking{DraftID: id, Clinic: clinic, PractitionerID: "prac-1", LocationID: "loc-1",
				AppointmentTypeID: "type-1", Start: start, End: start.Add(30 * time.Minute)}, string(status))
			if err != nil {
				t.Fatal(err)
			}
		}
		claim("d1", "demo", at(11), booking.RecordBooked)
		claim("d2", "demo", at(9), booking.RecordCancelled)
		claim("d3", "demo", at(10), booking.RecordUnknown)
		claim("d4", "demo", at(12), booking.RecordPending)
		claim("d5", "demo", at(13), booking.RecordFailed)
		claim("d6", "other", at(10), booking.RecordUnknown)
		claim("d7", "demo", at(9).AddDate(0, 0, 30), booking.RecordBooked) // out of range

		list, err := a.BookingsBetween(ctx, "demo", at(0), at(0).AddDate(0, 0, 14))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range list {
			got = append(got, r.DraftID+":"+string(r.Status))
		}
		if want := "d2:cancelled d3:unknown d1:booked d4:pending d5:failed"; strings.Join(got, " ") != want {
			t.Errorf("bookings by start: %s, want %s", strings.Join(got, " "), want)
		}
		if !list[0].Start.Equal(at(9)) {
			t.Errorf("start %v, want %v", list[0].Start, at(9))
		}

		unsettled, err := a.UnsettledBookings(ctx, "demo")
		if err != nil {
			t.Fatal(err)
		}
		got = got[:0]
		for _, r := range unsettled {
			got = append(got, r.DraftID)
		}
		if strings.Join(got, " ") != "d4 d3" {
			t.Errorf("unsettled: %s, want the pending then the unknown of demo (d4 d3)", strings.Join(got, " "))
		}
	})
}
