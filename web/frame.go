package web

import (
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/clinic-booking/portal/internal/booking"
)

// framePolicy lets a clinic's own sites embed its pages: a CSP
// frame-ancestors list, and no X-Frame-Options (which cannot name several
// sites). Pages of unknown clinics keep the default frame-ancestors 'none'.
func (s *Server) framePolicy(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if svc, ok := s.clinics.Clinic(c.Request().Context(), c.Param("clinic")); ok {
			cl := svc.Clinic()
			h := c.Response().Header()
			h.Del("X-Frame-Options")
			h.Set("Content-Security-Policy", contentPolicy(cl, append([]string{"'self'"}, cl.FrameOrigins...)))
		}
		return next(c)
	}
}

// contentPolicy is the CSP of a clinic's pages: its own files only, the
// inline theme by its hash, the logo's site, and the given frame ancestors.
func contentPolicy(cl booking.Clinic, ancestors []string) string {
	th := themeFor(cl.Theme)
	p := "default-src 'self'"
	if th.styleHash != "" {
		p += "; style-src 'self' " + th.styleHash
	}
	if th.logoOrigin != "" {
		p += "; img-src 'self' " + th.logoOrigin
	}
	return p + "; frame-ancestors " + strings.Join(ancestors, " ") + "; base-uri 'none'; form-action 'self'"
}
