package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/internal/coreplus"
	"github.com/clinic-booking/portal/internal/coreplus/sandbox"
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
