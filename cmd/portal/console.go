package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"

	"github.com/clinic-booking/portal/internal/booking/bookingstore"
	"github.com/clinic-booking/portal/internal/coreplus"
	"github.com/clinic-booking/portal/internal/metrics"
	"github.com/clinic-booking/portal/internal/staff"
	"github.com/clinic-booking/portal/web"
)

// signInMailer sends sign-in links through the outbox when this portal
// sends mail (in demo mode, to the demo mailbox at /demo/mail), and
// otherwise only logs that one was asked for.
func signInMailer(m mailSetup, bookings bookingstore.Adapter, log *slog.Logger, demo bool) web.SignInMailer {
	if m.sender != nil {
		return web.SignInMail{Queue: bookings}
	}
	return signInLinkLog{log: log, quiet: demo}
}

// signInLinkLog stands in for the mail outbox when no mail is sent: it
// logs that a sign-in link was asked for, never the address or the link
// (the link signs in; the address is personal). In demo mode it says
// nothing: the demo prints a sign-in link at start, and `portal staff add`
// prints more.
type signInLinkLog struct {
	log   *slog.Logger
	quiet bool
}

func (l signInLinkLog) SendSignInLink(ctx context.Context, _, _ string) error {
	if !l.quiet {
		l.log.InfoContext(ctx, "console sign-in link issued; no mail is sent yet, so `portal staff add` prints links")
	}
	return nil
}

func (l signInLinkLog) SendInvite(ctx context.Context, _, _, _ string) error {
	if !l.quiet {
		l.log.InfoContext(ctx, "console invitation made; no mail is sent yet, so the invited person asks an operator for a link (portal staff add prints one)")
	}
	return nil
}

// healthSource shows the console what this process has seen of coreplus.
type healthSource struct{ h *metrics.Health }

func (s healthSource) UpstreamHealth(clinic string) (web.UpstreamHealth, bool) {
	r, ok := s.h.Report(clinic)
	return web.UpstreamHealth(r), ok
}

// watchingHealth notes every call of clinic's coreplus client in h, then
// passes it on.
func watchingHealth(h *metrics.Health, clinic string, next func(context.Context, coreplus.CallInfo)) func(context.Context, coreplus.CallInfo) {
	return func(ctx context.Context, i coreplus.CallInfo) {
		h.Observe(clinic, i)
		next(ctx, i)
	}
}

// port is addr's port, for the command the demo suggests.
func port(addr net.Addr) int {
	if a, ok := addr.(*net.TCPAddr); ok {
		return a.Port
	}
	return 0
}

// demoConsoleLink makes the demo clinic's admin and prints a sign-in link
// for them, so the demo's console can be opened with no mail and no
// command.
func demoConsoleLink(ctx context.Context, accounts *staff.Accounts, slug, databaseURL string, addr net.Addr, stdout io.Writer) error {
	acc, err := accounts.Add(ctx, "admin@demo.example", slug, staff.RoleAdmin, false)
	if err != nil {
		return fmt.Errorf("demo console account: %w", err)
	}
	token, err := accounts.LinkForAccount(ctx, acc.ID)
	if err != nil {
		return fmt.Errorf("demo console link: %w", err)
	}
	fmt.Fprintf(stdout, "portal: staff console: sign in as the demo clinic's admin at http://%s/console/sign-in/%s (good once, for 15 minutes; more with: DATABASE_URL=%s CLINIC_SLUG=%s PORT=%d portal staff add --clinic %s --email ADDRESS)\n",
		addr, token, databaseURL, slug, port(addr), slug)
	return nil
}
