package booking

import (
	"context"
	"errors"
	"fmt"
	"time"
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
	Status             DraftStatus
	ExpiresAt          time.Time
	// RetriedAs is, for a failed draft the patient confirmed again, the
	// draft that carries that retry (see Confirm).
	RetriedAs string
}

// Submitted reports whether the draft's booking has been sent (or is being
// sent); see DraftStatus.Submitted.
func (d Draft) Submitted() bool { return d.Status.Submitted() }

// AsOf is the draft as it reads at now, and false once it is gone: past
// its expiry an open or failed draft is gone, and a booked one keeps no
// details (a late visit is only told the booking was made).
func (d Draft) AsOf(now time.Time) (Draft, bool) {
	if now.Before(d.ExpiresAt) {
		return d, true
	}
	if d.Status.GoneAtExpiry() {
		return Draft{}, false
	}
	if d.Status.WipedAtExpiry() {
		d.Details = Details{}
	}
	return d, true
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

// SaveDetails keeps the patient's details and choices in a draft and
// returns its id: draftID's when it is still open, else a new one.
func (s *Service) SaveDetails(ctx context.Context, draftID string, sel Selection, d Details) (string, error) {
	draft := Draft{Clinic: s.clinic.Slug, Details: d, Status: DraftOpen}
	setChoices(&draft, sel)
	return s.saveDraft(ctx, draftID, draft)
}

// SaveDetailsUnchecked is SaveDetails for when the clinic's reference data
// cannot be read: the choices are kept as the link gave them (malformed ids
// dropped), unchecked, so that what the patient typed is not lost. It never
// calls coreplus; anything later that books checks the choices first.
func (s *Service) SaveDetailsUnchecked(ctx context.Context, draftID string, ch Choice, d Details) (string, error) {
	draft := Draft{Clinic: s.clinic.Slug, Details: d, Status: DraftOpen}
	id := func(v string) string {
		if idPattern.MatchString(v) {
			return v
		}
		return ""
	}
	draft.LocationID, draft.ServiceID = id(ch.LocationID), id(ch.ServiceID)
	if ch.PractitionerID != AnyPractitioner {
		draft.PractitionerID = id(ch.PractitionerID)
	}
	if start, err := time.Parse(time.RFC3339, ch.Slot); err == nil {
		draft.SlotStart, draft.SlotEnd = start, start
		draft.SlotPractitionerID = id(ch.With)
		if draft.SlotPractitionerID == "" {
			draft.SlotPractitionerID = draft.PractitionerID
		}
	}
	return s.saveDraft(ctx, draftID, draft)
}

// saveDraft keeps draft under draftID when that draft is still open, else
// under a new id, which it returns.
func (s *Service) saveDraft(ctx context.Context, draftID string, draft Draft) (string, error) {
	draft.ExpiresAt = s.now().Add(s.clinic.DraftTTL)
	if draftID != "" {
		old, err := s.store.GetDraft(ctx, draftID, s.now())
		if err == nil && old.Clinic == s.clinic.Slug && old.Status == DraftOpen {
			draft.ID = old.ID
			switch err := s.store.UpdateDraft(ctx, draft); {
			case err == nil:
				return draft.ID, nil
			case !errors.Is(err, ErrDraftNotOpen) && !errors.Is(err, ErrDraftNotFound):
				return "", fmt.Errorf("update draft: %w", err)
			}
		} else if err != nil && !errors.Is(err, ErrDraftNotFound) {
			return "", fmt.Errorf("get draft: %w", err)
		}
	}
	return s.newDraft(ctx, draft)
}

func (s *Service) newDraft(ctx context.Context, d Draft) (string, error) {
	id, err := newUnguessableID()
	if err != nil {
		return "", err
	}
	d.ID, d.Status = id, DraftOpen
	if err := s.store.CreateDraft(ctx, d); err != nil {
		return "", fmt.Errorf("create draft: %w", err)
	}
	return id, nil
}

func setChoices(d *Draft, sel Selection) {
	if sel.Location != nil {
		d.LocationID = sel.Location.ID
	}
	if sel.Service != nil {
		d.ServiceID = sel.Service.ID
	}
	d.PractitionerID = ""
	if sel.Practitioner != nil {
		d.PractitionerID = sel.Practitioner.ID
	}
	if sel.Slot != nil {
		d.SlotStart, d.SlotEnd, d.SlotPractitionerID = sel.Slot.Start, sel.Slot.End, sel.Slot.Practitioner.ID
	}
}

// Draft returns this clinic's draft with id, or a CodeNotFound error
// wrapping ErrDraftNotFound.
func (s *Service) Draft(ctx context.Context, id string) (Draft, error) {
	d, err := s.store.GetDraft(ctx, id, s.now())
	if err == nil && d.Clinic != s.clinic.Slug {
		err = ErrDraftNotFound
	}
	if errors.Is(err, ErrDraftNotFound) {
		return Draft{}, errDraftGone(err)
	}
	if err != nil {
		return Draft{}, fmt.Errorf("get draft: %w", err)
	}
	return d, nil
}

// errDraftGone is the patient's error for a draft that has expired.
func errDraftGone(cause error) error {
	return &Error{Code: CodeNotFound, Message: "Your details are no longer saved: we keep them only for a short time. Please enter them again.", Cause: cause}
}
