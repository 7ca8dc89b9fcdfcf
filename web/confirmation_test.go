package web_test

import (
	"database/sql"
	"strings"
	"testing"
	"time"
)

// ageBooking moves the booking's sending back by secs, as if it were made
// that long ago.
func (h *harness) ageBooking(draftID string, secs int64) {
	h.t.Helper()
	db, err := sql.Open("sqlite", h.dbPath)
	if err != nil {
		h.t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(h.t.Context(), `UPDATE bookings SET created_at = created_at - $2 WHERE draft_id = $1`, draftID, secs); err != nil {
		h.t.Fatal(err)
	}
}

// A confirmation page's address (and the review's, which leads to it) is a
// signed draft id with no expiry: found later in a browser's history or a
// proxy's log, it must not hand out the manage link, which cancels and
// moves the appointment. Just after booking the patient's reload still
// shows it.
func TestConfirmationShowsManageLinkOnlyJustAfterBooking(t *testing.T) {
	h := newManageHarness(t, withCutoff(time.Hour))
	review := h.toReview(newPatient, "Tom Whitfield")
	reviewURL := review.URL
	done := h.confirm(review).WantH1("Booking confirmed")
	confirmation := strings.SplitN(rel(done.URL), "?", 2)[0]
	manage := done.Link("Change or cancel this booking")
	manageToken := strings.TrimPrefix(manage, "/demo/manage/")
	draftID, _, _ := strings.Cut(manageToken, ".")

	if again := h.get(confirmation).WantH1("Booking confirmed"); again.Link("Change or cancel this booking") != manage {
		t.Errorf("the reload just after booking lost the manage link")
	}

	h.ageBooking(draftID, 31*60)
	for _, u := range []string{confirmation, reviewURL} {
		p := h.get(u).WantH1("Booking confirmed")
		if strings.Contains(p.Body, manageToken) || strings.Contains(p.Body, "/manage/") {
			t.Errorf("%s: an hour-old booking's page hands out the manage link:\n%s", u, p.Body)
		}
		if !strings.Contains(p.Text(), "use the link in your confirmation email") {
			t.Errorf("%s: the page doesn't say where the manage link is:\n%s", u, p.Text())
		}
	}

	// Cancelled, the page led to the manage page; an old address no longer does.
	h.ageBooking(draftID, -31*60)
	cancel := h.get(h.get(manage).WantH1("Your booking").Link("Cancel this booking")).WantH1("Cancel this booking?")
	action, form := cancel.Form()
	h.post(action, form).WantH1("Your booking is cancelled")
	h.ageBooking(draftID, 31*60)
	req := h.get(confirmation)
	if strings.Contains(req.Body, manageToken) || strings.Contains(req.Header.Get("Location"), "/manage/") {
		t.Errorf("an old cancelled booking's page leads to its manage page: %d %s", req.Status, req.Header.Get("Location"))
	}
	if !strings.Contains(req.Text(), "That booking was cancelled") {
		t.Errorf("an old cancelled booking's page: %d\n%s", req.Status, req.Text())
	}
}
