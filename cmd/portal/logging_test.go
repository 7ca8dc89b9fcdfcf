package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clinic-booking/portal/internal/coreplus/sandbox"
	"github.com/clinic-booking/portal/internal/mail/mailtest"
	"github.com/clinic-booking/portal/internal/pagetest"
)

// TestLogsOfABookingHoldNoPersonalDetails books through the whole program
// with debug logging and reads every log line: one line per request with
// its id and its upstream calls and time, a line per upstream attempt, and
// nowhere the patient's details or a credential.
func TestLogsOfABookingHoldNoPersonalDetails(t *testing.T) {
	sb := sandbox.New(sandbox.Config{RateLimit: -1})
	sbSrv := httptest.NewServer(sb)
	t.Cleanup(sbSrv.Close)
	secretKey := strings.Repeat("5e", 32)
	smtp := mailtest.Start(t)
	env := map[string]string{
		"DATABASE_URL":             "sqlite:" + filepath.Join(t.TempDir(), "portal.db"),
		"PORTAL_SECRET_KEY":        secretKey,
		"COREPLUS_BASE_URL":        sbSrv.URL + "/API/Core/v2.1/",
		"COREPLUS_CONSUMER_ID":     sandbox.DemoConsumerID,
		"COREPLUS_CONSUMER_SECRET": sandbox.DemoConsumerSecret,
		"COREPLUS_ACCESS_TOKEN":    sandbox.DemoAccessToken,
		"CLINIC_SLUG":              "harbourside",
		"CLINIC_NAME":              "Harbourside Physio",
		"LOG_LEVEL":                "debug",
		// The confirmation goes out too: the mail worker's lines are read
		// with the rest.
		"SMTP_URL":          smtp.URL(),
		"MAIL_FROM":         "bookings@example-clinic.com.au",
		"PUBLIC_URL":        "https://book.example-clinic.com.au",
		"PORTAL_TOKEN_KEYS": strings.Repeat("cd", 32),
		// Changes allowed until an hour before: the booking is at least
		// the 2h notice away, so the manage pages below move and cancel it.
		"BOOKING_CANCELLATION_CUTOFF": "1h",
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0"}, func(k string) string { return env[k] }, pw)
		pw.Close()
	}()
	base := waitForServing(t, pr)
	var logs pagetest.SyncBuffer
	copied := make(chan struct{})
	go func() { _, _ = io.Copy(&logs, pr); close(copied) }()

	r := &replica{name: "portal", base: base, http: &http.Client{
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	p := r.get(t, "/harbourside")
	p = r.get(t, p.Link("Harbourside Physio Surry Hills"))
	p = r.get(t, p.Link("Standard Consultation"))
	p = r.get(t, p.Link("Tom Whitfield"))
	slot := p.Doc.Find("ul.slots a").First().AttrOr("href", "")
	action, form := r.get(t, slot).WantH1("Your details").Form()
	details := url.Values{
		"first_name": {"Marisol"}, "last_name": {"Threnody-Vale"}, "dob_day": {"23"}, "dob_month": {"7"}, "dob_year": {"1957"},
		"email": {"marisol.tv@example.net"}, "mobile": {"0488 765 432"}, "note": {"Recurring ankle sprain"}, "consent": {"yes"},
	}
	for k, v := range details {
		form[k] = v
	}
	review := r.get(t, r.post(t, action, form)).WantH1("Check your booking")
	action, form = review.Form()
	confirmation := r.post(t, action, form)
	confirmed := r.get(t, confirmation).WantH1("Booking confirmed")
	// The confirmation URL carries the signed draft id, which opens the
	// booking: it must not reach the logs either.
	_, ref, ok := strings.Cut(confirmation, "/booking/")
	ref = strings.Trim(ref, "/")
	if !ok || len(ref) < 20 {
		t.Fatalf("confirmation URL %q has no signed reference", confirmation)
	}
	// The confirmation goes out before the booking changes (a booking
	// cancelled first is not confirmed by mail).
	if got := smtp.Wait(1, 30*time.Second); len(got) != 1 {
		t.Fatalf("the confirmation did not arrive: %d messages", len(got))
	}
	// Nor the manage link's token, through every manage page: the
	// booking is moved, then cancelled.
	manage := confirmed.Link("Change or cancel this booking")
	token := strings.TrimPrefix(manage, "/harbourside/manage/")
	times := r.get(t, r.get(t, manage).WantH1("Your booking").Link("Choose another time")).WantH1("Choose a new time")
	later := times.Doc.Find("ul.slots a").Last().AttrOr("href", "")
	action, form = r.get(t, later).WantH1("Check your new time").Form()
	r.get(t, r.post(t, action, form)).WantH1("Your booking has been moved")
	action, form = r.get(t, manage+"/cancel").WantH1("Cancel this booking?").Form()
	r.get(t, r.post(t, action, form)).WantH1("Your booking is cancelled")

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	<-copied
	out := logs.String()
	if !strings.Contains(out, `"msg":"mail sent"`) {
		t.Errorf("the mail worker's send is not in the logs:\n%s", out)
	}

	var requests, withUpstream, attempts int
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			continue // the start-up line is plain text
		}
		switch rec["msg"] {
		case "request":
			requests++
			if id, _ := rec["request_id"].(string); len(id) < 8 {
				t.Errorf("request line without a request id: %s", line)
			}
			if _, ok := rec["upstream_ms"]; !ok {
				t.Errorf("request line without upstream timing: %s", line)
			}
			if n, _ := rec["upstream_calls"].(float64); n > 0 {
				withUpstream++
			}
			if p, _ := rec["path"].(string); strings.Contains(p, "?") {
				t.Errorf("request line with a query: %s", line)
			}
		case "upstream call":
			attempts++
			if op, _ := rec["op"].(string); op == "" || strings.Contains(op, "?") {
				t.Errorf("upstream line with op %q", op)
			}
			if _, ok := rec["ms"]; !ok {
				t.Errorf("upstream line without its duration: %s", line)
			}
		}
	}
	if requests < 8 || withUpstream == 0 || attempts == 0 {
		t.Errorf("%d request lines, %d with upstream calls, %d upstream attempt lines:\n%s", requests, withUpstream, attempts, out)
	}
	for _, secret := range []string{
		"Marisol", "Threnody", "marisol.tv", "0488765432", "0488 765 432", "1957-07-23", "Recurring ankle",
		sandbox.DemoAccessToken, sandbox.DemoConsumerSecret, secretKey, ref, token,
	} {
		if strings.Contains(out, secret) {
			t.Errorf("the logs hold %q", secret)
		}
	}
}
