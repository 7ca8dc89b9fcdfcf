package web_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io/fs"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/internal/coreplus/sandbox"
	"github.com/clinic-booking/portal/static"
)

const allowedHost = "https://www.example-clinic.com.au"

// hostMessages is what a framed page tells the page embedding it.
type hostMessages struct {
	Parent  string           `json:"parent"`
	Context map[string]any   `json:"context"`
	Events  []map[string]any `json:"events"`
}

// hostMessagesOf reads the messages a framed page has for its host, or nil.
func hostMessagesOf(t *testing.T, p *page) *hostMessages {
	t.Helper()
	s := p.Doc.Find("script#portal-host")
	if s.Length() == 0 {
		return nil
	}
	if typ := s.AttrOr("type", ""); typ != "application/json" {
		t.Fatalf("%s: #portal-host is a %q script", p.URL, typ)
	}
	var m hostMessages
	if err := json.Unmarshal([]byte(s.Text()), &m); err != nil {
		t.Fatalf("%s: #portal-host: %v", p.URL, err)
	}
	return &m
}

func (m *hostMessages) event(name string) map[string]any {
	for _, e := range m.Events {
		if e["event"] == name {
			return e
		}
	}
	return nil
}

// assertEmbedded checks what an embedded page owes the host: no site
// header or footer, every link, form and redirect of the flow keeping the
// embed settings and the campaign, and a new-tab link without them.
func assertEmbedded(t *testing.T, p *page, carried url.Values) {
	t.Helper()
	if p.Doc.Find("header.site, footer.site, a.skip-link").Length() != 0 {
		t.Errorf("%s: embedded page shows the site header, footer or skip link", p.URL)
	}
	if p.Doc.Find("body > p, body > div, body > a").Length() != 0 || p.Doc.Find("p.new-tab").Closest("body > footer").Length() != 1 {
		t.Errorf("%s: embedded page has content outside a landmark", p.URL)
	}
	if cls := p.Doc.Find("html").AttrOr("class", ""); !strings.Contains(cls, "embed") {
		t.Errorf("%s: html class %q", p.URL, cls)
	}
	keeps := func(what, u string) {
		t.Helper()
		pu, err := url.Parse(u)
		if err != nil {
			t.Errorf("%s: %s %q: %v", p.URL, what, u, err)
			return
		}
		for k := range carried {
			if got := pu.Query().Get(k); got != carried.Get(k) {
				t.Errorf("%s: %s %s has %s=%q, want %q", p.URL, what, u, k, got, carried.Get(k))
			}
		}
	}
	var newTab int
	p.Doc.Find("a[href]").Each(func(_ int, a *goquery.Selection) {
		href := a.AttrOr("href", "")
		switch {
		case a.Closest("p.new-tab").Length() > 0:
			newTab++
			if a.AttrOr("target", "") != "_blank" || !strings.Contains(a.AttrOr("rel", ""), "noopener") {
				t.Errorf("%s: new-tab link target %q rel %q", p.URL, a.AttrOr("target", ""), a.AttrOr("rel", ""))
			}
			u, _ := url.Parse(href)
			for _, k := range []string{"embed", "host", "bg"} {
				if u.Query().Has(k) {
					t.Errorf("%s: new-tab link %s keeps %s", p.URL, href, k)
				}
			}
			if u.Query().Get("utm_source") != carried.Get("utm_source") {
				t.Errorf("%s: new-tab link %s lost the campaign", p.URL, href)
			}
		case strings.HasPrefix(href, "tel:"), strings.HasPrefix(href, "#"), strings.HasSuffix(strings.Split(href, "?")[0], ".ics"):
		case strings.HasPrefix(href, "/"):
			if a.AttrOr("target", "") != "" {
				t.Errorf("%s: link %s leaves the frame (target %q)", p.URL, href, a.AttrOr("target", ""))
			}
			keeps("link", href)
		}
	})
	if newTab != 1 {
		t.Errorf("%s: %d new-tab links, want 1", p.URL, newTab)
	}
	p.Doc.Find("form").Each(func(_ int, f *goquery.Selection) {
		v := url.Values{}
		f.Find("input[type=hidden]").Each(func(_ int, in *goquery.Selection) { v.Set(in.AttrOr("name", ""), in.AttrOr("value", "")) })
		keeps("form", "/?"+v.Encode())
		if f.AttrOr("target", "") != "" {
			t.Errorf("%s: form leaves the frame", p.URL)
		}
	})
}

func TestEmbeddedFlowKeepsEmbedHostAndCampaign(t *testing.T) {
	h := newHarness(t)
	carried := url.Values{
		"embed": {"1"}, "host": {allowedHost}, "bg": {"transparent"},
		"utm_source": {"newsletter"}, "utm_campaign": {"spring knees"},
	}
	p := h.get("/demo/book?" + carried.Encode()).WantH1("Where would you like to be seen?")
	steps := []string{"location"}
	check := func(p *page) {
		t.Helper()
		assertEmbedded(t, p, carried)
		if csp := p.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'self' "+allowedHost) || p.Header.Get("X-Frame-Options") != "" {
			t.Errorf("%s: embeddable page with CSP %q and X-Frame-Options %q", p.URL, csp, p.Header.Get("X-Frame-Options"))
		}
		m := hostMessagesOf(t, p)
		if m == nil || m.Parent != allowedHost {
			t.Fatalf("%s: host messages %+v, want parent %s", p.URL, m, allowedHost)
		}
		if e := m.event("step-viewed"); e == nil || e["step"] != steps[len(steps)-1] {
			t.Errorf("%s: step-viewed %v, want step %s", p.URL, e, steps[len(steps)-1])
		}
	}
	check(p)
	if !strings.Contains(p.Doc.Find("html").AttrOr("class", ""), "bg-transparent") {
		t.Error("bg=transparent is not applied")
	}
	next := func(step, link, h1 string) {
		t.Helper()
		steps = append(steps, step)
		p = h.get(p.Link(link)).WantH1(h1)
		check(p)
	}
	next("service", "Harbourside Physio Surry Hills", "What would you like to book?")
	next("practitioner", "Standard Consultation", "Who would you like to see?")
	next("time", "Priya Nandakumar", "Choose a time")
	m := hostMessagesOf(t, p)
	if m.Context["locationId"] != sandbox.LocationSydneyID || m.Context["serviceId"] != sandbox.AppointmentTypeStandardID {
		t.Errorf("slot-selected context %v", m.Context)
	}
	slot := p.Doc.Find("ul.slots a").First()
	if slot.AttrOr("data-practitioner", "") != sandbox.PractitionerPriyaID || slot.AttrOr("data-slot", "") == "" {
		t.Errorf("slot link data: %v %v", slot.AttrOr("data-practitioner", ""), slot.AttrOr("data-slot", ""))
	}
	steps = append(steps, "details")
	p = h.get(slot.AttrOr("href", "")).WantH1("Your details")
	check(p)

	// A form with a problem comes back embedded too.
	action, form := p.Form()
	bad := newPatient
	bad.Email = "not-an-email"
	p = h.post(action, bad.fill(form))
	if p.Status != http.StatusUnprocessableEntity {
		t.Fatalf("status %d", p.Status)
	}
	check(p)

	// The 303 after the details keeps everything, and so does the review.
	req, _ := http.NewRequest(http.MethodPost, h.abs(action), strings.NewReader(newPatient.fill(form).Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	redirect := h.do(req)
	if redirect.Status != http.StatusSeeOther {
		t.Fatalf("details POST answered %d", redirect.Status)
	}
	loc := redirect.Header.Get("Location")
	if u, _ := url.Parse(loc); u.Query().Get("embed") != "1" || u.Query().Get("host") != allowedHost || u.Query().Get("utm_campaign") != "spring knees" {
		t.Errorf("redirect after details lost the embed settings: %s", loc)
	}
	steps = append(steps, "review")
	p = h.get(loc).WantH1("Check your booking")
	check(p)
	tab, _ := url.Parse(p.Doc.Find("p.new-tab a").AttrOr("href", ""))
	if tab.Path != "/demo/book/review" || tab.Query().Get("draft") == "" || tab.Query().Get("slot") == "" {
		t.Errorf("the review's new-tab link does not carry the progress: %s", tab)
	}

	steps = append(steps, "confirmation")
	p = h.confirm(p).WantH1("Booking confirmed")
	check(p)
	confirmed := hostMessagesOf(t, p).event("booking-confirmed")
	ref := strings.TrimSpace(p.Doc.Find(".reference").Text())
	if confirmed == nil || ref == "" || confirmed["reference"] != ref {
		t.Fatalf("booking-confirmed %v, reference shown %q", confirmed, ref)
	}
	want := map[string]any{
		"locationId": sandbox.LocationSydneyID, "serviceId": sandbox.AppointmentTypeStandardID,
		"practitionerId": sandbox.PractitionerPriyaID,
		"utm":            map[string]any{"utm_source": "newsletter", "utm_campaign": "spring knees"},
	}
	for k, v := range want {
		if got, _ := json.Marshal(confirmed[k]); string(got) != mustJSON(v) {
			t.Errorf("booking-confirmed %s = %s, want %s", k, got, mustJSON(v))
		}
	}
	// Events carry ids, never what the patient typed.
	raw := p.Doc.Find("script#portal-host").Text()
	for _, secret := range []string{newPatient.First, newPatient.Last, newPatient.Email, "0499", "Zephyrine"} {
		if strings.Contains(raw, secret) {
			t.Errorf("host event holds a personal detail %q: %s", secret, raw)
		}
	}
	if again := p.Link("Make another booking"); !strings.Contains(again, "embed=1") || !strings.Contains(again, "utm_source=newsletter") {
		t.Errorf("make another booking: %s", again)
	}
	h.assertPrivate(newPatient)
	h.assertPrivate(bad)
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestEmbedPrefillsChoicesFromTheSnippet(t *testing.T) {
	h := newHarness(t)
	q := url.Values{"embed": {"1"}, "location": {sandbox.LocationSydneyID}, "type": {sandbox.AppointmentTypeStandardID}, "practitioner": {sandbox.PractitionerTomID}}
	p := h.get("/demo/book?" + q.Encode()).WantH1("Choose a time")
	if !strings.Contains(p.Text(), "Standard Consultation (30 minutes) with Tom Whitfield at Harbourside Physio Surry Hills") {
		t.Errorf("prefill lost:\n%s", p.Text())
	}
	assertEmbedded(t, p, url.Values{"embed": {"1"}})

	// A bad deep link's error page stays embedded, and so does starting again.
	p = h.get("/demo/book?embed=1&utm_source=ads&location=nope").WantH1("We couldn't use that link")
	assertEmbedded(t, p, url.Values{"embed": {"1"}, "utm_source": {"ads"}})
	if again := p.Link("Start again"); !strings.Contains(again, "embed=1") {
		t.Errorf("start again: %s", again)
	}
}

func TestHostNotOnTheAllowlistGetsNoMessages(t *testing.T) {
	h := newPageHarness(t, harnessSetup{})
	p := h.get("/demo?embed=1&host=" + url.QueryEscape("https://evil.example")).WantH1("Where would you like to be seen?")
	if m := hostMessagesOf(t, p); m != nil {
		t.Errorf("messages for a host not on the allowlist: %+v", m)
	}
	p.Doc.Find("main a[href]").Each(func(_ int, a *goquery.Selection) {
		if strings.Contains(a.AttrOr("href", ""), "evil") {
			t.Errorf("link carries the refused host: %s", a.AttrOr("href", ""))
		}
	})
	// Not embedded: no host, no new-tab link, the site header is back.
	p = h.get("/demo?host=" + url.QueryEscape(allowedHost))
	if hostMessagesOf(t, p) != nil || p.Doc.Find("p.new-tab").Length() != 0 || p.Doc.Find("header.site").Length() != 1 {
		t.Error("a page outside a frame behaves as embedded")
	}
}

func TestCampaignValuesThatCouldBePersonalAreDropped(t *testing.T) {
	h := newPageHarness(t, harnessSetup{})
	p := h.get("/demo?embed=1&utm_source=" + url.QueryEscape("jo@example.com") + "&utm_medium=email")
	href := p.Link("Harbourside Physio Surry Hills")
	if strings.Contains(href, "example.com") || !strings.Contains(href, "utm_medium=email") {
		t.Errorf("link %s", href)
	}
}

// TestNoSiteMayEmbedWithNoFrameOrigins: a clinic with no frame origins is
// framed by none but the portal itself (the console's preview).
func TestNoSiteMayEmbedWithNoFrameOrigins(t *testing.T) {
	h := newPageHarness(t, harnessSetup{}, func(c *booking.Clinic) { c.FrameOrigins = nil })
	if csp := h.get("/demo").Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'self';") {
		t.Errorf("CSP with no origins: %q", csp)
	}
}

func TestEmbedScriptIsSmallVersionedAndCachedLong(t *testing.T) {
	b, err := fs.ReadFile(static.FS, "js/embed.js")
	if err != nil {
		t.Fatal(err)
	}
	if len(b) >= 3072 {
		t.Errorf("embed.js is %d bytes; keep it under 3 KB", len(b))
	}
	h := newPageHarness(t, harnessSetup{})
	req, _ := http.NewRequest(http.MethodGet, h.abs("/embed.js"), nil)
	r := h.do(req)
	loc := r.Header.Get("Location")
	if r.Status != http.StatusFound || !regexp.MustCompile(`^/static/[0-9a-f]{12}/js/embed\.js$`).MatchString(loc) {
		t.Fatalf("/embed.js: %d to %q", r.Status, loc)
	}
	if cc := r.Header.Get("Cache-Control"); cc != "public, max-age=300" {
		t.Errorf("redirect Cache-Control %q", cc)
	}
	js := h.get(loc)
	if js.Status != http.StatusOK || js.Body != string(b) {
		t.Fatalf("%s: %d", loc, js.Status)
	}
	if cc := js.Header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
		t.Errorf("script Cache-Control %q", cc)
	}
	if ct := js.Header.Get("Content-Type"); !strings.Contains(ct, "javascript") {
		t.Errorf("script Content-Type %q", ct)
	}
}

func TestThemeIsInlinedUnderTheCSP(t *testing.T) {
	h := newPageHarness(t, harnessSetup{}, func(c *booking.Clinic) {
		c.Theme = booking.Theme{BrandColour: "#ffcc00", LogoURL: "https://cdn.example-clinic.com.au/logo.png"}
	})
	p := h.get("/demo")
	style := p.Doc.Find("head style")
	if style.Length() != 1 {
		t.Fatalf("%d style elements", style.Length())
	}
	css := style.Text()
	// Yellow takes black text; links are darkened to 4.5:1 on white.
	if !strings.Contains(css, "--brand:#ffcc00") || !strings.Contains(css, "--brand-text:#000000") || strings.Contains(css, "--link:#ffcc00") {
		t.Errorf("theme css %q", css)
	}
	sum := sha256.Sum256([]byte(css))
	csp := p.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "style-src 'self' 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'") {
		t.Errorf("CSP %q does not allow the theme %q", csp, css)
	}
	if !strings.Contains(csp, "img-src 'self' https://cdn.example-clinic.com.au") {
		t.Errorf("CSP %q does not allow the logo", csp)
	}
	if src := p.Doc.Find("header.site img.logo").AttrOr("src", ""); src != "https://cdn.example-clinic.com.au/logo.png" {
		t.Errorf("logo %q", src)
	}

	// A colour that is not a colour is not trusted into the page.
	h = newPageHarness(t, harnessSetup{}, func(c *booking.Clinic) {
		c.Theme = booking.Theme{BrandColour: "red;}body{display:none", LogoURL: "javascript:alert(1)"}
	})
	p = h.get("/demo")
	if p.Doc.Find("head style").Length() != 0 || p.Doc.Find("img.logo").Length() != 0 {
		t.Error("a bad theme reached the page")
	}
}
