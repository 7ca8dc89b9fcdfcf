package main

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/clinic-booking/portal/internal/clinics"
	"github.com/clinic-booking/portal/internal/coreplus"
	"github.com/clinic-booking/portal/internal/coreplus/sandbox"
	"github.com/clinic-booking/portal/internal/metrics"
	"github.com/clinic-booking/portal/internal/store"
)

// TestCheckPrintsExactlyWhatItFound pins `portal check`'s whole output
// and exit, line for line, as it was before the check moved to
// internal/clinics/clinicscheck: scripts and runbooks read it.
func TestCheckPrintsExactlyWhatItFound(t *testing.T) {
	o := newOperator(t)
	base := startSandbox(t)
	o.useCoreplus(base)
	o.must(sandbox.DemoAccessToken, "clinic", "add", "--slug", "good", "--name", "Good Physio", "--access-token-file", "-",
		"--locations", sandbox.LocationSydneyID, "--services", sandbox.AppointmentTypeInitialID+","+sandbox.AppointmentTypeStandardID)
	o.must(sandbox.DemoAccessToken, "clinic", "add", "--slug", "stale", "--name", "Stale Physio", "--access-token-file", "-",
		"--locations", sandbox.LocationSydneyID+",loc-gone", "--services", "svc-gone")
	o.must("", "clinic", "disable", "stale")
	host := strings.TrimSuffix(base, "/")

	out := o.must("", "check", "good")
	want := "checking clinic good (Good Physio) at " + host + "/ with consumer demo-portal and access token ••••7a10\n" +
		"ok: 2 locations found, 1 offered online\n" +
		"ok: 6 practitioners found\n" +
		"ok: 4 services found, 2 offered online\n" +
		"clinic good: the credentials work\n"
	if out != want {
		t.Errorf("check good printed:\n%s\nwant:\n%s", out, want)
	}

	// A disabled clinic is checked, and the ids coreplus lacks are named
	// after the counts; the exit is a failure.
	out, err := o.run("", "check", "stale")
	want = "checking clinic stale (Stale Physio) at " + host + "/ with consumer demo-portal and access token ••••7a10\n" +
		"note: the clinic is disabled, so patients cannot book it until: portal clinic enable stale\n" +
		"ok: 2 locations found, 2 offered online\n" +
		"ok: 6 practitioners found\n" +
		"ok: 4 services found, 1 offered online\n" +
		"warning: --locations lists \"loc-gone\", which coreplus does not have\n" +
		"warning: --services lists \"svc-gone\", which coreplus does not have\n"
	if out != want || err == nil || err.Error() != "check stale: the credentials work, but 2 configured id(s) are not in coreplus" {
		t.Errorf("check stale printed:\n%s\nwant:\n%s\nerror: %v", out, want, err)
	}
}

// TestConsoleCheckerSharesTheBudget: the console's Check is built as
// serving builds a clinic's client: it waits on the portal's one upstream
// limiter, its calls count in the clinic's health figures (Today), and it
// checks the environment's clinic and stored ones, disabled included.
func TestConsoleCheckerSharesTheBudget(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "portal.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	keys, err := clinics.ParseKeyring(testKeyA)
	if err != nil {
		t.Fatal(err)
	}
	repo := clinics.NewRepo(db, keys)
	stored := clinics.NewRecord()
	stored.Slug, stored.Name, stored.AccessToken, stored.Enabled = "closed", "Closed Physio", clinics.Token(sandbox.DemoAccessToken), false
	if err := repo.Add(ctx, stored); err != nil {
		t.Fatal(err)
	}
	env := clinics.NewRecord()
	env.Slug, env.Name, env.AccessToken = "harbourside", "Harbourside Physio", clinics.Token(sandbox.DemoAccessToken)
	cfg := config{CoreplusBaseURL: startSandbox(t), ConsumerID: sandbox.DemoConsumerID, ConsumerSecret: sandbox.DemoConsumerSecret, Clinic: env}

	limiter := &countingLimiter{Limiter: coreplus.NewWindowLimiter(coreplus.DefaultLimit, coreplus.DefaultLimitWindow)}
	health := metrics.NewHealth(nil)
	checker := consoleChecker(cfg, repo, limiter, health, slog.New(slog.DiscardHandler), nil)
	for _, slug := range []string{"harbourside", "closed"} {
		r, err := checker.Check(ctx, slug)
		if err != nil || !r.Ok() {
			t.Fatalf("check %s: %+v, %v", slug, r.Failure, err)
		}
		if h, ok := health.Report(slug); !ok || h.Calls != 3 {
			t.Errorf("%s's health saw %d calls, want the check's 3", slug, h.Calls)
		}
	}
	if n := limiter.n.Load(); n != 6 {
		t.Errorf("the checks waited on the portal's limiter %d times, want 6", n)
	}
	if _, err := checker.Check(ctx, "nowhere"); !errors.Is(err, clinics.ErrNotFound) {
		t.Errorf("no such clinic: %v", err)
	}
	if consoleChecker(cfg, nil, limiter, health, slog.New(slog.DiscardHandler), nil).Records != nil {
		t.Error("with no stored clinics the checker still reads them")
	}
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
