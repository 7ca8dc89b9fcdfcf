package web

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/views"
)

// render writes a whole page or nothing: a failed render becomes a clean
// error page instead of half a page.
func render(c echo.Context, status int, page templ.Component) error {
	buf := renderBuffers.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= maxPooledRender {
			buf.Reset()
			renderBuffers.Put(buf)
		}
	}()
	if err := page.Render(c.Request().Context(), buf); err != nil {
		return err
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// renderBuffers keeps page buffers between requests: a time page is tens
// of kilobytes, and growing a fresh buffer to that for every page was a
// quarter of what serving one allocated. One grown past maxPooledRender
// (a page far larger than any the portal makes) is left to the collector.
var renderBuffers = sync.Pool{New: func() any { return bytes.NewBuffer(make([]byte, 0, 64<<10)) }}

const maxPooledRender = 1 << 20

// page fills the layout fields every page shares: the clinic, its theme,
// and, inside a frame, the embed settings and the host page's origin.
func (s *Server) page(c echo.Context, clinic *booking.Clinic, title string) views.Page {
	p := views.Page{Title: title, Asset: s.assets.url}
	if clinic == nil {
		p.Embed = c.QueryParam(qEmbed) == "1"
		return p
	}
	p.ClinicName = clinic.Name
	p.ClinicSlug = clinic.Slug
	p.Phone = clinic.Phone
	th := themeFor(clinic.Theme)
	p.ThemeCSS, p.LogoURL = th.css, th.logoURL

	get := requestValues(c)
	carry := carriedFrom(get, *clinic)
	p.Embed = carry.Get(qEmbed) == "1"
	p.Transparent = carry.Get(qBackground) == "transparent"
	if p.Embed {
		p.NewTabURL = newTabURL(c.Request(), get)
	}
	if h := carry.Get(qHost); h != "" {
		p.Host = &views.HostMessages{Parent: h, Events: []views.HostEvent{}}
	}
	return p
}

// stepViewed adds the step-viewed event for the host page, if any.
func stepViewed(p *views.Page, step string, pr views.Progress) {
	if p.Host != nil {
		p.Host.Events = append(p.Host.Events, views.HostEvent{Event: "step-viewed", Step: step, StepNumber: pr.Step, Steps: pr.Of})
	}
}

// requestValues reads the query of a GET and the fields of a form.
func requestValues(c echo.Context) func(string) string {
	if c.Request().Method == http.MethodPost {
		return c.FormValue
	}
	return c.QueryParam
}

// newTabKeys are the parameters an "Open in a new tab" link keeps: the
// choices, the signed draft id and the campaign, never a typed detail and
// never the embed settings.
var newTabKeys = append([]string{qLocation, qType, qPractitioner, qDate, qNext, qSlot, qWith, qDraft}, utmKeys...)

// newTabURL is the address of the step being shown, to open outside the
// frame. After a form was posted it is the step the form belongs to.
func newTabURL(req *http.Request, get func(string) string) string {
	path := req.URL.EscapedPath()
	if !strings.HasPrefix(path, "/") || strings.HasPrefix(path, "//") {
		path = "/"
	}
	if req.Method == http.MethodPost {
		if p, ok := strings.CutSuffix(path, "/book/confirm"); ok {
			path = p + "/book/review"
		}
	}
	v := url.Values{}
	for _, k := range newTabKeys {
		val := get(k)
		if strings.HasPrefix(k, "utm_") {
			val = utmValue(val)
		}
		if val != "" {
			v.Set(k, val)
		}
	}
	if q := v.Encode(); q != "" {
		path += "?" + q
	}
	return path
}

// clinicFrom finds the clinic named in the URL or answers 404.
func (s *Server) clinicFrom(c echo.Context) (ClinicService, error) {
	svc, ok := s.clinics.Clinic(c.Request().Context(), c.Param("clinic"))
	if !ok {
		return nil, &booking.Error{Code: booking.CodeNotFound, Message: "We couldn't find that clinic. Check the link you followed, or contact the clinic."}
	}
	return svc, nil
}
