package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/clinic-booking/portal/internal/funnel"
	"github.com/clinic-booking/portal/internal/funnel/funnelstore"
	"github.com/clinic-booking/portal/internal/staff"
)

// TestConsoleFunnelShowsTheLastDaysCounts: patients counted into the
// portal's database today and 10 days ago show on the Funnel page: the
// 7 days have today's, the 30 days both, with where patients left.
func TestConsoleFunnelShowsTheLastDaysCounts(t *testing.T) {
	ch := newConsoleHarness(t)
	ch.addStaff("jo@demo.example", "demo", staff.RoleStaff, false)
	cookie := ch.signIn("jo@demo.example")

	// Four patients today: all reach the location step, three the
	// service, one books; one asks for a call back. Two patients 10 days
	// ago reach the location step.
	now := ch.now
	counter := funnel.NewCounter(funnelstore.New(ch.db), func() time.Time { return now }, nil)
	reach := func(ip string, steps ...funnel.Step) {
		for _, s := range steps {
			counter.Reached(t.Context(), "demo", sydney, s, ip, "test")
		}
	}
	all := []funnel.Step{funnel.Location, funnel.Service, funnel.Practitioner, funnel.Time, funnel.Details, funnel.Review, funnel.Booked}
	reach("192.0.2.1", all...)
	reach("192.0.2.2", funnel.Location, funnel.Service)
	reach("192.0.2.3", funnel.Location, funnel.Service)
	reach("192.0.2.4", funnel.Location, funnel.Request)
	if err := counter.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	now = ch.now.AddDate(0, 0, -10)
	reach("192.0.2.5", funnel.Location)
	reach("192.0.2.6", funnel.Location)
	if err := counter.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	// Another clinic's patients are not this clinic's.
	counter.Reached(t.Context(), "other", sydney, funnel.Location, "192.0.2.7", "test")
	if err := counter.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}

	cells := func(r *goquery.Selection) string {
		var out []string
		r.Find("td").Each(func(_ int, c *goquery.Selection) {
			if t := strings.TrimSpace(c.Text()); t != "" {
				out = append(out, t)
			}
		})
		return strings.Join(out, " ")
	}
	rows := func(p *page) map[string]string {
		got := map[string]string{}
		p.Doc.Find("table.funnel tbody tr").Each(func(_ int, r *goquery.Selection) {
			got[r.Find("th").Text()] = cells(r)
		})
		return got
	}
	p, _ := ch.send(http.MethodGet, "/console/demo/funnel", cookie, nil)
	p.WantH1("Funnel")
	if p.Doc.Find(`nav a[aria-current="page"]`).First().Text() != "Funnel" {
		t.Error("the navigation does not mark Funnel current")
	}
	want := map[string]string{
		"Location": "4 1", "Service": "3 2", "Practitioner": "1 0", "Time": "1 0", "Details": "1 0", "Review": "1 0",
		"Booked": "1 –", "Call-back request": "1 –",
	}
	if got := rows(p); len(got) != len(want) {
		t.Errorf("7 days: %v", got)
	} else {
		for step, w := range want {
			if got[step] != w {
				t.Errorf("7 days, %s: reached and left %q, want %q", step, got[step], w)
			}
		}
	}
	if !strings.Contains(p.Doc.Find("table.funnel caption").Text(), "last 7 days") || p.Doc.Find("table.funnel-days tbody tr").Length() != 7 {
		t.Errorf("7 days: caption %q, %d days", p.Doc.Find("table.funnel caption").Text(), p.Doc.Find("table.funnel-days tbody tr").Length())
	}
	// Bars: the busiest step is full, the others in proportion.
	if cls := p.Doc.Find("table.funnel tbody tr").First().Find(".funnel-bar").AttrOr("class", ""); !strings.Contains(cls, "w100") {
		t.Errorf("the location step's bar %q", cls)
	}
	if cls := p.Doc.Find("table.funnel tbody tr").Eq(1).Find(".funnel-bar").AttrOr("class", ""); !strings.Contains(cls, "w75") {
		t.Errorf("the service step's bar %q", cls)
	}
	// Today is first by day.
	first := p.Doc.Find("table.funnel-days tbody tr").First()
	if d := first.Find("th").Text(); d != ch.now.In(sydney).Format("Mon 2 Jan") || cells(first) != "4 3 1 1 1 1 1 1" {
		t.Errorf("today's row: %q %q", d, cells(first))
	}

	p, _ = ch.send(http.MethodGet, "/console/demo/funnel?days=30", cookie, nil)
	if got := rows(p)["Location"]; got != "6 3" {
		t.Errorf("30 days, location: %q, want 6 reached and 3 left", got)
	}
	if n := p.Doc.Find("table.funnel-days tbody tr").Length(); n != 30 {
		t.Errorf("30 days: %d days listed", n)
	}
	if p.Doc.Find(`a[aria-current="page"][href$="days=30"]`).Length() != 1 {
		t.Error("30 days is not marked as shown")
	}
	// No third-party (or any) script beyond the console's own.
	p.Doc.Find("script").Each(func(_ int, s *goquery.Selection) {
		if src := s.AttrOr("src", ""); !strings.HasPrefix(src, "/static/") {
			t.Errorf("a script on the Funnel page: %q", src)
		}
	})
}

func TestConsoleFunnelWithNothingCounted(t *testing.T) {
	ch := newConsoleHarness(t)
	ch.addStaff("jo@demo.example", "demo", staff.RoleStaff, false)
	p, _ := ch.send(http.MethodGet, "/console/demo/funnel", ch.signIn("jo@demo.example"), nil)
	if p.Status != http.StatusOK || !strings.Contains(p.Text(), "No patient reached the booking in the last 7 days.") {
		t.Errorf("%d:\n%s", p.Status, p.Text())
	}
}
