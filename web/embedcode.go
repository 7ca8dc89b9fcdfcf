package web

import (
	"context"
	"html"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/clinic-booking/portal/internal/booking"
)

// embedCodeService is what the console's Embed page asks of a clinic's
// booking service: the reference data, for the deep-link builder.
type embedCodeService interface {
	Clinic() booking.Clinic
	Locations(ctx context.Context) ([]booking.Location, error)
	Services(ctx context.Context) ([]booking.ServiceType, error)
	AllPractitioners(ctx context.Context) ([]booking.Practitioner, error)
}

// embedCode is where the snippets used to be, open to anyone: they are
// for staff, so they moved into the console (console_embed.go), behind
// sign-in. Old bookmarks are sent there; anyone not signed in is then
// asked to sign in, as on every console page.
func (s *Server) embedCode(c echo.Context) error {
	return c.Redirect(http.StatusSeeOther, "/console/"+url.PathEscape(c.Param("clinic"))+"/embed")
}

// embedPick is what a snippet starts the booking at: ids of a location, a
// service and a practitioner, each "" for none.
type embedPick struct {
	Location, Service, Practitioner string
}

// query is the pick as the booking pages' query ("location=…&type=…").
func (p embedPick) query() url.Values {
	q := url.Values{}
	for _, kv := range [][2]string{{"location", p.Location}, {"type", p.Service}, {"practitioner", p.Practitioner}} {
		if kv[1] != "" {
			q.Set(kv[0], kv[1])
		}
	}
	return q
}

// embedSnippets are the two snippets for the clinic's website, on the
// portal at base ("https://book.example.com"), starting at pick: the loader
// script, and the plain iframe.
func embedSnippets(base string, cl booking.Clinic, pick embedPick) (loader, iframe string) {
	attr := html.EscapeString
	loader = `<script src="` + attr(base+"/embed.js") + `" data-clinic="` + attr(cl.Slug) + `"`
	for _, kv := range [][2]string{{"location", pick.Location}, {"service", pick.Service}, {"practitioner", pick.Practitioner}} {
		if kv[1] != "" {
			loader += ` data-` + kv[0] + `="` + attr(kv[1]) + `"`
		}
	}
	loader += ` async></script>`
	iframe = `<iframe src="` + attr(embedFrameSrc(base, cl, pick)) + `" title="` + attr("Book an appointment with "+cl.Name) + `" width="100%" height="800" style="border:0" loading="lazy"></iframe>`
	return loader, iframe
}

// embedFrameSrc is the address the iframe snippet frames; with base "" it
// is the path alone.
func embedFrameSrc(base string, cl booking.Clinic, pick embedPick) string {
	q := pick.query().Encode()
	if q != "" {
		q = "&" + q
	}
	return base + "/" + url.PathEscape(cl.Slug) + "/book?embed=1" + q
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
