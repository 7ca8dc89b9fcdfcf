package web_test

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/internal/booking/bookingstore"
	"github.com/clinic-booking/portal/internal/clinics"
	portalmail "github.com/clinic-booking/portal/internal/mail"
	"github.com/clinic-booking/portal/internal/mail/mailtest"
	"github.com/clinic-booking/portal/internal/store"
	"github.com/clinic-booking/portal/web"
)

const mailPublicURL = "https://book.example-clinic.com.au"

var mailSecret = bytes.Repeat([]byte{7}, 32) // the harness's SecretKey

// mailHarness is the harness with the confirmation queued in the outbox
// (sealed with keys), PUBLIC_URL set, and a real SMTP server on loopback.
type mailHarness struct {
	*harness
	keys *clinics.Keyring
	smtp *mailtest.Server
}

func newMailHarness(t *testing.T, opts ...harnessOption) *mailHarness {
	t.Helper()
	keys, err := clinics.ParseKeyring(strings.Repeat("3c", 32))
	if err != nil {
		t.Fatal(err)
	}
	h := newHarnessSetup(t, harnessSetup{
		store: func(s booking.Store) booking.Store { return s.(bookingstore.Adapter).WithOutbox(keys) },
		web:   func(c *web.Config) { c.PublicURL = mailPublicURL },
	}, append([]harnessOption{withClinicTexts}, opts...)...)
	return &mailHarness{harness: h, keys: keys, smtp: mailtest.Start(t)}
}

// worker is one replica's mail worker over db, sending to the test's SMTP
// server, logging to the harness's logs, on a clock offset ahead.
func (h *mailHarness) worker(db *store.Store, offset *time.Duration) *portalmail.Worker {
	cfg, err := portalmail.ParseConfig(h.smtp.URL(), "Harbourside Physio <bookings@example-clinic.com.au>")
	if err != nil {
		h.t.Fatal(err)
	}
	w := &portalmail.Worker{
		Outbox:  bookingstore.New(db).WithOutbox(h.keys),
		Compose: web.NewMailComposer(web.ServiceDirectory(h.dir), mailPublicURL, mailSecret).Compose,
		Sender:  portalmail.NewSMTP(cfg),
		Log:     h.newLogger(),
	}
	if offset != nil {
		w.Now = func() time.Time { return time.Now().Add(*offset) }
	}
	return w
}

func (h *mailHarness) drain(w *portalmail.Worker) int {
	h.t.Helper()
	n, err := w.Drain(context.Background())
	if err != nil {
		h.t.Fatalf("drain the outbox: %v", err)
	}
	return n
}

func (h *mailHarness) wantOutboxEmpty() {
	h.t.Helper()
	left, err := h.db.ListOutbox(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	if len(left) != 0 {
		h.t.Errorf("%d message(s) left in the outbox, want none", len(left))
	}
}

var otherPatient = patient{
	First: "Barnaby", Last: "Oakenshield", Day: "3", Month: "7", Year: "1975",
	Email: "b.oaken.test@example.org", Mobile: "0488 555 666", Note: "Shoulder after a fall", Consent: true,
}

// TestConfirmationEmailArrivesOnceOverSMTP books two patients and runs the
// mail worker against a real SMTP server: each gets exactly one message,
// which parsed as MIME has a text part, an HTML part and the .ics (the
// confirmation page's event: same UID, with the address and an alarm),
// the manage link, and nothing of the other patient nor any detail the
// patient did not type.
func TestConfirmationEmailArrivesOnceOverSMTP(t *testing.T) {
	h := newMailHarness(t)
	doneA := h.confirm(h.toReview(newPatient, "First available practitioner"))
	doneA.WantH1("Booking confirmed")
	doneB := h.confirm(h.toReview(otherPatient, "First available practitioner"))
	doneB.WantH1("Booking confirmed")

	// Queued with the booking, sealed: nothing personal in the clear.
	queued, err := h.db.ListOutbox(context.Background())
	if err != nil || len(queued) != 2 {
		t.Fatalf("outbox holds %d messages (%v), want the 2 confirmations", len(queued), err)
	}
	for _, q := range queued {
		for _, pt := range []patient{newPatient, otherPatient} {
			if strings.Contains(q.Sealed, pt.Email) || strings.Contains(q.Sealed, pt.First) {
				t.Errorf("outbox row %s holds a personal detail in the clear", q.ID[:8])
			}
		}
	}

	w := h.worker(h.db, nil)
	if n := h.drain(w); n != 2 {
		t.Fatalf("worker sent %d, want 2", n)
	}
	if n := h.drain(w); n != 0 {
		t.Errorf("a second pass sent %d more", n)
	}
	got := h.smtp.Messages()
	if len(got) != 2 {
		t.Fatalf("SMTP server received %d messages, want 2", len(got))
	}
	h.wantOutboxEmpty()

	for _, c := range []struct {
		pt, other patient
		done      *page
	}{{newPatient, otherPatient, doneA}, {otherPatient, newPatient, doneB}} {
		var msg []byte
		for _, r := range got {
			if len(r.To) == 1 && r.To[0] == c.pt.Email {
				if msg != nil {
					t.Errorf("%s got two messages", c.pt.First)
				}
				msg = r.Data
			}
		}
		if msg == nil {
			t.Fatalf("no message to %s's address", c.pt.First)
		}
		parts := mailtest.Parts(t, msg)
		text, html, ics := parts["text/plain"], parts["text/html"], parts["text/calendar"]
		if text == "" || html == "" || ics == "" {
			t.Fatalf("message lacks a part: have %v", keys(parts))
		}
		ref := strings.TrimSpace(c.done.Doc.Find(".reference").First().Text())
		for _, want := range []string{"Your booking is confirmed", "Hi " + c.pt.First + ",", "Reference number: " + ref,
			"Standard Consultation", "112 Crown Street, Surry Hills NSW 2010", "(Sydney time, AEDT)", "Cancellation policy",
			"Please give 24 hours' notice if you need to cancel.", "Late cancellations may be charged.",
			"Level 1, above the pharmacy: the lift is on Crown Street",
			"Manage your booking: " + mailPublicURL + "/demo/manage/"} {
			if !strings.Contains(text, want) {
				t.Errorf("text part lacks %q:\n%s", want, text)
			}
		}
		link := regexp.MustCompile(`Manage your booking: (\S+)`).FindStringSubmatch(text)[1]
		token := strings.TrimPrefix(link, mailPublicURL+"/demo/manage/")
		draftID, ok := booking.NewManageTokens(mailSecret).DraftID("demo", token)
		if !ok {
			t.Errorf("manage link %s does not verify", link)
		}
		if !strings.Contains(html, `href="`+link+`"`) || !strings.Contains(html, "Harbourside Physio (test)") {
			t.Errorf("HTML part lacks the manage link or the clinic's name:\n%s", html)
		}
		if strings.Contains(html, "<img") || strings.Contains(html, "<link") || strings.Contains(html, "<script") {
			t.Errorf("HTML part loads something from outside:\n%s", html)
		}
		unfolded := strings.ReplaceAll(ics, "\r\n ", "")
		for _, want := range []string{"METHOD:PUBLISH", "UID:" + draftID + "@book.example-clinic.com.au", "SEQUENCE:0",
			"BEGIN:VALARM", "TRIGGER:-PT1440M", "Surry Hills NSW 2010", "Reference " + ref} {
			if !strings.Contains(unfolded, want) {
				t.Errorf(".ics lacks %q:\n%s", want, unfolded)
			}
		}
		// The confirmation page's download is the same event.
		page := h.get(c.done.Link("Add to your calendar"))
		if uid := icsLine(page.Body, "UID"); uid != icsLine(unfolded, "UID") {
			t.Errorf("page's event UID %q, email's %q", uid, icsLine(unfolded, "UID"))
		}

		all := string(msg) + text + html + unfolded
		for _, s := range []string{c.other.First, c.other.Last, c.other.Email, c.other.Mobile, c.other.Note,
			c.pt.Last, c.pt.Mobile, c.pt.Note, c.pt.Year} {
			if strings.Contains(all, s) {
				t.Errorf("message to %s holds %q, which is not theirs or not needed", c.pt.First, s)
			}
		}
	}
	h.assertPrivate(newPatient)
	h.assertPrivate(otherPatient)
}

// TestConfirmationEmailWaitsOutAnSMTPOutage: the SMTP server refuses for
// over an hour of retries, then accepts: the patient gets exactly one
// message, and the outbox is empty after.
func TestConfirmationEmailWaitsOutAnSMTPOutage(t *testing.T) {
	h := newMailHarness(t)
	h.confirm(h.toReview(newPatient, "First available practitioner")).WantH1("Booking confirmed")

	var offset time.Duration
	w := h.worker(h.db, &offset)
	h.smtp.Refuse(1000)
	for offset < time.Hour+5*time.Minute {
		if n := h.drain(w); n != 0 {
			t.Fatalf("sent %d while the server refuses", n)
		}
		offset += 5 * time.Minute
	}
	refused := h.smtp.Refused()
	if refused < 6 || refused >= portalmail.DefaultMaxTries {
		t.Fatalf("the server refused %d tries in the hour, want it tried again and again, with tries left", refused)
	}
	if refused < 4 {
		t.Fatalf("the server refused %d tries in the hour, want the message tried again and again", refused)
	}
	h.smtp.Refuse(0)
	offset += 30 * time.Minute
	if n := h.drain(w); n != 1 {
		t.Fatalf("sent %d once the server accepts, want 1", n)
	}
	offset += time.Hour
	h.drain(w)
	if got := h.smtp.Messages(); len(got) != 1 {
		t.Fatalf("server received %d messages, want exactly 1", len(got))
	}
	h.wantOutboxEmpty()
	h.assertPrivate(newPatient)
}

// TestConfirmationEmailGivenUpIsLoggedWithoutTheAddress: a message the
// server never accepts is given up after its last try, deleted, and
// logged at error level with no personal detail.
func TestConfirmationEmailGivenUpIsLoggedWithoutTheAddress(t *testing.T) {
	h := newMailHarness(t)
	h.confirm(h.toReview(newPatient, "First available practitioner")).WantH1("Booking confirmed")
	var offset time.Duration
	w := h.worker(h.db, &offset)
	w.MaxTries = 3
	h.smtp.Refuse(1000)
	for range 4 {
		h.drain(w)
		offset += time.Hour
	}
	if h.smtp.Refused() != 3 {
		t.Errorf("refused %d tries, want 3", h.smtp.Refused())
	}
	h.wantOutboxEmpty()
	logs := h.logs.String()
	if !strings.Contains(logs, `"level":"ERROR","msg":"mail given up`) {
		t.Errorf("giving up is not logged at error level:\n%s", logs)
	}
	h.assertPrivate(newPatient)
}

// TestConfirmationEmailSentAfterARestart: the portal stops after the
// booking, before its worker sent anything; a new process on the same
// database file sends it. And a worker killed mid-send (it claimed the
// message and died) leaves it to another only after the lease: sent once.
func TestConfirmationEmailSentAfterARestart(t *testing.T) {
	h := newMailHarness(t)
	h.confirm(h.toReview(newPatient, "First available practitioner")).WantH1("Booking confirmed")

	// The first process claims the message and dies mid-send.
	var offset time.Duration
	dying := bookingstore.New(h.db).WithOutbox(h.keys)
	if _, ok, err := dying.ClaimMessage(context.Background(), time.Now(), portalmail.DefaultLease); err != nil || !ok {
		t.Fatalf("claim: %v %v", ok, err)
	}

	// The new process: its own connection to the same database file.
	db, err := store.Open(context.Background(), "sqlite:"+h.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	w := h.worker(db, &offset)
	if n := h.drain(w); n != 0 {
		t.Fatalf("sent %d while the dead worker's lease holds", n)
	}
	offset = portalmail.DefaultLease + time.Second
	if n := h.drain(w); n != 1 {
		t.Fatalf("sent %d after the lease ran out, want 1", n)
	}
	if got := h.smtp.Messages(); len(got) != 1 || got[0].To[0] != newPatient.Email {
		t.Fatalf("server received %d messages, want 1 to the patient", len(got))
	}
	h.wantOutboxEmpty()
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// icsLine is the value of the first line named name in an iCalendar file.
func icsLine(ics, name string) string {
	for _, l := range strings.Split(strings.ReplaceAll(ics, "\r\n ", ""), "\r\n") {
		if v, ok := strings.CutPrefix(l, name+":"); ok {
			return v
		}
	}
	return ""
}

// TestConfirmationEmailQueuedWhenTheSweeperSettles: coreplus booked, but
// the confirm could not record it; the sweeper finds the appointment and
// settles the booking as booked, queueing the confirmation in the same
// transaction. The patient gets it once.
func TestConfirmationEmailQueuedWhenTheSweeperSettles(t *testing.T) {
	keys, err := clinics.ParseKeyring(strings.Repeat("3c", 32))
	if err != nil {
		t.Fatal(err)
	}
	fs := &failingStore{}
	base := newHarnessSetup(t, harnessSetup{
		store: func(s booking.Store) booking.Store { fs.Store = s.(bookingstore.Adapter).WithOutbox(keys); return fs },
		web:   func(c *web.Config) { c.PublicURL = mailPublicURL },
	})
	h := &mailHarness{harness: base, keys: keys, smtp: mailtest.Start(t)}
	review := h.toReview(newPatient, "Tom Whitfield")
	fs.updateBooked.Store(true)
	h.confirm(review).WantH1("We're confirming your booking")
	if queued, _ := h.db.ListOutbox(context.Background()); len(queued) != 0 {
		t.Fatalf("%d message(s) queued for a booking not recorded as booked", len(queued))
	}
	if res := h.sweep(booking.StalePending + time.Minute); res.Booked != 1 {
		t.Fatalf("sweep %+v, want the booking found", res)
	}
	h.sweep(booking.StalePending + 2*time.Minute) // settled already: queues nothing more
	if n := h.drain(h.worker(h.db, nil)); n != 1 {
		t.Fatalf("sent %d, want the one confirmation", n)
	}
	if got := h.smtp.Messages(); len(got) != 1 || got[0].To[0] != newPatient.Email {
		t.Fatalf("server received %d messages, want 1 to the patient", len(got))
	}
	h.assertPrivate(newPatient)
}

// TestConfirmationNotSentForABookingCancelledSince: a confirmation still
// queued when its booking is cancelled is dropped unsent.
func TestConfirmationNotSentForABookingCancelledSince(t *testing.T) {
	h := newMailHarness(t)
	h.confirm(h.toReview(newPatient, "First available practitioner")).WantH1("Booking confirmed")
	queued, err := h.db.ListOutbox(context.Background())
	if err != nil || len(queued) != 1 {
		t.Fatalf("outbox: %d, %v", len(queued), err)
	}
	b, err := h.db.GetBookingByDraft(context.Background(), queued[0].DraftID)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := h.db.SetBookingStatus(context.Background(), b.DraftID, string(booking.RecordBooked), b.UpdatedAt, string(booking.RecordCancelled)); err != nil || !ok {
		t.Fatalf("cancel: %v %v", ok, err)
	}
	if n := h.drain(h.worker(h.db, nil)); n != 0 {
		t.Errorf("sent %d confirmations of a cancelled booking", n)
	}
	if got := h.smtp.Messages(); len(got) != 0 {
		t.Errorf("server received %d messages", len(got))
	}
	h.wantOutboxEmpty()
}
