package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/clinic-booking/portal/internal/booking/bookingstore"
)

// A patient may open the confirmation link days later (from their browser
// history, to find the reference): it must still show the booking after
// the draft's personal details have expired and been wiped.
func TestConfirmationLinkOutlivesTheDraft(t *testing.T) {
	h := newHarness(t)
	done := h.confirm(h.toReview(newPatient, "First available practitioner")).WantH1("Booking confirmed")
	link := done.URL
	appts := h.portalAppointments()
	if len(appts) != 1 {
		t.Fatalf("%d portal appointments", len(appts))
	}

	h.now = h.now.Add(3 * 24 * time.Hour)
	if _, err := bookingstore.New(h.db).DeleteExpiredDrafts(t.Context(), h.now); err != nil {
		t.Fatal(err)
	}
	later := h.get(link).WantH1("Booking confirmed")
	if !strings.Contains(later.Text(), appts[0].ReferenceNumber) {
		t.Errorf("three days later the confirmation lacks reference %s:\n%s", appts[0].ReferenceNumber, later.Text())
	}
	for _, detail := range []string{"Zephyrine", "Quillfeather", "zq.test@example.com"} {
		if strings.Contains(later.Body, detail) {
			t.Errorf("three days later the page still shows %q", detail)
		}
	}
}
