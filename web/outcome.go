package web

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/views"
)

// pendingRefresh is how often, in seconds, a "we're confirming" page loads
// itself again (the Refresh header, which every browser follows with
// script off), until the booking is settled one way or the other.
const pendingRefresh = "5"

// bookingFailed tells the patient plainly that a booking whose outcome was
// unknown did not go through, with the nearest free times (their details
// are still saved, so a time leads straight back to the review) and the
// clinic's phone.
func (s *Server) bookingFailed(c echo.Context, svc confirmationService, links flowLinks, b booking.Confirmed) error {
	clinic := svc.Clinic()
	sel := b.Selection
	m := views.BookingFailedPage{Page: s.page(c, &clinic, "Your booking did not go through")}
	stepViewed(&m.Page, "booking-failed", views.Progress{})
	if sel.Location == nil || sel.Service == nil || sel.Slot == nil {
		m.AllTimesURL = links.home()
		return render(c, http.StatusOK, views.BookingFailedView(m))
	}
	zone := sel.Location.Zone
	m.Rows = appointmentSummary(sel)
	ch := sel.Choice()
	ch.Slot, ch.With, ch.Week = "", "", sel.Slot.Start.In(zone).Format("2006-01-02")
	m.AllTimesURL = links.book(ch)
	alts, err := svc.Alternatives(c.Request().Context(), sel, 5)
	if err != nil {
		// The page still says what happened, and the full list is a link away.
		s.log.Warn("find alternatives", "request_id", requestIDFrom(c), "err", err)
	}
	for _, sl := range alts {
		ch := sel.Choice()
		ch.Slot, ch.With, ch.Week = sl.Start.Format(time.RFC3339), sl.Practitioner.ID, ""
		ts := slotChoice(sl, zone, links.to("book/review", ch))
		start := sl.Start.In(zone)
		ts.Label = dayLabel(start) + ", " + clockLabel(start)
		ts.AriaLabel = ts.Label + ", with " + sl.Practitioner.Name // begins with the visible text
		m.Alternatives = append(m.Alternatives, ts)
	}
	return render(c, http.StatusOK, views.BookingFailedView(m))
}

// bookingNotMade tells the patient plainly that their booking did not go
// through and nothing was booked: the submit was cut off before the slot
// was claimed (the sweeper reopened the draft) or failed and reopened it.
// Their details are still saved, so confirming again is one link away.
func (s *Server) bookingNotMade(c echo.Context, svc confirmationService, links flowLinks, b booking.Confirmed) error {
	clinic := svc.Clinic()
	sel := b.Selection
	m := views.BookingNotMadePage{Page: s.page(c, &clinic, "Your booking did not go through")}
	stepViewed(&m.Page, "booking-failed", views.Progress{})
	m.ReviewURL = links.to("book/review", b.Choice)
	if sel.Location != nil && sel.Service != nil && sel.Slot != nil {
		m.Rows = appointmentSummary(sel)
		ch := b.Choice
		ch.Slot, ch.With, ch.Week = "", "", sel.Slot.Start.In(sel.Location.Zone).Format("2006-01-02")
		m.AllTimesURL = links.book(ch)
	}
	return render(c, http.StatusOK, views.BookingNotMadeView(m))
}

// appointmentSummary is the appointment a booking was for, for an outcome
// page; sel has a location, service and slot.
func appointmentSummary(sel booking.Selection) []views.SummaryRow {
	return []views.SummaryRow{
		{Key: "Practitioner", Value: sel.Slot.Practitioner.Name},
		{Key: "Service", Value: sel.Service.Name, Extra: minutesLabel(sel.Service.Minutes)},
		{Key: "Location", Value: sel.Location.Name, Extra: sel.Location.Address, Note: sel.Location.Directions},
		{Key: "Date and time", Value: whenLabel(*sel.Slot, sel.Location.Zone)},
	}
}
