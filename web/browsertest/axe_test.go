//go:build browser

package browsertest

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/clinic-booking/portal/internal/coreplus"
	"github.com/clinic-booking/portal/internal/coreplus/sandbox"
)

// axe-core, the accessibility engine of browsers' developer tools, checks
// every page of the flow and every error page, standalone and inside a
// clinic's iframe, at 320 and 1280 px: any violation, of any impact, fails.
// `make browser-test` fetches axe-core with npm and names its axe.min.js in
// AXE_CORE_JS.

var axeScript struct {
	once sync.Once
	src  string
	err  error
}

// axeSource is the contents of $AXE_CORE_JS; the test fails without it.
func axeSource(t *testing.T) string {
	t.Helper()
	axeScript.once.Do(func() {
		path := os.Getenv("AXE_CORE_JS")
		if path == "" {
			axeScript.err = fmt.Errorf("AXE_CORE_JS is not set: run `make browser-test`, which fetches axe-core with npm, or set it to axe-core's axe.min.js")
			return
		}
		b, err := os.ReadFile(path)
		if err != nil {
			axeScript.err = fmt.Errorf("AXE_CORE_JS: %w", err)
			return
		}
		axeScript.src = string(b)
	})
	if axeScript.err != nil {
		t.Fatal(axeScript.err)
	}
	return axeScript.src
}

// axeViolation is one rule a page breaks, with the elements that break it.
type axeViolation struct {
	ID      string   `json:"id"`
	Impact  string   `json:"impact"`
	Help    string   `json:"help"`
	Targets []string `json:"targets"`
}

const axeRunJS = `axe.run(document, {resultTypes: ['violations']}).then(r => JSON.stringify(r.violations.map(v => ({
	id: v.id, impact: v.impact, help: v.help,
	targets: v.nodes.map(n => n.target.join(' '))}))))`

// expectNoAxeViolations runs axe-core on the page and fails listing each
// violation's rule, impact and elements.
func (b *browser) expectNoAxeViolations(page string) {
	b.t.Helper()
	vs, err := b.runAxe(page)
	if err != nil {
		b.fail("%v", err)
	}
	b.reportAxe(page, vs)
}

// reportAxe fails listing each violation, or logs that there were none.
func (b *browser) reportAxe(page string, vs []axeViolation) {
	b.t.Helper()
	if len(vs) > 0 {
		var lines []string
		for _, v := range vs {
			lines = append(lines, fmt.Sprintf("%s (%s): %s, on %d element(s): %s", v.ID, v.Impact, v.Help, len(v.Targets), strings.Join(v.Targets, ", ")))
		}
		b.t.Errorf("axe-core finds %d violation(s) on %s (%s):\n  %s", len(vs), page, b.url(), strings.Join(lines, "\n  "))
		return
	}
	b.t.Logf("axe-core: no violations on %s", page)
}

// runAxe injects axe-core into the page and returns what it finds.
func (b *browser) runAxe(page string) ([]axeViolation, error) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	byValue := true
	eval := func(expr string, await bool) (string, error) {
		res, err := chromedp.Call(ctx, runtime.Evaluate, runtime.EvaluateParams{Expression: expr, AwaitPromise: &await, ReturnByValue: &byValue})
		if err != nil {
			return "", err
		}
		if res.ExceptionDetails != nil {
			return "", fmt.Errorf("%s", res.ExceptionDetails.Text)
		}
		if res.Result == nil || len(res.Result.Value) == 0 {
			return "", nil
		}
		var s string
		if err := json.Unmarshal(res.Result.Value, &s); err != nil {
			return string(res.Result.Value), nil
		}
		return s, nil
	}
	if _, err := eval(axeSource(b.t)+"\n;'injected'", false); err != nil {
		return nil, fmt.Errorf("inject axe-core into %s: %w", page, err)
	}
	out, err := eval(axeRunJS, true)
	if err != nil {
		return nil, fmt.Errorf("run axe-core on %s: %w", page, err)
	}
	var vs []axeViolation
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		return nil, fmt.Errorf("axe-core's answer on %s: %v (%q)", page, err, out)
	}
	return vs, nil
}

// axeTour walks the pages in one browser, standalone or in a frame on the
// clinic's site, and runs axe-core on each.
type axeTour struct {
	t        *testing.T
	embedded bool
	tab      *browser // the browser's tab: the portal, or the host page
	b        *browser // the portal's page: tab, or the frame in it
	pages    int
	// portal and embedPortal, when set, are the portal the tour opens
	// (as itself and as another site) instead of suite.faultyURL.
	portal, embedPortal string
}

// open loads a page of the portal behind the switch (suite.faultyURL),
// whatever its status; embedded, inside an iframe on the clinic's site.
func (a *axeTour) open(path string) {
	a.t.Helper()
	if !a.embedded {
		ctx, cancel := context.WithTimeout(a.tab.ctx, stepTimeout)
		defer cancel()
		if _, err := chromedp.RunResponse(ctx, chromedp.Navigate(cmp.Or(a.portal, suite.faultyURL)+path)); err != nil {
			a.tab.fail("open %s: %v", path, err)
		}
		return
	}
	u, err := url.Parse(cmp.Or(a.embedPortal, suite.faultyEmbedURL) + path)
	if err != nil {
		a.t.Fatal(err)
	}
	q := u.Query()
	q.Set("embed", "1")
	q.Set("host", suite.hostURL)
	u.RawQuery = q.Encode()
	a.tab.open(suite.hostURL + "/frame.html?src=" + url.QueryEscape(u.String()))
	a.b = a.tab.frame(u.String())
}

// check waits for the page headed heading and runs axe-core on it.
func (a *axeTour) check(name, heading string) {
	a.t.Helper()
	a.b.waitHeading(heading)
	a.b.checkPage()
	a.b.screenshot(name)
	a.b.expectNoAxeViolations(name)
	a.pages++
}

// checkRefreshing is check for a page that loads itself again after a few
// seconds (the busy page's Refresh): a reload that lands while axe-core
// runs destroys its page, so axe-core runs again on the reloaded one,
// which must be the same page.
func (a *axeTour) checkRefreshing(name, heading string) {
	a.t.Helper()
	var err error
	for range 3 {
		a.b.waitHeading(heading)
		var vs []axeViolation
		if vs, err = a.b.runAxe(name); err == nil {
			a.b.reportAxe(name, vs)
			a.pages++
			return
		}
		a.t.Logf("%v; the page reloaded itself meanwhile: again", err)
	}
	a.b.fail("%v", err)
}

// submit clicks the button named text and waits for the page it loads,
// whatever its status (a form with errors answers 422).
func (a *axeTour) submit(text string) {
	a.t.Helper()
	button, _ := a.b.byRole("button", quote(text), named(text))
	ctx, cancel := context.WithTimeout(a.b.ctx, stepTimeout)
	defer cancel()
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(button)); err != nil {
		a.b.fail("press %q: %v", text, err)
	}
}

// nearestTime matches the name of a nearest free time on the slot-taken
// page, such as "Tuesday 8 December, 9:45 am, with Priya Nandakumar".
var nearestTime = regexp.MustCompile(`\d{1,2}:\d{2}\s*[ap]m, with `)

// pickNearestTime follows the first of the nearest free times.
func (a *axeTour) pickNearestTime() {
	a.t.Helper()
	alt, name := a.b.byRole("link", "a nearest free time", nearestTime.MatchString)
	a.b.navigate("pick "+quote(name), chromedp.Click(alt))
	a.b.waitHeading("Check your booking")
}

// confirm presses "Confirm booking"; a time another test took meanwhile
// (the time step may show it for a moment longer) gives way to the
// nearest free time.
func (a *axeTour) confirm() {
	a.t.Helper()
	for range 3 {
		a.submit("Confirm booking")
		if a.b.count("//section[contains(@class,'taken')]") == 0 {
			return
		}
		a.t.Logf("the time was taken meanwhile; picking the nearest free time")
		a.pickNearestTime()
	}
}

// pickTime follows the first time of the time step that is still free:
// this portal's time step may offer, for a moment, a time that a test took
// straight in coreplus, which the details step then refuses.
func (a *axeTour) pickTime() {
	a.t.Helper()
	for i := 0; i < 5; i++ {
		var times []axNode
		for _, n := range a.b.axQuery("link") {
			if timeOfDay.MatchString(n.name) {
				times = append(times, n)
			}
		}
		if i >= len(times) {
			break
		}
		ctx, cancel := context.WithTimeout(a.b.ctx, stepTimeout)
		resp, err := chromedp.RunResponse(ctx, chromedp.Click(a.b.mark(times[i])))
		cancel()
		if err != nil {
			a.b.fail("pick %q: %v", times[i].name, err)
		}
		// A time taken meanwhile sends the details step back to that
		// day's times, which say so (a 200 after the redirect).
		h1, err := chromedp.Run(a.b.ctx, chromedp.Evaluate[string](`(document.querySelector("h1") || {}).textContent || ""`))
		if err != nil {
			a.b.fail("read the heading: %v", err)
		}
		if resp != nil && resp.Status == 200 && strings.TrimSpace(h1) == "Your details" {
			a.b.waitHeading("Your details")
			return
		}
		a.t.Logf("%q was taken meanwhile; trying the next time", times[i].name)
		if strings.TrimSpace(h1) != "Choose a time" {
			a.open(timeStepPath) // the same step: Surry Hills, Standard, first available
		}
		a.b.waitHeading("Choose a time")
	}
	a.b.fail("none of the first times of the time step could be picked")
}

// fillDetails types a patient's details into the details form.
func (a *axeTour) fillDetails(p patient) {
	a.t.Helper()
	b := a.b
	b.fill("First name", p.firstName)
	b.fill("Last name", p.lastName)
	b.fillInGroup("Date of birth", "Day", "14")
	b.fillInGroup("Date of birth", "Month", "8")
	b.fillInGroup("Date of birth", "Year", "1961")
	b.fill("Email address", p.email)
	b.fill("Mobile number", p.mobile)
	b.check("I agree to the clinic's privacy policy")
}

// hiddenFields reads the hidden fields of the page's forms.
func (b *browser) hiddenFields() map[string]string {
	b.t.Helper()
	q, err := chromedp.Run(b.ctx, chromedp.Evaluate[map[string]string](`Object.fromEntries([...document.querySelectorAll('input[type=hidden]')].map(i => [i.name, i.value]))`))
	if err != nil {
		b.fail("read the form's hidden fields: %v", err)
	}
	return q
}

func TestEveryPageHasNoAxeViolations(t *testing.T) {
	axeSource(t) // fail at once without axe-core
	for _, width := range []int64{320, 1280} {
		for _, embedded := range []bool{false, true} {
			name := fmt.Sprintf("%dpx standalone", width)
			if embedded {
				name = fmt.Sprintf("%dpx embedded", width)
			}
			t.Run(name, func(t *testing.T) {
				defer suite.upstream.down.Store(false)
				cfg := browserConfig{width: width, height: 800, blockThirdPartyCookies: embedded}
				tab := newBrowser(t, cfg)
				a := &axeTour{t: t, embedded: embedded, tab: tab, b: tab}
				tourEveryPage(a, strings.NewReplacer("320px", "Narrow", "1280px", "Wide", " ", "-", "standalone", "Alone", "embedded", "Framed").Replace(name))
				tourColdPages(a)
				t.Logf("axe-core checked %d pages at %d px (embedded %v)", a.pages, width, embedded)
			})
		}
	}
}

// tourEveryPage visits every step of the flow and every error state.
func tourEveryPage(a *axeTour, who string) {
	a.t.Helper()
	p := patient{firstName: "Ada", lastName: who, email: "axe." + strings.ToLower(who) + "@example.com", mobile: "0412 000 111"}

	// The steps, and a booking.
	a.open("/" + clinicSlug + "/")
	a.check("location step", "Where would you like to be seen?")
	a.b.follow("Harbourside Physio Surry Hills")
	a.check("service step", "What would you like to book?")
	a.b.follow("Standard")
	a.check("practitioner step", "Who would you like to see?")
	a.b.follow("First available practitioner")
	if u, _ := url.Parse(a.b.url()); u.Query().Get("practitioner") != "any" || !strings.HasSuffix(timeStepPath, "practitioner=any") {
		a.b.fail("the time step is not the one pickTime opens again (%s)", timeStepPath)
	}
	a.check("time step", "Choose a time")
	a.pickTime()
	a.check("details step", "Your details")
	a.submit("Continue")
	a.check("details with errors", "Your details")
	if n := a.b.count("//*[contains(@class,'error-summary')]"); n == 0 {
		a.b.fail("the empty details form came back with no error summary")
	}
	a.fillDetails(p)
	a.b.press("Continue")
	a.check("review step", "Check your booking")
	a.confirm()
	a.check("confirmation", "Booking confirmed")
	a.b.follow("Change or cancel this booking")
	a.check("manage page, inside the cut-off", "Your booking")

	// The time goes to someone else before the patient confirms.
	a.open(timeStepPath)
	a.b.waitHeading("Choose a time")
	a.pickTime()
	a.fillDetails(p)
	a.b.press("Continue")
	a.b.waitHeading("Check your booking")
	takeSlot(a.t, a.b.hiddenFields())
	a.submit("Confirm booking")
	a.check("review: the time was taken", "Check your booking")
	a.b.expectText("the slot-taken page", "That time has just been taken", "These are the nearest free times")

	// coreplus goes down as the patient confirms another time.
	a.pickNearestTime()
	a.b.waitHeading("Check your booking")
	draft := a.b.hiddenFields()["draft"]
	suite.upstream.down.Store(true)
	a.submit("Confirm booking")
	a.check("outage page", "Online booking isn't available right now")
	a.b.follow("Leave a booking request")
	a.check("booking request form", "Leave a booking request")
	a.b.fill("First name", "")
	a.b.fill("Email address", "")
	a.b.fill("Mobile number", "")
	a.submit("Send request")
	a.check("booking request form with errors", "Leave a booking request")
	a.b.fill("First name", p.firstName)
	a.b.fill("Mobile number", p.mobile)
	a.submit("Send request")
	a.check("booking request received", "Request received")
	suite.upstream.down.Store(false)

	// The booking that was never sent.
	a.open("/" + clinicSlug + "/booking/" + draft + "/")
	a.check("booking did not go through", "Your booking did not go through")

	a.open("/" + clinicSlug + "/no-such-page")
	a.check("404 page", "Page not found")
	a.open("/" + clinicSlug + "/book?location=no-such-location")
	a.check("bad link page", "We couldn't use that link")
}

// tourColdPages visits, on a portal of its own whose caches are empty, the
// first step while coreplus is down (the outage page, where the patient
// has nothing yet) and while coreplus is too slow to wait for (the busy
// page, which loads itself again).
func tourColdPages(a *axeTour) {
	a.t.Helper()
	cold := startColdPortal(a.t)
	a.portal, a.embedPortal = cold.url, cold.embedURL
	defer func() { a.portal, a.embedPortal = "", "" }()

	cold.upstream.down.Store(true)
	a.open("/" + clinicSlug + "/")
	a.check("outage page at the first step", "Online booking isn't available right now")
	a.b.expectText("the outage page at the first step", "Leave a booking request")
	cold.upstream.down.Store(false)

	cold.upstream.slow.Store(true)
	defer cold.upstream.slow.Store(false)
	a.open("/" + clinicSlug + "/")
	a.b.waitHeading("Lots of people are booking right now")
	a.b.checkPage()
	a.b.screenshot("busy page")
	a.checkRefreshing("busy page", "Lots of people are booking right now")
}

// takeSlot books the review's time for another client, straight in
// coreplus, as the clinic's reception would on the phone.
func takeSlot(t *testing.T, form map[string]string) {
	t.Helper()
	start, err := time.Parse(time.RFC3339, form["slot"])
	if err != nil {
		t.Fatalf("the review's slot %q: %v", form["slot"], err)
	}
	with := form["with"]
	if with == "" {
		with = form["practitioner"]
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	api := newCoreplusAPI(t)
	err = retryRateLimited(ctx, func() error {
		_, err := api.CreateAppointment(ctx, coreplus.NewAppointment{
			Start: start, End: start.Add(30 * time.Minute), PractitionerID: with,
			LocationID: form["location"], AppointmentTypeID: form["type"], ClientID: sandbox.ClientPeterNguyenID,
		})
		return err
	})
	if errors.Is(err, coreplus.ErrSlotUnavailable) {
		t.Logf("%s with %s was taken already", start, with)
		return
	}
	if err != nil {
		t.Fatalf("take %s with %s in coreplus: %v", start, with, err)
	}
}
