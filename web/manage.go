package web

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/views"
)

// manageService is what a patient's manage pages ask of a clinic's booking
// service.
type manageService interface {
	Clinic() booking.Clinic
	Now() time.Time
	ManagedBooking(ctx context.Context, draftID string) (booking.Managed, error)
	CancelBooking(ctx context.Context, draftID string) (booking.Managed, error)
	MoveBooking(ctx context.Context, draftID string, sel booking.Selection) (booking.Managed, error)
	ManageRefusal(m booking.Managed) string
}

// qDone on a manage page says what the patient just did there: "cancelled"
// or "moved".
const qDone = "done"

// errBadManageLink is the answer to a manage link that is not one the
// portal made for this clinic: mistyped, cut short or forged.
var errBadManageLink = &booking.Error{Code: booking.CodeNotFound,
	Message: "That link doesn't open a booking. Check you used the whole link from your booking email, or call the clinic."}

// manageTarget is one request's manage link: the clinic, the verified draft
// id the token carries, and the links of the clinic's pages.
type manageTarget struct {
	svc     ClinicService
	clinic  booking.Clinic
	draftID string
	token   string
	links   flowLinks
}

// manageFrom checks the token in the path. The token is the whole key to a
// booking: it is never logged (logPath names the route, not the URL).
func (s *Server) manageFrom(c echo.Context) (*manageTarget, error) {
	svc, err := s.clinicFrom(c)
	if err != nil {
		return nil, err
	}
	clinic := svc.Clinic()
	token := c.Param("token")
	id, ok := s.manageTokens.DraftID(clinic.Slug, token)
	if !ok {
		return nil, errBadManageLink
	}
	return &manageTarget{svc: svc, clinic: clinic, draftID: id, token: token, links: s.linksFor(requestValues(c), clinic)}, nil
}

// page is the path of a manage page: "" for the booking's own page,
// "/cancel", "/reschedule" or "/reschedule/review".
func (t *manageTarget) path(suffix string) string {
	return "manage/" + t.token + suffix
}

// url is the address of a manage page with the carried parameters.
func (t *manageTarget) url(suffix string, extra url.Values) string {
	u := t.links.withCarried("/" + url.PathEscape(t.clinic.Slug) + "/" + t.path(suffix))
	if len(extra) > 0 {
		sep := "?"
		if len(t.links.carry) > 0 {
			sep = "&"
		}
		u += sep + extra.Encode()
	}
	return u
}

// manage shows the booking as coreplus has it now, and what the patient
// may do with it.
func (s *Server) manage(c echo.Context) error {
	t, err := s.manageFrom(c)
	if err != nil {
		return err
	}
	m, err := t.svc.ManagedBooking(c.Request().Context(), t.draftID)
	if err != nil {
		if be, ok := booking.AsError(err); ok && be.Code == booking.CodeUnavailable && m.Unchecked {
			// The booking as the portal last knew it, saying so.
			s.log.Warn("booking shown unchecked: upstream unavailable", "request_id", requestIDFrom(c), "path", logPath(c), "err", be.Cause)
			return s.renderManage(c, t, http.StatusServiceUnavailable, m, uncheckedMessage)
		}
		return err
	}
	return s.renderManage(c, t, http.StatusOK, m, "")
}

// uncheckedMessage explains a booking shown from the portal's record.
const uncheckedMessage = "We couldn't reach the clinic's booking system just now, so this is your booking as we last knew it. " +
	"To change or cancel it, try again in a minute, or call the clinic."

// renderManage shows m; problem says why a change just asked for did not
// go through.
func (s *Server) renderManage(c echo.Context, t *manageTarget, status int, m booking.Managed, problem string) error {
	v := views.ManagePage{Page: s.page(c, &t.clinic, "Your booking"), Reference: m.Reference, Problem: problem}
	v.Rows = managedRows(m)
	switch m.State {
	case booking.ManageBooked:
		v.Heading = "Your booking"
		if requestValues(c)(qDone) == "moved" && problem == "" {
			v.Done = "Your booking has been moved"
		}
		if m.MovedByClinic {
			v.Notice = "The clinic has moved this appointment since it was booked. The time below is the one the clinic has now."
		}
		switch {
		case m.Unchecked:
			v.RetryURL = t.url("", nil)
		case m.CanChange:
			v.CancelURL, v.MoveURL = t.url("/cancel", nil), t.url("/reschedule", nil)
			v.ChangeBy = "You can change or cancel this booking online until " + changeByLabel(m) + "."
		default:
			v.Refusal = t.svc.ManageRefusal(m)
		}
	case booking.ManageCancelled:
		v.Heading = "This booking is cancelled"
		if requestValues(c)(qDone) == "cancelled" && problem == "" {
			v.Done = "Your booking is cancelled"
		}
		v.BookAgainURL = t.links.book(booking.Choice{LocationID: m.LocationID, ServiceID: m.ServiceID, PractitionerID: m.PractitionerID})
	case booking.ManageCancelledByClinic:
		v.Heading = "This booking was cancelled by the clinic"
		v.Notice = "The clinic has cancelled this appointment. If you didn't expect this, please call the clinic."
		v.BookAgainURL = t.links.book(booking.Choice{LocationID: m.LocationID, ServiceID: m.ServiceID, PractitionerID: m.PractitionerID})
	case booking.ManagePending:
		v.Heading, v.Pending = "We're updating your booking", true
		v.RetryURL = t.url("", nil)
		c.Response().Header().Set("Refresh", pendingRefresh)
		if status == http.StatusOK {
			status = http.StatusAccepted
		}
	}
	v.Title = v.Heading
	if v.Done != "" {
		v.Title = v.Done
	}
	if problem != "" {
		v.Title = "Error: " + v.Heading
	}
	if m.Unchecked {
		v.Problem, v.ProblemHeading = problem, "We couldn't check this booking"
	}
	stepViewed(&v.Page, "manage", views.Progress{})
	return render(c, status, views.ManageView(v))
}

// managedRows describes the appointment: with names when the clinic's
// reference data could be read, else the time the record holds.
func managedRows(m booking.Managed) []views.SummaryRow {
	sel := m.Selection
	if sel.Location == nil || sel.Service == nil || sel.Slot == nil {
		if m.Start.IsZero() {
			return nil
		}
		return []views.SummaryRow{
			{Key: "Reference number", Value: m.Reference},
			{Key: "Date and time", Value: fullDateLabel(m.Start) + ", " + clockLabel(m.Start) + " to " + clockLabel(m.End) + " (the clinic's local time)"},
		}
	}
	return []views.SummaryRow{
		{Key: "Reference number", Value: m.Reference},
		{Key: "Practitioner", Value: sel.Slot.Practitioner.Name},
		{Key: "Service", Value: sel.Service.Name, Extra: minutesLabel(sel.Service.Minutes)},
		{Key: "Location", Value: sel.Location.Name, Extra: sel.Location.Address},
		{Key: "Date and time", Value: whenLabel(*sel.Slot, sel.Location.Zone)},
	}
}

// changeByLabel is the last moment for online changes, in the location's zone.
func changeByLabel(m booking.Managed) string {
	at := m.ChangeBy
	if m.Selection.Location != nil {
		at = at.In(m.Selection.Location.Zone)
	}
	return clockLabel(at) + " on " + fullDateLabel(at)
}

// manageCancelForm asks the patient to confirm the cancel.
func (s *Server) manageCancelForm(c echo.Context) error {
	t, err := s.manageFrom(c)
	if err != nil {
		return err
	}
	m, err := t.svc.ManagedBooking(c.Request().Context(), t.draftID)
	if err != nil {
		return err
	}
	if !m.CanChange {
		return s.renderManage(c, t, http.StatusOK, m, "")
	}
	back := t.url("", nil)
	v := views.ManageCancelPage{
		Page:     s.page(c, &t.clinic, "Cancel this booking?"),
		Progress: views.Progress{BackURL: back},
		Rows:     managedRows(m),
		Action:   "/" + t.clinic.Slug + "/" + t.path("/cancel"),
		Hidden:   toHidden(t.links.hidden(booking.Choice{})),
		KeepURL:  back,
	}
	stepViewed(&v.Page, "manage-cancel", v.Progress)
	return render(c, http.StatusOK, views.ManageCancelView(v))
}

// manageCancel cancels the booking. A second press, or a refresh, finds it
// cancelled and shows the same page.
func (s *Server) manageCancel(c echo.Context) error {
	t, err := s.manageFrom(c)
	if err != nil {
		return err
	}
	if _, err := t.svc.CancelBooking(c.Request().Context(), t.draftID); err != nil {
		return s.changeFailed(c, t, err)
	}
	return c.Redirect(http.StatusSeeOther, t.url("", url.Values{qDone: {"cancelled"}}))
}

// changeFailed shows the booking as it now stands with why the change did
// not go through, when the reason is one for the patient (too late, taken,
// the clinic's system not answering); anything else is the error page's.
func (s *Server) changeFailed(c echo.Context, t *manageTarget, err error) error {
	be, ok := booking.AsError(err)
	if !ok || be.Code == booking.CodeNotFound || be.Code == booking.CodeBusy {
		return err
	}
	status := http.StatusConflict
	if be.Code == booking.CodeUnavailable {
		status = http.StatusServiceUnavailable
		s.log.Warn("change to a booking not made", "request_id", requestIDFrom(c), "path", logPath(c), "err", be.Cause)
	}
	m, merr := t.svc.ManagedBooking(c.Request().Context(), t.draftID)
	if merr != nil {
		return err
	}
	return s.renderManage(c, t, status, m, be.Message)
}

// manageTimes is the time step for a new time: the same service and
// location, any practitioner the clinic allows unless the patient narrows
// it to one. It is the booking flow's own time step, with its links
// pointing at the move's review.
func (s *Server) manageTimes(c echo.Context) error {
	t, f, m, err := s.manageFlow(c, c.QueryParam)
	if err != nil {
		return err
	}
	if !m.CanChange {
		return s.renderManage(c, t, http.StatusOK, m, "")
	}
	return s.timeStep(c, f)
}

// manageFlow reads the manage link and the booking, and the choices in
// get with the booking's location and service, as a flow for the time
// step and the review.
func (s *Server) manageFlow(c echo.Context, get func(string) string) (*manageTarget, *flow, booking.Managed, error) {
	t, err := s.manageFrom(c)
	if err != nil {
		return nil, nil, booking.Managed{}, err
	}
	ctx := c.Request().Context()
	m, err := t.svc.ManagedBooking(ctx, t.draftID)
	if err != nil {
		return nil, nil, booking.Managed{}, err
	}
	ch := choiceFrom(get)
	ch.LocationID, ch.ServiceID = m.LocationID, m.ServiceID
	if ch.PractitionerID == "" {
		ch.PractitionerID = booking.AnyPractitioner
	}
	f := &flow{svc: t.svc, clinic: t.clinic, links: t.links, manage: t.path("")}
	if f.sel, err = t.svc.Resolve(ctx, ch); err != nil {
		return nil, nil, booking.Managed{}, err
	}
	return t, f, m, nil
}

// manageMoveReview shows the booking's time and the new one before the
// move; a time gone meanwhile sends the patient back to that day's times.
func (s *Server) manageMoveReview(c echo.Context) error {
	t, f, m, err := s.manageFlow(c, c.QueryParam)
	if err != nil {
		return err
	}
	if !m.CanChange {
		return s.renderManage(c, t, http.StatusOK, m, "")
	}
	sel := f.sel
	if sel.Slot == nil {
		return c.Redirect(http.StatusSeeOther, f.links.to(f.timesPage(), sel.Choice()))
	}
	if err := t.svc.CheckSlot(c.Request().Context(), sel); err != nil {
		if be, ok := booking.AsError(err); ok && be.Code == booking.CodeTaken {
			return c.Redirect(http.StatusSeeOther, f.takenURL())
		}
		return err
	}
	v := views.ManageMovePage{
		Page:          s.page(c, &t.clinic, "Check your new time"),
		Progress:      views.Progress{BackURL: f.links.to(f.timesPage(), f.without(stepTime))},
		Current:       managedRows(m),
		New:           appointmentRows(f, false),
		Action:        "/" + t.clinic.Slug + "/" + t.path("/reschedule"),
		Hidden:        toHidden(f.links.hidden(sel.Choice())),
		OtherTimesURL: f.links.to(f.timesPage(), f.without(stepTime)),
	}
	stepViewed(&v.Page, "manage-review", v.Progress)
	return render(c, http.StatusOK, views.ManageMoveView(v))
}

// manageMove moves the booking to the time in the form. A second press, or
// a refresh, finds it there and shows the same page.
func (s *Server) manageMove(c echo.Context) error {
	t, f, m, err := s.manageFlow(c, c.FormValue)
	if err != nil {
		return err
	}
	sl := f.sel.Slot
	if sl == nil {
		return c.Redirect(http.StatusSeeOther, f.links.to(f.timesPage(), f.sel.Choice()))
	}
	if m.State == booking.ManageBooked && m.Start.Equal(sl.Start) && m.PractitionerID == sl.Practitioner.ID {
		// A second press of the move that put it there.
		return c.Redirect(http.StatusSeeOther, t.url("", url.Values{qDone: {"moved"}}))
	}
	if _, err := t.svc.MoveBooking(c.Request().Context(), t.draftID, f.sel); err != nil {
		if be, ok := booking.AsError(err); ok && be.Code == booking.CodeTaken {
			return c.Redirect(http.StatusSeeOther, f.takenURL())
		}
		return s.changeFailed(c, t, err)
	}
	return c.Redirect(http.StatusSeeOther, t.url("", url.Values{qDone: {"moved"}}))
}

// limitChanges refuses a cancel or move from an address over its limit,
// before anything reaches coreplus; "Try again" leads back to the booking.
func (s *Server) limitChanges(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.abuse.changes.allow(c.RealIP()) {
			return next(c)
		}
		retry := ""
		if t, err := s.manageFrom(c); err == nil {
			retry = t.url("", nil)
		}
		return &pageError{err: errTooMany, retryURL: retry}
	}
}
