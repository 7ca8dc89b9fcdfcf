package booking

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/clinic-booking/portal/internal/coreplus"
)

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
	// DraftID is the draft the outcome belongs to; for a failed draft it is
	// the draft that carries its retry.
	DraftID      string
	Selection    Selection
	Alternatives []Slot
}

// confirmWait bounds how long a second submit of the same draft waits for
// the first to finish.
const confirmWait = 8 * time.Second

// claimWithin bounds the time from the draft becoming booking to its slot
// being claimed, and clientWithin the time from the claim to the client id
// being recorded on it: the sweeper reopens a draft left in booking with no
// booking record, and releases a claim left with no client id, after
// StalePending, which must only ever be one whose submit died.
const (
	claimWithin  = StalePending / 2
	clientWithin = StalePending / 2
)

// Confirm books the draft's details at the selected time. It is idempotent
// on the draft, from every state: a draft already booked answers with its
// booking, one in flight with that submit's outcome, and a failed one is
// tried again on the one draft that carries its retry. In order: the slot
// is looked up among the store's claims, re-checked against coreplus
// uncached (identical re-checks at once share one call, made after each
// asked) and claimed in the store (a patient who lost the time hears so at
// once, with other times from the cache), the patient is matched to a
// coreplus client or one is created (see findOrCreateClient), and the
// appointment is created.
// Errors are patient-safe *Error values.
func (s *Service) Confirm(ctx context.Context, draftID string, sel Selection) (Outcome, error) {
	// A booking under way never waits for the upstream budget behind
	// patients browsing.
	ctx = coreplus.WithPriority(ctx, coreplus.PriorityUrgent)
	if sel.Location == nil || sel.Service == nil || !sel.PractitionerChosen() || sel.Slot == nil {
		return Outcome{}, invalid("Some of your choices are missing. Start again to choose a time.")
	}
	id := draftID
	for range maxFollows {
		d, err := s.awaitSubmit(ctx, id)
		if err != nil {
			return Outcome{}, err
		}
		out := Outcome{DraftID: d.ID, Selection: sel}
		switch d.Status {
		case DraftBooked:
			out.Kind = OutcomeBooked
			return out, nil
		case DraftBooking, DraftUnknown:
			out.Kind = OutcomePending
			return out, nil
		case DraftFailed:
			// The draft that carries the retry answers, whichever submit
			// made it.
			if id, err = s.retryDraft(ctx, d, sel); err != nil {
				return Outcome{}, err
			}
			continue
		}

		if !s.clinic.Bookable(sel.Slot.Start, s.now()) {
			s.obs.Submitted(SubmitSlotTaken)
			return s.slotTaken(ctx, out)
		}
		switch started, err := s.startSubmit(ctx, d, sel); {
		case errors.Is(err, ErrDraftNotOpen), err == nil && !started:
			// Another submit got there first: answer as it will.
			continue
		case err != nil:
			return Outcome{}, err
		}
		return s.submit(ctx, d, sel, out)
	}
	// Only a draft that keeps changing under this submit gets here: its
	// page tells the patient where it stands.
	return Outcome{Kind: OutcomePending, DraftID: id, Selection: sel}, nil
}

// maxFollows bounds the drafts one Confirm moves through: another submit's,
// and failed drafts' retries.
const maxFollows = 8

// submit books the open draft d, whose submit this call started.
func (s *Service) submit(ctx context.Context, d Draft, sel Selection, out Outcome) (Outcome, error) {
	// Until the slot is claimed nothing was sent: any stop reopens the draft.
	rec, err := s.claimSlot(ctx, d, sel)
	switch {
	case errors.Is(err, errSlotGone):
		s.reopen(ctx, d.ID)
		s.obs.Submitted(SubmitSlotTaken)
		return s.slotTaken(ctx, out)
	case errors.Is(err, ErrDuplicateBooking):
		// Cannot happen while the draft status guards the submit; be safe.
		// Another submit has the booking: it tells how it ended.
		out.Kind = OutcomePending
		return out, nil
	case err != nil:
		s.reopen(ctx, d.ID)
		s.obs.Submitted(SubmitNotSent)
		return Outcome{}, err
	}
	// The slot is held, and nothing is sent until the claim names the
	// client: any stop before that releases the slot and reopens the draft.
	if rec, err = s.claimClient(ctx, rec, d.Details); err != nil {
		if !s.release(ctx, rec) {
			// The claim may name a client after all, and so may yet be
			// sent: never tell this patient nothing was booked.
			s.obs.Submitted(SubmitUnknown)
			out.Kind = OutcomePending
			return out, nil
		}
		s.reopen(ctx, d.ID)
		s.obs.Submitted(SubmitNotSent)
		return Outcome{}, err
	}
	return s.send(ctx, rec, bookingNotes(d.Details, rec), bookedMessages(rec, d.Details), out)
}

// awaitSubmit returns the draft once no submit of it is in flight, or once
// confirmWait has passed: a draft whose submit has started keeps what was
// sent.
func (s *Service) awaitSubmit(ctx context.Context, draftID string) (Draft, error) {
	d, err := s.Draft(ctx, draftID)
	if err != nil {
		return Draft{}, err
	}
	deadline := time.Now().Add(confirmWait) // wall time: the service clock may be fixed
	for d.Status == DraftBooking && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return Draft{}, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if d, err = s.Draft(ctx, draftID); err != nil {
			return Draft{}, err
		}
	}
	return d, nil
}

// retryDraft returns the id of the draft that carries failed draft d's
// retry: one booking record per draft, so trying again needs a fresh one.
// The first submit to get here makes it, a copy of d with sel's choices,
// recorded on d in the same transaction; every other submit of d, on any
// replica, at once or later, is given that same draft, so that the
// patient's details are copied once and the retry is booked once.
func (s *Service) retryDraft(ctx context.Context, d Draft, sel Selection) (string, error) {
	if d.RetriedAs != "" {
		return d.RetriedAs, nil
	}
	id, err := newUnguessableID()
	if err != nil {
		return "", err
	}
	next := d
	next.ID, next.Status, next.RetriedAs = id, DraftOpen, ""
	next.ExpiresAt = s.now().Add(s.clinic.DraftTTL)
	setChoices(&next, sel)
	carrier, err := s.store.RetryDraft(ctx, d.ID, next)
	switch {
	case errors.Is(err, ErrDraftNotFound):
		return "", errDraftGone(err)
	case errors.Is(err, ErrDraftNotOpen):
		return d.ID, nil // no longer failed: look again
	case err != nil:
		return "", fmt.Errorf("retry draft: %w", err)
	}
	return carrier, nil
}

// startSubmit keeps sel's choices in the open draft and moves it from open
// to booking, reporting whether this call moved it. ErrDraftNotOpen means
// another submit has started meanwhile.
func (s *Service) startSubmit(ctx context.Context, d Draft, sel Selection) (bool, error) {
	setChoices(&d, sel)
	d.ExpiresAt = s.now().Add(s.clinic.DraftTTL)
	if err := s.store.UpdateDraft(ctx, d); err != nil {
		if errors.Is(err, ErrDraftNotOpen) {
			return false, err
		}
		return false, fmt.Errorf("update draft: %w", err)
	}
	return s.store.SetDraftStatus(ctx, d.ID, DraftOpen, DraftBooking)
}

// errSlotGone means the selected time went before this submit claimed it.
var errSlotGone = errors.New("booking: slot went before it was claimed")

// claimSlot re-checks the slot and claims it in the store, within
// claimWithin. It returns the claimed, pending booking record, with no
// client id yet; errSlotGone when the time went meanwhile. A time another
// draft already holds is answered from the store, before coreplus is
// asked: of many patients after one time, the losers hear at once.
func (s *Service) claimSlot(ctx context.Context, d Draft, sel Selection) (Record, error) {
	ctx, cancel := context.WithTimeout(ctx, claimWithin)
	defer cancel()
	sl := *sel.Slot
	held, err := s.heldSlot(ctx, sl)
	switch {
	case err != nil:
		return Record{}, err
	case holds(held, sl.Practitioner.ID, sl.Start, d.ID):
		return Record{}, errSlotGone
	}
	switch state, err := s.recheckToClaim(ctx, d.ID, sel.Location, sel.Service.Length(), sl); {
	case err != nil:
		return Record{}, err
	case state == slotNotOffered:
		return Record{}, errSlotNotOffered()
	case state != slotFree:
		return Record{}, errSlotGone
	}
	rec := Record{
		DraftID: d.ID, Clinic: s.clinic.Slug,
		PractitionerID: sel.Slot.Practitioner.ID, LocationID: sel.Location.ID, ServiceID: sel.Service.ID,
		Start: sel.Slot.Start, End: sel.Slot.End, Status: RecordPending,
	}
	err = s.store.ClaimBooking(ctx, rec)
	if err == nil {
		s.heldChanged() // the time leaves this replica's pages at once
	}
	switch {
	case errors.Is(err, ErrSlotClaimed):
		return Record{}, errSlotGone
	case errors.Is(err, ErrDuplicateBooking):
		return Record{}, err
	case err != nil:
		return Record{}, fmt.Errorf("claim booking: %w", err)
	}
	return rec, nil
}

// heldSlot lists the booking records that hold sl's practitioner at sl's
// start.
func (s *Service) heldSlot(ctx context.Context, sl Slot) ([]Record, error) {
	held, err := s.store.HeldSlots(ctx, s.clinic.Slug, sl.Start, sl.Start.Add(time.Second))
	if err != nil {
		return nil, fmt.Errorf("read held slots: %w", err)
	}
	var mine []Record
	for _, r := range held {
		if r.PractitionerID == sl.Practitioner.ID && r.Start.Equal(sl.Start) {
			mine = append(mine, r)
		}
	}
	return mine, nil
}

// claimCheck is what a re-check before a claim found: the records holding
// the slot, and, only when none did, what coreplus says of it.
type claimCheck struct {
	held  []Record
	state slotState
}

// recheckToClaim re-checks sl, uncached, for draftID's submit, about to
// claim it. Submits after the same time at once share one re-check made
// after each of them asked (see freshGroup): the store's claims first, then,
// only when nobody holds the time, coreplus. So patients who find the time
// claimed while they wait for the shared re-check cost coreplus nothing.
func (s *Service) recheckToClaim(ctx context.Context, draftID string, loc *Location, length time.Duration, sl Slot) (slotState, error) {
	if !offerable(sl, loc.Zone, length) {
		return slotNotOffered, nil
	}
	key := strings.Join([]string{"claim", loc.ID, sl.Practitioner.ID, sl.Start.UTC().Format(time.RFC3339), sl.End.UTC().Format(time.RFC3339)}, "|")
	v, err := s.fresh.do(ctx, key, func(ctx context.Context) (any, error) {
		held, err := s.heldSlot(ctx, sl)
		if err != nil || len(held) > 0 {
			return claimCheck{held: held}, err
		}
		state, err := s.checkSlot(ctx, loc, length, sl)
		return claimCheck{state: state}, err
	})
	if err != nil {
		return 0, err
	}
	c := v.(claimCheck)
	switch {
	case holds(c.held, sl.Practitioner.ID, sl.Start, draftID):
		return slotTaken, nil
	case len(c.held) > 0:
		// Only this draft's own record: never while the draft's status
		// guards its submit, but then ask coreplus for this draft alone.
		return s.checkSlot(ctx, loc, length, sl)
	}
	return c.state, nil
}

// claimClient finds or creates the patient's coreplus client and records
// its id, and whether its record lacks the contact details given, on the
// claimed booking, within clientWithin: a booking record with no client id
// was never sent.
func (s *Service) claimClient(ctx context.Context, rec Record, d Details) (Record, error) {
	ctx, cancel := context.WithTimeout(ctx, clientWithin)
	defer cancel()
	m, err := s.findOrCreateClient(ctx, d)
	if err != nil {
		return rec, upstream(err)
	}
	rec.ClientID, rec.ContactDiffers = m.ID, m.ContactDiffers
	if err := s.store.UpdateBooking(ctx, rec); err != nil {
		rec.ClientID, rec.ContactDiffers = "", false
		return rec, fmt.Errorf("record client on booking: %w", err)
	}
	return rec, nil
}

// release gives up a claim with no client id, which was never sent,
// freeing its slot, and reports whether it did. When it did not, the claim
// is left to the sweeper: it releases one with no client id, and settles
// one whose client id was recorded after all.
func (s *Service) release(ctx context.Context, rec Record) bool {
	released, err := s.store.ReleaseClaim(context.WithoutCancel(ctx), rec.DraftID, time.Time{})
	if err != nil {
		s.log.Warn("release claimed slot; left to the sweeper", "draft", short(rec.DraftID), "err", err)
	}
	return released
}

// reopen moves a draft whose submit stopped before anything was sent back
// to open, so the patient can confirm again.
func (s *Service) reopen(ctx context.Context, draftID string) {
	if _, err := s.store.SetDraftStatus(context.WithoutCancel(ctx), draftID, DraftBooking, DraftOpen); err != nil {
		s.log.Warn("reopen draft", "draft", short(draftID), "err", err)
	}
}

// send creates the claimed booking's appointment in coreplus, with notes
// (see bookingNotes), and records what coreplus answered, queueing the
// messages due once booked in the same transaction.
func (s *Service) send(ctx context.Context, rec Record, notes string, booked []Message, out Outcome) (Outcome, error) {
	// From here the request may reach coreplus: a patient who closes the
	// page must neither cut the booking off in flight (it would become
	// unknown) nor leave the records half-written. The client's own call
	// timeout bounds the send.
	wctx := context.WithoutCancel(ctx)
	appt, err := s.api.CreateAppointment(wctx, coreplus.NewAppointment{
		Start: rec.Start, End: rec.End,
		PractitionerID: rec.PractitionerID, LocationID: rec.LocationID, AppointmentTypeID: rec.ServiceID,
		ClientID: rec.ClientID, Notes: notes,
		EmailReminder: s.clinic.EmailReminders, SMSReminder: s.clinic.SMSReminders,
	})
	var cpErr *coreplus.Error
	switch {
	case err == nil:
		// coreplus said yes: whatever the store does now, the patient is
		// booked and must never be told otherwise. A record left pending is
		// found in coreplus by the sweeper; a draft left in booking with a
		// booked record shows as booked.
		s.obs.Submitted(SubmitBooked)
		rec.Status, rec.AppointmentID, rec.ReferenceNumber = RecordBooked, appt.ID, appt.ReferenceNumber
		if err := s.store.UpdateBooking(wctx, rec, booked...); err != nil {
			s.log.Warn("booked in coreplus but not recorded; the sweeper will settle it", "draft", short(rec.DraftID), "appointment", appt.ID, "err", err)
			out.Kind = OutcomePending
			return out, nil
		}
		if _, err := s.store.SetDraftStatus(wctx, rec.DraftID, DraftBooking, DraftBooked); err != nil {
			s.log.Warn("booked and recorded, but the draft status was not set", "draft", short(rec.DraftID), "err", err)
		}
		out.Kind = OutcomeBooked
		return out, nil
	case errors.Is(err, coreplus.ErrSlotUnavailable):
		s.settle(wctx, rec, RecordFailed, DraftFailed)
		s.obs.Submitted(SubmitSlotTaken)
		return s.slotTaken(ctx, out)
	case errors.As(err, &cpErr) && cpErr.Sent:
		// It may exist in coreplus. Sending again could book twice.
		s.settle(wctx, rec, RecordUnknown, DraftUnknown)
		s.obs.Submitted(SubmitUnknown)
		s.log.Warn("booking outcome unknown", "draft", short(rec.DraftID), "err", err)
		out.Kind = OutcomePending
		return out, nil
	default:
		s.settle(wctx, rec, RecordFailed, DraftFailed)
		s.obs.Submitted(SubmitFailed)
		return Outcome{}, upstream(fmt.Errorf("create appointment: %w", err))
	}
}

// settle records a booking's outcome and moves its draft on to match.
func (s *Service) settle(ctx context.Context, rec Record, recStatus RecordStatus, draftStatus DraftStatus) {
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
