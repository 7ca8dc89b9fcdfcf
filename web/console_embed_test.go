package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/clinic-booking/portal/internal/coreplus/sandbox"
	"github.com/clinic-booking/portal/internal/staff"
	"github.com/clinic-booking/portal/web"
)

// embedSnippets are the snippets an Embed page shows, as staff copy them.
func embedSnippets(t *testing.T, p *page) (loader, iframe string) {
	t.Helper()
	loader = p.Doc.Find("pre#loader-snippet code").Text()
	iframe = p.Doc.Find("pre#iframe-snippet code").Text()
	if loader == "" || iframe == "" {
		t.Fatalf("the Embed page has no loader or iframe snippet:\n%s", p.Text())
	}
	return loader, iframe
}

func TestConsoleEmbedPage(t *testing.T) {
	ch := newConsoleHarness(t)
	ch.addStaff("jo@demo.example", "demo", staff.RoleStaff, false)
	cookie := ch.signIn("jo@demo.example")
	p, _ := ch.send(http.MethodGet, "/console/demo/embed", cookie, nil)
	p.WantH1("Put online booking on your website")
	if p.Doc.Find(`nav a[aria-current="page"]`).Text() != "Embed" {
		t.Error("the navigation does not mark Embed current")
	}
	loader, frame := embedSnippets(t, p)
	if want := `<script src="` + ch.portal.URL + `/embed.js" data-clinic="demo" async></script>`; loader != want {
		t.Errorf("loader snippet\n got %s\nwant %s", loader, want)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(frame))
	if err != nil {
		t.Fatal(err)
	}
	ifr := doc.Find("iframe")
	if ifr.Length() != 1 || ifr.AttrOr("title", "") != "Book an appointment with Harbourside Physio (test)" ||
		ifr.AttrOr("loading", "") != "lazy" || ifr.AttrOr("height", "") == "" ||
		ifr.AttrOr("src", "") != ch.portal.URL+"/demo/book?embed=1" {
		t.Errorf("iframe snippet %s", frame)
	}
	// Shown as text, never run on the staff page; the one live frame is
	// the preview, of this portal's own booking pages.
	if p.Doc.Find(`main script`).Length() != 0 {
		t.Error("a snippet's script is live on the staff page")
	}
	preview := p.Doc.Find("main iframe")
	if preview.Length() != 1 || preview.AttrOr("src", "") != "/demo/book?embed=1" || preview.AttrOr("title", "") == "" {
		t.Fatalf("preview: %d frames, src %q", preview.Length(), preview.AttrOr("src", ""))
	}
	// The console is never framed, but the page it previews may be framed
	// by the console's own origin.
	if csp := p.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("the Embed page's CSP %q", csp)
	}
	framed := ch.get(preview.AttrOr("src", ""))
	if framed.Status != http.StatusOK || framed.Header.Get("X-Frame-Options") != "" ||
		!strings.Contains(framed.Header.Get("Content-Security-Policy"), "frame-ancestors 'self'") {
		t.Errorf("the previewed page: %d, X-Frame-Options %q, CSP %q", framed.Status, framed.Header.Get("X-Frame-Options"), framed.Header.Get("Content-Security-Policy"))
	}
	// The builder offers every location, service and practitioner by name.
	for sel, want := range map[string]string{
		"select#location":     "Harbourside Physio Surry Hills",
		"select#service":      "Standard Consultation",
		"select#practitioner": "Priya Nandakumar",
	} {
		if !strings.Contains(p.Doc.Find(sel).Text(), want) {
			t.Errorf("%s does not offer %q", sel, want)
		}
	}
	if !strings.Contains(p.Text(), allowedHost) {
		t.Errorf("the allowed sites are not listed:\n%s", p.Text())
	}
	// The copy buttons wait for the script that makes them work.
	if b := p.Doc.Find("button[data-copy]"); b.Length() != 2 || b.AttrOr("hidden", "x") == "x" {
		t.Errorf("%d copy buttons, hidden %v", b.Length(), b.AttrOr("hidden", "x") != "x")
	}
	if p.Doc.Find(`head script[src$="js/console.js"]`).Length() != 1 {
		t.Error("the console's script is not on the page")
	}
}

func TestConsoleEmbedDeepLinkBuilder(t *testing.T) {
	ch := newConsoleHarness(t)
	ch.addStaff("jo@demo.example", "demo", staff.RoleStaff, false)
	cookie := ch.signIn("jo@demo.example")
	q := url.Values{"location": {sandbox.LocationSydneyID}, "service": {sandbox.AppointmentTypeStandardID}, "practitioner": {sandbox.PractitionerPriyaID}}
	p, _ := ch.send(http.MethodGet, "/console/demo/embed?"+q.Encode(), cookie, nil)
	loader, frame := embedSnippets(t, p)
	want := `<script src="` + ch.portal.URL + `/embed.js" data-clinic="demo" data-location="` + sandbox.LocationSydneyID +
		`" data-service="` + sandbox.AppointmentTypeStandardID + `" data-practitioner="` + sandbox.PractitionerPriyaID + `" async></script>`
	if loader != want {
		t.Errorf("loader snippet\n got %s\nwant %s", loader, want)
	}
	src := "/demo/book?embed=1&location=" + sandbox.LocationSydneyID + "&practitioner=" + sandbox.PractitionerPriyaID + "&type=" + sandbox.AppointmentTypeStandardID
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(frame))
	if got := doc.Find("iframe").AttrOr("src", ""); got != ch.portal.URL+src {
		t.Errorf("iframe snippet src %q, want %q", got, ch.portal.URL+src)
	}
	if got := p.Doc.Find("main iframe").AttrOr("src", ""); got != src {
		t.Errorf("preview src %q, want %q", got, src)
	}
	// The choices stay picked, by name.
	for sel, want := range map[string]string{"select#location": "Harbourside Physio Surry Hills", "select#service": "Standard Consultation", "select#practitioner": "Priya Nandakumar"} {
		if got := p.Doc.Find(sel + " option[selected]").Text(); got != want {
			t.Errorf("%s shows %q picked, want %q", sel, got, want)
		}
	}
	// The previewed deep link opens at the time step: everything picked.
	if framed := ch.get(src); framed.Status != http.StatusOK {
		t.Errorf("the deep link %s: %d", src, framed.Status)
	}
	// An id the clinic does not have never reaches a snippet.
	p, _ = ch.send(http.MethodGet, "/console/demo/embed?location=%22%3E%3Cscript%3E&service=nope", cookie, nil)
	if loader, _ := embedSnippets(t, p); loader != `<script src="`+ch.portal.URL+`/embed.js" data-clinic="demo" async></script>` {
		t.Errorf("unknown ids reached the snippet: %s", loader)
	}
}

func TestConsoleEmbedChecksAnOrigin(t *testing.T) {
	ch := newConsoleHarness(t)
	ch.addStaff("jo@demo.example", "demo", staff.RoleStaff, false)
	cookie := ch.signIn("jo@demo.example")
	for _, tc := range []struct {
		typed, want, not string
		invalid          bool
	}{
		{allowedHost + "/", "https://www.example-clinic.com.au may show the booking form.", "portal clinic update", false},
		{"HTTPS://WWW.EXAMPLE-CLINIC.COM.AU:443", "https://www.example-clinic.com.au may show the booking form.", "may not", false},
		{"https://blog.example-clinic.com.au", "https://blog.example-clinic.com.au may not show the booking form yet.", "may show", false},
		{"www.example-clinic.com.au/contact", "Enter a website's address", "may show", true},
	} {
		p, _ := ch.send(http.MethodGet, "/console/demo/embed?origin="+url.QueryEscape(tc.typed), cookie, nil)
		text := strings.Join(strings.Fields(p.Text()), " ")
		if !strings.Contains(text, tc.want) || strings.Contains(text, tc.not) {
			t.Errorf("checking %q: want %q, not %q, in\n%s", tc.typed, tc.want, tc.not, text)
		}
		if got := p.Doc.Find("input#origin").AttrOr("value", ""); got != tc.typed {
			t.Errorf("checking %q: the field keeps %q", tc.typed, got)
		}
		if invalid := p.Doc.Find(`input#origin[aria-invalid="true"]`).Length() == 1; invalid != tc.invalid {
			t.Errorf("checking %q: aria-invalid %v", tc.typed, invalid)
		}
	}
	// Not allowed: it says how to allow it, naming the command.
	p, _ := ch.send(http.MethodGet, "/console/demo/embed?origin="+url.QueryEscape("https://blog.example-clinic.com.au"), cookie, nil)
	if cmd := p.Doc.Find("#origin-result pre code").Text(); !strings.HasPrefix(cmd, "portal clinic update demo --frame-origins "+allowedHost+",") {
		t.Errorf("the command to allow a site: %q", cmd)
	}
}

// TestEmbedCodeMovedToTheConsole: the snippets are for staff, so the old
// public page sends its visitors to the console, which asks them to sign in.
func TestEmbedCodeMovedToTheConsole(t *testing.T) {
	ch := newConsoleHarness(t)
	p, _ := ch.send(http.MethodGet, "/demo/embed-code", "", nil)
	if p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/console/demo/embed" {
		t.Fatalf("/demo/embed-code: %d to %q", p.Status, p.Header.Get("Location"))
	}
	if strings.Contains(p.Body, "embed.js") {
		t.Error("the old page still shows a snippet")
	}
	if p, _ := ch.send(http.MethodGet, "/console/demo/embed", "", nil); p.Header.Get("Location") != "/console/sign-in" {
		t.Errorf("the console's Embed page, signed out: %d to %q", p.Status, p.Header.Get("Location"))
	}
}

// TestConsoleEmbedUsesThePublicURL: with PUBLIC_URL set, the snippets name
// it, whatever X-Forwarded-Proto or Host a request brings.
func TestConsoleEmbedUsesThePublicURL(t *testing.T) {
	ch := newConsoleHarness(t, func(c *web.Config) { c.PublicURL = "https://book.example-clinic.com.au/" })
	ch.addStaff("jo@demo.example", "demo", staff.RoleStaff, false)
	cookie := ch.signIn("jo@demo.example")
	req, _ := http.NewRequest(http.MethodGet, ch.abs("/console/demo/embed"), nil)
	req.AddCookie(&http.Cookie{Name: "__Host-portal-console", Value: cookie})
	req.Header.Set("X-Forwarded-Proto", "javascript")
	req.Host = "evil.example"
	p := ch.do(req)
	loader, _ := embedSnippets(t, p)
	if want := `<script src="https://book.example-clinic.com.au/embed.js" data-clinic="demo" async></script>`; loader != want {
		t.Errorf("loader snippet\n got %s\nwant %s", loader, want)
	}
	if strings.Contains(p.Body, "evil.example") || strings.Contains(p.Body, "javascript://") {
		t.Error("the request's host or scheme reached the snippets")
	}
}
