package web

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/clinic-booking/portal/views"
)

func (s *Server) healthz(c echo.Context) error {
	if s.ready != nil {
		if err := s.ready(c.Request().Context()); err != nil {
			s.log.Error("health check failed", "err", err)
			return c.String(http.StatusServiceUnavailable, "not ready\n")
		}
	}
	return c.String(http.StatusOK, "ok\n")
}

// root sends a single-clinic deployment straight to its clinic.
func (s *Server) root(c echo.Context) error {
	if slug, ok := s.clinics.Default(); ok {
		return c.Redirect(http.StatusFound, "/"+url.PathEscape(slug))
	}
	return echo.ErrNotFound
}

// locations is the first step: where the patient wants to be seen.
func (s *Server) locations(c echo.Context) error {
	svc, err := s.clinicFrom(c)
	if err != nil {
		return err
	}
	locs, err := svc.Locations(c.Request().Context())
	if err != nil {
		return err
	}
	clinic := svc.Clinic()
	m := views.LocationsPage{Page: s.page(c, &clinic, "Choose a location")}
	for _, l := range locs {
		m.Locations = append(m.Locations, views.LocationChoice{
			Name:     l.Name,
			TimeZone: l.TimeZoneName,
			Href:     "/" + url.PathEscape(clinic.Slug) + "/book?location=" + url.QueryEscape(l.ID),
		})
	}
	return render(c, http.StatusOK, views.LocationsView(m))
}
