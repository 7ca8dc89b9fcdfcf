package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/clinic-booking/portal/web"
)

// detailsForm walks to the details form of the first free time.
func (h *harness) detailsForm() (string, func() url.Values) {
	h.t.Helper()
	times := h.toTimes("Harbourside Physio Surry Hills", "Standard Consultation", "Tom Whitfield")
	slot, _ := times.FirstSlot()
	action, blank := h.get(slot).WantH1("Your details").Form()
	return action, func() url.Values { return newPatient.fill(cloneValues(blank)) }
}

func TestDraftLimitPerClientAddress(t *testing.T) {
	t.Run("no trusted proxy: a client's X-Forwarded-For is ignored", func(t *testing.T) {
		h := newHarnessSetup(t, harnessSetup{web: func(c *web.Config) { c.Limits.DraftsPerMinute = 3 }})
		action, form := h.detailsForm()
		for i := range 3 {
			if status, _, _, err := h.postAs(patientAddr(i), action, form()); err != nil || status != http.StatusSeeOther {
				t.Fatalf("draft %d: status %d, %v", i+1, status, err)
			}
		}
		status, _, p, err := h.postAs(patientAddr(99), action, form())
		if err != nil || status != http.StatusTooManyRequests {
			t.Fatalf("fourth draft from one peer claiming another address: status %d, %v; want 429", status, err)
		}
		if !strings.Contains(p.Doc.Text(), "Too many attempts from your connection. This one was not sent, so nothing was booked by it. Please wait a minute and try again.") {
			t.Errorf("429 page does not say what happened:\n%s", p.Doc.Text())
		}
		if got := p.Doc.Find("#first-name").AttrOr("value", ""); got != newPatient.First {
			t.Errorf("typed first name not kept on the 429 page: %q", got)
		}
		if !strings.Contains(h.logs.String(), `"msg":"rate limited"`) {
			t.Error("the refusal is not logged")
		}
	})

	t.Run("trusted proxy: the address it saw, not one the client added", func(t *testing.T) {
		h := newHarnessSetup(t, harnessSetup{web: func(c *web.Config) { behindProxy(c); c.Limits.DraftsPerMinute = 3 }})
		action, form := h.detailsForm()
		for i := range 3 {
			// The client rotates a forged address to the left; the proxy
			// appends the one it saw.
			forged := patientAddr(100+i) + ", 203.0.113.9"
			if status, _, _, _ := h.postAs(forged, action, form()); status != http.StatusSeeOther {
				t.Fatalf("draft %d: status %d", i+1, status)
			}
		}
		if status, _, _, _ := h.postAs(patientAddr(200)+", 203.0.113.9", action, form()); status != http.StatusTooManyRequests {
			t.Errorf("fourth draft from 203.0.113.9: status %d, want 429", status)
		}
		if status, _, _, _ := h.postAs("203.0.113.10", action, form()); status != http.StatusSeeOther {
			t.Errorf("another client behind the proxy: status %d, want 303", status)
		}
	})

	t.Run("a form with mistakes is not counted as a draft", func(t *testing.T) {
		h := newHarnessSetup(t, harnessSetup{web: func(c *web.Config) { c.Limits.DraftsPerMinute = 1 }})
		action, form := h.detailsForm()
		bad := form()
		bad.Set("email", "not an email")
		for range 3 {
			if status, _, _, _ := h.postAs("", action, bad); status != http.StatusUnprocessableEntity {
				t.Fatalf("form with a mistake: status %d, want 422", status)
			}
		}
		if status, _, _, _ := h.postAs("", action, form()); status != http.StatusSeeOther {
			t.Errorf("corrected form: status %d, want 303", status)
		}
	})
}

func TestConfirmLimitPerClientAddress(t *testing.T) {
	h := newHarnessSetup(t, harnessSetup{web: func(c *web.Config) { c.Limits.ConfirmsPerMinute = 2 }})
	review := h.toReview(newPatient, "Tom Whitfield")
	action, form := review.Form()
	for i := range 2 {
		if status, _, _, _ := h.postAs("", action, form); status != http.StatusSeeOther {
			t.Fatalf("confirm %d: status %d", i+1, status)
		}
	}
	status, _, p, _ := h.postAs("", action, form)
	if status != http.StatusTooManyRequests {
		t.Fatalf("third confirm: status %d, want 429", status)
	}
	p.WantH1("Please wait a minute")
	if !strings.Contains(p.Text(), "Too many attempts from your connection") {
		t.Errorf("429 page:\n%s", p.Text())
	}
	// "Try again" leads back to the review of this draft, which, booked
	// by the first confirm, shows the booking.
	h.get(p.Link("Try again")).WantH1("Booking confirmed")
	if n := len(h.portalAppointments()); n != 1 {
		t.Errorf("%d appointments", n)
	}
}

func TestHoneypot(t *testing.T) {
	t.Run("details", func(t *testing.T) {
		h := newHarness(t)
		action, form := h.detailsForm()
		f := form()
		f.Set("website", "http://spam.example")
		status, loc, _, _ := h.postAs("", action, f)
		if status != http.StatusSeeOther || strings.Contains(loc, "draft=") {
			t.Errorf("honeypot details: status %d, location %q; want a redirect as if accepted, with no draft", status, loc)
		}
		if !strings.Contains(h.logs.String(), `"msg":"honeypot"`) {
			t.Error("the honeypot is not logged")
		}
		h.assertPrivate(newPatient)
	})
	t.Run("request", func(t *testing.T) {
		h := newPageHarness(t, harnessSetup{})
		req := h.get("/demo/request").WantH1("Leave a booking request")
		trap := req.Doc.Find("input[name=website]")
		if trap.AttrOr("tabindex", "") != "-1" || trap.AttrOr("autocomplete", "") != "off" ||
			trap.Closest("[aria-hidden=true]").Length() != 1 || trap.Closest(".visually-hidden").Length() != 1 {
			t.Errorf("the trap field can be reached: %s", goquery.NodeName(trap))
		}
		action, form := req.Form()
		form.Set("first_name", "Spam")
		form.Set("last_name", "Bot")
		form.Set("email", "bot@example.com")
		form.Set("website", "http://spam.example")
		h.post(action, form).WantH1("Request received")
		if list := h.fake.leftRequests(); len(list) != 0 {
			t.Errorf("a honeypot request was stored: %+v", list)
		}
	})
}

// TestRejectLimitPerClientAddress: a body refused as too large or not a
// form, and a form answered with its mistakes, each count against the
// address; past the limit every form from it is answered 429, before its
// body is read, while another address is served as before.
func TestRejectLimitPerClientAddress(t *testing.T) {
	h := newHarnessSetup(t, harnessSetup{web: func(c *web.Config) { behindProxy(c); c.Limits.RejectsPerMinute = 3 }})
	action, form := h.detailsForm()
	bad := form()
	bad.Set("email", "not an email")
	const sender, other = "198.51.100.7", "198.51.100.8"

	if p := h.do(h.formRequest(sender, action, bad)); p.Status != http.StatusUnprocessableEntity {
		t.Fatalf("form with a mistake: status %d, want 422", p.Status)
	}
	if p := h.do(h.postRequest(sender, action, "multipart/form-data; boundary=x", strings.NewReader("--x--\r\n"))); p.Status != http.StatusUnsupportedMediaType {
		t.Fatalf("multipart form: status %d, want 415", p.Status)
	}
	if p := h.do(h.bigBodyRequest(sender, action, 50*mib)); p.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("50 MB body: status %d, want 413", p.Status)
	}

	// The limit is spent: a good form, a large body and a confirm are all
	// answered 429, the large one without its body being asked for.
	for name, req := range map[string]*http.Request{
		"good form":  h.formRequest(sender, action, form()),
		"50 MB body": h.bigBodyRequest(sender, action, 50*mib),
		"confirm":    h.formRequest(sender, "/demo/book/confirm", form()),
	} {
		p := h.do(req)
		if p.Status != http.StatusTooManyRequests {
			t.Errorf("%s after three refusals: status %d, want 429", name, p.Status)
			continue
		}
		p.ReportingTo(t).WantH1("Please wait a minute")
		if p.Header.Get("Retry-After") != "60" {
			t.Errorf("%s: Retry-After %q", name, p.Header.Get("Retry-After"))
		}
	}
	if p := h.do(h.formRequest(other, action, form())); p.Status != http.StatusSeeOther {
		t.Errorf("another address: status %d, want 303", p.Status)
	}
}

// TestAPatientCorrectingMistakesIsNotLimited: with the default limits, a
// patient who sends the details form with mistakes nine times in a
// minute still books.
func TestAPatientCorrectingMistakesIsNotLimited(t *testing.T) {
	h := newHarness(t)
	action, form := h.detailsForm()
	bad := form()
	bad.Set("mobile", "02 9555 0123")
	for i := range web.DefaultRejectsPerMinute - 1 {
		if status, _, _, _ := h.postAs("", action, bad); status != http.StatusUnprocessableEntity {
			t.Fatalf("mistake %d: status %d, want 422", i+1, status)
		}
	}
	h.confirm(h.post(action, form()).WantH1("Check your booking")).WantH1("Booking confirmed")
}
