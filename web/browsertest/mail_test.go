//go:build browser

package browsertest

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
	"time"
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
			parts := mimeParts(t, r.Data)
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

// mimeParts walks a MIME message and returns each leaf part's decoded body
// by media type.
func mimeParts(t *testing.T, raw []byte) map[string]string {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse message: %v", err)
	}
	out := map[string]string{}
	var walk func(header func(string) string, body io.Reader)
	walk = func(header func(string) string, body io.Reader) {
		mt, params, err := mime.ParseMediaType(header("Content-Type"))
		if err != nil {
			t.Fatalf("content type %q: %v", header("Content-Type"), err)
		}
		if strings.HasPrefix(mt, "multipart/") {
			mr := multipart.NewReader(body, params["boundary"])
			for {
				p, err := mr.NextRawPart()
				if err == io.EOF {
					return
				}
				if err != nil {
					t.Fatalf("read %s: %v", mt, err)
				}
				walk(p.Header.Get, p)
			}
		}
		switch strings.ToLower(header("Content-Transfer-Encoding")) {
		case "quoted-printable":
			body = quotedprintable.NewReader(body)
		case "base64":
			body = base64.NewDecoder(base64.StdEncoding, body)
		}
		b, err := io.ReadAll(body)
		if err != nil {
			t.Fatalf("read %s part: %v", mt, err)
		}
		out[mt] = string(b)
	}
	walk(msg.Header.Get, msg.Body)
	return out
}
