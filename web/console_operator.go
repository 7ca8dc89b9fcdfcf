package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/clinic-booking/portal/internal/clinics"
	"github.com/clinic-booking/portal/views"
)

// operatorClinics is the operator's list of clinics: every clinic kept in
// the database, disabled ones too, each with Disable or Enable, as `portal
// clinic disable|enable` does, and those set by the environment; each
// with Check when the portal can check.
func (s *Server) operatorClinics(c echo.Context, m views.ConsoleClinicsPage) error {
	var recs []clinics.Sealed
	if s.console.ClinicRecords != nil {
		var err error
		if recs, err = s.console.ClinicRecords.List(c.Request().Context()); err != nil {
			return fmt.Errorf("operator's clinics: %w", err)
		}
	} else {
		// Clinics from the environment alone (no token keys): each can be
		// checked, none added here.
		m.NoClinicStore = true
	}
	m.Operator = true
	for _, r := range recs {
		cl := views.ConsoleClinic{Name: r.Name, Slug: r.Slug, Role: "operator", Enabled: r.Enabled}
		verb := "disable"
		if r.Enabled {
			cl.URL = "/console/" + url.PathEscape(r.Slug) + "/today"
			cl.StaffURL = s.staffURL(r.Slug)
		} else {
			verb = "enable"
		}
		cl.Toggle = "/console/clinics/" + url.PathEscape(r.Slug) + "/" + verb
		cl.ToggleLabel = strings.ToUpper(verb[:1]) + verb[1:] + " " + r.Name
		s.offerCheck(&cl)
		m.Clinics = append(m.Clinics, cl)
	}
	// A clinic set by the environment is not in the database: shown, and
	// changed only where it is set.
	if s.console.ClinicSlugs != nil {
		for _, slug := range s.console.ClinicSlugs(c.Request().Context()) {
			if slices.ContainsFunc(m.Clinics, func(cl views.ConsoleClinic) bool { return cl.Slug == slug }) {
				continue
			}
			if svc, ok := s.clinics.Clinic(c.Request().Context(), slug); ok {
				cl := views.ConsoleClinic{Name: svc.Clinic().Name, Slug: slug, URL: "/console/" + url.PathEscape(slug) + "/today", Role: "operator", Enabled: true, StaffURL: s.staffURL(slug)}
				s.offerCheck(&cl)
				m.Clinics = append(m.Clinics, cl)
			}
		}
	}
	if slug := c.QueryParam("added"); slug != "" {
		if i := slices.IndexFunc(m.Clinics, func(cl views.ConsoleClinic) bool { return cl.Slug == slug }); i >= 0 {
			m.Notice = "Added " + m.Clinics[i].Name + ". This server serves it now, other servers within their refresh interval; its other settings are under Settings or portal clinic update " + slug + "."
			if m.Clinics[i].StaffURL != "" {
				m.NoticeLink, m.NoticeLinkText = m.Clinics[i].StaffURL, "Invite its admin on its Staff page"
			}
		}
	}
	for _, kv := range [][2]string{{"disabled", "Disabled %s: patients can't book it. Running portals follow within their refresh interval."}, {"enabled", "Enabled %s: patients can book it again. Running portals follow within their refresh interval."}} {
		slug := c.QueryParam(kv[0])
		if i := slices.IndexFunc(m.Clinics, func(cl views.ConsoleClinic) bool { return cl.Slug == slug }); slug != "" && i >= 0 {
			m.Notice = fmt.Sprintf(kv[1], m.Clinics[i].Name)
		}
	}
	slices.SortFunc(m.Clinics, func(a, b views.ConsoleClinic) int { return strings.Compare(a.Name, b.Name) })
	status := http.StatusOK
	if len(m.Add.Errors) > 0 {
		status = http.StatusUnprocessableEntity
	}
	return render(c, status, views.ConsoleClinicsView(m))
}

// addClinicFields are the add-clinic form's fields, by the setting's name
// in clinics.Problem (the command line's), with their labels.
var addClinicFields = []struct{ setting, id, label string }{
	{"slug", "slug", "Address name (slug)"},
	{"name", "name", "Clinic name"},
	{"access-token", "access-token", "coreplus access token"},
	{"phone", "phone", "Phone"},
	{"frame-origins", "frame-origins", "Websites that show the booking form"},
}

// addClinic adds a clinic as `portal clinic add` does: the record checked
// by clinics.Record.Validate (every problem next to its field, what was
// typed kept, but never the access token), its token sealed by the repo.
func (s *Server) addClinic(c echo.Context) error {
	if !staffFrom(c).Operator || s.console.ClinicRecords == nil {
		return s.consoleNotFound(c)
	}
	rec := clinics.NewRecord()
	rec.Slug = strings.TrimSpace(c.FormValue("slug"))
	rec.Name = strings.TrimSpace(c.FormValue("name"))
	rec.AccessToken = clinics.Token(c.FormValue("access_token"))
	rec.Phone = strings.TrimSpace(c.FormValue("phone"))
	for _, o := range strings.Split(c.FormValue("frame_origins"), ",") {
		if o = strings.TrimSpace(o); o != "" {
			rec.FrameOrigins = append(rec.FrameOrigins, o)
		}
	}
	form := views.AddClinicForm{Slug: rec.Slug, Name: rec.Name, Phone: rec.Phone, FrameOrigins: c.FormValue("frame_origins")}
	err := rec.Validate()
	if err == nil {
		err = s.console.ClinicRecords.Add(c.Request().Context(), rec)
	}
	var problems clinics.Problems
	switch {
	case err == nil:
		s.refreshClinics(c)
		return c.Redirect(http.StatusSeeOther, "/console/clinics?"+url.Values{"added": {rec.Slug}}.Encode())
	case errors.Is(err, clinics.ErrDuplicate):
		problems = clinics.Problems{{Field: "slug", Message: fmt.Sprintf("is %q, which another clinic has: choose another", rec.Slug)}}
	case errors.As(err, &problems):
	default:
		return fmt.Errorf("add clinic: %w", err)
	}
	for _, p := range problems {
		for _, f := range addClinicFields {
			if f.setting == p.Field {
				form.Errors = append(form.Errors, views.FieldError{Field: f.id, Message: f.label + " " + p.Message})
			}
		}
	}
	m := views.ConsoleClinicsPage{ConsolePage: s.consolePage(c, nil, "Clinics", ""), SignOutEverywhere: true, Add: form}
	return s.operatorClinics(c, m)
}

func (s *Server) disableClinic(c echo.Context) error { return s.setClinicEnabled(c, false) }
func (s *Server) enableClinic(c echo.Context) error  { return s.setClinicEnabled(c, true) }

// setClinicEnabled disables or enables a clinic for an operator; anyone
// else gets the console's 404, as for any page not theirs.
func (s *Server) setClinicEnabled(c echo.Context, enabled bool) error {
	if !staffFrom(c).Operator || s.console.ClinicRecords == nil {
		return s.consoleNotFound(c)
	}
	slug := c.Param("slug")
	_, err := s.console.ClinicRecords.SetEnabled(c.Request().Context(), slug, enabled)
	switch {
	case errors.Is(err, clinics.ErrNotFound):
		return s.consoleNotFound(c)
	case err != nil:
		return fmt.Errorf("set clinic enabled: %w", err)
	}
	s.refreshClinics(c)
	done := map[bool]string{true: "enabled", false: "disabled"}[enabled]
	return c.Redirect(http.StatusSeeOther, "/console/clinics?"+url.Values{done: {slug}}.Encode())
}

// refreshClinics has this server serve the clinics as now stored, so that
// a clinic just added (and its Staff page) opens at once. The change is
// saved either way: on failure the next scheduled refresh brings it.
func (s *Server) refreshClinics(c echo.Context) {
	if s.console.RefreshClinics == nil {
		return
	}
	if err := s.console.RefreshClinics(c.Request().Context()); err != nil {
		s.log.Warn("reload clinics after a change", "request_id", requestIDFrom(c), "err", err)
	}
}

// staffURL is a clinic's Staff page, "" when there is none.
func (s *Server) staffURL(slug string) string {
	if s.console.Team == nil {
		return ""
	}
	return "/console/" + url.PathEscape(slug) + "/staff"
}
