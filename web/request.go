package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/internal/funnel"
	"github.com/clinic-booking/portal/views"
)

// The booking request form is the way on when coreplus cannot be reached:
// the patient leaves when suits them and how to reach them, and clinic staff
// call back (`portal requests <clinic>`). Nothing on these pages calls
// coreplus.

var (
	dayLabels  = map[string]string{"mon": "Monday", "tue": "Tuesday", "wed": "Wednesday", "thu": "Thursday", "fri": "Friday", "sat": "Saturday"}
	timeLabels = map[string]string{"morning": "Morning (before 12 pm)", "afternoon": "Afternoon (12 pm to 5 pm)", "evening": "Evening (after 5 pm)"}
)

// requestService is what the request pages ask of a clinic's booking
// service: they never call coreplus.
type requestService interface {
	Clinic() booking.Clinic
	RequestFromDraft(ctx context.Context, draftID string) (booking.RequestForm, error)
	LeaveRequest(ctx context.Context, r booking.Request) (string, error)
}

// requestLink is where an "unavailable" page's "Leave a booking request"
// leads: the request form with the choices made so far (ids only), the
// signed draft (so what was typed is filled in server-side) and the embed
// settings. savedDraft, when set, is the id of the draft the failed request
// saved.
func (s *Server) requestLink(c echo.Context, clinic booking.Clinic, savedDraft string) string {
	get := requestValues(c)
	links := s.linksFor(get, clinic)
	if savedDraft != "" {
		links.useDraft(savedDraft, s.signer.sign(savedDraft)) // the details just saved
	}
	return links.to("request", booking.Choice{LocationID: get(qLocation), ServiceID: get(qType), PractitionerID: get(qPractitioner)})
}

// requestForm shows the request form, filled in from the patient's draft
// when the link carries one.
func (s *Server) requestForm(c echo.Context) error {
	f, done, err := s.openForm(c, c.QueryParam)
	if done {
		return err
	}
	svc, clinic, links := f.svc, f.clinic, f.links
	form := booking.RequestForm{LocationID: c.QueryParam(qLocation), ServiceID: c.QueryParam(qType), PractitionerID: c.QueryParam(qPractitioner)}
	notice := ""
	if links.draftID != "" {
		if d, err := svc.RequestFromDraft(c.Request().Context(), links.draftID); err == nil {
			for _, v := range []struct{ from, to *string }{
				{&d.LocationID, &form.LocationID}, {&d.ServiceID, &form.ServiceID}, {&d.PractitionerID, &form.PractitionerID},
			} {
				if *v.to == "" {
					*v.to = *v.from
				}
			}
			form.FirstName, form.LastName, form.Email, form.Mobile, form.Note = d.FirstName, d.LastName, d.Email, d.Mobile, d.Note
			notice = "We've filled in the details you gave us. Check they're still right."
		}
	}
	return s.renderRequest(c, clinic, links, http.StatusOK, form, nil, notice)
}

func (s *Server) renderRequest(c echo.Context, clinic booking.Clinic, links flowLinks, status int, f booking.RequestForm, errs []booking.FieldError, notice string) error {
	title := "Leave a booking request"
	if len(errs) > 0 {
		title = "Error: " + title
	}
	links.useDraft("", "") // the draft has done its work: it filled the form
	m := views.RequestPage{
		Page:   s.page(c, &clinic, title),
		Notice: notice,
		Action: "/" + url.PathEscape(clinic.Slug) + "/request",
		Hidden: toHidden(links.hidden(booking.Choice{LocationID: f.LocationID, ServiceID: f.ServiceID, PractitionerID: f.PractitionerID})),
		Values: views.RequestValues{FirstName: f.FirstName, LastName: f.LastName, Email: f.Email, Mobile: f.Mobile, Note: f.Note},
	}
	if f.LocationID != "" || f.ServiceID != "" || f.PractitionerID != "" {
		m.Choices = "We'll pass on the location, service and practitioner you chose."
	}
	for _, d := range booking.RequestDays {
		m.Days = append(m.Days, views.Option{Value: d, Label: dayLabels[d], Checked: slices.Contains(f.Days, d)})
	}
	for _, t := range booking.RequestTimes {
		m.Times = append(m.Times, views.Option{Value: t, Label: timeLabels[t], Checked: slices.Contains(f.Times, t)})
	}
	for _, e := range errs {
		m.Errors = append(m.Errors, views.FieldError{Field: e.Field, Message: e.Message})
	}
	return render(c, status, views.RequestView(m))
}

// saveRequest checks the form and stores the request; a problem brings the
// form back with everything typed kept.
func (s *Server) saveRequest(c echo.Context) error {
	f, done, err := s.openForm(c, c.FormValue)
	if done {
		return err
	}
	svc, clinic, links := f.svc, f.clinic, f.links
	received := links.withCarried("/" + url.PathEscape(clinic.Slug) + "/request/received")
	if s.honeypotFilled(c) {
		return c.Redirect(http.StatusSeeOther, received)
	}
	params, err := c.FormParams()
	if err != nil {
		return &booking.Error{Code: booking.CodeInvalid, Message: "We couldn't read that form. Go back and try again."}
	}
	form := booking.RequestForm{
		FirstName: params.Get("first_name"), LastName: params.Get("last_name"),
		Email: params.Get("email"), Mobile: params.Get("mobile"), Note: params.Get("note"),
		Days: params["days"], Times: params["times"],
		LocationID: params.Get(qLocation), ServiceID: params.Get(qType), PractitionerID: params.Get(qPractitioner),
	}
	if !s.abuse.requests.allow(c.RealIP()) {
		s.rateLimited(c)
		return s.renderRequest(c, clinic, links, http.StatusTooManyRequests, form, nil, tooManyMessage)
	}
	r, errs := form.Validate()
	if len(errs) > 0 {
		s.countRejected(c)
		return s.renderRequest(c, clinic, links, http.StatusUnprocessableEntity, form, errs, "")
	}
	if _, err := svc.LeaveRequest(c.Request().Context(), r); err != nil {
		return err
	}
	s.log.Info("booking request left", "request_id", requestIDFrom(c), "clinic", clinic.Slug)
	s.reached(c, clinic.Slug, nil, funnel.Request)
	return c.Redirect(http.StatusSeeOther, received)
}

// requestReceived thanks the patient.
func (s *Server) requestReceived(c echo.Context) error {
	svc, err := s.clinicFrom(c)
	if err != nil {
		return err
	}
	clinic := svc.Clinic()
	m := views.RequestReceivedPage{
		Page:     s.page(c, &clinic, "Request received"),
		StartURL: s.linksFor(c.QueryParam, clinic).home(),
	}
	return render(c, http.StatusOK, views.RequestReceivedView(m))
}
