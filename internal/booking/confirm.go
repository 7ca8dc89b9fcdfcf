package booking

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/clinic-booking/portal/internal/coreplus"
)

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
	id, err := s.store.NewDraftID()
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
		return Draft{}, &Error{Code: CodeNotFound, Message: "Your details are no longer saved: we keep them only for a short time. Please enter them again.", Cause: err}
	}
	if err != nil {
		return Draft{}, fmt.Errorf("get draft: %w", err)
	}
	return d, nil
}

// OutcomeKind says how a confirm ended.
type OutcomeKind int

const (
	// OutcomeBooked: coreplus has the appointment.
	OutcomeBooked OutcomeKind = iota + 1
	// OutcomePending: the booking was sent and no answer came, or another
	// submit of the same draft is still in flight.
	OutcomePending
	// OutcomeSlotTaken: the time went meanwhile; Alternatives are near it.
	OutcomeSlotTaken
)

// Outcome is the result of Confirm.
type Outcome struct {
	Kind OutcomeKind
	// DraftID is the draft the outcome belongs to; it differs from the one
	// given when a failed draft was copied to try again.
	DraftID      string
	Selection    Selection
	Alternatives []Slot
}

// confirmWait bounds how long a second submit of the same draft waits for
// the first to finish.
const confirmWait = 8 * time.Second

// claimWithin bounds the time from the draft becoming booking to its slot
// being claimed: the sweeper reopens a draft left in booking with no booking
// record for StalePending, which must only ever be one whose submit died.
const claimWithin = StalePending / 2

// Confirm books the draft's details at the selected time. It is idempotent
// on the draft: a draft already booked answers with its booking. In order:
// the slot is re-checked against coreplus uncached, the patient is matched
// to a coreplus client or one is created, the slot is claimed in the store,
// and the appointment is created. Errors are patient-safe *Error values.
func (s *Service) Confirm(ctx context.Context, draftID string, sel Selection) (Outcome, error) {
	if sel.Location == nil || sel.Service == nil || !sel.PractitionerChosen() || sel.Slot == nil {
		return Outcome{}, invalid("Some of your choices are missing. Start again to choose a time.")
	}
	d, err := s.Draft(ctx, draftID)
	if err != nil {
		return Outcome{}, err
	}
	out := Outcome{DraftID: d.ID, Selection: sel}

	// A draft whose submit has started keeps what was sent.
	deadline := time.Now().Add(confirmWait) // wall time: the service clock may be fixed
	for d.Status == DraftBooking && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return Outcome{}, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if d, err = s.Draft(ctx, draftID); err != nil {
			return Outcome{}, err
		}
	}
	switch d.Status {
	case DraftBooked:
		out.Kind = OutcomeBooked
		return out, nil
	case DraftBooking, DraftUnknown:
		out.Kind = OutcomePending
		return out, nil
	case DraftFailed:
		// One booking record per draft: trying again needs a fresh draft.
		d.ExpiresAt = s.now().Add(s.clinic.DraftTTL)
		setChoices(&d, sel)
		id, err := s.newDraft(ctx, d)
		if err != nil {
			return Outcome{}, err
		}
		d.ID, d.Status, out.DraftID = id, DraftOpen, id
	}

	if !s.clinic.Bookable(sel.Slot.Start, s.now()) {
		return s.slotTaken(ctx, out)
	}
	setChoices(&d, sel)
	d.ExpiresAt = s.now().Add(s.clinic.DraftTTL)
	if err := s.store.UpdateDraft(ctx, d); err != nil {
		if errors.Is(err, ErrDraftNotOpen) {
			out.Kind = OutcomePending
			return out, nil
		}
		return Outcome{}, fmt.Errorf("update draft: %w", err)
	}
	ok, err := s.store.SetDraftStatus(ctx, d.ID, DraftOpen, DraftBooking)
	if err != nil {
		return Outcome{}, err
	}
	if !ok {
		// Another submit got there first: answer as it will.
		return s.Confirm(ctx, d.ID, sel)
	}
	reopen := func() {
		if _, err := s.store.SetDraftStatus(context.WithoutCancel(ctx), d.ID, DraftBooking, DraftOpen); err != nil {
			s.log.Warn("reopen draft", "draft", short(d.ID), "err", err)
		}
	}
	cctx, cancel := context.WithTimeout(ctx, claimWithin)
	defer cancel()

	switch state, err := s.checkSlot(cctx, sel.Location, sel.Service.Length(), *sel.Slot); {
	case err != nil:
		reopen()
		return Outcome{}, err
	case state == slotNotOffered:
		reopen()
		return Outcome{}, errSlotNotOffered()
	case state != slotFree:
		reopen()
		return s.slotTaken(ctx, out)
	}

	clientID, err := s.findOrCreateClient(cctx, d.Details)
	if err != nil {
		reopen()
		return Outcome{}, upstream(err)
	}

	rec := Record{
		DraftID: d.ID, Clinic: s.clinic.Slug, ClientID: clientID,
		PractitionerID: sel.Slot.Practitioner.ID, LocationID: sel.Location.ID, ServiceID: sel.Service.ID,
		Start: sel.Slot.Start, End: sel.Slot.End, Status: RecordPending,
	}
	switch err := s.store.ClaimBooking(cctx, rec); {
	case errors.Is(err, ErrSlotClaimed):
		reopen()
		return s.slotTaken(ctx, out)
	case errors.Is(err, ErrDuplicateBooking):
		// Cannot happen while the draft status guards the submit; be safe.
		out.Kind = OutcomePending
		return out, nil
	case err != nil:
		reopen()
		return Outcome{}, fmt.Errorf("claim booking: %w", err)
	}

	// From here the request may reach coreplus: a patient who closes the
	// page must neither cut the booking off in flight (it would become
	// unknown) nor leave the records half-written. The client's own call
	// timeout bounds the send.
	wctx := context.WithoutCancel(ctx)
	appt, err := s.api.CreateAppointment(wctx, coreplus.NewAppointment{
		Start: sel.Slot.Start, End: sel.Slot.End,
		PractitionerID: sel.Slot.Practitioner.ID, LocationID: sel.Location.ID, AppointmentTypeID: sel.Service.ID,
		ClientID: clientID, Notes: appointmentNotes(d.Details.Note, d.ID),
		EmailReminder: s.clinic.EmailReminders, SMSReminder: s.clinic.SMSReminders,
	})
	var cpErr *coreplus.Error
	switch {
	case err == nil:
		// coreplus said yes: whatever the store does now, the patient is
		// booked and must never be told otherwise. A record left pending is
		// found in coreplus by the sweeper; a draft left in booking with a
		// booked record shows as booked.
		rec.Status, rec.AppointmentID, rec.ReferenceNumber = RecordBooked, appt.ID, appt.ReferenceNumber
		if err := s.store.UpdateBooking(wctx, rec); err != nil {
			s.log.Warn("booked in coreplus but not recorded; the sweeper will settle it", "draft", short(d.ID), "appointment", appt.ID, "err", err)
			out.Kind = OutcomePending
			return out, nil
		}
		if _, err := s.store.SetDraftStatus(wctx, d.ID, DraftBooking, DraftBooked); err != nil {
			s.log.Warn("booked and recorded, but the draft status was not set", "draft", short(d.ID), "err", err)
		}
		out.Kind = OutcomeBooked
		return out, nil
	case errors.Is(err, coreplus.ErrSlotUnavailable):
		s.settle(wctx, rec, RecordFailed, DraftFailed)
		return s.slotTaken(ctx, out)
	case errors.As(err, &cpErr) && cpErr.Sent:
		// It may exist in coreplus. Sending again could book twice.
		s.settle(wctx, rec, RecordUnknown, DraftUnknown)
		s.log.Warn("booking outcome unknown", "draft", short(d.ID), "err", err)
		out.Kind = OutcomePending
		return out, nil
	default:
		s.settle(wctx, rec, RecordFailed, DraftFailed)
		return Outcome{}, upstream(fmt.Errorf("create appointment: %w", err))
	}
}

func (s *Service) settle(ctx context.Context, rec Record, recStatus, draftStatus string) {
	rec.Status = recStatus
	if err := s.store.UpdateBooking(ctx, rec); err != nil {
		s.log.Warn("record booking status", "draft", short(rec.DraftID), "status", recStatus, "err", err)
	}
	if _, err := s.store.SetDraftStatus(ctx, rec.DraftID, DraftBooking, draftStatus); err != nil {
		s.log.Warn("set draft status", "draft", short(rec.DraftID), "status", draftStatus, "err", err)
	}
}

func (s *Service) slotTaken(ctx context.Context, out Outcome) (Outcome, error) {
	out.Kind = OutcomeSlotTaken
	alts, err := s.Alternatives(ctx, out.Selection, 5)
	if err != nil {
		// The patient can still pick from the full list.
		s.log.Warn("find alternatives", "err", err)
	}
	out.Alternatives = alts
	return out, nil
}

// appointmentNotes is the patient's note plus a marker that tells staff
// (and a later reconciler) the booking came from the portal. The marker is
// always there: a note is checked to leave room for it, and one saved
// before that check is shortened to fit coreplus's 300 characters.
func appointmentNotes(note, draftID string) string {
	mark := marker(draftID)
	note = NormaliseNote(note)
	if note == "" {
		return mark
	}
	if room := MaxNoteLength - 1 - len(mark); utf8.RuneCountInString(note) > room {
		note = strings.TrimSpace(string([]rune(note)[:room-1])) + "…"
	}
	return note + "\n" + mark
}

// markerLength is the length of every draft's marker: draft ids are
// shortened to 8 characters in it.
const markerLength = len("Booked online (ref 12345678)")

// marker is what the notes of an appointment booked from a draft carry, so
// the sweeper can find it in coreplus after an unanswered booking.
func marker(draftID string) string { return "Booked online (ref " + short(draftID) + ")" }

// findOrCreateClient matches the patient to one coreplus client with the
// same first name, last name and date of birth and the same email or
// mobile, or creates one. Its outcome is never shown to the patient.
//
// Several matches mean coreplus already holds duplicates of this person;
// the first coreplus lists is used, and the ids are logged for staff to
// merge, rather than adding yet another duplicate.
func (s *Service) findOrCreateClient(ctx context.Context, d Details) (string, error) {
	dob := coreplus.DateOf(d.DateOfBirth)
	cands, err := s.api.SearchClients(ctx, coreplus.ClientSearch{Name: d.LastName, DateOfBirth: &dob})
	if err != nil {
		return "", fmt.Errorf("search clients: %w", err)
	}
	var matches []string
	for _, c := range cands {
		if !sameName(c.FirstName, d.FirstName) || !sameName(c.LastName, d.LastName) || c.DateOfBirth == nil || *c.DateOfBirth != dob {
			continue
		}
		full, err := s.api.GetClient(ctx, c.ID)
		if errors.Is(err, coreplus.ErrNotFound) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("get client: %w", err)
		}
		if SameContact(full, d) {
			matches = append(matches, full.ID)
		}
	}
	switch len(matches) {
	case 1:
		return matches[0], nil
	case 0:
	default:
		s.log.Warn("several coreplus clients match one patient; used the first", "clients", strings.Join(matches, ","))
		return matches[0], nil
	}
	id, err := s.api.CreateClient(ctx, coreplus.NewClient{
		FirstName: d.FirstName, LastName: d.LastName, DateOfBirth: dob, Email: d.Email, Mobile: d.Mobile,
	})
	if err != nil {
		return "", fmt.Errorf("create client: %w", err)
	}
	return id, nil
}

// SameContact reports whether a coreplus client has the patient's email
// (any case) or mobile (in any format).
func SameContact(c coreplus.Client, d Details) bool {
	if c.Email != "" && strings.EqualFold(strings.TrimSpace(c.Email), d.Email) {
		return true
	}
	m, ok := NormaliseMobile(c.Mobile)
	return ok && m == d.Mobile
}

func sameName(a, b string) bool { return strings.EqualFold(collapseSpaces(a), collapseSpaces(b)) }

// Confirmed is a booking made through the portal, for its confirmation page.
type Confirmed struct {
	DraftID string
	// Status is a Record status, or DraftOpen when nothing was booked and
	// the draft can be confirmed again: its submit was cut off before it
	// claimed the slot, or failed and reopened it.
	Status    string
	Reference string
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
}

// Booking returns the booking made from a draft. A draft with no booking
// gives Status RecordPending while its submit is in flight and DraftOpen
// once it is open again; any other gives ErrNoBooking. Only the store is
// needed: a booking whose outcome is not known yet is exactly when coreplus
// may be unreachable, so names are added when coreplus (or the cache) has
// them and left out when not.
func (s *Service) Booking(ctx context.Context, draftID string) (Confirmed, error) {
	d, err := s.Draft(ctx, draftID)
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
			c := Confirmed{DraftID: d.ID, Status: DraftOpen, Choice: d.Choice()}
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
	}
	if rec.Status == RecordPending || rec.Status == RecordUnknown {
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
