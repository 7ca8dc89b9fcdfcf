package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/clinic-booking/portal/internal/coreplus/sandbox"
)

// TestMetricsOfABooking starts the whole program with METRICS_ADDR, browses
// to a time twice, books it once against the sandbox, and reads /metrics
// over HTTP as Prometheus would: pages by route template (never a clinic,
// an id or a draft token), upstream calls by operation and status, the
// limiter's wait, cache hits, one booking booked and none unsettled. The
// portal's own address serves no metrics.
func TestMetricsOfABooking(t *testing.T) {
	sb := sandbox.New(sandbox.Config{RateLimit: -1})
	sbSrv := httptest.NewServer(sb)
	t.Cleanup(sbSrv.Close)
	env := map[string]string{
		"DATABASE_URL":             "sqlite:" + filepath.Join(t.TempDir(), "portal.db"),
		"PORTAL_SECRET_KEY":        strings.Repeat("5e", 32),
		"COREPLUS_BASE_URL":        sbSrv.URL + "/API/Core/v2.1/",
		"COREPLUS_CONSUMER_ID":     sandbox.DemoConsumerID,
		"COREPLUS_CONSUMER_SECRET": sandbox.DemoConsumerSecret,
		"COREPLUS_ACCESS_TOKEN":    sandbox.DemoAccessToken,
		"CLINIC_SLUG":              "harbourside",
		"CLINIC_NAME":              "Harbourside Physio",
		"METRICS_ADDR":             "127.0.0.1:0",
	}
	before := listeningSockets()
	base, metricsURL := startRun(t, env)
	if metricsURL == "" {
		t.Fatal("the portal did not say where it serves metrics")
	}
	if n, ok := newListeners(before); ok && n != 2 {
		t.Errorf("the portal listens on %d sockets, want 2: itself and its metrics", n)
	}

	r := &replica{name: "portal", base: base, http: &http.Client{
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	p := r.get(t, "/harbourside")
	p = r.get(t, p.Link("Harbourside Physio Surry Hills"))
	p = r.get(t, p.Link("Standard Consultation"))
	times := p.Link("Tom Whitfield")
	r.get(t, times)
	p = r.get(t, times) // the same week again: from the cache
	slot, _ := p.FirstSlot()
	action, form := r.get(t, slot).WantH1("Your details").Form()
	for k, v := range map[string]string{
		"first_name": "Ottoline", "last_name": "Gaugewright", "dob_day": "3", "dob_month": "4", "dob_year": "1966",
		"email": "ottoline.g@example.org", "mobile": "0477 111 222", "consent": "yes",
	} {
		form.Set(k, v)
	}
	review := r.get(t, r.post(t, action, form)).WantH1("Check your booking")
	action, form = review.Form()
	confirmation := r.post(t, action, form)
	r.get(t, confirmation).WantH1("Booking confirmed")
	_, ref, _ := strings.Cut(confirmation, "/booking/")
	ref = strings.Trim(ref, "/")

	// The portal's own routes do not serve the metrics.
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK || strings.Contains(string(body), "portal_http_request_duration_seconds") {
		t.Errorf("the portal's address answers /metrics: %d", resp.StatusCode)
	}

	text, fams := scrape(t, metricsURL)
	for _, secret := range []string{"harbourside", "Ottoline", "Gaugewright", "ottoline.g", ref, sandbox.DemoAccessToken} {
		if secret != "" && strings.Contains(text, secret) {
			t.Errorf("the metrics hold %q", secret)
		}
	}

	// Pages: by route template, with the booking flow's steps among them.
	routes := map[string]float64{}
	for _, m := range family(t, fams, "portal_http_request_duration_seconds") {
		route := label(m, "route")
		if route != "unmatched" && (!strings.HasPrefix(route, "/") || strings.Contains(route, "harbourside")) {
			t.Errorf("route label %q is not a route template", route)
		}
		routes[route+" "+label(m, "method")+" "+label(m, "status_class")] += float64(m.GetHistogram().GetSampleCount())
	}
	for route, min := range map[string]float64{
		"/:clinic GET 2xx":               1,
		"/:clinic/book GET 2xx":          4, // service, practitioner, the time page twice
		"/:clinic/book/details GET 2xx":  1,
		"/:clinic/book/details POST 3xx": 1,
		"/:clinic/book/review GET 2xx":   1,
		"/:clinic/book/confirm POST 3xx": 1,
		"/:clinic/booking/:ref/ GET 2xx": 1,
	} {
		if routes[route] < min {
			t.Errorf("%s: %v requests, want at least %v; seen: %v", route, routes[route], min, routes)
		}
	}

	// Upstream: calls by operation and status, and every one waited on
	// the limiter.
	var calls, booked float64
	for _, m := range family(t, fams, "portal_upstream_requests_total") {
		calls += m.GetCounter().GetValue()
		if label(m, "op") == "POST /Appointment/" && label(m, "status") == "200" {
			booked += m.GetCounter().GetValue()
		}
		if op := label(m, "op"); strings.Contains(op, "?") || regexp.MustCompile(`[0-9a-f]{8}-`).MatchString(op) {
			t.Errorf("upstream op label %q holds a query or an id", op)
		}
	}
	if calls == 0 || booked != 1 {
		t.Errorf("%v upstream calls, %v appointments created; want some, and 1:\n%s", calls, booked, grep(text, "portal_upstream_requests_total"))
	}
	var waits uint64
	for _, m := range family(t, fams, "portal_upstream_limiter_wait_seconds") {
		waits += m.GetHistogram().GetSampleCount()
	}
	if float64(waits) != calls {
		t.Errorf("%d limiter waits for %v calls", waits, calls)
	}

	// Caches: the repeated time page was served from the cache.
	cache := map[string]float64{}
	for _, m := range family(t, fams, "portal_cache_requests_total") {
		cache[label(m, "cache")+" "+label(m, "result")] = m.GetCounter().GetValue()
	}
	if cache["availability hit"] < 1 || cache["availability miss"] < 1 || cache["reference hit"] < 1 || cache["reference miss"] < 1 {
		t.Errorf("cache reads %v: want hits and misses of both caches", cache)
	}
	if cache["availability stale"] != 0 || cache["reference stale"] != 0 {
		t.Errorf("stale reads with coreplus up: %v", cache)
	}

	// Bookings: one booked, nothing else, nothing unsettled.
	for _, m := range family(t, fams, "portal_bookings_total") {
		want := 0.0
		if label(m, "outcome") == "booked" {
			want = 1
		}
		if got := m.GetCounter().GetValue(); got != want {
			t.Errorf("portal_bookings_total{outcome=%q} = %v, want %v", label(m, "outcome"), got, want)
		}
	}
	unsettled := family(t, fams, "portal_unsettled_bookings")
	if len(unsettled) != 2 {
		t.Errorf("unsettled bookings by %d statuses, want pending and unknown", len(unsettled))
	}
	for _, m := range unsettled {
		if m.GetGauge().GetValue() != 0 {
			t.Errorf("portal_unsettled_bookings{status=%q} = %v, want 0", label(m, "status"), m.GetGauge().GetValue())
		}
	}
	family(t, fams, "portal_unsettled_booking_oldest_age_seconds")
	family(t, fams, "portal_sweeps_total")
	family(t, fams, "go_goroutines")
	if runtime.GOOS == "linux" {
		family(t, fams, "process_resident_memory_bytes")
	}
}

// Without METRICS_ADDR the portal opens no listener besides its own.
func TestNoMetricsAddrNoListener(t *testing.T) {
	sb := sandbox.New(sandbox.Config{RateLimit: -1})
	sbSrv := httptest.NewServer(sb)
	t.Cleanup(sbSrv.Close)
	env := map[string]string{
		"DATABASE_URL":             "sqlite:" + filepath.Join(t.TempDir(), "portal.db"),
		"PORTAL_SECRET_KEY":        strings.Repeat("5e", 32),
		"COREPLUS_BASE_URL":        sbSrv.URL + "/API/Core/v2.1/",
		"COREPLUS_CONSUMER_ID":     sandbox.DemoConsumerID,
		"COREPLUS_CONSUMER_SECRET": sandbox.DemoConsumerSecret,
		"COREPLUS_ACCESS_TOKEN":    sandbox.DemoAccessToken,
	}
	before := listeningSockets()
	base, metricsURL := startRun(t, env)
	if metricsURL != "" {
		t.Errorf("metrics served at %s with METRICS_ADDR unset", metricsURL)
	}
	if n, ok := newListeners(before); !ok {
		t.Log("no /proc to count listeners in")
	} else if n != 1 {
		t.Errorf("the portal listens on %d sockets, want 1 (itself)", n)
	}
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		t.Errorf("the portal's address answers /metrics")
	}
}

func TestLoadConfigMetricsAddr(t *testing.T) {
	for value, want := range map[string]string{
		"":                  "",
		"127.0.0.1:9090":    "",
		":9090":             "",
		"127.0.0.1:0":       "",
		"9090":              `METRICS_ADDR is "9090": expected host:port`,
		"127.0.0.1:http":    `METRICS_ADDR is "127.0.0.1:http": expected host:port`,
		"127.0.0.1:9999999": `METRICS_ADDR is "127.0.0.1:9999999": expected host:port`,
		"127.0.0.1:8080":    `METRICS_ADDR is "127.0.0.1:8080", the portal's own address`,
	} {
		env := withCoreplusEnv(map[string]string{"COREPLUS_ACCESS_TOKEN": "token", "METRICS_ADDR": value, "PORT": "8080"})
		cfg, err := loadConfig(nil, func(k string) string { return env[k] }, io.Discard)
		switch {
		case want == "" && err != nil:
			t.Errorf("METRICS_ADDR=%q refused: %v", value, err)
		case want == "" && cfg.MetricsAddr != value:
			t.Errorf("METRICS_ADDR=%q read as %q", value, cfg.MetricsAddr)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("METRICS_ADDR=%q: error %v, want one saying %q", value, err, want)
		}
	}
	// Reported with the other problems, not instead of them.
	env := map[string]string{"METRICS_ADDR": "nonsense", "PORT": "0"}
	_, err := loadConfig(nil, func(k string) string { return env[k] }, io.Discard)
	if err == nil || !strings.Contains(err.Error(), `METRICS_ADDR is "nonsense"`) || !strings.Contains(err.Error(), `PORT is "0"`) {
		t.Errorf("error %v, want METRICS_ADDR and PORT both named", err)
	}
}

// startRun runs the program with env until the test ends, and returns the
// portal's base URL and, when it serves them, the metrics URL.
func startRun(t *testing.T, env map[string]string) (base, metricsURL string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0"}, func(k string) string { return env[k] }, pw)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("run did not stop after its context was cancelled")
		}
	})
	metricsLine := regexp.MustCompile(`metrics at (http://[0-9.:]+/metrics)`)
	found := make(chan [2]string, 1)
	go func() {
		var m string
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if s := metricsLine.FindStringSubmatch(sc.Text()); s != nil {
				m = s[1]
			}
			if s := servingLine.FindStringSubmatch(sc.Text()); s != nil {
				found <- [2]string{s[1], m}
				_, _ = io.Copy(io.Discard, pr)
				return
			}
		}
		found <- [2]string{} // run returned before serving
	}()
	select {
	case f := <-found:
		if f[0] == "" {
			t.Fatal("the portal stopped before serving")
		}
		return f[0], f[1]
	case <-time.After(30 * time.Second):
		t.Fatal("portal did not say where it serves within 30s")
		return "", ""
	}
}

func scrape(t *testing.T, u string) (string, map[string]*dto.MetricFamily) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET %s: %d %s\n%s", u, resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("metrics do not parse: %v\n%s", err, body)
	}
	return string(body), fams
}

func family(t *testing.T, fams map[string]*dto.MetricFamily, name string) []*dto.Metric {
	t.Helper()
	f, ok := fams[name]
	if !ok {
		t.Errorf("no metric %s", name)
		return nil
	}
	return f.GetMetric()
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func grep(text, prefix string) string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, prefix) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// listeningSockets returns the inodes of this process's listening TCP
// sockets, or nil where /proc cannot tell.
func listeningSockets() []string {
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return nil
	}
	mine := map[string]bool{}
	for _, fd := range fds {
		if l, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil && strings.HasPrefix(l, "socket:[") {
			mine[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	var out []string
	for _, table := range []string{"/proc/self/net/tcp", "/proc/self/net/tcp6"} {
		b, err := os.ReadFile(table)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			f := strings.Fields(line)
			// sl local remote st ... inode (10th)
			if len(f) > 9 && f[3] == "0A" && mine[f[9]] {
				out = append(out, f[9])
			}
		}
	}
	return out
}

// newListeners counts the listening sockets this process opened since
// before; ok is false where /proc cannot tell.
func newListeners(before []string) (n int, ok bool) {
	if _, err := os.Stat("/proc/self/net/tcp"); err != nil {
		return 0, false
	}
	for _, s := range listeningSockets() {
		if !slices.Contains(before, s) {
			n++
		}
	}
	return n, true
}
