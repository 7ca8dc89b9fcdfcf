package mail_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/clinic-booking/portal/internal/mail"
	"github.com/clinic-booking/portal/internal/mail/mailtest"
)

func smtpTo(t *testing.T, srv *mailtest.Server) *mail.SMTP {
	t.Helper()
	cfg, err := mail.ParseConfig(srv.URL(), "Clinic <bookings@example-clinic.com.au>")
	if err != nil {
		t.Fatal(err)
	}
	s := mail.NewSMTP(cfg)
	s.Timeout = 10 * time.Second
	return s
}

// TestSMTPSendsOneMessage: the message reaches the server once, from
// MAIL_FROM to the patient, with the outbox id in its Message-ID.
func TestSMTPSendsOneMessage(t *testing.T) {
	srv := mailtest.Start(t)
	e := mail.Email{ID: strings.Repeat("ab", 16), To: "pat.test@example.com", Subject: "Booked", Text: "text", HTML: "<p>html</p>",
		Attachments: []mail.Attachment{{Name: "a.ics", ContentType: "text/calendar", Data: []byte("BEGIN:VCALENDAR\r\n")}}}
	if err := smtpTo(t, srv).Send(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	got := srv.Messages()
	if len(got) != 1 || got[0].From != "bookings@example-clinic.com.au" || len(got[0].To) != 1 || got[0].To[0] != e.To {
		t.Fatalf("received %+v", got)
	}
	if !strings.Contains(string(got[0].Data), "Message-ID: <"+e.ID+"@example-clinic.com.au>") {
		t.Errorf("no stable Message-ID:\n%s", got[0].Data)
	}
}

// TestSMTPErrorsNeverHoldTheAddress: a server that quotes the recipient
// back in its refusal does not get the address into the error (which the
// worker logs).
func TestSMTPErrorsNeverHoldTheAddress(t *testing.T) {
	srv := mailtest.Start(t)
	srv.RejectRecipients(true)
	err := smtpTo(t, srv).Send(context.Background(), mail.Email{To: "pat.test@example.com", Subject: "s", Text: "t", HTML: "h"})
	if err == nil {
		t.Fatal("sent to a refused recipient")
	}
	if strings.Contains(err.Error(), "pat.test") {
		t.Errorf("error holds the address: %v", err)
	}
	if !strings.Contains(err.Error(), "mailbox busy") {
		t.Errorf("error lost the server's reason: %v", err)
	}
}

// TestSMTPRequiresSTARTTLSAwayFromLoopback: a server that is not on
// loopback and offers no STARTTLS gets nothing.
func TestSMTPRequiresSTARTTLSAwayFromLoopback(t *testing.T) {
	srv := mailtest.Start(t)
	cfg, err := mail.ParseConfig(srv.URL(), "bookings@example.com")
	if err != nil {
		t.Fatal(err)
	}
	cfg.StartTLSOptional = false // as for any host but loopback
	s := mail.NewSMTP(cfg)
	s.Timeout = 10 * time.Second
	if err := s.Send(context.Background(), mail.Email{To: "pat.test@example.com", Subject: "s", Text: "t", HTML: "h"}); err == nil {
		t.Fatal("sent in the clear to a server that offers no STARTTLS")
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("server received %d messages", n)
	}
}
