//go:build browser

package browsertest

import (
	"context"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

var printedLink = regexp.MustCompile(`https?://\S+/console/sign-in/[A-Za-z0-9_-]+`)

// staffAdd runs `portal staff add` on the portal's database, as the
// operator would, and returns the first sign-in link it printed.
func staffAdd(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, suite.portalBin, append([]string{"staff", "add"}, args...)...)
	cmd.Env = append(cmd.Environ(), suite.portalEnv...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("portal staff add %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	link := printedLink.FindString(string(out))
	if link == "" {
		t.Fatalf("portal staff add printed no sign-in link:\n%s", out)
	}
	// The link is on the portal's PUBLIC_URL, which for the suite's first
	// portal is its other name (http://localhost:PORT, where its emails'
	// links point). The console is tested on the portal's own address, so
	// that the session cookie the link sets is the one the pages get.
	if rest, ok := strings.CutPrefix(link, suite.embedURL+"/"); ok {
		link = suite.portalURL + "/" + rest
	}
	if !strings.HasPrefix(link, suite.portalURL+"/") {
		t.Fatalf("the link %s is on neither of the portal's addresses %s and %s", link, suite.portalURL, suite.embedURL)
	}
	return link
}

// openAny loads url whatever its status (a 404 page, a redirect's end).
func (b *browser) openAny(url string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if _, err := chromedp.RunResponse(ctx, chromedp.Navigate(url)); err != nil {
		b.fail("open %s: %v", url, err)
	}
}

// submitAny clicks the button named text and waits for the page it loads,
// whatever its status (a form with errors answers 422).
func (b *browser) submitAny(text string) {
	b.t.Helper()
	button, _ := b.byRole("button", quote(text), named(text))
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(button)); err != nil {
		b.fail("press %q: %v", text, err)
	}
}

// signOut presses "Sign out" in the console's header (outside main, where
// byRole looks) and waits for the page it leads to.
func (b *browser) signOut() {
	b.t.Helper()
	const button = `//header//button[normalize-space()="Sign out"]`
	if b.count(button) != 1 {
		b.fail("the console's header has no Sign out button")
	}
	b.navigate("press Sign out", chromedp.Click(button))
}

// TestStaffSignInSeesTodayAndSignsOut: a patient books; the operator adds
// the clinic's receptionist with `portal staff add`; the receptionist opens
// the printed link, presses Sign in, finds the booking on Today, and signs
// out, after which the console is closed to that browser.
func TestStaffSignInSeesTodayAndSignsOut(t *testing.T) {
	b := newBrowser(t, desktop)
	got := bookAppointment(b, choices{location: "Harbourside Physio Surry Hills", service: "Standard", practitioner: "Aisha Rahman"}, patient{
		firstName: "Tess", lastName: "Console-Test", dateOfBirth: time.Date(1970, time.May, 3, 0, 0, 0, 0, time.UTC),
		email: "tess.console-test@example.com", mobile: "0412 555 010",
	})

	link := staffAdd(t, "--clinic", clinicSlug, "--email", "Reception@Harbourside.example", "--role", "admin")
	b.open(link)
	b.expectHeading("Sign in to the staff console")
	b.checkPage()
	b.screenshot("console-sign-in-link")
	b.press("Sign in")
	b.waitHeading("Today")
	b.checkPage()
	b.screenshot("console-today")
	b.expectText("Today", "Signed in as reception@harbourside.example", got.reference, "Aisha Rahman", "Booked", "Harbourside Physio Surry Hills")
	if !strings.HasSuffix(b.url(), "/console/"+clinicSlug+"/today") {
		t.Errorf("signed in at %s, want the clinic's Today", b.url())
	}

	// The session cookie is first-party, __Host-, Secure, HttpOnly and
	// Lax, and Chromium keeps it on http://127.0.0.1.
	res, err := chromedp.Call(b.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{suite.portalURL + "/"}})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, c := range res.Cookies {
		if c.Name == "__Host-portal-console" {
			found = true
			if !c.Secure || !c.HTTPOnly || c.SameSite != network.CookieSameSiteLax || c.Path != "/" {
				t.Errorf("the console cookie: secure %v, httpOnly %v, sameSite %s, path %s", c.Secure, c.HTTPOnly, c.SameSite, c.Path)
			}
		}
	}
	if !found {
		t.Fatal("the browser kept no console cookie")
	}

	// The link is good once.
	b.openAny(link)
	b.expectHeading("This sign-in link can't be used")

	b.openAny(suite.portalURL + "/console/" + clinicSlug + "/today")
	b.signOut()
	b.waitHeading("Sign in to the staff console")
	b.expectText("signed out", "You have signed out.")
	b.openAny(suite.portalURL + "/console/" + clinicSlug + "/today")
	b.expectHeading("Sign in to the staff console")
}

// TestConsolePagesHaveNoAxeViolations runs axe-core on every console page,
// at a phone's and a desktop's width.
func TestConsolePagesHaveNoAxeViolations(t *testing.T) {
	axeSource(t)
	for _, width := range []int64{320, 1280} {
		t.Run(map[int64]string{320: "320px", 1280: "1280px"}[width], func(t *testing.T) {
			b := newBrowser(t, browserConfig{width: width, height: 800})
			check := func(name, heading string) {
				t.Helper()
				b.waitHeading(heading)
				b.checkPage()
				b.screenshot("console-axe-" + name)
				b.expectNoAxeViolations(name)
			}
			b.openAny(suite.portalURL + "/console/sign-in")
			check("sign-in", "Sign in to the staff console")
			b.fill("Email address", "not an address")
			b.submitAny("Email me a sign-in link")
			if b.count("//*[contains(@class,'error-summary')]") == 0 {
				b.fail("a mistyped address came back with no error summary")
			}
			check("sign-in with an error", "Sign in to the staff console")
			b.fill("Email address", "nobody@example.com")
			b.submitAny("Email me a sign-in link")
			b.expectText("link sent", "a sign-in link is on its way")
			check("sign-in link sent", "Sign in to the staff console")
			b.openAny(suite.portalURL + "/console/sign-in/not-a-real-link")
			check("unusable link", "This sign-in link can't be used")

			email := "axe." + strings.TrimSuffix(strings.ToLower(t.Name()[strings.LastIndex(t.Name(), "/")+1:]), "px") + "@harbourside.example"
			// An admin: the walk takes in the Staff pages too.
			b.open(staffAdd(t, "--clinic", clinicSlug, "--email", email, "--role", "admin"))
			check("sign-in link", "Sign in to the staff console")
			b.press("Sign in")
			check("today", "Today")
			b.openAny(suite.portalURL + "/console/" + clinicSlug + "/embed")
			check("embed", "Put online booking on your website")
			b.openAny(suite.portalURL + "/console/" + clinicSlug + "/embed?origin=https%3A%2F%2Fblog.example")
			check("embed with a site checked", "Put online booking on your website")
			b.openAny(suite.portalURL + "/console/" + clinicSlug + "/embed?origin=blog")
			check("embed with a mistyped site", "Put online booking on your website")
			b.openAny(suite.portalURL + "/console/" + clinicSlug + "/funnel")
			check("funnel", "Funnel")
			b.openAny(suite.portalURL + "/console/" + clinicSlug + "/funnel?days=30")
			check("funnel, 30 days", "Funnel")
			b.openAny(suite.portalURL + "/console/clinics")
			check("clinics", "Clinics")
			b.openAny(suite.portalURL + "/console/" + clinicSlug + "/requests")
			check("requests", "Booking requests")
			b.openAny(suite.portalURL + "/console/" + clinicSlug + "/staff")
			check("staff", "Staff")
			b.fill("Email address", "not an address")
			b.submitAny("Invite")
			if b.count("//*[contains(@class,'error-summary')]") == 0 {
				b.fail("a mistyped address came back with no error summary")
			}
			check("staff with an error", "Staff")
			invitee := strings.Replace(email, "axe.", "invitee.", 1)
			b.fill("Email address", invitee)
			b.press("Invite")
			b.expectText("invited", "Invited.", invitee)
			check("staff invited", "Staff")
			b.follow("Remove " + invitee)
			check("remove staff", "Remove "+invitee+"?")
			b.openAny(suite.portalURL + "/console/account/passkeys")
			check("passkeys", "Your passkeys")
			b.openAny(suite.portalURL + "/console/no-such-clinic/today")
			check("console 404", "Page not found")
			b.openAny(suite.portalURL + "/console/" + clinicSlug + "/today")
			b.signOut()
			check("signed out", "Sign in to the staff console")
		})
	}
}

// TestConsoleEmbedPreviewFramesThePortal: on the console's Embed page,
// staff pick a service and a practitioner by name and update the snippets
// (a GET form); the preview then shows the portal's booking inside the
// console's page, started where the snippets start, while the console
// itself stays unframable.
func TestConsoleEmbedPreviewFramesThePortal(t *testing.T) {
	b := newBrowser(t, desktop)
	b.open(staffAdd(t, "--clinic", clinicSlug, "--email", "preview@harbourside.example"))
	b.press("Sign in")
	b.waitHeading("Today")
	b.openAny(suite.portalURL + "/console/" + clinicSlug + "/embed")
	b.waitHeading("Put online booking on your website")
	b.checkPage()
	b.eval("pick by name", `(() => {
		const pick = (id, name) => {
			const s = document.getElementById(id);
			const o = [...s.options].find(o => o.text === name);
			if (!o) throw new Error(id + " offers no " + name);
			s.value = o.value;
		};
		pick("location", "Harbourside Physio Surry Hills");
		pick("service", "Standard Consultation");
		pick("practitioner", "Aisha Rahman");
		return true;
	})()`)
	b.press("Update the snippets")
	b.waitHeading("Put online booking on your website")
	b.expectText("snippets", `data-practitioner="`)
	// The preview is the portal, loaded inside the console's page: the
	// time step of the practitioner picked.
	type preview struct {
		Path    string `json:"path"`
		Heading string `json:"heading"`
		Text    string `json:"text"`
		Framed  bool   `json:"framed"`
	}
	var got preview
	deadline := time.Now().Add(stepTimeout)
	for {
		p, err := chromedp.Run(b.ctx, chromedp.Evaluate[preview](`(() => {
			const f = document.querySelector("iframe.embed-preview");
			const d = f && f.contentDocument;
			if (!d || !d.querySelector("h1")) return {};
			return {path: d.location.pathname + d.location.search, heading: d.querySelector("h1").textContent,
				text: d.body.innerText, framed: f.contentWindow.parent === window};
		})()`))
		if err != nil {
			t.Fatal(err)
		}
		if got = p; strings.Contains(got.Heading, "time") || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	b.screenshot("console-embed-preview")
	if !got.Framed || !strings.HasPrefix(got.Path, "/"+clinicSlug+"/book?embed=1") || !strings.Contains(got.Path, "practitioner=") {
		t.Fatalf("the preview: %+v", got)
	}
	if !strings.Contains(got.Heading, "time") || !strings.Contains(got.Text, "Aisha Rahman") {
		t.Errorf("the preview does not show the practitioner's times: heading %q\n%s", got.Heading, got.Text)
	}
}

// TestOperatorClinicsPageHasNoAxeViolations runs axe-core on the
// operator's list of clinics, with its add-clinic form, on the form sent
// back with problems, and on the list with a Check's result, at a phone's
// and a desktop's width.
func TestOperatorClinicsPageHasNoAxeViolations(t *testing.T) {
	axeSource(t)
	for _, width := range []int64{320, 1280} {
		t.Run(map[int64]string{320: "320px", 1280: "1280px"}[width], func(t *testing.T) {
			b := newBrowser(t, browserConfig{width: width, height: 800})
			check := func(name string) {
				t.Helper()
				b.waitHeading("Clinics")
				b.checkPage()
				b.screenshot("operator-axe-" + name)
				b.expectNoAxeViolations(name)
			}
			email := "ops." + strings.TrimSuffix(strings.ToLower(t.Name()[strings.LastIndex(t.Name(), "/")+1:]), "px") + "@host.example"
			b.open(staffAdd(t, "--operator", "--email", email))
			b.press("Sign in")
			check("operator clinics")
			b.expectText("operator clinics", "Add a clinic", "Set by the portal's environment")
			b.fill("Address name (slug)", "Not A Slug")
			b.submitAny("Add the clinic")
			if b.count("//*[contains(@class,'error-summary')]") == 0 {
				b.fail("a bad slug came back with no error summary")
			}
			check("add clinic with problems")

			// Check asks coreplus (the suite's sandbox) for the clinic the
			// environment configures and shows what it found above the list.
			b.submitAny("Check " + clinicName + " with coreplus")
			check("clinic checked")
			b.expectText("clinic checked", clinicName+": the credentials work", "2 locations found", "practitioners found", "services found")

			// A clinic whose token coreplus refuses, disabled: checked all
			// the same, the failure and what to do in words.
			name := "Wrong Token Clinic " + strings.TrimPrefix(t.Name(), "TestOperatorClinicsPageHasNoAxeViolations/")
			b.fill("Address name (slug)", "wrong-token-"+strings.TrimSuffix(t.Name()[strings.LastIndex(t.Name(), "/")+1:], "px"))
			b.fill("Clinic name", name)
			b.fill("coreplus access token", "00000000-0000-0000-0000-000000000000")
			b.submitAny("Add the clinic")
			b.submitAny("Disable " + name)
			b.submitAny("Check " + name + " with coreplus")
			check("clinic check failed")
			b.expectText("clinic check failed", name+": coreplus refused the credentials", "Listing locations failed: invalid credentials (HTTP 401).", name+" is disabled")
		})
	}
}
