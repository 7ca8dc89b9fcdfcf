package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clinic-booking/portal/internal/pagetest"
)

// TestDemoKeepsMailInItsMailbox runs `portal -demo` with no SMTP_URL,
// books, and finds the confirmation email on the demo's mailbox page
// (linked from the confirmation page), kept in the data folder, with a
// manage link to this portal and its calendar file.
func TestDemoKeepsMailInItsMailbox(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	dataDir := t.TempDir()
	env := map[string]string{"DATA_DIR": dataDir}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-demo", "-addr", "127.0.0.1:0"}, func(k string) string { return env[k] }, pw)
		pw.Close()
	}()
	base := waitForServing(t, pr)
	logs := &pagetest.SyncBuffer{}
	go func() { _, _ = io.Copy(logs, pr) }()
	r := &replica{name: "demo", base: base, logs: logs, http: &http.Client{
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}

	p := r.get(t, "/demo")
	p = r.get(t, p.Link("Harbourside Physio Surry Hills"))
	p = r.get(t, p.Link("Standard Consultation"))
	p = r.get(t, p.Link("First available practitioner"))
	slot, _ := p.FirstSlot()
	p = r.get(t, slot).WantH1("Your details")
	action, form := p.Form()
	for k, v := range map[string]string{"first_name": "Demi", "last_name": "Mailbox", "dob_day": "1", "dob_month": "2",
		"dob_year": "1990", "email": "demi.m@example.com", "mobile": "0400 000 001", "consent": "yes"} {
		form.Set(k, v)
	}
	review := r.get(t, r.post(t, action, form)).WantH1("Check your booking")
	action, form = review.Form()
	confirmation := r.get(t, r.post(t, action, form)).WantH1("Booking confirmed")
	ref := strings.TrimSpace(confirmation.Doc.Find(".reference").First().Text())

	var box *pagetest.Page
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(250 * time.Millisecond) {
		box = r.get(t, confirmation.Link("see the confirmation email")).WantH1("Demo mailbox")
		if strings.Contains(box.Text(), "Your booking is confirmed") || time.Now().After(deadline) {
			break
		}
	}
	text := box.Text()
	for _, want := range []string{"Your booking is confirmed", "To demi.m@example.com", "Reference number: " + ref,
		"Manage your booking: " + base + "/demo/manage/"} {
		if !strings.Contains(text, want) {
			t.Errorf("demo mailbox lacks %q:\n%s", want, text)
		}
	}
	html := r.get(t, box.Link("Open the email as the patient sees it"))
	if !strings.Contains(html.Body, "Manage your booking") || !strings.Contains(html.Header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("the email's HTML page: CSP %q\n%s", html.Header.Get("Content-Security-Policy"), html.Body)
	}
	resp, err := http.Get(r.abs(box.Link("Its calendar file")))
	if err != nil {
		t.Fatal(err)
	}
	ics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(ics), "BEGIN:VEVENT") || !strings.Contains(string(ics), "Reference "+ref) {
		t.Errorf("calendar file:\n%s", ics)
	}
	if files, _ := filepath.Glob(filepath.Join(dataDir, "demo-mail", "*.json")); len(files) != 1 {
		t.Errorf("data folder holds %d kept emails, want 1", len(files))
	}
	if _, err := os.Stat(filepath.Join(dataDir, "demo-token.key")); err != nil {
		t.Errorf("no demo key sealing the mail queue: %v", err)
	}
	if strings.Contains(logs.String(), "demi.m@example.com") {
		t.Errorf("the demo logged the patient's address:\n%s", logs.String())
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
}

// TestNoSMTPOutsideTheDemoWarns: a deployment without SMTP_URL serves, says
// at start that no email will be sent, and serves no demo mailbox.
func TestNoSMTPOutsideTheDemoWarns(t *testing.T) {
	coreplusURL := startSandbox(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	env := map[string]string{
		"DATA_DIR": t.TempDir(), "PORTAL_SECRET_KEY": strings.Repeat("5e", 32),
		"COREPLUS_BASE_URL": coreplusURL, "COREPLUS_CONSUMER_ID": "demo-portal",
		"COREPLUS_CONSUMER_SECRET": "demo-consumer-secret-not-for-production",
		"COREPLUS_ACCESS_TOKEN":    "5f0c2a8e-9d7b-4c1e-8a3f-2b6d9e4c7a10",
	}
	logs := &pagetest.SyncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0"}, func(k string) string { return env[k] }, io.MultiWriter(pw, logs))
		pw.Close()
	}()
	base := waitForServing(t, pr)
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if !strings.Contains(logs.String(), "SMTP_URL is not set: patients get no confirmation email") {
		t.Errorf("no warning at start:\n%s", logs.String())
	}
	resp, err := http.Get(base + "/demo/mail")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("/demo/mail outside the demo: %d, want 404", resp.StatusCode)
	}
	cancel()
	<-done
}

// TestLoadConfigMail: SMTP_URL and MAIL_FROM are checked at start, with
// PUBLIC_URL and PORTAL_TOKEN_KEYS they need, and the URL's password is
// never repeated.
func TestLoadConfigMail(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want []string // problems; none: accepted
	}{
		{env: map[string]string{"SMTP_URL": "smtp://u:pw-not-shown@smtp.example.com:587", "MAIL_FROM": "bookings@example.com",
			"PUBLIC_URL": "https://book.example.com", "PORTAL_TOKEN_KEYS": strings.Repeat("cd", 32)}},
		{env: map[string]string{"SMTP_URL": "smtp://u:pw-not-shown@smtp.example.com:587", "MAIL_FROM": "bookings@example.com"},
			want: []string{"SMTP_URL is set but PORTAL_TOKEN_KEYS is not", "SMTP_URL is set but PUBLIC_URL is not"}},
		{env: map[string]string{"SMTP_URL": "imap://u:pw-not-shown@smtp.example.com", "MAIL_FROM": "bookings@example.com"},
			want: []string{`SMTP_URL has scheme "imap"`}},
		{env: map[string]string{"SMTP_URL": "smtp://u:pw-not-shown@smtp.example.com"},
			want: []string{"MAIL_FROM is not set"}},
		{env: map[string]string{"MAIL_FROM": "bookings@example.com"},
			want: []string{"MAIL_FROM is set but SMTP_URL is not"}},
	} {
		env := withCoreplusEnv(map[string]string{"COREPLUS_ACCESS_TOKEN": "token"})
		for k, v := range c.env {
			env[k] = v
		}
		cfg, err := loadConfig(nil, func(k string) string { return env[k] }, io.Discard)
		if len(c.want) == 0 {
			if err != nil || cfg.Mail == nil || cfg.Mail.Host != "smtp.example.com" || cfg.Mail.Password != "pw-not-shown" {
				t.Errorf("%v: %+v, %v", c.env, cfg.Mail, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%v accepted", c.env)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%v: error lacks %q:\n%v", c.env, w, err)
			}
		}
		if strings.Contains(err.Error(), "pw-not-shown") {
			t.Errorf("error repeats the SMTP password:\n%v", err)
		}
	}
}
