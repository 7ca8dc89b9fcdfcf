// Command coreplus-sandbox serves the coreplus API sandbox: a stateful,
// token-checking stand-in for coreplus seeded with a demo clinic, so the
// portal can be run and tested with no coreplus account.
//
//	go run ./cmd/coreplus-sandbox --addr 127.0.0.1:8081
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/clinic-booking/portal/internal/coreplus/sandbox"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "coreplus-sandbox:", err)
		os.Exit(1)
	}
}

// run serves the sandbox until ctx is cancelled.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("coreplus-sandbox", flag.ContinueOnError)
	fs.SetOutput(stdout)
	addr := fs.String("addr", "127.0.0.1:8081", "listen address (host:port; port 0 picks a free one)")
	consumerID := fs.String("consumer-id", "", "consumer id to accept (default: the demo id)")
	consumerSecret := fs.String("consumer-secret", "", "consumer secret tokens are signed with (default: the demo secret)")
	accessToken := fs.String("access-token", "", "access token to accept (default: the demo token)")
	rateLimit := fs.Int("rate-limit", 10, "requests per consumer in any 1-second window; negative for unlimited")
	seed := fs.Int64("seed", 0, "seed for demo appointments, new ids and fault randomness (0: fixed default)")
	latency := fs.Duration("latency", 0, "delay added before every answer")
	errorRate := fs.Float64("error-rate", 0, "share of requests answered 503 (0-1)")
	dropRate := fs.Float64("drop-rate", 0, "share of requests whose connection is closed unanswered (0-1)")
	storeThenDrop := fs.Float64("store-then-drop-rate", 0, "share of successful bookings stored, then left unanswered (0-1)")
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return nil // usage was printed; asking for help is not a failure
	} else if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	for name, rate := range map[string]float64{"error-rate": *errorRate, "drop-rate": *dropRate, "store-then-drop-rate": *storeThenDrop} {
		if rate < 0 || rate > 1 {
			return fmt.Errorf("--%s must be between 0 and 1", name)
		}
	}
	if *rateLimit == 0 {
		return errors.New("--rate-limit 0 would refuse everything; use a negative value for unlimited")
	}

	srv := sandbox.New(sandbox.Config{
		ConsumerID: *consumerID, ConsumerSecret: *consumerSecret, AccessToken: *accessToken,
		RateLimit: *rateLimit, Seed: *seed,
		Faults: sandbox.Faults{Latency: *latency, ErrorRate: *errorRate, DropRate: *dropRate, StoreThenDropRate: *storeThenDrop},
	})

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	httpSrv := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	printBanner(stdout, ln.Addr().String(), *consumerID, *consumerSecret, *accessToken, *rateLimit, srv)

	served := make(chan error, 1)
	go func() { served <- httpSrv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := httpSrv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	fmt.Fprintln(stdout, "coreplus sandbox stopped")
	return nil
}

// printBanner tells a developer where the API is and how to sign for it. A
// secret given on the command line is not echoed back.
func printBanner(w io.Writer, addr, consumerID, consumerSecret, accessToken string, rateLimit int, srv *sandbox.Server) {
	secret := "(as given, not shown)"
	if consumerSecret == "" {
		secret = sandbox.DemoConsumerSecret + "  (demo)"
	}
	if consumerID == "" {
		consumerID = sandbox.DemoConsumerID + "  (demo)"
	}
	if accessToken == "" {
		accessToken = sandbox.DemoAccessToken + "  (demo)"
	}
	limit := fmt.Sprintf("%d requests/second per consumer", rateLimit)
	if rateLimit < 0 {
		limit = "unlimited"
	}
	fmt.Fprintf(w, "coreplus sandbox listening on http://%s\n", addr)
	fmt.Fprintf(w, "  base URL:        http://%s/API/Core/v2.1/\n", addr)
	fmt.Fprintf(w, "  also:            http://%s/API/Core/v2/\n", addr)
	fmt.Fprintf(w, "  consumer id:     %s\n", consumerID)
	fmt.Fprintf(w, "  consumer secret: %s\n", secret)
	fmt.Fprintf(w, "  access token:    %s\n", accessToken)
	fmt.Fprintf(w, "  rate limit:      %s\n", limit)
	for _, l := range srv.Locations() {
		fmt.Fprintf(w, "  location %s  %-32s %s timezoneId %s\n", l.ID, l.Name, l.TimeZoneName, l.TimezoneID)
	}
}
