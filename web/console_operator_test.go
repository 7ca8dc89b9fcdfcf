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
			r.Find("td").Each(func(_ int, c *goquery.Selection) {
				c = c.Clone()
				c.Find("a.button").Remove()
				cells = append(cells, strings.TrimSpace(c.Text()))
			})
			label := r.Find("button").AttrOr("aria-label", "")
			staff := r.Find("a.button")
			got[cells[1]] = strings.Join(append(cells, label, staff.AttrOr("aria-label", "")+" "+staff.AttrOr("href", "")), " | ")
		})
		return got
	}
	p, _ := ch.send(http.MethodGet, "/console/clinics", ops, nil)
	got := rows(p)
	for slug, want := range map[string]string{
		"northside": "Northside Physio | northside | Enabled | Disable | Disable Northside Physio | Staff of Northside Physio /console/northside/staff",
		// The console's harness keeps "demo" in the database, as Settings
		// needs; "other" is set by the environment.
		"demo":  "Harbourside Physio (test) | demo | Enabled | Disable | Disable Harbourside Physio (test) | Staff of Harbourside Physio (test) /console/demo/staff",
		"other": "Otherside Podiatry (test) | other | Enabled | Set by the portal's environment |  | Staff of Otherside Podiatry (test) /console/other/staff",
	} {
		if got[slug] != want {
			t.Errorf("the operator's list, %s: %q, want %q", slug, got[slug], want)
		}
	}
	if strings.Contains(p.Body, "northside-secret-token") {
		t.Error("the list shows the access token")
	}
	var action string
	p.Doc.Find("main form").Each(func(_ int, f *goquery.Selection) {
		if a := f.AttrOr("action", ""); strings.HasSuffix(a, "/northside/disable") {
			action = a
		}
	})
	if action != "/console/clinics/northside/disable" {
		t.Fatalf("Northside's Disable posts to %q", action)
	}
	form := url.Values{}

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
		rows(p)["northside"] != "Northside Physio | northside | Disabled: patients can't book | Enable | Enable Northside Physio |  " {
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

func (l lazyRecords) Add(ctx context.Context, rec clinics.Record) error {
	return (*l.repo).Add(ctx, rec)
}
func (l lazyRecords) List(ctx context.Context) ([]clinics.Sealed, error) { return (*l.repo).List(ctx) }
func (l lazyRecords) SetEnabled(ctx context.Context, slug string, enabled bool) (bool, error) {
	return (*l.repo).SetEnabled(ctx, slug, enabled)
}

// TestOperatorAddsAClinic: the add-clinic form checks what was typed with
// clinics.Record.Validate, each problem next to its field and what was
// typed kept, except the access token, which is sealed and never shown.
func TestOperatorAddsAClinic(t *testing.T) {
	var repo *clinics.Repo
	ch := newConsoleHarness(t, func(c *web.Config) { c.Console.ClinicRecords = lazyRecords{&repo} })
	keys, err := clinics.ParseKeyring(strings.Repeat("cd", 32))
	if err != nil {
		t.Fatal(err)
	}
	repo = clinics.NewRepo(ch.db, keys)
	ch.addStaff("ops@host.example", "", "", true)
	ch.addStaff("admin@demo.example", "demo", staff.RoleAdmin, false)
	ops := ch.signIn("ops@host.example")
	const token = "westside-token-abcdefghij-1234"

	p, _ := ch.send(http.MethodGet, "/console/clinics", ops, nil)
	action, form := p.Pressing("Add the clinic")
	form.Set("slug", "West Side")
	form.Set("name", "Westside Physio")
	form.Set("access_token", token)
	form.Set("frame_origins", "ftp://westside.example")
	p, _ = ch.send(http.MethodPost, action, ops, form)
	if p.Status != http.StatusUnprocessableEntity {
		t.Fatalf("bad input: %d", p.Status)
	}
	for id, want := range map[string]string{
		"slug":          `Address name (slug) is "West Side": expected 1 to 40 lower-case letters`,
		"frame-origins": `Websites that show the booking form has "ftp://westside.example"`,
	} {
		if got := p.Doc.Find("#" + id + "-error").Text(); !strings.Contains(got, want) {
			t.Errorf("the %s field's message %q, want %q", id, got, want)
		}
		if p.Doc.Find("#"+id).AttrOr("aria-invalid", "") != "true" {
			t.Errorf("the %s field is not marked invalid", id)
		}
	}
	if p.Doc.Find(".error-summary").Length() != 1 || p.Doc.Find("#name").AttrOr("value", "") != "Westside Physio" {
		t.Errorf("no summary, or the name typed was lost")
	}
	if strings.Contains(p.Body, token) || p.Doc.Find("#access-token").AttrOr("value", "") != "" {
		t.Error("the access token came back in the page")
	}
	if list, _ := repo.List(context.Background()); len(list) != 1 || list[0].Slug != "demo" {
		t.Fatalf("a bad clinic was added beside the harness's demo: %d clinics", len(list))
	}

	// Only operators can add.
	staffForm := url.Values{"slug": {"westside"}, "name": {"Westside Physio"}, "access_token": {token}}
	if p, _ := ch.send(http.MethodPost, "/console/clinics", ch.signIn("admin@demo.example"), staffForm); p.Status != http.StatusNotFound {
		t.Errorf("an admin adding a clinic: %d", p.Status)
	}

	form.Set("slug", "westside")
	form.Set("frame_origins", "https://www.westside.example")
	form.Set("access_token", token)
	p, _ = ch.send(http.MethodPost, action, ops, form)
	if p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/console/clinics?added=westside" {
		t.Fatalf("adding: %d to %q\n%s", p.Status, p.Header.Get("Location"), p.Text())
	}
	got, err := repo.Get(context.Background(), "westside")
	if err != nil || got.AccessToken.Reveal() != token || got.Name != "Westside Physio" || !got.Enabled || len(got.FrameOrigins) != 1 {
		t.Fatalf("the clinic stored: %+v, %v", got, err)
	}
	p, _ = ch.send(http.MethodGet, p.Header.Get("Location"), ops, nil)
	if !strings.Contains(p.Doc.Find("main .notice").Text(), "Added Westside Physio.") || strings.Contains(p.Body, token) {
		t.Errorf("after adding: %q", p.Doc.Find("main .notice").Text())
	}

	// The same slug again is refused at the field.
	form.Set("access_token", token)
	p, _ = ch.send(http.MethodPost, action, ops, form)
	if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Doc.Find("#slug-error").Text(), "which another clinic has") {
		t.Errorf("a taken slug: %d %q", p.Status, p.Doc.Find("#slug-error").Text())
	}
}
