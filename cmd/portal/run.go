package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	_ "time/tzdata" // appointment times are shown in each location's zone, on any host

	"golang.org/x/time/rate"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/internal/booking/bookingstore"
	"github.com/clinic-booking/portal/internal/clinics"
	"github.com/clinic-booking/portal/internal/coreplus"
	"github.com/clinic-booking/portal/internal/coreplus/sandbox"
	"github.com/clinic-booking/portal/internal/funnel"
	"github.com/clinic-booking/portal/internal/funnel/funnelstore"
	"github.com/clinic-booking/portal/internal/mail"
	"github.com/clinic-booking/portal/internal/metrics"
	"github.com/clinic-booking/portal/internal/staff"
	"github.com/clinic-booking/portal/internal/staff/staffstore"
	"github.com/clinic-booking/portal/internal/store"
	"github.com/clinic-booking/portal/web"
)

// run runs the command args name: serving the portal (no command, or
// "serve"), or one of the operator's commands. Everything it needs from the
// outside comes in as arguments; stdin is the process's own.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	return runCommand(ctx, args, getenv, os.Stdin, stdout)
}

// serve builds and wires the portal, serves until ctx is cancelled, then
// shuts down cleanly.
func serve(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cfg, err := loadConfig(args, getenv, stdout)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(stdout, &slog.HandlerOptions{Level: cfg.LogLevel}))

	if cfg.Demo {
		stopSandbox, err := startDemoSandbox(ctx, &cfg)
		if err != nil {
			return fmt.Errorf("start demo sandbox: %w", err)
		}
		defer stopSandbox()
		if cfg.SecretKey == nil {
			if cfg.SecretKey, err = demoKey(cfg.DataDir); err != nil {
				return fmt.Errorf("demo secret key in %s: %w", cfg.DataDir, err)
			}
		}
		if getenv("DATABASE_URL") == "" {
			// The in-process sandbox forgets its diary on exit, so the demo's
			// booking records start afresh with it; otherwise a time booked in
			// an earlier run would look free upstream but claimed locally.
			if cfg.DatabaseURL, err = freshDemoDatabase(cfg.DataDir); err != nil {
				return fmt.Errorf("demo database in %s: %w", cfg.DataDir, err)
			}
		}
	}

	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer db.Close()
	mailer, err := setUpMail(cfg, logger)
	if err != nil {
		return fmt.Errorf("mail: %w", err)
	}
	// bookings is the booking rules' store: with the mail queue when this
	// portal sends mail, so a booking's confirmation is queued with it.
	bookings := bookingstore.New(db)
	if mailer.sender != nil {
		bookings = bookings.WithOutbox(mailer.keys)
	}

	// Metrics only when METRICS_ADDR asks for them: m is nil otherwise, and
	// every hook below does nothing.
	var m *metrics.Metrics
	if cfg.MetricsAddr != "" {
		m = metrics.New(unsettledBookings(bookingstore.New(db)))
	}

	// coreplus allows 10 requests a second per consumer, shared by every
	// clinic and every patient: one limiter for all of them keeps this
	// replica under it rather than meeting its 429s.
	// A sliding window (at most 9 starts in any 1.25 s), not a token bucket:
	// coreplus counts requests in any one-second window.
	limiter, err := upstreamLimiter(ctx, db, cfg)
	if err != nil {
		return err
	}
	// What this process sees of coreplus, per clinic, for the console.
	health := metrics.NewHealth(nil)
	newService := func(c booking.Clinic, accessToken clinics.Token) (*booking.Service, error) {
		api, err := coreplus.New(coreplus.Config{
			BaseURL:        cfg.CoreplusBaseURL,
			ConsumerID:     cfg.ConsumerID,
			ConsumerSecret: cfg.ConsumerSecret,
			AccessToken:    accessToken.Reveal(),
			Issuer:         cfg.PublicURL,
			Limiter:        limiter,
			OnCall:         watchingHealth(health, c.Slug, logUpstreamCall(logger.With("clinic", c.Slug), m)),
		})
		if err != nil {
			return nil, fmt.Errorf("coreplus client for clinic %s: %w", c.Slug, err)
		}
		svc := booking.NewService(c, api, bookings, nil)
		svc.SetLogger(logger.With("clinic", c.Slug))
		if db.Dialect() == store.DialectPostgres {
			// Replicas fetch each span of free time once between them: the
			// budget is per consumer. SQLite serves one process, which
			// would only read back what it already holds.
			svc.SetSharedSpans(bookingstore.New(db))
		}
		if m != nil {
			svc.SetObserver(m)
		}
		return svc, nil
	}

	var fixed []*booking.Service
	if cfg.HasEnvClinic() {
		svc, err := newService(cfg.Clinic.Booking(), cfg.Clinic.AccessToken)
		if err != nil {
			return err
		}
		fixed = append(fixed, svc)
	}
	directory, err := clinicDirectory(ctx, cfg, db, newService, logger, fixed)
	if err != nil {
		return err
	}
	// The console's Settings and Audit pages change the stored clinics,
	// which need the token keys to be saved again.
	var settings web.ClinicSettings
	if cfg.TokenKeys != nil {
		repo := clinics.NewRepo(db, cfg.TokenKeys)
		repo.SetLogger(logger)
		settings = repo
	}

	var pages web.PageMetrics
	if m != nil {
		pages = m
	}

	// The booking funnel's counts: steps reached wait in memory and are
	// written every few seconds, and once more after the server has
	// stopped taking requests (this defer runs after serveAll returns and
	// before the database closes), so a shutdown loses none.
	counter := funnel.NewCounter(funnelstore.New(db), nil, logger)
	counter.Start(ctx, funnel.DefaultFlushEvery)
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := counter.Close(closeCtx); err != nil {
			logger.Error("funnel: steps reached were not written at shutdown", "error", err.Error())
		}
	}()
	var mailbox web.DemoMailbox
	if mailer.mailbox != nil {
		mailbox = mailer.mailbox
	}
	accounts := staff.New(staffstore.New(db), nil)
	handler, err := web.New(web.Config{
		DemoMailbox: mailbox,
		Clinics:     web.ServiceDirectory(directory),
		Logger:      logger,
		Ready:       db.Ping,
		SecretKey:   cfg.SecretKey,

		TrustedProxies: cfg.TrustedProxies,
		Limits:         cfg.Limits,
		PublicURL:      cfg.PublicURL,
		Metrics:        pages,
		Funnel:         counter,
		Console: web.ConsoleConfig{
			Accounts:      accounts,
			Mailer:        signInMailer(mailer, bookings, logger, cfg.Demo),
			Bookings:      bookingstore.New(db),
			Requests:      bookingstore.New(db),
			Health:        healthSource{health},
			Funnel:        funnelstore.New(db),
			Passkeys:      staffstore.New(db),
			ClinicRecords: clinicRecords(cfg, db),
			ClinicSlugs:   directory.Slugs,
			// A clinic the operator adds is served by this server at once.
			RefreshClinics: directory.Refresh,
			Settings:       settings,
			Checker:        consoleChecker(cfg, storedClinics(cfg, db), limiter, health, logger, m),
			Team:           staff.NewTeam(staffstore.New(db), accounts),
		},
	})
	if err != nil {
		return err
	}
	// Sign-in links asked for just before shutdown are issued before the
	// database closes (this defer runs after serveAll returns).
	defer func() {
		drainCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := handler.Drain(drainCtx); err != nil {
			logger.Warn("console: shut down while issuing sign-in links", "error", err.Error())
		}
	}()

	sweepCtx, stopSweep := context.WithCancel(ctx)
	var sweeps sync.WaitGroup
	expiry := &booking.ExpirySweeper{Drafts: bookingstore.New(db), Requests: db, Log: logger}
	sweeps.Go(func() { expiry.Run(sweepCtx, booking.DefaultExpirySweepEvery) })
	// Every replica sweeps; the sweeper's compare-and-set keeps them from
	// sending one booking twice, and its lease from looking at one twice.
	// The sweepers' share of the upstream budget is split between the
	// replicas like the budget itself.
	replicas := max(1, cfg.Replicas)
	settler := &booking.Sweeper{Clinics: directory, Store: bookings, Log: logger,
		Pace:  rate.NewLimiter(rate.Limit(booking.SweepRate)/rate.Limit(replicas), 1),
		Calls: max(1, booking.SweepCalls/int64(replicas))}
	if m != nil {
		settler.Observer = m
	}
	sweeps.Go(func() { settler.Run(sweepCtx, cfg.SettleEvery) })
	defer func() { stopSweep(); sweeps.Wait() }() // before the database closes

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	if mailer.sender != nil {
		// Every replica sends; the outbox's lease gives each message to one.
		composer := web.NewMailComposer(web.ServiceDirectory(directory), cfg.PublicURL, cfg.SecretKey).WithStaff(accounts)
		if cfg.PublicURL == "" { // only in the demo: links lead to this process
			composer.LinksTo("http://" + ln.Addr().String())
		}
		worker := &mail.Worker{Outbox: bookings, Sender: mailer.sender, Log: logger, Compose: composer.Compose}
		sweeps.Go(func() { worker.Run(sweepCtx) })
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	servers, listeners := []*http.Server{srv}, []net.Listener{ln}
	if m != nil {
		mln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("listen on METRICS_ADDR %s: %w", cfg.MetricsAddr, err)
		}
		servers, listeners = append(servers, metricsServer(m, logger)), append(listeners, mln)
		fmt.Fprintf(stdout, "portal: metrics at http://%s/metrics\n", mln.Addr())
	}
	if slugs := directory.Slugs(ctx); len(slugs) == 1 {
		svc, _ := directory.Clinic(ctx, slugs[0])
		fmt.Fprintf(stdout, "portal: serving %s on http://%s/%s\n", svc.Clinic().Name, ln.Addr(), slugs[0])
	} else {
		fmt.Fprintf(stdout, "portal: serving %d clinics on http://%s/\n", len(slugs), ln.Addr())
	}
	if cfg.Demo {
		if err := demoConsoleLink(ctx, accounts, cfg.Clinic.Slug, cfg.DatabaseURL, ln.Addr(), stdout); err != nil {
			for _, l := range listeners {
				l.Close()
			}
			return err
		}
	}

	return serveAll(ctx, servers, listeners)
}

// serveAll serves servers[i] on listeners[i] until ctx is done, or until
// one of them fails (the others are then shut down too), and shuts them
// down cleanly.
func serveAll(ctx context.Context, servers []*http.Server, listeners []net.Listener) error {
	errc := make(chan error, len(servers))
	for i, srv := range servers {
		go func() { errc <- srv.Serve(listeners[i]) }()
	}
	var errs []error
	running := len(servers)
	select {
	case err := <-errc:
		errs, running = append(errs, err), running-1
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, srv := range servers {
		if err := srv.Shutdown(shutdownCtx); err != nil {
			errs = append(errs, fmt.Errorf("shut down: %w", err))
		}
	}
	for range running {
		if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// metricsServer serves m at /metrics and nothing else. It has a listener
// of its own (METRICS_ADDR), never the portal's: what the portal's
// routes serve is public, and the metrics are for the operator.
func metricsServer(m *metrics.Metrics, logger *slog.Logger) *http.Server {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler(logger))
	return &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// unsettledBookings counts the unsettled bookings for the metrics.
func unsettledBookings(a bookingstore.Adapter) func(context.Context) ([]metrics.Unsettled, error) {
	return func(ctx context.Context) ([]metrics.Unsettled, error) {
		counts, err := a.CountUnsettled(ctx)
		if err != nil {
			return nil, err
		}
		out := make([]metrics.Unsettled, len(counts))
		for i, c := range counts {
			out[i] = metrics.Unsettled{Status: c.Status, Count: c.Count, Oldest: c.Oldest}
		}
		return out, nil
	}
}

// clinicRecords are the clinics in the database for the operator's pages:
// none without token keys, as then the database holds no clinic
// (clinicDirectory refuses to start otherwise).
func clinicRecords(cfg config, db *store.Store) web.ClinicRecords {
	if cfg.TokenKeys == nil {
		return nil
	}
	return clinics.NewRepo(db, cfg.TokenKeys)
}

// storedClinics reads the clinics in the database, with their tokens;
// nil without token keys, as then the database holds no clinic.
func storedClinics(cfg config, db *store.Store) *clinics.Repo {
	if cfg.TokenKeys == nil {
		return nil
	}
	return clinics.NewRepo(db, cfg.TokenKeys)
}

// clinicDirectory holds the clinic configured by environment and, when
// token keys are configured, every enabled clinic in the database, re-read
// every cfg.ClinicRefresh so that any replica sees a change made anywhere.
func clinicDirectory(ctx context.Context, cfg config, db *store.Store, newService func(booking.Clinic, clinics.Token) (*booking.Service, error), logger *slog.Logger, fixed []*booking.Service) (*booking.Directory, error) {
	repo := clinics.NewRepo(db, cfg.TokenKeys)
	repo.SetLogger(logger)
	if cfg.TokenKeys == nil {
		stored, err := repo.List(ctx)
		if err != nil {
			return nil, fmt.Errorf("list clinics: %w", err)
		}
		if len(stored) > 0 {
			return nil, fmt.Errorf("the database holds %d clinic(s) but %w", len(stored), clinics.ErrNoKeys)
		}
		return booking.NewDirectory(fixed...), nil
	}
	d, err := booking.NewLoadingDirectory(ctx, repo.Loader(newService), cfg.ClinicRefresh, logger, fixed...)
	if err != nil {
		return nil, fmt.Errorf("load clinics: %w", err)
	}
	if len(d.Slugs(ctx)) == 0 {
		logger.Warn("no clinic to serve yet: add one with `portal clinic add`; replicas pick it up within the refresh interval", "refresh", cfg.ClinicRefresh.String())
	}
	return d, nil
}

// startDemoSandbox serves the coreplus sandbox on a loopback port, over real
// HTTP, and points the portal's coreplus settings at it.
func startDemoSandbox(ctx context.Context, cfg *config) (stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	sb := sandbox.New(sandbox.Config{})
	srv := &http.Server{Handler: sb, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	cfg.CoreplusBaseURL = "http://" + ln.Addr().String() + "/API/Core/v2.1/"
	cfg.ConsumerID = sandbox.DemoConsumerID
	cfg.ConsumerSecret = sandbox.DemoConsumerSecret
	cfg.Clinic.AccessToken = sandbox.DemoAccessToken
	return func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}, nil
}

// freshDemoDatabase removes the previous demo run's SQLite files and kept
// mail, and names the file for this run.
func freshDemoDatabase(dataDir string) (string, error) {
	path := filepath.Join(dataDir, "demo.db")
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(path + suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
	}
	// The demo's kept mail goes with the bookings it was about.
	if err := os.RemoveAll(filepath.Join(dataDir, demoMailDir)); err != nil {
		return "", err
	}
	return "sqlite:" + path, nil
}

// upstreamLimiter is the limiter every clinic's coreplus client waits on.
// On PostgreSQL the replicas share one budget through the database (see
// store.UpstreamLedger), so a busy replica can use what idle ones leave;
// this replica's static share (upstreamShare) is kept for when the
// database cannot be read. On SQLite, one process, the budget is in memory.
func upstreamLimiter(ctx context.Context, db *store.Store, cfg config) (coreplus.Limiter, error) {
	own := coreplus.NewWindowLimiter(upstreamShare(cfg.Replicas), coreplus.DefaultLimitWindow)
	ledger, err := db.UpstreamLedger(cfg.ConsumerID, coreplus.DefaultLimit, coreplus.DefaultLimitWindow)
	switch {
	case errors.Is(err, store.ErrNoSharedBudget):
		return own, nil
	case err != nil:
		return nil, fmt.Errorf("upstream budget: %w", err)
	}
	return coreplus.NewSharedLimiter(ctx, ledger, own), nil
}

// upstreamShare is this process's part of the consumer's upstream budget
// when replicas processes share it: coreplus counts per consumer, not per
// process.
func upstreamShare(replicas int) int {
	if replicas < 1 {
		replicas = 1
	}
	return max(1, coreplus.DefaultLimit/replicas)
}
