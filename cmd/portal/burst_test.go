package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clinic-booking/portal/internal/coreplus/sandbox"
)

// TestBurstOfPageViewsStaysUnderTheUpstreamLimit serves the whole program,
// wired as in production (one upstream limiter per process, caches,
// coalesced reads), against a sandbox enforcing coreplus's 10 requests a
// second, and sends 200 page views of one clinic at once: its first page
// and its busiest time step. Every view must be answered, coreplus must
// never see more than 10 requests in a second, and never answer 429.
func TestBurstOfPageViewsStaysUnderTheUpstreamLimit(t *testing.T) {
	sb := sandbox.New(sandbox.Config{}) // the real clock and the default 10 a second
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
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0"}, func(k string) string { return env[k] }, pw)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	base := waitForServing(t, pr)
	go func() { _, _ = io.Copy(io.Discard, pr) }()

	q := url.Values{"location": {sandbox.LocationSydneyID}, "type": {sandbox.AppointmentTypeStandardID}, "practitioner": {"any"}}
	pages := []string{base + "/harbourside", base + "/harbourside/book?" + q.Encode()}
	before := sb.Stats()

	const views = 200
	statuses := make([]int, views)
	var wg sync.WaitGroup
	start := make(chan struct{})
	client := &http.Client{Timeout: 60 * time.Second}
	for i := range views {
		wg.Go(func() {
			<-start
			resp, err := client.Get(pages[i%len(pages)])
			if err != nil {
				t.Errorf("view %d: %v", i, err)
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			statuses[i] = resp.StatusCode
			if i%len(pages) == 1 && resp.StatusCode == http.StatusOK && !strings.Contains(string(body), "Choose a time") {
				t.Errorf("view %d: the time step shows no times", i)
			}
		})
	}
	close(start)
	wg.Wait()

	for i, s := range statuses {
		if s != http.StatusOK {
			t.Errorf("view %d of %s: status %d", i, pages[i%len(pages)], s)
		}
	}
	st := sb.Stats()
	t.Logf("200 views cost %d upstream requests; most in one second: %d", st.Requests-before.Requests, st.MaxPerSecond)
	if st.RateLimited != 0 {
		t.Errorf("the sandbox answered %d requests with 429", st.RateLimited)
	}
	if st.MaxPerSecond > 10 {
		t.Errorf("coreplus saw %d requests in one second, over its 10", st.MaxPerSecond)
	}
}
