package mail_test

import (
	"strings"
	"testing"
	"time"

	"github.com/clinic-booking/portal/internal/mail"
)

func TestParseConfig(t *testing.T) {
	const from = "Harbourside Physio <bookings@example-clinic.com.au>"
	for _, c := range []struct {
		url, from string
		want      mail.Config
		wantErr   string
	}{
		{url: "smtp://user:s3cret-pw@smtp.example.com:587", from: from,
			want: mail.Config{Host: "smtp.example.com", Port: 587, Username: "user", Password: "s3cret-pw", From: `"Harbourside Physio" <bookings@example-clinic.com.au>`}},
		{url: "smtp://smtp.example.com", from: "bookings@example.com",
			want: mail.Config{Host: "smtp.example.com", Port: 587, From: "<bookings@example.com>"}},
		{url: "smtps://user:s3cret-pw@smtp.example.com", from: "bookings@example.com",
			want: mail.Config{Host: "smtp.example.com", Port: 465, Username: "user", Password: "s3cret-pw", ImplicitTLS: true, From: "<bookings@example.com>"}},
		{url: "smtp://127.0.0.1:2525", from: "bookings@example.com",
			want: mail.Config{Host: "127.0.0.1", Port: 2525, StartTLSOptional: true, From: "<bookings@example.com>"}},
		{url: "smtp://localhost:25", from: "bookings@example.com",
			want: mail.Config{Host: "localhost", Port: 25, StartTLSOptional: true, From: "<bookings@example.com>"}},
		{url: "http://user:s3cret-pw@smtp.example.com", from: from, wantErr: `SMTP_URL has scheme "http"`},
		{url: "smtp://user:s3cret-pw@:587", from: from, wantErr: "SMTP_URL names no host"},
		{url: "smtp://user:s3cret-pw@smtp.example.com:99999", from: from, wantErr: `SMTP_URL has port "99999"`},
		{url: "smtp://user:s3cret-pw@smtp.example.com/x", from: from, wantErr: "SMTP_URL has a path"},
		{url: "smtp://user:s3cret-pw@smtp.example.com", from: "", wantErr: "MAIL_FROM is not set"},
		{url: "smtp://user:s3cret-pw@smtp.example.com", from: "not an address", wantErr: `MAIL_FROM is "not an address"`},
	} {
		got, err := mail.ParseConfig(c.url, c.from)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%s: error %v, want %q", c.url, err, c.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "s3cret-pw") {
				t.Errorf("%s: error repeats the password: %v", c.url, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s: got %+v, %v; want %+v", c.url, got, err, c.want)
		}
	}
}

// TestBackoffSpansWellOverAnHour: the tries of one message cover an SMTP
// outage of over an hour, and no wait is longer than half an hour.
func TestBackoffSpansWellOverAnHour(t *testing.T) {
	var total time.Duration
	for n := 1; n < mail.DefaultMaxTries; n++ {
		d := mail.Backoff(n)
		if d <= 0 || d > 30*time.Minute {
			t.Errorf("backoff after try %d is %v", n, d)
		}
		total += d
	}
	if total < 2*time.Hour {
		t.Errorf("%d tries span %v, want well over an hour", mail.DefaultMaxTries, total)
	}
}
