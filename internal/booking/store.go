package booking

import (
	"context"
	"errors"
	"time"
)

// Store keeps drafts and booking records.
type Store interface {
	// CreateDraft keeps a new draft under d.ID.
	CreateDraft(ctx context.Context, d Draft) error
	// GetDraft returns the draft as it reads at now (see Draft.AsOf), or
	// ErrDraftNotFound for a missing or expired draft.
	GetDraft(ctx context.Context, id string, now time.Time) (Draft, error)
	// UpdateDraft returns ErrDraftNotOpen once a submit has started.
	UpdateDraft(ctx context.Context, d Draft) error
	// RetryDraft keeps next, a copy of the failed draft failedID made to
	// try its booking again, and records it as failedID's retry: both or
	// neither, and only while failedID is failed and names no retry. It
	// returns the id of the draft that carries the retry, next.ID or the
	// one recorded first by another submit (next is then not kept);
	// ErrDraftNotFound, or ErrDraftNotOpen when failedID is not failed.
	RetryDraft(ctx context.Context, failedID string, next Draft) (string, error)
	// SetDraftStatus moves a draft from one status to another only if it
	// is still in from, reporting whether it did.
	SetDraftStatus(ctx context.Context, id string, from, to DraftStatus) (bool, error)
	// ClaimBooking keeps r as the draft's one booking, pending whatever
	// r.Status says. It returns ErrDuplicateBooking or ErrSlotClaimed.
	ClaimBooking(ctx context.Context, r Record) error
	// ReleaseClaim deletes the draft's booking if it is pending with no
	// client id (so it was never sent) and, unless seen is zero, was last
	// updated at seen; it frees the slot, and reports whether it did.
	ReleaseClaim(ctx context.Context, draftID string, seen time.Time) (bool, error)
	// HeldSlots lists the clinic's booking records that hold their slot
	// (RecordStatus.HoldsSlot) and start at or after from and before to.
	HeldSlots(ctx context.Context, clinic string, from, to time.Time) ([]Record, error)
	GetBookingByDraft(ctx context.Context, draftID string) (Record, error)
	// UpdateBooking records r. due is the messages the change makes due,
	// queued in the same transaction, and only if r.Status is new to the
	// booking (an outcome recorded twice queues once).
	UpdateBooking(ctx context.Context, r Record, due ...Message) error
	// ListBookingsByStatus lists every clinic's bookings in status, oldest
	// first, at most limit (no limit when limit <= 0).
	ListBookingsByStatus(ctx context.Context, status RecordStatus, limit int) ([]Record, error)
	// ListBookingsDue lists every clinic's bookings in status whose
	// NextLook is at or before now, the longest due first, at most limit.
	ListBookingsDue(ctx context.Context, status RecordStatus, now time.Time, limit int) ([]Record, error)
	// TakeLook moves a booking's NextLook from seen to until, reporting
	// whether this caller moved it (and so is the one to look).
	TakeLook(ctx context.Context, draftID string, seen, until time.Time) (bool, error)
	// SetNextLook puts a booking's NextLook at until.
	SetNextLook(ctx context.Context, draftID string, until time.Time) error
	// SetBookingStatus moves a booking from one status to another only if
	// it is still in from and was last updated at seen.
	SetBookingStatus(ctx context.Context, draftID string, from RecordStatus, seen time.Time, to RecordStatus) (bool, error)
	// SettleBooking records r's outcome only if the booking is not settled
	// yet, reporting whether it did; due is queued in the same
	// transaction when it did.
	SettleBooking(ctx context.Context, r Record, due ...Message) (bool, error)
	// ClaimResend moves an unknown, never resent booking last updated at
	// seen to pending and resent, for the one caller that wins it.
	ClaimResend(ctx context.Context, draftID string, seen time.Time) (bool, error)
	// ReopenStuckDrafts moves drafts in booking with no booking record,
	// last updated at or before cutoff, back to open, and returns their ids.
	ReopenStuckDrafts(ctx context.Context, cutoff time.Time) ([]string, error)
	// AlignDraftStatuses moves drafts awaiting an outcome whose booking
	// record is settled to match it, and returns how many.
	AlignDraftStatuses(ctx context.Context) (int64, error)
	// DeleteExpiredDrafts removes personal data no longer needed at now:
	// drafts gone at their expiry are deleted, and expired drafts that are
	// booked, or whose booking record is settled, lose their details.
	// Drafts whose outcome is not settled keep everything. Bookings that
	// have started lose the contact kept for the emails after the booking.
	// It returns how many drafts it deleted or wiped.
	DeleteExpiredDrafts(ctx context.Context, now time.Time) (int64, error)
	// The patient's changes to a booked booking (manage.go). Each Begin*
	// sets the intent, before coreplus is asked, for exactly one caller (it
	// reports whether this one won, and sets nothing when the booking is
	// not booked or has a change under way); the others record the
	// outcome of the change under way, reporting whether they did.
	BeginCancel(ctx context.Context, draftID string) (bool, error)
	// FinishCancel and FinishMove queue due (addressed by the store to
	// the patient the booking was confirmed to, with the booking's new
	// sequence) in the same transaction, only when they recorded it.
	FinishCancel(ctx context.Context, draftID string, due ...Message) (bool, error)
	AbandonCancel(ctx context.Context, draftID string) (bool, error)
	// BeginMove puts the booking, if it is still with fromPractitionerID
	// at fromStart, on practitionerID at [start, end) at once, keeping its
	// old time to go back to, so the new time is held from every other
	// draft: ErrSlotClaimed when another draft holds it.
	BeginMove(ctx context.Context, draftID, fromPractitionerID string, fromStart time.Time, practitionerID string, start, end time.Time) (bool, error)
	FinishMove(ctx context.Context, draftID string, due ...Message) (bool, error)
	UndoMove(ctx context.Context, draftID string) (bool, error)
	// MarkCancelled and RecordMovedTo make a booked booking at rest follow
	// what staff did in coreplus.
	MarkCancelled(ctx context.Context, draftID string) (bool, error)
	// RecordMovedTo does, only while the booking is still with
	// fromPractitionerID at fromStart, where the caller read it.
	RecordMovedTo(ctx context.Context, draftID, fromPractitionerID string, fromStart time.Time, practitionerID string, start, end time.Time) (bool, error)
	// ListChangesBegun lists changes begun at or before before whose
	// outcome was never recorded, oldest first, at most limit.
	ListChangesBegun(ctx context.Context, before time.Time, limit int) ([]Record, error)
	// CreateRequest keeps a booking request for clinic staff, new
	// whatever r.Status says, and queues the messages due with it in the
	// same transaction.
	CreateRequest(ctx context.Context, r Request, due ...Message) error
}

// Errors a Store returns.
var (
	ErrDraftNotFound    = errors.New("booking: draft not found or expired")
	ErrDraftNotOpen     = errors.New("booking: draft is no longer open")
	ErrDuplicateBooking = errors.New("booking: draft already has a booking")
	ErrSlotClaimed      = errors.New("booking: slot already claimed by another draft")
	ErrNoBooking        = errors.New("booking: no booking for this draft")
)
