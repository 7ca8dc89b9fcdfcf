package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clinic-booking/portal/internal/coreplus/sandbox"
	"github.com/clinic-booking/portal/internal/store"
	"github.com/clinic-booking/portal/migrations"
)

const (
	testKeyA = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	testKeyB = "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff000102030405060708090a0b0c0d0e0f"
)

// operator runs portal commands as an operator at a shell would, against
// one SQLite database.
type operator struct {
	t   *testing.T
	env map[string]string
}

func newOperator(t *testing.T) *operator {
	return &operator{t: t, env: map[string]string{
		"DATABASE_URL":      "sqlite:" + filepath.Join(t.TempDir(), "portal.db"),
		"PORTAL_TOKEN_KEYS": testKeyA,
	}}
}

// run runs `portal args...` with stdin and returns what it printed.
func (o *operator) run(stdin string, args ...string) (string, error) {
	o.t.Helper()
	var out bytes.Buffer
	err := runCommand(context.Background(), args, func(k string) string { return o.env[k] }, strings.NewReader(stdin), &out)
	return out.String(), err
}

// must runs a command that has to succeed.
func (o *operator) must(stdin string, args ...string) string {
	o.t.Helper()
	out, err := o.run(stdin, args...)
	if err != nil {
		o.t.Fatalf("portal %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func TestClinicCommandsHappyPath(t *testing.T) {
	o := newOperator(t)
	out := o.must(sandbox.DemoAccessToken+"\n", "clinic", "add", "--slug", "northside", "--name", "Northside Physio",
		"--access-token-file", "-", "--phone", "02 9000 0000", "--frame-origins", "https://northside.example,https://www.northside.example",
		"--min-notice", "3h", "--window-days", "30", "--email-reminders=true", "--sms-reminders=false",
		"--cancellation-cutoff", "24h", "--locations", sandbox.LocationSydneyID, "--brand-colour", "#0b5cad",
		"--logo-url", "https://northside.example/logo.png")
	if !strings.Contains(out, "added clinic northside") || strings.Contains(out, sandbox.DemoAccessToken) {
		t.Errorf("add said: %s", out)
	}
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("0d9e8f7a-aaaa-bbbb-cccc-111122223333\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	o.must("", "clinic", "add", "--slug", "southside", "--name", "Southside Podiatry", "--access-token-file", tokenFile)

	out = o.must("", "clinic", "list")
	for _, want := range []string{"SLUG", "northside", "Northside Physio", "southside", "enabled"} {
		if !strings.Contains(out, want) {
			t.Errorf("list lacks %q:\n%s", want, out)
		}
	}

	show := func() string { return o.must("", "clinic", "show", "northside") }
	out = show()
	for _, want := range []string{"Northside Physio", "••••7a10", "02 9000 0000", "https://northside.example, https://www.northside.example",
		"3h0m0s", "30 days", "sms reminders:        false", "24h0m0s", sandbox.LocationSydneyID, "#0b5cad", "services:             all"} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, sandbox.DemoAccessToken) || strings.Contains(out, sandbox.DemoAccessToken[:8]) {
		t.Errorf("show prints the access token:\n%s", out)
	}

	// Only the flags given change.
	o.must("", "clinic", "update", "northside", "--phone", "1300 000 000", "--sms-reminders=true")
	out = show()
	for _, want := range []string{"1300 000 000", "sms reminders:        true", "Northside Physio", "30 days", "#0b5cad", "revision:             2"} {
		if !strings.Contains(out, want) {
			t.Errorf("after update, show lacks %q:\n%s", want, out)
		}
	}

	out = o.must("", "clinic", "disable", "northside")
	if !strings.Contains(out, "disabled clinic northside") {
		t.Errorf("disable said %q", out)
	}
	if out := show(); !strings.Contains(out, "status:               disabled") {
		t.Errorf("after disable:\n%s", out)
	}
	o.must("", "clinic", "enable", "northside")
	if out := show(); !strings.Contains(out, "status:               enabled") {
		t.Errorf("after enable:\n%s", out)
	}

	// Key rotation: a new key first, the old one kept until rotate-keys ran.
	o.env["PORTAL_TOKEN_KEYS"] = testKeyB + "," + testKeyA
	if out := o.must("", "clinic", "rotate-keys"); !strings.Contains(out, "re-sealed 2 access token(s)") {
		t.Errorf("rotate-keys said %q", out)
	}
	o.env["PORTAL_TOKEN_KEYS"] = testKeyB
	if out := show(); !strings.Contains(out, "••••7a10") {
		t.Errorf("after rotation the new key alone cannot open the token:\n%s", out)
	}
	o.env["PORTAL_TOKEN_KEYS"] = testKeyA
	if out := show(); !strings.Contains(out, "CANNOT BE OPENED") {
		t.Errorf("the retired key still opens the token:\n%s", out)
	}

	files, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	newest := 0
	for _, f := range files {
		v, err := strconv.Atoi(strings.SplitN(f, "_", 2)[0])
		if err != nil {
			t.Fatalf("migration %s is not numbered", f)
		}
		newest = max(newest, v)
	}
	if out := o.must("", "migrate"); !strings.Contains(out, fmt.Sprintf("sqlite database is at schema version %d\n", newest)) {
		t.Errorf("migrate said %q; want the version of the newest of the %d migrations, %d", out, len(files), newest)
	}
	if out := o.must("", "help"); !strings.Contains(out, "portal clinic add") {
		t.Errorf("help said %q", out)
	}
	if out := o.must("", "clinic", "add", "-h"); !strings.Contains(out, "-access-token-file") {
		t.Errorf("clinic add -h said %q", out)
	}
}

func TestClinicCommandsRejectBadInput(t *testing.T) {
	o := newOperator(t)
	const token = "c0ffee00-1111-2222-3333-444455556666"
	o.must("", "clinic", "add", "--slug", "northside", "--name", "Northside", "--access-token", token)
	add := func(extra ...string) []string {
		return append([]string{"clinic", "add", "--slug", "eastside", "--name", "Eastside", "--access-token", token}, extra...)
	}
	missingFile := filepath.Join(t.TempDir(), "missing")
	for _, tc := range []struct {
		name  string
		args  []string
		stdin string
		env   map[string]string
		want  []string
	}{
		{"no command", []string{"clinic"}, "", nil, []string{"expected a command"}},
		{"unknown clinic command", []string{"clinic", "frobnicate"}, "", nil, []string{`unknown command "frobnicate"`}},
		{"unknown top command", []string{"frobnicate"}, "", nil, []string{`unknown command "frobnicate"`}},
		{"add without required flags", []string{"clinic", "add", "--phone", "1"}, "", nil, []string{"missing --slug, --name, --access-token-file"}},
		{"bad slug", []string{"clinic", "add", "--slug", "Bad Slug", "--name", "X", "--access-token", token}, "", nil, []string{`--slug is "Bad Slug": expected`}},
		{"reserved slug", []string{"clinic", "add", "--slug", "healthz", "--name", "X", "--access-token", token}, "", nil, []string{"--slug is \"healthz\", which the portal uses"}},
		{"bad values", add("--window-days", "forever", "--min-notice", "soon", "--email-reminders", "perhaps"), "", nil,
			[]string{`--window-days is "forever": expected a whole number`, `--min-notice is "soon": expected a duration`, `--email-reminders is "perhaps": expected true or false`}},
		{"bad settings", add("--frame-origins", "ftp://x.example", "--brand-colour", "blue", "--logo-url", "http://x.example/l.png", "--window-days", "0"), "", nil,
			[]string{`--frame-origins has "ftp://x.example"`, `--brand-colour is "blue": expected a hex colour`, `--logo-url is "http://x.example/l.png": expected an absolute https URL`, "--window-days is 0"}},
		{"unknown flag", add("--colour", "red"), "", nil, []string{"flag provided but not defined: -colour", "portal clinic add -h lists the flags"}},
		{"stray argument", add("extra"), "", nil, []string{`unexpected argument "extra"`}},
		{"two token sources", add("--access-token-file", "-"), token, nil, []string{"--access-token and --access-token-file are both given"}},
		{"missing token file", []string{"clinic", "add", "--slug", "eastside", "--name", "E", "--access-token-file", missingFile}, "", nil, []string{"--access-token-file \"" + missingFile + "\" cannot be read"}},
		{"empty stdin", []string{"clinic", "add", "--slug", "eastside", "--name", "E", "--access-token-file", "-"}, "\n", nil, []string{`--access-token-file "-" is empty`}},
		{"token with a space", []string{"clinic", "add", "--slug", "eastside", "--name", "E", "--access-token-file", "-"}, "abc def\n", nil, []string{"--access-token has spaces"}},
		{"duplicate slug", []string{"clinic", "add", "--slug", "northside", "--name", "N", "--access-token", token}, "", nil, []string{`--slug "northside" is taken`}},
		{"no keys", add(), "", map[string]string{"PORTAL_TOKEN_KEYS": ""}, []string{"PORTAL_TOKEN_KEYS is not set"}},
		{"bad keys", []string{"clinic", "list"}, "", map[string]string{"PORTAL_TOKEN_KEYS": "abcd"}, []string{"PORTAL_TOKEN_KEYS: key 1 decodes to 2 bytes"}},
		{"update unknown", []string{"clinic", "update", "nowhere", "--phone", "1"}, "", nil, []string{`there is no clinic "nowhere"`}},
		{"update without slug", []string{"clinic", "update", "--phone", "1"}, "", nil, []string{"expected the clinic's slug first"}},
		{"update without flags", []string{"clinic", "update", "northside"}, "", nil, []string{"no flag given"}},
		{"update bad value", []string{"clinic", "update", "northside", "--cancellation-cutoff", "-1h"}, "", nil, []string{"--cancellation-cutoff is -1h0m0s: expected"}},
		{"show without slug", []string{"clinic", "show"}, "", nil, []string{"expected one clinic slug"}},
		{"show unknown", []string{"clinic", "show", "nowhere"}, "", nil, []string{`there is no clinic "nowhere"`}},
		{"disable unknown", []string{"clinic", "disable", "nowhere"}, "", nil, []string{`there is no clinic "nowhere"`}},
		{"list with argument", []string{"clinic", "list", "x"}, "", nil, []string{`unexpected argument "x"`}},
		{"check without coreplus settings", []string{"check", "northside"}, "", nil, []string{"COREPLUS_BASE_URL is not set", "COREPLUS_CONSUMER_SECRET is not set"}},
		{"migrate with argument", []string{"migrate", "now"}, "", nil, []string{`unexpected argument "now"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			saved := map[string]string{}
			for k, v := range tc.env {
				saved[k] = o.env[k]
				o.env[k] = v
			}
			defer func() {
				for k, v := range saved {
					o.env[k] = v
				}
			}()
			out, err := o.run(tc.stdin, tc.args...)
			if err == nil {
				t.Fatalf("portal %s succeeded:\n%s", strings.Join(tc.args, " "), out)
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error lacks %q:\n%v", want, err)
				}
			}
			if strings.Contains(err.Error()+out, token) || strings.Contains(err.Error(), "def") && tc.name == "token with a space" {
				t.Errorf("the access token is repeated:\n%v\n%s", err, out)
			}
		})
	}
	// Nothing bad was stored.
	if out := o.must("", "clinic", "list"); strings.Contains(out, "eastside") {
		t.Errorf("a rejected clinic was stored:\n%s", out)
	}
}

// startSandbox serves a coreplus sandbox for the test.
func startSandbox(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(sandbox.New(sandbox.Config{RateLimit: -1}))
	t.Cleanup(srv.Close)
	return srv.URL + "/API/Core/v2.1/"
}

func (o *operator) useCoreplus(base string) {
	o.env["COREPLUS_BASE_URL"] = base
	o.env["COREPLUS_CONSUMER_ID"] = sandbox.DemoConsumerID
	o.env["COREPLUS_CONSUMER_SECRET"] = sandbox.DemoConsumerSecret
}

func TestCheckReportsWhatWorksOrWhatFailed(t *testing.T) {
	o := newOperator(t)
	o.useCoreplus(startSandbox(t))
	o.must(sandbox.DemoAccessToken, "clinic", "add", "--slug", "good", "--name", "Good", "--access-token-file", "-")
	o.must("", "clinic", "add", "--slug", "wrong-token", "--name", "Wrong", "--access-token", "00000000-0000-0000-0000-000000000000")
	o.must(sandbox.DemoAccessToken, "clinic", "add", "--slug", "stale-ids", "--name", "Stale", "--access-token-file", "-",
		"--locations", sandbox.LocationSydneyID+",loc-gone")

	out := o.must("", "check", "good")
	for _, want := range []string{"ok: 2 locations found", "ok: 6 practitioners found", "services found", "the credentials work", "••••7a10"} {
		if !strings.Contains(out, want) {
			t.Errorf("check good lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, sandbox.DemoAccessToken) || strings.Contains(out, sandbox.DemoConsumerSecret) {
		t.Errorf("check prints a secret:\n%s", out)
	}

	_, err := o.run("", "check", "wrong-token")
	if err == nil || !strings.Contains(err.Error(), "listing locations failed: invalid credentials") {
		t.Errorf("check with a wrong token = %v", err)
	}

	out, err = o.run("", "check", "stale-ids")
	if err == nil || !strings.Contains(out, `--locations lists "loc-gone", which coreplus does not have`) {
		t.Errorf("check with a missing location = %v\n%s", err, out)
	}

	// Nothing listening.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/API/Core/v2.1/"
	ln.Close()
	o.useCoreplus(closed)
	if _, err := o.run("", "check", "good"); err == nil || !strings.Contains(err.Error(), "listing locations failed: unreachable") {
		t.Errorf("check with coreplus unreachable = %v", err)
	}

	// coreplus answering 429 to everything.
	limited := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "3600")
		http.Error(w, `{"result":{"reason":"Too many requests"}}`, http.StatusTooManyRequests)
	}))
	defer limited.Close()
	o.useCoreplus(limited.URL + "/API/Core/v2.1/")
	if _, err := o.run("", "check", "good"); err == nil || !strings.Contains(err.Error(), "listing locations failed: rate limited") {
		t.Errorf("check with coreplus rate limiting = %v", err)
	}
}

// TestServesStoredClinicsAndDisabledOnes404 starts the whole portal with no
// clinic in its environment, serves a clinic added on the command line,
// and answers "We couldn't find that clinic" once it is disabled, without a
// restart.
func TestServesStoredClinicsAndDisabledOnes404(t *testing.T) {
	o := newOperator(t)
	o.useCoreplus(startSandbox(t))
	o.env["PORTAL_SECRET_KEY"] = strings.Repeat("ab", 32)
	o.env["PORTAL_CLINIC_REFRESH"] = "100ms"
	o.must(sandbox.DemoAccessToken, "clinic", "add", "--slug", "northside", "--name", "Northside Physio", "--access-token-file", "-")
	o.must(sandbox.DemoAccessToken, "clinic", "add", "--slug", "closed", "--name", "Closed Physio", "--access-token-file", "-")
	o.must("", "clinic", "disable", "closed")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- runCommand(ctx, []string{"serve", "-addr", "127.0.0.1:0"}, func(k string) string { return o.env[k] }, strings.NewReader(""), pw)
		pw.Close()
	}()
	base := waitForServing(t, pr)
	go func() { _, _ = io.Copy(io.Discard, pr) }()

	get := func(path string) (int, string) {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/northside"); code != http.StatusOK || !strings.Contains(body, "Where would you like to be seen?") {
		t.Fatalf("/northside: %d\n%.500s", code, body)
	}
	for _, path := range []string{"/closed", "/nowhere"} {
		if code, body := get(path); code != http.StatusNotFound || !strings.Contains(body, "We couldn&#39;t find that clinic") && !strings.Contains(body, "We couldn't find that clinic") {
			t.Errorf("%s: %d, want 404 saying the clinic wasn't found\n%.500s", path, code, body)
		}
	}

	o.must("", "clinic", "disable", "northside")
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, _ := get("/northside")
		if code == http.StatusNotFound {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/northside still answers %d 10s after disable", code)
		}
		time.Sleep(50 * time.Millisecond)
	}
	o.must("", "clinic", "enable", "closed")
	deadline = time.Now().Add(10 * time.Second)
	for code, _ := get("/closed"); code != http.StatusOK; code, _ = get("/closed") {
		if time.Now().After(deadline) {
			t.Fatalf("/closed still answers %d 10s after enable", code)
		}
		time.Sleep(50 * time.Millisecond)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop")
	}
}

// TestClinicProfilesFlags: what the clinic configured by environment can
// say (addresses, practitioner profiles, draft lifetime) a stored clinic can
// say too, and show lists it.
func TestClinicProfilesFlags(t *testing.T) {
	o := newOperator(t)
	o.must(sandbox.DemoAccessToken, "clinic", "add", "--slug", "northside", "--name", "Northside Physio", "--access-token-file", "-",
		"--addresses", `{"`+sandbox.LocationSydneyID+`": "112 Crown Street, Surry Hills NSW 2010"}`, "--draft-ttl", "45m")
	o.must("", "clinic", "update", "northside",
		"--practitioner-profiles", `{"`+sandbox.PractitionerPriyaID+`": {"description": "Sports physiotherapist", "services": ["`+sandbox.AppointmentTypeStandardID+`"]}}`)
	out := o.must("", "clinic", "show", "northside")
	for _, want := range []string{
		sandbox.LocationSydneyID + ": 112 Crown Street, Surry Hills NSW 2010",
		sandbox.PractitionerPriyaID + ": Sports physiotherapist (services " + sandbox.AppointmentTypeStandardID + ")",
		"draft ttl:", "45m0s",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	// A new list of addresses replaces the old one; {} clears it.
	o.must("", "clinic", "update", "northside", "--addresses", `{"`+sandbox.LocationBrisbaneID+`": "40 Grey Street"}`)
	if out := o.must("", "clinic", "show", "northside"); strings.Contains(out, "112 Crown Street") || !strings.Contains(out, "40 Grey Street") {
		t.Errorf("addresses after replacing them:\n%s", out)
	}
	o.must("", "clinic", "update", "northside", "--addresses", "{}")
	if out := o.must("", "clinic", "show", "northside"); !strings.Contains(out, "addresses:            (none)") {
		t.Errorf("addresses after clearing them:\n%s", out)
	}
	if _, err := o.run("", "clinic", "update", "northside", "--addresses", "not json", "--draft-ttl", "5m"); err == nil ||
		!strings.Contains(err.Error(), "--addresses is \"not json\": expected JSON") {
		t.Errorf("bad --addresses: %v", err)
	}
	if _, err := o.run("", "clinic", "update", "northside", "--draft-ttl", "5m"); err == nil || !strings.Contains(err.Error(), "--draft-ttl is 5m0s") {
		t.Errorf("too short --draft-ttl: %v", err)
	}
}

// TestClinicTextsFlags: a clinic says what each service is, how to find
// each location, its cancellation policy and where its staff hear of
// bookings; show lists them, bad values are refused naming the flag, and
// nothing is saved from a refused update.
func TestClinicTextsFlags(t *testing.T) {
	o := newOperator(t)
	o.must(sandbox.DemoAccessToken, "clinic", "add", "--slug", "northside", "--name", "Northside Physio", "--access-token-file", "-",
		"--service-descriptions", `{"`+sandbox.AppointmentTypeInitialID+`": "Your first visit: assessment and a plan"}`,
		"--location-directions", `{"`+sandbox.LocationSydneyID+`": "Level 2: the lift is beside the pharmacy"}`,
		"--cancellation-policy", "Please give 24 hours' notice.",
		"--notification-email", "bookings@northside.example")
	out := o.must("", "clinic", "show", "northside")
	for _, want := range []string{
		"service info:", sandbox.AppointmentTypeInitialID + ": Your first visit: assessment and a plan",
		"directions:", sandbox.LocationSydneyID + ": Level 2: the lift is beside the pharmacy",
		"cancellation policy:  Please give 24 hours' notice.",
		"notification email:   bookings@northside.example",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--service-descriptions", `{"` + sandbox.AppointmentTypeInitialID + `": "` + strings.Repeat("a", 161) + `"}`},
			`--service-descriptions for "` + sandbox.AppointmentTypeInitialID + `" is 161 characters: expected at most 160`},
		{[]string{"--service-descriptions", `["a list"]`}, `--service-descriptions is "[\"a list\"]": expected JSON such as`},
		{[]string{"--location-directions", `{"` + sandbox.LocationSydneyID + `": "Level 2\nlift"}`},
			`--location-directions for "` + sandbox.LocationSydneyID + `" has a line break or control character`},
		{[]string{"--cancellation-policy", "Call us\x1b[31m"}, "--cancellation-policy has a control character"},
		{[]string{"--notification-email", "a@northside.example,b@northside.example"}, `--notification-email is "a@northside.example,b@northside.example": expected one email address`},
	} {
		if _, err := o.run("", append([]string{"clinic", "update", "northside"}, tc.args...)...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("update %q = %v, want %q", tc.args, err, tc.want)
		}
	}
	if again := o.must("", "clinic", "show", "northside"); again != out {
		t.Errorf("a refused update changed the clinic:\n%s", again)
	}

	// Emptied, each reads (none); {} clears a map.
	o.must("", "clinic", "update", "northside", "--service-descriptions", "{}", "--location-directions", "{}",
		"--cancellation-policy", "", "--notification-email", "")
	out = o.must("", "clinic", "show", "northside")
	for _, want := range []string{"service info:         (none)", "directions:           (none)", "cancellation policy:  (none)", "notification email:   (none)"} {
		if !strings.Contains(out, want) {
			t.Errorf("show after clearing lacks %q:\n%s", want, out)
		}
	}
}

// TestCheckTheClinicConfiguredByEnvironment: with no slug, check reads the
// environment's clinic as serving does, rules and all.
func TestCheckTheClinicConfiguredByEnvironment(t *testing.T) {
	o := newOperator(t)
	o.useCoreplus(startSandbox(t))
	o.env["COREPLUS_ACCESS_TOKEN"] = sandbox.DemoAccessToken
	o.env["CLINIC_SLUG"] = "harbourside"
	if out := o.must("", "check"); !strings.Contains(out, "clinic harbourside: the credentials work") {
		t.Errorf("check said:\n%s", out)
	}
	o.env["CLINIC_SLUG"] = "healthz"
	if _, err := o.run("", "check"); err == nil || !strings.Contains(err.Error(), `CLINIC_SLUG is "healthz", which the portal uses`) {
		t.Errorf("check of a clinic that cannot be served = %v", err)
	}
}

// TestClinicUpdateWritesTheAudit: the console's Audit page shows what the
// command line changed too, and a refused update leaves no row.
func TestClinicUpdateWritesTheAudit(t *testing.T) {
	o := newOperator(t)
	o.must(sandbox.DemoAccessToken+"\n", "clinic", "add", "--slug", "northside", "--name", "Northside Physio", "--access-token-file", "-")
	o.must("", "clinic", "update", "northside", "--phone", "1300 000 000", "--window-days", "30")
	if _, err := o.run("", "clinic", "update", "northside", "--brand-colour", "blue"); err == nil {
		t.Fatal("a bad brand colour was accepted")
	}
	db, err := store.Open(context.Background(), o.env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.ClinicAudit(context.Background(), "northside", 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		if r.Actor != "command line" {
			t.Errorf("audit actor %q, want command line", r.Actor)
		}
		got = append(got, r.Setting+": "+r.OldValue+" → "+r.NewValue)
	}
	slices.Sort(got)
	if want := []string{"phone: (none) → 1300 000 000", "window-days: 60 days → 30 days"}; !slices.Equal(got, want) {
		t.Errorf("audit rows %q, want %q", got, want)
	}
}
