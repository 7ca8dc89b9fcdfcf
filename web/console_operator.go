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
// clinic disable|enable` does.
func (s *Server) operatorClinics(c echo.Context, m views.ConsoleClinicsPage) error {
	recs, err := s.console.ClinicRecords.List(c.Request().Context())
	if err != nil {
		return fmt.Errorf("operator's clinics: %w", err)
	}
	m.Operator = true
	for _, r := range recs {
		cl := views.ConsoleClinic{Name: r.Name, Slug: r.Slug, Role: "operator", Enabled: r.Enabled}
		verb := "disable"
		if r.Enabled {
			cl.URL = "/console/" + url.PathEscape(r.Slug) + "/today"
		} else {
			verb = "enable"
		}
		cl.Toggle = "/console/clinics/" + url.PathEscape(r.Slug) + "/" + verb
		cl.ToggleLabel = strings.ToUpper(verb[:1]) + verb[1:] + " " + r.Name
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
				m.Clinics = append(m.Clinics, views.ConsoleClinic{Name: svc.Clinic().Name, Slug: slug, URL: "/console/" + url.PathEscape(slug) + "/today", Role: "operator", Enabled: true})
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
	return render(c, http.StatusOK, views.ConsoleClinicsView(m))
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
	done := map[bool]string{true: "enabled", false: "disabled"}[enabled]
	return c.Redirect(http.StatusSeeOther, "/console/clinics?"+url.Values{done: {slug}}.Encode())
}
