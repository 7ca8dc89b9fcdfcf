package web

import (
	"errors"
	"mime"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"
)

// maxFormBytes bounds every request body. The largest real form is the
// booking request: its note takes 300 characters (the details form's 270),
// names and email 50 each, and it carries the choices, the signed draft and
// five campaign values of up to 100 bytes. With every character a 4-byte
// UTF-8 one, percent-encoded to 12 bytes, it is 6.5 KiB; with the note
// typed in decomposed Hangul (three 3-byte jamo to a character, 27 bytes
// encoded), the costliest text a keyboard is likely to send, 11 KiB
// (TestLargestRealFormsFit builds both). 16 KiB leaves a few KiB beyond
// that, and a body still costs the portal no more memory than a page does.
const maxFormBytes = 16 << 10

// Causes of the pages for a refused body.
var (
	errBodyTooLarge    = errors.New("request body over the bound")
	errUnsupportedBody = errors.New("request body not a urlencoded form")
)

// boundBodies refuses, before any handler runs, a body the portal's own
// forms never send: one over maxFormBytes (413, on its Content-Length
// alone, or when reading it passes the bound) or a form that is not
// urlencoded (415: multipart would let a client make the portal buffer
// files). It parses an accepted form here, bounded, so handlers only ever
// see a whole form. An address that has sent too many refused bodies or
// forms with mistakes is answered 429 before its body is looked at.
func (s *Server) boundBodies(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if req.Method == http.MethodPost && s.abuse.rejects.spent(c.RealIP()) {
			leaveBodyUnread(c)
			return &pageError{err: errTooMany}
		}
		if req.ContentLength == 0 {
			return next(c)
		}
		if req.ContentLength > maxFormBytes {
			return s.refuseBody(c, errBodyTooLarge)
		}
		req.Body = http.MaxBytesReader(c.Response().Writer, req.Body, maxFormBytes)
		if req.Method != http.MethodPost {
			return next(c) // no route reads it; net/http discards what is left
		}
		if mt, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
			return s.refuseBody(c, errUnsupportedBody)
		}
		// Any other parse error leaves the fields that could be read, as
		// c.FormValue always has; the handlers say what is missing.
		if _, over := errors.AsType[*http.MaxBytesError](req.ParseForm()); over {
			return s.refuseBody(c, errBodyTooLarge)
		}
		return next(c)
	}
}

// refuseBody answers a body boundBodies will not take and counts it
// against the sender's address. Nothing of the body is logged.
func (s *Server) refuseBody(c echo.Context, cause error) error {
	s.abuse.rejects.allow(c.RealIP())
	s.log.Warn("request body refused", "request_id", requestIDFrom(c), "method", c.Request().Method,
		"path", logPath(c), "content_length", c.Request().ContentLength, "reason", cause.Error())
	leaveBodyUnread(c)
	return cause
}

// leaveBodyUnread makes sure nothing reads a refused body: the error page
// looks for the embed settings in a POST's fields, so it is given the
// query's, and the connection is closed after the answer, so that net/http
// does not read what is left of the body to keep the connection open.
func leaveBodyUnread(c echo.Context) {
	req := c.Request()
	req.Body = http.NoBody
	req.Form, req.PostForm = req.URL.Query(), url.Values{}
	c.Response().Header().Set("Connection", "close")
}

// countRejected counts a form answered with its mistakes against the
// sender's address, as a refused body is: a patient correcting a few
// typos never meets the limit; a script posting junk does.
func (s *Server) countRejected(c echo.Context) { s.abuse.rejects.allow(c.RealIP()) }
