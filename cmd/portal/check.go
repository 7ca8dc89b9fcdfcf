package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/clinic-booking/portal/internal/clinics"
	"github.com/clinic-booking/portal/internal/clinics/clinicscheck"
	"github.com/clinic-booking/portal/internal/coreplus"
	"github.com/clinic-booking/portal/internal/metrics"
)

// checkCommand runs `portal check [slug]`: it asks coreplus, with the
// operator's consumer credentials and the clinic's access token, for the
// clinic's locations, practitioners and services, and reports what it found
// or exactly what failed. With no slug it checks the clinic configured by
// environment (COREPLUS_ACCESS_TOKEN).
func checkCommand(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	args, err := newFlags("check", "[clinic slug]", "Asks coreplus for a stored clinic's locations, practitioners and services, with the\n"+
		"operator's consumer credentials and the clinic's access token, and reports what it found or\n"+
		"exactly what failed. With no slug it checks the clinic configured by environment.", stdout).parse(args)
	if err != nil {
		return fmt.Errorf("check: %w", err)
	}
	if len(args) > 1 {
		return errors.New("check: expected at most one clinic slug, such as: portal check northside-physio")
	}
	var problems []string
	base, consumerID, secret := getenv("COREPLUS_BASE_URL"), getenv("COREPLUS_CONSUMER_ID"), getenv("COREPLUS_CONSUMER_SECRET")
	for _, v := range []struct{ name, value string }{
		{"COREPLUS_BASE_URL", base}, {"COREPLUS_CONSUMER_ID", consumerID}, {"COREPLUS_CONSUMER_SECRET", secret},
	} {
		if v.value == "" {
			problems = append(problems, v.name+" is not set: expected the operator's value from the coreplus add-on setup")
		}
	}
	if len(problems) > 0 {
		return errors.New("check: " + strings.Join(problems, "; "))
	}

	var rec clinics.Record
	if len(args) == 1 {
		repo, db, _, err := openRepo(ctx, getenv)
		if err != nil {
			return err
		}
		rec, err = repo.Get(ctx, args[0])
		db.Close()
		if errors.Is(err, clinics.ErrNotFound) {
			return fmt.Errorf("check: there is no clinic %q (portal clinic list shows them)", args[0])
		} else if err != nil {
			return fmt.Errorf("check: %w", err)
		}
	} else {
		tok := getenv("COREPLUS_ACCESS_TOKEN")
		if tok == "" {
			return errors.New("check: expected a clinic slug (portal check northside-physio), or COREPLUS_ACCESS_TOKEN set to check the clinic configured by environment")
		}
		// The same reading of the environment's clinic as serving's, so
		// that check fails where serving would.
		var problems []string
		rec = loadEnvClinic(getenv, false, tok, func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) })
		if len(problems) > 0 {
			return errors.New("check: configuration: " + strings.Join(problems, "; "))
		}
	}

	api, err := coreplus.New(coreplus.Config{
		BaseURL: base, ConsumerID: consumerID, ConsumerSecret: secret,
		AccessToken: rec.AccessToken.Reveal(), Issuer: getenv("PUBLIC_URL"),
		Timeout: 15 * time.Second,
	})
	if err != nil {
		return fmt.Errorf("check %s: %w", rec.Slug, err)
	}
	fmt.Fprintf(stdout, "checking clinic %s (%s) at %s with consumer %s and access token %s\n", rec.Slug, rec.Name, hostOf(base), consumerID, rec.AccessToken)
	if !rec.Enabled {
		fmt.Fprintln(stdout, "note: the clinic is disabled, so patients cannot book it until: portal clinic enable "+rec.Slug)
	}

	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	report := clinicscheck.Run(ctx, api, rec)
	for _, l := range report.Lists {
		line := fmt.Sprintf("ok: %d %s found", l.Found, l.Name)
		if l.Offered > 0 {
			line += fmt.Sprintf(", %d offered online", l.Offered)
		}
		fmt.Fprintln(stdout, line)
	}
	if f := report.Failure; f != nil {
		return fmt.Errorf("check %s: listing %s failed: %s", rec.Slug, f.List, failureKind(f.Err, base))
	}
	missing := report.Missing()
	for _, m := range missing {
		fmt.Fprintf(stdout, "warning: --%s lists %q, which coreplus does not have\n", m.List, m.ID)
	}
	if len(missing) > 0 {
		return fmt.Errorf("check %s: the credentials work, but %d configured id(s) are not in coreplus", rec.Slug, len(missing))
	}
	fmt.Fprintf(stdout, "clinic %s: the credentials work\n", rec.Slug)
	return nil
}

// failureKind says which kind of failure err is, in the operator's terms.
func failureKind(err error, base string) string {
	var detail string
	var ce *coreplus.Error
	if errors.As(err, &ce) {
		if ce.Status != 0 {
			detail = fmt.Sprintf(" (HTTP %d)", ce.Status)
		}
		if ce.Reason != "" {
			detail += ": " + ce.Reason
		}
	}
	switch {
	case errors.Is(err, coreplus.ErrInvalidCredentials):
		return "invalid credentials" + detail + ": coreplus rejected the consumer id, consumer secret or the clinic's access token; check COREPLUS_CONSUMER_ID and COREPLUS_CONSUMER_SECRET, and that the clinic still grants the add-on (portal clinic update <slug> --access-token-file - replaces the token)"
	case errors.Is(err, coreplus.ErrRateLimited):
		return "rate limited" + detail + ": coreplus allows 10 requests a second per consumer, shared with every running portal; try again in a minute"
	case errors.Is(err, coreplus.ErrUnavailable):
		cause := ""
		if ce != nil && ce.Cause != nil {
			cause = ": " + ce.Cause.Error()
		}
		return "unreachable" + detail + ": no usable answer from " + hostOf(base) + cause + "; check COREPLUS_BASE_URL and the network"
	}
	return err.Error()
}

func hostOf(base string) string {
	if u, err := url.Parse(base); err == nil && u.Host != "" {
		return u.Scheme + "://" + u.Host + u.Path
	}
	return "COREPLUS_BASE_URL"
}

// consoleChecker is the console's Check: the same check as `portal check`,
// with each clinic's client built as serving builds it, on this portal's
// upstream budget (limiter: coreplus counts requests per consumer, so a
// check waits its turn with the patients) and seen by its health figures
// (Today shows the check's calls). Each check has a client of its own,
// so nothing it reads reaches the patients' cached catalogue; its circuit
// breaker is off, as a check makes three calls at most and stops at the
// first failure, and the checker's timeout bounds the whole check.
func consoleChecker(cfg config, repo *clinics.Repo, limiter coreplus.Limiter, health *metrics.Health, logger *slog.Logger, m *metrics.Metrics) *clinicscheck.Checker {
	c := &clinicscheck.Checker{
		Client: func(rec clinics.Record) (clinicscheck.Coreplus, error) {
			return coreplus.New(coreplus.Config{
				BaseURL:         cfg.CoreplusBaseURL,
				ConsumerID:      cfg.ConsumerID,
				ConsumerSecret:  cfg.ConsumerSecret,
				AccessToken:     rec.AccessToken.Reveal(),
				Issuer:          cfg.PublicURL,
				Limiter:         limiter,
				Timeout:         consoleCheckAttempt,
				BreakerFailures: -1,
				OnCall:          watchingHealth(health, rec.Slug, logUpstreamCall(logger.With("clinic", rec.Slug), m)),
			})
		},
		Timeout: clinicscheck.DefaultTimeout,
	}
	if cfg.HasEnvClinic() {
		c.Fixed = []clinics.Record{cfg.Clinic}
	}
	if repo != nil {
		c.Records = repo
	}
	return c
}

// consoleCheckAttempt bounds one request of a console check, so that a
// slow answer leaves time for a retry within the check's timeout.
const consoleCheckAttempt = 5 * time.Second
