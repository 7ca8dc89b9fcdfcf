package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clinic-booking/portal/internal/funnel"
	"github.com/clinic-booking/portal/internal/funnel/funnelstore"
	"github.com/clinic-booking/portal/internal/store"
)

// TestFunnelCommandPrintsTheTable: a row a day in the clinic's zone, oldest
// first, zeros where nobody came, the totals and where patients left.
func TestFunnelCommandPrintsTheTable(t *testing.T) {
	o := newOperator(t)
	ctx := context.Background()
	db, err := store.Open(ctx, o.env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	sydney, _ := time.LoadLocation("Australia/Sydney")
	today := time.Now().In(sydney)
	day := func(back int) string { return today.AddDate(0, 0, -back).Format(time.DateOnly) }
	var visits []store.FunnelVisit
	add := func(clinic, d, step string, n int) {
		for i := range n {
			visits = append(visits, store.FunnelVisit{Clinic: clinic, Day: d, Step: step, Visitor: fmt.Sprintf("%032x", i)})
		}
	}
	add("northside", day(0), "service", 9)
	add("northside", day(0), "practitioner", 8)
	add("northside", day(0), "time", 6)
	add("northside", day(0), "details", 3)
	add("northside", day(0), "review", 3)
	add("northside", day(0), "booked", 2)
	add("northside", day(2), "time", 4)
	add("northside", day(2), "request", 1)
	add("northside", day(9), "time", 50) // before the last 7 days
	add("eastside", day(0), "time", 70)  // another clinic
	if _, err := db.AddFunnelVisits(ctx, visits, map[string]string{"northside": "Australia/Sydney"}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	out := o.must("", "funnel", "--clinic", "northside")
	lines := strings.Split(out, "\n")
	if !strings.Contains(lines[0], "clinic northside, the last 7 days ("+day(6)+" to "+day(0)+", days in Australia/Sydney)") {
		t.Errorf("heading: %q", lines[0])
	}
	rows := map[string][]string{}
	var order []string
	for _, l := range lines[2:] {
		if strings.TrimSpace(l) == "" {
			break // the end of the table
		}
		f := strings.Fields(l)
		label := strings.Join(f[:len(f)-8], " ")
		rows[label], order = f[len(f)-8:], append(order, label)
	}
	want := map[string]string{
		"DAY":       "LOCATION SERVICE PRACTITIONER TIME DETAILS REVIEW BOOKED REQUEST",
		day(6):      "0 0 0 0 0 0 0 0",
		day(2):      "0 0 0 4 0 0 0 1",
		day(0):      "0 9 8 6 3 3 2 0",
		"total":     "0 9 8 10 3 3 2 1",
		"left here": "0 1 0 7 0 1 - -",
	}
	for label, cells := range want {
		if got := strings.Join(rows[label], " "); got != cells {
			t.Errorf("row %q: %q; want %q\n%s", label, got, cells, out)
		}
	}
	if len(order) != 10 || order[1] != day(6) || order[7] != day(0) {
		t.Errorf("rows %q: want the header, 7 days oldest first, total and left here", order)
	}

	out = o.must("", "funnel", "--clinic", "northside", "--days", "30")
	if !strings.Contains(out, "the last 30 days") || !strings.Contains(out, day(9)) || !strings.Contains(out, "   60 ") {
		t.Errorf("--days 30 lacks the older day or its total of 60 at the time step:\n%s", out)
	}
	for _, bad := range [][]string{{"funnel"}, {"funnel", "northside"}, {"funnel", "--clinic", "northside", "--days", "0"}, {"funnel", "--clinic", "northside", "--days", "401"}} {
		if _, err := o.run("", bad...); err == nil {
			t.Errorf("portal %s succeeded", strings.Join(bad, " "))
		}
	}
	if out := o.must("", "funnel", "--clinic", "nobody", "--days", "1"); !strings.Contains(out, "today") || !strings.Contains(out, "days in UTC") {
		t.Errorf("a clinic never counted: %s", out)
	}
}

// TestRunWritesTheFunnelAtShutdown: a page served just before the portal
// stops is counted, though no periodic flush had come yet.
func TestRunWritesTheFunnelAtShutdown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	dir := t.TempDir()
	env := map[string]string{"DATA_DIR": dir}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-demo", "-addr", "127.0.0.1:0"}, func(k string) string { return env[k] }, pw)
		pw.Close()
	}()
	base := waitForServing(t, pr)
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	for range 3 { // one patient, three loads
		resp, err := http.Get(base + "/demo")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("/demo: %d", resp.StatusCode)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not stop")
	}
	db, err := store.Open(context.Background(), "sqlite:"+filepath.Join(dir, "demo.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rep, err := funnel.ReadReport(context.Background(), funnelstore.New(db), "demo", 1, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	first := rep.Total.Reached[funnel.Location] + rep.Total.Reached[funnel.Service]
	if first != 1 {
		t.Errorf("the first step was reached by %d patients after shutdown: %v; want 1", first, rep.Total.Reached)
	}
}
