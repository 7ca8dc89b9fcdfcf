package store

// The statuses the booking rules hand the store. The store itself knows
// none: it compares and copies what its callers give it.
const (
	DraftOpen    = "open"
	DraftBooking = "booking"
	DraftBooked  = "booked"
	DraftUnknown = "unknown"
	DraftFailed  = "failed"

	BookingPending   = "pending"
	BookingBooked    = "booked"
	BookingUnknown   = "unknown"
	BookingFailed    = "failed"
	BookingCancelled = "cancelled"

	RequestNew       = "new"
	RequestContacted = "contacted"
)
