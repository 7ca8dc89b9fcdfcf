package web_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clinic-booking/portal/internal/clinics"
	"github.com/clinic-booking/portal/internal/clinics/clinicscheck"
	"github.com/clinic-booking/portal/internal/coreplus"
	"github.com/clinic-booking/portal/internal/coreplus/sandbox"
	"github.com/clinic-booking/portal/internal/staff"
	"github.com/clinic-booking/portal/web"
)

// checkHarness is the console with the operator's Check wired as serving
// wires it: stored clinics from the harness's repo, "other" configured as
// by environment, each client on one shared budget (counted) and bounded
// by the checker's timeout.
type checkHarness struct {
	*consoleHarness
	checker *clinicscheck.Checker
	// base is where the checks' coreplus is; waits counts the budget's.
	base  string
	waits *countingLimiter
	ops   string // the operator's session
}

// countingLimiter is the upstream budget, counting what waits on it.
type countingLimiter struct {
	coreplus.Limiter
	n atomic.Int64
}

func (l *countingLimiter) Wait(ctx context.Context) error {
	l.n.Add(1)
	return l.Limiter.Wait(ctx)
}

func newCheckHarness(t *testing.T) *checkHarness {
	t.Helper()
	sb := httptest.NewServer(sandbox.New(sandbox.Config{RateLimit: -1}))
	t.Cleanup(sb.Close)
	var repo *clinics.Repo
	ck := &checkHarness{
		checker: &clinicscheck.Checker{Timeout: 2 * time.Second},
		base:    sb.URL + "/API/Core/v2.1/",
		waits:   &countingLimiter{Limiter: coreplus.NewWindowLimiter(coreplus.DefaultLimit, coreplus.DefaultLimitWindow)},
	}
	ck.consoleHarness = newConsoleHarness(t, func(c *web.Config) {
		c.Console.ClinicRecords = lazyRecords{&repo}
		c.Console.Checker = ck.checker
	})
	repo = ck.repo
	other := storedRecord(testClinic())
	other.Slug, other.Name = "other", "Otherside Podiatry (test)"
	ck.checker.Fixed = []clinics.Record{other}
	ck.checker.Records = ck.repo
	ck.checker.Client = func(rec clinics.Record) (clinicscheck.Coreplus, error) {
		return coreplus.New(coreplus.Config{
			BaseURL: ck.base, ConsumerID: sandbox.DemoConsumerID, ConsumerSecret: sandbox.DemoConsumerSecret,
			AccessToken: rec.AccessToken.Reveal(), Limiter: ck.waits, Timeout: time.Minute, BreakerFailures: -1,
		})
	}
	ck.addStaff("ops@host.example", "", "", true)
	ck.ops = ck.signIn("ops@host.example")
	return ck
}

// addClinic stores a clinic as `portal clinic add` does.
func (ck *checkHarness) addClinic(slug, name, token string, change func(*clinics.Record)) {
	ck.t.Helper()
	rec := clinics.NewRecord()
	rec.Slug, rec.Name, rec.AccessToken = slug, name, clinics.Token(token)
	if change != nil {
		change(&rec)
	}
	if err := ck.repo.Add(context.Background(), rec); err != nil {
		ck.t.Fatal(err)
	}
}

// check presses the Check button of the clinic named name on the
// operator's clinics page, and returns the page it answers with.
func (ck *checkHarness) check(name string) *page {
	ck.t.Helper()
	p, _ := ck.send(http.MethodGet, "/console/clinics", ck.ops, nil)
	b := p.Doc.Find(`main form[method=post] button[aria-label="Check ` + name + ` with coreplus"]`)
	if b.Length() != 1 || strings.TrimSpace(b.Text()) != "Check" {
		ck.t.Fatalf("no Check button for %s:\n%s", name, p.Text())
	}
	p, _ = ck.send(http.MethodPost, b.Closest("form").AttrOr("action", ""), ck.ops, url.Values{})
	if p.Status != http.StatusOK {
		ck.t.Fatalf("Check %s: status %d\n%s", name, p.Status, p.Text())
	}
	return p
}

// result is the check's panel as a person reads it: heading, then text.
func result(p *page) (heading, text string) {
	s := p.Doc.Find("main #check-result")
	return strings.TrimSpace(s.Find("h2").Text()), strings.Join(strings.Fields(s.Text()), " ")
}

// TestOperatorChecksAClinic: Check asks coreplus, through the portal's
// budget, for what the clinic has and says so on the clinics page: what
// it found, the ids offered that coreplus lacks, a disabled clinic and
// the environment's clinic included; never the access token.
func TestOperatorChecksAClinic(t *testing.T) {
	ck := newCheckHarness(t)
	ck.addClinic("stale", "Stale Physio", sandbox.DemoAccessToken, func(r *clinics.Record) {
		r.Locations = []string{sandbox.LocationSydneyID, "loc-gone"}
		r.Enabled = false
	})

	p := ck.check("Harbourside Physio (test)")
	heading, text := result(p)
	if heading != "Harbourside Physio (test): the credentials work" {
		t.Errorf("heading %q", heading)
	}
	for _, want := range []string{"2 locations found, all offered online", "6 practitioners found, all offered online", "4 services found, all offered online", "access token ••••7a10"} {
		if !strings.Contains(text, want) {
			t.Errorf("the result lacks %q: %s", want, text)
		}
	}
	if strings.Contains(p.Body, sandbox.DemoAccessToken) || strings.Contains(p.Body, sandbox.DemoConsumerSecret) {
		t.Error("the page shows a secret")
	}
	if p.Doc.Find("main #check-result.check-problem").Length() != 0 || p.Doc.Find("main table tbody tr").Length() != 3 {
		t.Errorf("a good check is shown as a problem, or the list is gone:\n%s", p.Text())
	}
	if n := ck.waits.n.Load(); n != 3 {
		t.Errorf("the check waited on the shared budget %d times, want 3 (one per list)", n)
	}

	heading, text = result(ck.check("Stale Physio"))
	if heading != "Stale Physio: the credentials work, but 1 id offered online is not in coreplus" ||
		!strings.Contains(text, `The clinic offers location "loc-gone" online, which coreplus does not have`) ||
		!strings.Contains(text, "2 locations found, 2 offered online") ||
		!strings.Contains(text, "Stale Physio is disabled: patients can't book it") {
		t.Errorf("a disabled clinic with a missing location: %q\n%s", heading, text)
	}

	// The clinic configured by environment is checked too.
	if heading, _ := result(ck.check("Otherside Podiatry (test)")); heading != "Otherside Podiatry (test): the credentials work" {
		t.Errorf("the environment's clinic: %q", heading)
	}
}

// TestOperatorCheckSaysWhatFailed: a wrong token, and a coreplus that
// never answers, each give the operator what failed and what to do, in
// words, within the checker's timeout; no internal error text.
func TestOperatorCheckSaysWhatFailed(t *testing.T) {
	ck := newCheckHarness(t)
	ck.addClinic("wrong", "Wrong Token Physio", "00000000-0000-0000-0000-000000000000", nil)

	p := ck.check("Wrong Token Physio")
	heading, text := result(p)
	if heading != "Wrong Token Physio: coreplus refused the credentials" ||
		!strings.Contains(text, "Listing locations failed: invalid credentials (HTTP 401).") ||
		!strings.Contains(text, "portal clinic update wrong --access-token-file -") ||
		p.Doc.Find("main #check-result.check-problem").Length() != 1 {
		t.Errorf("a wrong token: %q\n%s", heading, text)
	}
	if !strings.Contains(text, "••••0000") || strings.Contains(p.Body, "00000000-0000-0000-0000-000000000000") {
		t.Errorf("the token is not masked: %s", text)
	}

	// coreplus accepts the connection and never answers: the checker's
	// timeout (2 s here), not the client's minute, ends the check.
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	t.Cleanup(hung.Close)
	ck.base = hung.URL + "/API/Core/v2.1/"
	p = ck.check("Harbourside Physio (test)")
	heading, text = result(p)
	if heading != "Harbourside Physio (test): coreplus could not be reached" ||
		!strings.Contains(text, "Listing locations failed: unreachable.") || !strings.Contains(text, "Check COREPLUS_BASE_URL") {
		t.Errorf("a coreplus that never answers: %q\n%s", heading, text)
	}
	for _, internal := range []string{"context deadline", "dial tcp", "127.0.0.1", "GET /", "coreplus is unavailable"} {
		if strings.Contains(p.Body, internal) {
			t.Errorf("the page shows internal error text %q", internal)
		}
	}
	// coreplus answering 429 (asking for an hour), then this portal's own
	// budget spent for longer than the check may wait.
	limited := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "3600")
		http.Error(w, `{"result":{"reason":"Too many requests"}}`, http.StatusTooManyRequests)
	}))
	t.Cleanup(limited.Close)
	ck.base = limited.URL + "/API/Core/v2.1/"
	if heading, text := result(ck.check("Harbourside Physio (test)")); heading != "Harbourside Physio (test): too many requests to coreplus just now" ||
		!strings.Contains(text, "Listing locations failed: rate limited (HTTP 429).") || !strings.Contains(text, "shared by every portal running") {
		t.Errorf("coreplus answering 429: %q\n%s", heading, text)
	}
	ck.waits.Limiter = spentBudget{}
	if heading, text := result(ck.check("Harbourside Physio (test)")); heading != "Harbourside Physio (test): too many requests to coreplus just now" ||
		!strings.Contains(text, "Listing locations failed: rate limited.") || !strings.Contains(text, "used this portal's share") {
		t.Errorf("the portal's budget spent: %q\n%s", heading, text)
	}
}

// spentBudget is an upstream budget with no start free before any
// deadline, as when patients' pages have taken it.
type spentBudget struct{}

func (spentBudget) Wait(context.Context) error {
	return errors.New("no start free before the deadline")
}

// TestOperatorCheckIsTheOperatorsAlone: anyone else gets the console's
// 404 (and no button); a post from another site is refused before any
// check runs.
func TestOperatorCheckIsTheOperatorsAlone(t *testing.T) {
	ck := newCheckHarness(t)
	ck.addStaff("admin@demo.example", "demo", staff.RoleAdmin, false)
	ck.addStaff("staff@demo.example", "demo", staff.RoleStaff, false)
	admin, staffer := ck.signIn("admin@demo.example"), ck.signIn("staff@demo.example")
	const action = "/console/clinics/demo/check"

	for who, cookie := range map[string]string{"an admin of the clinic": admin, "staff of the clinic": staffer} {
		if p, _ := ck.send(http.MethodPost, action, cookie, url.Values{}); p.Status != http.StatusNotFound || strings.Contains(p.Body, "credentials") {
			t.Errorf("Check as %s: %d", who, p.Status)
		}
		if p, _ := ck.send(http.MethodGet, "/console/clinics", cookie, nil); p.Doc.Find(`button[aria-label^="Check"]`).Length() != 0 {
			t.Errorf("%s is offered Check", who)
		}
	}
	if p, _ := ck.send(http.MethodPost, action, "", url.Values{}); p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/console/sign-in" {
		t.Errorf("Check signed out: %d to %q", p.Status, p.Header.Get("Location"))
	}
	if p, _ := ck.send(http.MethodPost, "/console/clinics/no-such-clinic/check", ck.ops, url.Values{}); p.Status != http.StatusNotFound {
		t.Errorf("checking a clinic that does not exist: %d", p.Status)
	}
	if p, _ := ck.send(http.MethodGet, action, ck.ops, nil); p.Status != http.StatusNotFound && p.Status != http.StatusMethodNotAllowed {
		t.Errorf("GET of Check: %d", p.Status)
	}
	if n := ck.waits.n.Load(); n != 0 {
		t.Fatalf("refused checks asked coreplus %d times", n)
	}

	// The operator's own session, from another site.
	req, _ := http.NewRequest(http.MethodPost, ck.abs(action), strings.NewReader(""))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.Header.Set("Origin", "https://evil.example")
	req.AddCookie(&http.Cookie{Name: "__Host-portal-console", Value: ck.ops})
	if p := ck.do(req); p.Status != http.StatusForbidden {
		t.Errorf("a cross-site Check: status %d", p.Status)
	}
	if n := ck.waits.n.Load(); n != 0 {
		t.Errorf("the cross-site Check asked coreplus %d times", n)
	}
}

// TestOperatorChecksClinicsSetByTheEnvironmentAlone: with no stored
// clinics (no token keys), the operator's list still shows each clinic
// with Check, and no add-clinic form, which could not store one.
func TestOperatorChecksClinicsSetByTheEnvironmentAlone(t *testing.T) {
	sb := httptest.NewServer(sandbox.New(sandbox.Config{RateLimit: -1}))
	t.Cleanup(sb.Close)
	demo, other := storedRecord(testClinic()), storedRecord(testClinic())
	other.Slug, other.Name = "other", "Otherside Podiatry (test)"
	demo.AccessToken = "00000000-0000-0000-0000-000000000000"
	checker := &clinicscheck.Checker{
		Fixed: []clinics.Record{demo, other},
		Client: func(rec clinics.Record) (clinicscheck.Coreplus, error) {
			return coreplus.New(coreplus.Config{BaseURL: sb.URL + "/API/Core/v2.1/", ConsumerID: sandbox.DemoConsumerID,
				ConsumerSecret: sandbox.DemoConsumerSecret, AccessToken: rec.AccessToken.Reveal()})
		},
	}
	ch := newConsoleHarness(t, func(c *web.Config) { c.Console.Checker = checker })
	ck := &checkHarness{consoleHarness: ch, checker: checker}
	ck.addStaff("ops@host.example", "", "", true)
	ck.ops = ck.signIn("ops@host.example")

	p, _ := ck.send(http.MethodGet, "/console/clinics", ck.ops, nil)
	if n := p.Doc.Find("main table tbody tr").Length(); n != 2 || strings.Contains(p.Text(), "Add a clinic") || strings.Contains(p.Text(), "Disable") {
		t.Errorf("the list with no stored clinics: %d rows\n%s", n, p.Text())
	}
	if heading, _ := result(ck.check("Otherside Podiatry (test)")); heading != "Otherside Podiatry (test): the credentials work" {
		t.Errorf("checking a clinic set by the environment: %q", heading)
	}
	// Its token is replaced where the environment is set, not by a
	// command that would store a clinic.
	heading, text := result(ck.check("Harbourside Physio (test)"))
	if heading != "Harbourside Physio (test): coreplus refused the credentials" ||
		!strings.Contains(text, "replace COREPLUS_ACCESS_TOKEN where the portal's environment is set") || strings.Contains(text, "portal clinic update") {
		t.Errorf("a wrong token set by the environment: %q\n%s", heading, text)
	}
	if p, _ := ck.send(http.MethodPost, "/console/clinics", ck.ops, url.Values{"slug": {"x"}}); p.Status != http.StatusNotFound {
		t.Errorf("adding a clinic with no store: %d", p.Status)
	}
}
