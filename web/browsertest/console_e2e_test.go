//go:build browser

package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// startConsolePortal starts a portal of the test's own (clinics added to
// the suite's first portal would take "/" from the tests that open it),
// with its email sent to the suite's SMTP server, and returns its URL and
// the environment its commands run with.
func startConsolePortal(t *testing.T) (string, []string) {
	t.Helper()
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	url := "http://127.0.0.1:" + port
	p, err := startPortal(suite.dir, suite.portalBin, "portal-console-e2e", suite.coreplusURL, port,
		"SMTP_URL="+suite.mail.URL(), "MAIL_FROM=Portal <portal@host.example>", "PUBLIC_URL="+url)
	if p != nil {
		t.Cleanup(func() {
			p.stop()
			if t.Failed() {
				p.dumpLog(os.Stderr)
			}
		})
	}
	if err != nil {
		t.Fatal(err)
	}
	return url, p.env
}

// signInLink is the first sign-in link in text, which must be on portalURL.
func signInLink(t *testing.T, portalURL, text string) string {
	t.Helper()
	link := printedLink.FindString(text)
	if !strings.HasPrefix(link, portalURL+"/console/sign-in/") {
		t.Fatalf("no sign-in link on %s in:\n%s", portalURL, text)
	}
	return link
}

// postStatus posts form to path from the page, as a same-origin form on
// it would, and returns the status of the answer (redirects not followed).
func (b *browser) postStatus(path string, form map[string]string) int {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	body, _ := json.Marshal(form)
	js := fmt.Sprintf(`fetch(%s, {method: "POST", redirect: "manual", body: new URLSearchParams(%s)}).then(r => r.status)`, jsString(path), body)
	await, byValue := true, true
	res, err := chromedp.Call(ctx, runtime.Evaluate, runtime.EvaluateParams{Expression: js, AwaitPromise: &await, ReturnByValue: &byValue})
	if err != nil || res.ExceptionDetails != nil || res.Result == nil {
		b.fail("POST %s from the page: %v %+v", path, err, res.ExceptionDetails)
	}
	var status int
	if err := json.Unmarshal(res.Result.Value, &status); err != nil {
		b.fail("POST %s from the page: status %s", path, res.Result.Value)
	}
	return status
}

// computed is a CSS property of the first element matching selector, as
// the browser computes it.
func (b *browser) computed(selector, property string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector(`+jsString(selector)+`)).getPropertyValue(`+jsString(property)+`)`))
	if err != nil {
		b.fail("the computed %s of %s: %v", property, selector, err)
	}
	return v
}

// consoleCookie is the browser's console session cookie for the portal at
// portalURL.
func (b *browser) consoleCookie(portalURL string) string {
	b.t.Helper()
	res, err := chromedp.Call(b.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{portalURL + "/"}})
	if err != nil {
		b.t.Fatal(err)
	}
	for _, c := range res.Cookies {
		if c.Name == "__Host-portal-console" {
			return c.Value
		}
	}
	return ""
}

// TestConsoleEndToEnd is issue 16's must-show, in one run of Chromium: the
// operator (added with portal staff add --operator) signs in, adds a
// clinic and invites its admin on its Staff page; the admin signs in
// through the link in the email the portal sent, sees the brand colour's
// preview change before saving, adds a frame origin and sees the Embed
// page allow it and its preview load the portal, and marks a patient's
// booking request contacted; staff of another clinic get 404 on each of
// those pages and forms; signing out ends the admin's session in the
// browser.
func TestConsoleEndToEnd(t *testing.T) {
	const (
		slug  = "westside-e2e"
		name  = "Westside Physio (end to end)"
		owner = "owner.e2e@westside.example"
		site  = "https://www.westside-e2e.example"
	)
	portalURL, env := startConsolePortal(t)
	base := portalURL + "/console/" + slug

	// The operator adds the clinic (the sandbox's access token is the one
	// it accepts) and goes from the notice to its Staff page.
	ops := newBrowser(t, desktop)
	ops.open(signInLink(t, portalURL, portalCommand(t, env, "", "staff", "add", "--operator", "--email", "ops.e2e@host.example")))
	ops.press("Sign in")
	ops.waitHeading("Clinics")
	ops.fill("Address name (slug)", slug)
	ops.fill("Clinic name", name)
	ops.typeInto("fill in the access token", "access-token", demoAccessToken)
	ops.press("Add the clinic")
	ops.waitHeading("Clinics")
	ops.expectText("added", "Added "+name+".")
	ops.follow("Invite its admin on its Staff page")
	ops.waitHeading("Staff")
	if !strings.HasSuffix(ops.url(), "/console/"+slug+"/staff") {
		t.Fatalf("the notice led to %s", ops.url())
	}
	ops.expectText("an empty Staff page", "No one has access to this clinic yet")
	ops.fill("Email address", owner)
	ops.do("choose Admin", chromedp.Click(idXPath("invite-role-admin")))
	ops.press("Invite")
	ops.waitHeading("Staff")
	ops.expectText("invited", "Invited. A sign-in link was emailed to them", owner, "Admin")
	ops.checkPage()
	ops.screenshot("staff-1280")
	ops.do("a tablet's width", chromedp.EmulateViewport(768, 1024), chromedp.Sleep(300*time.Millisecond))
	ops.checkPage()
	ops.screenshot("staff-768")
	ops.do("back to a desktop's width", chromedp.EmulateViewport(desktop.width, desktop.height))

	// The admin signs in through the link in the email.
	mail := waitForEmail(t, owner, 1)
	link := signInLink(t, portalURL, mail.text)
	admin := newBrowser(t, desktop)
	admin.open(link)
	admin.expectHeading("Sign in to the staff console")
	admin.press("Sign in")
	admin.waitHeading("Today")
	admin.expectText("signed in", "Signed in as "+owner, name)

	// Settings: the preview follows the colour typed, before saving.
	admin.open(base + "/settings")
	admin.waitHeading("Settings")
	const preview = "#brand-preview .preview-button"
	before := admin.computed(preview, "background-color")
	admin.fill("Brand colour", "#1a7f37")
	deadline := time.Now().Add(stepTimeout)
	for admin.computed(preview, "background-color") != "rgb(26, 127, 55)" {
		if time.Now().After(deadline) {
			admin.fail("the preview's button stayed %s (was %s) after typing #1a7f37", admin.computed(preview, "background-color"), before)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if before == "rgb(26, 127, 55)" {
		t.Fatalf("the preview was already the new colour")
	}
	admin.fill("Sites allowed to embed the portal", site)
	admin.press("Save settings")
	admin.waitHeading("Settings")
	admin.expectText("saved", "Your changes are saved")

	// Embed: the site is allowed, and the preview shows the portal.
	admin.open(base + "/embed")
	admin.waitHeading("Put online booking on your website")
	admin.fill("Check a website", site)
	admin.press("Check")
	admin.waitHeading("Put online booking on your website")
	admin.expectText("the site checked", site+" may show the booking form.")
	type framed struct {
		Path    string `json:"path"`
		Heading string `json:"heading"`
		Framed  bool   `json:"framed"`
	}
	var got framed
	deadline = time.Now().Add(stepTimeout)
	for {
		f, err := chromedp.Run(admin.ctx, chromedp.Evaluate[framed](`(() => {
			const f = document.querySelector("iframe.embed-preview");
			const d = f && f.contentDocument;
			if (!d || !d.querySelector("h1")) return {};
			return {path: d.location.pathname + d.location.search, heading: d.querySelector("h1").textContent.trim(),
				framed: f.contentWindow.parent === window};
		})()`))
		if err != nil {
			t.Fatal(err)
		}
		if got = f; got.Heading != "" || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	admin.screenshot("embed-preview")
	if !got.Framed || !strings.HasPrefix(got.Path, "/"+slug+"/book?embed=1") || got.Heading != "Where would you like to be seen?" {
		t.Fatalf("the embed preview: %+v", got)
	}

	// A patient leaves a booking request; the admin marks it contacted.
	patient := newBrowser(t, desktop)
	patient.open(portalURL + "/" + slug + "/request")
	patient.waitHeading("Leave a booking request")
	patient.fill("First name", "Rhea")
	patient.fill("Last name", "Endtoend")
	patient.fill("Mobile number", "0412 555 016")
	patient.press("Send request")
	patient.waitHeading("Request received")
	admin.open(base + "/requests")
	admin.waitHeading("Booking requests")
	admin.expectText("the request", "Rhea Endtoend")
	contacted, err := chromedp.Run(admin.ctx, chromedp.Evaluate[string](`document.querySelector("main form[action$='/contacted']").getAttribute("action")`))
	if err != nil || !strings.HasPrefix(contacted, "/console/"+slug+"/requests/") {
		t.Fatalf("the Mark contacted form posts to %q (%v)", contacted, err)
	}
	admin.press("Mark Rhea Endtoend contacted")
	admin.waitHeading("Booking requests")
	admin.expectText("marked", "Marked contacted.", "Marked contacted by "+owner)

	// Staff of another clinic: each page and form is the console's 404.
	other := newBrowser(t, desktop)
	other.open(signInLink(t, portalURL, portalCommand(t, env, "", "staff", "add", "--clinic", clinicSlug, "--email", "staff.e2e@harbourside.example")))
	other.press("Sign in")
	other.waitHeading("Today")
	for _, page := range []string{"/settings", "/embed", "/requests", "/staff", "/audit", "/today"} {
		other.openAny(base + page)
		if h := other.heading(); h != "Page not found" {
			t.Errorf("%s as another clinic's staff: %q", page, h)
		}
	}
	for path, form := range map[string]map[string]string{
		"/console/" + slug + "/settings": {"name": "Hijacked", "brand-colour": "#000000"},
		"/console/" + slug + "/staff":    {"email": "mallory@evil.example", "role": "admin"},
		contacted:                        {},
	} {
		if status := other.postStatus(path, form); status != http.StatusNotFound {
			t.Errorf("POST %s as another clinic's staff: %d, want 404", path, status)
		}
	}
	admin.open(base + "/staff")
	admin.waitHeading("Staff")
	if strings.Contains(admin.text(), "mallory") {
		t.Error("another clinic's staff invited someone")
	}

	// Sign out ends the session: in this browser, and on the server, so
	// a copy of the cookie opens nothing either. The copy works before
	// sign-out, so the replay below could tell.
	cookie := admin.consoleCookie(portalURL)
	if cookie == "" {
		t.Fatal("the admin's browser holds no console cookie")
	}
	replay := func() (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, base+"/today", nil)
		req.AddCookie(&http.Cookie{Name: "__Host-portal-console", Value: cookie})
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Location")
	}
	if status, loc := replay(); status != http.StatusOK {
		t.Fatalf("the admin's cookie, copied before sign-out: %d to %q, want 200", status, loc)
	}
	admin.signOut()
	admin.waitHeading("Sign in to the staff console")
	admin.openAny(base + "/today")
	admin.expectHeading("Sign in to the staff console")
	if admin.consoleCookie(portalURL) != "" {
		t.Error("the console cookie is still in the browser after signing out")
	}
	if status, loc := replay(); status != http.StatusSeeOther || loc != "/console/sign-in" {
		t.Errorf("the signed-out session's cookie, replayed: %d to %q, want 303 to /console/sign-in", status, loc)
	}
}
