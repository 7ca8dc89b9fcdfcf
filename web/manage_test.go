package web_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/internal/coreplus"
	"github.com/clinic-booking/portal/internal/coreplus/sandbox"
	"github.com/clinic-booking/portal/internal/store"
	"github.com/clinic-booking/portal/web"
)

// withCutoff sets the clinic's cancellation cut-off.
func withCutoff(d time.Duration) harnessOption {
	return func(c *booking.Clinic) { c.CancellationCutoff = d }
}

// changeCounter counts the changes the portal asks of coreplus.
type changeCounter struct {
	booking.Coreplus
	cancels, moves *atomic.Int32
}

func (c changeCounter) CancelAppointment(ctx context.Context, id string) error {
	c.cancels.Add(1)
	return c.Coreplus.CancelAppointment(ctx, id)
}

func (c changeCounter) UpdateAppointment(ctx context.Context, id string, m coreplus.AppointmentMove) (coreplus.Appointment, error) {
	c.moves.Add(1)
	return c.Coreplus.UpdateAppointment(ctx, id, m)
}

type manageHarness struct {
	*harness
	cancels, moves atomic.Int32
	// confirmationToken is the signed draft id of the last booking's
	// confirmation page, /demo/booking/{token}/.
	confirmationToken string
}

func newManageHarness(t *testing.T, opts ...harnessOption) *manageHarness {
	mh := &manageHarness{}
	mh.harness = newHarnessSetup(t, harnessSetup{upstream: func(c booking.Coreplus) booking.Coreplus {
		return changeCounter{c, &mh.cancels, &mh.moves}
	}}, opts...)
	return mh
}

// book books the first free time with Tom and returns the confirmation's
// manage link, the draft id it opens and the sandbox appointment.
func (h *manageHarness) book() (manage, draftID string, appt sandbox.Appointment) {
	h.t.Helper()
	done := h.confirm(h.toReview(newPatient, "Tom Whitfield")).WantH1("Booking confirmed")
	h.confirmationToken = strings.Trim(strings.TrimPrefix(strings.SplitN(rel(done.URL), "?", 2)[0], "/demo/booking/"), "/")
	manage = done.Link("Change or cancel this booking")
	token := strings.TrimPrefix(manage, "/demo/manage/")
	draftID, _, _ = strings.Cut(token, ".")
	appts := h.portalAppointments()
	if len(appts) != 1 {
		h.t.Fatalf("%d portal appointments after booking, want 1", len(appts))
	}
	return manage, draftID, appts[0]
}

func (h *manageHarness) record(draftID string) store.Booking {
	h.t.Helper()
	b, err := h.db.GetBookingByDraft(context.Background(), draftID)
	if err != nil {
		h.t.Fatal(err)
	}
	return b
}

func (h *manageHarness) sandboxAppointment(id string) sandbox.Appointment {
	h.t.Helper()
	for _, a := range h.sb.Appointments() {
		if a.ID == id {
			return a
		}
	}
	h.t.Fatalf("no appointment %s in the sandbox", id)
	return sandbox.Appointment{}
}

// offered reports whether the booking flow's time step offers Tom at start.
func (h *manageHarness) offered(start time.Time) bool {
	h.t.Helper()
	day := start.In(sydney).Format("2006-01-02")
	page := h.get("/demo/book?" + url.Values{"location": {sandbox.LocationSydneyID}, "type": {sandbox.AppointmentTypeStandardID},
		"practitioner": {sandbox.PractitionerTomID}, "date": {day}}.Encode())
	want := start.In(sydney).Format(time.RFC3339)
	return page.Doc.Find(`ul.slots a[data-slot="`+want+`"]`).Length() > 0
}

// TestManageCancelBeforeCutoff: the confirmation links to the booking's
// page; cancelling there (after a confirm step) cancels the appointment in
// coreplus once, however often it is pressed, records the booking
// cancelled, offers the time again at once and offers to book again.
func TestManageCancelBeforeCutoff(t *testing.T) {
	h := newManageHarness(t, withCutoff(time.Hour))
	manage, draftID, appt := h.book()
	if h.offered(appt.Start) {
		t.Fatal("the booked time is still offered")
	}

	page := h.get(manage).WantH1("Your booking")
	for _, want := range []string{appt.ReferenceNumber, "Tom Whitfield", "Standard Consultation", "Harbourside Physio Surry Hills", "You can change or cancel this booking online until"} {
		if !strings.Contains(page.Text(), want) {
			t.Errorf("manage page lacks %q:\n%s", want, page.Text())
		}
	}
	confirmStep := h.get(page.Link("Cancel this booking")).WantH1("Cancel this booking?")
	if a := h.sandboxAppointment(appt.ID); a.Status != "Booked" {
		t.Fatalf("the confirm step cancelled already: %s", a.Status)
	}
	action, form := confirmStep.Form()
	done := h.post(action, form).WantH1("Your booking is cancelled")
	if !strings.Contains(done.Text(), appt.ReferenceNumber) {
		t.Errorf("cancelled page lacks the reference:\n%s", done.Text())
	}
	again := done.Link("Book again")
	if q, _ := url.Parse(again); q.Query().Get("type") != sandbox.AppointmentTypeStandardID || q.Query().Get("location") != sandbox.LocationSydneyID ||
		q.Query().Get("practitioner") != sandbox.PractitionerTomID {
		t.Errorf("book again link %s lacks the booking's choices", again)
	}
	if a := h.sandboxAppointment(appt.ID); a.Status != "Cancelled" {
		t.Errorf("sandbox appointment %s, want Cancelled", a.Status)
	}
	if rec := h.record(draftID); rec.Status != string(booking.RecordCancelled) || rec.ChangeState != "" {
		t.Errorf("portal record %s/%q, want cancelled at rest", rec.Status, rec.ChangeState)
	}
	if !h.offered(appt.Start) {
		t.Error("the cancelled time is not offered again")
	}

	// Pressing again, and a refresh, answer the same; coreplus heard one cancel.
	h.post(action, form).WantH1("Your booking is cancelled")
	h.get(manage).WantH1("This booking is cancelled")
	// The confirmation's own link now leads to the cancelled booking.
	h.get("/demo/booking/" + h.confirmationToken + "/").WantH1("This booking is cancelled")
	if n := h.cancels.Load(); n != 1 {
		t.Errorf("%d cancels sent to coreplus, want 1", n)
	}
	h.assertPrivate(newPatient)
	if token := strings.TrimPrefix(manage, "/demo/manage/"); strings.Contains(h.logs.String(), token) {
		t.Errorf("the manage token is in the logs:\n%s", h.logs.String())
	}
}

// postTwiceAtOnce sends the form twice at the same moment, as a double
// click does, and returns where each answer redirects.
func (h *manageHarness) postTwiceAtOnce(action string, form url.Values) []string {
	h.t.Helper()
	var wg sync.WaitGroup
	locs := make([]string, 2)
	for i := range locs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPost, h.abs(action), strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", h.portal.URL)
			req.Header.Set("Sec-Fetch-Site", "same-origin")
			resp, err := h.http.Do(req)
			if err != nil {
				h.t.Error(err)
				return
			}
			resp.Body.Close()
			locs[i] = resp.Status + " " + resp.Header.Get("Location")
		}()
	}
	wg.Wait()
	return locs
}

// TestManageDoubleSubmitChangesOnce: two presses at once of the cancel,
// and of a move, each end in one change sent to coreplus, and both presses
// show its outcome.
func TestManageDoubleSubmitChangesOnce(t *testing.T) {
	h := newManageHarness(t, withCutoff(time.Hour))
	manage, draftID, appt := h.book()

	day := appt.Start.In(sydney)
	other := time.Date(day.Year(), day.Month(), day.Day()+2, 0, 0, 0, 0, sydney).Format("2006-01-02")
	slot, _ := h.get(manage + "/reschedule?date=" + other).FirstSlot()
	action, form := h.get(slot).WantH1("Check your new time").Form()
	for _, l := range h.postTwiceAtOnce(action, form) {
		if !strings.HasPrefix(l, "303") || !strings.Contains(l, "done=moved") {
			t.Errorf("a press of the move answered %q, want the moved page", l)
		}
	}
	if n := h.moves.Load(); n != 1 {
		t.Errorf("%d moves sent to coreplus, want 1", n)
	}
	newStart, _ := time.Parse(time.RFC3339, form.Get("slot"))
	if a := h.sandboxAppointment(appt.ID); !a.Start.Equal(newStart) {
		t.Errorf("sandbox appointment at %s, want %s", a.Start, newStart)
	}
	if rec := h.record(draftID); rec.Sequence != 1 || !rec.Start.Equal(newStart) {
		t.Errorf("record after a double move: %+v", rec)
	}

	action, form = h.get(h.get(manage).Link("Cancel this booking")).Form()
	for _, l := range h.postTwiceAtOnce(action, form) {
		if !strings.HasPrefix(l, "303") || !strings.Contains(l, "done=cancelled") {
			t.Errorf("a press of the cancel answered %q, want the cancelled page", l)
		}
	}
	if n := h.cancels.Load(); n != 1 {
		t.Errorf("%d cancels sent to coreplus, want 1", n)
	}
	if a := h.sandboxAppointment(appt.ID); a.Status != "Cancelled" {
		t.Errorf("sandbox appointment %s, want Cancelled", a.Status)
	}
}

// TestManageCancelRefusedInsideCutoff: inside the cut-off the page offers
// no cancel, says why and gives the phone number; a cancel posted anyway is
// refused with the same words and nothing reaches coreplus.
func TestManageCancelRefusedInsideCutoff(t *testing.T) {
	h := newManageHarness(t, withCutoff(48*time.Hour))
	manage, draftID, appt := h.book()
	page := h.get(manage).WantH1("Your booking")
	for _, want := range []string{"Online changes close 2 days before the appointment", "07 3000 0000"} {
		if !strings.Contains(page.Text(), want) {
			t.Errorf("manage page inside the cut-off lacks %q:\n%s", want, page.Text())
		}
	}
	if page.Doc.Find("a:contains('Cancel this booking'), a:contains('Choose another time')").Length() != 0 {
		t.Errorf("inside the cut-off the page still offers changes:\n%s", page.Text())
	}
	h.get(manage + "/cancel").WantH1("Your booking") // the confirm step is not offered either
	refused := h.post(manage+"/cancel", url.Values{})
	if refused.Status != http.StatusConflict || !strings.Contains(refused.Text(), "too late to change this booking online") {
		t.Errorf("cancel inside the cut-off: %d\n%s", refused.Status, refused.Text())
	}
	if h.cancels.Load() != 0 || h.sandboxAppointment(appt.ID).Status != "Booked" || h.record(draftID).Status != string(booking.RecordBooked) {
		t.Error("a cancel inside the cut-off reached coreplus or the record")
	}
}

// TestManageNoOnlineChanges: a clinic whose cut-off is 0 offers neither.
func TestManageNoOnlineChanges(t *testing.T) {
	h := newManageHarness(t, withCutoff(0))
	manage, _, _ := h.book()
	page := h.get(manage).WantH1("Your booking")
	if !strings.Contains(page.Text(), "too late to change this booking online") && !strings.Contains(page.Text(), "change this booking online") {
		t.Errorf("no reason given:\n%s", page.Text())
	}
	if page.Doc.Find("a:contains('Cancel this booking')").Length() != 0 {
		t.Error("a clinic with no online cancelling offers it")
	}
}

// TestManageRescheduleToAnotherDay: the time step for the same service and
// place, a review, then the move in place: the same appointment in
// coreplus at the new time, the record following it with its sequence up,
// the old time offered again; a second press moves nothing more.
func TestManageRescheduleToAnotherDay(t *testing.T) {
	h := newManageHarness(t, withCutoff(time.Hour))
	manage, draftID, appt := h.book()
	day := appt.Start.In(sydney)
	other := time.Date(day.Year(), day.Month(), day.Day()+2, 0, 0, 0, 0, sydney).Format("2006-01-02")

	times := h.get(h.get(manage).Link("Choose another time")).WantH1("Choose a new time")
	if !strings.Contains(times.Text(), "Standard Consultation") {
		t.Errorf("time step lacks the service:\n%s", times.Text())
	}
	times = h.get(manage + "/reschedule?date=" + other).WantH1("Choose a new time")
	slot, label := times.FirstSlot()
	if !strings.Contains(slot, "/demo/manage/") || !strings.Contains(slot, "/reschedule/review") {
		t.Fatalf("a time on the reschedule step leads to %s", slot)
	}
	review := h.get(slot).WantH1("Check your new time")
	for _, want := range []string{"Your booking now", "Your new time", dayLabelOf(appt.Start)} {
		if !strings.Contains(review.Text(), want) {
			t.Errorf("review lacks %q:\n%s", want, review.Text())
		}
	}
	action, form := review.Form()
	newStart, err := time.Parse(time.RFC3339, form.Get("slot"))
	if err != nil {
		t.Fatalf("review form slot %q (%s)", form.Get("slot"), label)
	}
	if newStart.In(sydney).Format("2006-01-02") != other {
		t.Fatalf("picked %s, want a time on %s", newStart, other)
	}
	done := h.post(action, form).WantH1("Your booking has been moved")
	if !strings.Contains(done.Text(), newStart.In(sydney).Format("Monday 2 January 2006")) || !strings.Contains(done.Text(), appt.ReferenceNumber) {
		t.Errorf("moved page lacks the new date or the reference:\n%s", done.Text())
	}

	moved := h.sandboxAppointment(appt.ID)
	if !moved.Start.Equal(newStart) || moved.Status != "Booked" {
		t.Errorf("sandbox appointment at %s (%s), want moved in place to %s", moved.Start, moved.Status, newStart)
	}
	if n := len(h.portalAppointments()); n != 1 {
		t.Errorf("%d booked portal appointments after the move, want 1", n)
	}
	rec := h.record(draftID)
	if !rec.Start.Equal(newStart) || rec.Sequence != 1 || rec.ChangeState != "" || rec.PractitionerID != moved.PractitionerID {
		t.Errorf("record after the move: %+v", rec)
	}
	if !h.offered(appt.Start) {
		t.Error("the old time is not offered again")
	}

	if ics := h.get("/demo/booking/" + h.confirmationToken + ".ics"); !strings.Contains(ics.Body, "SEQUENCE:1\r\n") ||
		!strings.Contains(ics.Body, "DTSTART:"+newStart.UTC().Format("20060102T150405Z")) {
		t.Errorf("the calendar file after the move lacks SEQUENCE:1 or the new start:\n%s", ics.Body)
	}
	h.post(action, form).WantH1("Your booking has been moved")
	if n := h.moves.Load(); n != 1 {
		t.Errorf("%d moves sent to coreplus, want 1", n)
	}
	h.assertPrivate(newPatient)
}

func dayLabelOf(t time.Time) string { return t.In(sydney).Format("Monday 2 January 2006") }

// TestManageRescheduleToTakenTime: a time taken by another patient's
// booking since the review was shown sends the patient back to that day's
// times, saying so, and the booking stays where it was.
func TestManageRescheduleToTakenTime(t *testing.T) {
	h := newManageHarness(t, withCutoff(time.Hour))
	manage, draftID, appt := h.book()
	day := appt.Start.In(sydney)
	other := time.Date(day.Year(), day.Month(), day.Day()+2, 0, 0, 0, 0, sydney).Format("2006-01-02")
	times := h.get(manage + "/reschedule?date=" + other + "&practitioner=" + sandbox.PractitionerTomID)
	slot, _ := times.FirstSlot()
	action, form := h.get(slot).WantH1("Check your new time").Form()
	start, _ := time.Parse(time.RFC3339, form.Get("slot"))
	// Staff book that time in coreplus meanwhile.
	if _, err := h.api.CreateAppointment(context.Background(), coreplus.NewAppointment{Start: start, End: start.Add(30 * time.Minute),
		PractitionerID: sandbox.PractitionerTomID, LocationID: sandbox.LocationSydneyID, AppointmentTypeID: sandbox.AppointmentTypeStandardID,
		ClientID: sandbox.ClientPeterNguyenID}); err != nil {
		t.Fatal(err)
	}
	back := h.post(action, form).WantH1("Choose a new time")
	if !strings.Contains(back.Text(), "just been taken") {
		t.Errorf("no word that the time went:\n%s", back.Text())
	}
	if a := h.sandboxAppointment(appt.ID); !a.Start.Equal(appt.Start) || a.Status != "Booked" {
		t.Errorf("the booking moved anyway: %+v", a)
	}
	if rec := h.record(draftID); !rec.Start.Equal(appt.Start) || rec.ChangeState != "" {
		t.Errorf("record after a refused move: %+v", rec)
	}
}

// TestManageSeesStaffChanges: a booking staff cancelled or moved in
// coreplus reads back as such, and the portal's record follows.
func TestManageSeesStaffChanges(t *testing.T) {
	h := newManageHarness(t, withCutoff(time.Hour))
	manage, draftID, appt := h.book()
	ctx := context.Background()

	free, err := h.api.FindAvailability(ctx, coreplus.SlotQuery{StartDate: appt.Start.In(sydney).AddDate(0, 0, 2).Format("2006-01-02"),
		EndDate: appt.Start.In(sydney).AddDate(0, 0, 2).Format("2006-01-02"), TimezoneID: sandbox.TimezoneSydneyID,
		PractitionerIDs: []string{appt.PractitionerID}, LocationIDs: []string{sandbox.LocationSydneyID}, AppointmentTypeID: sandbox.AppointmentTypeStandardID})
	if err != nil || len(free) == 0 {
		t.Fatalf("no free time two days on: %v", err)
	}
	later := free[0].Start
	if _, err := h.api.UpdateAppointment(ctx, appt.ID, coreplus.AppointmentMove{Start: later, End: later.Add(appt.End.Sub(appt.Start)), PractitionerID: appt.PractitionerID}); err != nil {
		t.Fatal(err)
	}
	page := h.get(manage).WantH1("Your booking")
	if !strings.Contains(page.Text(), "The clinic has moved this appointment") || !strings.Contains(page.Text(), dayLabelOf(later)) {
		t.Errorf("a move made in coreplus is not shown:\n%s", page.Text())
	}
	if rec := h.record(draftID); !rec.Start.Equal(later) || rec.Sequence != 1 {
		t.Errorf("record after a staff move: %+v", rec)
	}

	if err := h.api.CancelAppointment(ctx, appt.ID); err != nil {
		t.Fatal(err)
	}
	page = h.get(manage).WantH1("This booking was cancelled by the clinic")
	page.Link("Book again")
	if page.Doc.Find("a:contains('Cancel this booking')").Length() != 0 {
		t.Error("a cancelled booking offers a cancel")
	}
	if rec := h.record(draftID); rec.Status != string(booking.RecordCancelled) {
		t.Errorf("record after a staff cancel: %s", rec.Status)
	}
	if h.cancels.Load() != 0 || h.moves.Load() != 0 {
		t.Error("reading a booking back changed it in coreplus")
	}
}

// TestManageBadLinks: a mistyped, forged, other clinic's or expired link
// gets a plain page saying so, never an error's text.
func TestManageBadLinks(t *testing.T) {
	h := newManageHarness(t, withCutoff(time.Hour))
	manage, draftID, appt := h.book()
	tokens := booking.NewManageTokens(bytes.Repeat([]byte{7}, 32))
	for name, u := range map[string]string{
		"garbage":       "/demo/manage/not-a-token",
		"forged mac":    "/demo/manage/" + draftID + ".AAAAAAAAAAAAAAAAAAAAAA",
		"other clinic":  "/demo/manage/" + tokens.Token("otherclinic", draftID),
		"cut short":     manage[:len(manage)-3],
		"cancel forged": "/demo/manage/" + draftID + ".x/cancel",
	} {
		p := h.get(u)
		if p.Status != http.StatusNotFound || !strings.Contains(p.Text(), "That link doesn't open a booking") {
			t.Errorf("%s: %d\n%s", name, p.Status, p.Text())
		}
	}
	// A well-signed token of a draft with no booking.
	p := h.get("/demo/manage/" + tokens.Token("demo", strings.Repeat("ab", 16)))
	if p.Status != http.StatusNotFound || !strings.Contains(p.Text(), "We couldn't find that booking") {
		t.Errorf("no booking: %d\n%s", p.Status, p.Text())
	}
	// Once the appointment has ended, the link says so.
	h.now = appt.End.Add(time.Minute)
	p = h.get(manage)
	if p.Status != http.StatusNotFound || !strings.Contains(p.Text(), "appointment time has passed") {
		t.Errorf("ended: %d\n%s", p.Status, p.Text())
	}
	if strings.Contains(h.logs.String(), strings.TrimPrefix(manage, "/demo/manage/")) {
		t.Error("a manage token is in the logs")
	}
}

// lostAnswers plays a coreplus whose answers to changes go missing while
// armed: a move is made and its answer lost, a cancel never arrives, and
// reading the appointment back fails from then on too.
type lostAnswers struct {
	booking.Coreplus
	armed, unreadable *atomic.Bool
}

var errLost = &coreplus.Error{Kind: coreplus.ErrUnavailable, Op: "POST /Appointment/{id}", Sent: true, Reason: "connection reset"}

func (l lostAnswers) UpdateAppointment(ctx context.Context, id string, m coreplus.AppointmentMove) (coreplus.Appointment, error) {
	a, err := l.Coreplus.UpdateAppointment(ctx, id, m)
	if l.armed.Load() {
		l.unreadable.Store(true)
		return coreplus.Appointment{}, errLost
	}
	return a, err
}

func (l lostAnswers) CancelAppointment(ctx context.Context, id string) error {
	if l.armed.Load() {
		l.unreadable.Store(true)
		return errLost
	}
	return l.Coreplus.CancelAppointment(ctx, id)
}

func (l lostAnswers) GetAppointment(ctx context.Context, id string) (coreplus.Appointment, error) {
	if l.unreadable.Load() {
		return coreplus.Appointment{}, &coreplus.Error{Kind: coreplus.ErrUnavailable, Op: "GET /Appointment/{id}", Reason: "timeout"}
	}
	return l.Coreplus.GetAppointment(ctx, id)
}

// TestManageChangesSurviveLostAnswers: a move whose answer is lost, and a
// cancel that never arrived, with coreplus unreadable after each, are left
// under way (the page says so and offers nothing else), and the sweeper
// finishes each: the patient ends holding exactly the appointment the page
// then shows.
func TestManageChangesSurviveLostAnswers(t *testing.T) {
	var armed, unreadable atomic.Bool
	disarm := func() { armed.Store(false); unreadable.Store(false) }
	h := &manageHarness{}
	h.harness = newHarnessSetup(t, harnessSetup{upstream: func(c booking.Coreplus) booking.Coreplus {
		return lostAnswers{c, &armed, &unreadable}
	}}, withCutoff(time.Hour))
	manage, draftID, appt := h.book()
	day := appt.Start.In(sydney)
	other := time.Date(day.Year(), day.Month(), day.Day()+2, 0, 0, 0, 0, sydney).Format("2006-01-02")
	slot, _ := h.get(manage + "/reschedule?date=" + other).FirstSlot()
	action, form := h.get(slot).WantH1("Check your new time").Form()
	newStart, _ := time.Parse(time.RFC3339, form.Get("slot"))

	armed.Store(true)
	p := h.post(action, form)
	if p.Status != http.StatusServiceUnavailable || !strings.Contains(p.Text(), "couldn't confirm the change") {
		t.Fatalf("move with its answer lost: %d\n%s", p.Status, p.Text())
	}
	if rec := h.record(draftID); rec.ChangeState != "moving" || !rec.Start.Equal(newStart) || !rec.PrevStart.Equal(appt.Start) {
		t.Fatalf("record after a lost answer: %+v", rec)
	}
	disarm()
	p = h.get(manage).WantH1("We're updating your booking")
	if p.Doc.Find("a:contains('Cancel this booking')").Length() != 0 {
		t.Error("a booking with a change under way offers another")
	}
	if res := h.sweep(0); res.Changes != 0 {
		t.Errorf("a change under way for less than StalePending was finished: %+v", res)
	}
	if res := h.sweep(booking.StalePending + time.Second); res.Changes != 1 {
		t.Fatalf("sweep finished %d changes, want 1", res.Changes)
	}
	if rec := h.record(draftID); rec.ChangeState != "" || !rec.Start.Equal(newStart) || rec.Sequence != 1 {
		t.Fatalf("record after the sweep: %+v", rec)
	}
	if a := h.sandboxAppointment(appt.ID); !a.Start.Equal(newStart) || a.Status != "Booked" || len(h.portalAppointments()) != 1 {
		t.Fatalf("coreplus after the sweep: %+v", a)
	}
	h.get(manage).WantH1("Your booking")

	// A cancel that never arrived, and no read-back: under way, then sent
	// again by the sweeper.
	armed.Store(true)
	p = h.post(manage+"/cancel", url.Values{})
	if p.Status != http.StatusServiceUnavailable || !strings.Contains(p.Text(), "couldn't confirm the cancel") {
		t.Fatalf("cancel with no answer: %d\n%s", p.Status, p.Text())
	}
	disarm()
	if h.sandboxAppointment(appt.ID).Status != "Booked" || h.record(draftID).ChangeState != "cancelling" {
		t.Fatal("the cancel is not left under way")
	}
	if res := h.sweep(booking.StalePending + time.Second); res.Changes != 1 {
		t.Fatalf("sweep finished %d changes, want 1", res.Changes)
	}
	if h.sandboxAppointment(appt.ID).Status != "Cancelled" || h.record(draftID).Status != string(booking.RecordCancelled) {
		t.Fatal("the sweeper did not finish the cancel")
	}
	h.get(manage).WantH1("This booking is cancelled")
}

// TestManageWhileCoreplusIsDown: with coreplus not answering, the page
// shows the booking as the portal last knew it, says so and what to do,
// and offers no change it could not make.
func TestManageWhileCoreplusIsDown(t *testing.T) {
	var armed, unreadable atomic.Bool
	h := &manageHarness{}
	h.harness = newHarnessSetup(t, harnessSetup{upstream: func(c booking.Coreplus) booking.Coreplus {
		return lostAnswers{c, &armed, &unreadable}
	}}, withCutoff(time.Hour))
	manage, _, appt := h.book()
	unreadable.Store(true)
	p := h.get(manage)
	if p.Status != http.StatusServiceUnavailable {
		t.Errorf("status %d, want 503", p.Status)
	}
	p.WantH1("Your booking")
	for _, want := range []string{"We couldn't check this booking", "as we last knew it", appt.ReferenceNumber, "Tom Whitfield", "Check again"} {
		if !strings.Contains(p.Text(), want) {
			t.Errorf("page lacks %q:\n%s", want, p.Text())
		}
	}
	if p.Doc.Find("a:contains('Cancel this booking'), a:contains('Choose another time')").Length() != 0 {
		t.Error("an unchecked booking offers changes")
	}
	unreadable.Store(false)
	h.get(manage).WantH1("Your booking").Link("Cancel this booking")
}

// TestManageChangesAreRateLimited: past the per-address limit a cancel is
// answered 429 before anything reaches coreplus.
func TestManageChangesAreRateLimited(t *testing.T) {
	h := &manageHarness{}
	h.harness = newHarnessSetup(t, harnessSetup{
		upstream: func(c booking.Coreplus) booking.Coreplus { return changeCounter{c, &h.cancels, &h.moves} },
		web:      func(c *web.Config) { c.Limits.ChangesPerMinute = 1 },
	}, withCutoff(time.Hour))
	manage, _, appt := h.book()
	h.post(manage+"/cancel", url.Values{}).WantH1("Your booking is cancelled")
	p := h.post(manage+"/cancel", url.Values{})
	if p.Status != http.StatusTooManyRequests || !strings.Contains(p.Text(), "Please wait a minute") {
		t.Errorf("second change from one address: %d\n%s", p.Status, p.Text())
	}
	if n := h.cancels.Load(); n != 1 || h.sandboxAppointment(appt.ID).Status != "Cancelled" {
		t.Errorf("%d cancels sent, want 1", n)
	}
}
