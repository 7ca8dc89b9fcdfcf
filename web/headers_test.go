package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/clinic-booking/portal/internal/coreplus/sandbox"
	"github.com/clinic-booking/portal/web"
)

// answer is one response a header check looks at.
type answer struct {
	name   string
	status int
	header http.Header
}

// TestEveryAnswerCarriesTheSecurityHeaders walks every kind of page the
// portal answers with, success and error, and checks the headers each
// must carry: no sniffing, a referrer policy, a content policy that says
// who may frame it, no caching of anything but static assets (pages show
// details or free times), and HSTS when the portal's address is https.
func TestEveryAnswerCarriesTheSecurityHeaders(t *testing.T) {
	h := newHarnessSetup(t, harnessSetup{web: func(c *web.Config) { c.PublicURL = "https://book.example.com" }})
	var got []answer
	keep := func(name string, p *page) *page {
		got = append(got, answer{name, p.Status, p.Header})
		return p
	}
	raw := func(name, method, u string, body url.Values, header map[string]string) {
		var req *http.Request
		if body != nil {
			req, _ = http.NewRequest(method, h.abs(u), strings.NewReader(body.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		} else {
			req, _ = http.NewRequest(method, h.abs(u), nil)
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		keep(name, h.do(req))
	}

	raw("root redirect", http.MethodGet, "/", nil, nil)
	loc := keep("location step", h.get("/demo"))
	svc := keep("service step", h.get(loc.Link("Harbourside Physio Surry Hills")))
	prac := keep("practitioner step", h.get(svc.Link("Standard Consultation")))
	times := keep("time step", h.get(prac.Link("Tom Whitfield")))
	slot, _ := times.FirstSlot()
	details := keep("details form", h.get(slot))
	action, blank := details.Form()
	blank.Set("first_name", "")
	keep("details form with problems (422)", h.post(action, blank))
	review := keep("review", h.toReview(newPatient, "Tom Whitfield"))
	confirmed := keep("confirmation", h.confirm(review))
	ref := rel(confirmed.URL)
	raw("calendar file", http.MethodGet, strings.TrimSuffix(strings.SplitN(ref, "?", 2)[0], "/")+".ics", nil, nil)
	keep("booking request form", h.get("/demo/request"))
	raw("embed code moved to the console", http.MethodGet, "/demo/embed-code", nil, nil)
	keep("health", h.get("/healthz"))
	raw("embed.js redirect", http.MethodGet, "/embed.js", nil, nil)
	raw("static asset", http.MethodGet, times.Doc.Find(`link[rel="stylesheet"]`).AttrOr("href", ""), nil, nil)
	keep("not found (404)", h.get("/demo/no-such-page"))
	keep("bad link (400)", h.get("/demo/book?location=no-such-location"))
	raw("cross-site form (403)", http.MethodPost, action, url.Values{"first_name": {"Zed"}},
		map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"})
	keep("body too large (413)", h.do(h.bigBodyRequest("", action, 50<<20)))
	keep("multipart form (415)", h.do(h.postRequest("", action, "multipart/form-data; boundary=x", strings.NewReader("--x--\r\n"))))
	// The refusals count against this address; forms with mistakes spend
	// the rest of its limit.
	for i := 0; i <= web.DefaultRejectsPerMinute; i++ {
		if p := h.post(action, blank); p.Status == http.StatusTooManyRequests {
			keep("too many refused forms (429)", p)
			break
		}
	}
	h.sb.SetFaults(sandbox.Faults{ErrorRate: 1})
	h.restart() // nothing cached: the next page must ask coreplus
	keep("coreplus down (503)", h.get("/demo"))

	for _, a := range got {
		hd := a.header
		if hd.Get("X-Content-Type-Options") != "nosniff" || hd.Get("Referrer-Policy") == "" {
			t.Errorf("%s (%d): nosniff %q, Referrer-Policy %q", a.name, a.status, hd.Get("X-Content-Type-Options"), hd.Get("Referrer-Policy"))
		}
		if !strings.Contains(hd.Get("Content-Security-Policy"), "frame-ancestors") {
			t.Errorf("%s (%d): Content-Security-Policy %q names no frame-ancestors", a.name, a.status, hd.Get("Content-Security-Policy"))
		}
		if hd.Get("Strict-Transport-Security") == "" {
			t.Errorf("%s (%d): no Strict-Transport-Security though the portal is on https", a.name, a.status)
		}
		cache := hd.Get("Cache-Control")
		switch a.name {
		case "static asset":
			if !strings.Contains(cache, "immutable") {
				t.Errorf("static asset: Cache-Control %q, want it kept a year", cache)
			}
		case "embed.js redirect":
			if cache != "public, max-age=300" {
				t.Errorf("embed.js: Cache-Control %q", cache)
			}
		default:
			if !strings.Contains(cache, "no-store") {
				t.Errorf("%s (%d): Cache-Control %q, want no-store", a.name, a.status, cache)
			}
		}
	}
	for _, want := range []int{200, 302, 400, 403, 404, 413, 415, 422, 429, 503} {
		found := false
		for _, a := range got {
			found = found || a.status == want
		}
		if !found {
			t.Errorf("no answer with status %d was checked: the walk did not reach that page", want)
		}
	}
}

// TestNoHSTSOverHTTP: a portal whose address is http must not pin https.
func TestNoHSTSOverHTTP(t *testing.T) {
	h := newPageHarness(t, harnessSetup{web: func(c *web.Config) { c.PublicURL = "http://127.0.0.1:8080" }})
	if p := h.get("/demo/request"); p.Header.Get("Strict-Transport-Security") != "" {
		t.Errorf("Strict-Transport-Security %q over http", p.Header.Get("Strict-Transport-Security"))
	}
}

// TestHEADAnswersAsGETOnEveryRoute: every GET route the router lists
// answers HEAD with GET's status and headers and no body.
func TestHEADAnswersAsGETOnEveryRoute(t *testing.T) {
	h := newHarness(t)
	confirmed := h.confirm(h.toReview(newPatient, "Tom Whitfield"))
	token := strings.TrimPrefix(strings.SplitN(rel(confirmed.URL), "?", 2)[0], "/demo/booking/")
	token = strings.TrimSuffix(token, "/")
	asset := strings.TrimPrefix(confirmed.Doc.Find(`link[rel="stylesheet"]`).AttrOr("href", ""), "/static/")
	version, file, _ := strings.Cut(asset, "/")
	manage := strings.TrimPrefix(confirmed.Link("Change or cancel this booking"), "/demo/manage/")
	fill := strings.NewReplacer(":clinic", "demo", ":ref", token, ":token", manage, ":version", version, "*", file)

	routes := h.handler.(*web.Server).GETRoutes()
	if len(routes) < 10 {
		t.Fatalf("only %d GET routes listed: %v", len(routes), routes)
	}
	for _, route := range routes {
		u := fill.Replace(route)
		get := h.do(mustRequest(t, http.MethodGet, h.abs(u)))
		head := h.do(mustRequest(t, http.MethodHead, h.abs(u)))
		switch {
		case head.Status != get.Status:
			t.Errorf("%s (%s): HEAD %d, GET %d", route, u, head.Status, get.Status)
		case head.Body != "":
			t.Errorf("%s: HEAD sent a body of %d bytes", route, len(head.Body))
		case head.Header.Get("Content-Type") != get.Header.Get("Content-Type"):
			t.Errorf("%s: HEAD Content-Type %q, GET %q", route, head.Header.Get("Content-Type"), get.Header.Get("Content-Type"))
		}
		if get.Status >= 400 && route != "/:clinic/booking/:ref/" && route != "/:clinic/booking/:ref" {
			t.Errorf("%s (%s): GET answered %d; the walk should reach a real page", route, u, get.Status)
		}
	}
}

func mustRequest(t *testing.T, method, u string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}
