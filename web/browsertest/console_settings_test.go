//go:build browser

package browsertest

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// settingsSlug is a clinic stored as `portal clinic add` stores it: the
// Settings page changes stored clinics (the suite's "demo" is configured
// by environment).
const settingsSlug = "stored-physio"

// startSettingsPortal starts a portal of the test's own with token keys
// and a stored clinic, re-read every second, and returns its URL and the
// environment its commands run with.
func startSettingsPortal(t *testing.T) (string, []string) {
	t.Helper()
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	p, err := startPortal(suite.dir, suite.portalBin, "portal-settings", suite.coreplusURL, port,
		"PORTAL_TOKEN_KEYS="+randomHex(32), "PORTAL_CLINIC_REFRESH=1s")
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
	portalCommand(t, p.env, demoAccessToken+"\n", "clinic", "add", "--slug", settingsSlug, "--name", "Stored Physio", "--access-token-file", "-")
	return "http://127.0.0.1:" + port, p.env
}

// portalCommand runs `portal args...` with env and stdin, as the operator
// would, and returns what it printed.
func portalCommand(t *testing.T, env []string, stdin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, suite.portalBin, args...)
	cmd.Env = append(cmd.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("portal %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestConsoleSettingsPagesHaveNoAxeViolations: Settings (as it opens, and
// with errors), its live brand preview, and Audit with a change in it, at
// a phone's and a desktop's width.
func TestConsoleSettingsPagesHaveNoAxeViolations(t *testing.T) {
	axeSource(t)
	portalURL, env := startSettingsPortal(t)
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
			email := "settings." + strings.TrimSuffix(strings.ToLower(t.Name()[strings.LastIndex(t.Name(), "/")+1:]), "px") + "@stored.example"
			link := printedLink.FindString(portalCommand(t, env, "", "staff", "add", "--clinic", settingsSlug, "--email", email, "--role", "admin"))
			if !strings.HasPrefix(link, portalURL+"/") {
				t.Fatalf("portal staff add printed no link on %s: %q", portalURL, link)
			}
			b.open(link)
			b.press("Sign in")
			b.waitHeading("Today")
			b.openAny(portalURL + "/console/" + settingsSlug + "/settings")
			check("settings", "Settings")

			// The live preview follows the colour as it is typed.
			b.fill("Brand colour", "#1a7f37")
			deadline := time.Now().Add(stepTimeout)
			for !strings.Contains(b.text(), "Buttons use white text on #1a7f37") {
				if time.Now().After(deadline) {
					b.fail("the preview did not follow the colour typed: %q", b.text())
				}
				time.Sleep(100 * time.Millisecond)
			}

			b.fill("Phone", strings.Repeat("1", 41))
			b.submitAny("Save settings")
			if b.count("//*[contains(@class,'error-summary')]") == 0 {
				b.fail("a phone number too long came back with no error summary")
			}
			check("settings with errors", "Settings")
			b.fill("Phone", "02 9000 0000")
			b.submitAny("Save settings")
			b.expectText("saved", "Your changes are saved")
			b.openAny(portalURL + "/console/" + settingsSlug + "/audit")
			b.expectText("audit", email, "02 9000 0000")
			check("audit", "Audit")
		})
	}
}
