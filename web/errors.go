package web

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/views"
)

// pageError is a handler's error together with what its error page needs
// beyond the cause; handleError finds it with errors.As.
type pageError struct {
	err error
	// retryURL is where "Try again" leads after a failed POST.
	retryURL string
	// nothingSent is true when the failed request is known to have sent no
	// booking, so the page may say that nothing was booked.
	nothingSent bool
	// draft is the id of the draft the details were saved in before the
	// failure, for the "Leave a booking request" link to fill its form.
	draft string
}

func (e *pageError) Error() string { return e.err.Error() }
func (e *pageError) Unwrap() error { return e.err }

// errTooMany is the cause of the page for a form sent too often from one
// address.
var errTooMany = errors.New("too many attempts from one address")

// Messages of the error pages. Only a failure known to have sent no
// booking says that nothing was booked: on any other, the patient may have
// a booking from an earlier step and must not be told otherwise.
const (
	unavailableMessage  = "The clinic's booking system isn't answering at the moment. Please try again in a minute."
	nothingSentMessage  = "The clinic's booking system isn't answering at the moment. Nothing has been booked. Please try again in a minute."
	busyMessage         = "The clinic's booking system is busy. This page will try again by itself in a few seconds; nothing you chose is lost."
	busySubmitMessage   = "The clinic's booking system is busy, so this wasn't sent and nothing was booked. Please try again in a few seconds."
	failedGetMessage    = "Sorry, something went wrong on our side. Please try again."
	failedSubmitMessage = "Sorry, something went wrong on our side. If you were confirming a booking, check your email or call the clinic before trying again."
)

// busyRetry is how soon, in seconds, a busy page tries again (the Refresh
// header, which every browser follows with no script): the load it waited
// for goes on meanwhile, so the next try usually finds it.
const busyRetry = "3"

// handleError is the one place errors become pages. A booking.Error carries a
// message fit for a patient; anything else is logged with its cause and shown
// as a plain "something went wrong" page with the request id. A pageError
// adds the retry link, "nothing was sent" and the saved draft.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	req := c.Request()
	id := requestIDFrom(c)
	var clinic *booking.Clinic
	if svc, ok := s.clinics.Clinic(req.Context(), c.Param("clinic")); ok {
		cl := svc.Clinic()
		clinic = &cl
	}
	m := views.ErrorPage{Page: s.page(c, clinic, "Something went wrong"), RequestID: id}
	pe := &pageError{} // empty unless the handler returned one
	errors.As(err, &pe)

	status := http.StatusInternalServerError
	var he *echo.HTTPError
	switch be, ok := booking.AsError(err); {
	case errors.Is(err, errTooMany):
		status = http.StatusTooManyRequests
		s.rateLimited(c)
		m.Heading, m.Message, m.RetryURL = "Please wait a minute", tooManyMessage, pe.retryURL
	case errors.Is(err, errBodyTooLarge):
		status = http.StatusRequestEntityTooLarge
		m.Heading = "What you sent was too large"
		m.Message = "What you sent was too large for this form, so nothing was saved or booked. Go back, check what you typed and try again."
	case errors.Is(err, errUnsupportedBody):
		status = http.StatusUnsupportedMediaType
		m.Heading = "We couldn't read that form"
		m.Message = "The form didn't arrive in a way this page can read, so nothing was saved or booked. Go back and try again."
	case ok && be.Code == booking.CodeNotFound:
		status = http.StatusNotFound
		m.Heading, m.Message = "Page not found", be.Message
	case ok && be.Code == booking.CodeTaken:
		status = http.StatusConflict
		m.Heading, m.Message = "That time has just been taken", be.Message
	case ok && be.Code == booking.CodeInvalid:
		status = http.StatusBadRequest
		m.Heading, m.Message = "We couldn't use that link", be.Message
	case ok && be.Code == booking.CodeBusy:
		// Not an outage: the page tries again by itself, and nothing is
		// lost; no "leave a request" for a wait of seconds.
		status = http.StatusServiceUnavailable
		m.Heading = "Lots of people are booking right now"
		m.Message = busyMessage
		c.Response().Header().Set("Retry-After", busyRetry)
		if req.Method == http.MethodGet || req.Method == http.MethodHead {
			c.Response().Header().Set("Refresh", busyRetry)
			m.RetryURL = req.URL.RequestURI()
		} else {
			m.Message = busySubmitMessage
			m.RetryURL = pe.retryURL
		}
		s.log.Info("page answered busy", "request_id", id, "path", logPath(c))
	case ok && be.Code == booking.CodeUnavailable:
		status = http.StatusServiceUnavailable
		m.Heading = "Online booking isn't available right now"
		m.Message = unavailableMessage
		if pe.nothingSent {
			m.Message = nothingSentMessage
		}
		if pe.retryURL != "" {
			m.RetryURL = pe.retryURL
		} else if req.Method == http.MethodGet {
			m.RetryURL = req.URL.RequestURI()
		}
		if clinic != nil {
			m.RequestURL = s.requestLink(c, *clinic, pe.draft)
		}
		s.log.Warn("upstream unavailable", "request_id", id, "path", logPath(c), "err", be.Cause)
	case errors.As(err, &he) && he.Code == http.StatusNotFound:
		status = http.StatusNotFound
		m.Heading, m.Message = "Page not found", "There is no page at this address. Check the link, or start again from the clinic's booking page."
	case errors.As(err, &he) && he.Code < 500:
		status = he.Code
		m.Heading, m.Message = http.StatusText(he.Code), "The request couldn't be handled. Please go back and try again."
	default:
		s.log.Error("request failed", "request_id", id, "method", req.Method, "path", logPath(c), "err", err)
		m.Heading = "Something went wrong"
		m.Message = failedSubmitMessage
		if req.Method == http.MethodGet || req.Method == http.MethodHead {
			m.Message = failedGetMessage
		}
	}
	m.Title = m.Heading
	// The rate-limited page is plain: wait, then "Try again".
	if status != http.StatusTooManyRequests {
		if clinic != nil && status != http.StatusServiceUnavailable {
			m.StartURL = s.linksFor(requestValues(c), *clinic).home()
		}
		stepViewed(&m.Page, "error", views.Progress{})
	}
	if err := render(c, status, views.ErrorView(m)); err != nil {
		s.log.Error("render error page", "request_id", id, "err", err)
		_ = c.String(status, m.Message)
	}
}
