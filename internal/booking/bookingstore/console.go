package bookingstore

import (
	"context"
	"time"

	"github.com/clinic-booking/portal/internal/booking"
)

// BookingsBetween lists the clinic's booking records starting in
// [from, to), in every status, by start: the staff console's Today.
func (a Adapter) BookingsBetween(ctx context.Context, clinic string, from, to time.Time) ([]booking.Record, error) {
	all := statusesWhere(booking.RecordStatuses(), func(booking.RecordStatus) bool { return true })
	return fromStoreBookings(a.S.HeldSlots(ctx, clinic, from, to, all))
}

// UnsettledBookings lists the clinic's booking records whose outcome is not
// known yet, oldest first.
func (a Adapter) UnsettledBookings(ctx context.Context, clinic string) ([]booking.Record, error) {
	var out []booking.Record
	for _, st := range booking.RecordStatuses() {
		if st.Settled() {
			continue
		}
		list, err := fromStoreBookings(a.S.ListBookingsByStatus(ctx, string(st), 0))
		if err != nil {
			return nil, err
		}
		for _, r := range list {
			if r.Clinic == clinic {
				out = append(out, r)
			}
		}
	}
	return out, nil
}
