package web_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/time/rate"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/internal/booking/bookingstore"
	"github.com/clinic-booking/portal/internal/coreplus"
	"github.com/clinic-booking/portal/internal/coreplus/sandbox"
	"github.com/clinic-booking/portal/internal/store"
)

// Fault-injection tests of the submit path against the sandbox: what the
// patient sees, and exactly which appointments coreplus ends with.

func postAppointment(method, resource string) bool {
	return method == http.MethodPost && resource == "appointment"
}

// everyOtherGet matches every second read, so that a retry of a failed read
// is not failed too.
func everyOtherGet() func(method, resource string) bool {
	var n atomic.Int64
	return func(method, _ string) bool { return method == http.MethodGet && n.Add(1)%2 == 0 }
}

// sweeper settles the harness's unknown bookings as if it ran after from
// had passed on the store's clock. It keeps the sweeper's budget per sweep
// but does not pace it in wall time: the clock is simulated.
func (h *harness) sweeper(after time.Duration) *booking.Sweeper {
	return &booking.Sweeper{
		Clinics: h.dir, Store: bookingstore.New(h.db),
		Log:  slog.New(slog.NewJSONHandler(h.logs, nil)),
		Now:  func() time.Time { return h.storeNow().Add(after) },
		Pace: rate.NewLimiter(rate.Inf, 0),
	}
}

func (h *harness) sweep(after time.Duration) booking.SweepResult {
	h.t.Helper()
	res, err := h.sweeper(after).Sweep(context.Background())
	if err != nil {
		h.t.Fatalf("sweep: %v", err)
	}
	return res
}

// wantOneAppointment checks coreplus holds exactly one portal booking, and
// that the page shows its reference.
func (h *harness) wantOneAppointment(confirmed *page) {
	h.t.Helper()
	appts := h.portalAppointments()
	if len(appts) != 1 {
		h.t.Fatalf("coreplus holds %d portal appointments, want exactly 1", len(appts))
	}
	if confirmed == nil {
		return
	}
	confirmed.WantH1("Booking confirmed")
	if got := strings.TrimSpace(confirmed.Doc.Find(".reference").First().Text()); got != appts[0].ReferenceNumber {
		h.t.Errorf("confirmation shows reference %q, coreplus has %q", got, appts[0].ReferenceNumber)
	}
}

func TestReadsThatFailOrTimeOutAreRetried(t *testing.T) {
	t.Parallel() // waits out timeouts and sweeps: overlap it with the rest
	for _, tc := range []struct {
		name   string
		faults func() sandbox.Faults
	}{
		{"5xx on every other read", func() sandbox.Faults { return sandbox.Faults{ErrorRate: 1, Match: everyOtherGet()} }},
		{"timeout on every other read", func() sandbox.Faults {
			return sandbox.Faults{Latency: 2 * time.Second, Match: everyOtherGet()}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarnessSetup(t, harnessSetup{
				api: func(c *coreplus.Config) { c.Timeout = 300 * time.Millisecond },
			})
			h.sb.SetFaults(tc.faults())
			done := h.confirm(h.toReview(newPatient, "Tom Whitfield"))
			h.wantOneAppointment(done)
		})
	}
}

func TestRateLimitBurstsAreRidden(t *testing.T) {
	t.Parallel() // waits out timeouts and sweeps: overlap it with the rest
	// coreplus allows only 3 requests a second here, and the portal's own
	// limiter is off, so the flow meets 429s and must wait them out.
	t0 := time.Now()
	h := newHarnessSetup(t, harnessSetup{sandbox: func(c *sandbox.Config) {
		c.RateLimit = 3
		// The sandbox counts requests per second of its clock: let it run.
		fixed := c.Now
		c.Now = func() time.Time { return fixed().Add(time.Since(t0)) }
	}})
	done := h.confirm(h.toReview(newPatient, "Tom Whitfield"))
	h.wantOneAppointment(done)
	if h.sb.Stats().RateLimited == 0 {
		t.Error("the sandbox sent no 429: the test did not exercise a burst")
	}
}

func TestLostAnswerIsFoundBySweeper(t *testing.T) {
	h := newHarness(t)
	review := h.toReview(newPatient, "Tom Whitfield")
	h.sb.SetFaults(sandbox.Faults{StoreThenDropRate: 1, Match: postAppointment})
	pending := h.confirm(review).WantH1("We're confirming your booking")
	if pending.Status != http.StatusAccepted || pending.Header.Get("Refresh") == "" {
		t.Errorf("pending page: status %d, Refresh %q; want 202 and a refresh", pending.Status, pending.Header.Get("Refresh"))
	}
	h.sb.SetFaults(sandbox.Faults{})
	if len(h.sb.Appointments()) == 0 {
		t.Fatal("the sandbox did not store the booking")
	}

	// Within the grace period the sweeper only looks, and finds it.
	res := h.sweep(0)
	if res.Booked != 1 || res.Resent != 0 {
		t.Fatalf("sweep %+v, want one booked, nothing resent", res)
	}
	h.wantOneAppointment(h.get(pending.URL))
	if again := h.sweep(time.Hour); again != (booking.SweepResult{}) {
		t.Errorf("a second sweep found work: %+v", again)
	}
	h.assertPrivate(newPatient)
}

func TestUnansweredBookingNeverStoredIsSentOnce(t *testing.T) {
	t.Parallel() // waits out timeouts and sweeps: overlap it with the rest
	for _, tc := range []struct {
		name   string
		faults sandbox.Faults
	}{
		{"timeout", sandbox.Faults{Latency: 2 * time.Second, Match: postAppointment}},
		{"dropped connection", sandbox.Faults{DropRate: 1, Match: postAppointment}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarnessSetup(t, harnessSetup{api: func(c *coreplus.Config) { c.Timeout = 300 * time.Millisecond }})
			review := h.toReview(newPatient, "Tom Whitfield")
			h.sb.SetFaults(tc.faults)
			pending := h.confirm(review).WantH1("We're confirming your booking")
			h.sb.SetFaults(sandbox.Faults{})
			if n := len(h.portalAppointments()); n != 0 {
				t.Fatalf("%d appointments: the fault let the booking through", n)
			}

			// Confirming again, or sweeping inside the grace period, never resends.
			h.confirm(review).WantH1("We're confirming your booking")
			if res := h.sweep(0); res.Resent != 0 || res.Unsettled != 1 {
				t.Fatalf("sweep inside the grace period: %+v", res)
			}
			if n := len(h.portalAppointments()); n != 0 {
				t.Fatalf("%d appointments after sweeping inside the grace period", n)
			}
			h.get(pending.URL).WantH1("We're confirming your booking")

			// After it, two replicas sweep at once: one resend between them.
			var wg sync.WaitGroup
			results := make([]booking.SweepResult, 2)
			for i := range results {
				wg.Go(func() { results[i] = h.sweep(booking.SettleGrace + time.Second) })
			}
			wg.Wait()
			if sent := results[0].Resent + results[1].Resent; sent != 1 {
				t.Errorf("two sweepers resent %d times, want once: %+v", sent, results)
			}
			h.wantOneAppointment(h.get(pending.URL))
			appt := h.portalAppointments()[0]
			if !strings.Contains(appt.Notes, "Booked online (ref ") {
				t.Errorf("resent booking has no marker in its notes: %q", appt.Notes)
			}
			h.assertPrivate(newPatient)
		})
	}
}

func TestSlotGoneBeforeResendSaysNoBooking(t *testing.T) {
	t.Parallel() // waits out timeouts and sweeps: overlap it with the rest
	h := newHarnessSetup(t, harnessSetup{api: func(c *coreplus.Config) { c.Timeout = 300 * time.Millisecond }})
	review := h.toReview(newPatient, "Priya Nandakumar")
	_, form := review.Form()
	start, err := time.Parse(time.RFC3339, form.Get("slot"))
	if err != nil {
		t.Fatal(err)
	}
	h.sb.SetFaults(sandbox.Faults{Latency: 2 * time.Second, Match: postAppointment})
	pending := h.confirm(review).WantH1("We're confirming your booking")
	h.sb.SetFaults(sandbox.Faults{})
	// Meanwhile the clinic gives the time to someone on the phone.
	if _, err := h.api.CreateAppointment(t.Context(), coreplus.NewAppointment{
		Start: start, End: start.Add(30 * time.Minute), PractitionerID: sandbox.PractitionerPriyaID,
		LocationID: sandbox.LocationSydneyID, AppointmentTypeID: sandbox.AppointmentTypeStandardID,
		ClientID: sandbox.ClientPeterNguyenID,
	}); err != nil {
		t.Fatal(err)
	}

	if res := h.sweep(booking.SettleGrace + time.Second); res.Failed != 1 || res.Resent != 0 {
		t.Fatalf("sweep %+v, want one failed and nothing sent", res)
	}
	if n := len(h.portalAppointments()); n != 0 {
		t.Fatalf("%d portal appointments, want none", n)
	}
	failed := h.get(pending.URL).WantH1("Your booking did not go through")
	if !strings.Contains(failed.Text(), "Nothing has been booked for you") {
		t.Errorf("failed page does not say so plainly:\n%s", failed.Text())
	}
	failed.Link("07 3000 0000")
	failed.Link("See all free times")
	alts := failed.Doc.Find("section.taken ul.slots a")
	if alts.Length() == 0 {
		t.Fatalf("no alternatives offered:\n%s", failed.Text())
	}
	alts.Each(func(_ int, s *goquery.Selection) {
		if !strings.Contains(s.AttrOr("aria-label", ""), "with Priya Nandakumar") {
			t.Errorf("alternative with someone else: %s", s.AttrOr("aria-label", ""))
		}
	})

	// An alternative leads back to the review with the details kept.
	again := h.get(alts.First().AttrOr("href", "")).WantH1("Check your booking")
	if !strings.Contains(again.Text(), "Zephyrine Quillfeather") {
		t.Error("details lost after the booking failed")
	}
	h.wantOneAppointment(h.confirm(again))
	h.assertPrivate(newPatient)
}

func TestUnsettledBookingRaisesAnAlert(t *testing.T) {
	t.Parallel() // waits out timeouts and sweeps: overlap it with the rest
	h := newHarnessSetup(t, harnessSetup{api: func(c *coreplus.Config) { c.Timeout = 300 * time.Millisecond; c.BreakerFailures = -1 }})
	review := h.toReview(newPatient, "Tom Whitfield")
	h.sb.SetFaults(sandbox.Faults{Latency: 2 * time.Second, Match: postAppointment})
	h.confirm(review).WantH1("We're confirming your booking")
	h.sb.SetFaults(sandbox.Faults{ErrorRate: 1}) // coreplus stays down: nothing can settle it

	if res := h.sweep(5 * time.Minute); res.Unsettled != 1 {
		t.Fatalf("sweep %+v", res)
	}
	if strings.Contains(h.logs.String(), "booking still unsettled") {
		t.Fatal("alert raised before 15 minutes")
	}
	h.sweep(booking.UnsettledAlert + time.Minute)
	var alert string
	for _, l := range strings.Split(h.logs.String(), "\n") {
		if strings.Contains(l, "booking still unsettled") {
			alert = l
		}
	}
	if !strings.Contains(alert, `"level":"ERROR"`) || !strings.Contains(alert, `"alert":true`) || !strings.Contains(alert, `"clinic":"demo"`) {
		t.Errorf("no alert line with level, alert and clinic: %q", alert)
	}
	if n := len(h.portalAppointments()); n != 0 {
		t.Errorf("%d appointments while coreplus was down", n)
	}
	h.assertPrivate(newPatient)
}

func TestCoreplusDownForTheWholeFlowLeavesARequest(t *testing.T) {
	h := newHarness(t)
	h.sb.SetFaults(sandbox.Faults{ErrorRate: 1})
	down := h.get("/demo").WantH1("Online booking isn't available right now")
	req := h.get(down.Link("Leave a booking request")).WantH1("Leave a booking request")
	action, form := req.Form()
	form.Set("first_name", newPatient.First)
	form.Set("last_name", newPatient.Last)
	form.Set("email", newPatient.Email)
	form.Add("days", "tue")
	form.Add("times", "morning")
	h.post(action, form).WantH1("Request received")

	list, err := h.db.ListRequests(t.Context(), "demo", time.Now())
	if err != nil || len(list) != 1 {
		t.Fatalf("stored requests %d, %v; want 1", len(list), err)
	}
	if got := list[0]; got.Details.FirstName != newPatient.First || got.Details.Email != newPatient.Email ||
		strings.Join(got.Days, ",") != "tue" || strings.Join(got.Times, ",") != "morning" {
		t.Errorf("stored %+v", got)
	}
	if n := len(h.sb.Appointments()); n != len(sandbox.New(sandbox.Config{Now: func() time.Time { return h.now }}).Appointments()) {
		t.Errorf("the sandbox's diary changed while it was down")
	}
	h.assertPrivate(newPatient)
}

// TestPendingBookingOfACrashedConfirmIsSettled: a replica claimed the slot
// and died before it recorded coreplus's answer (or before it sent). The
// sweeper treats the old pending booking as unknown, looks, and sends it,
// with the notes the confirm would have sent, rebuilt from the store: the
// client record lacked the contact details given, so they say so.
func TestPendingBookingOfACrashedConfirmIsSettled(t *testing.T) {
	h := newHarness(t)
	review := h.toReview(newPatient, "Tom Whitfield")
	_, form := review.Form()
	draftID := strings.SplitN(form.Get("draft"), ".", 2)[0]
	start, err := time.Parse(time.RFC3339, form.Get("slot"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if ok, err := h.db.SetDraftStatus(ctx, draftID, "open", "booking"); err != nil || !ok {
		t.Fatalf("start the submit: %v, %v", ok, err)
	}
	if err := h.db.ClaimBooking(ctx, store.Booking{
		DraftID: draftID, Clinic: "demo", ClientID: sandbox.ClientPeterNguyenID, ContactDiffers: true,
		PractitionerID: sandbox.PractitionerTomID, LocationID: sandbox.LocationSydneyID,
		AppointmentTypeID: sandbox.AppointmentTypeStandardID, Start: start, End: start.Add(30 * time.Minute),
	}, "pending"); err != nil {
		t.Fatal(err)
	}
	if res := h.sweep(time.Minute); res != (booking.SweepResult{}) {
		t.Fatalf("a fresh pending booking was touched: %+v", res)
	}
	if res := h.sweep(booking.StalePending + time.Minute); res.Booked != 1 || res.Resent != 1 {
		t.Fatalf("sweep %+v, want the stale booking sent once and booked", res)
	}
	appts := h.portalAppointments()
	if len(appts) != 1 || appts[0].ClientID != sandbox.ClientPeterNguyenID {
		t.Fatalf("appointments %+v", appts)
	}
	if want := "Left knee, worse on stairs\nContact details given online differ from the client record: email zq.test@example.com, mobile 0499111222\nBooked online (ref " + draftID[:8] + ")"; appts[0].Notes != want {
		t.Errorf("notes %q, want %q", appts[0].Notes, want)
	}
	h.wantOneAppointment(h.get("/demo/booking/" + form.Get("draft") + "/"))
}

// TestSubmitCutOffBeforeClaimIsReopened: a replica moved the draft to
// booking and died before it claimed the slot, so nothing was sent. The
// sweeper reopens the draft, and the patient's page says the booking did
// not go through and leads back to the review, details kept.
func TestSubmitCutOffBeforeClaimIsReopened(t *testing.T) {
	h := newHarness(t)
	review := h.toReview(newPatient, "Tom Whitfield")
	_, form := review.Form()
	token := form.Get("draft")
	draftID := strings.SplitN(token, ".", 2)[0]
	if ok, err := h.db.SetDraftStatus(t.Context(), draftID, "open", "booking"); err != nil || !ok {
		t.Fatalf("start the submit: %v, %v", ok, err)
	}
	outcome := "/demo/booking/" + token + "/"
	h.get(outcome).WantH1("We're confirming your booking")

	if res := h.sweep(time.Minute); res != (booking.SweepResult{}) {
		t.Fatalf("a draft in booking for a minute was touched: %+v", res)
	}
	h.get(outcome).WantH1("We're confirming your booking")
	if res := h.sweep(booking.StalePending + time.Minute); res != (booking.SweepResult{Reopened: 1}) {
		t.Fatalf("sweep %+v, want the draft reopened and nothing else", res)
	}
	if n := len(h.portalAppointments()); n != 0 {
		t.Fatalf("%d appointments after reopening: nothing should have been sent", n)
	}

	notMade := h.get(outcome).WantH1("Your booking did not go through")
	if notMade.Status != http.StatusOK || notMade.Header.Get("Refresh") != "" {
		t.Errorf("status %d, Refresh %q; want 200 and no reload", notMade.Status, notMade.Header.Get("Refresh"))
	}
	for _, want := range []string{"Nothing has been booked for you", "Your details are still saved", "Tom Whitfield", "Standard Consultation"} {
		if !strings.Contains(notMade.Text(), want) {
			t.Errorf("page lacks %q:\n%s", want, notMade.Text())
		}
	}
	notMade.Link("07 3000 0000")
	notMade.Link("Choose another time")
	again := h.get(notMade.Link("Check and confirm again")).WantH1("Check your booking")
	if !strings.Contains(again.Text(), "Zephyrine Quillfeather") {
		t.Errorf("details lost after the submit was cut off:\n%s", again.Text())
	}
	h.wantOneAppointment(h.confirm(again))
	h.wantOneAppointment(h.get(outcome))
	if res := h.sweep(time.Hour); res != (booking.SweepResult{}) {
		t.Errorf("a sweep after the booking found work: %+v", res)
	}
	h.assertPrivate(newPatient)
}

// TestSubmitCutOffAfterClaimReleasesTheSlot: a replica claimed the slot and
// died before it recorded the patient's coreplus client, so nothing was
// sent. The sweeper neither looks for nor sends that booking: it releases
// the slot and reopens the draft, and the patient can confirm again.
func TestSubmitCutOffAfterClaimReleasesTheSlot(t *testing.T) {
	h := newHarness(t)
	review := h.toReview(newPatient, "Tom Whitfield")
	_, form := review.Form()
	token := form.Get("draft")
	draftID := strings.SplitN(token, ".", 2)[0]
	start, err := time.Parse(time.RFC3339, form.Get("slot"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if ok, err := h.db.SetDraftStatus(ctx, draftID, "open", "booking"); err != nil || !ok {
		t.Fatalf("start the submit: %v, %v", ok, err)
	}
	if err := h.db.ClaimBooking(ctx, store.Booking{
		DraftID: draftID, Clinic: "demo", PractitionerID: sandbox.PractitionerTomID, LocationID: sandbox.LocationSydneyID,
		AppointmentTypeID: sandbox.AppointmentTypeStandardID, Start: start, End: start.Add(30 * time.Minute),
	}, "pending"); err != nil {
		t.Fatal(err)
	}
	outcome := "/demo/booking/" + token + "/"
	h.get(outcome).WantH1("We're confirming your booking")
	if res := h.sweep(time.Minute); res != (booking.SweepResult{}) {
		t.Fatalf("a claim a minute old was touched: %+v", res)
	}

	asked := h.sb.Stats().Requests
	if res := h.sweep(booking.StalePending + time.Minute); res != (booking.SweepResult{Released: 1, Reopened: 1}) {
		t.Fatalf("sweep %+v, want the slot released and the draft reopened, nothing else", res)
	}
	if n := h.sb.Stats().Requests - asked; n != 0 {
		t.Errorf("the sweep sent coreplus %d requests for a booking never sent", n)
	}
	if _, err := h.db.GetBookingByDraft(ctx, draftID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the claim is still held: %v", err)
	}
	again := h.get(h.get(outcome).WantH1("Your booking did not go through").Link("Check and confirm again")).WantH1("Check your booking")
	h.wantOneAppointment(h.confirm(again))
	if res := h.sweep(time.Hour); res != (booking.SweepResult{}) {
		t.Errorf("a sweep after the booking found work: %+v", res)
	}
	h.assertPrivate(newPatient)
}

// TestClientStepFailureFreesTheSlot: the time is claimed before the
// patient's coreplus client is looked for; when that step fails, nothing
// was sent, the claim is released at once (another patient may book the
// time) and the draft is open to confirm again.
func TestClientStepFailureFreesTheSlot(t *testing.T) {
	h := newHarnessSetup(t, harnessSetup{api: func(c *coreplus.Config) { c.BreakerFailures = -1 }})
	review := h.toReview(newPatient, "Tom Whitfield")
	_, form := review.Form()
	draftID := strings.SplitN(form.Get("draft"), ".", 2)[0]
	clients := func(_, resource string) bool { return resource == "client" }

	h.sb.SetFaults(sandbox.Faults{ErrorRate: 1, Match: clients})
	down := h.confirm(review).WantH1("Online booking isn't available right now")
	h.sb.SetFaults(sandbox.Faults{})
	if down.Status != http.StatusServiceUnavailable {
		t.Errorf("status %d", down.Status)
	}
	if _, err := h.db.GetBookingByDraft(t.Context(), draftID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the claim outlived the failed client step: %v", err)
	}
	if d, err := h.db.GetDraft(t.Context(), draftID); err != nil || d.Status != "open" {
		t.Errorf("draft %q, %v; want open", d.Status, err)
	}

	// The time is free: another patient books it straight away.
	other := newPatient
	other.First, other.Email, other.Mobile = "Ottoline", "ob.test@example.com", "0499 333 444"
	h.wantOneAppointment(h.confirm(h.toReview(other, "Tom Whitfield")))
	// And the first patient, confirming again, hears it was taken.
	if taken := h.confirm(h.get(down.Link("Try again")).WantH1("Check your booking")); taken.Status != http.StatusConflict {
		t.Errorf("confirming again: status %d, want 409 (taken)", taken.Status)
	}
	if n := len(h.portalAppointments()); n != 1 {
		t.Errorf("%d appointments, want 1", n)
	}
	h.assertPrivate(newPatient)
}

// TestOpenDraftOutcomeOffersToConfirmAgain: a confirm that coreplus failed
// reopens the draft; its outcome page says so rather than "not found".
func TestOpenDraftOutcomeOffersToConfirmAgain(t *testing.T) {
	h := newHarness(t)
	review := h.toReview(newPatient, "Tom Whitfield")
	_, form := review.Form()
	h.sb.SetFaults(sandbox.Faults{ErrorRate: 1})
	h.confirm(review).WantH1("Online booking isn't available right now")
	h.sb.SetFaults(sandbox.Faults{})

	notMade := h.get("/demo/booking/" + form.Get("draft") + "/?embed=1").WantH1("Your booking did not go through")
	back := notMade.Link("Check and confirm again")
	if !strings.Contains(back, "embed=1") {
		t.Errorf("the link back drops the embed setting: %s", back)
	}
	h.wantOneAppointment(h.confirm(h.get(back).WantH1("Check your booking")))
}

// landsBeforeResend plays the first, unanswered request landing in coreplus
// just before the sweeper sends the booking again: once armed, the next
// CreateAppointment is made twice, the first copy standing for the original.
type landsBeforeResend struct {
	booking.Coreplus
	armed *atomic.Bool
}

func (l landsBeforeResend) CreateAppointment(ctx context.Context, a coreplus.NewAppointment) (coreplus.Appointment, error) {
	if l.armed.CompareAndSwap(true, false) {
		if _, err := l.Coreplus.CreateAppointment(ctx, a); err != nil {
			return coreplus.Appointment{}, err
		}
	}
	return l.Coreplus.CreateAppointment(ctx, a)
}

// TestOriginalLandingBeforeResendIsOurs: a resend refused because the slot
// is taken looks again, and finds the original request's appointment.
func TestOriginalLandingBeforeResendIsOurs(t *testing.T) {
	t.Parallel() // waits out timeouts and sweeps: overlap it with the rest
	var armed atomic.Bool
	h := newHarnessSetup(t, harnessSetup{
		api:      func(c *coreplus.Config) { c.Timeout = 300 * time.Millisecond },
		upstream: func(c booking.Coreplus) booking.Coreplus { return landsBeforeResend{c, &armed} },
	})
	review := h.toReview(newPatient, "Tom Whitfield")
	h.sb.SetFaults(sandbox.Faults{Latency: 2 * time.Second, Match: postAppointment})
	pending := h.confirm(review).WantH1("We're confirming your booking")
	h.sb.SetFaults(sandbox.Faults{})
	if n := len(h.portalAppointments()); n != 0 {
		t.Fatalf("%d appointments: the fault let the booking through", n)
	}

	armed.Store(true)
	if res := h.sweep(booking.SettleGrace + time.Second); res.Booked != 1 || res.Failed != 0 {
		t.Fatalf("sweep %+v, want one booked", res)
	}
	h.wantOneAppointment(h.get(pending.URL))
}

// failingReopen is a store whose ReopenStuckDrafts always fails.
type failingReopen struct{ booking.Store }

func (failingReopen) ReopenStuckDrafts(context.Context, time.Time) ([]string, error) {
	return nil, errors.New("database is sulking")
}

// TestSweepGoesOnWhenReopeningFails: a failure to reopen stuck drafts is
// logged, and unknown bookings are still settled.
func TestSweepGoesOnWhenReopeningFails(t *testing.T) {
	h := newHarness(t)
	review := h.toReview(newPatient, "Tom Whitfield")
	h.sb.SetFaults(sandbox.Faults{StoreThenDropRate: 1, Match: postAppointment})
	pending := h.confirm(review).WantH1("We're confirming your booking")
	h.sb.SetFaults(sandbox.Faults{})

	w := h.sweeper(0)
	w.Store = failingReopen{w.Store}
	res, err := w.Sweep(context.Background())
	if err != nil || res.Booked != 1 {
		t.Fatalf("sweep = %+v, %v; want the booking settled", res, err)
	}
	if !strings.Contains(h.logs.String(), "reopen stuck drafts") {
		t.Error("the failure to reopen was not logged")
	}
	h.wantOneAppointment(h.get(pending.URL))
}
