package booking

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/clinic-booking/portal/internal/coreplus"
)

// Settling bookings whose outcome is unknown: the request was sent and no
// answer came, so the appointment may or may not exist in coreplus.
const (
	// SettleGrace is how long after its last change an unknown booking is
	// only looked for in coreplus, never sent again: long enough for a
	// request still in flight somewhere to land.
	SettleGrace = 2 * time.Minute
	// StalePending is how old a pending booking must be before it is taken
	// to have lost the request that made it (a crash, a restart) and is
	// treated as unknown. A live confirm holds pending for seconds. A
	// pending booking with no client id this old, or a draft in booking
	// with no booking record, lost its request before anything was sent:
	// the one is released and the other reopened. Confirm claims within
	// claimWithin, and names the client within clientWithin of the claim.
	StalePending = 2 * time.Minute
	// UnsettledAlert is how old an unsettled booking must be before every
	// sweep logs it as an alert for a person to look at.
	UnsettledAlert = 15 * time.Minute
	// DefaultSweepEvery is how often the portal settles bookings.
	DefaultSweepEvery = 30 * time.Second
	// SweepRate is the sweeper's share of the upstream budget, in requests
	// a second: a fifth of the 10 coreplus allows the portal for every
	// patient of every clinic. The sweeper paces its looks to it, and one
	// sweep makes at most SweepCalls requests, so a
	// backlog of unsettled bookings is worked through sweep by sweep and
	// never takes the budget patients browse and book with.
	SweepRate = 2
	// SweepCalls is the requests one sweep may make: its interval at
	// SweepRate, so that a sweep ends inside its interval.
	SweepCalls = SweepRate * int64(DefaultSweepEvery/time.Second)
	// sweepBatch bounds the bookings one sweep reads, longest due first.
	sweepBatch = 200
	// lookLease is how long a sweeper that takes a booking to look at holds
	// it: no other replica looks before, and one that fails to look (an
	// error, a crash) leaves it due again after.
	lookLease = DefaultSweepEvery
)

// SettleWithin bounds the time from a booking's send going unanswered to
// its patient's page showing booked or "did not go through", while coreplus
// answers the sweeper and the backlog fits the sweeper's share of the
// budget: the first sweep looks for it (a booking that reached coreplus is
// found then); after SettleGrace it is sent again, once, if it is not
// there; and SettleGrace after that resend also went unanswered it is
// booked if coreplus has it and failed if not. Two graces, a sweep's wait
// for each of the three looks, a call timeout for the resend, and a
// minute for the queue of a 200-booking backlog at SweepRate.
const SettleWithin = 2*SettleGrace + 3*DefaultSweepEvery + 30*time.Second + time.Minute

// ClinicFinder finds a clinic's service by slug; *Directory is one.
type ClinicFinder interface {
	Clinic(ctx context.Context, slug string) (*Service, bool)
}

// Sweeper settles every clinic's unknown bookings, each within
// SettleWithin. For each, it looks in coreplus for the appointment (same
// practitioner, start and client, with the draft's marker in its notes) and
// records it as booked if found. One not found after SettleGrace is sent
// again, once, after re-checking the slot uncached; a slot gone by then
// makes the booking failed, which the patient's confirmation page says
// plainly, with the nearest times. One whose second send went unanswered
// too, and that is not in coreplus SettleGrace after it, is failed.
//
// Each sweep looks at the bookings that are due, the longest due first: a
// booking just made unknown at once, one inside its grace when the grace
// ends, and one whose look failed a lease later, so old bookings stuck on
// an error take their turn behind new ones and never starve them. A sweep
// is paced to Rate requests a second and stops at its share of the
// upstream budget, leaving the rest due for the next.
//
// A draft whose submit died before it sent anything is reopened after
// StalePending, and the patient's confirmation page offers to confirm
// again: one that died before it claimed the slot is in booking with no
// booking record; one that died after claiming it, before it recorded the
// patient's coreplus client, holds a pending record with no client id,
// which is released first (never looked for or sent: a booking is only
// sent once its record names the client).
//
// Several replicas may sweep the same database: every change is a
// compare-and-set on the booking's (or draft's) status and update time, so
// exactly one replica sends a booking again.
type Sweeper struct {
	Clinics ClinicFinder
	Store   Store
	Log     *slog.Logger
	// Now is the store's clock (time.Now if nil): booking times are
	// compared with it, never with a clinic's service clock.
	Now func() time.Time
	// Grace, Stale and Alert default to SettleGrace, StalePending and
	// UnsettledAlert.
	Grace, Stale, Alert time.Duration
	// Pace paces the sweeper's requests to coreplus: what one look spent
	// is waited for before the next. Nil means SweepRate a second.
	Pace *rate.Limiter
	// Calls bounds the requests one sweep makes (one look may overrun it
	// by its own few); SweepCalls if zero.
	Calls int64
	// Observer, when set, is told what each sweep did, for metrics.
	Observer SweepObserver

	paceOnce sync.Once
}

// SweepResult counts what one sweep did.
type SweepResult struct {
	Booked, Failed, Resent, Unsettled int
	// Reopened counts drafts whose submit died before it sent anything,
	// and Released the slots such a submit had claimed.
	Reopened, Released int
	// Deferred counts unknown bookings due for a look that this sweep left
	// to the next, its share of the upstream budget spent; Calls is what
	// it spent, in requests to coreplus.
	Deferred int
	Calls    int64
	// Changes counts patients' changes (cancels, moves) left under way by
	// a lost request that this sweep finished.
	Changes int
}

func (w *Sweeper) defaults() (now func() time.Time, grace, stale, alert time.Duration, log *slog.Logger) {
	now, grace, stale, alert, log = w.Now, w.Grace, w.Stale, w.Alert, w.Log
	if now == nil {
		now = time.Now
	}
	if grace <= 0 {
		grace = SettleGrace
	}
	if stale <= 0 {
		stale = StalePending
	}
	if alert <= 0 {
		alert = UnsettledAlert
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return
}

// Run sweeps now and then every interval until ctx is done.
func (w *Sweeper) Run(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = DefaultSweepEvery
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := w.Sweep(ctx); err != nil && ctx.Err() == nil {
			w.Log.Error("settle bookings", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Sweep settles what it can now. An error settling one booking is logged
// and the others are still tried; the error returned is from listing.
func (w *Sweeper) Sweep(ctx context.Context) (SweepResult, error) {
	now, grace, stale, alert, log := w.defaults()
	var res SweepResult
	if w.Observer != nil {
		// What a sweep cut short did is told too.
		defer func() { w.Observer.Swept(res) }()
	}

	pending, err := w.Store.ListBookingsByStatus(ctx, RecordPending, sweepBatch)
	if err != nil {
		return res, err
	}
	for _, rec := range pending {
		if now().Sub(rec.UpdatedAt) < stale {
			continue
		}
		if rec.ClientID == "" {
			// Claimed, and lost before it named the client: never sent.
			ok, err := w.Store.ReleaseClaim(ctx, rec.DraftID, rec.UpdatedAt)
			if err != nil {
				log.Warn("release stale claim", "draft", short(rec.DraftID), "clinic", rec.Clinic, "err", err)
			} else if ok {
				res.Released++
				log.Warn("submit lost after claiming the slot, before sending; slot released", "draft", short(rec.DraftID), "clinic", rec.Clinic)
			}
			continue
		}
		ok, err := w.Store.SetBookingStatus(ctx, rec.DraftID, RecordPending, rec.UpdatedAt, RecordUnknown)
		if err != nil {
			log.Warn("mark stale pending booking unknown", "draft", short(rec.DraftID), "clinic", rec.Clinic, "err", err)
			continue
		}
		if ok {
			if _, err := w.Store.SetDraftStatus(ctx, rec.DraftID, DraftBooking, DraftUnknown); err != nil {
				log.Warn("set draft status", "draft", short(rec.DraftID), "err", err)
			}
			log.Warn("pending booking lost its request; its outcome is unknown", "draft", short(rec.DraftID), "clinic", rec.Clinic)
		}
	}

	// After the releases above, so that their drafts reopen in this sweep.
	// A failure here is logged: settling bookings matters more.
	reopened, err := w.Store.ReopenStuckDrafts(ctx, now().Add(-stale))
	if err != nil {
		log.Error("reopen stuck drafts", "err", err)
	}
	for _, id := range reopened {
		log.Warn("submit lost before it booked anything; draft reopened", "draft", short(id))
	}
	res.Reopened = len(reopened)
	if n, err := w.Store.AlignDraftStatuses(ctx); err != nil {
		log.Error("align draft statuses with their bookings", "err", err)
	} else if n > 0 {
		log.Warn("draft statuses lagged their bookings; aligned", "drafts", n)
	}

	due, err := w.Store.ListBookingsDue(ctx, RecordUnknown, now(), sweepBatch)
	if err != nil {
		return res, err
	}
	var spent coreplus.CallCount
	// Settling is booking work patients wait on: it goes first in the
	// queue for the budget, and its pace keeps it to its share.
	cctx := coreplus.CountingCalls(coreplus.WithPriority(ctx, coreplus.PriorityUrgent), &spent)
	pace, budget := w.budget()
	for i, rec := range due {
		res.Calls = spent.Load()
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		if spent.Load() >= budget {
			res.Deferred = len(due) - i
			log.Warn("unsettled bookings left to the next sweep: its share of the coreplus budget is spent",
				"deferred", res.Deferred, "calls", spent.Load())
			break
		}
		// The lease: of several replicas that read it due, one looks.
		took, err := w.Store.TakeLook(ctx, rec.DraftID, rec.NextLook, now().Add(lookLease))
		if err != nil {
			log.Warn("take booking to settle", "draft", short(rec.DraftID), "clinic", rec.Clinic, "err", err)
			continue
		}
		if !took {
			continue
		}
		before := spent.Load()
		status := RecordUnknown
		svc, ok := w.Clinics.Clinic(ctx, rec.Clinic)
		if ok {
			st, sent, err := svc.settleUnknown(cctx, rec, now(), grace)
			if err != nil {
				log.Warn("settle booking", "draft", short(rec.DraftID), "clinic", rec.Clinic, "err", err)
			}
			status = st
			if sent {
				res.Resent++
			}
		}
		switch status {
		case RecordBooked:
			res.Booked++
			log.Info("booking settled", "draft", short(rec.DraftID), "clinic", rec.Clinic, "status", status)
		case RecordFailed:
			res.Failed++
			log.Info("booking settled", "draft", short(rec.DraftID), "clinic", rec.Clinic, "status", status)
		default:
			res.Unsettled++
			if age := now().Sub(rec.CreatedAt); age >= alert {
				log.Error("booking still unsettled", "alert", true, "draft", short(rec.DraftID), "clinic", rec.Clinic,
					"clinic_served", ok, "age_s", int(age.Seconds()), "resent", rec.Resent)
			}
		}
		// Paced to the sweeper's share: what this look spent is paid for
		// before the next one starts.
		for range spent.Load() - before {
			if err := pace.Wait(ctx); err != nil {
				return res, err
			}
		}
	}
	res.Changes = w.finishChanges(ctx, cctx, now(), stale, log)
	res.Calls = spent.Load()
	return res, nil
}

// finishChanges finishes the patients' changes (manage.go) whose request
// was lost, begun at least stale ago: each is sent again and its outcome
// recorded, so the patient holds exactly the appointment the portal says.
// It returns how many it finished.
func (w *Sweeper) finishChanges(ctx, cctx context.Context, now time.Time, stale time.Duration, log *slog.Logger) int {
	begun, err := w.Store.ListChangesBegun(ctx, now.Add(-stale), sweepBatch)
	if err != nil {
		log.Error("list changes under way", "err", err)
		return 0
	}
	done := 0
	for _, rec := range begun {
		svc, ok := w.Clinics.Clinic(ctx, rec.Clinic)
		if !ok || ctx.Err() != nil {
			continue
		}
		next, err := svc.finishChange(cctx, rec)
		if err != nil || next.Change != ChangeNone {
			log.Warn("finish a change under way", "draft", short(rec.DraftID), "clinic", rec.Clinic, "change", rec.Change, "err", err)
			continue
		}
		done++
		log.Info("change finished", "draft", short(rec.DraftID), "clinic", rec.Clinic, "change", rec.Change, "status", next.Status)
	}
	return done
}

// budget returns the limiter that paces the sweeper's requests, kept from
// sweep to sweep, and the requests one sweep may make.
func (w *Sweeper) budget() (*rate.Limiter, int64) {
	w.paceOnce.Do(func() {
		if w.Pace == nil {
			w.Pace = rate.NewLimiter(SweepRate, SweepRate)
		}
	})
	if w.Calls > 0 {
		return w.Pace, w.Calls
	}
	return w.Pace, SweepCalls
}

// settleUnknown settles one unknown booking, reporting the status it ends
// in and whether it sent the booking again.
func (s *Service) settleUnknown(ctx context.Context, rec Record, now time.Time, grace time.Duration) (status RecordStatus, sent bool, err error) {
	loc, err := s.location(ctx, rec.LocationID)
	if err != nil {
		return RecordUnknown, false, err
	}
	notes := marker(rec.DraftID)
	var details Details // the draft's, for the confirmation once booked
	if d, err := s.store.GetDraft(ctx, rec.DraftID, s.now()); err == nil {
		notes, details = bookingNotes(d.Details, rec), d.Details
	}

	appt, found, err := s.findBooked(ctx, loc, rec, notes)
	if err != nil {
		return RecordUnknown, false, err
	}
	if found {
		return s.recordSettled(ctx, rec, DraftUnknown, appt, details)
	}
	if now.Sub(rec.UpdatedAt) < grace {
		// Too soon to be sure it is not on its way: look again when it
		// would have landed.
		if err := s.store.SetNextLook(ctx, rec.DraftID, rec.UpdatedAt.Add(grace)); err != nil {
			return RecordUnknown, false, err
		}
		return RecordUnknown, false, nil
	}
	if rec.Resent {
		// Sent twice, neither answered, and not in coreplus a grace after
		// the second: it did not go through. Sending a third time could
		// book twice; leaving it unknown would hold the time, and the
		// patient, forever. The patient's page says nothing was booked,
		// with the nearest times.
		s.log.Warn("booking sent twice without an answer and not in coreplus; settled as failed",
			"draft", short(rec.DraftID), "clinic", rec.Clinic)
		return s.recordSettled(ctx, rec, DraftUnknown, coreplus.Appointment{}, details)
	}
	won, err := s.store.ClaimResend(ctx, rec.DraftID, rec.UpdatedAt)
	if err != nil || !won {
		return RecordUnknown, false, err // another replica has it
	}
	rec.Status, rec.Resent = RecordPending, true
	wctx := context.WithoutCancel(ctx)
	release := func(cause error) (RecordStatus, bool, error) {
		// Nothing was sent: put it back to be tried on a later sweep.
		rec.Status, rec.Resent = RecordUnknown, false
		if err := s.store.UpdateBooking(wctx, rec); err != nil {
			return RecordUnknown, false, errors.Join(cause, err)
		}
		return RecordUnknown, false, cause
	}

	state, err := s.checkSlot(ctx, loc, rec.End.Sub(rec.Start), Slot{Start: rec.Start, End: rec.End, Practitioner: Practitioner{ID: rec.PractitionerID}})
	if err != nil {
		return release(err)
	}
	if state != slotFree {
		// The first request may have landed after the look above.
		if appt, found, err := s.findBooked(ctx, loc, rec, notes); err != nil {
			return release(err)
		} else if found {
			return s.recordSettled(ctx, rec, DraftUnknown, appt, details)
		}
		return s.recordSettled(ctx, rec, DraftUnknown, coreplus.Appointment{}, details)
	}

	// Sent detached from the sweep, like a patient's confirm: a shutdown
	// mid-send must not make it unknown twice. The client bounds the call.
	appt, err = s.api.CreateAppointment(wctx, coreplus.NewAppointment{
		Start: rec.Start, End: rec.End, PractitionerID: rec.PractitionerID, LocationID: rec.LocationID,
		AppointmentTypeID: rec.ServiceID, ClientID: rec.ClientID, Notes: notes,
		EmailReminder: s.clinic.EmailReminders, SMSReminder: s.clinic.SMSReminders,
	})
	var cpErr *coreplus.Error
	switch {
	case err == nil:
		st, _, err := s.recordSettled(wctx, rec, DraftUnknown, appt, details)
		return st, true, err
	case errors.Is(err, coreplus.ErrSlotUnavailable):
		// The first request may have landed meanwhile: then the slot is
		// taken by our own appointment.
		if appt, found, ferr := s.findBooked(wctx, loc, rec, notes); ferr != nil {
			rec.Status = RecordUnknown // sent, and not settled: a person looks
			if err2 := s.store.UpdateBooking(wctx, rec); err2 != nil {
				return RecordUnknown, true, errors.Join(ferr, err2)
			}
			return RecordUnknown, true, ferr
		} else if found {
			st, _, err := s.recordSettled(wctx, rec, DraftUnknown, appt, details)
			return st, true, err
		}
		st, _, err := s.recordSettled(wctx, rec, DraftUnknown, coreplus.Appointment{}, details)
		return st, true, err
	case errors.As(err, &cpErr) && cpErr.Sent:
		// Unknown again, and never sent a third time.
		rec.Status = RecordUnknown
		if err2 := s.store.UpdateBooking(wctx, rec); err2 != nil {
			return RecordUnknown, true, errors.Join(err, err2)
		}
		return RecordUnknown, true, fmt.Errorf("resend: %w", err)
	default:
		st, _, err := release(fmt.Errorf("resend: %w", err))
		return st, false, err
	}
}

// recordSettled records the booking as booked with appt, or as failed when
// appt has no id, and moves the draft on from draftFrom to match.
func (s *Service) recordSettled(ctx context.Context, rec Record, draftFrom DraftStatus, appt coreplus.Appointment, d Details) (RecordStatus, bool, error) {
	rec.Status, rec.AppointmentID, rec.ReferenceNumber = RecordBooked, appt.ID, appt.ReferenceNumber
	var due []Message
	if appt.ID == "" {
		rec.Status = RecordFailed
	} else {
		due = bookedMessages(rec, d) // queued with the outcome, by the one sweeper that settles it
	}
	won, err := s.store.SettleBooking(ctx, rec, due...)
	if err != nil {
		return RecordUnknown, false, fmt.Errorf("record settled booking: %w", err)
	}
	if !won {
		// Another replica settled it first: what it wrote stands.
		cur, err := s.store.GetBookingByDraft(ctx, rec.DraftID)
		if err != nil {
			return RecordUnknown, false, fmt.Errorf("read settled booking: %w", err)
		}
		return cur.Status, false, nil
	}
	if _, err := s.store.SetDraftStatus(ctx, rec.DraftID, draftFrom, rec.Status.SettlesDraftAs()); err != nil {
		return rec.Status, false, err
	}
	return rec.Status, false, nil
}

// findBooked looks in coreplus for the appointment a booking record made:
// on its day, with its practitioner, start and client, and the draft's
// marker (or the notes sent, line ends and spacing aside) in its notes.
// When none carries either, coreplus may have rewritten the notes: the one
// appointment of that client with that practitioner at that start is
// taken to be it, since the portal claims each practitioner and start once.
func (s *Service) findBooked(ctx context.Context, loc *Location, rec Record, notes string) (coreplus.Appointment, bool, error) {
	day := rec.Start.In(loc.Zone).Format(dateLayout)
	appts, err := s.api.ListAppointments(ctx, coreplus.AppointmentQuery{
		StartDate: day, EndDate: day, TimezoneID: loc.TimezoneID, ClientID: rec.ClientID,
	})
	if err != nil {
		return coreplus.Appointment{}, false, fmt.Errorf("list appointments: %w", err)
	}
	mark := marker(rec.DraftID)
	var fallback []coreplus.Appointment
	for _, ap := range appts {
		// coreplus ids are GUIDs, which it may spell in either case.
		if ap.Cancelled || !strings.EqualFold(ap.PractitionerID, rec.PractitionerID) || !ap.Start.Equal(rec.Start) ||
			(len(ap.ClientIDs) > 0 && !slices.ContainsFunc(ap.ClientIDs, func(id string) bool { return strings.EqualFold(id, rec.ClientID) })) {
			continue
		}
		// The list leaves notes out: read the appointment itself.
		full, err := s.api.GetAppointment(ctx, ap.ID)
		if errors.Is(err, coreplus.ErrNotFound) {
			continue
		}
		if err != nil {
			return coreplus.Appointment{}, false, fmt.Errorf("get appointment: %w", err)
		}
		if full.ReferenceNumber == "" {
			full.ReferenceNumber = ap.ReferenceNumber
		}
		if full.ID == "" {
			full.ID = ap.ID
		}
		if strings.Contains(full.Notes, mark) || sameNotes(full.Notes, notes) {
			return full, true, nil
		}
		if !strings.Contains(full.Notes, "Booked online (ref ") {
			// Another draft's marker means another booking; no marker may
			// mean notes coreplus rewrote.
			fallback = append(fallback, full)
		}
	}
	if len(fallback) == 1 {
		s.log.Warn("booking found by client, practitioner and start: its notes lack the marker", "draft", short(rec.DraftID), "appointment", fallback[0].ID)
		return fallback[0], true, nil
	}
	return coreplus.Appointment{}, false, nil
}

// sameNotes compares notes as coreplus may keep them: line ends and runs of
// spaces aside.
func sameNotes(a, b string) bool {
	return strings.Join(strings.Fields(a), " ") == strings.Join(strings.Fields(b), " ")
}

// location finds one of the clinic's locations by id.
func (s *Service) location(ctx context.Context, id string) (*Location, error) {
	locs, err := s.Locations(ctx)
	if err != nil {
		return nil, err
	}
	for i := range locs {
		if locs[i].ID == id {
			return &locs[i], nil
		}
	}
	return nil, fmt.Errorf("location %s is not offered online", id)
}

// short is the first 8 characters of a draft id: enough to find it in the
// database, too few to open it.
func short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}
