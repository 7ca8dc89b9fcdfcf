package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	_ "time/tzdata" // appointment times are shown in each location's zone, on any host

	"golang.org/x/time/rate"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/internal/booking/bookingstore"
	"github.com/clinic-booking/portal/internal/coreplus"
	"github.com/clinic-booking/portal/internal/coreplus/sandbox"
	"github.com/clinic-booking/portal/internal/store"
	"github.com/clinic-booking/portal/web"
)

// run builds and wires the portal, serves until ctx is cancelled, then shuts
// down cleanly. Everything it needs from the outside comes in as arguments.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cfg, err := loadConfig(args, getenv, stdout)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(stdout, &slog.HandlerOptions{Level: slog.LevelInfo}))

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
	}

	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer db.Close()

	api, err := coreplus.New(coreplus.Config{
		BaseURL:        cfg.CoreplusBaseURL,
		ConsumerID:     cfg.ConsumerID,
		ConsumerSecret: cfg.ConsumerSecret,
		AccessToken:    cfg.AccessToken,
		Issuer:         cfg.PublicURL,
		// coreplus allows 10 requests a second per consumer, shared by
		// every patient: stay under it rather than meet its 429s.
		Limiter: rate.NewLimiter(rate.Limit(8), 1),
	})
	if err != nil {
		return fmt.Errorf("coreplus client: %w", err)
	}
	clinic := booking.NewService(cfg.Clinic, api, bookingstore.New(db), nil)
	clinic.SetLogger(logger)

	handler, err := web.New(web.Config{
		Clinics:   booking.NewDirectory(clinic),
		Logger:    logger,
		Ready:     db.Ping,
		SecretKey: cfg.SecretKey,
	})
	if err != nil {
		return err
	}

	sweepCtx, stopSweep := context.WithCancel(ctx)
	sweepDone := make(chan struct{})
	go func() {
		defer close(sweepDone)
		sweepDrafts(sweepCtx, db, draftSweepEvery, logger)
	}()
	defer func() { stopSweep(); <-sweepDone }() // before the database closes

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	fmt.Fprintf(stdout, "portal: serving %s on http://%s/%s\n", cfg.Clinic.Name, ln.Addr(), cfg.Clinic.Slug)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
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
	cfg.AccessToken = sandbox.DemoAccessToken
	return func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}, nil
}

// draftSweepEvery is how often expired drafts (and the personal details in
// them) are deleted.
const draftSweepEvery = 10 * time.Minute

// sweepDrafts deletes expired drafts now and then every interval, until ctx
// is done.
func sweepDrafts(ctx context.Context, db *store.Store, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n, err := db.DeleteExpiredDrafts(ctx, time.Now())
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error("delete expired drafts", "err", err)
		case n > 0:
			log.Info("deleted expired drafts", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
