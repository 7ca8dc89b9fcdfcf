package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/clinic-booking/portal/internal/coreplus/sandbox"
	"github.com/clinic-booking/portal/internal/funnel"
	"github.com/clinic-booking/portal/internal/funnel/funnelstore"
	"github.com/clinic-booking/portal/web"
)

// newFunnelHarness is the portal counting its funnel into the harness's
// database, on the harness's clock.
func newFunnelHarness(t *testing.T) (*harness, *funnel.Counter) {
	t.Helper()
	var (
		h       *harness
		db      = &funnelstore.Adapter{} // the harness's database, once it has one
		counter = funnel.NewCounter(db, func() time.Time { return h.now }, nil)
	)
	h = newHarnessSetup(t, harnessSetup{web: func(c *web.Config) { c.Funnel = counter }})
	db.S = h.db
	return h, counter
}

// funnelReport is today's report, once everything counted is written.
func funnelReport(t *testing.T, h *harness, c *funnel.Counter) funnel.Report {
	t.Helper()
	if err := c.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	r, err := funnel.ReadReport(t.Context(), funnelstore.New(h.db), "demo", 1, h.now)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// funnelDay is today's counts, once everything counted is written.
func funnelDay(t *testing.T, h *harness, c *funnel.Counter) funnel.Day {
	t.Helper()
	return funnelReport(t, h, c).Days[0]
}

// TestFunnelCountsEachStepOncePerPatient books once through every step,
// reloading the time page, moving between weeks and reloading the
// confirmation: each step counts one patient, and the patient left nowhere.
func TestFunnelCountsEachStepOncePerPatient(t *testing.T) {
	h, counter := newFunnelHarness(t)
	times := h.toTimes("Harbourside Physio Surry Hills", "Standard Consultation", "First available practitioner")
	h.get(times.URL).WantH1("Choose a time")
	if later := times.Doc.Find("a:contains('Later')").AttrOr("href", ""); later != "" {
		h.get(later).WantH1("Choose a time")
	}
	r := funnelReport(t, h, counter)
	if r.Zone != "Australia/Sydney" {
		t.Errorf("the clinic's days are counted in %s; want its location's zone, Australia/Sydney", r.Zone)
	}
	day := r.Days[0]
	for _, step := range []funnel.Step{funnel.Location, funnel.Service, funnel.Practitioner, funnel.Time} {
		if got := day.Reached[step]; got != 1 {
			t.Errorf("%s: %d patients; want 1", step, got)
		}
	}
	if got := day.Left(funnel.Time); got != 1 {
		t.Errorf("left at the time step: %d; want 1 before going on", got)
	}

	slot, _ := times.FirstSlot()
	details := h.get(slot).WantH1("Your details")
	action, form := details.Form()
	review := h.post(action, newPatient.fill(form)).WantH1("Check your booking")
	h.get(review.URL).WantH1("Check your booking")
	done := h.confirm(review).WantH1("Booking confirmed")
	h.get(done.URL).WantH1("Booking confirmed")

	day = funnelDay(t, h, counter)
	for _, step := range funnel.Flow {
		if got := day.Reached[step]; got != 1 {
			t.Errorf("%s: %d patients; want 1", step, got)
		}
		if got := day.Left(step); got != 0 {
			t.Errorf("left at %s: %d; want 0", step, got)
		}
	}
	if got := day.Reached[funnel.Request]; got != 0 {
		t.Errorf("requests: %d; want 0", got)
	}
	h.assertPrivate(newPatient)
}

// TestFunnelCountsARequestLeftWhileDown: a booking request left while
// coreplus fails counts on the clinic's day, though coreplus cannot say
// the clinic's zone then.
func TestFunnelCountsARequestLeftWhileDown(t *testing.T) {
	h, counter := newFunnelHarness(t)
	review := h.toReview(newPatient, "Tom Whitfield")
	h.sb.SetFaults(sandbox.Faults{ErrorRate: 1})
	down := h.confirm(review).WantH1("Online booking isn't available right now")
	req := h.get(down.Link("Leave a booking request")).WantH1("Leave a booking request")
	action, form := req.Form()
	h.post(action, form).WantH1("Request received")

	day := funnelDay(t, h, counter)
	if day.Reached[funnel.Request] != 1 || day.Reached[funnel.Review] != 1 || day.Reached[funnel.Booked] != 0 {
		t.Errorf("the day: %v; want a review and a request, no booking", day.Reached)
	}
	if !strings.HasPrefix(day.Date, h.now.In(sydney).Format("2006-01-02")) {
		t.Errorf("counted on %s; want the clinic's day %s", day.Date, h.now.In(sydney).Format("2006-01-02"))
	}
}

// TestFunnelLeavesOutCrawlersAndPrefetches: a crawler walking the steps, a
// link preview, a browser's prefetch and a client with no User-Agent are
// not patients; a browser is.
func TestFunnelLeavesOutCrawlersAndPrefetches(t *testing.T) {
	h, counter := newFunnelHarness(t)
	load := func(ua string, header ...string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, h.abs("/demo"), nil)
		req.Header.Set("User-Agent", ua)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		h.do(req).WantH1("Where would you like to be seen?")
	}
	load("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")
	load("facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)")
	load("Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)")
	load("")
	load("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Version/17.5 Safari/605.1.15", "Sec-Purpose", "prefetch")
	if got := funnelDay(t, h, counter).Reached[funnel.Location]; got != 0 {
		t.Errorf("crawlers, previews and prefetches counted as %d patients", got)
	}
	load("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Version/17.5 Safari/605.1.15")
	if got := funnelDay(t, h, counter).Reached[funnel.Location]; got != 1 {
		t.Errorf("a browser counted as %d patients; want 1", got)
	}
}
