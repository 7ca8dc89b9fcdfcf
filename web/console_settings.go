package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/internal/clinics"
	"github.com/clinic-booking/portal/internal/staff"
	"github.com/clinic-booking/portal/views"
)

// ClinicSettings reads and saves the clinics' stored settings
// (*clinics.Repo): every save is validated by internal/clinics, checked
// against the revision it was read at, and audited in the same transaction.
type ClinicSettings interface {
	Get(ctx context.Context, slug string) (clinics.Record, error)
	UpdateBy(ctx context.Context, rec clinics.Record, actor string) error
	Audit(ctx context.Context, slug string, limit int, without ...string) ([]clinics.AuditEntry, error)
}

var _ ClinicSettings = (*clinics.Repo)(nil)

// catalogueService is what the settings page asks of a clinic's booking
// service: everything coreplus lists, offered or not.
type catalogueService interface {
	Catalogue(ctx context.Context) (booking.Catalogue, error)
}

// auditRows is how many changes the Audit page lists.
const auditRows = 200

// isClinicAdmin: a clinic's admins and operators change its settings and
// invite and remove its staff; its other staff do neither.
func isClinicAdmin(acc staff.Account, slug string) bool {
	return acc.Operator || acc.RoleIn(slug) == staff.RoleAdmin
}

// requireClinicAdmin answers 404 to anyone who is not the clinic's admin
// (or an operator), as for a page that is not there for them.
func (s *Server) requireClinicAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !isClinicAdmin(staffFrom(c), c.Param("clinic")) {
			return s.consoleNotFound(c)
		}
		return next(c)
	}
}

// settingsRecord reads the clinic's stored record; false (with the page
// answered) for a clinic configured by environment, which has none.
func (s *Server) settingsRecord(c echo.Context, cl booking.Clinic) (clinics.Record, bool, error) {
	rec, err := s.console.Settings.Get(c.Request().Context(), cl.Slug)
	if errors.Is(err, clinics.ErrNotFound) {
		return rec, false, render(c, http.StatusOK, views.ConsoleMessageView(views.ConsoleMessagePage{
			ConsolePage: s.consolePage(c, &cl, "Settings", "Settings"),
			Heading:     "Settings",
			Message:     "This clinic's settings come from the server's environment variables, so they can't be changed here. Ask whoever runs the portal to change them, or to add the clinic with portal clinic add.",
		}))
	}
	if err != nil {
		return rec, false, fmt.Errorf("settings: %w", err)
	}
	return rec, true, nil
}

// settings shows the clinic's settings form.
func (s *Server) settings(c echo.Context) error {
	svc, err := s.clinicFrom(c)
	if err != nil {
		return err
	}
	cl := svc.Clinic()
	rec, ok, err := s.settingsRecord(c, cl)
	if !ok {
		return err
	}
	m := s.settingsPage(c, svc, cl, rec)
	if c.QueryParam("saved") == "1" {
		m.Notice = "Your changes are saved. Every server serves them to patients from its next reload of the clinics' settings (every 30 seconds unless the portal is set otherwise)."
	}
	return render(c, http.StatusOK, views.SettingsView(m))
}

// settingsPage is the form filled from rec.
func (s *Server) settingsPage(c echo.Context, svc ClinicService, cl booking.Clinic, rec clinics.Record) views.SettingsPage {
	m := views.SettingsPage{
		ConsolePage: s.consolePage(c, &cl, "Settings", "Settings"),
		Action:      "/console/" + cl.Slug + "/settings",
		Revision:    strconv.FormatInt(rec.Revision, 10),
		Script:      s.assets.url("js/console-settings.js"),
		Values: views.SettingsValues{
			Name: rec.Name, Phone: rec.Phone, PrivacyURL: rec.PrivacyURL,
			MinNotice: durationWords(rec.MinNotice), WindowDays: strconv.Itoa(rec.WindowDays),
			CancellationCutoff: durationWords(rec.CancellationCutoff), CancellationPolicy: rec.CancellationPolicy,
			EmailReminders: rec.EmailReminders, SMSReminders: rec.SMSReminders,
			BrandColour: rec.Theme.BrandColour, LogoURL: rec.Theme.LogoURL,
			FrameOrigins: strings.Join(rec.FrameOrigins, "\n"), NotificationEmail: rec.NotificationEmail,
			DraftTTL: durationWords(rec.DraftTTL),
		},
	}
	cat, err := svc.Catalogue(c.Request().Context())
	if err != nil {
		m.CatalogueMissing = true
	} else {
		descriptions := map[string]string{}
		for id, p := range rec.PractitionerProfiles {
			descriptions[id] = p.Description
		}
		m.Locations = offerItems(cat.Locations, rec.Locations, rec.Addresses, rec.LocationDirections)
		m.Services = offerItems(cat.Services, rec.Services, rec.ServiceDescriptions, nil)
		m.Practitioners = offerItems(cat.Practitioners, rec.Practitioners, descriptions, nil)
	}
	m.Preview = brandPreview(rec.Theme.BrandColour)
	return m
}

// offerItems lists what coreplus has, then any id the clinic offers that
// coreplus no longer lists; an empty offered list offers everything.
func offerItems(all []booking.Named, offered []string, text, text2 map[string]string) []views.SettingsItem {
	var out []views.SettingsItem
	listed := map[string]bool{}
	for _, n := range all {
		listed[n.ID] = true
		out = append(out, views.SettingsItem{ID: n.ID, Name: n.Name, Checked: len(offered) == 0 || slices.Contains(offered, n.ID), Text: text[n.ID], Text2: text2[n.ID]})
	}
	for _, id := range offered {
		if !listed[id] {
			out = append(out, views.SettingsItem{ID: id, Name: "No longer listed by coreplus (" + id + ")", Checked: true, Text: text[id], Text2: text2[id]})
		}
	}
	return out
}

// durationWords writes a duration as the form reads it back: 2h, 90m, 0.
func durationWords(d time.Duration) string {
	s := d.String()
	s = strings.TrimSuffix(s, "0s")
	s = strings.TrimSuffix(s, "0m")
	if s == "" {
		return "0"
	}
	return s
}

// brandPreview is what patients would see with colour: the portal's own
// theme rules (theme.go) pick the text and link colours.
func brandPreview(colour string) views.BrandPreview {
	brand, ok := parseHexColour(strings.TrimSpace(colour))
	if !ok {
		if strings.TrimSpace(colour) == "" {
			return views.BrandPreview{Contrast: "No brand colour: patients see the portal's own blue."}
		}
		return views.BrandPreview{Contrast: "That is not a hex colour such as #0b5cad, so the portal's own blue is shown."}
	}
	text, link := textOn(brand), linkColour(brand)
	words := "white"
	if text == black {
		words = "black"
	}
	p := views.BrandPreview{Colour: brand.String(), Text: text.String(), Link: link.String()}
	p.Contrast = fmt.Sprintf("Buttons use %s text on %s: contrast %.1f:1. ", words, brand, contrast(brand, text))
	if link == brand {
		p.Contrast += fmt.Sprintf("Links use %s on white: contrast %.1f:1.", link, contrast(link, white))
	} else {
		p.Contrast += fmt.Sprintf("On white it reaches only %.1f:1, so links use %s, darkened to reach %.1f:1.", contrast(brand, white), link, contrast(link, white))
	}
	return p
}

// settingsPreview answers the live preview's question: what patients
// would see with the colour typed, as JSON.
func (s *Server) settingsPreview(c echo.Context) error {
	p := brandPreview(c.QueryParam("brand-colour"))
	return c.JSON(http.StatusOK, map[string]string{"colour": p.Colour, "text": p.Text, "link": p.Link, "contrast": p.Contrast})
}

// saveSettings validates the form through internal/clinics, as the
// commands are, and saves it if the clinic was not changed since the form
// was read. On any problem the form comes back as typed, each message
// next to its field and all of them at the top.
func (s *Server) saveSettings(c echo.Context) error {
	svc, err := s.clinicFrom(c)
	if err != nil {
		return err
	}
	cl := svc.Clinic()
	stored, ok, err := s.settingsRecord(c, cl)
	if !ok {
		return err
	}
	rec := stored
	read, _ := strconv.ParseInt(c.FormValue("revision"), 10, 64)
	rec.Revision = read
	m := s.settingsPage(c, svc, cl, stored)
	m.Revision = strconv.FormatInt(read, 10)
	errs := applySettingsForm(c, &rec, &m)
	m.Preview = brandPreview(m.Values.BrandColour)
	if c.FormValue("action") == "preview" {
		m.Notice = "This is a preview: nothing is saved until you press Save settings."
		return render(c, http.StatusOK, views.SettingsView(m))
	}
	if err := rec.Validate(); err != nil {
		errs = append(errs, settingsProblems(err, m)...)
	}
	if len(errs) == 0 && read != stored.Revision {
		errs = append(errs, staleSettings)
	}
	if len(errs) == 0 {
		err := s.console.Settings.UpdateBy(c.Request().Context(), rec, staffFrom(c).Email)
		switch {
		case errors.Is(err, clinics.ErrChanged):
			errs = append(errs, staleSettings)
		case err != nil:
			var ps clinics.Problems
			if !errors.As(err, &ps) {
				return fmt.Errorf("save settings: %w", err)
			}
			errs = append(errs, settingsProblems(ps, m)...)
		default:
			s.refreshClinics(c) // this server serves the change at once; the others at their next reload
			return c.Redirect(http.StatusSeeOther, "/console/"+cl.Slug+"/settings?saved=1")
		}
	}
	m.Errors = errs
	status := http.StatusUnprocessableEntity
	if slices.Contains(errs, staleSettings) {
		status = http.StatusConflict
	}
	return render(c, status, views.SettingsView(m))
}

// staleSettings is the message for a form read before someone else saved.
var staleSettings = views.FieldError{Field: "settings", Message: "Someone else saved this clinic's settings after you opened this page, so nothing was saved. Your changes are still below: open Settings again to see theirs, then make yours again."}

// applySettingsForm reads the form into rec and the page's values, as
// typed; it returns the problems of values that do not even parse (a
// duration that is not one). The rules of what is allowed are
// internal/clinics' (Validate).
func applySettingsForm(c echo.Context, rec *clinics.Record, m *views.SettingsPage) []views.FieldError {
	var errs []views.FieldError
	v := &m.Values
	field := func(name string) string { return c.FormValue(name) }
	v.Name, v.Phone, v.PrivacyURL = field("name"), field("phone"), field("privacy-url")
	v.NotificationEmail, v.CancellationPolicy = field("notification-email"), field("cancellation-policy")
	v.MinNotice, v.WindowDays, v.CancellationCutoff = field("min-notice"), field("window-days"), field("cancellation-cutoff")
	v.DraftTTL, v.BrandColour, v.LogoURL, v.FrameOrigins = field("draft-ttl"), field("brand-colour"), field("logo-url"), field("frame-origins")
	v.EmailReminders, v.SMSReminders = field("email-reminders") == "true", field("sms-reminders") == "true"

	rec.Name, rec.Phone, rec.PrivacyURL = strings.TrimSpace(v.Name), strings.TrimSpace(v.Phone), strings.TrimSpace(v.PrivacyURL)
	rec.NotificationEmail = strings.TrimSpace(v.NotificationEmail)
	rec.CancellationPolicy = strings.TrimSpace(strings.ReplaceAll(v.CancellationPolicy, "\r\n", "\n"))
	rec.EmailReminders, rec.SMSReminders = v.EmailReminders, v.SMSReminders
	rec.Theme = booking.Theme{BrandColour: strings.TrimSpace(v.BrandColour), LogoURL: strings.TrimSpace(v.LogoURL)}
	rec.FrameOrigins = nil
	for _, o := range strings.FieldsFunc(v.FrameOrigins, func(r rune) bool { return r == '\n' || r == '\r' || r == ',' }) {
		if o = strings.TrimSpace(o); o != "" {
			rec.FrameOrigins = append(rec.FrameOrigins, o)
		}
	}
	for _, d := range []struct {
		name, value string
		into        *time.Duration
	}{
		{"min-notice", v.MinNotice, &rec.MinNotice},
		{"cancellation-cutoff", v.CancellationCutoff, &rec.CancellationCutoff},
		{"draft-ttl", v.DraftTTL, &rec.DraftTTL},
	} {
		s := strings.TrimSpace(d.value)
		if s == "0" {
			*d.into = 0
			continue
		}
		parsed, err := time.ParseDuration(s)
		if err != nil {
			errs = append(errs, views.FieldError{Field: d.name, Message: clinics.SettingLabel(d.name) + " is not a length of time: enter one such as 2h, 90m or 24h"})
			continue
		}
		*d.into = parsed
	}
	if n, err := strconv.Atoi(strings.TrimSpace(v.WindowDays)); err != nil {
		errs = append(errs, views.FieldError{Field: "window-days", Message: "Booking window is not a whole number of days: enter one from 1 to 730"})
	} else {
		rec.WindowDays = n
	}

	if c.FormValue("catalogue") != "shown" || m.CatalogueMissing {
		return errs // the lists and texts were not on the form: they stay as stored
	}
	form, _ := c.FormParams()
	offered := func(name string, items []views.SettingsItem) ([]string, bool) {
		ids := form[name]
		var known []string
		for i := range items {
			items[i].Checked = slices.Contains(ids, items[i].ID)
			if items[i].Checked {
				known = append(known, items[i].ID)
			}
		}
		if len(known) == 0 {
			errs = append(errs, views.FieldError{Field: name, Message: "Tick at least one of the " + name + ": with none ticked, patients could not book"})
			return nil, false
		}
		if len(known) == len(items) {
			return nil, true // all: and whatever coreplus adds later
		}
		return known, true
	}
	texts := func(prefix string, items []views.SettingsItem, set func(*views.SettingsItem, string)) map[string]string {
		out := map[string]string{}
		for i := range items {
			t := c.FormValue(prefix + items[i].ID)
			set(&items[i], t)
			if t = strings.TrimSpace(t); t != "" {
				out[items[i].ID] = t
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	}
	if ids, ok := offered("locations", m.Locations); ok {
		rec.Locations = ids
	}
	if ids, ok := offered("services", m.Services); ok {
		rec.Services = ids
	}
	if ids, ok := offered("practitioners", m.Practitioners); ok {
		rec.Practitioners = ids
	}
	rec.Addresses = texts("locations-text-", m.Locations, func(it *views.SettingsItem, t string) { it.Text = t })
	rec.LocationDirections = texts("locations-text2-", m.Locations, func(it *views.SettingsItem, t string) { it.Text2 = t })
	rec.ServiceDescriptions = texts("services-text-", m.Services, func(it *views.SettingsItem, t string) { it.Text = t })
	descriptions := texts("practitioners-text-", m.Practitioners, func(it *views.SettingsItem, t string) { it.Text = t })
	// A practitioner's profile keeps the services it lists (set by the
	// command line); only the description is edited here.
	profiles := map[string]booking.PractitionerProfile{}
	for id, p := range rec.PractitionerProfiles {
		if len(p.Services) > 0 {
			profiles[id] = booking.PractitionerProfile{Services: p.Services}
		}
	}
	for id, d := range descriptions {
		p := profiles[id]
		p.Description = d
		profiles[id] = p
	}
	rec.PractitionerProfiles = profiles
	if len(profiles) == 0 {
		rec.PractitionerProfiles = nil
	}
	return errs
}

// settingsProblems places each of internal/clinics' problems next to its
// field, in the words of the form: a text about one location, service or
// practitioner next to that one's box.
func settingsProblems(err error, m views.SettingsPage) []views.FieldError {
	var ps clinics.Problems
	if !errors.As(err, &ps) {
		return []views.FieldError{{Field: "name", Message: "The settings could not be checked: try again."}}
	}
	itemField := map[string]struct {
		prefix string
		items  []views.SettingsItem
	}{
		"addresses":             {"locations-text-", m.Locations},
		"location-directions":   {"locations-text2-", m.Locations},
		"service-descriptions":  {"services-text-", m.Services},
		"practitioner-profiles": {"practitioners-text-", m.Practitioners},
	}
	var out []views.FieldError
	for _, p := range ps {
		label := clinics.SettingLabel(p.Field)
		if label == "" {
			label = p.Field
		}
		fe := views.FieldError{Field: p.Field, Message: label + " " + p.Message}
		if f, ok := itemField[p.Field]; ok {
			fe.Field = "locations"
			if strings.HasPrefix(f.prefix, "services") {
				fe.Field = "services"
			} else if strings.HasPrefix(f.prefix, "practitioners") {
				fe.Field = "practitioners"
			}
			for _, it := range f.items {
				if rest, ok := strings.CutPrefix(p.Message, "for "+strconv.Quote(it.ID)+" "); ok {
					fe = views.FieldError{Field: f.prefix + it.ID, Message: label + " for " + it.Name + " " + rest}
				}
			}
		}
		out = append(out, fe)
	}
	return out
}

// audit lists the clinic's changed settings, newest first, in the clinic's
// time zone.
func (s *Server) audit(c echo.Context) error {
	svc, err := s.clinicFrom(c)
	if err != nil {
		return err
	}
	cl := svc.Clinic()
	ctx := c.Request().Context()
	// Who was invited and removed is for those who invite and remove:
	// the addresses of the clinic's staff are not every colleague's. They
	// are left out by the query, so the others still see the latest
	// auditRows changes of the rest.
	var without []string
	if !isClinicAdmin(staffFrom(c), cl.Slug) {
		without = append(without, staff.AuditSetting)
	}
	entries, err := s.console.Settings.Audit(ctx, cl.Slug, auditRows, without...)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	zone := referenceNames(ctx, svc).zone
	m := views.AuditPage{ConsolePage: s.consolePage(c, &cl, "Audit", "Audit")}
	for _, e := range entries {
		label := clinics.SettingLabel(e.Setting)
		if label == "" {
			label = e.Setting
		}
		m.Rows = append(m.Rows, views.AuditRow{
			When: e.At.In(zone).Format("Mon 2 Jan 2006, 3:04 pm MST"), Who: e.Actor, Setting: label, From: e.OldValue, To: e.NewValue,
		})
	}
	if len(entries) == auditRows {
		m.Note = fmt.Sprintf("The latest %d changes are shown.", auditRows)
	}
	return render(c, http.StatusOK, views.AuditView(m))
}
