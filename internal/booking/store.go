package booking

import (
	"context"
	"errors"
	"time"
)

// Draft statuses: open while the patient edits, booking while a submit is in
// flight, then booked, failed (coreplus said no) or unknown (no answer came).
const (
	DraftOpen    = "open"
	DraftBooking = "booking"
	DraftBooked  = "booked"
	DraftUnknown = "unknown"
	DraftFailed  = "failed"
)

// Booking record statuses.
const (
	RecordPending = "pending"
	RecordBooked  = "booked"
	RecordUnknown = "unknown"
	RecordFailed  = "failed"
)

// Draft is a booking in progress: the choices and the patient's details,
// kept server-side under a random id.
type Draft struct {
	ID                 string
	Clinic             string
	LocationID         string
	ServiceID          string
	PractitionerID     string // empty for "first available practitioner"
	SlotStart          time.Time
	SlotEnd            time.Time
	SlotPractitionerID string
	Details            Details
	Status             string
	ExpiresAt          time.Time
}

// Submitted reports whether the draft's booking has been sent (or is being
// sent): its details belong to that booking and are not to be shown or
// edited again. An open draft is being edited; a failed one is copied to a
// new draft when the patient tries again.
func (d Draft) Submitted() bool {
	return d.Status == DraftBooking || d.Status == DraftUnknown || d.Status == DraftBooked
}

// Choice is the draft's choices as URL choices, for a link back into the
// flow with them.
func (d Draft) Choice() Choice {
	c := Choice{LocationID: d.LocationID, ServiceID: d.ServiceID, PractitionerID: d.PractitionerID, With: d.SlotPractitionerID}
	if c.PractitionerID == "" && d.SlotPractitionerID != "" {
		c.PractitionerID = AnyPractitioner
	}
	if !d.SlotStart.IsZero() {
		c.Slot = d.SlotStart.Format(time.RFC3339)
	}
	return c
}

// Record is what the portal keeps of a booking sent to coreplus: ids and
// times, no personal details.
type Record struct {
	DraftID         string
	Clinic          string
	AppointmentID   string
	ReferenceNumber string
	ClientID        string
	PractitionerID  string
	LocationID      string
	ServiceID       string
	Start           time.Time
	End             time.Time
	Status          string
	// Resent is set once the sweeper has sent the booking a second time.
	Resent bool
	// CreatedAt and UpdatedAt are the store's clock.
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Store keeps drafts and booking records.
type Store interface {
	NewDraftID() (string, error)
	CreateDraft(ctx context.Context, d Draft) error
	// GetDraft returns ErrDraftNotFound for a missing or expired draft.
	GetDraft(ctx context.Context, id string, now time.Time) (Draft, error)
	// UpdateDraft returns ErrDraftNotOpen once a submit has started.
	UpdateDraft(ctx context.Context, d Draft) error
	SetDraftStatus(ctx context.Context, id, from, to string) (bool, error)
	// ClaimBooking returns ErrDuplicateBooking or ErrSlotClaimed.
	ClaimBooking(ctx context.Context, r Record) error
	GetBookingByDraft(ctx context.Context, draftID string) (Record, error)
	UpdateBooking(ctx context.Context, r Record) error
	// ListBookingsByStatus lists every clinic's bookings in status, oldest
	// first, at most limit (no limit when limit <= 0).
	ListBookingsByStatus(ctx context.Context, status string, limit int) ([]Record, error)
	// SetBookingStatus moves a booking from one status to another only if
	// it is still in from and was last updated at seen.
	SetBookingStatus(ctx context.Context, draftID, from string, seen time.Time, to string) (bool, error)
	// SettleBooking records r's outcome only if the booking is still
	// pending or unknown, reporting whether it did.
	SettleBooking(ctx context.Context, r Record) (bool, error)
	// ClaimResend moves an unknown, never resent booking last updated at
	// seen to pending and resent, for the one caller that wins it.
	ClaimResend(ctx context.Context, draftID string, seen time.Time) (bool, error)
	// ReopenStuckDrafts moves drafts in booking with no booking record,
	// last updated at or before cutoff, back to open, and returns their ids.
	ReopenStuckDrafts(ctx context.Context, cutoff time.Time) ([]string, error)
	// AlignDraftStatuses moves drafts in booking or unknown whose booking
	// record is booked or failed to match it, and returns how many.
	AlignDraftStatuses(ctx context.Context) (int64, error)
	// CreateRequest keeps a booking request for clinic staff.
	CreateRequest(ctx context.Context, r Request) error
}

// Errors a Store returns.
var (
	ErrDraftNotFound    = errors.New("booking: draft not found or expired")
	ErrDraftNotOpen     = errors.New("booking: draft is no longer open")
	ErrDuplicateBooking = errors.New("booking: draft already has a booking")
	ErrSlotClaimed      = errors.New("booking: slot already claimed by another draft")
	ErrNoBooking        = errors.New("booking: no booking for this draft")
)
