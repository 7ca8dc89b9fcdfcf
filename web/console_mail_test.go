package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/internal/booking/bookingstore"
	"github.com/clinic-booking/portal/internal/clinics"
	"github.com/clinic-booking/portal/internal/coreplus/sandbox"
	portalmail "github.com/clinic-booking/portal/internal/mail"
	"github.com/clinic-booking/portal/internal/mail/mailtest"
	"github.com/clinic-booking/portal/internal/staff"
	"github.com/clinic-booking/portal/web"
)

var signInLinkInMail = regexp.MustCompile(`https?://[^\s"<>]+/console/sign-in/[A-Za-z0-9_-]+`)

// signInMailHarness is the console with its sign-in links queued in the
// outbox, a mail worker whose clock runs ahead by *ahead, and a real SMTP
// server.
func newSignInMailHarness(t *testing.T) (*consoleHarness, *mailtest.Server, *portalmail.Worker, *time.Duration) {
	t.Helper()
	keys, err := clinics.ParseKeyring(strings.Repeat("3c", 32))
	if err != nil {
		t.Fatal(err)
	}
	ch := newConsoleHarness(t, func(c *web.Config) {
		c.Console.Mailer = web.SignInMail{Queue: c.Console.Bookings.(bookingstore.Adapter).WithOutbox(keys)}
	})
	smtp := mailtest.Start(t)
	cfg, err := portalmail.ParseConfig(smtp.URL(), "Portal <portal@example-clinic.com.au>")
	if err != nil {
		t.Fatal(err)
	}
	ahead := new(time.Duration)
	clock := func() time.Time { return time.Now().Add(*ahead) }
	w := &portalmail.Worker{
		Outbox:  bookingstore.New(ch.db).WithOutbox(keys),
		Compose: web.NewMailComposer(web.ServiceDirectory(ch.dir), mailPublicURL, mailSecret).WithClock(clock).WithStaff(ch.accounts).Compose,
		Sender:  portalmail.NewSMTP(cfg),
		Log:     ch.newLogger(),
		Now:     clock,
	}
	return ch, smtp, w, ahead
}

// TestConsoleSignInLinkEmailedThroughTheOutbox: the sign-in page queues
// the link in the outbox, sealed; the mail worker sends it over real SMTP;
// the link in the email signs in. Neither the address nor the link is
// logged or kept in the clear.
func TestConsoleSignInLinkEmailedThroughTheOutbox(t *testing.T) {
	ch, smtp, w, _ := newSignInMailHarness(t)
	ch.addStaff("jo@demo.example", "demo", staff.RoleStaff, false)
	p, _ := ch.send(http.MethodPost, "/console/sign-in", "", url.Values{"email": {"jo@demo.example"}})
	if p.Status != http.StatusSeeOther && p.Status != http.StatusOK {
		t.Fatalf("asking for a link: %d", p.Status)
	}
	queued, err := ch.db.ListOutbox(context.Background())
	if err != nil || len(queued) != 1 || queued[0].Kind != "staff-sign-in" {
		t.Fatalf("outbox: %+v, %v; want one sign-in message", queued, err)
	}
	if strings.Contains(queued[0].Sealed, "jo@demo.example") || strings.Contains(queued[0].Sealed, "/console/sign-in/") {
		t.Error("the outbox keeps the address or the link in the clear")
	}
	n, err := w.Drain(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("worker sent %d (%v), want 1", n, err)
	}
	got := smtp.Messages()
	if len(got) != 1 || len(got[0].To) != 1 || got[0].To[0] != "jo@demo.example" {
		t.Fatalf("SMTP received %+v, want one message to jo@demo.example", got)
	}
	parts := mailtest.Parts(t, got[0].Data)
	link := signInLinkInMail.FindString(parts["text/plain"])
	if link == "" || !strings.Contains(parts["text/html"], link) {
		t.Fatalf("no sign-in link in both parts of the email:\n%s", parts["text/plain"])
	}
	cookie := ch.useLink(link, "")
	if p, _ := ch.send(http.MethodGet, "/console/demo/today", cookie, nil); p.Status != http.StatusOK || !strings.Contains(p.Text(), "jo@demo.example") {
		t.Errorf("the emailed link did not sign in: %d", p.Status)
	}
	left, _ := ch.db.ListOutbox(context.Background())
	if len(left) != 0 {
		t.Errorf("%d messages left in the outbox", len(left))
	}
	logs := ch.logs.String()
	for _, secret := range []string{"jo@demo.example", link, strings.TrimPrefix(link, mailPublicURL)} {
		if strings.Contains(logs, secret) {
			t.Errorf("%q in the logs", secret)
		}
	}
	if !strings.Contains(logs, `"kind":"staff-sign-in"`) || !strings.Contains(logs, `"msg":"mail sent"`) {
		t.Error("the worker did not log sending the sign-in mail")
	}
}

// TestConsoleSignInLinkNotSentOnceExpired: a sign-in message the worker
// could not send within the link's 15 minutes (SMTP down) is dropped, not
// sent.
func TestConsoleSignInLinkNotSentOnceExpired(t *testing.T) {
	ch, smtp, w, ahead := newSignInMailHarness(t)
	ch.addStaff("jo@demo.example", "demo", staff.RoleStaff, false)
	ch.send(http.MethodPost, "/console/sign-in", "", url.Values{"email": {"jo@demo.example"}})
	*ahead = staff.LinkTTL + time.Second
	n, err := w.Drain(context.Background())
	if err != nil || n != 0 {
		t.Fatalf("worker sent %d (%v), want none", n, err)
	}
	if got := smtp.Messages(); len(got) != 0 {
		t.Errorf("SMTP received %d messages", len(got))
	}
	if left, _ := ch.db.ListOutbox(context.Background()); len(left) != 0 {
		t.Errorf("%d messages left in the outbox, want the expired one dropped", len(left))
	}
	if !strings.Contains(ch.logs.String(), "no longer due") {
		t.Error("dropping the expired link is not logged")
	}
}

// TestConsoleInvitationEmailed: an admin's invitation is queued in the
// outbox and sent over SMTP as an invitation, not as a link the person
// asked for: it names the clinic, and its link signs them in. One held up
// past the link's 15 minutes still goes, pointing at the sign-in page.
func TestConsoleInvitationEmailed(t *testing.T) {
	ch, smtp, w, ahead := newSignInMailHarness(t)
	admin := ch.addStaff("admin@demo.example", "demo", staff.RoleAdmin, false)
	token, err := ch.accounts.LinkForAccount(context.Background(), admin.ID)
	if err != nil {
		t.Fatal(err)
	}
	cookie := ch.useLink(ch.portal.URL+"/console/sign-in/"+token, "")
	invite := func(email string) {
		t.Helper()
		p, _ := ch.send(http.MethodGet, "/console/demo/staff", cookie, nil)
		action, form := p.Pressing("Invite")
		form.Set("email", email)
		form.Set("role", "staff")
		if p, _ = ch.send(http.MethodPost, action, cookie, form); p.Status != http.StatusSeeOther {
			t.Fatalf("inviting: %d", p.Status)
		}
	}

	invite("reception@demo.example")
	queued, err := ch.db.ListOutbox(context.Background())
	if err != nil || len(queued) != 1 || queued[0].Kind != "staff-invite" {
		t.Fatalf("outbox: %+v, %v; want one invitation", queued, err)
	}
	if n, err := w.Drain(context.Background()); err != nil || n != 1 {
		t.Fatalf("worker sent %d (%v), want 1", n, err)
	}
	got := smtp.Messages()
	if len(got) != 1 || got[0].To[0] != "reception@demo.example" {
		t.Fatalf("SMTP received %+v", got)
	}
	parts := mailtest.Parts(t, got[0].Data)
	text := parts["text/plain"]
	for _, want := range []string{"Welcome to Harbourside Physio (test)'s staff console", "An admin of Harbourside Physio (test) gave this address access", "within 15 minutes"} {
		if !strings.Contains(text, want) || !strings.Contains(parts["text/html"], strings.ReplaceAll(want, "'", "&#39;")) {
			t.Errorf("the invitation lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "asked for a link") || strings.Contains(text, "didn't ask") {
		t.Errorf("the invitation reads as a link the person asked for:\n%s", text)
	}
	link := signInLinkInMail.FindString(text)
	if link == "" {
		t.Fatalf("no sign-in link in the invitation:\n%s", text)
	}
	reception := ch.useLink(link, "")
	if p, _ := ch.send(http.MethodGet, "/console/demo/today", reception, nil); p.Status != http.StatusOK {
		t.Errorf("the invitation's link did not sign in: %d", p.Status)
	}

	// Removed before it went out: dropped, no welcome.
	invite("wrong@demo.example")
	wrong, err := ch.accounts.ByEmail(context.Background(), "wrong@demo.example")
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := ch.send(http.MethodPost, "/console/demo/staff/"+wrong.ID+"/remove", cookie, url.Values{}); p.Status != http.StatusSeeOther {
		t.Fatalf("removing: %d", p.Status)
	}
	if n, err := w.Drain(context.Background()); err != nil || n != 0 || len(smtp.Messages()) != 1 {
		t.Fatalf("worker sent %d (%v) invitations to an address removed since, %d messages in all", n, err, len(smtp.Messages()))
	}

	// Held up past the link's life: sent, with the sign-in page instead.
	invite("locum@demo.example")
	*ahead = staff.LinkTTL + time.Minute
	if n, err := w.Drain(context.Background()); err != nil || n != 1 {
		t.Fatalf("worker sent %d (%v) of a late invitation, want 1", n, err)
	}
	got = smtp.Messages()
	text = mailtest.Parts(t, got[len(got)-1].Data)["text/plain"]
	if !strings.Contains(text, "has expired") || signInLinkInMail.MatchString(text) || !strings.Contains(text, "Go to the sign-in page: "+ch.portal.URL+"/console/sign-in") {
		t.Errorf("the late invitation:\n%s", text)
	}
}

// TestRequestEmailsTheClinicOnce: a booking request left while coreplus is
// down queues, with the request, one note to the clinic's notification
// address; sent over SMTP, it names the choices and preferred times and
// links to the console's Requests page, and holds nothing of the patient.
func TestRequestEmailsTheClinicOnce(t *testing.T) {
	keys, err := clinics.ParseKeyring(strings.Repeat("3c", 32))
	if err != nil {
		t.Fatal(err)
	}
	h := newHarnessSetup(t, harnessSetup{
		store: func(s booking.Store) booking.Store { return s.(bookingstore.Adapter).WithOutbox(keys) },
		web:   func(c *web.Config) { c.PublicURL = mailPublicURL },
	}, func(c *booking.Clinic) { c.NotificationEmail = "front-desk@harbourside.example" })
	mh := &mailHarness{harness: h, keys: keys, smtp: mailtest.Start(t)}

	review := h.toReview(newPatient, "Tom Whitfield")
	h.sb.SetFaults(sandbox.Faults{ErrorRate: 1})
	link := h.confirm(review).WantH1("Online booking isn't available right now").Link("Leave a booking request")
	action, form := h.get(link).WantH1("Leave a booking request").Form()
	form.Add("days", "mon")
	form.Add("times", "evening")
	h.post(action, form).WantH1("Request received")
	h.sb.SetFaults(sandbox.Faults{})

	queued, err := h.db.ListOutbox(context.Background())
	if err != nil || len(queued) != 1 || queued[0].Kind != "request-left" {
		t.Fatalf("outbox: %+v, %v; want the clinic's note", queued, err)
	}
	w := mh.worker(h.db, nil)
	if n := mh.drain(w); n != 1 {
		t.Fatalf("worker sent %d, want 1", n)
	}
	if n := mh.drain(w); n != 0 {
		t.Errorf("a second pass sent %d more", n)
	}
	got := mh.smtp.Messages()
	if len(got) != 1 || len(got[0].To) != 1 || got[0].To[0] != "front-desk@harbourside.example" {
		t.Fatalf("SMTP received %+v, want one message to the notification address", got)
	}
	parts := mailtest.Parts(t, got[0].Data)
	text := parts["text/plain"]
	for _, want := range []string{"Standard Consultation", "Tom Whitfield", "Harbourside Physio Surry Hills", "Monday", "Evening (after 5 pm)",
		mailPublicURL + "/console/demo/requests"} {
		if !strings.Contains(text, want) {
			t.Errorf("the note lacks %q:\n%s", want, text)
		}
	}
	if !strings.Contains(parts["text/html"], "/console/demo/requests") {
		t.Error("the HTML part does not link to Requests")
	}
	raw := string(got[0].Data)
	for _, secret := range []string{newPatient.First, newPatient.Last, newPatient.Email, "0499111222", "0499 111 222", newPatient.Note} {
		if strings.Contains(raw, secret) || strings.Contains(text, secret) {
			t.Errorf("the note holds the patient's %q", secret)
		}
	}
	mh.wantOutboxEmpty()
	h.assertPrivate(newPatient)
}
