package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/clinic-booking/portal/web"
)

// TestRunDemoServesAndStops starts the whole program the way `make run` does,
// waits for /healthz, loads the first page over HTTP, and stops it by
// cancelling the context.
func TestRunDemoServesAndStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	env := map[string]string{"DATA_DIR": t.TempDir()}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-demo", "-addr", "127.0.0.1:0"}, func(k string) string { return env[k] }, pw)
		pw.Close()
	}()

	base := waitForServing(t, pr)
	go func() { _, _ = io.Copy(io.Discard, pr) }() // keep draining the logs

	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %d", resp.StatusCode)
	}

	resp, err = http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET / followed to %s: status %d", resp.Request.URL, resp.StatusCode)
	}
	if !strings.HasSuffix(resp.Request.URL.Path, "/demo") {
		t.Errorf("GET / led to %s, want the demo clinic", resp.Request.URL.Path)
	}
	if !strings.Contains(string(body), "<h1") {
		t.Errorf("first page has no heading:\n%s", body)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run returned %v after cancel", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not stop after its context was cancelled")
	}
}

var servingLine = regexp.MustCompile(`on (http://[0-9.:]+)/`)

func waitForServing(t *testing.T, r io.Reader) string {
	t.Helper()
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if m := servingLine.FindStringSubmatch(sc.Text()); m != nil {
				lines <- m[1]
				return
			}
		}
	}()
	select {
	case base := <-lines:
		return base
	case <-time.After(30 * time.Second):
		t.Fatal("portal did not say where it serves within 30s")
		return ""
	}
}

func TestLoadConfigReportsEachProblem(t *testing.T) {
	env := map[string]string{
		"COREPLUS_BASE_URL":     "not a url",
		"COREPLUS_CONSUMER_ID":  "",
		"PORT":                  "99999",
		"PORTAL_SECRET_KEY":     "abcd",
		"BOOKING_WINDOW_DAYS":   "forever",
		"BOOKING_MIN_NOTICE":    "soon",
		"CLINIC_FRAME_ORIGINS":  "https://ok.example, ftp://bad.example",
		"CLINIC_SLUG":           "Not A Slug",
		"BOOKING_SMS_REMINDERS": "perhaps",
	}
	_, err := loadConfig(nil, func(k string) string { return env[k] }, io.Discard)
	if err == nil {
		t.Fatal("loadConfig accepted a broken configuration")
	}
	for _, want := range []string{
		"COREPLUS_BASE_URL is \"not a url\"",
		"COREPLUS_CONSUMER_ID is not set",
		"COREPLUS_CONSUMER_SECRET is not set",
		"COREPLUS_ACCESS_TOKEN is not set",
		"PORT is \"99999\"",
		"PORTAL_SECRET_KEY: ",
		"BOOKING_WINDOW_DAYS is \"forever\"",
		"BOOKING_MIN_NOTICE is \"soon\"",
		"CLINIC_FRAME_ORIGINS has \"ftp://bad.example\"",
		"CLINIC_SLUG is \"Not A Slug\"",
		"BOOKING_SMS_REMINDERS is \"perhaps\"",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
}

func TestLoadConfigSingleClinicFromEnvironment(t *testing.T) {
	env := withCoreplusEnv(map[string]string{
		"COREPLUS_ACCESS_TOKEN": "token",
		"CLINIC_FRAME_ORIGINS":  "https://www.example-clinic.com.au",
	})
	cfg, err := loadConfig(nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:8080" || cfg.Clinic.Slug != "clinic" || len(cfg.SecretKey) != 32 {
		t.Errorf("unexpected config: addr %q slug %q key %d bytes", cfg.Addr, cfg.Clinic.Slug, len(cfg.SecretKey))
	}
	if got := cfg.Clinic.FrameOrigins; len(got) != 1 || got[0] != "https://www.example-clinic.com.au" {
		t.Errorf("frame origins %v", got)
	}
	if cfg.Clinic.MinNotice.Hours() != 2 || cfg.Clinic.WindowDays != 60 {
		t.Errorf("default rules: notice %v window %d days", cfg.Clinic.MinNotice, cfg.Clinic.WindowDays)
	}
}

// TestLoadConfigRejectLimit: the limit on refused bodies and forms with
// mistakes takes its default, a number, or 0 for none.
func TestLoadConfigRejectLimit(t *testing.T) {
	for value, want := range map[string]int{"": web.DefaultRejectsPerMinute, "25": 25, "0": -1} {
		env := withCoreplusEnv(map[string]string{"COREPLUS_ACCESS_TOKEN": "token", "RATE_LIMIT_REJECTS_PER_MINUTE": value})
		cfg, err := loadConfig(nil, func(k string) string { return env[k] }, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Limits.RejectsPerMinute != want {
			t.Errorf("RATE_LIMIT_REJECTS_PER_MINUTE=%q: %d, want %d", value, cfg.Limits.RejectsPerMinute, want)
		}
	}
}

func TestLoadConfigNeverEchoesTheSecret(t *testing.T) {
	env := map[string]string{"COREPLUS_BASE_URL": "https://x.example/API/Core/v2.1/", "COREPLUS_CONSUMER_SECRET": "do-not-print-me"}
	_, err := loadConfig(nil, func(k string) string { return env[k] }, io.Discard)
	if err == nil || strings.Contains(err.Error(), "do-not-print-me") {
		t.Fatalf("error %v", err)
	}
}

func TestLoadConfigMultiClinicNeedsNoAccessToken(t *testing.T) {
	env := withCoreplusEnv(map[string]string{"PORTAL_TOKEN_KEYS": strings.Repeat("cd", 32)})
	getenv := func(k string) string { return env[k] }
	cfg, err := loadConfig(nil, getenv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HasEnvClinic() || cfg.TokenKeys == nil {
		t.Errorf("env clinic %v, keys %v", cfg.HasEnvClinic(), cfg.TokenKeys != nil)
	}

	env["CLINIC_SLUG"] = "northside"
	if _, err := loadConfig(nil, getenv, io.Discard); err == nil || !strings.Contains(err.Error(), "COREPLUS_ACCESS_TOKEN is not set, but CLINIC_SLUG is") {
		t.Errorf("a clinic named by environment without its token: %v", err)
	}
	delete(env, "CLINIC_SLUG")
	env["PORTAL_TOKEN_KEYS"] = "short"
	if _, err := loadConfig(nil, getenv, io.Discard); err == nil || !strings.Contains(err.Error(), "PORTAL_TOKEN_KEYS: key 1") {
		t.Errorf("bad PORTAL_TOKEN_KEYS: %v", err)
	}
}
