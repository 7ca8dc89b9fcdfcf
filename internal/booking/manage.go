package booking

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/clinic-booking/portal/internal/coreplus"
)

// A patient manages a booking from the link /{clinic}/manage/{token}: the
// page reads the appointment back from coreplus, and offers to cancel it or
// move it to another time in place (POST /Appointment/{id}).
//
// Every change is recorded in three steps so that a failure at any point
// leaves the patient holding exactly one appointment, and the portal able
// to say which:
//  1. the intent (Begin*): one caller of many (double click, refresh,
//     replicas) wins it; a move puts the booking row on the new time at
//     once, so the held-slot index keeps that time from every other draft;
//  2. the request to coreplus;
//  3. the outcome (Finish*, or Undo/Abandon when coreplus refused).
//
// A change with no clear answer is read back at once; one left between 1
// and 3 (no answer to either, a crash) is finished by the sweeper
// (finishChange) once StalePending old: both changes are idempotent in
// coreplus, so the intent is sent again and its answer recorded; a move
// coreplus refuses then goes back to the time coreplus holds. Meanwhile
// the manage page shows the change under way, and no other change starts.

// Change is a patient's change under way on a booking.
type Change string

const (
	ChangeNone       Change = ""
	ChangeMoving     Change = "moving"
	ChangeCancelling Change = "cancelling"
)

// DefaultCancellationCutoff is the cancellation cut-off of a clinic that
// never set one.
const DefaultCancellationCutoff = 24 * time.Hour

// changeWait bounds how long a request that lost the race for a change (a
// double click) waits for the winner's outcome before showing it as under way.
const changeWait = 8 * time.Second

// ManageState is where a managed booking stands, as the patient sees it.
type ManageState int

const (
	// ManageBooked is an upcoming booked appointment.
	ManageBooked ManageState = iota + 1
	// ManageCancelled is cancelled through the portal.
	ManageCancelled
	// ManageCancelledByClinic was cancelled in coreplus by the clinic.
	ManageCancelledByClinic
	// ManagePending is a booking whose outcome, or whose change, is not
	// known yet.
	ManagePending
)

// Managed is a booking as its manage page shows it.
type Managed struct {
	DraftID   string
	State     ManageState
	Reference string
	// Start, End and the ids are where the appointment stands now.
	Start, End                            time.Time
	LocationID, ServiceID, PractitionerID string
	// Selection names them; empty when the clinic's reference data could
	// not be read.
	Selection Selection
	// MovedByClinic is set on the look that found the clinic had moved
	// the appointment in coreplus since the portal last knew it.
	MovedByClinic bool
	// ChangeBy is the last moment the patient may cancel or move online
	// (the clinic's cut-off before the start); zero when the clinic offers
	// neither online. CanChange says whether that is still ahead.
	ChangeBy  time.Time
	CanChange bool
	Sequence  int
	// Unchecked is set, with a CodeUnavailable error, when coreplus could
	// not be asked: the view is the portal's record, offering no change.
	Unchecked bool
}

// Patient-safe errors of the manage page.
var (
	errManageNotFound = &Error{Code: CodeNotFound, Message: "We couldn't find that booking. Check the link in your email, or call the clinic."}
	errManageEnded    = &Error{Code: CodeNotFound, Message: "This booking's appointment time has passed, so its link no longer works."}
)

// ErrTooLate is the Cause of a change refused because the clinic's
// cancellation cut-off has passed.
var ErrTooLate = errors.New("booking: inside the cancellation cut-off")

// tooLate is the refusal of a change inside the cut-off, with the phone.
func (s *Service) tooLate() error {
	msg := "It's too late to change this booking online."
	if cut := s.clinic.CancellationCutoff; cut > 0 {
		msg = "Online changes close " + cutoffLabel(cut) + " before the appointment, so it's too late to change this booking online."
	}
	if s.clinic.Phone != "" {
		msg += " Please call " + s.clinic.Name + " on " + s.clinic.Phone + "."
	} else {
		msg += " Please call " + s.clinic.Name + "."
	}
	return &Error{Code: CodeInvalid, Message: msg, Cause: ErrTooLate}
}

// cutoffLabel says a cut-off as a patient reads it: "24 hours", "90 minutes".
func cutoffLabel(d time.Duration) string {
	switch {
	case d >= 48*time.Hour && d%(24*time.Hour) == 0:
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	case d == time.Hour:
		return "1 hour"
	case d%time.Hour == 0:
		return fmt.Sprintf("%d hours", d/time.Hour)
	default:
		return fmt.Sprintf("%d minutes", d/time.Minute)
	}
}

// ManageRefusal explains why online changes are closed for m, with the
// clinic's phone number; "" when they are open.
func (s *Service) ManageRefusal(m Managed) string {
	if m.CanChange || m.State != ManageBooked {
		return ""
	}
	var be *Error
	errors.As(s.tooLate(), &be)
	return be.Message
}

// ManagedBooking reads the booking made from draftID back from coreplus, as
// the patient's manage page shows it. A change left under way is finished
// first; what staff did in coreplus (cancelled or moved it) is recorded, so
// the portal's own records stay true. Errors are patient-safe.
func (s *Service) ManagedBooking(ctx context.Context, draftID string) (Managed, error) {
	rec, err := s.managedRecord(ctx, draftID)
	if err != nil {
		return Managed{}, err
	}
	return s.lookAt(ctx, rec)
}

// managedRecord is the booking record of draftID. A change under way that
// lost its request is the sweeper's to finish (on the store's clock); until
// then the page shows it under way.
func (s *Service) managedRecord(ctx context.Context, draftID string) (Record, error) {
	rec, err := s.store.GetBookingByDraft(ctx, draftID)
	if errors.Is(err, ErrNoBooking) {
		return Record{}, errManageNotFound
	}
	if err != nil {
		return Record{}, fmt.Errorf("get booking: %w", err)
	}
	if rec.Clinic != s.clinic.Slug {
		return Record{}, errManageNotFound
	}
	return rec, nil
}

// lookAt turns a record into the page's view, reading a booked one back
// from coreplus.
func (s *Service) lookAt(ctx context.Context, rec Record) (Managed, error) {
	now := s.now()
	if !rec.End.After(now) {
		return Managed{}, errManageEnded
	}
	m := s.managed(rec)
	switch {
	case rec.Change != ChangeNone:
		m.State = ManagePending
		return m, nil
	case rec.Status == RecordCancelled:
		m.State = ManageCancelled
		m.Selection = s.namesFor(ctx, rec)
		return m, nil
	case rec.Status == RecordPending || rec.Status == RecordUnknown:
		m.State = ManagePending
		return m, nil
	case rec.Status != RecordBooked:
		return Managed{}, errManageNotFound
	}
	appt, err := s.api.GetAppointment(ctx, rec.AppointmentID)
	if errors.Is(err, coreplus.ErrNotFound) {
		return Managed{}, errManageNotFound
	}
	if err != nil {
		m.State, m.Unchecked, m.CanChange = ManageBooked, true, false
		m.Selection = s.namesFor(ctx, rec)
		return m, upstream(fmt.Errorf("read back appointment: %w", err))
	}
	switch {
	case appt.Cancelled:
		if _, err := s.store.MarkCancelled(ctx, rec.DraftID); err != nil {
			s.log.Warn("record a cancel made in coreplus", "draft", short(rec.DraftID), "err", err)
		} else {
			s.freedTime(ctx, rec.LocationID, rec.Start)
		}
		m.State = ManageCancelledByClinic
		m.CanChange = false
		m.Selection = s.namesFor(ctx, rec)
		return m, nil
	case !appt.Start.Equal(rec.Start) || !strings.EqualFold(appt.PractitionerID, rec.PractitionerID):
		recorded, err := s.store.RecordMovedTo(ctx, rec.DraftID, rec.PractitionerID, rec.Start, appt.PractitionerID, appt.Start, appt.End)
		switch {
		case err != nil:
			s.log.Warn("record a move made in coreplus", "draft", short(rec.DraftID), "err", err)
		case recorded:
			s.heldChanged()
		default:
			// The booking changed since it was read (the patient's own move,
			// pressed again or on another replica): look at it as it is now.
			if next, err := s.store.GetBookingByDraft(ctx, rec.DraftID); err == nil && !next.Start.Equal(rec.Start) {
				return s.lookAt(ctx, next)
			}
		}
		rec.PractitionerID, rec.Start, rec.End = appt.PractitionerID, appt.Start, appt.End
		rec.Sequence++
		m = s.managed(rec)
		m.MovedByClinic = true
		if !rec.End.After(now) {
			return Managed{}, errManageEnded
		}
	}
	m.State = ManageBooked
	m.Selection = s.namesFor(ctx, rec)
	return m, nil
}

// managed is rec's view before coreplus is asked.
func (s *Service) managed(rec Record) Managed {
	m := Managed{
		DraftID: rec.DraftID, Reference: rec.ReferenceNumber, Start: rec.Start, End: rec.End,
		LocationID: rec.LocationID, ServiceID: rec.ServiceID, PractitionerID: rec.PractitionerID,
		Sequence: rec.Sequence,
	}
	if cut := s.clinic.CancellationCutoff; cut > 0 {
		m.ChangeBy = rec.Start.Add(-cut)
		m.CanChange = rec.Status == RecordBooked && rec.Change == ChangeNone && s.now().Before(m.ChangeBy)
	}
	return m
}

// namesFor names a record's location, service, practitioner and time.
func (s *Service) namesFor(ctx context.Context, rec Record) Selection {
	sel := s.resolveForPage(ctx, Choice{
		LocationID: rec.LocationID, ServiceID: rec.ServiceID, PractitionerID: rec.PractitionerID,
		Slot: rec.Start.Format(time.RFC3339), With: rec.PractitionerID,
	})
	if sel.Slot != nil {
		sel.Slot.End = rec.End.In(sel.Location.Zone)
	}
	return sel
}

// CancelBooking cancels the booking made from draftID in coreplus and
// records it cancelled, its time offered again at once. Cancelling a
// cancelled booking answers as the first cancel did. Errors are
// patient-safe; one inside the cut-off has ErrTooLate as its cause.
func (s *Service) CancelBooking(ctx context.Context, draftID string) (Managed, error) {
	ctx = coreplus.WithPriority(ctx, coreplus.PriorityUrgent)
	rec, err := s.managedRecord(ctx, draftID)
	if err != nil {
		return Managed{}, err
	}
	if rec.Status == RecordCancelled || rec.Change == ChangeCancelling {
		return s.awaitChange(ctx, rec)
	}
	if err := s.changeAllowed(rec); err != nil {
		return Managed{}, err
	}
	won, err := s.store.BeginCancel(ctx, rec.DraftID)
	if err != nil {
		return Managed{}, fmt.Errorf("begin cancel: %w", err)
	}
	if !won {
		// Another click or replica changed it first: show its outcome.
		return s.awaitChange(ctx, rec)
	}
	rec.Change, rec.ChangeStartedAt = ChangeCancelling, s.now()
	next, err := s.sendCancel(ctx, rec)
	if err != nil {
		return Managed{}, err
	}
	return s.lookAt(ctx, next)
}

// changeAllowed refuses a change to rec that is not booked, is over, or is
// inside the clinic's cut-off.
func (s *Service) changeAllowed(rec Record) error {
	now := s.now()
	switch {
	case !rec.End.After(now):
		return errManageEnded
	case rec.Status == RecordCancelled:
		return &Error{Code: CodeInvalid, Message: "This booking has been cancelled, so it can't be changed. You can book a new appointment."}
	case rec.Status != RecordBooked:
		return &Error{Code: CodeInvalid, Message: "This booking is still being confirmed. Try again in a minute."}
	case rec.Change != ChangeNone:
		return &Error{Code: CodeInvalid, Message: "A change to this booking is under way. Try again in a minute."}
	}
	if cut := s.clinic.CancellationCutoff; cut <= 0 || !now.Before(rec.Start.Add(-cut)) {
		return s.tooLate()
	}
	return nil
}

// sendCancel sends the cancel begun on rec and records its outcome. When
// coreplus's answer is unclear the cancel stays under way, for the next look
// to finish (cancelling is idempotent in coreplus).
func (s *Service) sendCancel(ctx context.Context, rec Record) (Record, error) {
	err := s.api.CancelAppointment(ctx, rec.AppointmentID)
	switch {
	case err == nil, errors.Is(err, coreplus.ErrNotFound):
		if _, err := s.store.FinishCancel(ctx, rec.DraftID, changedMessage(MessageCancelled, rec)); s.changeRecorded("cancel", rec.DraftID, err) != nil {
			return rec, fmt.Errorf("record cancel: %w", err)
		}
		s.freedTime(ctx, rec.LocationID, rec.Start)
		rec.Status, rec.Change, rec.Sequence = RecordCancelled, ChangeNone, rec.Sequence+1
		return rec, nil
	case errors.Is(err, coreplus.ErrRejected):
		if _, aerr := s.store.AbandonCancel(ctx, rec.DraftID); aerr != nil {
			s.log.Warn("abandon a refused cancel", "draft", short(rec.DraftID), "err", aerr)
		}
		return rec, &Error{Code: CodeUnavailable, Message: "The clinic's booking system didn't accept the cancel, so your booking is unchanged.", Cause: err}
	}
	if appt, rerr := s.api.GetAppointment(ctx, rec.AppointmentID); rerr == nil && appt.Cancelled {
		if _, err := s.store.FinishCancel(ctx, rec.DraftID, changedMessage(MessageCancelled, rec)); s.changeRecorded("cancel", rec.DraftID, err) != nil {
			return rec, fmt.Errorf("record cancel: %w", err)
		}
		s.freedTime(ctx, rec.LocationID, rec.Start)
		rec.Status, rec.Change, rec.Sequence = RecordCancelled, ChangeNone, rec.Sequence+1
		return rec, nil
	}
	s.log.Warn("cancel sent with no clear answer; it stays under way for the next look", "draft", short(rec.DraftID), "err", err)
	return rec, &Error{Code: CodeUnavailable,
		Message: "We couldn't confirm the cancel with the clinic's booking system yet. We'll finish it: open this page again in a few minutes to see it done.",
		Cause:   err}
}

// MoveBooking moves the booking made from draftID to sel's time in place
// (the same appointment, location and service; any practitioner the clinic
// allows), under the clinic's notice, window and cut-off. Moving it to the
// time it already has answers as the move that put it there did. A time
// gone meanwhile is a CodeTaken error.
func (s *Service) MoveBooking(ctx context.Context, draftID string, sel Selection) (Managed, error) {
	ctx = coreplus.WithPriority(ctx, coreplus.PriorityUrgent)
	if sel.Location == nil || sel.Service == nil || sel.Slot == nil {
		return Managed{}, invalid("Choose a new time first.")
	}
	rec, err := s.managedRecord(ctx, draftID)
	if err != nil {
		return Managed{}, err
	}
	sl := *sel.Slot
	if rec.Change == ChangeMoving && rec.Start.Equal(sl.Start) && rec.PractitionerID == sl.Practitioner.ID {
		return s.awaitChange(ctx, rec)
	}
	if rec.Status == RecordBooked && rec.Change == ChangeNone && rec.Start.Equal(sl.Start) && rec.PractitionerID == sl.Practitioner.ID {
		return s.lookAt(ctx, rec) // a second click on the move that put it there
	}
	if err := s.changeAllowed(rec); err != nil {
		return Managed{}, err
	}
	if sel.Location.ID != rec.LocationID || sel.Service.ID != rec.ServiceID {
		return Managed{}, invalid("A booking can only move to another time for the same service and place. Choose a time again.")
	}
	if err := s.CheckSlot(ctx, sel); err != nil {
		return s.movedThereMeanwhile(ctx, rec.DraftID, sl, err)
	}
	switch state, err := s.checkSlot(ctx, sel.Location, sel.Service.Length(), sl); {
	case err != nil:
		return Managed{}, err
	case state == slotNotOffered:
		return s.movedThereMeanwhile(ctx, rec.DraftID, sl, errSlotNotOffered())
	case state != slotFree:
		return s.movedThereMeanwhile(ctx, rec.DraftID, sl, errTimeTaken)
	}
	won, err := s.store.BeginMove(ctx, rec.DraftID, rec.PractitionerID, rec.Start, sl.Practitioner.ID, sl.Start, sl.End)
	switch {
	case errors.Is(err, ErrSlotClaimed):
		return Managed{}, errTimeTaken
	case err != nil:
		return Managed{}, fmt.Errorf("begin move: %w", err)
	case !won:
		// Another press or replica changed it since it was read: show
		// the outcome of that change.
		next, err := s.store.GetBookingByDraft(ctx, rec.DraftID)
		if err != nil {
			return Managed{}, fmt.Errorf("get booking: %w", err)
		}
		return s.awaitChange(ctx, next)
	}
	s.heldChanged() // the new time leaves this replica's pages at once
	moving := rec
	moving.Change, moving.ChangeStartedAt = ChangeMoving, s.now()
	moving.PrevPractitionerID, moving.PrevStart, moving.PrevEnd = rec.PractitionerID, rec.Start, rec.End
	moving.PractitionerID, moving.Start, moving.End = sl.Practitioner.ID, sl.Start, sl.End
	next, err := s.sendMove(ctx, moving, false)
	if err != nil {
		return Managed{}, err
	}
	return s.lookAt(ctx, next)
}

// movedThereMeanwhile answers a move whose time is no longer free: when
// it went to this very booking (another press of the same move, on this
// replica or another, began it since this one read the booking), with
// that move's outcome; else with err.
func (s *Service) movedThereMeanwhile(ctx context.Context, draftID string, sl Slot, err error) (Managed, error) {
	next, gerr := s.store.GetBookingByDraft(ctx, draftID)
	if gerr != nil || !next.Start.Equal(sl.Start) || next.PractitionerID != sl.Practitioner.ID ||
		next.Status != RecordBooked || next.Change == ChangeCancelling {
		return Managed{}, err
	}
	return s.awaitChange(ctx, next)
}

// errTimeTaken is the answer to a move onto a time that went meanwhile.
var errTimeTaken = &Error{Code: CodeTaken, Message: "That time has just been taken, so your booking is unchanged. Please choose another time."}

// sendMove sends the move begun on rec (rec holds the new time, Prev* the
// old) and records its outcome: moved, or back on the time coreplus holds.
// With no clear answer it reads the appointment back; when that fails too
// the move stays under way, for the next look. quiet is the sweeper's
// call: no patient is waiting on the answer.
func (s *Service) sendMove(ctx context.Context, rec Record, quiet bool) (Record, error) {
	_, err := s.api.UpdateAppointment(ctx, rec.AppointmentID, coreplus.AppointmentMove{
		Start: rec.Start, End: rec.End, PractitionerID: rec.PractitionerID,
	})
	if err == nil {
		return s.moved(ctx, rec)
	}
	taken := errors.Is(err, coreplus.ErrSlotUnavailable)
	if !taken {
		s.log.Warn("move sent with no clear answer; reading the appointment back", "draft", short(rec.DraftID), "err", err)
	}
	appt, rerr := s.api.GetAppointment(ctx, rec.AppointmentID)
	if rerr != nil {
		return rec, &Error{Code: CodeUnavailable,
			Message: "We couldn't confirm the change with the clinic's booking system yet. We'll finish it: open this page again in a few minutes to see which time you hold.",
			Cause:   errors.Join(err, rerr)}
	}
	if !appt.Cancelled && appt.Start.Equal(rec.Start) && strings.EqualFold(appt.PractitionerID, rec.PractitionerID) {
		return s.moved(ctx, rec)
	}
	back, uerr := s.undoMove(ctx, rec, appt)
	if uerr != nil {
		return rec, uerr
	}
	switch {
	case quiet:
		return back, nil
	case taken:
		return back, errTimeTaken
	}
	return back, &Error{Code: CodeUnavailable, Message: "The clinic's booking system didn't make the change, so your booking is unchanged. Please try again.", Cause: err}
}

// moved records a move coreplus made, and offers the old time again.
func (s *Service) moved(ctx context.Context, rec Record) (Record, error) {
	if _, err := s.store.FinishMove(ctx, rec.DraftID, changedMessage(MessageMoved, rec)); s.changeRecorded("move", rec.DraftID, err) != nil {
		return rec, fmt.Errorf("record move: %w", err)
	}
	s.freedTime(ctx, rec.LocationID, rec.PrevStart)
	rec.Change, rec.Sequence = ChangeNone, rec.Sequence+1
	rec.PrevPractitionerID, rec.PrevStart, rec.PrevEnd = "", time.Time{}, time.Time{}
	return rec, nil
}

// undoMove puts rec back where coreplus has the appointment: its old time,
// or wherever staff put it meanwhile.
func (s *Service) undoMove(ctx context.Context, rec Record, appt coreplus.Appointment) (Record, error) {
	if _, err := s.store.UndoMove(ctx, rec.DraftID); err != nil {
		return rec, fmt.Errorf("undo move: %w", err)
	}
	s.heldChanged()
	rec.Change = ChangeNone
	rec.PractitionerID, rec.Start, rec.End = rec.PrevPractitionerID, rec.PrevStart, rec.PrevEnd
	rec.PrevPractitionerID, rec.PrevStart, rec.PrevEnd = "", time.Time{}, time.Time{}
	if appt.Cancelled {
		if _, err := s.store.MarkCancelled(ctx, rec.DraftID); err != nil {
			return rec, fmt.Errorf("record a cancel made in coreplus: %w", err)
		}
		rec.Status = RecordCancelled
		return rec, nil
	}
	if !appt.Start.Equal(rec.Start) || !strings.EqualFold(appt.PractitionerID, rec.PractitionerID) {
		if _, err := s.store.RecordMovedTo(ctx, rec.DraftID, rec.PractitionerID, rec.Start, appt.PractitionerID, appt.Start, appt.End); err != nil {
			return rec, fmt.Errorf("record a move made in coreplus: %w", err)
		}
		rec.PractitionerID, rec.Start, rec.End = appt.PractitionerID, appt.Start, appt.End
	}
	return rec, nil
}

// awaitChange waits, up to changeWait, for the change under way on rec's
// booking (another click's, or another replica's) to be recorded, and shows
// the booking as it then stands: under way still, if it was not.
func (s *Service) awaitChange(ctx context.Context, rec Record) (Managed, error) {
	deadline := time.Now().Add(changeWait)
	for rec.Change != ChangeNone && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return Managed{}, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		next, err := s.store.GetBookingByDraft(ctx, rec.DraftID)
		if err != nil {
			return Managed{}, fmt.Errorf("get booking: %w", err)
		}
		rec = next
	}
	return s.lookAt(ctx, rec)
}

// finishChange finishes a change that lost its request (no answer, a
// crash): it sends the intent again, both changes being idempotent in
// coreplus, and records the outcome.
func (s *Service) finishChange(ctx context.Context, rec Record) (Record, error) {
	switch rec.Change {
	case ChangeCancelling:
		next, err := s.sendCancel(ctx, rec)
		if err != nil && next.Change != ChangeNone {
			return rec, err
		}
		return next, nil
	case ChangeMoving:
		next, err := s.sendMove(ctx, rec, true)
		if err != nil {
			return rec, err
		}
		return next, nil
	}
	return rec, nil
}

// freedTime makes a time the portal has just freed in coreplus (a cancel, or
// the old time of a move) offered again at once: the free time of its span
// is read anew, for this replica's pages and, through the shared spans,
// every replica's. A failure only leaves the time to the next refresh.
func (s *Service) freedTime(ctx context.Context, locationID string, start time.Time) {
	s.heldChanged()
	loc, err := s.location(ctx, locationID)
	if err != nil {
		s.log.Warn("refresh free time after a change", "location", locationID, "err", err)
		return
	}
	first := spanStart(dayOf(start, loc.Zone))
	q := coreplus.SlotQuery{
		StartDate: first.Format(dateLayout), EndDate: addDays(first, spanDays-1).Format(dateLayout),
		TimezoneID: loc.TimezoneID, LocationIDs: []string{loc.ID},
	}
	blocks, err := s.api.FindAvailability(ctx, q)
	if err != nil {
		s.log.Warn("refresh free time after a change", "location", locationID, "err", err)
		return
	}
	s.slots.put(strings.Join([]string{"span", loc.ID, loc.TimezoneID, q.StartDate}, "|"), blocks)
	if s.shared != nil {
		k := SpanKey{Clinic: s.clinic.Slug, LocationID: loc.ID, TimezoneID: loc.TimezoneID, Start: q.StartDate}
		if err := s.shared.PutSpan(ctx, k, blocks, s.now()); err != nil {
			s.log.Warn("share free time after a change", "location", locationID, "err", err)
		}
	}
	s.weeks.dropAll()
}
