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
	detailsURL := review.Link("Change name") // the details form with the draft
	detailsURL = strings.Replace(detailsURL, "#first-name", "", 1) + "&utm_source=newsletter&embed=1"
	detailsPage := h.get(detailsURL).WantH1("Your details")
	oldAction, oldForm := detailsPage.Form()
	h.wantOneAppointment(h.confirm(review))
	booked := "/demo/booking/" + url.PathEscape(oldForm.Get("draft")) + "/"

	wantToBooking := func(name string, req *http.Request) {
		t.Helper()
		p := h.do(req)
		loc := p.Header.Get("Location")
		if p.Status != http.StatusSeeOther || !strings.HasPrefix(loc, booked) ||
			!strings.Contains(loc, "utm_source=newsletter") || !strings.Contains(loc, "embed=1") {
			t.Errorf("%s: status %d, Location %q; want 303 to %s with embed and utm kept", name, p.Status, loc, booked)
		}
		if strings.Contains(p.Body, newPatient.Last) {
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

	h.get(detailsURL).WantH1("Booking confirmed")
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
	slotLink, _ := times.FirstSlot()
	u, _ := url.Parse(slotLink)
	start, err := time.Parse(time.RFC3339, u.Query().Get("slot"))
	if err != nil {
		t.Fatal(err)
	}
	edited := start.Add(7 * time.Minute).Format(time.RFC3339)
	q := u.Query()
	q.Set("slot", edited)
	u.RawQuery = q.Encode()
	if p := h.get(u.String()); p.Status != http.StatusBadRequest || !strings.Contains(p.Text(), "isn't one of the free times") {
		t.Errorf("details for an edited time: status %d\n%s", p.Status, p.Text())
	}

	review := h.get(slotLink).WantH1("Your details")
	action, form := review.Form()
	review = h.post(action, newPatient.fill(form)).WantH1("Check your booking")
	action, form = review.Form()
	form.Set("slot", edited)
	refused := h.post(action, form)
	if refused.Status != http.StatusBadRequest || !strings.Contains(refused.Text(), "isn't one of the free times") {
		t.Errorf("confirm of an edited time: status %d\n%s", refused.Status, refused.Text())
	}
	if n := len(h.portalAppointments()); n != 0 {
		t.Fatalf("%d appointments booked at an edited time", n)
	}
	h.wantOneAppointment(h.confirm(h.get(rel(review.URL)).WantH1("Check your booking")))
}

// TestSameDayTimeStillFreeAfterTheClockMoves: coreplus cuts today's first
// free block from now rounded up to 5 minutes, so the starts it offers
// shift as time passes. A time the patient picked that is still free must
// be booked, not refused as not one of the free times.
func TestSameDayTimeStillFreeAfterTheClockMoves(t *testing.T) {
	h := newHarnessAt(t, time.Date(2026, 11, 30, 9, 16, 0, 0, sydney), func(c *booking.Clinic) { c.MinNotice = 15 * time.Minute })
	times := h.toTimes("Harbourside Physio Surry Hills", "Standard Consultation", "Priya Nandakumar")
	slotLink, label := times.FirstSlot()
	u, _ := url.Parse(slotLink)
	start, err := time.Parse(time.RFC3339, u.Query().Get("slot"))
	if err != nil {
		t.Fatal(err)
	}
	if !sameDate(start.In(sydney), h.now) {
		t.Fatalf("first time offered is %s, want one today", label)
	}
	details := h.get(slotLink).WantH1("Your details")
	action, form := details.Form()
	review := h.post(action, newPatient.fill(form)).WantH1("Check your booking")

	h.now = h.now.Add(5 * time.Minute)
	h.wantOneAppointment(h.confirm(review))
	if got := h.portalAppointments()[0].Start; !got.Equal(start) {
		t.Errorf("booked at %s, want %s", got, start)
	}
}

func sameDate(a, b time.Time) bool {
	return a.Year() == b.Year() && a.YearDay() == b.YearDay()
}
