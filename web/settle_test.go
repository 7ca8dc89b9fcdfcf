package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/time/rate"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/internal/coreplus"
	"github.com/clinic-booking/portal/internal/coreplus/sandbox"
	"github.com/clinic-booking/portal/internal/store"
)

// What a patient's page can end on, and the page that waits for it.
const (
	pageBooked   = "Booking confirmed"
	pageFailed   = "Your booking did not go through"
	pagePending  = "We're confirming your booking"
	pageNotSent  = "nothing sent" // the confirm's own error page: nothing was booked
	pageNotFinal = "not final"
)

// breakerOpen is how long the circuit breaker stays open in the settling
// tests, and breakerWait the wall time they give it between two sweeps:
// the sweeps are DefaultSweepEvery apart on the store's clock, and the
// real breaker (DefaultBreakerOpen) closes well inside that.
const (
	breakerOpen = 100 * time.Millisecond
	breakerWait = 150 * time.Millisecond
)

// settlingHarness is a portal whose coreplus calls time out quickly, which
// forwards client addresses, so that many patients each have their own.
func settlingHarness(t *testing.T) *harness {
	return newHarnessSetup(t, harnessSetup{
		web: behindProxy,
		api: func(c *coreplus.Config) { c.Timeout, c.BreakerOpen = 300*time.Millisecond, breakerOpen },
	})
}

// draftsForSlots gives n patients, each a person of their own, a draft
// each for a time of their own, and returns the confirm action and each
// patient's confirm form.
func (h *harness) draftsForSlots(n int) (string, []url.Values) {
	t := h.t
	t.Helper()
	var slots []string
	for _, name := range []string{"Priya Nandakumar", "Tom Whitfield", "Aisha Rahman"} {
		h.toTimes("Harbourside Physio Surry Hills", "Standard Consultation", name).
			Doc.Find("ul.slots a").Each(func(_ int, a *goquery.Selection) { slots = append(slots, a.AttrOr("href", "")) })
	}
	if len(slots) < n {
		t.Fatalf("%d times offered, want %d", len(slots), n)
	}
	var action string
	confirms := make([]url.Values, n)
	for i := range n {
		details := h.get(slots[i]).WantH1("Your details")
		detailsAction, blank := details.Form()
		pt := newPatient
		pt.First = "Zephyrine" + letters(i)
		pt.Last = "Quillfeather-" + letters(i)
		pt.Email = fmt.Sprintf("zq.%d@example.com", i)
		pt.Mobile = fmt.Sprintf("0499 111 %03d", i)
		status, loc, _, err := h.postAs(patientAddr(i), detailsAction, pt.fill(blank))
		if err != nil || status != http.StatusSeeOther {
			t.Fatalf("patient %d details: status %d, %v", i, status, err)
		}
		action, confirms[i] = h.get(loc).WantH1("Check your booking").Form()
	}
	return action, confirms
}

// outcome reads where a patient's confirm has got to: the page its answer
// leads to now.
func (h *harness) outcome(a raceAnswer) string {
	switch {
	case a.err != nil || a.status >= 500 && !strings.Contains(a.page.Text(), "Nothing has been booked"):
		h.t.Errorf("confirm answered %d, %v:\n%s", a.status, a.err, a.page.Text())
		return pageNotFinal
	case a.status >= 500:
		return pageNotSent
	case a.status != http.StatusSeeOther:
		h.t.Errorf("confirm answered %d", a.status)
		return pageNotFinal
	}
	p := h.get(a.location)
	switch h1 := p.H1(); h1 {
	case pageBooked, pageFailed, pagePending:
		return h1
	default:
		h.t.Errorf("%s: %q\n%s", a.location, h1, p.Text())
		return pageNotFinal
	}
}

// settleUnderFaults has n patients confirm a time each at once while
// coreplus misbehaves as faults says, then sweeps every DefaultSweepEvery
// of the store's clock, the faults still on, until booking.SettleWithin has
// passed. Every patient's page must reach booked or "did not go through"
// within it, and coreplus must hold exactly the appointments of the
// patients told they are booked.
func settleUnderFaults(t *testing.T, n int, faults sandbox.Faults) {
	h := settlingHarness(t)
	action, confirms := h.draftsForSlots(n)
	h.sb.SetFaults(faults)
	answers := h.race(action, confirms)

	state := make([]string, n)
	settledAt := make([]time.Duration, n)
	for i, a := range answers {
		state[i] = h.outcome(a)
	}
	w := h.sweeper(0)
	var elapsed time.Duration
	for ; elapsed <= booking.SettleWithin; elapsed += booking.DefaultSweepEvery {
		res, err := w.Sweep(t.Context())
		if err != nil {
			t.Fatalf("sweep at %v: %v", elapsed, err)
		}
		if res != (booking.SweepResult{}) {
			t.Logf("sweep at %v: %+v", elapsed, res)
		}
		if res.Calls > booking.SweepCalls+10 {
			t.Errorf("sweep at %v made %d calls; its share is %d", elapsed, res.Calls, booking.SweepCalls)
		}
		for i, a := range answers {
			if state[i] == pagePending {
				if state[i] = h.outcome(a); state[i] != pagePending {
					settledAt[i] = elapsed
				}
			}
		}
		h.advance(booking.DefaultSweepEvery)
		time.Sleep(breakerWait)
	}
	h.sb.SetFaults(sandbox.Faults{})

	counts := map[string]int{}
	var slowest time.Duration
	booked := map[string]bool{} // the reference of each patient told "booked"
	for i, a := range answers {
		counts[state[i]]++
		slowest = max(slowest, settledAt[i])
		if state[i] == pagePending {
			t.Errorf("patient %d still on %q after %v", i, pagePending, booking.SettleWithin)
		}
		if state[i] == pageBooked {
			p := h.get(a.location)
			booked[strings.TrimSpace(p.Doc.Find(".reference").First().Text())] = true
		}
	}
	t.Logf("%+v: %d patients: %v; the slowest settled %v after the confirm", faults, n, counts, slowest)
	if counts[pageBooked] == 0 {
		t.Error("nobody was booked: the faults left nothing to check")
	}
	appts := h.portalAppointments()
	if len(appts) != counts[pageBooked] {
		t.Errorf("coreplus holds %d portal appointments; %d patients were told they are booked", len(appts), counts[pageBooked])
	}
	for _, ap := range appts {
		if !booked[ap.ReferenceNumber] {
			t.Errorf("coreplus holds appointment %s that no patient was told of", ap.ReferenceNumber)
		}
	}
}

// TestEveryBookingSettlesUnderFaults: 30 patients confirm at once while
// coreplus drops connections, fails, or stores a booking and drops the
// answer, and all of those mixed; faults stay on while the sweeper works.
func TestEveryBookingSettlesUnderFaults(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		faults sandbox.Faults
	}{
		{"drop 0.3", sandbox.Faults{DropRate: 0.3}},
		{"error 0.3", sandbox.Faults{ErrorRate: 0.3}},
		{"store then drop 0.5", sandbox.Faults{StoreThenDropRate: 0.5}},
		{"mixed", sandbox.Faults{DropRate: 0.15, ErrorRate: 0.15, StoreThenDropRate: 0.3, Latency: 20 * time.Millisecond}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			settleUnderFaults(t, 30, tc.faults)
		})
	}
}

// TestNewBookingsSettleBehindABacklog: 200 bookings sent twice long ago
// with no answer and nothing in coreplus, and 20 of a clinic no longer
// served that can never settle, are waiting when new patients' bookings go
// unanswered, three at each of four sweeps. Every new one still settles
// within booking.SettleWithin of its confirm, no sweep spends more than its
// share of the upstream budget, and the backlog drains.
func TestNewBookingsSettleBehindABacklog(t *testing.T) {
	t.Parallel()
	h := settlingHarness(t)
	const batches, perBatch = 4, 3
	action, confirms := h.draftsForSlots(batches * perBatch)

	ctx := t.Context()
	clientID, err := h.api.CreateClient(ctx, coreplus.NewClient{FirstName: "Backlog", LastName: "Patient",
		DateOfBirth: coreplus.DateOf(time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)), Email: "backlog@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	far := h.now.AddDate(0, 2, 0).Truncate(time.Hour)
	backlog := func(n int, clinic string, from time.Time) {
		for i := range n {
			start := from.Add(time.Duration(i) * 5 * time.Minute)
			b := store.Booking{DraftID: fmt.Sprintf("backlog-%s-%03d", clinic, i), Clinic: clinic,
				PractitionerID: sandbox.PractitionerPriyaID, LocationID: sandbox.LocationSydneyID,
				AppointmentTypeID: sandbox.AppointmentTypeStandardID, Start: start, End: start.Add(30 * time.Minute)}
			if err := h.db.ClaimBooking(ctx, b, string(booking.RecordPending)); err != nil {
				t.Fatal(err)
			}
			b.Status, b.ClientID, b.Resent = string(booking.RecordUnknown), clientID, true
			if err := h.db.UpdateBooking(ctx, b); err != nil {
				t.Fatal(err)
			}
		}
	}
	backlog(200, "demo", far)
	backlog(20, "gone", far)
	h.advance(time.Hour)

	type newBooking struct {
		answer             raceAnswer
		state              string
		confirmed, settled time.Duration
	}
	var news []*newBooking
	w := h.sweeper(0)
	// A pace that never refills, so what the sweeps paid shows in it.
	const paid = 100000
	w.Pace = rate.NewLimiter(rate.Every(24*time.Hour), paid)
	var elapsed time.Duration
	var deferred int
	var calls int64
	for sweep := 0; ; sweep++ {
		if sweep < batches {
			h.sb.SetFaults(sandbox.Faults{DropRate: 0.5, StoreThenDropRate: 1, Match: postAppointment})
			answers := h.race(action, confirms[sweep*perBatch:(sweep+1)*perBatch])
			h.sb.SetFaults(sandbox.Faults{})
			for _, a := range answers {
				news = append(news, &newBooking{answer: a, state: h.outcome(a), confirmed: elapsed})
			}
		}
		res, err := w.Sweep(ctx)
		if err != nil {
			t.Fatal(err)
		}
		deferred += res.Deferred
		calls += res.Calls
		if res.Calls > booking.SweepCalls+6 {
			t.Errorf("sweep %d made %d calls; its share is %d", sweep, res.Calls, booking.SweepCalls)
		}
		pending := 0
		for _, nb := range news {
			if nb.state == pagePending {
				if nb.state = h.outcome(nb.answer); nb.state == pagePending {
					pending++
				} else {
					nb.settled = elapsed
				}
			}
		}
		if sweep >= batches && pending == 0 {
			break
		}
		if elapsed > 2*booking.SettleWithin {
			t.Fatalf("%d new bookings still pending after %v", pending, elapsed)
		}
		h.advance(booking.DefaultSweepEvery)
		elapsed += booking.DefaultSweepEvery
		time.Sleep(breakerWait)
	}

	var slowest time.Duration
	for i, nb := range news {
		if took := nb.settled - nb.confirmed; took > booking.SettleWithin {
			t.Errorf("new booking %d settled %v after its confirm; the bound is %v", i, took, booking.SettleWithin)
		} else {
			slowest = max(slowest, took)
		}
	}
	if deferred == 0 {
		t.Error("no sweep reached its share of the budget: the backlog did not test it")
	}
	if spent := paid - int64(w.Pace.Tokens()); spent != calls {
		t.Errorf("the sweeps made %d calls and paced %d of them", calls, spent)
	}
	left, err := h.db.ListBookingsByStatus(ctx, string(booking.RecordUnknown), 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range left {
		if b.Clinic != "gone" {
			t.Errorf("booking %s of %s still unknown", b.DraftID, b.Clinic)
		}
	}
	t.Logf("%d new bookings settled, the slowest %v after its confirm; %d looks deferred for the budget; %d of the unserved clinic left",
		len(news), slowest, deferred, len(left))
}

// TestBookingSentTwiceWithoutAnswerDidNotGoThrough: a booking whose send
// and resend both go unanswered, and that coreplus does not have a grace
// after the resend, is settled as failed: the patient's page says nothing
// was booked and offers the nearest times, and the time is free again for
// the next patient, who books it.
func TestBookingSentTwiceWithoutAnswerDidNotGoThrough(t *testing.T) {
	t.Parallel()
	h := settlingHarness(t)
	action, confirms := h.draftsForOneSlot(2)
	h.sb.SetFaults(sandbox.Faults{DropRate: 1, Match: postAppointment})
	first := h.race(action, confirms[:1])[0]
	if got := h.outcome(first); got != pagePending {
		t.Fatalf("after a dropped send: %q", got)
	}
	if taken := h.race(action, confirms[1:])[0]; taken.status != http.StatusConflict {
		t.Fatalf("another patient for the same time while it is unsettled: %d, want 409", taken.status)
	}
	if res := h.sweep(0); res.Unsettled != 1 || res.Resent != 0 {
		t.Fatalf("first look: %+v", res)
	}
	if res := h.sweep(0); res != (booking.SweepResult{}) {
		t.Fatalf("a second look inside the grace: %+v", res)
	}
	h.advance(booking.SettleGrace + time.Second)
	if res := h.sweep(0); res.Resent != 1 || res.Unsettled != 1 {
		t.Fatalf("after the grace: %+v, want one resend, unanswered", res)
	}
	h.advance(booking.SettleGrace / 2)
	if res := h.sweep(0); res.Failed != 0 || res.Resent != 0 {
		t.Fatalf("inside the resend's grace: %+v", res)
	}
	if got := h.outcome(first); got != pagePending {
		t.Fatalf("inside the resend's grace: %q", got)
	}
	h.advance(booking.SettleGrace / 2)
	if res := h.sweep(0); res.Failed != 1 || res.Resent != 0 {
		t.Fatalf("a grace after the resend: %+v, want failed and nothing sent", res)
	}
	h.sb.SetFaults(sandbox.Faults{})
	if n := len(h.portalAppointments()); n != 0 {
		t.Fatalf("coreplus holds %d portal appointments", n)
	}
	failed := h.get(first.location).WantH1(pageFailed)
	if !strings.Contains(failed.Text(), "Nothing has been booked for you") {
		t.Errorf("failed page does not say so plainly:\n%s", failed.Text())
	}
	if failed.Doc.Find("section.taken ul.slots a").Length() == 0 {
		t.Errorf("no nearest times offered:\n%s", failed.Text())
	}
	if strings.Contains(h.logs.String(), "still unsettled") {
		t.Error("a booking settled in time raised the unsettled alert")
	}

	// Its time is free again: the next patient, who chose it, books it.
	second := h.race(action, confirms[1:])[0]
	if got := h.outcome(second); got != pageBooked {
		t.Fatalf("the next patient: %q", got)
	}
}

// TestBookedTimeLeavesTheTimePageAtOnce: a time booked through the portal
// is gone from the next patient's time page at once, though the free time
// it is cut from is still cached (the harness's clock stands still).
func TestBookedTimeLeavesTheTimePageAtOnce(t *testing.T) {
	t.Parallel()
	h := settlingHarness(t)
	times := h.toTimes("Harbourside Physio Surry Hills", "Standard Consultation", "Priya Nandakumar")
	slot, label := times.FirstSlot()
	h.wantOneAppointment(h.confirm(h.post(func() (string, url.Values) {
		action, form := h.get(slot).WantH1("Your details").Form()
		return action, newPatient.fill(form)
	}()).WantH1("Check your booking")))

	again := h.get(times.URL)
	if _, next := again.FirstSlot(); next == label {
		t.Errorf("the time just booked is still offered first: %s", label)
	}
	again.Doc.Find("ul.slots a").Each(func(_ int, a *goquery.Selection) {
		if a.AttrOr("href", "") == slot {
			t.Errorf("the time just booked is still offered: %s", label)
		}
	})
}

// TestSlowFreeTimeGetsABusyPageThatTriesAgain: when coreplus takes longer
// than a patient should wait to give free time the cache does not have,
// the time page says the system is busy (503, Retry-After) and loads
// itself again (Refresh); the load went on meanwhile, so the next try has
// the times. Nothing is shown as an outage.
func TestSlowFreeTimeGetsABusyPageThatTriesAgain(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	practitioners := h.get("/demo").Link("Harbourside Physio Surry Hills")
	practitioners = h.get(practitioners).Link("Standard Consultation")
	who := h.get(practitioners)
	h.sb.SetFaults(sandbox.Faults{Latency: 3 * time.Second, Match: func(method, resource string) bool { return resource == "availabilityslot" }})
	h.restart() // cold caches: free time must be loaded for the time page
	req, _ := http.NewRequest(http.MethodGet, h.abs(who.Link("Priya Nandakumar")), nil)
	busy := h.do(req)
	if busy.Status != http.StatusServiceUnavailable || busy.Header.Get("Refresh") == "" || busy.Header.Get("Retry-After") == "" {
		t.Fatalf("status %d, Refresh %q, Retry-After %q; want a busy page that tries again", busy.Status, busy.Header.Get("Refresh"), busy.Header.Get("Retry-After"))
	}
	busy.WantH1("Lots of people are booking right now")
	if strings.Contains(busy.Text(), "Leave a booking request") {
		t.Error("a busy page offers the outage's booking request")
	}
	h.get(req.URL.String()).WantH1("Choose a time")
}

// TestOldTimesSayHowOld: a time page says how old its times are only when
// they are older than they ever are while coreplus answers: here, served
// from the last copy because coreplus was too slow to refresh it.
func TestOldTimesSayHowOld(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	times := h.toTimes("Harbourside Physio Surry Hills", "Standard Consultation", "Priya Nandakumar")
	if strings.Contains(times.Text(), "These times are from") {
		t.Fatalf("fresh times say they are old:\n%s", times.Text())
	}
	h.sb.SetFaults(sandbox.Faults{Latency: 4 * time.Second, Match: func(_, resource string) bool { return resource == "availabilityslot" }})
	h.now = h.now.Add(booking.StaleAfter + 5*time.Minute)
	time.Sleep(600 * time.Millisecond) // past the memo of computed time steps
	began := time.Now()
	old := h.get(rel(times.URL)).WantH1("Choose a time")
	if took := time.Since(began); took < 2*time.Second {
		t.Errorf("answered in %v: the page did not wait for the slow reload at all", took)
	}
	if !strings.Contains(old.Text(), "These times are from") || !strings.Contains(old.Text(), "checked before it is booked") {
		t.Errorf("times served from a copy %v old do not say so:\n%s", booking.StaleAfter+5*time.Minute, old.Text())
	}
	if _, label := old.FirstSlot(); label == "" {
		t.Error("the old copy offers no times")
	}
}

// TestTimeTakenInCoreplusMeanwhileSendsBackToTheDay: a patient picks a time
// from a page made before the clinic gave that time to someone in coreplus
// itself. Once the portal knows, the details step does not say the link is
// bad: it goes back to that day's times, which no longer offer it, and
// says the time was just taken.
func TestTimeTakenInCoreplusMeanwhileSendsBackToTheDay(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	times := h.toTimes("Harbourside Physio Surry Hills", "Standard Consultation", "Priya Nandakumar")
	slot, label := times.FirstSlot()
	u, err := url.Parse(slot)
	if err != nil {
		t.Fatal(err)
	}
	start, err := time.Parse(time.RFC3339, u.Query().Get("slot"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.api.CreateAppointment(t.Context(), coreplus.NewAppointment{
		Start: start, End: start.Add(30 * time.Minute), PractitionerID: sandbox.PractitionerPriyaID,
		LocationID: sandbox.LocationSydneyID, AppointmentTypeID: sandbox.AppointmentTypeStandardID,
		ClientID: sandbox.ClientPeterNguyenID,
	}); err != nil {
		t.Fatal(err)
	}
	// The portal's free time is older than it is ever served: reloaded.
	h.now = h.now.Add(booking.AvailabilityTTL + booking.AvailabilityStale + time.Minute)

	back := h.get(slot).WantH1("Choose a time")
	if !strings.Contains(back.Text(), "The time you chose has just been taken") {
		t.Errorf("back on the time step without saying why:\n%s", back.Text())
	}
	back.Doc.Find("ul.slots a").Each(func(_ int, a *goquery.Selection) {
		if strings.Contains(a.AttrOr("href", ""), url.QueryEscape(u.Query().Get("slot"))) && a.AttrOr("aria-label", "") == label {
			t.Errorf("the time taken is still offered: %s", label)
		}
	})
	if strings.Contains(back.URL, "slot=") {
		t.Errorf("the time step's address still picks a time: %s", back.URL)
	}
}
