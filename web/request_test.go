package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/clinic-booking/portal/internal/coreplus/sandbox"
)

func TestCoreplusDownAtConfirmOffersARequestWithNothingRetyped(t *testing.T) {
	h := newHarness(t)
	review := h.toReview(newPatient, "Tom Whitfield")
	h.sb.SetFaults(sandbox.Faults{ErrorRate: 1})
	down := h.confirm(review).WantH1("Online booking isn't available right now")
	link := down.Link("Leave a booking request")
	for _, leak := range []string{newPatient.First, newPatient.Email, "first_name", "email="} {
		if strings.Contains(link, leak) {
			t.Errorf("request link carries %q: %s", leak, link)
		}
	}

	req := h.get(link).WantH1("Leave a booking request")
	for label, want := range map[string]string{"First name": newPatient.First, "Last name": newPatient.Last, "Email address": newPatient.Email, "Mobile number": "0499111222"} {
		if got := req.Labelled(label).AttrOr("value", ""); got != want {
			t.Errorf("%s prefilled %q, want %q", label, got, want)
		}
	}
	if got := strings.TrimSpace(req.Doc.Find("textarea#note").Text()); got != newPatient.Note {
		t.Errorf("note prefilled %q", got)
	}
	action, form := req.Form()
	form.Add("days", "mon")
	form.Add("days", "thu")
	form.Add("times", "evening")
	h.post(action, form).WantH1("Request received")

	list, err := h.db.ListRequests(t.Context(), "demo", time.Now())
	if err != nil || len(list) != 1 {
		t.Fatalf("requests %d, %v", len(list), err)
	}
	r := list[0]
	if r.Details.LastName != newPatient.Last || r.Details.Mobile != "0499111222" || strings.Join(r.Days, ",") != "mon,thu" ||
		strings.Join(r.Times, ",") != "evening" || r.LocationID != sandbox.LocationSydneyID ||
		r.AppointmentTypeID != sandbox.AppointmentTypeStandardID || r.PractitionerID != sandbox.PractitionerTomID || r.Status != "new" {
		t.Errorf("stored %+v", r)
	}
	if !strings.Contains(h.logs.String(), `"msg":"booking request left"`) {
		t.Error("the request is not logged")
	}
	if n := len(h.portalAppointments()); n != 0 {
		t.Errorf("%d appointments", n)
	}
	h.assertPrivate(newPatient)
}

func TestRequestFormValidation(t *testing.T) {
	h := newPageHarness(t, harnessSetup{})
	req := h.get("/demo/request?location=" + sandbox.LocationSydneyID).WantH1("Leave a booking request")
	action, form := req.Form()
	form.Set("first_name", "Ada")
	form.Set("mobile", "02 9555 0123")
	form.Add("days", "sat")
	form.Add("days", "sun") // not offered: dropped, not an error
	form.Set("note", strings.Repeat("x", 301))
	p := h.post(action, form)
	if p.Status != http.StatusUnprocessableEntity {
		t.Errorf("status %d, want 422", p.Status)
	}
	p.WantH1("Leave a booking request")
	summary := p.Doc.Find(".error-summary").Text()
	for _, want := range []string{"Enter your last name", "Enter an Australian mobile number", "Your note must be 300 characters or fewer"} {
		if !strings.Contains(summary, want) {
			t.Errorf("error summary lacks %q: %q", want, summary)
		}
	}
	if strings.Contains(summary, "first name") {
		t.Errorf("a good first name is reported: %q", summary)
	}
	if p.Labelled("First name").AttrOr("value", "") != "Ada" || p.Labelled("Mobile number").AttrOr("value", "") != "02 9555 0123" {
		t.Error("typed values not kept")
	}
	if _, ok := p.Labelled("Saturday").Attr("checked"); !ok {
		t.Error("checked day not kept")
	}
	if p.Labelled("Last name").AttrOr("aria-invalid", "") != "true" {
		t.Error("last name not marked invalid")
	}
	if _, f := p.Form(); f.Get("location") != sandbox.LocationSydneyID {
		t.Errorf("the location choice was lost: %v", f)
	}

	_, empty := req.Form()
	p = h.post(action, empty)
	if s := p.Doc.Find(".error-summary").Text(); !strings.Contains(s, "Enter an email address or a mobile number") {
		t.Errorf("no contact asked for: %q", s)
	}
	if list := h.fake.leftRequests(); len(list) != 0 {
		t.Errorf("an invalid request was stored")
	}
}
