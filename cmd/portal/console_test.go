package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

var demoLinkLine = regexp.MustCompile(`staff console: sign in as the demo clinic's admin at (http://\S+/console/sign-in/\S+) .*more with: (DATABASE_URL=\S+ CLINIC_SLUG=demo PORT=\d+) portal staff add --clinic demo`)

// TestDemoPrintsAConsoleLinkThatSignsIn starts the demo as `make run` does
// and signs in to its console with the link it prints: the demo needs no
// mail and no command.
func TestDemoPrintsAConsoleLinkThatSignsIn(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	env := map[string]string{"DATA_DIR": t.TempDir()}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-demo", "-addr", "127.0.0.1:0"}, func(k string) string { return env[k] }, pw)
		pw.Close()
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}()

	found, more := make(chan string, 1), make(chan string, 1)
	var logs strings.Builder
	logsDone := make(chan struct{})
	go func() {
		defer close(logsDone)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if m := demoLinkLine.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
				more <- m[2]
				continue
			}
			logs.WriteString(sc.Text() + "\n")
		}
	}()
	var link string
	select {
	case link = <-found:
	case <-time.After(30 * time.Second):
		t.Fatal("the demo printed no console sign-in link")
	}

	client := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.PostForm(link, url.Values{})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "__Host-portal-console" {
			cookie = c
		}
	}
	if resp.StatusCode != http.StatusSeeOther || cookie == nil {
		t.Fatalf("pressing Sign in: status %d, cookie %v", resp.StatusCode, cookie != nil)
	}
	u, _ := url.Parse(link)
	req, _ := http.NewRequest(http.MethodGet, u.Scheme+"://"+u.Host+"/console/demo/today", nil)
	req.AddCookie(cookie)
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "admin@demo.example") {
		t.Errorf("Today: status %d", resp.StatusCode)
	}

	// The command the demo suggests adds staff to the running demo.
	env2 := map[string]string{}
	for _, kv := range strings.Fields(<-more) {
		k, v, _ := strings.Cut(kv, "=")
		env2[k] = v
	}
	var out strings.Builder
	if err := runCommand(context.Background(), []string{"staff", "add", "--clinic", "demo", "--email", "jo@demo.example"},
		func(k string) string { return env2[k] }, strings.NewReader(""), &out); err != nil {
		t.Errorf("the suggested portal staff add: %v\n%s", err, out.String())
	}
	if m := regexp.MustCompile(`http://\S+/console/sign-in/\S+`).FindString(out.String()); m == "" || !strings.HasPrefix(m, u.Scheme+"://"+u.Host+"/") {
		t.Errorf("the suggested command's link %q is not on the demo's address %s", m, u.Host)
	}

	cancel()
	<-logsDone
	if token := link[strings.LastIndex(link, "/")+1:]; strings.Contains(logs.String(), token) {
		t.Error("the logs hold the sign-in link")
	}
}
