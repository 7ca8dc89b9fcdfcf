package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/clinic-booking/portal/internal/coreplus/sandbox"
	"github.com/clinic-booking/portal/internal/funnel"
	"github.com/clinic-booking/portal/internal/funnel/funnelstore"
	"github.com/clinic-booking/portal/internal/store"
	"github.com/clinic-booking/portal/internal/store/storetest"
)

// TestTwoReplicasCountAPatientOnce runs two portals (the whole program,
// in this process) on one PostgreSQL database and books with one patient
// whose pages alternate between them, several loaded from both, as a load
// balancer without affinity sends them. Once both have stopped, every step
// of the funnel counts that patient once.
//
// It needs TEST_DATABASE_URL (a PostgreSQL server); make postgres-test
// sets it.
func TestTwoReplicasCountAPatientOnce(t *testing.T) {
	databaseURL := storetest.FreshPostgresSchema(t) // skips without TEST_DATABASE_URL
	sbSrv := httptest.NewServer(sandbox.New(sandbox.Config{RateLimit: -1}))
	t.Cleanup(sbSrv.Close)
	env := map[string]string{
		"DATABASE_URL":             databaseURL,
		"PORTAL_SECRET_KEY":        strings.Repeat("5e", 32),
		"COREPLUS_BASE_URL":        sbSrv.URL + "/API/Core/v2.1/",
		"COREPLUS_CONSUMER_ID":     sandbox.DemoConsumerID,
		"COREPLUS_CONSUMER_SECRET": sandbox.DemoConsumerSecret,
		"COREPLUS_ACCESS_TOKEN":    sandbox.DemoAccessToken,
		"CLINIC_SLUG":              "harbourside",
		"CLINIC_NAME":              "Harbourside Physio",
		"PORTAL_REPLICAS":          "2",
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stopped []chan error
	start := func(name string) *replica {
		pr, pw := io.Pipe()
		done := make(chan error, 1)
		go func() {
			done <- run(ctx, []string{"-addr", "127.0.0.1:0"}, func(k string) string { return env[k] }, pw)
			pw.Close()
		}()
		stopped = append(stopped, done)
		base := waitForServing(t, pr)
		go func() { _, _ = io.Copy(io.Discard, pr) }()
		return &replica{name: name, base: base, http: &http.Client{
			Timeout:       30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}}
	}
	a, b := start("A"), start("B")

	p := b.get(t, "/harbourside")
	a.get(t, "/harbourside")
	p = a.get(t, p.Link("Harbourside Physio Surry Hills"))
	p = b.get(t, p.Link("Standard Consultation"))
	timesAt := p.Link("First available practitioner")
	times := a.get(t, timesAt)
	b.get(t, timesAt)
	slot, _ := times.FirstSlot()
	p = b.get(t, slot).WantH1("Your details")
	a.get(t, slot).WantH1("Your details")
	action, form := p.Form()
	form.Set("first_name", "Oriel")
	form.Set("last_name", "Replicaworth")
	form.Set("dob_day", "9")
	form.Set("dob_month", "11")
	form.Set("dob_year", "1961")
	form.Set("email", "oriel.r@example.com")
	form.Set("mobile", "0499 333 444")
	form.Set("consent", "yes")
	reviewAt := a.post(t, action, form)
	review := b.get(t, reviewAt).WantH1("Check your booking")
	a.get(t, reviewAt).WantH1("Check your booking")
	action, form = review.Form()
	doneAt := a.post(t, action, form)
	b.get(t, doneAt).WantH1("Booking confirmed")
	a.get(t, doneAt).WantH1("Booking confirmed")

	cancel()
	for _, done := range stopped {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("run: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("a portal did not stop")
		}
	}
	db, err := store.Open(context.Background(), databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rep, err := funnel.ReadReport(context.Background(), funnelstore.New(db), "harbourside", 1, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Zone != "Australia/Sydney" {
		t.Errorf("days counted in %s; want the clinic's location's zone, Australia/Sydney", rep.Zone)
	}
	for _, step := range funnel.Flow {
		if got := rep.Total.Reached[step]; got != 1 {
			t.Errorf("%s: %d patients; want 1 (%v)", step, got, rep.Total.Reached)
		}
	}
}
