package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/clinic-booking/portal/internal/coreplus/sandbox"
)

// A first name sent as bytes that are not UTF-8 (which would reach
// coreplus as "��Zed") comes back with its message beside it and
// everything else the patient typed kept; nothing is saved or logged.
func TestDetailsRefuseAFirstNameThatIsNotUTF8(t *testing.T) {
	const message = "Type your first name again: it has an invisible or unreadable character we can't use"
	h := newHarness(t)
	clientsBefore := len(h.sb.Clients())
	times := h.toTimes("Harbourside Physio Surry Hills", "Standard Consultation", "Priya Nandakumar")
	slot, _ := times.FirstSlot()
	action, blank := h.get(slot).WantH1("Your details").Form()
	pt := newPatient
	pt.First = "\xff\xfeZed"

	p := h.post(action, pt.fill(blank))
	if p.Status != http.StatusUnprocessableEntity {
		t.Errorf("status %d, want 422", p.Status)
	}
	p.WantH1("Your details")
	summary := p.Doc.Find(".error-summary a")
	if summary.Length() != 1 || strings.TrimSpace(summary.Text()) != message || summary.AttrOr("href", "") != "#first-name" {
		t.Errorf("summary %q -> %q, want only %q -> #first-name", summary.Text(), summary.AttrOr("href", ""), message)
	}
	first := p.Labelled("First name")
	byField := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(first.Closest(".field").Find(".field-error").Text()), "Error:"))
	if byField != message {
		t.Errorf("message by the first name %q, want %q", byField, message)
	}
	if first.AttrOr("aria-invalid", "") != "true" {
		t.Error("first name not marked aria-invalid")
	}
	for label, want := range map[string]string{"Last name": pt.Last, "Day": pt.Day, "Month": pt.Month, "Year": pt.Year, "Email address": pt.Email, "Mobile number": pt.Mobile} {
		if got := p.Labelled(label).AttrOr("value", ""); got != want {
			t.Errorf("%s kept as %q, want %q", label, got, want)
		}
		if p.Labelled(label).AttrOr("aria-invalid", "") == "true" {
			t.Errorf("%s marked invalid", label)
		}
	}
	if got := p.Labelled("Note to the clinic (optional)").Text(); got != pt.Note {
		t.Errorf("note kept as %q", got)
	}
	if _, checked := p.Labelled("I agree to the clinic's privacy policy").Attr("checked"); !checked {
		t.Error("consent not kept")
	}

	if n := len(h.sb.Clients()); n != clientsBefore {
		t.Errorf("%d clients in coreplus, want %d", n, clientsBefore)
	}
	if logs := h.logs.String(); strings.Contains(logs, "Zed") || strings.ContainsRune(logs, '\uFFFD') || strings.Contains(logs, "\xff") {
		t.Errorf("the name is in the logs:\n%s", logs)
	}
	h.assertPrivate(pt)
}

// The booking-request form shares the check: an email address with a
// zero-width space in it is refused beside the email field, not stored.
func TestRequestRefusesAnEmailWithAZeroWidthSpace(t *testing.T) {
	const message = "Type your email address again: it has an invisible or unreadable character we can't use"
	h := newPageHarness(t, harnessSetup{})
	action, form := h.get("/demo/request?location=" + sandbox.LocationSydneyID).WantH1("Leave a booking request").Form()
	form.Set("first_name", "Zed")
	form.Set("last_name", "Quill")
	form.Set("email", "zed\u200b@example.com")
	p := h.post(action, form)
	if p.Status != http.StatusUnprocessableEntity {
		t.Errorf("status %d, want 422", p.Status)
	}
	email := p.Labelled("Email address")
	if got := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(email.Closest(".field").Find(".field-error").Text()), "Error:")); got != message {
		t.Errorf("message by the email %q, want %q", got, message)
	}
	if p.Labelled("First name").AttrOr("value", "") != "Zed" || p.Labelled("Last name").AttrOr("value", "") != "Quill" {
		t.Error("the names typed were not kept")
	}
	if list := h.fake.leftRequests(); len(list) != 0 {
		t.Errorf("a request with an unreadable email was stored: %d", len(list))
	}
}
