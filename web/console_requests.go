package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/views"
)

// requests lists the booking requests patients left while coreplus could
// not be reached, newest first, the ones already contacted apart. Staff
// see the contact details here (they call the patients back); they go
// into no URL and no log. coreplus is asked, through the cache, only for
// names, and the page is shown without them.
func (s *Server) requests(c echo.Context) error {
	if s.console.Requests == nil {
		return s.consoleNotFound(c)
	}
	svc, err := s.clinicFrom(c)
	if err != nil {
		return err
	}
	cl := svc.Clinic()
	ctx := c.Request().Context()
	list, err := s.console.Requests.ListRequests(ctx, cl.Slug, s.console.now())
	if err != nil {
		return fmt.Errorf("requests: %w", err)
	}
	names := referenceNames(ctx, svc)
	m := views.RequestsPage{
		ConsolePage:  s.consolePage(c, &cl, "Requests", "Requests"),
		NamesMissing: names.missing,
		Zone:         names.zone.String(),
	}
	switch c.QueryParam("done") {
	case "contacted":
		m.Notice = "Marked contacted."
	case "already":
		m.Notice = "That request was already marked contacted; it is listed under Contacted with who marked it."
	}
	for _, r := range list {
		v := names.describeRequest(r)
		v.MarkAction = "/console/" + cl.Slug + "/requests/" + r.ID + "/contacted"
		if r.Status == booking.RequestContacted {
			m.Contacted = append(m.Contacted, v)
		} else {
			m.New = append(m.New, v)
		}
	}
	return render(c, http.StatusOK, views.RequestsView(m))
}

// markRequestContacted marks one of the clinic's requests contacted, as
// `portal requests --done` does, recording who and when. Marking it again
// changes nothing and says so: the first marker is kept.
func (s *Server) markRequestContacted(c echo.Context) error {
	if s.console.Requests == nil {
		return s.consoleNotFound(c)
	}
	slug := c.Param("clinic")
	id := c.Param("id")
	acc := staffFrom(c)
	r, err := booking.MarkRequestContacted(c.Request().Context(), s.console.Requests, slug, id, acc.Email, s.console.now())
	done := "contacted"
	var ambiguous *booking.AmbiguousRequestIDError
	switch {
	case errors.Is(err, booking.ErrAlreadyContacted), errors.Is(err, booking.ErrRequestChanged):
		done = "already"
	case errors.Is(err, booking.ErrRequestIDTooShort), errors.Is(err, booking.ErrNoSuchRequest), errors.As(err, &ambiguous):
		// The form names a whole id; anything else is an old or edited
		// address, or a request that has since expired.
		return s.consoleNotFound(c)
	case err != nil:
		return fmt.Errorf("mark request contacted: %w", err)
	default:
		s.log.Info("booking request marked contacted", "request_id", requestIDFrom(c), "clinic", slug,
			"booking_request", shortRequestID(r.ID), "account", acc.ID)
	}
	return c.Redirect(http.StatusSeeOther, "/console/"+slug+"/requests?done="+done)
}

// shortRequestID is as much of a request's id as staff are shown.
func shortRequestID(id string) string {
	if len(id) > booking.RequestIDShown {
		return id[:booking.RequestIDShown]
	}
	return id
}

// describeRequest is a request as staff read it: the names of what the
// patient chose, their preferences in words, and when it came in, in the
// clinic's time zone.
func (n names) describeRequest(r booking.Request) views.ConsoleRequest {
	name := func(m map[string]string, id, gone string) string {
		switch v, ok := m[id]; {
		case id == "":
			return "Not chosen"
		case ok:
			return v
		case id == booking.AnyPractitioner:
			return "Any practitioner"
		case n.missing:
			return id
		}
		return gone + " (" + id + ")"
	}
	loc := name(nil, r.LocationID, "A location no longer offered")
	if l, ok := n.locations[r.LocationID]; ok {
		loc = l.Name
	}
	v := views.ConsoleRequest{
		Reference:    shortRequestID(r.ID),
		Received:     r.CreatedAt.In(n.zone).Format("Mon 2 Jan, 3:04 pm"),
		Name:         strings.TrimSpace(r.FirstName + " " + r.LastName),
		Email:        r.Email,
		Mobile:       spacedMobile(r.Mobile),
		Location:     loc,
		Service:      name(n.services, r.ServiceID, "A service no longer offered"),
		Practitioner: name(n.practitioners, r.PractitionerID, "A practitioner no longer offered"),
		Days:         wordsOrAny(r.Days, dayLabels, "Any day"),
		Times:        wordsOrAny(r.Times, timeLabels, "Any time"),
		Note:         r.Note,
	}
	if r.Status == booking.RequestContacted {
		v.Contacted = "Marked contacted"
		if r.ContactedBy != "" {
			v.Contacted += " by " + r.ContactedBy
		}
		if !r.ContactedAt.IsZero() {
			v.Contacted += " on " + r.ContactedAt.In(n.zone).Format("Mon 2 Jan, 3:04 pm")
		}
	}
	return v
}

func wordsOrAny(values []string, labels map[string]string, whenNone string) string {
	if len(values) == 0 {
		return whenNone
	}
	words := make([]string, len(values))
	for i, v := range values {
		words[i] = labels[v]
	}
	return strings.Join(words, ", ")
}
