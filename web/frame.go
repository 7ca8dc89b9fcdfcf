package web

import (
	"strings"

	"github.com/labstack/echo/v4"
)

// framePolicy lets a clinic's own sites embed its pages: a CSP
// frame-ancestors list, and no X-Frame-Options (which cannot name several
// sites). Pages of unknown clinics keep the default frame-ancestors 'none'.
func (s *Server) framePolicy(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if svc, ok := s.clinics.Clinic(c.Request().Context(), c.Param("clinic")); ok {
			ancestors := append([]string{"'self'"}, svc.Clinic().FrameOrigins...)
			h := c.Response().Header()
			h.Del("X-Frame-Options")
			h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors "+strings.Join(ancestors, " ")+"; base-uri 'none'; form-action 'self'")
		}
		return next(c)
	}
}
