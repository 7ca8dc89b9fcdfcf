package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/internal/funnel"
	"github.com/clinic-booking/portal/views"
)

// confirmationService is what a booking's page and its outcome pages ask
// of a clinic's booking service.
type confirmationService interface {
	Clinic() booking.Clinic
	Booking(ctx context.Context, draftID string) (booking.Confirmed, error)
	Alternatives(ctx context.Context, sel booking.Selection, n int) ([]booking.Slot, error)
}

// manageLinkShownFor is how long after a booking its confirmation page
// shows the manage link. The page's address (and the review's, which leads
// to it) is a signed draft id with no expiry, kept in browser history, proxy
// logs and the clinic's iframe; past this the page says the booking is made
// and the link is in the confirmation email, so an address found later
// cannot cancel or move the appointment. Long enough for the patient's own
// reloads just after booking.
const manageLinkShownFor = 30 * time.Minute

// manageLinkShown reports whether b is recent enough for its page to show
// the manage link.
func manageLinkShown(b booking.Confirmed, now time.Time) bool {
	return !b.BookedAt.IsZero() && now.Sub(b.BookedAt) < manageLinkShownFor
}

// confirmation shows a booking made from a draft, or its calendar file when
// the address ends in ".ics".
func (s *Server) confirmation(c echo.Context) error {
	svc, err := s.clinicFrom(c)
	if err != nil {
		return err
	}
	clinic := svc.Clinic()
	ref := c.Param("ref")
	ics := strings.HasSuffix(ref, ".ics")
	token := strings.TrimSuffix(ref, ".ics")
	id, ok := s.signer.verify(token)
	if !ok {
		return &booking.Error{Code: booking.CodeNotFound, Message: "We couldn't find that booking. Check the link, or call the clinic."}
	}
	links := s.linksFor(c.QueryParam, clinic)
	links.useDraft(id, token) // the booking's own draft, verified above
	b, err := svc.Booking(c.Request().Context(), id)
	if errors.Is(err, booking.ErrNoBooking) {
		return &booking.Error{Code: booking.CodeNotFound, Message: "That booking hasn't been made. Start again to book.", Cause: err}
	}
	if err != nil {
		return err
	}
	switch {
	case b.Status == booking.RecordBooked && ics:
		return s.icsFile(c, clinic, b)
	case b.Status == booking.RecordBooked:
	case b.Status == booking.RecordPending || b.Status == booking.RecordUnknown:
		m := views.PendingPage{Page: s.page(c, &clinic, "We're confirming your booking"), RetryURL: c.Request().URL.RequestURI()}
		stepViewed(&m.Page, "pending", views.Progress{})
		c.Response().Header().Set("Refresh", pendingRefresh) // shows the outcome once settled, without script
		return render(c, http.StatusAccepted, views.PendingView(m))
	case b.Status == booking.RecordFailed && !ics:
		return s.bookingFailed(c, svc, links, b)
	case b.NothingBooked && !ics:
		return s.bookingNotMade(c, svc, links, b)
	case b.Status == booking.RecordCancelled && !ics && !manageLinkShown(b, time.Now()):
		return &booking.Error{Code: booking.CodeNotFound, Message: "That booking was cancelled. To book again, start from the clinic's booking page."}
	case b.Status == booking.RecordCancelled && !ics:
		// Cancelled from its manage page (or by the clinic) just after
		// booking: that page says so and offers to book again.
		return c.Redirect(http.StatusSeeOther, links.withCarried("/"+url.PathEscape(clinic.Slug)+"/manage/"+s.manageTokens.Token(clinic.Slug, b.DraftID)))
	default:
		return &booking.Error{Code: booking.CodeNotFound, Message: "That booking wasn't made. Start again to book, or call the clinic."}
	}
	if ics {
		return echo.ErrNotFound
	}
	m := views.ConfirmationPage{
		Page:      s.page(c, &clinic, "Booking confirmed"),
		Reference: b.Reference,
		Rows:      confirmedRows(b),
		ICSURL:    links.booking(token, ".ics"),
		AgainURL:  links.home(),
		Policy:    policyParagraphs(clinic),
	}
	// time.Now, not the service's clock: BookedAt is the store's, which is
	// the wall clock.
	if manageLinkShown(b, time.Now()) {
		m.ManageURL = links.withCarried("/" + url.PathEscape(clinic.Slug) + "/manage/" + s.manageTokens.Token(clinic.Slug, b.DraftID))
	}
	if s.demoMailbox != nil {
		m.DemoMailURL = demoMailPath
	}
	stepViewed(&m.Page, "confirmation", views.Progress{})
	// Counted where the patient sees it booked, so a booking that settles
	// after a pending page counts too; its zone is the one the clinic's
	// steps were counted in.
	s.reached(c, clinic.Slug, nil, funnel.Booked)
	if m.Host != nil {
		m.Host.Events = append(m.Host.Events, views.HostEvent{
			Event: "booking-confirmed", Reference: b.Reference,
			LocationID: b.LocationID, ServiceID: b.ServiceID, PractitionerID: b.PractitionerID,
			Start: b.Start.Format(time.RFC3339), UTM: links.utm(),
		})
	}
	return render(c, http.StatusOK, views.ConfirmationView(m))
}

// confirmedRows describes a booked appointment: with names when the
// clinic's reference data could be read, else what the stored record holds,
// its time in the offset it was booked with.
func confirmedRows(b booking.Confirmed) []views.SummaryRow {
	sel := b.Selection
	if sel.Location == nil || sel.Service == nil || sel.Slot == nil {
		start, end := b.Start, b.End
		return []views.SummaryRow{
			{Key: "Reference number", Value: b.Reference},
			{Key: "Date and time", Value: fullDateLabel(start) + ", " + clockLabel(start) + " to " + clockLabel(end) + " (the clinic's local time)",
				Extra: "The clinic's confirmation has the practitioner, service and address."},
		}
	}
	return []views.SummaryRow{
		{Key: "Reference number", Value: b.Reference},
		{Key: "Practitioner", Value: sel.Slot.Practitioner.Name},
		{Key: "Service", Value: sel.Service.Name, Extra: minutesLabel(sel.Service.Minutes)},
		{Key: "Location", Value: sel.Location.Name, Extra: sel.Location.Address, Note: sel.Location.Directions},
		{Key: "Date and time", Value: whenLabel(*sel.Slot, sel.Location.Zone)},
	}
}

// icsFile is the booking as an iCalendar event: the same event, UID and
// all, as the confirmation email's attachment (booking.BookingEvent).
func (s *Server) icsFile(c echo.Context, clinic booking.Clinic, b booking.Confirmed) error {
	ics := booking.BookingEvent(clinic, b, s.publicURL).ICS()
	h := c.Response().Header()
	h.Set("Content-Disposition", `attachment; filename="appointment-`+b.Reference+`.ics"`) // uncached, as every page is
	return c.Blob(http.StatusOK, "text/calendar; charset=utf-8", ics)
}
