package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/internal/booking/bookingstore"
	"github.com/clinic-booking/portal/internal/clinics"
	"github.com/clinic-booking/portal/internal/coreplus/sandbox"
	"github.com/clinic-booking/portal/internal/mail/mailtest"
	"github.com/clinic-booking/portal/web"
)

// messagesTo is the messages received for address, in order.
func messagesTo(got []mailtest.Received, address string) [][]byte {
	var out [][]byte
	for _, r := range got {
		if len(r.To) == 1 && r.To[0] == address {
			out = append(out, r.Data)
		}
	}
	return out
}

// TestMovedAndCancelledEmailsArriveOnceOverSMTP: a patient books, moves
// the booking (pressing twice at once) and cancels it (twice at once):
// over a real SMTP server they get the confirmation, one "moved" email and
// one "cancelled" email, each with a text part, an HTML part and the .ics
// of the same event (same UID, SEQUENCE up by one each time): the move's
// at the new time, the cancel's with METHOD:CANCEL and a "Book again"
// link with the same choices. Another patient's booking gets only its
// confirmation, and no message holds anything of the other patient.
func TestMovedAndCancelledEmailsArriveOnceOverSMTP(t *testing.T) {
	h := newMailHarness(t, withCutoff(time.Hour))
	mh := &manageHarness{harness: h.harness}
	done := h.confirm(h.toReview(newPatient, "Tom Whitfield")).WantH1("Booking confirmed")
	manage := done.Link("Change or cancel this booking")
	draftID, _, _ := strings.Cut(strings.TrimPrefix(manage, "/demo/manage/"), ".")
	h.confirm(h.toReview(otherPatient, "First available practitioner")).WantH1("Booking confirmed")
	w := h.worker(h.db, nil)
	if n := h.drain(w); n != 2 {
		t.Fatalf("worker sent %d confirmations, want 2", n)
	}
	confirmation := mailtest.Parts(t, messagesTo(h.smtp.Messages(), newPatient.Email)[0])
	uid := icsLine(confirmation["text/calendar"], "UID")
	if uid != draftID+"@book.example-clinic.com.au" {
		t.Fatalf("confirmation's UID %q", uid)
	}
	rec := mh.record(draftID)

	// The move, pressed twice at once.
	day := rec.Start.In(sydney)
	other := time.Date(day.Year(), day.Month(), day.Day()+2, 0, 0, 0, 0, sydney).Format("2006-01-02")
	slot, _ := h.get(manage + "/reschedule?date=" + other).FirstSlot()
	action, form := h.get(slot).WantH1("Check your new time").Form()
	newStart, err := time.Parse(time.RFC3339, form.Get("slot"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range mh.postTwiceAtOnce(action, form) {
		if !strings.Contains(l, "done=moved") {
			t.Errorf("a press of the move answered %q", l)
		}
	}
	h.wantQueued(booking.MessageMoved, 1)
	if n := h.drain(w); n != 1 {
		t.Fatalf("worker sent %d after the move, want 1", n)
	}
	mine := messagesTo(h.smtp.Messages(), newPatient.Email)
	if len(mine) != 2 {
		t.Fatalf("patient has %d messages after the move, want 2", len(mine))
	}
	moved := mailtest.Parts(t, mine[1])
	text, html, ics := moved["text/plain"], moved["text/html"], strings.ReplaceAll(moved["text/calendar"], "\r\n ", "")
	if text == "" || html == "" || ics == "" {
		t.Fatalf("moved message lacks a part: have %v", keys(moved))
	}
	for _, want := range []string{"Your booking has moved", "Hi " + newPatient.First + ",", newStart.In(sydney).Format("Monday 2 January 2006"),
		rec.ReferenceNumber, "Manage your booking: " + mailPublicURL + manage} {
		if !strings.Contains(text, want) {
			t.Errorf("moved text lacks %q:\n%s", want, text)
		}
	}
	if !strings.Contains(html, `href="`+mailPublicURL+manage+`"`) {
		t.Errorf("moved HTML lacks the manage link:\n%s", html)
	}
	for name, want := range map[string]string{"METHOD": "PUBLISH", "UID": uid, "SEQUENCE": "1", "STATUS": "CONFIRMED",
		"DTSTART": newStart.UTC().Format("20060102T150405Z")} {
		if got := icsLine(ics, name); got != want {
			t.Errorf("moved .ics %s:%s, want %s", name, got, want)
		}
	}

	// The cancel, pressed twice at once.
	action, form = h.get(h.get(manage).Link("Cancel this booking")).Form()
	for _, l := range mh.postTwiceAtOnce(action, form) {
		if !strings.Contains(l, "done=cancelled") {
			t.Errorf("a press of the cancel answered %q", l)
		}
	}
	h.wantQueued(booking.MessageCancelled, 1)
	if sealed, err := h.db.GetBookingContact(context.Background(), draftID); err != nil || sealed != "" {
		t.Errorf("the cancelled booking still keeps its contact (%v)", err)
	}
	if n := h.drain(w); n != 1 {
		t.Fatalf("worker sent %d after the cancel, want 1", n)
	}
	mine = messagesTo(h.smtp.Messages(), newPatient.Email)
	if len(mine) != 3 {
		t.Fatalf("patient has %d messages after the cancel, want 3", len(mine))
	}
	cancelled := mailtest.Parts(t, mine[2])
	text, html, ics = cancelled["text/plain"], cancelled["text/html"], strings.ReplaceAll(cancelled["text/calendar"], "\r\n ", "")
	if text == "" || html == "" || ics == "" {
		t.Fatalf("cancelled message lacks a part: have %v", keys(cancelled))
	}
	if !strings.Contains(text, "Your booking is cancelled") || strings.Contains(text, "Manage your booking") {
		t.Errorf("cancelled text:\n%s", text)
	}
	for name, want := range map[string]string{"METHOD": "CANCEL", "UID": uid, "SEQUENCE": "2", "STATUS": "CANCELLED"} {
		if got := icsLine(ics, name); got != want {
			t.Errorf("cancelled .ics %s:%s, want %s", name, got, want)
		}
	}
	m := regexp.MustCompile(`Book again: (\S+)`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("cancelled text has no book again link:\n%s", text)
	}
	again, err := url.Parse(m[1])
	if err != nil || !strings.HasPrefix(m[1], mailPublicURL+"/demo/book?") || again.Query().Get("location") != sandbox.LocationSydneyID ||
		again.Query().Get("type") != sandbox.AppointmentTypeStandardID || again.Query().Get("practitioner") != sandbox.PractitionerTomID {
		t.Errorf("book again link %s lacks the booking's choices", m[1])
	}
	if !strings.Contains(html, `href="`+strings.ReplaceAll(m[1], "&", "&amp;")+`"`) {
		t.Errorf("cancelled HTML lacks the book again link:\n%s", html)
	}

	// Nothing more, and nothing of the other patient.
	if n := h.drain(w); n != 0 {
		t.Errorf("a last pass sent %d more", n)
	}
	if got := len(messagesTo(h.smtp.Messages(), otherPatient.Email)); got != 1 || len(h.smtp.Messages()) != 4 {
		t.Errorf("other patient has %d messages, server %d in all; want 1 and 4", got, len(h.smtp.Messages()))
	}
	for i, raw := range mine {
		parts := mailtest.Parts(t, raw)
		all := string(raw) + parts["text/plain"] + parts["text/html"] + parts["text/calendar"]
		for _, s := range []string{otherPatient.First, otherPatient.Last, otherPatient.Email, otherPatient.Mobile, otherPatient.Note,
			newPatient.Last, newPatient.Mobile, newPatient.Note} {
			if strings.Contains(all, s) {
				t.Errorf("message %d holds %q, which is not theirs or not needed", i, s)
			}
		}
	}
	h.wantOutboxEmpty()
	h.assertPrivate(newPatient)
	h.assertPrivate(otherPatient)
}

// wantQueued checks the outbox holds n messages of kind, none with a
// personal detail in the clear.
func (h *mailHarness) wantQueued(kind booking.MessageKind, n int) {
	h.t.Helper()
	queued, err := h.db.ListOutbox(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	got := 0
	for _, q := range queued {
		if q.Kind == string(kind) {
			got++
		}
		if strings.Contains(q.Sealed, newPatient.Email) || strings.Contains(q.Sealed, newPatient.First) {
			h.t.Errorf("outbox row %s holds a personal detail in the clear", q.ID[:8])
		}
	}
	if got != n || len(queued) != n {
		h.t.Errorf("outbox holds %d %s message(s) of %d, want %d", got, kind, len(queued), n)
	}
}

// TestChangesFinishedBySweeperSendTheirEmail: a move whose answer was
// lost, and a cancel that never arrived, queue nothing while under way;
// the sweeper that finishes each queues its email once, and the patient
// gets the confirmation, one "moved" and one "cancelled" email.
func TestChangesFinishedBySweeperSendTheirEmail(t *testing.T) {
	keysForMail, err := clinics.ParseKeyring(strings.Repeat("3c", 32))
	if err != nil {
		t.Fatal(err)
	}
	var armed, unreadable atomic.Bool
	h := &mailHarness{keys: keysForMail, smtp: mailtest.Start(t)}
	h.harness = newHarnessSetup(t, harnessSetup{
		upstream: func(c booking.Coreplus) booking.Coreplus { return lostAnswers{c, &armed, &unreadable} },
		store:    func(s booking.Store) booking.Store { return s.(bookingstore.Adapter).WithOutbox(keysForMail) },
		web:      func(c *web.Config) { c.PublicURL = mailPublicURL },
	}, withClinicTexts, withCutoff(time.Hour))
	mh := &manageHarness{harness: h.harness}
	done := h.confirm(h.toReview(newPatient, "Tom Whitfield")).WantH1("Booking confirmed")
	manage := done.Link("Change or cancel this booking")
	draftID, _, _ := strings.Cut(strings.TrimPrefix(manage, "/demo/manage/"), ".")
	w := h.worker(h.db, nil)
	if n := h.drain(w); n != 1 {
		t.Fatalf("worker sent %d, want the confirmation", n)
	}
	rec := mh.record(draftID)
	day := rec.Start.In(sydney)
	other := time.Date(day.Year(), day.Month(), day.Day()+2, 0, 0, 0, 0, sydney).Format("2006-01-02")
	slot, _ := h.get(manage + "/reschedule?date=" + other).FirstSlot()
	action, form := h.get(slot).WantH1("Check your new time").Form()

	armed.Store(true)
	if p := h.post(action, form); p.Status != http.StatusServiceUnavailable {
		t.Fatalf("move with its answer lost: %d", p.Status)
	}
	armed.Store(false)
	unreadable.Store(false)
	h.wantQueued(booking.MessageMoved, 0)
	if res := h.sweep(booking.StalePending + time.Second); res.Changes != 1 {
		t.Fatalf("sweep finished %d changes, want 1", res.Changes)
	}
	h.sweep(booking.StalePending + time.Second) // nothing more to finish, nothing more queued
	h.wantQueued(booking.MessageMoved, 1)
	if n := h.drain(w); n != 1 {
		t.Fatalf("worker sent %d after the sweep finished the move, want 1", n)
	}

	armed.Store(true)
	if p := h.post(manage+"/cancel", url.Values{}); p.Status != http.StatusServiceUnavailable {
		t.Fatalf("cancel with no answer: %d", p.Status)
	}
	armed.Store(false)
	unreadable.Store(false)
	h.wantQueued(booking.MessageCancelled, 0)
	if res := h.sweep(booking.StalePending + time.Second); res.Changes != 1 {
		t.Fatalf("sweep finished %d changes, want 1", res.Changes)
	}
	h.wantQueued(booking.MessageCancelled, 1)
	if n := h.drain(w); n != 1 {
		t.Fatalf("worker sent %d after the sweep finished the cancel, want 1", n)
	}

	mine := messagesTo(h.smtp.Messages(), newPatient.Email)
	if len(mine) != 3 || len(h.smtp.Messages()) != 3 {
		t.Fatalf("patient got %d messages (server %d), want 3", len(mine), len(h.smtp.Messages()))
	}
	for i, want := range []struct{ method, sequence string }{{"PUBLISH", "0"}, {"PUBLISH", "1"}, {"CANCEL", "2"}} {
		ics := mailtest.Parts(t, mine[i])["text/calendar"]
		if icsLine(ics, "METHOD") != want.method || icsLine(ics, "SEQUENCE") != want.sequence || icsLine(ics, "UID") != draftID+"@book.example-clinic.com.au" {
			t.Errorf("message %d's event: METHOD %s SEQUENCE %s UID %s; want %s %s", i,
				icsLine(ics, "METHOD"), icsLine(ics, "SEQUENCE"), icsLine(ics, "UID"), want.method, want.sequence)
		}
	}
	h.assertPrivate(newPatient)
}

// TestMovedEmailDroppedWhenCancelledBeforeSent: a move and then a cancel,
// both recorded before the worker runs (SMTP down meanwhile, say): the
// "moved" email no longer says what stands and is dropped; the patient
// gets the cancelled one, whose higher SEQUENCE cancels the event.
func TestMovedEmailDroppedWhenCancelledBeforeSent(t *testing.T) {
	h := newMailHarness(t, withCutoff(time.Hour))
	done := h.confirm(h.toReview(newPatient, "Tom Whitfield")).WantH1("Booking confirmed")
	manage := done.Link("Change or cancel this booking")
	w := h.worker(h.db, nil)
	if n := h.drain(w); n != 1 {
		t.Fatalf("worker sent %d, want the confirmation", n)
	}
	times := h.get(h.get(manage).Link("Choose another time")).WantH1("Choose a new time")
	slot, _ := times.FirstSlot()
	action, form := h.get(slot).WantH1("Check your new time").Form()
	h.post(action, form).WantH1("Your booking has been moved")
	action, form = h.get(h.get(manage).Link("Cancel this booking")).Form()
	h.post(action, form).WantH1("Your booking is cancelled")

	if n := h.drain(w); n != 1 {
		t.Fatalf("worker sent %d, want only the cancelled email", n)
	}
	h.wantOutboxEmpty()
	mine := messagesTo(h.smtp.Messages(), newPatient.Email)
	if len(mine) != 2 {
		t.Fatalf("patient got %d messages, want the confirmation and the cancel", len(mine))
	}
	if ics := mailtest.Parts(t, mine[1])["text/calendar"]; icsLine(ics, "METHOD") != "CANCEL" || icsLine(ics, "SEQUENCE") != "2" {
		t.Errorf("second message's event: METHOD %s SEQUENCE %s, want CANCEL 2", icsLine(ics, "METHOD"), icsLine(ics, "SEQUENCE"))
	}
}
