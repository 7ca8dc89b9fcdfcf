package web

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/internal/mail"
	"github.com/clinic-booking/portal/views"
)

// DemoMailbox is the demo's kept mail (a mail.Folder).
type DemoMailbox interface {
	List() ([]mail.Stored, error)
	Get(id string) (mail.Stored, error)
}

// demoMailPath is the demo mailbox's page; registered only in the demo.
const demoMailPath = "/demo/mail"

// demoMail lists the demo's kept mail.
func (s *Server) demoMail(c echo.Context) error {
	list, err := s.demoMailbox.List()
	if err != nil {
		return err
	}
	m := views.DemoMailPage{Page: s.page(c, nil, "Demo mailbox")}
	for _, e := range list {
		m.Messages = append(m.Messages, views.DemoMail{
			Subject: e.Subject, To: e.To, SentAt: e.SentAt.Format("2 Jan 2006 15:04:05 MST"),
			HTMLURL: demoMailPath + "/" + e.ID, ICSURL: demoMailPath + "/" + e.ID + ".ics", Text: e.Text,
		})
	}
	return render(c, http.StatusOK, views.DemoMailView(m))
}

// demoMailMessage serves one kept email's HTML part as the patient's mail
// client would show it, or its calendar file when the address ends in
// ".ics".
func (s *Server) demoMailMessage(c echo.Context) error {
	id, ics := strings.CutSuffix(c.Param("id"), ".ics")
	e, err := s.demoMailbox.Get(id)
	if err != nil {
		return &booking.Error{Code: booking.CodeNotFound, Message: "There is no such email in the demo mailbox."}
	}
	if ics {
		for _, a := range e.Attachments {
			if strings.HasSuffix(a.Name, ".ics") {
				c.Response().Header().Set("Content-Disposition", `attachment; filename="`+a.Name+`"`)
				return c.Blob(http.StatusOK, "text/calendar; charset=utf-8", a.Data)
			}
		}
		return echo.ErrNotFound
	}
	// The email's inline styles, and nothing else: no script, no images.
	c.Response().Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'; base-uri 'none'; form-action 'none'")
	return c.HTMLBlob(http.StatusOK, []byte(e.HTML))
}
