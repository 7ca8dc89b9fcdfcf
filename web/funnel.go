package web

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/clinic-booking/portal/internal/funnel"
)

// FunnelCounter is told when a patient reaches a step of the booking flow,
// such as *funnel.Counter. It must not wait on the database: the time page
// is the portal's busiest.
type FunnelCounter interface {
	Reached(ctx context.Context, clinic string, zone *time.Location, step funnel.Step, clientIP, userAgent string)
}

// reached counts the request's patient reaching step of clinic's flow.
// The address (RealIP: the TCP peer, or what a trusted proxy says) and the
// User-Agent go to the counter, which keeps only a salted hash of them.
// zone is nil where the clinic's zone is not at hand.
func (s *Server) reached(c echo.Context, clinic string, zone *time.Location, step funnel.Step) {
	if s.funnel == nil || !byPatient(c.Request()) {
		return
	}
	s.funnel.Reached(c.Request().Context(), clinic, zone, step, c.RealIP(), c.Request().UserAgent())
}

// botMarks are what crawlers and link previewers put in their User-Agent
// ("Googlebot", "bingbot", "Slackbot-LinkExpanding", "facebookexternalhit",
// "Baiduspider"); clinics link their booking pages from their sites, so
// crawlers walk the first steps.
var botMarks = []string{"bot", "crawl", "spider", "slurp", "facebookexternalhit", "preview"}

// byPatient reports whether a request looks like a person's browser showing
// the page: not a self-declared crawler, not a prefetch nobody may look at,
// and with a User-Agent, which every browser sends.
func byPatient(r *http.Request) bool {
	ua := strings.ToLower(r.UserAgent())
	if ua == "" || r.Header.Get("Sec-Purpose") != "" || r.Header.Get("Purpose") == "prefetch" {
		return false
	}
	for _, m := range botMarks {
		if strings.Contains(ua, m) {
			return false
		}
	}
	return true
}

// reachedStep counts a step of the flow, in the clinic's zone.
func (s *Server) reachedStep(c echo.Context, f *flow, step funnel.Step) {
	s.reached(c, f.clinic.Slug, f.zone, step)
}
