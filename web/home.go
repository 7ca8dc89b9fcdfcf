package web

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"
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
