package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/views"
)

// confirmationService is what a booking's page and its outcome pages ask
// of a clinic's booking service.
type confirmationService interface {
	Clinic() booking.Clinic
	Booking(ctx context.Context, draftID string) (booking.Confirmed, error)
	Alternatives(ctx context.Context, sel booking.Selection, n int) ([]booking.Slot, error)
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
	case b.Status == booking.RecordCancelled && !ics:
		// Cancelled from its manage page (or by the clinic): that page
		// says so and offers to book again.
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
		ManageURL: links.withCarried("/" + url.PathEscape(clinic.Slug) + "/manage/" + s.manageTokens.Token(clinic.Slug, b.DraftID)),
	}
	stepViewed(&m.Page, "confirmation", views.Progress{})
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
		{Key: "Location", Value: sel.Location.Name, Extra: sel.Location.Address},
		{Key: "Date and time", Value: whenLabel(*sel.Slot, sel.Location.Zone)},
	}
}

// icsFile is the booking as an iCalendar event, times in UTC. Without the
// clinic's reference data it names the clinic only.
func (s *Server) icsFile(c echo.Context, clinic booking.Clinic, b booking.Confirmed) error {
	sel := b.Selection
	utc := func(t time.Time) string { return t.UTC().Format("20060102T150405Z") }
	summary, where := "Appointment at "+clinic.Name, ""
	if sel.Location != nil && sel.Service != nil && sel.Slot != nil {
		summary = sel.Service.Name + " with " + sel.Slot.Practitioner.Name
		where = sel.Location.Name
		if sel.Location.Address != "" {
			where += ", " + sel.Location.Address
		}
	}
	desc := "Reference " + b.Reference + "."
	if clinic.Phone != "" {
		desc += " To change or cancel, call " + clinic.Name + " on " + clinic.Phone + "."
	}
	host := c.Request().Host
	if host == "" {
		host = "portal.invalid"
	}
	lines := []string{
		"BEGIN:VCALENDAR",
		"VERSION:2.0",
		"PRODID:-//clinic-booking//portal//EN",
		"CALSCALE:GREGORIAN",
		"METHOD:PUBLISH",
		"BEGIN:VEVENT",
		"UID:" + b.DraftID + "@" + host,
		"DTSTAMP:" + utc(time.Now()),
		"DTSTART:" + utc(b.Start),
		"DTEND:" + utc(b.End),
		"SUMMARY:" + icsText(summary),
		"LOCATION:" + icsText(where),
		"DESCRIPTION:" + icsText(desc),
		"SEQUENCE:" + itoa(b.Sequence),
		"STATUS:CONFIRMED",
		"END:VEVENT",
		"END:VCALENDAR",
	}
	if where == "" {
		lines = slices.DeleteFunc(lines, func(l string) bool { return l == "LOCATION:" })
	}
	var out strings.Builder
	for _, l := range lines {
		out.WriteString(foldICS(l))
		out.WriteString("\r\n")
	}
	h := c.Response().Header()
	h.Set("Content-Disposition", `attachment; filename="appointment-`+b.Reference+`.ics"`) // uncached, as every page is
	return c.Blob(http.StatusOK, "text/calendar; charset=utf-8", []byte(out.String()))
}

// icsText escapes a TEXT value (RFC 5545 §3.3.11).
func icsText(s string) string {
	r := strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\r\n", `\n`, "\n", `\n`)
	return r.Replace(s)
}

// foldICS folds a content line at 75 octets without splitting a character.
func foldICS(line string) string {
	var b strings.Builder
	n := 0
	for _, r := range line {
		size := len(string(r))
		if n+size > 75 {
			b.WriteString("\r\n ")
			n = 1
		}
		b.WriteRune(r)
		n += size
	}
	return b.String()
}
