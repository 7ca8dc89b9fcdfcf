package web

import (
	"context"
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
	if s.funnel == nil {
		return
	}
	s.funnel.Reached(c.Request().Context(), clinic, zone, step, c.RealIP(), c.Request().UserAgent())
}

// reachedStep counts a step of the flow, in the clinic's zone.
func (s *Server) reachedStep(c echo.Context, f *flow, step funnel.Step) {
	s.reached(c, f.clinic.Slug, f.zone, step)
}
