package web

import (
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/clinic-booking/portal/internal/funnel"
	"github.com/clinic-booking/portal/views"
)

// funnelSteps names the funnel's steps for staff, in the flow's order,
// then the call-back request.
var funnelSteps = []struct {
	step  funnel.Step
	label string
}{
	{funnel.Location, "Location"},
	{funnel.Service, "Service"},
	{funnel.Practitioner, "Practitioner"},
	{funnel.Time, "Time"},
	{funnel.Details, "Details"},
	{funnel.Review, "Review"},
	{funnel.Booked, "Booked"},
	{funnel.Request, "Call-back request"},
}

// consoleFunnel shows how far patients got through the clinic's booking
// over the last 7 or 30 days (funnel.ReadReport): patients who reached each
// step, where they left, and the same by day. Served from the portal's own
// counts, with no script at all.
func (s *Server) consoleFunnel(c echo.Context) error {
	svc, err := s.clinicFrom(c)
	if err != nil {
		return err
	}
	cl := svc.Clinic()
	days := 7
	if c.QueryParam("days") == "30" {
		days = 30
	}
	m := views.ConsoleFunnelPage{ConsolePage: s.consolePage(c, &cl, "Funnel", "Funnel"), Days: days}
	for _, d := range []int{7, 30} {
		m.Ranges = append(m.Ranges, views.ConsoleNavItem{Label: fmt.Sprintf("Last %d days", d), URL: fmt.Sprintf("/console/%s/funnel?days=%d", cl.Slug, d), Current: d == days})
	}
	if s.console.Funnel == nil {
		m.Off = true
		return render(c, http.StatusOK, views.ConsoleFunnelView(m))
	}
	rep, err := funnel.ReadReport(c.Request().Context(), s.console.Funnel, cl.Slug, days, s.console.now())
	if err != nil {
		return fmt.Errorf("funnel page: %w", err)
	}
	m.Zone = rep.Zone
	var top int64 // the most patients at any step: the longest bar
	for _, st := range funnelSteps {
		top = max(top, rep.Total.Reached[st.step])
	}
	for _, st := range funnelSteps {
		n := rep.Total.Reached[st.step]
		row := views.FunnelStep{Label: st.label, Reached: n, Left: rep.Total.Left(st.step), Ends: st.step == funnel.Booked || st.step == funnel.Request}
		if top > 0 {
			// Bars in steps of 5%: the page's CSP allows no inline style.
			row.Bar = int((n*20+top/2)/top) * 5
		}
		m.Steps = append(m.Steps, row)
		m.Columns = append(m.Columns, st.label)
	}
	for i := len(rep.Days) - 1; i >= 0; i-- { // newest first
		d := rep.Days[i]
		day := views.FunnelDay{Date: d.Date}
		if t, err := time.Parse(time.DateOnly, d.Date); err == nil {
			day.Date = t.Format("Mon 2 Jan")
		}
		for _, st := range funnelSteps {
			day.Reached = append(day.Reached, d.Reached[st.step])
		}
		m.ByDay = append(m.ByDay, day)
	}
	m.Empty = top == 0
	return render(c, http.StatusOK, views.ConsoleFunnelView(m))
}
