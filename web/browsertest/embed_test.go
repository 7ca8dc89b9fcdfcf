//go:build browser

package browsertest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"
)

// The portal embedded in a clinic's website: the host page is one site
// (suite.hostURL, http://127.0.0.1:PORT1) and the portal another
// (suite.embedURL, http://localhost:PORT2), so the iframe is cross-site and
// its cookies third-party. Chromium runs such an iframe in a process of its
// own, as a target of type "iframe"; the tests attach to that target
// (chromedp.WithTargetID) and drive it with the same helpers as a tab,
// keeping site isolation on as in a patient's browser.

// hostEvent is what the host page received from the loader.
type hostEvent struct {
	Name           string            `json:"name"`
	Container      string            `json:"container"`
	Step           string            `json:"step"`
	Reference      string            `json:"reference"`
	LocationID     string            `json:"locationId"`
	ServiceID      string            `json:"serviceId"`
	PractitionerID string            `json:"practitionerId"`
	Start          string            `json:"start"`
	UTM            map[string]string `json:"utm"`
}

func TestEmbeddedWithTheLoaderBooksWithThirdPartyCookiesBlocked(t *testing.T) {
	began := time.Now()
	host := newBrowser(t, browserConfig{width: 1024, height: 768, blockThirdPartyCookies: true})
	host.open(suite.hostURL + "/loader.html?utm_source=browsertest&utm_campaign=embed")
	frame := host.frame(suite.embedURL + "/")
	proveThirdPartyCookiesBlocked(host, frame)

	p := patient{
		firstName: "Iris", lastName: "In-A-Frame", dateOfBirth: time.Date(1972, time.May, 9, 0, 0, 0, 0, time.UTC),
		email: "iris.in-a-frame@example.com", mobile: "0411 222 333", note: "Booked from the clinic's site.",
	}
	heights := map[string]int{}
	got := bookAppointmentFrom(frame, choices{location: "Harbourside Physio Surry Hills", service: "Extended", practitioner: "Tom Whitfield"}, p,
		func() { frame.waitHeading("Where would you like to be seen?") },
		func(step string) { heights[step] = frameFits(host, frame) })

	// Auto-height: the frame follows its content, up and down.
	t.Logf("iframe heights: %v", heights)
	// (frameFits checked at each step that the frame is as tall as its
	// page; here, that the steps differ enough for that to mean something.)
	var grew, shrank bool
	order := []string{"location", "service", "practitioner", "time", "details", "review", "confirmation"}
	for i := 1; i < len(order); i++ {
		before, after := heights[order[i-1]], heights[order[i]]
		grew = grew || after > before+50
		shrank = shrank || after < before-50
	}
	if !grew || !shrank {
		t.Errorf("the iframe did not both grow and shrink along the steps: %v", heights)
	}

	// The host page heard the booking, with ids and the campaign only.
	events := host.hostEvents()
	var confirmed *hostEvent
	steps := map[string]bool{}
	for i, e := range events {
		if e.Container != "booking-portal" {
			t.Errorf("event %s dispatched on %q, not the loader's container", e.Name, e.Container)
		}
		switch e.Name {
		case "booking-confirmed":
			if confirmed != nil {
				t.Errorf("booking-confirmed twice")
			}
			confirmed = &events[i]
		case "step-viewed":
			steps[e.Step] = true
		case "slot-selected":
			if e.Start != got.query.Get("slot") || e.PractitionerID != got.query.Get("with") {
				t.Errorf("slot-selected %+v, the patient picked %s with %s", e, got.query.Get("slot"), got.query.Get("with"))
			}
		}
	}
	for _, s := range []string{"location", "service", "practitioner", "time", "details", "review", "confirmation"} {
		if !steps[s] {
			t.Errorf("no step-viewed event for the %s step (events: %+v)", s, events)
		}
	}
	switch {
	case confirmed == nil:
		t.Fatalf("the host page got no booking-confirmed event: %+v", events)
	case confirmed.Reference != got.reference:
		t.Errorf("booking-confirmed has reference %q, the patient was shown %q", confirmed.Reference, got.reference)
	case confirmed.ServiceID != got.query.Get("type") || confirmed.PractitionerID != got.query.Get("with") || confirmed.LocationID != got.query.Get("location"):
		t.Errorf("booking-confirmed %+v does not name the chosen location, service and practitioner %v", confirmed, got.query)
	case confirmed.UTM["utm_source"] != "browsertest" || confirmed.UTM["utm_campaign"] != "embed":
		t.Errorf("booking-confirmed lost the host page's campaign: %v", confirmed.UTM)
	}
	raw, _ := chromedp.Run(host.ctx, chromedp.Evaluate[string](`JSON.stringify([window.__events, window.dataLayer])`))
	for _, secret := range []string{p.firstName, p.lastName, p.email, strings.ReplaceAll(p.mobile, " ", ""), p.mobile, p.note} {
		if strings.Contains(raw, secret) {
			t.Errorf("the host page received a personal detail (%q): %s", secret, raw)
		}
	}
	if !strings.Contains(raw, `"event":"booking_portal_booking_confirmed"`) {
		t.Errorf("window.dataLayer has no booking_portal_booking_confirmed: %s", raw)
	}

	expectFrameKept(host)
	assertCookiesPartitioned(host)
	assertBookedInCoreplus(t, got, p)
	t.Logf("booked %s inside a cross-site iframe in %v", got.reference, time.Since(began).Round(time.Millisecond))
}

func TestEmbeddedWithThePlainIframeBooks(t *testing.T) {
	began := time.Now()
	host := newBrowser(t, browserConfig{width: 1024, height: 1000, blockThirdPartyCookies: true})
	host.open(suite.hostURL + "/plain.html")
	frame := host.frame(suite.embedURL + "/")
	proveThirdPartyCookiesBlocked(host, frame)
	p := patient{
		firstName: "Pia", lastName: "Plain-Frame", dateOfBirth: time.Date(1990, time.January, 31, 0, 0, 0, 0, time.UTC),
		email: "pia.plain-frame@example.com", mobile: "0433 444 555",
	}
	got := bookAppointmentFrom(frame, choices{location: "Riverside Physio South Brisbane", service: "Short", practitioner: "Mei Chen"}, p,
		func() { frame.waitHeading("Where would you like to be seen?") }, nil)
	// With no loader there is no host origin, so no message is sent.
	if events := host.hostEvents(); len(events) != 0 {
		t.Errorf("the plain iframe sent events: %+v", events)
	}
	assertCookiesPartitioned(host)
	assertBookedInCoreplus(t, got, p)
	t.Logf("booked %s in the plain iframe in %v", got.reference, time.Since(began).Round(time.Millisecond))
}

func TestEmbeddingFromASiteNotOnTheAllowlistIsRefused(t *testing.T) {
	host := newBrowser(t, browserConfig{width: 1024, height: 768, blockThirdPartyCookies: true})
	console := consoleErrors(host)
	opened := time.Now()
	host.open(suite.strangerURL + "/loader.html")
	frame := host.frame(suite.embedURL + "/")
	var src string
	deadline := time.Now().Add(stepTimeout)
	for {
		var err error
		src, err = chromedp.Run(host.ctx, chromedp.Evaluate[string](`document.querySelector('.booking-portal iframe').src`))
		loaded, _ := chromedp.Run(frame.ctx, chromedp.Evaluate[bool](`document.readyState === 'complete'`))
		if err == nil && loaded {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the stranger's iframe never finished loading (src %q, err %v)", src, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(time.Second) // any message would have arrived by now

	where := frame.url()
	if strings.HasPrefix(where, suite.embedURL) || strings.Contains(frame.heading(), "Where would you like to be seen?") {
		t.Fatalf("the portal rendered inside a site not on the allowlist: %s %q", where, frame.heading())
	}
	if events := host.hostEvents(); len(events) != 0 {
		t.Errorf("the stranger's page got events: %+v", events)
	}
	h, _ := chromedp.Run(host.ctx, chromedp.Evaluate[float64](`document.querySelector('.booking-portal iframe').getBoundingClientRect().height`))
	// The portal did answer; the browser refused to show it, as its policy says.
	resp, err := http.Get(src)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	csp := resp.Header.Get("Content-Security-Policy")
	if resp.StatusCode != http.StatusOK || !strings.Contains(csp, "frame-ancestors 'self' "+suite.hostURL) || strings.Contains(csp, suite.strangerURL) || resp.Header.Get("X-Frame-Options") != "" {
		t.Errorf("the portal answered %d with CSP %q", resp.StatusCode, csp)
	}
	t.Logf("the frame shows %s (%q), %.0fpx high; the portal's policy: %s", where, frame.heading(), h, csp)

	// The loader hears nothing from the refused frame, so it puts a
	// message and a link to the booking in a new tab in its place, and
	// tells the site's developer which origin to add.
	for host.count("//div[@class='booking-portal']/p/a") == 0 {
		if time.Since(opened) > 6*time.Second {
			host.fail("6 s after the page opened, the refused frame is still there with no message")
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("the loader replaced the refused frame %v after the page opened", time.Since(opened).Round(100*time.Millisecond))
	host.expectText("the stranger's page", "The booking page couldn't be shown here.")
	if n := host.count("//div[@class='booking-portal']//iframe"); n != 0 {
		t.Errorf("the refused iframe is still in the page (%d)", n)
	}
	link, _ := host.byRole("link", quote("Book in a new tab"), named("Book in a new tab"))
	attrs, err := chromedp.Run(host.ctx, chromedp.Attributes(link))
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(attrs["href"])
	if err != nil || !strings.HasPrefix(attrs["href"], suite.embedURL+"/"+clinicSlug+"/book") || u.Query().Has("embed") || u.Query().Has("host") {
		t.Errorf("the link goes to %q, not the booking page on its own", attrs["href"])
	}
	if attrs["target"] != "_blank" {
		t.Errorf("the link opens in target %q, not a new tab", attrs["target"])
	}
	host.tabUntil("the link to the booking", `document.activeElement.textContent === 'Book in a new tab'`)
	var said string
	for _, m := range console() {
		if strings.Contains(m, suite.strangerURL) && strings.Contains(m, "--frame-origins") {
			said = m
		}
	}
	if said == "" {
		t.Errorf("the console has no message naming %s and --frame-origins: %q", suite.strangerURL, console())
	}
	t.Logf("the console says: %s", said)
}

// consoleErrors collects what the page's scripts write with console.error.
func consoleErrors(b *browser) func() []string {
	var mu sync.Mutex
	var msgs []string
	events := chromedp.Events(b.ctx, runtime.ConsoleAPICalled)
	go func() {
		for ev, err := range events {
			if err != nil {
				return
			}
			if ev.Type != runtime.ConsoleAPICalledTypeError {
				continue
			}
			var parts []string
			for _, a := range ev.Args {
				var s string
				if json.Unmarshal(a.Value, &s) != nil {
					s = string(a.Value)
				}
				parts = append(parts, s)
			}
			mu.Lock()
			msgs = append(msgs, strings.Join(parts, " "))
			mu.Unlock()
		}
	}()
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), msgs...)
	}
}

// expectFrameKept fails if the loader took the frame away, as it does
// when the frame never loads.
func expectFrameKept(host *browser) {
	host.t.Helper()
	if host.count("//div[@class='booking-portal']/iframe") != 1 || host.count("//div[@class='booking-portal']/p") != 0 {
		host.fail("the loader replaced a frame that had loaded")
	}
}

// frame waits for the cross-site iframe whose address starts with prefix
// in b's tab, and returns a browser that drives it.
func (b *browser) frame(prefix string) *browser {
	b.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for {
		infos, err := chromedp.Targets(b.ctx)
		if err != nil {
			b.fail("list the browser's targets: %v", err)
		}
		for _, info := range infos {
			if info.Type == "iframe" && strings.HasPrefix(info.URL, prefix) {
				ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithTargetID(info.TargetID))
				b.t.Cleanup(cancel)
				return &browser{t: b.t, ctx: ctx}
			}
		}
		if time.Now().After(deadline) {
			b.fail("the page has no iframe from %s", prefix)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitHeading waits for a page (one still loading in a frame) headed want.
func (b *browser) waitHeading(want string) {
	b.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for !strings.Contains(b.heading(), want) {
		if time.Now().After(deadline) {
			b.fail("expected a page headed %q", want)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// frameFits waits until the iframe is exactly as high as the page inside
// it, so neither is cut off and the frame has no scroll bar of its own,
// and returns that height.
func frameFits(host, frame *browser) int {
	host.t.Helper()
	type inside struct {
		Content, Inner, Scroll int
	}
	var hostH int
	var in inside
	deadline := time.Now().Add(10 * time.Second)
	for {
		h, err1 := chromedp.Run(host.ctx, chromedp.Evaluate[float64](`document.querySelector('.booking-portal iframe').getBoundingClientRect().height`))
		f, err2 := chromedp.Run(frame.ctx, chromedp.Evaluate[inside](`({content: Math.ceil(document.documentElement.getBoundingClientRect().height),
			inner: window.innerHeight, scroll: document.documentElement.scrollHeight})`))
		hostH, in = int(h+0.5), f
		if err1 == nil && err2 == nil && abs(hostH-in.Content) <= 1 && in.Scroll <= in.Inner {
			return hostH
		}
		if time.Now().After(deadline) {
			frame.fail("the iframe is %dpx high around a page of %dpx (the frame scrolls %dpx in %dpx; errors %v %v)",
				hostH, in.Content, in.Scroll, in.Inner, err1, err2)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func abs(n int) int { return max(n, -n) }

// hostEvents returns the events the host page received, in order.
func (b *browser) hostEvents() []hostEvent {
	b.t.Helper()
	raw, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`JSON.stringify(window.__events || [])`))
	if err != nil {
		b.fail("read the host page's events: %v", err)
	}
	var out []hostEvent
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		b.fail("the host page's events %s: %v", raw, err)
	}
	return out
}

// proveThirdPartyCookiesBlocked fails unless the browser refuses an
// ordinary cookie inside the frame (third-party), keeps one on the host
// page (first-party), and keeps a partitioned (CHIPS) one in the frame.
func proveThirdPartyCookiesBlocked(host, frame *browser) {
	host.t.Helper()
	frame.waitHeading("Where would you like to be seen?")
	set := func(b *browser, cookie string) string {
		v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.cookie = `+jsString(cookie)+`; document.cookie`))
		if err != nil {
			b.fail("set a cookie: %v", err)
		}
		return v
	}
	if got := set(frame, "probe=1; SameSite=None; Secure; path=/"); strings.Contains(got, "probe=1") {
		host.t.Fatalf("third-party cookies are not blocked: the frame kept %q", got)
	}
	if got := set(host, "first=1; path=/"); !strings.Contains(got, "first=1") {
		host.t.Fatalf("the host page cannot keep a first-party cookie (%q): the test would prove less than it says", got)
	}
	if got := set(frame, "chips=1; SameSite=None; Secure; Partitioned; path=/"); !strings.Contains(got, "chips=1") {
		host.t.Logf("this Chromium does not keep partitioned cookies either (%q)", got)
	}
}

// assertCookiesPartitioned fails if the portal's site holds a cookie
// outside the host site's partition: with third-party cookies blocked,
// only partitioned (CHIPS) cookies may be kept, keyed to the site around.
func assertCookiesPartitioned(host *browser) {
	host.t.Helper()
	res, err := chromedp.Call(host.ctx, storage.GetCookies, storage.GetCookiesParams{})
	if err != nil {
		host.t.Fatal(err)
	}
	var kept []string
	for _, c := range res.Cookies {
		if c.Domain != "localhost" {
			continue
		}
		if c.PartitionKey == nil || c.PartitionKey.TopLevelSite != "http://127.0.0.1" {
			host.t.Errorf("cookie %q of the framed portal is kept outside the host site's partition (%+v)", c.Name, c.PartitionKey)
		}
		kept = append(kept, c.Name)
	}
	host.t.Logf("the framed portal's cookies, all in the host site's partition: %v", kept)
}
