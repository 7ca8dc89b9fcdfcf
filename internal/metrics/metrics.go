// Package metrics keeps the portal's Prometheus metrics: their registry (not
// the client library's global one), the collectors, and the hooks the other
// packages call. The web layer, the coreplus client's OnCall and the booking
// rules each tell it what happened through a small interface of their own;
// only this package imports the Prometheus client.
//
// No label value comes from a request: routes are Echo's route templates,
// upstream operations coreplus.CallInfo.Op (no query, no record id), and
// the rest are fixed lists. So the series are bounded, and none holds an
// id, a draft token or a patient's detail.
package metrics

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/internal/coreplus"
)

// Buckets. Pages: a patient notices past a second and gives up within
// ten; the limiter may hold a page for its ~2 s budget. Cache ages: the
// availability ttl is 45 s, the reference ttl 5 min, stale reference data
// is served for up to an hour.
var (
	latencyBuckets  = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30}
	waitBuckets     = []float64{0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30}
	cacheAgeBuckets = []float64{1, 5, 15, 30, 45, 60, 120, 300, 600, 1800, 3600}
)

// Metrics holds the portal's collectors. Its methods are safe for
// concurrent use, and on a nil *Metrics they do nothing, so that a portal
// without METRICS_ADDR passes nil and pays nothing.
type Metrics struct {
	reg *prometheus.Registry

	pages            *prometheus.HistogramVec
	upstream         *prometheus.CounterVec
	upstreamDuration *prometheus.HistogramVec
	limiterWait      *prometheus.HistogramVec
	cache            *prometheus.CounterVec
	cacheAge         *prometheus.HistogramVec
	bookings         *prometheus.CounterVec
	settled          *prometheus.CounterVec
	sweeper          *prometheus.CounterVec
	sweeps           prometheus.Counter
	deferred         prometheus.Gauge
}

// Unsettled is how many bookings wait in one unsettled status (pending or
// unknown), and when the oldest of them was made.
type Unsettled struct {
	Status string
	Count  int64
	Oldest time.Time
}

// New registers the portal's collectors, the Go runtime's and the
// process's. unsettled, when not nil, is asked on each scrape how many
// bookings are unsettled; it should be one cheap query.
func New(unsettled func(context.Context) ([]Unsettled, error)) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.pages = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "portal_http_request_duration_seconds",
		Help:    "Time to answer a request to the portal, by Echo route template (\"unmatched\" when no route matched), method and status class.",
		Buckets: latencyBuckets,
	}, []string{"route", "method", "status_class"})
	m.upstream = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "portal_upstream_requests_total",
		Help: "Attempts at coreplus requests (pages and retries each count), by operation and HTTP status; status is \"not_tried\" when the circuit breaker refused it, \"budget_spent\" when the portal's limiter did, \"not_sent\" when the caller gave up waiting to send it, \"no_answer\" when it went out and no answer came.",
	}, []string{"op", "status"})
	m.upstreamDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "portal_upstream_request_duration_seconds",
		Help:    "Time from sending a coreplus request to the last byte of its answer, by operation; the wait for the upstream budget is not part of it.",
		Buckets: latencyBuckets,
	}, []string{"op"})
	m.limiterWait = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "portal_upstream_limiter_wait_seconds",
		Help:    "Time an attempt at a coreplus request waited for the upstream budget (10 requests a second per consumer, shared), by operation.",
		Buckets: waitBuckets,
	}, []string{"op"})
	m.cache = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "portal_cache_requests_total",
		Help: "Reads of the booking rules' caches (reference data, free times), by how they were answered: hit (fresh), miss (loaded from coreplus), stale (past its time to live: served at once while one background reload refreshes it, or because coreplus failed or was too slow to reload it).",
	}, []string{"cache", "result"})
	m.cacheAge = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "portal_cache_served_age_seconds",
		Help:    "Age of the values the caches answered with (hits and stale reads), by cache.",
		Buckets: cacheAgeBuckets,
	}, []string{"cache"})
	m.bookings = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "portal_bookings_total",
		Help: "Patients' confirms that tried to book, by outcome: booked, slot_taken, unknown (sent, no answer: left to the sweeper), failed (nothing booked), not_sent (stopped before sending).",
	}, []string{"outcome"})
	m.settled = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "portal_bookings_settled_total",
		Help: "Bookings with an unknown outcome that the sweeper settled, by outcome.",
	}, []string{"outcome"})
	m.sweeper = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "portal_sweeper_actions_total",
		Help: "What the sweeper did besides settling: resent (an unknown booking sent a second time), released (a lost submit's slot), reopened (a lost submit's draft).",
	}, []string{"action"})
	m.sweeps = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "portal_sweeps_total",
		Help: "Sweeps for unsettled bookings run by this process.",
	})
	m.deferred = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "portal_sweep_deferred_bookings",
		Help: "Unsettled bookings the last sweep left to the next, its share of the upstream budget spent.",
	})

	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.pages, m.upstream, m.upstreamDuration, m.limiterWait, m.cache, m.cacheAge,
		m.bookings, m.settled, m.sweeper, m.sweeps, m.deferred,
	)
	if unsettled != nil {
		m.reg.MustRegister(newUnsettledCollector(unsettled))
	}

	// Every fixed series starts at zero, so that a rate or an alert has
	// something to read before the first event.
	for _, c := range []string{booking.ReferenceCache, booking.AvailabilityCache} {
		for _, r := range []booking.CacheResult{booking.CacheHit, booking.CacheMiss, booking.CacheStale} {
			m.cache.WithLabelValues(c, string(r))
		}
	}
	for _, o := range booking.SubmitOutcomes() {
		m.bookings.WithLabelValues(string(o))
	}
	for _, o := range []string{"booked", "failed"} {
		m.settled.WithLabelValues(o)
	}
	for _, a := range []string{"resent", "released", "reopened"} {
		m.sweeper.WithLabelValues(a)
	}
	return m
}

// Gatherer is the registry, for tests and for a handler of one's own.
func (m *Metrics) Gatherer() prometheus.Gatherer { return m.reg }

// Handler serves the metrics in Prometheus' text format (or whatever
// format the scraper negotiates). A collector that fails (the database
// does not answer) is logged and left out; the rest are still served.
func (m *Metrics) Handler(log *slog.Logger) http.Handler {
	return promhttp.InstrumentMetricHandler(m.reg, promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      m.reg,
		Timeout:       10 * time.Second,
	}))
}

// ObservePage records one request to the portal: route is the Echo route
// template, never the URL.
func (m *Metrics) ObservePage(route, method string, status int, took time.Duration) {
	if m == nil {
		return
	}
	m.pages.WithLabelValues(route, methodLabel(method), statusClass(status)).Observe(took.Seconds())
}

// ObserveUpstream records one attempt at a coreplus request; it is meant
// to be called from coreplus.Config.OnCall.
func (m *Metrics) ObserveUpstream(i coreplus.CallInfo) {
	if m == nil {
		return
	}
	m.upstream.WithLabelValues(i.Op, upstreamStatus(i)).Inc()
	if i.NotTried {
		return // refused before the limiter
	}
	m.limiterWait.WithLabelValues(i.Op).Observe(i.Wait.Seconds())
	if i.Duration > 0 {
		m.upstreamDuration.WithLabelValues(i.Op).Observe(i.Duration.Seconds())
	}
}

// CacheRead implements booking.Observer.
func (m *Metrics) CacheRead(cache string, result booking.CacheResult, age time.Duration) {
	if m == nil {
		return
	}
	m.cache.WithLabelValues(cache, string(result)).Inc()
	if result != booking.CacheMiss {
		m.cacheAge.WithLabelValues(cache).Observe(age.Seconds())
	}
}

// Submitted implements booking.Observer.
func (m *Metrics) Submitted(outcome booking.SubmitOutcome) {
	if m == nil {
		return
	}
	m.bookings.WithLabelValues(string(outcome)).Inc()
}

// Swept implements booking.SweepObserver.
func (m *Metrics) Swept(res booking.SweepResult) {
	if m == nil {
		return
	}
	m.sweeps.Inc()
	m.settled.WithLabelValues("booked").Add(float64(res.Booked))
	m.settled.WithLabelValues("failed").Add(float64(res.Failed))
	m.sweeper.WithLabelValues("resent").Add(float64(res.Resent))
	m.sweeper.WithLabelValues("released").Add(float64(res.Released))
	m.sweeper.WithLabelValues("reopened").Add(float64(res.Reopened))
	m.deferred.Set(float64(res.Deferred))
}

var (
	_ booking.Observer      = (*Metrics)(nil)
	_ booking.SweepObserver = (*Metrics)(nil)
)

// methodLabel keeps the method label to the few the portal answers: a
// client may send any word as a method.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost:
		return m
	}
	return "other"
}

func statusClass(status int) string {
	if status < 100 || status > 599 {
		return "other"
	}
	return strconv.Itoa(status/100) + "xx"
}

// upstreamStatus is an attempt's HTTP status, or why it has none.
func upstreamStatus(i coreplus.CallInfo) string {
	switch {
	case i.NotTried:
		return "not_tried"
	case i.Status != 0:
		return strconv.Itoa(i.Status)
	case errors.Is(i.Err, coreplus.ErrRateLimited):
		return "budget_spent" // the limiter's refusal; coreplus's own 429 has a status
	case i.Duration == 0:
		return "not_sent" // the caller's deadline or cancellation came first
	}
	return "no_answer"
}

// unsettledCollector reads the unsettled bookings on each scrape: the
// database is the truth every replica shares, so a count kept in memory
// would be one replica's view.
type unsettledCollector struct {
	count       func(context.Context) ([]Unsettled, error)
	now         func() time.Time
	bookings    *prometheus.Desc
	oldestAge   *prometheus.Desc
	scrapeLimit time.Duration
}

func newUnsettledCollector(count func(context.Context) ([]Unsettled, error)) *unsettledCollector {
	return &unsettledCollector{
		count: count, now: time.Now, scrapeLimit: 5 * time.Second,
		bookings: prometheus.NewDesc("portal_unsettled_bookings",
			"Bookings whose outcome is not known yet, in the database all replicas share, by status: pending (being sent, or lost by a crash) and unknown (sent with no answer, for the sweeper).",
			[]string{"status"}, nil),
		oldestAge: prometheus.NewDesc("portal_unsettled_booking_oldest_age_seconds",
			"Age of the oldest unsettled booking in each status; 0 when there is none. Past 15 minutes a person should look (booking.UnsettledAlert).",
			[]string{"status"}, nil),
	}
}

func (c *unsettledCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.bookings
	ch <- c.oldestAge
}

func (c *unsettledCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.scrapeLimit)
	defer cancel()
	counts, err := c.count(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.bookings, err)
		return
	}
	now := c.now()
	for _, u := range counts {
		ch <- prometheus.MustNewConstMetric(c.bookings, prometheus.GaugeValue, float64(u.Count), u.Status)
		age := 0.0
		if u.Count > 0 && !u.Oldest.IsZero() {
			age = max(0, now.Sub(u.Oldest).Seconds())
		}
		ch <- prometheus.MustNewConstMetric(c.oldestAge, prometheus.GaugeValue, age, u.Status)
	}
}
