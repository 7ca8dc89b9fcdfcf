package web

import (
	"bytes"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/views"
)

// render writes a whole page or nothing: a failed render becomes a clean
// error page instead of half a page.
func render(c echo.Context, status int, page templ.Component) error {
	var buf bytes.Buffer
	if err := page.Render(c.Request().Context(), &buf); err != nil {
		return err
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// page fills the layout fields every page shares.
func (s *Server) page(c echo.Context, clinic *booking.Clinic, title string) views.Page {
	p := views.Page{Title: title, Asset: s.assets.url, Embed: c.QueryParam("embed") == "1"}
	if clinic != nil {
		p.ClinicName = clinic.Name
		p.ClinicSlug = clinic.Slug
		p.Phone = clinic.Phone
	}
	return p
}

// clinicFrom finds the clinic named in the URL or answers 404.
func (s *Server) clinicFrom(c echo.Context) (*booking.Service, error) {
	svc, ok := s.clinics.Clinic(c.Request().Context(), c.Param("clinic"))
	if !ok {
		return nil, &booking.Error{Code: booking.CodeNotFound, Message: "We couldn't find that clinic. Check the link you followed, or contact the clinic."}
	}
	return svc, nil
}
