package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/internal/funnel"
	"github.com/clinic-booking/portal/views"
)

// detailsService is what the details form asks of a clinic's booking
// service, besides the flow's.
type detailsService interface {
	CheckSlot(ctx context.Context, sel booking.Selection) error
	Draft(ctx context.Context, id string) (booking.Draft, error)
	SaveDetails(ctx context.Context, draftID string, sel booking.Selection, d booking.Details) (string, error)
	// SaveDetailsUnchecked keeps details while coreplus cannot check the choices.
	SaveDetailsUnchecked(ctx context.Context, draftID string, ch booking.Choice, d booking.Details) (string, error)
}

// detailsForm shows the form for the patient's details: empty, or filled
// from the draft being changed. Where this browser kept the details of its
// last booking, the form stays empty and only that patient's first name is
// shown, with the choice to use the details or forget them: the device may
// be shared, so nothing more is shown until someone asks.
func (s *Server) detailsForm(c echo.Context) error {
	f, done, err := s.openForm(c, c.QueryParam)
	if done {
		return err
	}
	if err := f.resolve(c.Request().Context(), c.QueryParam); err != nil {
		return err
	}
	if f.sel.Slot == nil {
		return c.Redirect(http.StatusSeeOther, f.links.book(f.sel.Choice()))
	}
	if err := f.svc.CheckSlot(c.Request().Context(), f.sel); err != nil {
		if be, ok := booking.AsError(err); ok && be.Code == booking.CodeTaken {
			// Back to that day's times, which no longer offer it, saying so.
			ch := f.sel.Choice()
			ch.Week = f.sel.Slot.Start.In(f.sel.Location.Zone).Format("2006-01-02")
			ch.Slot, ch.With, ch.FromWeek = "", "", false
			return c.Redirect(http.StatusSeeOther, f.links.book(ch)+"&"+qTaken+"=1")
		}
		return err
	}
	var values booking.DetailsForm
	notice, savedFor := "", ""
	switch {
	case c.QueryParam("expired") == "1":
		notice = expiredNotice
	case c.QueryParam(qForgot) == "1":
		notice = forgotNotice
	}
	if f.links.draftID != "" {
		d, err := f.svc.Draft(c.Request().Context(), f.links.draftID)
		switch be, isBE := booking.AsError(err); {
		case err == nil && d.Submitted():
			// Sent meanwhile (openForm looked a moment ago): its
			// details are that booking's, never a new form's.
			return c.Redirect(http.StatusSeeOther, f.links.booking(f.links.draft, "/"))
		case err == nil:
			values = d.Details.Form()
		case isBE && be.Code == booking.CodeNotFound:
			f.links.useDraft("", "")
			notice = expiredNotice
		default:
			return err
		}
	} else if d, ok := s.rememberedDetails(c, f.clinic.Slug); ok {
		savedFor = d.FirstName
	}
	m := s.detailsPage(c, f, values, nil, notice)
	m.SavedFor = savedFor
	s.reachedStep(c, f, funnel.Details)
	return renderDetailsPage(c, http.StatusOK, m)
}

const (
	expiredNotice   = "To keep your details safe we only keep them for a short time, and they've been cleared. Please enter them again."
	usedSavedNotice = "We've filled in the details from your last booking on this device. Check they're still right."
	goneSavedNotice = "The saved details are no longer on this device. Please enter your details."
	forgotNotice    = "We've removed the saved details from this device."
	askDOBNotice    = "Enter your date of birth to use the saved details."
	mismatchNotice  = "Those details don't match, so we've removed them from this device."
)

// sameDate reports whether the day, month and year typed are dob's.
func sameDate(dob time.Time, day, month, year string) bool {
	n := func(v string) int {
		i, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return -1
		}
		return i
	}
	return !dob.IsZero() && n(day) == dob.Day() && n(month) == int(dob.Month()) && n(year) == dob.Year()
}

// forgetSavedDetails answers "Forget them": the cookie is cleared first,
// needing only the session, so that it goes even while coreplus is down;
// then the form comes back, or, when the choices cannot be checked, the
// patient is sent to the details page, which says what it can.
func (s *Server) forgetSavedDetails(c echo.Context, f *flow) error {
	s.forgetDetails(c)
	if err := f.resolve(c.Request().Context(), c.FormValue); err != nil || f.sel.Slot == nil {
		u, sep := f.links.to("book/details", choiceFrom(c.FormValue)), "?"
		if strings.Contains(u, "?") {
			sep = "&"
		}
		return c.Redirect(http.StatusSeeOther, u+sep+qForgot+"=1")
	}
	return s.renderDetails(c, f, http.StatusOK, booking.DetailsForm{}, nil, forgotNotice)
}

// qForgot marks the details page reached after "Forget them".
const qForgot = "forgot"

// savedDetails answers "Use my saved details": the device may be shared,
// so the details are filled in (never the consent, which the patient gives
// each time) only for someone who types the saved date of birth. A wrong
// one forgets them; none at all asks again.
func (s *Server) savedDetails(c echo.Context, f *flow) error {
	d, ok := s.rememberedDetails(c, f.clinic.Slug)
	if !ok {
		return s.renderDetails(c, f, http.StatusOK, booking.DetailsForm{}, nil, goneSavedNotice)
	}
	day, month, year := c.FormValue("saved_dob_day"), c.FormValue("saved_dob_month"), c.FormValue("saved_dob_year")
	if strings.TrimSpace(day+month+year) == "" {
		m := s.detailsPage(c, f, booking.DetailsForm{}, nil, askDOBNotice)
		m.SavedFor = d.FirstName
		return renderDetailsPage(c, http.StatusUnprocessableEntity, m)
	}
	if !sameDate(d.DateOfBirth, day, month, year) {
		s.forgetDetails(c)
		return s.renderDetails(c, f, http.StatusOK, booking.DetailsForm{}, nil, mismatchNotice)
	}
	values := d.Form()
	values.Consent, values.Note = false, ""
	return s.renderDetails(c, f, http.StatusOK, values, nil, usedSavedNotice)
}

func (s *Server) renderDetails(c echo.Context, f *flow, status int, v booking.DetailsForm, errs []booking.FieldError, notice string) error {
	return renderDetailsPage(c, status, s.detailsPage(c, f, v, errs, notice))
}

func (s *Server) detailsPage(c echo.Context, f *flow, v booking.DetailsForm, errs []booking.FieldError, notice string) views.DetailsPage {
	title := "Your details"
	if len(errs) > 0 {
		title = "Error: " + title
	}
	m := views.DetailsPage{
		Page:       s.page(c, &f.clinic, title),
		Progress:   f.progress(stepDetails, f.backFrom(stepDetails)),
		Booking:    appointmentRows(f, false),
		Notice:     notice,
		Action:     "/" + f.clinic.Slug + "/book/details",
		Hidden:     toHidden(f.links.hidden(f.sel.Choice())),
		PrivacyURL: f.clinic.PrivacyURL,
		Values: views.DetailsValues{
			FirstName: v.FirstName, LastName: v.LastName, DOBDay: v.DOBDay, DOBMonth: v.DOBMonth, DOBYear: v.DOBYear,
			Email: v.Email, Mobile: v.Mobile, Note: v.Note, Consent: v.Consent,
		},
	}
	stepViewed(&m.Page, stepDetails, m.Progress)
	for _, e := range errs {
		m.Errors = append(m.Errors, views.FieldError{Field: e.Field, Message: e.Message})
	}
	return m
}

// renderDetailsPage sends the details page (uncached, as every page is: it
// may hold personal details, or a name from this device's cookie).
func renderDetailsPage(c echo.Context, status int, m views.DetailsPage) error {
	return render(c, status, views.DetailsView(m))
}

// saveDetails checks the form; on a problem the same page comes back with
// everything typed kept, else the details go into a server-side draft and
// the patient moves on to the review.
func (s *Server) saveDetails(c echo.Context) error {
	f, done, err := s.openForm(c, c.FormValue)
	if done {
		return err
	}
	if c.FormValue("saved") == "forget" {
		return s.forgetSavedDetails(c, f)
	}
	if err := f.resolve(c.Request().Context(), c.FormValue); err != nil {
		if be, ok := booking.AsError(err); ok && be.Code == booking.CodeUnavailable {
			return &pageError{err: err, draft: s.keepDetailsWhileDown(c, f)}
		}
		return err
	}
	if f.sel.Slot == nil {
		return &booking.Error{Code: booking.CodeInvalid, Message: "Some of your choices were missing from the form. Start again to choose a time."}
	}
	if c.FormValue("saved") == "use" {
		return s.savedDetails(c, f)
	}
	form := detailsFormFrom(c)
	if done, err := s.screenDetails(c, f, form); done {
		return err
	}
	today := f.svc.Now().In(f.sel.Location.Zone)
	details, errs := form.Validate(today)
	if len(errs) > 0 {
		s.countRejected(c)
		return s.renderDetails(c, f, http.StatusUnprocessableEntity, form, errs, "")
	}
	id, err := f.svc.SaveDetails(c.Request().Context(), f.links.draftID, f.sel, details)
	if err != nil {
		return err
	}
	f.links.useDraft(id, s.signer.sign(id))
	return c.Redirect(http.StatusSeeOther, f.links.to("book/review", f.sel.Choice()))
}

func detailsFormFrom(c echo.Context) booking.DetailsForm {
	return booking.DetailsForm{
		FirstName: c.FormValue("first_name"), LastName: c.FormValue("last_name"),
		DOBDay: c.FormValue("dob_day"), DOBMonth: c.FormValue("dob_month"), DOBYear: c.FormValue("dob_year"),
		Email: c.FormValue("email"), Mobile: c.FormValue("mobile"), Note: c.FormValue("note"),
		Consent: c.FormValue("consent") != "",
	}
}

// keepDetailsWhileDown saves a details form that coreplus could not be
// asked to check the choices of (the details themselves need only the
// store), so that the unavailable page's "Leave a booking request" fills
// its form from them rather than losing what was typed. A form with
// problems, a bot's, or one over the draft limit is kept nowhere. It
// returns the draft's id, or "".
func (s *Server) keepDetailsWhileDown(c echo.Context, f *flow) string {
	if c.FormValue("saved") != "" || s.honeypotFilled(c) {
		return ""
	}
	details, errs := detailsFormFrom(c).Validate(f.svc.Now())
	if len(errs) > 0 || !s.abuse.drafts.allow(c.RealIP()) {
		return ""
	}
	id, err := f.svc.SaveDetailsUnchecked(c.Request().Context(), f.links.draftID, choiceFrom(c.FormValue), details)
	if err != nil {
		s.log.Warn("keep details while unavailable", "request_id", requestIDFrom(c), "err", err)
		return ""
	}
	return id
}

// openForm opens the flow of a form page (details or request), unresolved,
// or sends the patient to their booking's page when the draft the request
// carries has been sent to coreplus (booking, unknown or booked): after the
// back button, a form must neither show that booking's details nor start a
// second booking from them. It needs only the store, and reports whether
// it answered.
func (s *Server) openForm(c echo.Context, get func(string) string) (f *flow, done bool, err error) {
	if f, err = s.openFlow(c, get); err != nil {
		return nil, true, err
	}
	if f.links.draftID == "" {
		return f, false, nil
	}
	d, err := f.svc.Draft(c.Request().Context(), f.links.draftID)
	if err != nil || !d.Submitted() {
		return f, false, nil // an expired or open draft is the caller's to handle
	}
	return nil, true, c.Redirect(http.StatusSeeOther, f.links.booking(f.links.draft, "/"))
}

// appointmentRows describes the chosen appointment, with change links when
// asked for.
func appointmentRows(f *flow, change bool) []views.SummaryRow {
	sel := f.sel
	who := "First available practitioner"
	if sel.Slot != nil {
		who = sel.Slot.Practitioner.Name
	}
	rows := []views.SummaryRow{
		{Key: "Location", Value: sel.Location.Name, Extra: sel.Location.Address, Note: sel.Location.Directions},
		{Key: "Service", Value: sel.Service.Name, Extra: minutesLabel(sel.Service.Minutes)},
		{Key: "Practitioner", Value: who},
		{Key: "Date and time", Value: whenLabel(*sel.Slot, sel.Location.Zone)},
	}
	if change {
		if f.multiLoc {
			rows[0].ChangeURL, rows[0].ChangeText = f.links.book(f.without(stepLocation)), "location"
		}
		rows[1].ChangeURL, rows[1].ChangeText = f.links.book(f.without(stepService)), "service"
		rows[2].ChangeURL, rows[2].ChangeText = f.links.book(f.without(stepPractitioner)), "practitioner"
		rows[3].ChangeURL, rows[3].ChangeText = f.links.book(f.without(stepTime)), "date and time"
	}
	return rows
}
