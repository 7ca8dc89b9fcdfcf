package web_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestKeptTimePageIsTheRenderedPage: a time page served again from the
// rendered copy is the same page, gzipped for a client that takes gzip and
// plain for one that does not, with the headers a rendered page has.
func TestKeptTimePageIsTheRenderedPage(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	times := h.toTimes("Harbourside Physio Surry Hills", "Standard Consultation", "Priya Nandakumar")
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	fetch := func(coding string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, h.abs(rel(times.URL)), nil)
		if coding != "" {
			req.Header.Set("Accept-Encoding", coding)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
		return resp, body
	}
	inflate := func(b []byte) []byte {
		t.Helper()
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("not gzip: %v", err)
		}
		out, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}

	first, firstBody := fetch("gzip")
	second, secondBody := fetch("gzip, deflate, br")
	_, plainBody := fetch("")
	for i, resp := range []*http.Response{first, second} {
		if resp.Header.Get("Content-Encoding") != "gzip" {
			t.Errorf("answer %d: Content-Encoding %q, want gzip", i+1, resp.Header.Get("Content-Encoding"))
		}
		if !strings.Contains(resp.Header.Get("Vary"), "Accept-Encoding") {
			t.Errorf("answer %d: Vary %q lacks Accept-Encoding", i+1, resp.Header.Get("Vary"))
		}
		if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Errorf("answer %d: Content-Type %q", i+1, resp.Header.Get("Content-Type"))
		}
		if resp.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("answer %d: no Content-Security-Policy: the middleware did not run", i+1)
		}
	}
	page := inflate(firstBody)
	if !bytes.Equal(page, inflate(secondBody)) {
		t.Error("the same time page, asked for twice, differs")
	}
	if !bytes.Equal(page, plainBody) {
		t.Error("the plain page differs from the gzipped one")
	}
	if !bytes.Contains(page, []byte("Choose a time")) || !bytes.Contains(page, []byte("slot=")) {
		t.Errorf("the kept page is not a time page with times:\n%.1500s", page)
	}
}
