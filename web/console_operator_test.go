package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/clinic-booking/portal/internal/clinics"
	"github.com/clinic-booking/portal/internal/staff"
	"github.com/clinic-booking/portal/web"
)

// TestOperatorDisablesAndEnablesAClinic: the operator's clinics list shows
// the clinics in the database (as `portal clinic add` keeps them) beside
// those set by the environment; Disable and Enable change the record as
// `portal clinic disable|enable` do. No one else can, and the list says
// nothing of it to them.
func TestOperatorDisablesAndEnablesAClinic(t *testing.T) {
	var repo *clinics.Repo
	ch := newConsoleHarness(t, func(c *web.Config) { c.Console.ClinicRecords = lazyRecords{&repo} })
	keys, err := clinics.ParseKeyring(strings.Repeat("ab", 32))
	if err != nil {
		t.Fatal(err)
	}
	repo = clinics.NewRepo(ch.db, keys)
	rec := clinics.NewRecord()
	rec.Slug, rec.Name, rec.AccessToken = "northside", "Northside Physio", clinics.Token("northside-secret-token-0123456789")
	if err := repo.Add(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	ch.addStaff("ops@host.example", "", "", true)
	ch.addStaff("admin@demo.example", "demo", staff.RoleAdmin, false)
	ops := ch.signIn("ops@host.example")
	admin := ch.signIn("admin@demo.example")

	rows := func(p *page) map[string]string {
		got := map[string]string{}
		p.Doc.Find("main table tbody tr").Each(func(_ int, r *goquery.Selection) {
			var cells []string
			r.Find("td").Each(func(_ int, c *goquery.Selection) { cells = append(cells, strings.TrimSpace(c.Text())) })
			label := r.Find("button").AttrOr("aria-label", "")
			got[cells[1]] = strings.Join(append(cells, label), " | ")
		})
		return got
	}
	p, _ := ch.send(http.MethodGet, "/console/clinics", ops, nil)
	got := rows(p)
	for slug, want := range map[string]string{
		"northside": "Northside Physio | northside | Enabled | Disable | Disable Northside Physio",
		"demo":      "Harbourside Physio (test) | demo | Enabled | Set by the portal's environment | ",
		"other":     "Otherside Podiatry (test) | other | Enabled | Set by the portal's environment | ",
	} {
		if got[slug] != want {
			t.Errorf("the operator's list, %s: %q, want %q", slug, got[slug], want)
		}
	}
	if strings.Contains(p.Body, "northside-secret-token") {
		t.Error("the list shows the access token")
	}
	action, form := p.Pressing("Disable")
	if action != "/console/clinics/northside/disable" {
		t.Fatalf("Disable posts to %q", action)
	}

	// Only the operator can.
	for who, cookie := range map[string]string{"anonymous": "", "an admin of another clinic": admin} {
		p, _ := ch.send(http.MethodPost, action, cookie, form)
		if p.Status == http.StatusSeeOther && p.Header.Get("Location") == "/console/sign-in" && cookie == "" {
			continue
		}
		if p.Status != http.StatusNotFound {
			t.Errorf("Disable as %s: %d to %q", who, p.Status, p.Header.Get("Location"))
		}
	}
	if got, _ := repo.Get(context.Background(), "northside"); !got.Enabled {
		t.Fatal("someone other than the operator disabled the clinic")
	}
	if p, _ := ch.send(http.MethodGet, "/console/clinics", admin, nil); strings.Contains(p.Body, "Disable") || strings.Contains(p.Body, "Northside") {
		t.Error("an admin's list offers the operator's clinics or buttons")
	}

	p, _ = ch.send(http.MethodPost, action, ops, form)
	if p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/console/clinics?disabled=northside" {
		t.Fatalf("Disable: %d to %q", p.Status, p.Header.Get("Location"))
	}
	if got, _ := repo.Get(context.Background(), "northside"); got.Enabled {
		t.Fatal("Disable left the clinic enabled")
	}
	p, _ = ch.send(http.MethodGet, p.Header.Get("Location"), ops, nil)
	if !strings.Contains(p.Doc.Find("main .notice").Text(), "Disabled Northside Physio: patients can't book it.") ||
		rows(p)["northside"] != "Northside Physio | northside | Disabled: patients can't book | Enable | Enable Northside Physio" {
		t.Errorf("after Disable: notice %q, row %q", p.Doc.Find("main .notice").Text(), rows(p)["northside"])
	}
	action, form = p.Pressing("Enable")
	p, _ = ch.send(http.MethodPost, action, ops, form)
	if p.Header.Get("Location") != "/console/clinics?enabled=northside" {
		t.Fatalf("Enable: %d to %q", p.Status, p.Header.Get("Location"))
	}
	if got, _ := repo.Get(context.Background(), "northside"); !got.Enabled {
		t.Fatal("Enable left the clinic disabled")
	}
	if p, _ := ch.send(http.MethodPost, "/console/clinics/no-such-clinic/disable", ops, url.Values{}); p.Status != http.StatusNotFound {
		t.Errorf("disabling a clinic that does not exist: %d", p.Status)
	}
}

// lazyRecords is the repo once the harness's database exists.
type lazyRecords struct{ repo **clinics.Repo }

func (l lazyRecords) List(ctx context.Context) ([]clinics.Sealed, error) { return (*l.repo).List(ctx) }
func (l lazyRecords) SetEnabled(ctx context.Context, slug string, enabled bool) (bool, error) {
	return (*l.repo).SetEnabled(ctx, slug, enabled)
}
