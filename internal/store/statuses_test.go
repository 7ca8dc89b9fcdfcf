package store

import "github.com/clinic-booking/portal/internal/booking"

// The statuses the booking rules hand the store, as the store takes them.
// The store itself knows none (it compares and copies what its callers give
// it), and tests spell none: booking's status.go is the only place.
const (
	DraftOpen    = string(booking.DraftOpen)
	DraftBooking = string(booking.DraftBooking)
	DraftBooked  = string(booking.DraftBooked)
	DraftUnknown = string(booking.DraftUnknown)
	DraftFailed  = string(booking.DraftFailed)

	BookingPending   = string(booking.RecordPending)
	BookingBooked    = string(booking.RecordBooked)
	BookingUnknown   = string(booking.RecordUnknown)
	BookingFailed    = string(booking.RecordFailed)
	BookingCancelled = string(booking.RecordCancelled)

	RequestNew       = string(booking.RequestNew)
	RequestContacted = string(booking.RequestContacted)
)
