//go:build browser

package browsertest

import (
	"strings"
	"testing"
	"time"

	"github.com/clinic-booking/portal/internal/mail/mailtest"
)

// email is one message the first portal sent, as its parts.
type email struct {
	text, html string
	// ics is the calendar file, its folded lines joined.
	ics string
}

// icsLine is the value of the first line named name in the email's
// calendar file.
func (e email) icsLine(name string) string {
	for _, l := range strings.Split(e.ics, "\r\n") {
		if v, ok := strings.CutPrefix(l, name+":"); ok {
			return v
		}
	}
	return ""
}

// emailsTo is every message sent to address so far, in order.
func emailsTo(t *testing.T, address string) []email {
	t.Helper()
	var out []email
	for _, r := range suite.mail.Messages() {
		if len(r.To) == 1 && r.To[0] == address {
			parts := mailtest.Parts(t, r.Data)
			out = append(out, email{text: parts["text/plain"], html: parts["text/html"],
				ics: strings.ReplaceAll(parts["text/calendar"], "\r\n ", "")})
		}
	}
	return out
}

// waitForEmail waits (the portal's mail worker polls every few seconds)
// until address has been sent its n-th message, and returns it.
func waitForEmail(t *testing.T, address string, n int) email {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for {
		got := emailsTo(t, address)
		if len(got) >= n {
			return got[n-1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d email(s) reached the patient's address, want %d", len(got), n)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
