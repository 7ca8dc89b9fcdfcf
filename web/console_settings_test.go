package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/internal/booking/bookingstore"
	"github.com/clinic-booking/portal/internal/clinics"
	"github.com/clinic-booking/portal/internal/coreplus/sandbox"
	"github.com/clinic-booking/portal/internal/staff"
)

// storedRecord is a test clinic as `portal clinic add` would store it.
func storedRecord(c booking.Clinic) clinics.Record {
	r := clinics.NewRecord()
	r.Slug, r.Name, r.Phone, r.PrivacyURL = c.Slug, c.Name, c.Phone, c.PrivacyURL
	r.AccessToken = clinics.Token(sandbox.DemoAccessToken)
	r.EmailReminders, r.SMSReminders = c.EmailReminders, c.SMSReminders
	r.FrameOrigins, r.Addresses, r.PractitionerProfiles = c.FrameOrigins, c.Addresses, c.Practitioners
	r.Locations, r.Services, r.Practitioners = c.Locations, c.Services, c.OfferedPractitioners
	return r
}

// settingsForm is what pressing button on the settings page sends, every
// ticked box of a group included (a browser sends each).
func settingsForm(t *testing.T, p *page, button string) (string, url.Values) {
	t.Helper()
	action, form := p.Pressing(button)
	for _, group := range []string{"locations", "services", "practitioners"} {
		form.Del(group)
		p.Doc.Find(`input[type=checkbox][name="` + group + `"][checked]`).Each(func(_ int, s *goquery.Selection) {
			form.Add(group, s.AttrOr("value", ""))
		})
	}
	return action, form
}

func TestConsoleSettingsRoundTrip(t *testing.T) {
	ch := newConsoleHarness(t)
	ch.addStaff("admin@demo.example", "demo", staff.RoleAdmin, false)
	admin := ch.signIn("admin@demo.example")
	ctx := context.Background()

	p, _ := ch.send("GET", "/console/demo/settings", admin, nil)
	p.WantH1("Settings")
	if v := p.Labelled("Phone").AttrOr("value", ""); v != "07 3000 0000" {
		t.Errorf("phone shows %q", v)
	}
	// Offered everything (no list stored): every location ticked, by name.
	for _, name := range []string{"Harbourside Physio Surry Hills", "Riverside Physio South Brisbane"} {
		if _, ok := p.Labelled(name).Attr("checked"); !ok {
			t.Errorf("location %q is not ticked", name)
		}
	}
	if strings.Contains(p.Body, sandbox.DemoAccessToken) || strings.Contains(p.Body, "access-token") {
		t.Error("the settings page shows the access token or a field for it")
	}

	action, form := settingsForm(t, p, "Save settings")
	form.Set("phone", "02 9000 0000")
	form.Set("brand-colour", "#aa3300")
	form.Set("cancellation-policy", "Please give a day's notice.")
	form.Set("locations", sandbox.LocationSydneyID) // Brisbane no longer offered
	form.Set("locations-text2-"+sandbox.LocationSydneyID, "Level 2: the lift is beside the pharmacy")
	form.Set("frame-origins", "https://www.example-clinic.com.au\nhttps://booking.example-clinic.com.au")
	form.Del("sms-reminders")
	p, _ = ch.send("POST", action, admin, form)
	if p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/console/demo/settings?saved=1" {
		t.Fatalf("save: status %d, Location %q:\n%s", p.Status, p.Header.Get("Location"), p.Text())
	}

	p, _ = ch.send("GET", "/console/demo/settings?saved=1", admin, nil)
	if !strings.Contains(p.Text(), "Your changes are saved") || p.Labelled("Phone").AttrOr("value", "") != "02 9000 0000" ||
		p.Labelled("Brand colour").AttrOr("value", "") != "#aa3300" {
		t.Errorf("after saving, the form shows:\n%s", p.Text())
	}
	if _, ok := p.Labelled("Riverside Physio South Brisbane").Attr("checked"); ok {
		t.Error("Brisbane is still ticked after it was unticked")
	}
	rec, err := ch.repo.Get(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	if rec.Phone != "02 9000 0000" || rec.Theme.BrandColour != "#aa3300" || strings.Join(rec.Locations, ",") != sandbox.LocationSydneyID ||
		rec.LocationDirections[sandbox.LocationSydneyID] != "Level 2: the lift is beside the pharmacy" || rec.SMSReminders || !rec.EmailReminders ||
		len(rec.FrameOrigins) != 2 || rec.Revision != 2 || rec.AccessToken.Reveal() != sandbox.DemoAccessToken ||
		rec.Addresses[sandbox.LocationBrisbaneID] == "" || rec.PractitionerProfiles[sandbox.PractitionerPriyaID].Description != "Sports injuries and running" {
		t.Errorf("stored after saving: %+v", rec)
	}

	// A second portal over the same database (a replica) serves the change
	// once its directory reloads.
	replica, err := booking.NewLoadingDirectory(ctx, ch.repo.Loader(func(c booking.Clinic, _ clinics.Token) (*booking.Service, error) {
		return booking.NewService(c, ch.api, bookingstore.New(ch.db), nil), nil
	}), time.Nanosecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	if svc, ok := replica.Clinic(ctx, "demo"); !ok || svc.Clinic().Phone != "02 9000 0000" || svc.Clinic().CancellationPolicy != "Please give a day's notice." {
		t.Errorf("the replica does not serve the saved settings")
	}

	// The audit: each change, by the admin, the values before and after.
	p, _ = ch.send("GET", "/console/demo/audit", admin, nil)
	p.WantH1("Audit")
	rows := map[string][]string{}
	p.Doc.Find("main tbody tr").Each(func(_ int, s *goquery.Selection) {
		var cells []string
		s.Find("td").Each(func(_ int, td *goquery.Selection) { cells = append(cells, strings.TrimSpace(td.Text())) })
		rows[cells[2]] = cells
	})
	for setting, want := range map[string][2]string{
		"Phone":                             {"07 3000 0000", "02 9000 0000"},
		"Brand colour":                      {"(none)", "#aa3300"},
		"Cancellation policy":               {"(none)", "Please give a day's notice."},
		"SMS reminders":                     {"true", "false"},
		"Locations offered":                 {"all", sandbox.LocationSydneyID},
		"Sites allowed to embed the portal": {"https://www.example-clinic.com.au", "https://www.example-clinic.com.au, https://booking.example-clinic.com.au"},
	} {
		r := rows[setting]
		if len(r) != 5 || r[1] != "admin@demo.example" || r[3] != want[0] || r[4] != want[1] {
			t.Errorf("audit row for %s: %q, want by admin@demo.example from %q to %q", setting, r, want[0], want[1])
		}
	}
	if len(rows) != 7 { // and the location directions
		t.Errorf("audit has %d rows, want 7: %v", len(rows), rows)
	}
	if strings.Contains(ch.logs.String(), "admin@demo.example") {
		t.Error("the logs name the staff member")
	}
}

func TestConsoleSettingsShowEachProblemNextToItsField(t *testing.T) {
	ch := newConsoleHarness(t)
	ch.addStaff("admin@demo.example", "demo", staff.RoleAdmin, false)
	admin := ch.signIn("admin@demo.example")
	p, _ := ch.send("GET", "/console/demo/settings", admin, nil)
	action, good := settingsForm(t, p, "Save settings")
	long := strings.Repeat("x", 201)
	for _, tc := range []struct {
		field, value string // value "" unticks every box of a group
		errorField   string
		want         string
	}{
		{"name", " ", "name", "Name is empty"},
		{"phone", strings.Repeat("1", 41), "phone", "Phone is longer than 40 characters"},
		{"privacy-url", "privacy please", "privacy-url", "Privacy policy is \"privacy please\": expected an absolute http(s) URL"},
		{"notification-email", "front desk", "notification-email", "Notification email is \"front desk\": expected one email address"},
		{"min-notice", "soon", "min-notice", "Shortest notice is not a length of time"},
		{"window-days", "1000", "window-days", "Booking window is 1000: expected a whole number of days from 1 to 730"},
		{"window-days", "many", "window-days", "Booking window is not a whole number of days"},
		{"cancellation-cutoff", "-1h", "cancellation-cutoff", "Online cancellation cut-off is -1h0m0s"},
		{"draft-ttl", "5m", "draft-ttl", "Typed details kept for is 5m0s"},
		{"brand-colour", "blue", "brand-colour", "Brand colour is \"blue\": expected a hex colour such as #0b5cad"},
		{"logo-url", "http://example.com/logo.png", "logo-url", "Logo is \"http://example.com/logo.png\": expected an absolute https URL"},
		{"frame-origins", "https://ok.example\nwww.example.com", "frame-origins", "has \"www.example.com\""},
		{"locations-text2-" + sandbox.LocationSydneyID, long, "locations-text2-" + sandbox.LocationSydneyID, "Location directions for Harbourside Physio Surry Hills is 201 characters: expected at most 200"},
		{"services-text-" + sandbox.AppointmentTypeStandardID, "two\u0007lines", "services-text-" + sandbox.AppointmentTypeStandardID, "Service descriptions for Standard Consultation has a line break or control character"},
		{"locations", "", "locations", "Tick at least one of the locations"},
	} {
		form := url.Values{}
		for k, v := range good {
			form[k] = v
		}
		if tc.value == "" {
			form.Del(tc.field)
		} else {
			form.Set(tc.field, tc.value)
		}
		p, _ := ch.send("POST", action, admin, form)
		if p.Status != http.StatusUnprocessableEntity {
			t.Errorf("%s %q: status %d, want 422", tc.field, tc.value, p.Status)
			continue
		}
		summary := p.Doc.Find(`.error-summary a[href="#` + tc.errorField + `"]`)
		if !strings.Contains(summary.Text(), tc.want) {
			t.Errorf("%s %q: the summary says %q, want a link to #%s saying %q", tc.field, tc.value, p.Doc.Find(".error-summary").Text(), tc.errorField, tc.want)
		}
		if next := p.Doc.Find("#" + tc.errorField + "-error").Text(); !strings.Contains(next, tc.want) {
			t.Errorf("%s %q: next to the field: %q, want %q", tc.field, tc.value, next, tc.want)
		}
		if tc.value != "" {
			ctl := p.Doc.Find(`[name="` + tc.field + `"]`)
			kept := ctl.AttrOr("value", "")
			if goquery.NodeName(ctl) == "textarea" {
				kept = ctl.Text()
			}
			if kept != tc.value {
				t.Errorf("%s: the input %q was not kept: %q", tc.field, tc.value, kept)
			}
			if ctl.AttrOr("aria-invalid", "") != "true" {
				t.Errorf("%s: the field is not marked invalid", tc.field)
			}
		}
		// What else was typed is kept too.
		if p.Labelled("Phone").AttrOr("value", "") != good.Get("phone") && tc.field != "phone" {
			t.Errorf("%s: the other fields were not kept", tc.field)
		}
	}
	rec, _ := ch.repo.Get(context.Background(), "demo")
	audit, _ := ch.repo.Audit(context.Background(), "demo", 10)
	if rec.Revision != 1 || len(audit) != 0 {
		t.Errorf("refused forms changed the clinic (revision %d) or left %d audit rows", rec.Revision, len(audit))
	}
}

func TestConsoleSettingsRefuseAStaleForm(t *testing.T) {
	ch := newConsoleHarness(t)
	ch.addStaff("admin@demo.example", "demo", staff.RoleAdmin, false)
	admin := ch.signIn("admin@demo.example")
	ctx := context.Background()
	p, _ := ch.send("GET", "/console/demo/settings", admin, nil)
	action, form := settingsForm(t, p, "Save settings")

	// Someone else saves first (here, the command line).
	rec, _ := ch.repo.Get(ctx, "demo")
	rec.Phone = "1300 000 000"
	if err := ch.repo.UpdateBy(ctx, rec, clinics.ActorCommandLine); err != nil {
		t.Fatal(err)
	}
	form.Set("name", "Harbourside Physio and Pilates")
	p, _ = ch.send("POST", action, admin, form)
	if p.Status != http.StatusConflict || !strings.Contains(p.Doc.Find(".error-summary").Text(), "Someone else saved this clinic's settings") {
		t.Fatalf("stale save: status %d:\n%s", p.Status, p.Text())
	}
	if p.Labelled("Name").AttrOr("value", "") != "Harbourside Physio and Pilates" {
		t.Error("the stale form did not keep what was typed")
	}
	if p.Doc.Find(`.error-summary a[href="#settings"]`).Length() != 1 || p.Doc.Find("#settings").Length() != 1 || p.Doc.Find(".field-error").Length() != 0 {
		t.Error("the stale form's message should lead to the form, and blame no one field")
	}
	rec, _ = ch.repo.Get(ctx, "demo")
	audit, _ := ch.repo.Audit(ctx, "demo", 10)
	if rec.Phone != "1300 000 000" || rec.Name != "Harbourside Physio (test)" || rec.Revision != 2 || len(audit) != 1 || audit[0].Actor != "command line" {
		t.Errorf("after the stale save: %q %q revision %d, audit %+v", rec.Name, rec.Phone, rec.Revision, audit)
	}
}

func TestConsoleSettingsBrandPreview(t *testing.T) {
	ch := newConsoleHarness(t)
	ch.addStaff("admin@demo.example", "demo", staff.RoleAdmin, false)
	admin := ch.signIn("admin@demo.example")
	p, _ := ch.send("GET", "/console/demo/settings", admin, nil)

	// Without script: "Preview without saving" shows the colour typed and
	// the contrast it reaches, and saves nothing.
	action, form := settingsForm(t, p, "Preview without saving")
	form.Set("brand-colour", "#ffcc00")
	p, _ = ch.send("POST", action, admin, form)
	contrast := p.Doc.Find("#brand-contrast").Text()
	if p.Status != http.StatusOK || !strings.Contains(contrast, "Buttons use black text on #ffcc00") || !strings.Contains(contrast, "darkened to reach") ||
		p.Doc.Find("#brand-preview").AttrOr("data-colour", "") != "#ffcc00" || p.Labelled("Brand colour").AttrOr("value", "") != "#ffcc00" {
		t.Errorf("preview: status %d, contrast %q", p.Status, contrast)
	}
	if rec, _ := ch.repo.Get(context.Background(), "demo"); rec.Revision != 1 {
		t.Error("the preview saved the settings")
	}

	// With script: the same answer as JSON.
	p, _ = ch.send("GET", "/console/demo/settings/preview?brand-colour=%230b5cad", admin, nil)
	var got map[string]string
	if err := json.Unmarshal([]byte(p.Body), &got); err != nil || got["colour"] != "#0b5cad" || got["text"] != "#ffffff" ||
		!strings.Contains(got["contrast"], "Buttons use white text on #0b5cad: contrast") {
		t.Errorf("preview JSON %s: %v", p.Body, err)
	}
}
