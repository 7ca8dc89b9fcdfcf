package funnelstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clinic-booking/portal/internal/funnel"
	"github.com/clinic-booking/portal/internal/funnel/funnelstore"
	"github.com/clinic-booking/portal/internal/store"
	"github.com/clinic-booking/portal/internal/store/storetest"
)

// A Monday afternoon in Sydney (UTC+11): 2026-12-07 03:00 UTC.
var monday = time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)

var sydney = mustZone("Australia/Sydney")

func mustZone(name string) *time.Location {
	z, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return z
}

// clock is a test clock that moves only when told.
type clock struct{ t atomic.Pointer[time.Time] }

func newClock(t time.Time) *clock { c := &clock{}; c.set(t); return c }
func (c *clock) now() time.Time   { return *c.t.Load() }
func (c *clock) set(t time.Time)  { c.t.Store(&t) }

func openStore(t *testing.T, databaseURL string) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), databaseURL)
	if err != nil {
		t.Fatalf("open %s: %v", databaseURL, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// rawDB opens the database the store uses, to read its tables as they are.
func rawDB(t *testing.T, databaseURL string) *sql.DB {
	t.Helper()
	driver, dsn := "sqlite", strings.TrimPrefix(databaseURL, "sqlite:")
	if strings.HasPrefix(databaseURL, "postgres") {
		driver, dsn = "pgx", databaseURL
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func report(t *testing.T, s *store.Store, clinic string, days int, now time.Time) funnel.Report {
	t.Helper()
	r, err := funnel.ReadReport(context.Background(), funnelstore.New(s), clinic, days, now)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

const (
	patientIP = "203.0.113.7"
	patientUA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Version/17.5 Mobile/15E148 Safari/604.1"
)

// TestReloadCountsOnce: a patient reloading a step, going back to it and
// coming back to it after a flush counts once for that step and day; a
// second patient (another browser at the same address) counts too.
func TestReloadCountsOnce(t *testing.T) {
	storetest.ForEachDatabase(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		s := openStore(t, databaseURL)
		clk := newClock(monday)
		c := funnel.NewCounter(funnelstore.New(s), clk.now, nil)
		for range 3 {
			c.Reached(ctx, "northside", sydney, funnel.Time, patientIP, patientUA)
		}
		c.Reached(ctx, "northside", sydney, funnel.Service, patientIP, patientUA)
		if err := c.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		clk.set(monday.Add(40 * time.Minute))
		c.Reached(ctx, "northside", sydney, funnel.Time, patientIP, patientUA)
		c.Reached(ctx, "northside", sydney, funnel.Time, patientIP, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/133.0")
		if err := c.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		r := report(t, s, "northside", 7, clk.now())
		today := r.Days[len(r.Days)-1]
		if today.Date != "2026-12-07" || r.Zone != "Australia/Sydney" {
			t.Fatalf("today is %s in %s; want 2026-12-07 in Australia/Sydney", today.Date, r.Zone)
		}
		if got := today.Reached[funnel.Time]; got != 2 {
			t.Errorf("time step: %d patients; want 2 (one reloading, one other browser)", got)
		}
		if got := today.Reached[funnel.Service]; got != 1 {
			t.Errorf("service step: %d patients; want 1", got)
		}
		if got := today.Left(funnel.Service); got != 1 {
			t.Errorf("left at service: %d; want 1 (nobody reached the practitioner step)", got)
		}
		if got := today.Left(funnel.Time); got != 2 {
			t.Errorf("left at time: %d; want 2 (nobody reached details)", got)
		}
		// Another clinic's patient is another count, even from that address.
		c.Reached(ctx, "harbourside", sydney, funnel.Time, patientIP, patientUA)
		if err := c.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if got := report(t, s, "harbourside", 1, clk.now()).Days[0].Reached[funnel.Time]; got != 1 {
			t.Errorf("harbourside's time step: %d; want 1", got)
		}
		// The next day the same patient is counted again, on that day.
		clk.set(monday.Add(24 * time.Hour))
		c.Reached(ctx, "northside", sydney, funnel.Time, patientIP, patientUA)
		if err := c.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		r = report(t, s, "northside", 2, clk.now())
		if r.Days[0].Reached[funnel.Time] != 2 || r.Days[1].Reached[funnel.Time] != 1 || r.Total.Reached[funnel.Time] != 3 {
			t.Errorf("two days: %+v, total %+v; want 2 then 1, 3 in all", r.Days, r.Total)
		}
	})
}

// TestTwoReplicasCountOnce: a patient whose requests two replicas on one
// database answer (a load balancer without affinity) counts once, however
// the two replicas' flushes interleave.
func TestTwoReplicasCountOnce(t *testing.T) {
	storetest.ForEachDatabase(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		clk := newClock(monday)
		a := funnel.NewCounter(funnelstore.New(openStore(t, databaseURL)), clk.now, nil)
		bStore := openStore(t, databaseURL)
		b := funnel.NewCounter(funnelstore.New(bStore), clk.now, nil)
		// 50 patients, each answered by both replicas on every step.
		for round := range 3 {
			for i := range 50 {
				ip := fmt.Sprintf("198.51.100.%d", i)
				for _, step := range funnel.Flow {
					a.Reached(ctx, "northside", sydney, step, ip, patientUA)
					b.Reached(ctx, "northside", sydney, step, ip, patientUA)
				}
			}
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i, c := range []*funnel.Counter{a, b} {
				wg.Go(func() { errs[i] = c.Flush(ctx) })
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					t.Fatalf("round %d: %v", round, err)
				}
			}
		}
		r := report(t, bStore, "northside", 1, clk.now())
		for _, step := range funnel.Flow {
			if got := r.Days[0].Reached[step]; got != 50 {
				t.Errorf("%s: %d patients; want 50", step, got)
			}
		}
	})
}

// TestCloseFlushesEverything: what was counted before Close is in the
// database after it, though no periodic flush ran.
func TestCloseFlushesEverything(t *testing.T) {
	storetest.ForEachDatabase(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		s := openStore(t, databaseURL)
		clk := newClock(monday)
		c := funnel.NewCounter(funnelstore.New(s), clk.now, nil)
		c.Start(ctx, time.Hour) // never ticks in this test
		const patients = 600    // more than one INSERT's worth
		for i := range patients {
			ip := fmt.Sprintf("10.%d.%d.1", i/250, i%250)
			c.Reached(ctx, "northside", sydney, funnel.Review, ip, patientUA)
			if i%3 == 0 {
				c.Reached(ctx, "northside", nil, funnel.Booked, ip, patientUA)
			}
		}
		if err := c.Close(ctx); err != nil {
			t.Fatal(err)
		}
		day := report(t, s, "northside", 1, clk.now()).Days[0]
		if day.Reached[funnel.Review] != patients || day.Reached[funnel.Booked] != patients/3 {
			t.Errorf("after Close: review %d, booked %d; want %d and %d", day.Reached[funnel.Review], day.Reached[funnel.Booked], patients, patients/3)
		}
		if got := day.Left(funnel.Review); got != patients-patients/3 {
			t.Errorf("left at review: %d; want %d", got, patients-patients/3)
		}
	})
}

// TestNothingPersonalStored reads every funnel table as it is: no address,
// no User-Agent, nothing but clinic slugs, days, steps, counts, zones,
// random salts and 128-bit hex keys.
func TestNothingPersonalStored(t *testing.T) {
	storetest.ForEachDatabase(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		s := openStore(t, databaseURL)
		clk := newClock(monday)
		c := funnel.NewCounter(funnelstore.New(s), clk.now, nil)
		c.Reached(ctx, "northside", sydney, funnel.Details, patientIP, patientUA)
		c.Reached(ctx, "northside", nil, funnel.Request, "2001:db8::42", "curl/8.5.0")
		if err := c.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		db := rawDB(t, databaseURL)
		hex := regexp.MustCompile(`^[0-9a-f]+$`)
		var everything strings.Builder
		dump := func(query string, check func(cols []string)) int {
			rows, err := db.QueryContext(ctx, query)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			n := 0
			for rows.Next() {
				n++
				cols, _ := rows.Columns()
				vals := make([]sql.NullString, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				if err := rows.Scan(ptrs...); err != nil {
					t.Fatal(err)
				}
				got := make([]string, len(cols))
				for i, v := range vals {
					got[i] = v.String
					everything.WriteString(v.String + "\n")
				}
				check(got)
			}
			return n
		}
		if n := dump(`SELECT clinic, day, step, visitor FROM funnel_visitors`, func(r []string) {
			if r[0] != "northside" || r[1] != "2026-12-07" || len(r[3]) != 32 || !hex.MatchString(r[3]) {
				t.Errorf("visitor row %q: want the clinic, the day, a step and a 32-hex-digit key", r)
			}
		}); n != 2 {
			t.Errorf("%d visitor rows; want 2", n)
		}
		dump(`SELECT day, salt FROM funnel_salts`, func(r []string) {
			if len(r[1]) != 64 || !hex.MatchString(r[1]) {
				t.Errorf("salt row %q: want a day and 32 random bytes in hex", r)
			}
		})
		dump(`SELECT clinic, day, step, patients FROM funnel_counts`, func(r []string) {
			if r[0] != "northside" || r[3] != "1" {
				t.Errorf("count row %q", r)
			}
		})
		dump(`SELECT clinic, zone FROM funnel_zones`, func(r []string) {
			if r[0] != "northside" || r[1] != "Australia/Sydney" {
				t.Errorf("zone row %q", r)
			}
		})
		all := everything.String()
		for _, personal := range []string{patientIP, "203.0.113", "2001:db8", "iPhone", "Mozilla", "curl"} {
			if strings.Contains(all, personal) {
				t.Errorf("the funnel tables hold %q:\n%s", personal, all)
			}
		}
	})
}

// TestPruneKeepsCountsOnly: once a day has ended in every zone, its salt
// and visitor keys go; its counts stay for funnel.KeepCounts.
func TestPruneKeepsCountsOnly(t *testing.T) {
	storetest.ForEachDatabase(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		s := openStore(t, databaseURL)
		db := rawDB(t, databaseURL)
		clk := newClock(monday)
		c := funnel.NewCounter(funnelstore.New(s), clk.now, nil)
		c.Reached(ctx, "northside", sydney, funnel.Time, patientIP, patientUA)
		if err := c.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		rowsFor := func(table string) int {
			var n int
			if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table+` WHERE day = '2026-12-07'`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		// The next UTC day it may still be 7 December west of UTC: kept.
		clk.set(time.Date(2026, 12, 8, 23, 0, 0, 0, time.UTC))
		if err := c.Prune(ctx); err != nil {
			t.Fatal(err)
		}
		if rowsFor("funnel_visitors") != 1 || rowsFor("funnel_salts") != 1 {
			t.Fatal("the day's keys or salt were pruned while the day lasted somewhere")
		}
		clk.set(time.Date(2026, 12, 9, 0, 30, 0, 0, time.UTC))
		if err := c.Prune(ctx); err != nil {
			t.Fatal(err)
		}
		if v, s := rowsFor("funnel_visitors"), rowsFor("funnel_salts"); v != 0 || s != 0 {
			t.Errorf("after the day ended everywhere: %d visitor rows, %d salts; want none", v, s)
		}
		if rowsFor("funnel_counts") != 1 {
			t.Fatal("the day's count was pruned with its keys")
		}
		clk.set(monday.Add(funnel.KeepCounts + 48*time.Hour))
		if err := c.Prune(ctx); err != nil {
			t.Fatal(err)
		}
		if rowsFor("funnel_counts") != 0 {
			t.Error("a count older than funnel.KeepCounts was kept")
		}
	})
}

// TestZoneRemembered: a step counted with no zone (the request form, while
// coreplus is down) falls on the clinic's own day, which a new replica
// reads from the database.
func TestZoneRemembered(t *testing.T) {
	storetest.ForEachDatabase(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		s := openStore(t, databaseURL)
		// 23:30 UTC on 7 December is already the 8th in Sydney.
		clk := newClock(time.Date(2026, 12, 7, 23, 30, 0, 0, time.UTC))
		first := funnel.NewCounter(funnelstore.New(s), clk.now, nil)
		first.Reached(ctx, "northside", sydney, funnel.Location, patientIP, patientUA)
		if err := first.Close(ctx); err != nil {
			t.Fatal(err)
		}
		next := funnel.NewCounter(funnelstore.New(openStore(t, databaseURL)), clk.now, nil)
		next.Start(ctx, time.Hour)
		next.Reached(ctx, "northside", nil, funnel.Request, patientIP, patientUA)
		next.Reached(ctx, "unseen", nil, funnel.Request, patientIP, patientUA)
		if err := next.Close(ctx); err != nil {
			t.Fatal(err)
		}
		r := report(t, s, "northside", 1, clk.now())
		if r.Days[0].Date != "2026-12-08" || r.Days[0].Reached[funnel.Request] != 1 || r.Days[0].Reached[funnel.Location] != 1 {
			t.Errorf("northside's day: %+v; want 8 December with the location step and a request", r.Days[0])
		}
		u := report(t, s, "unseen", 1, clk.now())
		if u.Zone != "UTC" || u.Days[0].Date != "2026-12-07" || u.Days[0].Reached[funnel.Request] != 1 {
			t.Errorf("a clinic never counted with a zone: %+v in %s; want 7 December in UTC", u.Days[0], u.Zone)
		}
	})
}

// TestReadRange: a range of the clinic's days, each present, zeros where
// nobody came, across the end of daylight saving; bad ranges refused.
func TestReadRange(t *testing.T) {
	storetest.ForEachDatabase(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		s := openStore(t, databaseURL)
		if _, err := s.AddFunnelVisits(ctx, []store.FunnelVisit{
			{Clinic: "northside", Day: "2026-04-04", Step: "time", Visitor: "01"},
			{Clinic: "northside", Day: "2026-04-06", Step: "time", Visitor: "02"},
			{Clinic: "northside", Day: "2026-04-06", Step: "booked", Visitor: "02"},
			{Clinic: "northside", Day: "2026-04-08", Step: "time", Visitor: "03"},
		}, map[string]string{"northside": "Australia/Sydney"}); err != nil {
			t.Fatal(err)
		}
		r, err := funnel.ReadRange(ctx, funnelstore.New(s), "northside", "2026-04-04", "2026-04-07")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, d := range r.Days {
			got = append(got, fmt.Sprintf("%s:%d/%d", d.Date, d.Reached[funnel.Time], d.Reached[funnel.Booked]))
		}
		// Sydney's daylight saving ends on 5 April 2026.
		if want := "2026-04-04:1/0 2026-04-05:0/0 2026-04-06:1/1 2026-04-07:0/0"; strings.Join(got, " ") != want {
			t.Errorf("days %s; want %s", strings.Join(got, " "), want)
		}
		if r.Total.Reached[funnel.Time] != 2 || r.Zone != "Australia/Sydney" {
			t.Errorf("total %v in %s", r.Total.Reached, r.Zone)
		}
		for _, bad := range [][2]string{{"2026-04-08", "2026-04-07"}, {"2026-04-07", "7 April"}, {"2025-01-01", "2026-04-07"}} {
			if _, err := funnel.ReadRange(ctx, funnelstore.New(s), "northside", bad[0], bad[1]); err == nil {
				t.Errorf("ReadRange %s to %s: no error", bad[0], bad[1])
			}
		}
	})
}
