package metrics

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/internal/coreplus"
)

func TestUpstreamStatusSaysWhyThereIsNone(t *testing.T) {
	for _, tc := range []struct {
		info coreplus.CallInfo
		want string
	}{
		{coreplus.CallInfo{Status: 200, Duration: time.Millisecond}, "200"},
		{coreplus.CallInfo{Status: 429, Err: coreplus.ErrRateLimited, Duration: time.Millisecond}, "429"},
		{coreplus.CallInfo{Err: coreplus.ErrUnavailable, NotTried: true}, "not_tried"},
		{coreplus.CallInfo{Err: coreplus.ErrRateLimited}, "budget_spent"},
		{coreplus.CallInfo{Err: coreplus.ErrUnavailable, Wait: time.Second}, "not_sent"},
		{coreplus.CallInfo{Err: coreplus.ErrUnavailable, Duration: 5 * time.Second}, "no_answer"},
	} {
		if got := upstreamStatus(tc.info); got != tc.want {
			t.Errorf("upstreamStatus(%+v) = %q, want %q", tc.info, got, tc.want)
		}
	}
}

func TestObserveUpstream(t *testing.T) {
	m := New(nil)
	m.ObserveUpstream(coreplus.CallInfo{Op: "GET /Location/", Status: 200, Wait: 300 * time.Millisecond, Duration: 40 * time.Millisecond})
	m.ObserveUpstream(coreplus.CallInfo{Op: "GET /Location/", Err: coreplus.ErrUnavailable, NotTried: true})
	if got := testutil.ToFloat64(m.upstream.WithLabelValues("GET /Location/", "200")); got != 1 {
		t.Errorf("200s: %v", got)
	}
	if got := testutil.ToFloat64(m.upstream.WithLabelValues("GET /Location/", "not_tried")); got != 1 {
		t.Errorf("not tried: %v", got)
	}
	// The breaker's refusal never reached the limiter: one wait, one duration.
	if n := testutil.CollectAndCount(m.limiterWait); n != 1 {
		t.Errorf("%d limiter wait series", n)
	}
	want := `
# HELP portal_upstream_limiter_wait_seconds Time an attempt at a coreplus request waited for the upstream budget (10 requests a second per consumer, shared), by operation.
# TYPE portal_upstream_limiter_wait_seconds histogram
portal_upstream_limiter_wait_seconds_bucket{op="GET /Location/",le="0.001"} 0
portal_upstream_limiter_wait_seconds_bucket{op="GET /Location/",le="0.01"} 0
portal_upstream_limiter_wait_seconds_bucket{op="GET /Location/",le="0.05"} 0
portal_upstream_limiter_wait_seconds_bucket{op="GET /Location/",le="0.1"} 0
portal_upstream_limiter_wait_seconds_bucket{op="GET /Location/",le="0.25"} 0
portal_upstream_limiter_wait_seconds_bucket{op="GET /Location/",le="0.5"} 1
portal_upstream_limiter_wait_seconds_bucket{op="GET /Location/",le="1"} 1
portal_upstream_limiter_wait_seconds_bucket{op="GET /Location/",le="2"} 1
portal_upstream_limiter_wait_seconds_bucket{op="GET /Location/",le="5"} 1
portal_upstream_limiter_wait_seconds_bucket{op="GET /Location/",le="10"} 1
portal_upstream_limiter_wait_seconds_bucket{op="GET /Location/",le="30"} 1
portal_upstream_limiter_wait_seconds_bucket{op="GET /Location/",le="+Inf"} 1
portal_upstream_limiter_wait_seconds_sum{op="GET /Location/"} 0.3
portal_upstream_limiter_wait_seconds_count{op="GET /Location/"} 1
`
	if err := testutil.CollectAndCompare(m.limiterWait, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

func TestPageLabelsAreBounded(t *testing.T) {
	m := New(nil)
	m.ObservePage("/:clinic/book", "GET", 200, time.Millisecond)
	m.ObservePage("/:clinic/book", "BREW", 405, time.Millisecond)
	m.ObservePage("unmatched", "GET", 0, time.Millisecond)
	fams, err := m.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range fams {
		if f.GetName() != "portal_http_request_duration_seconds" {
			continue
		}
		for _, s := range f.GetMetric() {
			var labels []string
			for _, l := range s.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			got = append(got, strings.Join(labels, ","))
		}
	}
	want := []string{
		"method=GET,route=/:clinic/book,status_class=2xx",
		"method=GET,route=unmatched,status_class=other",
		"method=other,route=/:clinic/book,status_class=4xx", // any word may come as a method
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("series %q, want %q", got, want)
	}
}

// A nil *Metrics is what a portal without METRICS_ADDR holds: every hook
// does nothing.
func TestNilMetricsDoNothing(t *testing.T) {
	var m *Metrics
	m.ObservePage("/", "GET", 200, time.Second)
	m.ObserveUpstream(coreplus.CallInfo{Op: "GET /Location/"})
	m.CacheRead(booking.ReferenceCache, booking.CacheHit, time.Second)
	m.Submitted(booking.SubmitBooked)
	m.Swept(booking.SweepResult{Booked: 1})
}

func TestSweepsAndBookings(t *testing.T) {
	m := New(nil)
	m.Submitted(booking.SubmitBooked)
	m.Submitted(booking.SubmitUnknown)
	m.Swept(booking.SweepResult{Booked: 1, Resent: 2, Deferred: 3})
	m.Swept(booking.SweepResult{Failed: 1})
	m.CacheRead(booking.AvailabilityCache, booking.CacheStale, 90*time.Second)
	for _, tc := range []struct {
		got, want float64
		what      string
	}{
		{testutil.ToFloat64(m.bookings.WithLabelValues("booked")), 1, "booked"},
		{testutil.ToFloat64(m.bookings.WithLabelValues("unknown")), 1, "unknown"},
		{testutil.ToFloat64(m.bookings.WithLabelValues("slot_taken")), 0, "slot taken"},
		{testutil.ToFloat64(m.settled.WithLabelValues("booked")), 1, "settled booked"},
		{testutil.ToFloat64(m.settled.WithLabelValues("failed")), 1, "settled failed"},
		{testutil.ToFloat64(m.sweeper.WithLabelValues("resent")), 2, "resent"},
		{testutil.ToFloat64(m.sweeps), 2, "sweeps"},
		{testutil.ToFloat64(m.deferred), 0, "deferred by the last sweep"},
		{testutil.ToFloat64(m.cache.WithLabelValues("availability", "stale")), 1, "stale reads"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: %v, want %v", tc.what, tc.got, tc.want)
		}
	}
}

// The unsettled bookings are read from the database on each scrape; when
// it fails, the other metrics are still served.
func TestUnsettledOnEachScrape(t *testing.T) {
	var fail error
	oldest := time.Now().Add(-20 * time.Minute)
	m := New(func(context.Context) ([]Unsettled, error) {
		return []Unsettled{{Status: "pending"}, {Status: "unknown", Count: 2, Oldest: oldest}}, fail
	})
	scrape := func() (int, string) {
		rr := httptest.NewRecorder()
		m.Handler(slog.New(slog.NewTextHandler(io.Discard, nil))).ServeHTTP(rr, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		return rr.Code, rr.Body.String()
	}
	code, body := scrape()
	if code != http.StatusOK || !strings.Contains(body, `portal_unsettled_bookings{status="unknown"} 2`) ||
		!strings.Contains(body, `portal_unsettled_bookings{status="pending"} 0`) ||
		!strings.Contains(body, `portal_unsettled_booking_oldest_age_seconds{status="unknown"} 1200`) ||
		!strings.Contains(body, `portal_unsettled_booking_oldest_age_seconds{status="pending"} 0`) {
		t.Errorf("scrape: %d\n%s", code, grepLines(body, "portal_unsettled"))
	}

	fail = errors.New("database is down")
	code, body = scrape()
	if code != http.StatusOK || strings.Contains(body, "portal_unsettled_bookings{") || !strings.Contains(body, "portal_bookings_total") || !strings.Contains(body, "go_goroutines") {
		t.Errorf("scrape with the database down: %d\n%s", code, body)
	}
}

func grepLines(text, prefix string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
