package web_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/internal/booking/bookingstore"
	"github.com/clinic-booking/portal/internal/coreplus"
	"github.com/clinic-booking/portal/internal/coreplus/sandbox"
)

// What a patient sees when coreplus stops answering after (or while) they
// book: never a page that says nothing was booked when something may have.

const nothingBooked = "Nothing has been booked"

// TestPendingPageShowsWhileCoreplusIsDown: the outcome of a booking is
// unknown exactly when coreplus is unreachable; its page must not need it.
func TestPendingPageShowsWhileCoreplusIsDown(t *testing.T) {
	t.Parallel() // waits out timeouts and sweeps: overlap it with the rest
	h := newHarnessSetup(t, harnessSetup{api: func(c *coreplus.Config) { c.Timeout = 300 * time.Millisecond }})
	review := h.toReview(newPatient, "Tom Whitfield")
	h.sb.SetFaults(sandbox.Faults{Latency: 2 * time.Second, Match: postAppointment})
	pending := h.confirm(review).WantH1("We're confirming your booking")

	h.sb.SetFaults(sandbox.Faults{ErrorRate: 1})
	h.restart() // and nothing cached
	again := h.get(rel(pending.URL)).WantH1("We're confirming your booking")
	if again.Status != http.StatusAccepted || strings.Contains(again.Text(), nothingBooked) || strings.Contains(again.Text(), "Leave a booking request") {
		t.Errorf("status %d:\n%s", again.Status, again.Text())
	}
}

// TestConfirmationShowsWhileCoreplusIsDown: a booked patient revisiting
// their link sees their booking: with names from the last good reference
// data, or, with none cached, what the portal recorded.
func TestConfirmationShowsWhileCoreplusIsDown(t *testing.T) {
	t.Parallel() // waits out timeouts and sweeps: overlap it with the rest
	h := newHarness(t)
	done := h.confirm(h.toReview(newPatient, "Tom Whitfield"))
	h.wantOneAppointment(done)
	ref := h.portalAppointments()[0].ReferenceNumber

	h.sb.SetFaults(sandbox.Faults{ErrorRate: 1})
	h.now = h.now.Add(booking.ReferenceTTL + time.Minute) // the cache is out of date
	stale := h.get(rel(done.URL)).WantH1("Booking confirmed")
	for _, want := range []string{ref, "Tom Whitfield", "Standard Consultation", "Surry Hills"} {
		if !strings.Contains(stale.Text(), want) {
			t.Errorf("confirmation from stale reference data lacks %q:\n%s", want, stale.Text())
		}
	}
	// Served at once from the cache; the reload that failed, in the
	// background, logs it.
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(h.logs.String(), "serving the last good copy"); {
		if time.Now().After(deadline) {
			t.Error("serving stale reference data was not logged")
			break
		}
		time.Sleep(10 * time.Millisecond)
	}

	h.restart() // nothing cached at all
	plain := h.get(rel(done.URL)).WantH1("Booking confirmed")
	if plain.Status != http.StatusOK || !strings.Contains(plain.Text(), ref) || !strings.Contains(plain.Text(), "the clinic's local time") {
		t.Errorf("status %d, plain confirmation:\n%s", plain.Status, plain.Text())
	}
	if strings.Contains(plain.Text(), nothingBooked) {
		t.Errorf("a booked patient is told nothing was booked:\n%s", plain.Text())
	}
	ics := h.get(plain.Link("Add to your calendar"))
	if ics.Status != http.StatusOK || !strings.Contains(ics.Body, "DTSTART:") {
		t.Errorf("calendar file: status %d\n%s", ics.Status, ics.Body)
	}
}

// TestUnavailablePageSaysNothingBookedOnlyWhenKnown: a GET page while
// coreplus is down says nothing about bookings; a confirm that sent nothing
// may say nothing was booked.
func TestUnavailablePageSaysNothingBookedOnlyWhenKnown(t *testing.T) {
	t.Parallel() // waits out timeouts and sweeps: overlap it with the rest
	h := newHarness(t)
	review := h.toReview(newPatient, "Tom Whitfield")
	h.sb.SetFaults(sandbox.Faults{ErrorRate: 1})
	h.restart()
	down := h.get("/demo").WantH1("Online booking isn't available right now")
	if strings.Contains(down.Text(), nothingBooked) {
		t.Errorf("a GET page claims nothing was booked:\n%s", down.Text())
	}
	h.sb.SetFaults(sandbox.Faults{})
	h.get(rel(review.URL)).WantH1("Check your booking") // warm the cache
	h.sb.SetFaults(sandbox.Faults{ErrorRate: 1})
	notSent := h.confirm(review).WantH1("Online booking isn't available right now")
	if !strings.Contains(notSent.Text(), nothingBooked) {
		t.Errorf("a confirm that sent nothing does not say so:\n%s", notSent.Text())
	}
}

// rel is u without the portal's address, which changes on a restart.
func rel(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		panic(err)
	}
	return p.RequestURI()
}

// failingStore fails chosen calls once, to play a database hiccup.
type failingStore struct {
	booking.Store
	updateBooked, draftBooked, claim atomic.Bool
}

var errHiccup = errors.New("database hiccup")

func (s *failingStore) UpdateBooking(ctx context.Context, r booking.Record, due ...booking.Message) error {
	if r.Status == booking.RecordBooked && s.updateBooked.CompareAndSwap(true, false) {
		return errHiccup
	}
	return s.Store.UpdateBooking(ctx, r, due...)
}

func (s *failingStore) SetDraftStatus(ctx context.Context, id string, from, to booking.DraftStatus) (bool, error) {
	if to == booking.DraftBooked && s.draftBooked.CompareAndSwap(true, false) {
		return false, errHiccup
	}
	return s.Store.SetDraftStatus(ctx, id, from, to)
}

func (s *failingStore) ClaimBooking(ctx context.Context, r booking.Record) error {
	if s.claim.CompareAndSwap(true, false) {
		return errHiccup
	}
	return s.Store.ClaimBooking(ctx, r)
}

// TestStoreFailureAfterCoreplusSaidYes: once coreplus has booked, a store
// error is logged and the patient is led to their booking, never to an
// error page saying nothing was booked.
func TestStoreFailureAfterCoreplusSaidYes(t *testing.T) {
	t.Run("booking not recorded", func(t *testing.T) {
		fs := &failingStore{}
		h := newHarnessSetup(t, harnessSetup{store: func(s booking.Store) booking.Store { fs.Store = s; return fs }})
		review := h.toReview(newPatient, "Tom Whitfield")
		fs.updateBooked.Store(true)
		pending := h.confirm(review).WantH1("We're confirming your booking")
		if strings.Contains(pending.Text(), nothingBooked) {
			t.Errorf("pending page says nothing was booked:\n%s", pending.Text())
		}
		if res := h.sweep(booking.StalePending + time.Minute); res.Booked != 1 || res.Resent != 0 {
			t.Fatalf("sweep %+v, want the booking found, not resent", res)
		}
		h.wantOneAppointment(h.get(pending.URL))
	})
	t.Run("draft status not set", func(t *testing.T) {
		fs := &failingStore{}
		h := newHarnessSetup(t, harnessSetup{store: func(s booking.Store) booking.Store { fs.Store = s; return fs }})
		review := h.toReview(newPatient, "Tom Whitfield")
		fs.draftBooked.Store(true)
		h.wantOneAppointment(h.confirm(review))
	})
}

// TestFailedConfirmPageIsNeutral: an unexpected failure of a confirm may
// come after a booking was made, so its page never says nothing was booked.
func TestFailedConfirmPageIsNeutral(t *testing.T) {
	fs := &failingStore{}
	h := newHarnessSetup(t, harnessSetup{store: func(s booking.Store) booking.Store { fs.Store = s; return fs }})
	review := h.toReview(newPatient, "Tom Whitfield")
	fs.claim.Store(true)
	failed := h.confirm(review).WantH1("Something went wrong")
	if failed.Status != http.StatusInternalServerError || strings.Contains(failed.Text(), nothingBooked) ||
		!strings.Contains(failed.Text(), "check your email or call the clinic") {
		t.Errorf("status %d:\n%s", failed.Status, failed.Text())
	}
}

// leavingPatient cancels the patient's request just as the booking is sent,
// as closing the tab does.
type leavingPatient struct {
	booking.Coreplus
	leave context.CancelFunc
}

func (l leavingPatient) CreateAppointment(ctx context.Context, a coreplus.NewAppointment) (coreplus.Appointment, error) {
	l.leave()
	return l.Coreplus.CreateAppointment(ctx, a)
}

// TestConfirmSurvivesThePatientLeaving: a patient who disconnects while the
// booking is being sent still gets it, and it is not left unknown.
func TestConfirmSurvivesThePatientLeaving(t *testing.T) {
	h := newHarness(t)
	review := h.toReview(newPatient, "Tom Whitfield")
	_, form := review.Form()
	draftID := strings.SplitN(form.Get("draft"), ".", 2)[0]

	base, _ := h.dir.Clinic(t.Context(), "demo")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	svc := booking.NewService(base.Clinic(), leavingPatient{Coreplus: h.api, leave: cancel}, bookingstore.New(h.db), func() time.Time { return h.now })
	sel, err := svc.Resolve(t.Context(), booking.Choice{
		LocationID: form.Get("location"), ServiceID: form.Get("type"), PractitionerID: form.Get("practitioner"),
		Slot: form.Get("slot"), With: form.Get("with"),
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := svc.Confirm(ctx, draftID, sel)
	if err != nil || out.Kind != booking.OutcomeBooked {
		t.Fatalf("confirm: %+v, %v; want booked", out, err)
	}
	h.wantOneAppointment(nil)
}

// notesRewriter plays a coreplus that keeps notes its own way: the marker
// line gone, line ends changed.
type notesRewriter struct{ booking.Coreplus }

func (n notesRewriter) GetAppointment(ctx context.Context, id string) (coreplus.Appointment, error) {
	a, err := n.Coreplus.GetAppointment(ctx, id)
	a.Notes = strings.ReplaceAll(strings.Split(a.Notes, "\nBooked online")[0], "\n", "\r\n")
	return a, err
}

// TestSweeperFindsABookingWithRewrittenNotes: with no marker in the notes
// coreplus kept, the booking is still found by client, practitioner and
// start, and never sent twice.
func TestSweeperFindsABookingWithRewrittenNotes(t *testing.T) {
	h := newHarnessSetup(t, harnessSetup{upstream: func(c booking.Coreplus) booking.Coreplus { return notesRewriter{c} }})
	review := h.toReview(newPatient, "Tom Whitfield")
	h.sb.SetFaults(sandbox.Faults{StoreThenDropRate: 1, Match: postAppointment})
	pending := h.confirm(review).WantH1("We're confirming your booking")
	h.sb.SetFaults(sandbox.Faults{})
	if res := h.sweep(0); res.Booked != 1 || res.Resent != 0 {
		t.Fatalf("sweep %+v, want the booking found", res)
	}
	h.wantOneAppointment(h.get(pending.URL))
}

// TestDetailsTypedWhileCoreplusIsDownAreKept: with coreplus down and
// nothing cached, the details form still saves what was typed, and "Leave a
// booking request" is filled in from it.
func TestDetailsTypedWhileCoreplusIsDownAreKept(t *testing.T) {
	h := newHarness(t)
	h.sb.SetFaults(sandbox.Faults{ErrorRate: 1})
	slot := time.Date(2026, 12, 2, 9, 0, 0, 0, sydney).Format(time.RFC3339)
	form := newPatient.fill(url.Values{
		"location": {sandbox.LocationSydneyID}, "type": {sandbox.AppointmentTypeStandardID},
		"practitioner": {sandbox.PractitionerTomID}, "slot": {slot}, "with": {sandbox.PractitionerTomID},
		"embed": {"1"},
	})
	down := h.post("/demo/book/details", form).WantH1("Online booking isn't available right now")
	if strings.Contains(down.Text(), nothingBooked) {
		t.Errorf("says nothing was booked on a details form:\n%s", down.Text())
	}
	link := down.Link("Leave a booking request")
	if !strings.Contains(link, "draft=") || !strings.Contains(link, "embed=1") {
		t.Errorf("request link carries no draft or embed: %s", link)
	}
	req := h.get(link).WantH1("Leave a booking request")
	if got := req.Labelled("First name").AttrOr("value", ""); got != newPatient.First {
		t.Errorf("request form first name %q, want it filled in", got)
	}
	h.assertPrivate(newPatient)
}

// upperCaseIDs plays a coreplus that lists appointments with its GUIDs in
// upper case.
type upperCaseIDs struct{ booking.Coreplus }

func (u upperCaseIDs) ListAppointments(ctx context.Context, q coreplus.AppointmentQuery) ([]coreplus.Appointment, error) {
	list, err := u.Coreplus.ListAppointments(ctx, q)
	for i := range list {
		list[i].PractitionerID = strings.ToUpper(list[i].PractitionerID)
		for j := range list[i].ClientIDs {
			list[i].ClientIDs[j] = strings.ToUpper(list[i].ClientIDs[j])
		}
	}
	return list, err
}

// TestSweeperFindsABookingListedWithUpperCaseIDs: ids compare in any case.
func TestSweeperFindsABookingListedWithUpperCaseIDs(t *testing.T) {
	h := newHarnessSetup(t, harnessSetup{upstream: func(c booking.Coreplus) booking.Coreplus { return upperCaseIDs{c} }})
	review := h.toReview(newPatient, "Tom Whitfield")
	h.sb.SetFaults(sandbox.Faults{StoreThenDropRate: 1, Match: postAppointment})
	pending := h.confirm(review).WantH1("We're confirming your booking")
	h.sb.SetFaults(sandbox.Faults{})
	if res := h.sweep(0); res.Booked != 1 || res.Resent != 0 {
		t.Fatalf("sweep %+v, want the booking found", res)
	}
	h.wantOneAppointment(h.get(pending.URL))
}
