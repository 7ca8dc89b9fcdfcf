package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/internal/clinics"
	"github.com/clinic-booking/portal/views"
)

// consoleEmbed gives a clinic's staff the snippets for their website: the
// loader and the plain iframe, started at a location, service and
// practitioner picked by name (a GET form, so it works without scripts), a
// preview of the portal framed as their site will frame it, and a check of
// whether a site may frame it at all.
//
// The console itself is never framed; the preview frames the PATIENT
// pages, whose frame-ancestors always include 'self' (framePolicy), which
// is the console's own origin.
func (s *Server) consoleEmbed(c echo.Context) error {
	svc, err := s.clinicFrom(c)
	if err != nil {
		return err
	}
	cl := svc.Clinic()
	ctx := c.Request().Context()
	m := views.ConsoleEmbedPage{
		ConsolePage: s.consolePage(c, &cl, "Embed", "Embed"),
		Origins:     cl.FrameOrigins,
		SettingsCommand: "portal clinic update " + cl.Slug + " --frame-origins " +
			strings.Join(append(slices.Clone(cl.FrameOrigins), "https://www.your-clinic.com.au"), ","),
	}
	// The names are a convenience: the snippets are shown even when
	// coreplus does not answer.
	q := c.QueryParams()
	var pick embedPick
	if locs, err := svc.Locations(ctx); err == nil {
		for _, l := range locs {
			m.Locations = append(m.Locations, views.NamedID{Name: l.Name, ID: l.ID})
		}
	} else {
		m.NamesMissing = true
	}
	if types, err := svc.Services(ctx); err == nil {
		for _, t := range types {
			m.Services = append(m.Services, views.NamedID{Name: t.Name, ID: t.ID})
		}
	} else {
		m.NamesMissing = true
	}
	if pracs, err := svc.AllPractitioners(ctx); err == nil {
		for _, p := range pracs {
			m.Practitioners = append(m.Practitioners, views.NamedID{Name: p.Name, ID: p.ID})
		}
	} else {
		m.NamesMissing = true
	}
	// Only ids the clinic has reach a snippet: anything else is dropped.
	pick.Location = pickFrom(m.Locations, q.Get("location"))
	pick.Service = pickFrom(m.Services, q.Get("service"))
	pick.Practitioner = pickFrom(m.Practitioners, q.Get("practitioner"))
	m.Location, m.Service, m.Practitioner = pick.Location, pick.Service, pick.Practitioner
	m.Loader, m.Iframe = embedSnippets(s.portalBase(c), cl, pick)
	m.PreviewURL = embedFrameSrc("", cl, pick)
	m.PreviewTitle = "Preview: book an appointment with " + cl.Name
	if raw := strings.TrimSpace(q.Get("origin")); raw != "" {
		m.OriginTyped = raw
		m.OriginCheck = checkFrameOrigin(raw, cl)
	}
	return render(c, http.StatusOK, views.ConsoleEmbedView(m))
}

// pickFrom is id when it is one of items, else "".
func pickFrom(items []views.NamedID, id string) string {
	for _, it := range items {
		if it.ID == id {
			return id
		}
	}
	return ""
}

// checkFrameOrigin says whether a site staff typed may frame the clinic's
// pages, as browsers will judge it from the clinic's frame origins.
func checkFrameOrigin(raw string, cl booking.Clinic) views.OriginCheck {
	o, ok := clinics.Origin(raw)
	if !ok {
		return views.OriginCheck{Problem: "Enter a website's address as it appears in the browser, starting https:// and with no page after it, for example https://www.your-clinic.com.au."}
	}
	if strings.HasPrefix(o, "https://*.") || strings.HasPrefix(o, "http://*.") {
		return views.OriginCheck{Problem: "Enter one website's address, without *."}
	}
	for _, allowed := range cl.FrameOrigins {
		if originAllows(allowed, o) {
			return views.OriginCheck{Origin: o, Allowed: true}
		}
	}
	return views.OriginCheck{Origin: o}
}

// originAllows reports whether the frame origin allowed (possibly
// "https://*.example.com") lets the page at origin o frame the portal.
func originAllows(allowed, o string) bool {
	if allowed == o {
		return true
	}
	scheme, rest, ok := strings.Cut(allowed, "://*.")
	if !ok {
		return false
	}
	oScheme, oHost, _ := strings.Cut(o, "://")
	return oScheme == scheme && strings.HasSuffix(oHost, "."+rest)
}
