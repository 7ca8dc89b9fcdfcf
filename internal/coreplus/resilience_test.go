package coreplus

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// script answers the n-th request (from 1) with step(n, w, r) and keeps
// what it saw.
type script struct {
	mu   sync.Mutex
	seen []seen
	step func(n int, w http.ResponseWriter, r *http.Request)
}

func (s *script) handle(w http.ResponseWriter, r *http.Request) {
	rec := record(r)
	s.mu.Lock()
	s.seen = append(s.seen, rec)
	n := len(s.seen)
	s.mu.Unlock()
	s.step(n, w, r)
}

func (s *script) count() int { s.mu.Lock(); defer s.mu.Unlock(); return len(s.seen) }

const locationsJSON = `{"locations":[{"locationId":"L1","name":"Northside"}],"paging":{"totalRows":1,"pageNumber":1,"pageSize":100}}`

// tickingClock moves a second on every reading, so tokens minted for two
// attempts differ as they would a second apart.
func tickingClock() func() time.Time {
	var mu sync.Mutex
	t := time.Unix(1741046400, 0)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Second)
		return t
	}
}

func TestReadRetriedAfter503(t *testing.T) {
	s := &script{step: func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			http.Error(w, "Service Unavailable", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, locationsJSON)
	}}
	type requestKey struct{}
	var infos []CallInfo
	var requests []any // the request each attempt was told to OnCall for
	api, _ := newTestAPI(t, s.handle, func(c *Config) {
		c.Now = tickingClock()
		c.OnCall = func(ctx context.Context, i CallInfo) {
			infos = append(infos, i)
			requests = append(requests, ctx.Value(requestKey{}))
		}
	})
	locs, err := api.ListLocations(context.WithValue(context.Background(), requestKey{}, "request-1"))
	if err != nil || len(locs) != 1 {
		t.Fatalf("got %v, %v; want one location after a retry", locs, err)
	}
	if s.count() != 2 {
		t.Fatalf("server saw %d requests, want 2", s.count())
	}
	if s.seen[0].auth == s.seen[1].auth {
		t.Error("the retry reused the first attempt's token")
	}
	if len(infos) != 2 {
		t.Fatalf("OnCall told of %d attempts, want 2: %+v", len(infos), infos)
	}
	if requests[0] != "request-1" || requests[1] != "request-1" {
		t.Errorf("OnCall was given contexts of %v, want the caller's for both attempts", requests)
	}
	first, second := infos[0], infos[1]
	if first.Op != "GET /Location/" || first.Attempt != 1 || first.Status != 503 || first.Err != ErrUnavailable || !first.Retry {
		t.Errorf("first attempt %+v", first)
	}
	if second.Attempt != 2 || second.Status != 200 || second.Err != nil || second.Retry || second.Duration <= 0 {
		t.Errorf("second attempt %+v", second)
	}
}

func TestReadGivesUpAfterMaxAttempts(t *testing.T) {
	for _, tt := range []struct{ max, want int }{{0, DefaultMaxAttempts}, {1, 1}, {2, 2}} {
		s := &script{step: func(n int, w http.ResponseWriter, r *http.Request) {
			http.Error(w, "Service Unavailable", http.StatusServiceUnavailable)
		}}
		api, _ := newTestAPI(t, s.handle, func(c *Config) { c.MaxAttempts = tt.max })
		_, err := api.ListPractitioners(context.Background())
		var e *Error
		if !errors.As(err, &e) || e.Kind != ErrUnavailable || e.Status != 503 {
			t.Errorf("MaxAttempts %d: got %v, want ErrUnavailable (503)", tt.max, err)
		}
		if s.count() != tt.want {
			t.Errorf("MaxAttempts %d: server saw %d requests, want %d", tt.max, s.count(), tt.want)
		}
	}
}

func TestReadThatTimesOutIsRetried(t *testing.T) {
	s := &script{step: func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			<-r.Context().Done() // never answers; the client gives up
			return
		}
		io.WriteString(w, locationsJSON)
	}}
	api, _ := newTestAPI(t, s.handle, func(c *Config) { c.Timeout = 100 * time.Millisecond })
	start := time.Now()
	if _, err := api.ListLocations(context.Background()); err != nil {
		t.Fatalf("got %v, want success on the second attempt", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %v; the first attempt should have ended at its 100 ms timeout", d)
	}
	if s.count() != 2 {
		t.Errorf("server saw %d requests, want 2", s.count())
	}
}

func TestCallTimeoutBoundsEveryAttempt(t *testing.T) {
	s := &script{step: func(n int, w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }}
	api, _ := newTestAPI(t, s.handle, func(c *Config) {
		c.Timeout = 150 * time.Millisecond
		c.CallTimeout = 250 * time.Millisecond
		c.MaxAttempts = 10
	})
	start := time.Now()
	_, err := api.ListLocations(context.Background())
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want ErrUnavailable after the deadline", err)
	}
	if d := time.Since(start); d > 1500*time.Millisecond {
		t.Errorf("took %v, want about the 250 ms call timeout", d)
	}
	if n := s.count(); n < 1 || n > 2 {
		t.Errorf("server saw %d requests, want 1 or 2 within the call's time", n)
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	s := &script{step: func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"result":[{"severity":2,"reason":"Too many requests"}]}`)
			return
		}
		io.WriteString(w, locationsJSON)
	}}
	api, _ := newTestAPI(t, s.handle)
	start := time.Now()
	if _, err := api.ListLocations(context.Background()); err != nil {
		t.Fatalf("got %v, want success after waiting", err)
	}
	d := time.Since(start)
	if d < time.Second || d > 5*time.Second {
		t.Errorf("retried after %v, want about the 1 s coreplus asked for", d)
	}
	if s.count() != 2 {
		t.Errorf("server saw %d requests, want 2", s.count())
	}
}

// A wait that cannot end before the deadline is not started: the caller
// gets coreplus's answer, with its RetryAfter, at once.
func TestRetryAfterPastTheDeadlineIsNotWaited(t *testing.T) {
	s := &script{step: func(n int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "60")
		w.WriteHeader(http.StatusTooManyRequests)
	}}
	api, _ := newTestAPI(t, s.handle)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	_, err := api.ListLocations(ctx)
	var e *Error
	if !errors.As(err, &e) || e.Kind != ErrRateLimited || e.RetryAfter != time.Minute {
		t.Fatalf("got %v, want ErrRateLimited with RetryAfter 1m", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v, want an answer at once, not after Retry-After's minute", d)
	}
	if s.count() != 1 {
		t.Errorf("server saw %d requests, want 1", s.count())
	}
}

// Writes are not resent after a failure that may have stored them: a
// booking coreplus stored before failing would be made twice. (After a 429
// they are: TestWriteRetriedAfter429.)
func TestWritesAreNotRetried(t *testing.T) {
	start := time.Date(2025, 3, 4, 9, 0, 0, 0, brisbane)
	book := func(a *API) error {
		_, err := a.CreateAppointment(context.Background(), NewAppointment{Start: start, End: start.Add(time.Hour),
			PractitionerID: "P1", LocationID: "L1", ClientID: "C1"})
		return err
	}
	newClient := func(a *API) error {
		_, err := a.CreateClient(context.Background(), NewClient{FirstName: "Jo", LastName: "Varga",
			DateOfBirth: Date{1988, time.November, 20}})
		return err
	}
	cancelAppt := func(a *API) error { return a.CancelAppointment(context.Background(), "A1") }
	answers := map[string]func(w http.ResponseWriter, r *http.Request){
		"503": func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "Service Unavailable", http.StatusServiceUnavailable)
		},
		"dropped connection": func(w http.ResponseWriter, r *http.Request) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err != nil {
				panic(err)
			}
			conn.Close()
		},
		"timeout": func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done() // never answers; the attempt times out
		},
	}
	for name, answer := range answers {
		for op, run := range map[string]func(*API) error{"book": book, "new client": newClient, "cancel": cancelAppt} {
			t.Run(name+"/"+op, func(t *testing.T) {
				s := &script{step: func(n int, w http.ResponseWriter, r *http.Request) { answer(w, r) }}
				api, _ := newTestAPI(t, s.handle, func(c *Config) {
					c.MaxAttempts = 5
					c.Timeout = 300 * time.Millisecond
				})
				err := run(api)
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("got %v, want an *Error", err)
				}
				if s.count() != 1 {
					t.Errorf("server saw %d requests, want exactly 1", s.count())
				}
				if e.Kind != ErrUnavailable || !e.Sent {
					t.Errorf("got %v (Sent %v), want ErrUnavailable with Sent=true", err, e.Sent)
				}
			})
		}
	}
}

func TestAnswersAreNotRetriedAndDoNotTripTheBreaker(t *testing.T) {
	for _, status := range []int{400, 401, 403, 404} {
		s := &script{step: func(n int, w http.ResponseWriter, r *http.Request) { w.WriteHeader(status) }}
		var ops []string
		api, _ := newTestAPI(t, s.handle, func(c *Config) {
			c.BreakerFailures = 2
			c.Limiter = unlimited{}
			c.OnCall = func(_ context.Context, i CallInfo) { ops = append(ops, i.Op) }
		})
		for range 6 {
			if _, err := api.GetClient(context.Background(), "C1"); err == nil {
				t.Fatalf("HTTP %d: no error", status)
			}
		}
		if s.count() != 6 {
			t.Errorf("HTTP %d: server saw %d requests, want 6 (no retries, circuit closed)", status, s.count())
		}
		if len(ops) != 6 || ops[0] != "GET /Client/{id}" {
			t.Errorf("OnCall ops %q, want six of GET /Client/{id} (no record id in logs)", ops)
		}
	}
}

// A caller that gives up says nothing about coreplus: many impatient
// patients must not open the circuit on a healthy server.
func TestCallerDeadlineDoesNotTripTheBreaker(t *testing.T) {
	s := &script{step: func(n int, w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(300 * time.Millisecond):
			io.WriteString(w, locationsJSON)
		}
	}}
	api, _ := newTestAPI(t, s.handle, func(c *Config) {
		c.BreakerFailures = 2
		c.Limiter = unlimited{}
	})
	for range 4 {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
		_, err := api.ListLocations(ctx)
		cancel()
		if !errors.Is(err, ErrUnavailable) {
			t.Fatalf("got %v, want ErrUnavailable at the caller's deadline", err)
		}
	}
	// Four cut-short calls with a threshold of two: an open breaker would
	// refuse this one unsent. (How many of the four reached the server
	// depends on scheduling, so only this call is counted.)
	before := s.count()
	if _, err := api.ListLocations(context.Background()); err != nil {
		t.Fatalf("a patient with time to wait: %v", err)
	}
	if got := s.count() - before; got != 1 {
		t.Errorf("the patient's call reached the server %d times, want 1", got)
	}
}

type unlimited struct{}

func (unlimited) Wait(context.Context) error { return nil }

func TestWindowLimiter(t *testing.T) {
	const n, per = 3, 500 * time.Millisecond
	l := NewWindowLimiter(n, per)
	var mu sync.Mutex
	var starts []time.Duration
	begin := time.Now()
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			if err := l.Wait(context.Background()); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			starts = append(starts, time.Since(begin))
			mu.Unlock()
		})
	}
	wg.Wait()
	sort.Slice(starts, func(i, j int) bool { return starts[i] < starts[j] })
	if starts[n-1] > 300*time.Millisecond {
		t.Errorf("the first %d starts took until %v; a burst up to the limit should not wait", n, starts[n-1])
	}
	// Starts are read when each goroutine wakes, a little after the time
	// the limiter gave it; DefaultLimitWindow's margin exists for that.
	const slack = 100 * time.Millisecond // generous: -race on two busy cores wakes goroutines late
	for i := n; i < len(starts); i++ {
		if d := starts[i] - starts[i-n]; d < per-slack {
			t.Errorf("starts %d and %d are %v apart: %d requests in one %v window", i-n, i, d, n+1, per)
		}
	}

	// The next start is an hour away: a shorter deadline fails now.
	l = NewWindowLimiter(1, time.Hour)
	if err := l.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	t0 := time.Now()
	if err := l.Wait(ctx); err == nil {
		t.Error("Wait succeeded past the deadline")
	}
	if d := time.Since(t0); d > 200*time.Millisecond {
		t.Errorf("refusal took %v, want at once", d)
	}
	cancelled, stop := context.WithCancel(context.Background())
	stop()
	if err := l.Wait(cancelled); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
}

// writeCalls are the client's writes, each run against a fake coreplus
// that answers any POST with a minimal success.
var writeCalls = map[string]func(context.Context, *API) error{
	"book": func(ctx context.Context, a *API) error {
		start := time.Date(2025, 3, 4, 9, 0, 0, 0, brisbane)
		_, err := a.CreateAppointment(ctx, NewAppointment{Start: start, End: start.Add(time.Hour),
			PractitionerID: "P1", LocationID: "L1", ClientID: "C1"})
		return err
	},
	"new client": func(ctx context.Context, a *API) error {
		_, err := a.CreateClient(ctx, NewClient{FirstName: "Jo", LastName: "Varga",
			DateOfBirth: Date{1988, time.November, 20}})
		return err
	},
	"cancel": func(ctx context.Context, a *API) error { return a.CancelAppointment(ctx, "A1") },
}

const writeAnswer = `{"client":{"clientId":"C1"},"appointment":{"appointmentId":"A1","startDateTime":"2025-03-04T09:00:00 +10:00","endDateTime":"2025-03-04T10:00:00 +10:00"}}`

// A 429 means coreplus did nothing, so a write is sent again after
// Retry-After, through the limiter again and with a token of its own.
func TestWriteRetriedAfter429(t *testing.T) {
	for name, run := range writeCalls {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := &script{step: func(n int, w http.ResponseWriter, r *http.Request) {
				if n == 1 {
					w.Header().Set("Retry-After", "1")
					w.WriteHeader(http.StatusTooManyRequests)
					io.WriteString(w, `{"result":[{"severity":2,"reason":"Too many requests"}]}`)
					return
				}
				io.WriteString(w, writeAnswer)
			}}
			lim := &countingLimiter{}
			var mu sync.Mutex
			var infos []CallInfo
			api, _ := newTestAPI(t, s.handle, func(c *Config) {
				c.Now = tickingClock()
				c.Limiter = lim
				c.OnCall = func(_ context.Context, i CallInfo) { mu.Lock(); infos = append(infos, i); mu.Unlock() }
			})
			start := time.Now()
			if err := run(context.Background(), api); err != nil {
				t.Fatalf("got %v, want success on the second attempt", err)
			}
			if d := time.Since(start); d < time.Second || d > 5*time.Second {
				t.Errorf("took %v, want about the 1 s Retry-After", d)
			}
			if s.count() != 2 {
				t.Fatalf("server saw %d requests, want 2", s.count())
			}
			if s.seen[0].method != http.MethodPost || s.seen[1].body != s.seen[0].body {
				t.Errorf("the retry was not the same POST: %+v", s.seen)
			}
			if s.seen[0].auth == s.seen[1].auth {
				t.Error("the retry reused the first attempt's token")
			}
			if n := lim.n.Load(); n != 2 {
				t.Errorf("the limiter admitted %d attempts, want 2", n)
			}
			if len(infos) != 2 || infos[0].Status != 429 || infos[0].Err != ErrRateLimited || !infos[0].Retry ||
				infos[1].Attempt != 2 || infos[1].Err != nil {
				t.Errorf("OnCall was told %+v, want a 429 to be retried, then a success", infos)
			}
		})
	}
}

// A 429 whose Retry-After does not fit the caller's deadline, or is past
// the cap, is not waited out: the caller gets ErrRateLimited at once.
func TestWrite429NotWaitedPastDeadlineOrCap(t *testing.T) {
	for _, tt := range []struct {
		name       string
		retryAfter func() string
		deadline   time.Duration // 0: none but the CallTimeout
		want       time.Duration
	}{
		{"seconds past the deadline", func() string { return "5" }, 3 * time.Second, 5 * time.Second},
		{"date past the deadline", func() string { return time.Now().Add(8 * time.Second).UTC().Format(http.TimeFormat) },
			3 * time.Second, 8 * time.Second},
		{"past the cap", func() string { return "25" }, 0, 25 * time.Second},
	} {
		for op, run := range writeCalls {
			t.Run(tt.name+"/"+op, func(t *testing.T) {
				t.Parallel()
				s := &script{step: func(n int, w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Retry-After", tt.retryAfter())
					w.WriteHeader(http.StatusTooManyRequests)
				}}
				api, _ := newTestAPI(t, s.handle, func(c *Config) { c.CallTimeout = time.Minute })
				ctx := context.Background()
				if tt.deadline > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, tt.deadline)
					defer cancel()
				}
				start := time.Now()
				err := run(ctx, api)
				var e *Error
				if !errors.As(err, &e) || e.Kind != ErrRateLimited || e.Status != 429 || e.Sent {
					t.Fatalf("got %v, want ErrRateLimited (429) with Sent=false", err)
				}
				if e.RetryAfter < tt.want-2*time.Second || e.RetryAfter > tt.want {
					t.Errorf("RetryAfter %v, want about %v", e.RetryAfter, tt.want)
				}
				if d := time.Since(start); d > 2*time.Second {
					t.Errorf("took %v, want an answer at once", d)
				}
				if s.count() != 1 {
					t.Errorf("server saw %d requests, want 1", s.count())
				}
			})
		}
	}
}

// TestWindowLimiterLetsTheUrgentGoFirst: when requests queue for the
// budget, a booking's go first, then pages patients wait on, then
// background work, each in the order they asked; and the window holds.
func TestWindowLimiterLetsTheUrgentGoFirst(t *testing.T) {
	const per = 40 * time.Millisecond
	l := NewWindowLimiter(1, per)
	if err := l.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	queued := func() int {
		l.mu.Lock()
		defer l.mu.Unlock()
		n := 0
		for _, q := range l.queue {
			n += len(q)
		}
		return n
	}
	type grant struct {
		name string
		at   time.Time
	}
	grants := make(chan grant, 16)
	var wg sync.WaitGroup
	ask := func(name string, p Priority) {
		before := queued()
		wg.Go(func() {
			if err := l.Wait(WithPriority(context.Background(), p)); err != nil {
				t.Error(err)
				return
			}
			grants <- grant{name, time.Now()}
		})
		for queued() == before { // in the queue before the next asks
			time.Sleep(time.Millisecond)
		}
	}
	ask("b1", PriorityBackground)
	ask("b2", PriorityBackground)
	ask("i1", PriorityInteractive)
	ask("i2", PriorityInteractive)
	ask("u1", PriorityUrgent)
	wg.Wait()
	close(grants)
	var order []string
	var last time.Time
	for g := range grants {
		order = append(order, g.name)
		if !last.IsZero() && g.at.Sub(last) < per-10*time.Millisecond {
			t.Errorf("%s started %v after the one before: more than one in a %v window", g.name, g.at.Sub(last), per)
		}
		last = g.at
	}
	if got := strings.Join(order, " "); got != "u1 i1 i2 b1 b2" {
		t.Errorf("started in the order %s; want u1 i1 i2 b1 b2", got)
	}

	// A deadline that the queue ahead already outlasts is refused at once.
	l = NewWindowLimiter(1, time.Hour)
	_ = l.Wait(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := l.Wait(WithPriority(ctx, PriorityUrgent)); err == nil {
		t.Error("an urgent request waited past its deadline")
	}
}

// TestWindowLimiterCountsFromTheWire: a request that reaches the wire
// later than it was let start (a busy machine) moves its start on, and the
// requests after it keep the window from there, so they cannot reach
// coreplus in one bunch with it.
func TestWindowLimiterCountsFromTheWire(t *testing.T) {
	const per = 100 * time.Millisecond
	l := NewWindowLimiter(1, per)
	sent, err := l.WaitStart(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	wire := time.Now().Add(300 * time.Millisecond) // sent late
	sent(wire)
	if err := l.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if early := time.Until(wire.Add(per)); early > 5*time.Millisecond {
		t.Errorf("the next request started %v before a window had passed since the last reached the wire", early)
	}
}
