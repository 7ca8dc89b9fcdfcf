package coreplus_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/clinic-booking/portal/internal/coreplus"
	"github.com/clinic-booking/portal/internal/coreplus/sandbox"
)

// Fault injection over real HTTP: the sandbox fails, stalls or refuses, and
// the client must ride it out on reads, never resend a write, and stop
// calling a coreplus that has stopped answering.

// firstRequests matches the first n requests the sandbox sees, so a fault
// hits an attempt and spares its retry.
func firstRequests(n int) func(method, resource string) bool {
	var mu sync.Mutex
	seen := 0
	return func(string, string) bool {
		mu.Lock()
		defer mu.Unlock()
		seen++
		return seen <= n
	}
}

func TestSandboxReadsRideOutFaults(t *testing.T) {
	ctx := context.Background()

	t.Run("503 then an answer", func(t *testing.T) {
		f := newFixture(t, sandbox.Config{})
		f.srv.SetFaults(sandbox.Faults{ErrorRate: 1, Match: firstRequests(2)})
		ps, err := f.api.ListPractitioners(ctx)
		if err != nil || len(ps) == 0 {
			t.Fatalf("got %d practitioners, %v; want them on the third attempt", len(ps), err)
		}
		if n := f.srv.Stats().Requests; n != 3 {
			t.Errorf("sandbox saw %d requests, want 3", n)
		}
	})

	t.Run("dropped connection then an answer", func(t *testing.T) {
		f := newFixture(t, sandbox.Config{})
		f.srv.SetFaults(sandbox.Faults{DropRate: 1, Match: firstRequests(1)})
		if _, err := f.api.ListAppointmentTypes(ctx); err != nil {
			t.Fatalf("got %v, want success on the retry", err)
		}
	})

	t.Run("timeout then an answer", func(t *testing.T) {
		f := newFixture(t, sandbox.Config{}, func(c *coreplus.Config) { c.Timeout = 100 * time.Millisecond })
		f.srv.SetFaults(sandbox.Faults{Latency: 5 * time.Second, Match: firstRequests(1)})
		start := time.Now()
		if _, err := f.api.ListLocations(ctx); err != nil {
			t.Fatalf("got %v, want success on the retry", err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("took %v, want the 100 ms timeout and a short backoff", d)
		}
		if n := f.srv.Stats().Requests; n != 2 {
			t.Errorf("sandbox saw %d requests, want 2", n)
		}
	})

	t.Run("503 on every attempt", func(t *testing.T) {
		f := newFixture(t, sandbox.Config{})
		f.srv.SetFaults(sandbox.Faults{ErrorRate: 1})
		_, err := f.api.ListLocations(ctx)
		var e *coreplus.Error
		if !errors.As(err, &e) || e.Kind != coreplus.ErrUnavailable || e.Status != 503 {
			t.Fatalf("got %v, want ErrUnavailable (503)", err)
		}
		if n := f.srv.Stats().Requests; n != coreplus.DefaultMaxAttempts {
			t.Errorf("sandbox saw %d requests, want %d", n, coreplus.DefaultMaxAttempts)
		}
	})
}

func TestSandboxBookingIsNeverResent(t *testing.T) {
	ctx := context.Background()
	for name, faults := range map[string]sandbox.Faults{
		"503":                 {ErrorRate: 1},
		"dropped connection":  {DropRate: 1},
		"stored then dropped": {StoreThenDropRate: 1},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, sandbox.Config{})
			sydney := f.location(t, sandbox.LocationSydneyID)
			slots, err := f.api.FindAvailability(ctx, coreplus.SlotQuery{StartDate: "2025-03-03", EndDate: "2025-03-05",
				TimezoneID: sydney.TimezoneID, PractitionerIDs: []string{sandbox.PractitionerPriyaID},
				LocationIDs: []string{sydney.ID}, AppointmentTypeID: sandbox.AppointmentTypeStandardID})
			if err != nil || len(slots) == 0 {
				t.Fatalf("availability: %d slots, %v", len(slots), err)
			}
			faults.Match = func(method, _ string) bool { return method == "POST" }
			f.srv.SetFaults(faults)
			before := f.srv.Stats().Requests
			_, err = f.api.CreateAppointment(ctx, coreplus.NewAppointment{Start: slots[0].Start, End: slots[0].End,
				PractitionerID: slots[0].PractitionerID, LocationID: slots[0].LocationID,
				AppointmentTypeID: sandbox.AppointmentTypeStandardID, ClientID: sandbox.ClientPeterNguyenID})
			var e *coreplus.Error
			if !errors.As(err, &e) || e.Kind != coreplus.ErrUnavailable || !e.Sent {
				t.Fatalf("got %v, want ErrUnavailable with Sent=true", err)
			}
			if n := f.srv.Stats().Requests - before; n != 1 {
				t.Errorf("the booking reached the sandbox %d times, want exactly once", n)
			}
		})
	}
}

// A burst of reads meets the sandbox's real 10-a-second limit with no
// client-side limiter: the 429s carry Retry-After: 1, and waiting that long
// gets every read its answer.
func TestSandbox429BurstIsRiddenOut(t *testing.T) {
	srv := sandbox.New(sandbox.Config{}) // real clock, 10 requests a second
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	api, err := coreplus.New(coreplus.Config{
		BaseURL: ts.URL + "/API/Core/v2.1/", ConsumerID: sandbox.DemoConsumerID,
		ConsumerSecret: sandbox.DemoConsumerSecret, AccessToken: sandbox.DemoAccessToken,
		Limiter: rate.NewLimiter(rate.Inf, 0),
	})
	if err != nil {
		t.Fatal(err)
	}
	// 15, not more: every refused request counts toward the sandbox's
	// window too, so a larger burst can still be refused on its last try.
	const burst = 15
	errs := make(chan error, burst)
	var wg sync.WaitGroup
	start := time.Now()
	for range burst {
		wg.Go(func() {
			_, err := api.ListPractitioners(context.Background())
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("read in the burst: %v", err)
		}
	}
	st := srv.Stats()
	if st.RateLimited == 0 {
		t.Fatal("the sandbox refused nothing: the test did not make a burst")
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("finished in %v, sooner than the Retry-After of 1 s", d)
	}
	t.Logf("%d reads, %d refused with 429 then retried, %v", burst, st.RateLimited, time.Since(start).Round(time.Millisecond))
}

func TestSandboxCircuitBreaker(t *testing.T) {
	// Longer than the longest backoff before a third attempt (400 ms), or
	// that attempt would be the half-open probe.
	const open = 500 * time.Millisecond
	f := newFixture(t, sandbox.Config{}, func(c *coreplus.Config) { c.BreakerOpen = open })
	ctx := context.Background()
	f.srv.SetFaults(sandbox.Faults{ErrorRate: 1})

	// Three attempts of the first read and two of the second make the five
	// failures in a row that open the circuit.
	for range 2 {
		if _, err := f.api.ListLocations(ctx); !errors.Is(err, coreplus.ErrUnavailable) {
			t.Fatalf("got %v, want ErrUnavailable", err)
		}
	}
	if n := f.srv.Stats().Requests; n != coreplus.DefaultBreakerFailures {
		t.Fatalf("sandbox saw %d requests before the circuit opened, want %d", n, coreplus.DefaultBreakerFailures)
	}

	// Open: answers at once, and nothing reaches coreplus, a booking included.
	for i := range 20 {
		start := time.Now()
		_, err := f.api.ListPractitioners(ctx)
		d := time.Since(start)
		var e *coreplus.Error
		if !errors.As(err, &e) || e.Kind != coreplus.ErrUnavailable || e.Reason != "coreplus is not answering; not tried" || e.Sent {
			t.Fatalf("call %d while open: %v, want a not-tried ErrUnavailable", i, err)
		}
		// What matters is that nothing reached coreplus (checked below); the
		// bound only catches a call that waited on something.
		if d > 200*time.Millisecond {
			t.Errorf("call %d while open took %v, want an answer at once", i, d)
		}
	}
	start := time.Date(2025, 3, 4, 9, 0, 0, 0, time.UTC)
	_, err := f.api.CreateAppointment(ctx, coreplus.NewAppointment{Start: start, End: start.Add(time.Hour),
		PractitionerID: sandbox.PractitionerPriyaID, LocationID: sandbox.LocationSydneyID, ClientID: sandbox.ClientPeterNguyenID})
	var e *coreplus.Error
	if !errors.As(err, &e) || e.Kind != coreplus.ErrUnavailable || e.Sent {
		t.Fatalf("booking while open: %v, want ErrUnavailable with Sent=false (safe to offer again)", err)
	}
	if n := f.srv.Stats().Requests; n != coreplus.DefaultBreakerFailures {
		t.Fatalf("sandbox saw %d requests, want none after the circuit opened", n)
	}

	// Still failing after the open period: the one probe fails, and the
	// circuit opens again without trying anything else.
	time.Sleep(open + 50*time.Millisecond)
	if _, err := f.api.ListLocations(ctx); !errors.Is(err, coreplus.ErrUnavailable) {
		t.Fatalf("probe: %v, want ErrUnavailable", err)
	}
	if n := f.srv.Stats().Requests; n != coreplus.DefaultBreakerFailures+1 {
		t.Fatalf("sandbox saw %d requests, want %d (one probe, no retry)", n, coreplus.DefaultBreakerFailures+1)
	}

	// Recovered: after the open period the probe succeeds and closes it.
	f.srv.SetFaults(sandbox.Faults{})
	time.Sleep(open + 50*time.Millisecond)
	for i := range 3 {
		if _, err := f.api.ListLocations(ctx); err != nil {
			t.Fatalf("call %d after recovery: %v", i, err)
		}
	}
	if n := f.srv.Stats().Requests; n != coreplus.DefaultBreakerFailures+4 {
		t.Errorf("sandbox saw %d requests, want %d", n, coreplus.DefaultBreakerFailures+4)
	}
}

// concurrentViews is how many reads are fired at once in the limiter test.
// The figure is 200 page views, which the web layer coalesces into
// far fewer upstream calls; 100 calls keep the same contention (every one
// queued on the limiter at once) and cover eleven consecutive windows, in
// about 11 s instead of 22.
const concurrentViews = 100

// Many concurrent reads, from two clinics' clients of one consumer sharing
// one limiter as cmd/portal shares it, against the sandbox's real limit of
// 10 requests in any second: never more than 10 in a second, never a 429.
func TestSandboxSharedLimiterKeepsUnder10PerSecond(t *testing.T) {
	calls := concurrentViews
	if testing.Short() {
		calls = 30
	}
	srv := sandbox.New(sandbox.Config{}) // real clock, 10 requests a second
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	limiter := coreplus.NewWindowLimiter(coreplus.DefaultLimit, coreplus.DefaultLimitWindow)
	var apis []*coreplus.API
	for range 2 {
		api, err := coreplus.New(coreplus.Config{
			BaseURL: ts.URL + "/API/Core/v2.1/", ConsumerID: sandbox.DemoConsumerID,
			ConsumerSecret: sandbox.DemoConsumerSecret, AccessToken: sandbox.DemoAccessToken,
			Limiter:     limiter,
			CallTimeout: time.Minute, // the last in the queue waits calls/9 seconds
			MaxAttempts: 1,           // a 429 must show as a failure, not be retried away
		})
		if err != nil {
			t.Fatal(err)
		}
		apis = append(apis, api)
	}
	start := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failed []error
	for i := range calls {
		wg.Go(func() {
			if _, err := apis[i%2].ListPractitioners(context.Background()); err != nil {
				mu.Lock()
				failed = append(failed, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	for _, err := range failed {
		t.Error(err)
	}
	st := srv.Stats()
	if st.RateLimited != 0 {
		t.Errorf("the sandbox answered %d requests with 429", st.RateLimited)
	}
	if st.MaxPerSecond > 10 {
		t.Errorf("the sandbox saw %d requests in one second, want at most 10", st.MaxPerSecond)
	}
	if st.Requests != calls {
		t.Errorf("the sandbox saw %d requests, want %d", st.Requests, calls)
	}
	t.Logf("%d concurrent reads in %v, at most %d in any second", calls, elapsed.Round(time.Millisecond), st.MaxPerSecond)
}

// refuseFirstPOST answers the first POST with coreplus's 429 and Retry-After:
// 1 without passing it on, then lets everything through to the sandbox,
// which checks every token. It moves the clock a second on, as the wait
// does, and keeps each POST's Authorization header.
type refuseFirstPOST struct {
	mu    sync.Mutex
	auths []string
}

func (f *refuseFirstPOST) front(c *clock, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			f.mu.Lock()
			f.auths = append(f.auths, r.Header.Get("Authorization"))
			first := len(f.auths) == 1
			f.mu.Unlock()
			if first {
				c.Advance(time.Second)
				w.Header().Set("Retry-After", "1")
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusTooManyRequests)
				io.WriteString(w, `{"result":[{"severity":2,"reason":"Too many requests"}]}`)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// A booking or a new client refused with 429 is sent again after
// Retry-After, with a new token the sandbox accepts, and made exactly once.
func TestSandboxWriteRetriedAfter429(t *testing.T) {
	ctx := context.Background()
	check := func(t *testing.T, f *refuseFirstPOST, start time.Time) {
		t.Helper()
		if d := time.Since(start); d < time.Second {
			t.Errorf("sent again after %v, before the Retry-After of 1 s", d)
		}
		f.mu.Lock()
		auths := f.auths
		f.mu.Unlock()
		if len(auths) != 2 {
			t.Fatalf("%d POSTs reached coreplus, want 2 (a 429, then the retry)", len(auths))
		}
		if auths[0] == auths[1] {
			t.Error("the retry carried the refused attempt's token")
		}
	}

	t.Run("book", func(t *testing.T) {
		t.Parallel()
		refuse := &refuseFirstPOST{}
		f := newFixtureBehind(t, sandbox.Config{}, refuse.front)
		sydney := f.location(t, sandbox.LocationSydneyID)
		slots, err := f.api.FindAvailability(ctx, coreplus.SlotQuery{StartDate: "2025-03-03", EndDate: "2025-03-05",
			TimezoneID: sydney.TimezoneID, PractitionerIDs: []string{sandbox.PractitionerPriyaID},
			LocationIDs: []string{sydney.ID}, AppointmentTypeID: sandbox.AppointmentTypeStandardID})
		if err != nil || len(slots) == 0 {
			t.Fatalf("availability: %d slots, %v", len(slots), err)
		}
		before := len(f.srv.Appointments())
		start := time.Now()
		appt, err := f.api.CreateAppointment(ctx, coreplus.NewAppointment{Start: slots[0].Start, End: slots[0].End,
			PractitionerID: slots[0].PractitionerID, LocationID: slots[0].LocationID,
			AppointmentTypeID: sandbox.AppointmentTypeStandardID, ClientID: sandbox.ClientPeterNguyenID})
		if err != nil || appt.ID == "" {
			t.Fatalf("got %+v, %v; want the booking after one 429", appt, err)
		}
		check(t, refuse, start)
		if n := len(f.srv.Appointments()) - before; n != 1 {
			t.Errorf("the sandbox holds %d new appointments, want exactly 1", n)
		}
	})

	t.Run("new client", func(t *testing.T) {
		t.Parallel()
		refuse := &refuseFirstPOST{}
		f := newFixtureBehind(t, sandbox.Config{}, refuse.front)
		before := len(f.srv.Clients())
		start := time.Now()
		id, err := f.api.CreateClient(ctx, coreplus.NewClient{FirstName: "Joanna", LastName: "Varga",
			DateOfBirth: coreplus.Date{Year: 1988, Month: time.November, Day: 20}})
		if err != nil || id == "" {
			t.Fatalf("got %q, %v; want the new client after one 429", id, err)
		}
		check(t, refuse, start)
		if n := len(f.srv.Clients()) - before; n != 1 {
			t.Errorf("the sandbox holds %d new clients, want exactly 1", n)
		}
	})
}
