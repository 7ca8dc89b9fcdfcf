package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/clinic-booking/portal/internal/booking"
)

// TestBackAfterBookingLeadsToTheBooking: after booking, the back button (or
// a bookmark) on the details or request pages leads to the booking, never
// to a form with that booking's details, and sending the old details form
// again books nothing more.
func TestBackAfterBookingLeadsToTheBooking(t *testing.T) {
	h := newHarness(t)
	review := h.toReview(newPatient, "Tom Whitfield")
	detailsURL := review.link("Change name") // the details form with the draft
	detailsURL = strings.Replace(detailsURL, "#first-name", "", 1) + "&utm_source=newsletter&embed=1"
	detailsPage := h.get(detailsURL).wantH1("Your details")
	oldAction, oldForm := detailsPage.form()
	h.wantOneAppointment(h.confirm(review))
	booked := "/demo/booking/" + url.PathEscape(oldForm.Get("draft")) + "/"

	wantToBooking := func(name string, req *http.Request) {
		t.Helper()
		p := h.do(req)
		loc := p.header.Get("Location")
		if p.status != http.StatusSeeOther || !strings.HasPrefix(loc, booked) ||
			!strings.Contains(loc, "utm_source=newsletter") || !strings.Contains(loc, "embed=1") {
			t.Errorf("%s: status %d, Location %q; want 303 to %s with embed and utm kept", name, p.status, loc, booked)
		}
		if strings.Contains(p.body, newPatient.Last) {
			t.Errorf("%s shows the booked draft's details", name)
		}
	}
	get := func(u string) *http.Request { r, _ := http.NewRequest(http.MethodGet, h.abs(u), nil); return r }
	post := func(u string, v url.Values) *http.Request {
		r, _ := http.NewRequest(http.MethodPost, h.abs(u), strings.NewReader(v.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Sec-Fetch-Site", "same-origin")
		return r
	}
	wantToBooking("GET details", get(detailsURL))
	wantToBooking("POST details", post(oldAction, newPatient.fill(oldForm)))
	reqForm := url.Values{"draft": {oldForm.Get("draft")}, "embed": {"1"}, "utm_source": {"newsletter"}}
	wantToBooking("GET request", get("/demo/request?"+reqForm.Encode()))
	wantToBooking("POST request", post("/demo/request", newPatient.fill(reqForm)))

	h.get(detailsURL).wantH1("Booking confirmed")
	if n := len(h.portalAppointments()); n != 1 {
		t.Errorf("%d appointments after going back", n)
	}
}

// TestEditedSlotInsideFreeTimeIsRefused: a time edited into the link (9:07
// inside a free block) is not one coreplus offers for the service: neither
// the details page nor a confirm accepts it.
func TestEditedSlotInsideFreeTimeIsRefused(t *testing.T) {
	h := newHarness(t)
	times := h.toTimes("Harbourside Physio Surry Hills", "Standard Consultation", "Tom Whitfield")
	slotLink, _ := times.firstSlot()
	u, _ := url.Parse(slotLink)
	start, err := time.Parse(time.RFC3339, u.Query().Get("slot"))
	if err != nil {
		t.Fatal(err)
	}
	edited := start.Add(7 * time.Minute).Format(time.RFC3339)
	q := u.Query()
	q.Set("slot", edited)
	u.RawQuery = q.Encode()
	if p := h.get(u.String()); p.status != http.StatusBadRequest || !strings.Contains(p.text(), "isn't one of the free times") {
		t.Errorf("details for an edited time: status %d\n%s", p.status, p.text())
	}

	review := h.get(slotLink).wantH1("Your details")
	action, form := review.form()
	review = h.post(action, newPatient.fill(form)).wantH1("Check your booking")
	action, form = review.form()
	form.Set("slot", edited)
	refused := h.post(action, form)
	if refused.status != http.StatusBadRequest || !strings.Contains(refused.text(), "isn't one of the free times") {
		t.Errorf("confirm of an edited time: status %d\n%s", refused.status, refused.text())
	}
	if n := len(h.portalAppointments()); n != 0 {
		t.Fatalf("%d appointments booked at an edited time", n)
	}
	h.wantOneAppointment(h.confirm(h.get(rel(review.url)).wantH1("Check your booking")))
}

// TestSameDayTimeStillFreeAfterTheClockMoves: coreplus cuts today's first
// free block from now rounded up to 5 minutes, so the starts it offers
// shift as time passes. A time the patient picked that is still free must
// be booked, not refused as not one of the free times.
func TestSameDayTimeStillFreeAfterTheClockMoves(t *testing.T) {
	h := newHarnessAt(t, time.Date(2026, 11, 30, 9, 16, 0, 0, sydney), func(c *booking.Clinic) { c.MinNotice = 15 * time.Minute })
	times := h.toTimes("Harbourside Physio Surry Hills", "Standard Consultation", "Priya Nandakumar")
	slotLink, label := times.firstSlot()
	u, _ := url.Parse(slotLink)
	start, err := time.Parse(time.RFC3339, u.Query().Get("slot"))
	if err != nil {
		t.Fatal(err)
	}
	if !sameDate(start.In(sydney), h.now) {
		t.Fatalf("first time offered is %s, want one today", label)
	}
	details := h.get(slotLink).wantH1("Your details")
	action, form := details.form()
	review := h.post(action, newPatient.fill(form)).wantH1("Check your booking")

	h.now = h.now.Add(5 * time.Minute)
	h.wantOneAppointment(h.confirm(review))
	if got := h.portalAppointments()[0].Start; !got.Equal(start) {
		t.Errorf("booked at %s, want %s", got, start)
	}
}

func sameDate(a, b time.Time) bool {
	return a.Year() == b.Year() && a.YearDay() == b.YearDay()
}
