package web

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/internal/funnel"
	"github.com/clinic-booking/portal/views"
)

// reviewService is what the review and the confirm ask of a clinic's
// booking service, besides the flow's.
type reviewService interface {
	Draft(ctx context.Context, id string) (booking.Draft, error)
	Confirm(ctx context.Context, draftID string, sel booking.Selection) (booking.Outcome, error)
}

// review shows everything chosen and entered, with change links, and the
// button that books.
func (s *Server) review(c echo.Context) error {
	f, err := s.startFlow(c, c.QueryParam)
	if err != nil {
		return err
	}
	if f.sel.Slot == nil {
		return c.Redirect(http.StatusSeeOther, f.links.book(f.sel.Choice()))
	}
	if f.links.draftID == "" {
		return c.Redirect(http.StatusSeeOther, f.links.to("book/details", f.sel.Choice()))
	}
	d, err := f.svc.Draft(c.Request().Context(), f.links.draftID)
	if err != nil {
		return s.draftGone(c, f, err)
	}
	switch d.Status {
	case booking.DraftBooked, booking.DraftBooking, booking.DraftUnknown:
		return c.Redirect(http.StatusSeeOther, f.links.booking(f.links.draft, "/"))
	}
	s.reachedStep(c, f, funnel.Review)
	return s.renderReview(c, f, http.StatusOK, d, nil)
}

// draftGone sends the patient back to the details form when their draft
// has expired, or fails with err.
func (s *Server) draftGone(c echo.Context, f *flow, err error) error {
	if be, ok := booking.AsError(err); ok && be.Code == booking.CodeNotFound {
		f.links.useDraft("", "")
		return c.Redirect(http.StatusSeeOther, f.links.to("book/details", f.sel.Choice())+"&expired=1")
	}
	return err
}

func (s *Server) renderReview(c echo.Context, f *flow, status int, d booking.Draft, taken *booking.Outcome) error {
	title := "Check your booking"
	if taken != nil {
		title = "Error: that time has just been taken"
	}
	m := views.ReviewPage{
		Page:        s.page(c, &f.clinic, title),
		Progress:    f.progress(stepReview, f.backFrom(stepReview)),
		Appointment: appointmentRows(f, true),
		Details:     detailRows(f, d.Details),
		Action:      "/" + f.clinic.Slug + "/book/confirm",
		Hidden:      toHidden(f.links.hidden(f.sel.Choice())),
		Policy:      policyParagraphs(f.clinic),
	}
	stepViewed(&m.Page, stepReview, m.Progress)
	if taken != nil {
		m.Taken = true
		m.AllTimesURL = f.links.book(f.without(stepTime))
		for _, sl := range taken.Alternatives {
			ch := f.sel.Choice()
			ch.Slot, ch.With, ch.Week = sl.Start.Format(time.RFC3339), sl.Practitioner.ID, ""
			m.Alternatives = append(m.Alternatives, slotChoice(sl, f.sel.Location.Zone, f.links.to("book/review", ch)))
		}
		// Alternatives may fall on other days: say which.
		for i, sl := range taken.Alternatives {
			start := sl.Start.In(f.sel.Location.Zone)
			a := &m.Alternatives[i]
			a.Label = dayLabel(start) + ", " + clockLabel(start)
			a.With = "with " + sl.Practitioner.Name
			a.AriaLabel = a.Label + ", " + a.With // begins with the visible text
		}
	}
	return render(c, status, views.ReviewView(m))
}

func detailRows(f *flow, d booking.Details) []views.SummaryRow {
	change := f.links.to("book/details", f.sel.Choice())
	note := d.Note
	if note == "" {
		note = "None"
	}
	dob := ""
	if !d.DateOfBirth.IsZero() {
		dob = d.DateOfBirth.Format("2 January 2006")
	}
	return []views.SummaryRow{
		{Key: "Name", Value: d.FirstName + " " + d.LastName, ChangeURL: change + "#first-name", ChangeText: "name"},
		{Key: "Date of birth", Value: dob, ChangeURL: change + "#dob-day", ChangeText: "date of birth"},
		{Key: "Email address", Value: d.Email, ChangeURL: change + "#email", ChangeText: "email address"},
		{Key: "Mobile number", Value: spacedMobile(d.Mobile), ChangeURL: change + "#mobile", ChangeText: "mobile number"},
		{Key: "Note to the clinic", Value: note, ChangeURL: change + "#note", ChangeText: "note"},
	}
}

// spacedMobile shows 0412345678 as 0412 345 678.
func spacedMobile(m string) string {
	if len(m) != 10 {
		return m
	}
	return m[:4] + " " + m[4:7] + " " + m[7:]
}

// confirm books: the slot is re-checked, the patient matched or created in
// coreplus, and the appointment made. A time taken meanwhile brings the
// review back with the nearest free times; nothing needs retyping.
func (s *Server) confirm(c echo.Context) error {
	f, err := s.startFlow(c, c.FormValue)
	if err != nil {
		return err
	}
	if f.links.draftID == "" || f.sel.Slot == nil {
		return &booking.Error{Code: booking.CodeInvalid, Message: "This form is missing something we need. Start again to book."}
	}
	ctx := c.Request().Context()
	out, err := f.svc.Confirm(ctx, f.links.draftID, f.sel)
	if err != nil {
		if be, ok := booking.AsError(err); ok && be.Code == booking.CodeUnavailable {
			// Confirm answers unavailable only when no booking went out.
			return &pageError{err: err, retryURL: f.links.to("book/review", f.sel.Choice()), nothingSent: true}
		}
		return s.draftGone(c, f, err)
	}
	f.links.useDraft(out.DraftID, s.signer.sign(out.DraftID))
	switch out.Kind {
	case booking.OutcomeSlotTaken:
		d, err := f.svc.Draft(ctx, out.DraftID)
		if err != nil {
			return s.draftGone(c, f, err)
		}
		return s.renderReview(c, f, http.StatusConflict, d, &out)
	case booking.OutcomeBooked:
		if d, err := f.svc.Draft(ctx, out.DraftID); err == nil {
			s.rememberDetails(c, f.clinic.Slug, d.Details)
		}
	}
	return c.Redirect(http.StatusSeeOther, f.links.booking(f.links.draft, "/"))
}
