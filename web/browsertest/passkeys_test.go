//go:build browser

package browsertest

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
)

// addVirtualAuthenticator gives the browser a platform authenticator of
// the kind a laptop has (CTAP2, internal, resident keys, user
// verification that succeeds), through the DevTools WebAuthn domain: the
// real WebAuthn of Chromium, with no person to touch a sensor.
func (b *browser) addVirtualAuthenticator() {
	b.t.Helper()
	if _, err := chromedp.Call(b.ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		b.t.Fatalf("WebAuthn.enable: %v", err)
	}
	_, err := chromedp.Call(b.ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21,
			Transport:      webauthn.AuthenticatorTransportInternal,
			HasResidentKey: true, HasUserVerification: true, IsUserVerified: true,
			AutomaticPresenceSimulation: true,
		},
	})
	if err != nil {
		b.t.Fatalf("WebAuthn.addVirtualAuthenticator: %v", err)
	}
}

// click presses the button named text without waiting for a page: the
// passkey script answers in the page, then moves on itself.
func (b *browser) click(text string) {
	b.t.Helper()
	button, _ := b.byRole("button", quote(text), named(text))
	b.do("press "+quote(text), chromedp.Click(button))
}

// TestPasskeySignIn: a receptionist signs in by the emailed link, adds a
// passkey on "Your passkeys", signs out and signs in with the passkey. After
// "Sign out everywhere" the old session's cookie opens nothing, and the
// passkey still signs in. WebAuthn binds a passkey to a host name, so this
// runs on the portal's PUBLIC_URL (http://localhost:PORT), not 127.0.0.1.
func TestPasskeySignIn(t *testing.T) {
	axeSource(t)
	for _, width := range []int64{1280, 390} {
		t.Run(map[int64]string{1280: "1280px", 390: "390px"}[width], func(t *testing.T) {
			b := newBrowser(t, browserConfig{width: width, height: 900, mobile: width < 500})
			b.addVirtualAuthenticator()
			base := suite.embedURL
			email := "passkey." + map[int64]string{1280: "desk", 390: "phone"}[width] + "@harbourside.example"
			link := strings.Replace(staffAdd(t, "--clinic", clinicSlug, "--email", email), suite.portalURL, base, 1)

			b.open(link)
			b.press("Sign in")
			b.waitHeading("Today")
			if b.count(`//header//a[normalize-space()="Your passkeys"]`) != 1 {
				b.fail("the console header has no link to Your passkeys")
			}
			b.open(base + "/console/account/passkeys")
			b.waitHeading("Your passkeys")
			b.expectText("passkeys", "You have no passkeys yet")
			b.checkPage()
			b.expectNoAxeViolations("passkeys, none yet")

			// A name too long is refused next to the field, what was typed kept.
			b.fill("Name this passkey", strings.Repeat("x", 60))
			b.eval("type past the limit", `(() => { document.getElementById("passkey-name").value += "y"; return true; })()`)
			b.click("Add a passkey")
			b.waitText("name error", "at most 60 characters")
			b.checkPage()
			b.expectNoAxeViolations("passkeys, name too long")

			b.fill("Name this passkey", "Front desk PC")
			b.click("Add a passkey")
			b.waitText("passkey added", "Your passkey was added")
			b.expectText("passkeys", "Front desk PC", "Never")
			b.checkPage()
			b.screenshot("passkeys")
			b.expectNoAxeViolations("passkeys, one added")
			// The same authenticator again: the browser refuses it
			// (InvalidStateError, as the options exclude it), and the page
			// says so, with the focus on the message.
			b.fill("Name this passkey", "Again")
			b.click("Add a passkey")
			b.waitText("added twice", "This passkey is already added to your account")
			if focused, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.activeElement ? document.activeElement.id : ""`)); err != nil || focused != "passkey-error" {
				b.fail("the focus is on %q (%v), not on the error message", focused, err)
			}
			b.expectNoAxeViolations("passkeys, added twice")
			oldCookie := b.consoleCookie(suite.embedURL)
			if oldCookie == "" {
				b.fail("the browser holds no console cookie")
			}

			b.signOut()
			b.waitHeading("Sign in to the staff console")
			b.open(base + "/console/sign-in")
			b.waitHeading("Sign in to the staff console")
			if b.count(`//*[@id="passkey-sign-in" and not(@hidden)]`) != 1 {
				b.fail("the sign-in page does not offer a passkey where the browser has WebAuthn")
			}
			b.checkPage()
			b.screenshot("sign-in")
			b.expectNoAxeViolations("sign-in with passkey")
			b.click("Sign in with a passkey")
			b.waitHeading("Today")
			b.expectText("Today", "Signed in as "+email)

			// Sign out everywhere: the session before it (and this one)
			// end; the passkey still signs in.
			b.open(base + "/console/clinics")
			b.press("Sign out everywhere")
			b.waitHeading("Sign in to the staff console")
			b.setConsoleCookie(base, oldCookie)
			b.openAny(base + "/console/" + clinicSlug + "/today")
			b.expectHeading("Sign in to the staff console")
			b.click("Sign in with a passkey")
			b.waitHeading("Today")
			b.open(base + "/console/account/passkeys")
			b.waitHeading("Your passkeys")
			if strings.Contains(b.text(), "Never") {
				b.fail("the passkey's last use was not recorded")
			}

			// Taken out of the clinic (no access left), the account's
			// passkey signs no one in; the answer names no account.
			b.signOut()
			b.waitHeading("Sign in to the staff console")
			staffRun(t, "remove", "--email", email, "--clinic", clinicSlug)
			b.click("Sign in with a passkey")
			b.waitText("refused without access", "That passkey didn't sign you in")
			b.expectHeading("Sign in to the staff console")

			// Back in the clinic, by link: a passkey removed on the page
			// signs no one in.
			link = strings.Replace(staffAdd(t, "--clinic", clinicSlug, "--email", email), suite.portalURL, base, 1)
			b.open(link)
			b.press("Sign in")
			b.waitHeading("Today")
			b.open(base + "/console/account/passkeys")
			b.waitHeading("Your passkeys")
			b.press("Remove passkey Front desk PC")
			b.waitText("removed", "The passkey was removed")
			b.expectText("passkeys", "You have no passkeys yet")
			b.signOut()
			b.waitHeading("Sign in to the staff console")
			b.click("Sign in with a passkey")
			b.waitText("refused once removed", "That passkey didn't sign you in")
			b.expectHeading("Sign in to the staff console")
		})
	}
}

// staffRun runs `portal staff COMMAND args` on the portal's database.
func staffRun(t *testing.T, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, suite.portalBin, append([]string{"staff"}, args...)...)
	cmd.Env = append(cmd.Environ(), suite.portalEnv...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("portal staff %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// waitText waits until the page shows want.
func (b *browser) waitText(what, want string) {
	b.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for !strings.Contains(b.text(), want) {
		if time.Now().After(deadline) {
			b.fail("expected the page to show %q (%s)", want, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// setConsoleCookie puts value back as the console cookie, as a copy of an
// old cookie (a shared computer's) would be.
func (b *browser) setConsoleCookie(base, value string) {
	b.t.Helper()
	yes := true
	_, err := chromedp.Call(b.ctx, network.SetCookie, network.SetCookieParams{
		Name: "__Host-portal-console", Value: value, URL: base + "/", Path: "/", Secure: &yes, HTTPOnly: &yes,
		SameSite: network.CookieSameSiteLax,
	})
	if err != nil {
		b.t.Fatalf("set the old cookie: %v", err)
	}
}
