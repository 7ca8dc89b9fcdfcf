package booking

import (
	"context"
	"errors"
	"fmt"
	"time"
)

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
	Status          RecordStatus
	// Resent is set once the sweeper has sent the booking a second time.
	Resent bool
	// NextLook is when the sweeper may next look for an unknown booking in
	// coreplus; zero means at once.
	NextLook time.Time
	// ContactDiffers is set when the client record lacks the contact
	// details the patient gave: the appointment's notes then say so (see
	// bookingNotes). A flag, so the record keeps no personal details.
	ContactDiffers bool
	// Sequence counts the moves of the appointment since it was booked,
	// for the calendar file's SEQUENCE.
	Sequence int
	// Change is the patient's change under way (see manage.go), "" at
	// rest; ChangeStartedAt is when it began (the store's clock).
	Change          Change
	ChangeStartedAt time.Time
	// PrevPractitionerID, PrevStart and PrevEnd are the time a move is
	// leaving while Change is ChangeMoving: Start and End already hold the
	// new one.
	PrevPractitionerID string
	PrevStart, PrevEnd time.Time
	// CreatedAt and UpdatedAt are the store's clock.
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Confirmed is a booking made through the portal, for its confirmation page.
type Confirmed struct {
	DraftID string
	// Status is the booking record's; RecordPending also while the
	// draft's submit is in flight, before it claimed the slot.
	Status RecordStatus
	// NothingBooked is set, with no Status, when the draft is open again
	// and can be confirmed again: its submit was cut off before it claimed
	// the slot, or failed and reopened it.
	NothingBooked bool
	Reference     string
	// Start, End and the ids are the stored record's, known even when
	// coreplus is not answering (zero for an open draft).
	Start, End                            time.Time
	LocationID, ServiceID, PractitionerID string
	// Selection names the location, service and practitioner. It is empty
	// for a pending booking, and when the clinic's reference data could not
	// be read: the page then says what the record holds.
	Selection Selection
	// Choice is the open draft's choices, for a link back to its review.
	Choice Choice
	// Sequence counts the moves of the appointment, for the calendar
	// file's SEQUENCE: a moved booking's event replaces the old one.
	Sequence int
	// BookedAt is when the booking was sent (the store's clock): its page
	// hands out the manage link only shortly after it.
	BookedAt time.Time
}

// Booking returns the booking made from a draft: for a failed draft the
// patient confirmed again, the booking of the draft that carries that
// retry, so that an old link never says nothing was booked when the retry
// was. A draft with no booking gives Status RecordPending while its submit
// is in flight and NothingBooked once it is open again; any other gives
// ErrNoBooking. Only the store is needed: a booking whose outcome is not
// known yet is exactly when coreplus may be unreachable, so names are
// added when coreplus (or the cache) has them and left out when not.
func (s *Service) Booking(ctx context.Context, draftID string) (Confirmed, error) {
	d, err := s.Draft(ctx, draftID)
	for range maxFollows {
		if err != nil || d.RetriedAs == "" {
			break
		}
		d, err = s.Draft(ctx, d.RetriedAs)
	}
	if err != nil {
		return Confirmed{}, err
	}
	rec, err := s.store.GetBookingByDraft(ctx, d.ID)
	if errors.Is(err, ErrNoBooking) {
		switch d.Status {
		case DraftBooking:
			return Confirmed{DraftID: d.ID, Status: RecordPending}, nil
		case DraftOpen:
			if d.SlotStart.IsZero() {
				return Confirmed{}, err // never got as far as a time: nothing to confirm
			}
			c := Confirmed{DraftID: d.ID, NothingBooked: true, Choice: d.Choice()}
			c.Selection = s.resolveForPage(ctx, c.Choice)
			return c, nil
		}
		return Confirmed{}, err
	}
	if err != nil {
		return Confirmed{}, fmt.Errorf("get booking: %w", err)
	}
	c := Confirmed{
		DraftID: d.ID, Status: rec.Status, Reference: rec.ReferenceNumber, Start: rec.Start, End: rec.End,
		LocationID: rec.LocationID, ServiceID: rec.ServiceID, PractitionerID: rec.PractitionerID,
		Sequence: rec.Sequence, BookedAt: rec.CreatedAt,
	}
	if !rec.Status.Settled() {
		return c, nil
	}
	sel := s.resolveForPage(ctx, Choice{
		LocationID: rec.LocationID, ServiceID: rec.ServiceID, PractitionerID: rec.PractitionerID,
		Slot: rec.Start.Format(time.RFC3339), With: rec.PractitionerID,
	})
	if sel.Slot != nil {
		sel.Slot.End = rec.End.In(sel.Location.Zone)
	}
	c.Selection = sel
	return c, nil
}

// resolveForPage resolves a stored booking's choices for a page that can
// do without them: a failure is logged and gives an empty selection.
func (s *Service) resolveForPage(ctx context.Context, ch Choice) Selection {
	sel, err := s.Resolve(ctx, ch)
	if err != nil || sel.Location == nil || sel.Service == nil || sel.Slot == nil {
		s.log.Warn("booking shown without names: reference data unavailable", "err", err)
		return Selection{}
	}
	return sel
}
