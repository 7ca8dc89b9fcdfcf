package web

import (
	"context"
	"html"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/views"
)

// embedCodeService is what the embed-code page asks of a clinic's booking
// service: the reference data, for the deep-link example.
type embedCodeService interface {
	Clinic() booking.Clinic
	Locations(ctx context.Context) ([]booking.Location, error)
	Services(ctx context.Context) ([]booking.ServiceType, error)
}

// embedCode shows clinic staff the two snippets for their website. It is
// not embeddable, so it sends frame-ancestors 'none'.
func (s *Server) embedCode(c echo.Context) error {
	svc, err := s.clinicFrom(c)
	if err != nil {
		return err
	}
	cl := svc.Clinic()
	c.Response().Header().Set("Content-Security-Policy", contentPolicy(cl, []string{"'none'"}))
	base := s.portalBase(c)
	attr := html.EscapeString
	m := views.EmbedCodePage{
		Page:    s.page(c, &cl, "Embed code"),
		Loader:  `<script src="` + attr(base+"/embed.js") + `" data-clinic="` + attr(cl.Slug) + `" async></script>`,
		Iframe:  `<iframe src="` + attr(base+"/"+url.PathEscape(cl.Slug)+"/book?embed=1") + `" title="` + attr("Book an appointment with "+cl.Name) + `" width="100%" height="800" style="border:0" loading="lazy"></iframe>`,
		Origins: cl.FrameOrigins,
	}
	// The ids are a convenience: the snippets are shown even when coreplus
	// does not answer.
	ctx := c.Request().Context()
	if locs, err := svc.Locations(ctx); err == nil {
		for _, l := range locs {
			m.Locations = append(m.Locations, views.NamedID{Name: l.Name, ID: l.ID})
		}
	}
	if types, err := svc.Services(ctx); err == nil {
		for _, t := range types {
			m.Services = append(m.Services, views.NamedID{Name: t.Name, ID: t.ID})
		}
	}
	if len(m.Locations) > 0 && len(m.Services) > 0 {
		m.DeepLink = `<script src="` + attr(base+"/embed.js") + `" data-clinic="` + attr(cl.Slug) +
			`" data-location="` + attr(m.Locations[0].ID) + `" data-service="` + attr(m.Services[0].ID) + `" async></script>`
	}
	return render(c, http.StatusOK, views.EmbedCodeView(m))
}

// portalBase is the portal's address for the snippets
// ("https://book.example.com"): PUBLIC_URL when set, else as the browser
// reached it.
func (s *Server) portalBase(c echo.Context) string {
	if s.publicURL != "" {
		return s.publicURL
	}
	return c.Scheme() + "://" + c.Request().Host
}
