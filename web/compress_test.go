package web_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/andybalholm/brotli"
)

// wire is a client that sends Accept-Encoding as it is told, never
// decompresses, follows no redirect, and counts every byte the portal sends
// it: status lines, headers and bodies, as they cross the connection.
type wire struct {
	t      *testing.T
	h      *harness
	client *http.Client
	read   atomic.Int64
}

func newWire(h *harness) *wire {
	w := &wire{t: h.t, h: h}
	var d net.Dialer
	w.client = &http.Client{
		Transport: &http.Transport{
			DisableCompression: true,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				c, err := d.DialContext(ctx, network, addr)
				if err != nil {
					return nil, err
				}
				return &countingConn{Conn: c, read: &w.read}, nil
			},
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	h.t.Cleanup(w.client.CloseIdleConnections)
	return w
}

type countingConn struct {
	net.Conn
	read *atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read.Add(int64(n))
	return n, err
}

// rawAnswer is one answer as it came over the wire.
type rawAnswer struct {
	status int
	header http.Header
	body   []byte // as sent: compressed when Content-Encoding says so
	wire   int64  // bytes on the wire: status line, headers and body
}

// decoded is the body with its Content-Encoding undone.
func (a rawAnswer) decoded(t *testing.T) []byte {
	t.Helper()
	var r io.Reader
	switch ce := a.header.Get("Content-Encoding"); ce {
	case "":
		return a.body
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(a.body))
		if err != nil {
			t.Fatalf("gzip body: %v", err)
		}
		r = zr
	case "br":
		r = brotli.NewReader(bytes.NewReader(a.body))
	default:
		t.Fatalf("Content-Encoding %q", ce)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("decode %s body: %v", a.header.Get("Content-Encoding"), err)
	}
	return b
}

// do sends method u with the given Accept-Encoding ("" sends none) and
// further headers in pairs.
func (w *wire) do(method, u, acceptEncoding string, header ...string) rawAnswer {
	w.t.Helper()
	req, err := http.NewRequest(method, w.h.abs(u), nil)
	if err != nil {
		w.t.Fatal(err)
	}
	if acceptEncoding != "" {
		req.Header.Set("Accept-Encoding", acceptEncoding)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	before := w.read.Load()
	resp, err := w.client.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		w.t.Fatal(err)
	}
	return rawAnswer{status: resp.StatusCode, header: resp.Header, body: body, wire: w.read.Load() - before}
}

// varies reports whether the answer names Accept-Encoding in Vary.
func varies(h http.Header) bool {
	for _, v := range h.Values("Vary") {
		for f := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(f), "Accept-Encoding") {
				return true
			}
		}
	}
	return false
}

// sameBytes compares two answers to the same request, which differ only in
// the request id that error pages show.
func sameBytes(a, b []byte, ha, hb http.Header) bool {
	a = bytes.ReplaceAll(a, []byte(ha.Get("X-Request-Id")), []byte("ID"))
	b = bytes.ReplaceAll(b, []byte(hb.Get("X-Request-Id")), []byte("ID"))
	return bytes.Equal(a, b)
}

// TestPagesErrorPagesAndAssetsAreSentCompressed: a client that accepts gzip
// (or brotli, for the assets) gets the same bytes compressed; one that does
// not gets them plain; both answers say Vary: Accept-Encoding, so no cache
// hands either to the other. Tiny answers are not compressed.
func TestPagesErrorPagesAndAssetsAreSentCompressed(t *testing.T) {
	h := newHarness(t)
	w := newWire(h)
	times := h.toTimes("Harbourside Physio Surry Hills", "Standard Consultation", "First available practitioner")
	css := times.Doc.Find(`link[rel="stylesheet"]`).AttrOr("href", "")
	js := times.Doc.Find(`script[src]`).AttrOr("src", "")
	icon := times.Doc.Find(`link[rel="icon"]`).AttrOr("href", "")
	if css == "" || js == "" || icon == "" {
		t.Fatalf("the time page links stylesheet %q, script %q, icon %q", css, js, icon)
	}
	cases := []struct {
		name, url, acceptEncoding string
		status                    int
		want                      string // Content-Encoding
	}{
		{"first page", "/demo", "gzip", 200, "gzip"},
		{"first page, embedded", "/demo?embed=1", "gzip, deflate, br, zstd", 200, "gzip"},
		{"time page", rel(times.URL), "gzip", 200, "gzip"},
		{"time page, gzip preferred", rel(times.URL), "br;q=0.5, gzip", 200, "gzip"},
		{"not found page", "/demo/no-such-page", "gzip", 404, "gzip"},
		{"bad link page", "/demo/book?location=no-such-location", "gzip", 400, "gzip"},
		{"stylesheet, gzip", css, "gzip", 200, "gzip"},
		{"stylesheet, brotli", css, "gzip, deflate, br, zstd", 200, "br"},
		{"stylesheet, gzip ranked above brotli", css, "br;q=0.1, gzip;q=0.9", 200, "gzip"},
		{"script, brotli", js, "br", 200, "br"},
		{"embed loader, gzip", strings.Replace(css, "css/portal.css", "js/embed.js", 1), "gzip", 200, "gzip"},
		{"gzip refused", "/demo", "gzip;q=0, identity", 200, ""},
		{"icon under 1 KB", icon, "gzip, br", 200, ""},
		{"health check under 1 KB", "/healthz", "gzip", 200, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := w.do(http.MethodGet, tc.url, tc.acceptEncoding)
			plain := w.do(http.MethodGet, tc.url, "")
			if got.status != tc.status || plain.status != tc.status {
				t.Fatalf("status %d, and %d with no Accept-Encoding; want %d", got.status, plain.status, tc.status)
			}
			if ce := got.header.Get("Content-Encoding"); ce != tc.want {
				t.Errorf("Accept-Encoding %q: Content-Encoding %q, want %q", tc.acceptEncoding, ce, tc.want)
			}
			if ce := plain.header.Get("Content-Encoding"); ce != "" {
				t.Errorf("no Accept-Encoding: Content-Encoding %q", ce)
			}
			if !varies(got.header) || !varies(plain.header) {
				t.Errorf("Vary %q, and %q with no Accept-Encoding; want Accept-Encoding in both", got.header.Values("Vary"), plain.header.Values("Vary"))
			}
			if !sameBytes(got.decoded(t), plain.body, got.header, plain.header) {
				t.Errorf("the %s body (%d bytes) does not decode to the plain one (%d bytes)", tc.want, len(got.body), len(plain.body))
			}
			if tc.want != "" && len(got.body) >= len(plain.body) {
				t.Errorf("compressed %d bytes, plain %d", len(got.body), len(plain.body))
			}
			if got.header.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(got.header.Get("Content-Security-Policy"), "frame-ancestors") {
				t.Errorf("a compressed answer lost the security headers: %v", got.header)
			}
			if got.header.Get("Content-Type") != plain.header.Get("Content-Type") {
				t.Errorf("Content-Type %q, plain %q", got.header.Get("Content-Type"), plain.header.Get("Content-Type"))
			}
		})
	}

	t.Run("cross-site form refused (403)", func(t *testing.T) {
		got := w.do(http.MethodPost, "/demo/request", "gzip", "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
		if got.status != http.StatusForbidden || !varies(got.header) {
			t.Fatalf("status %d, Vary %q", got.status, got.header.Values("Vary"))
		}
		if len(got.decoded(t)) >= minCompress && got.header.Get("Content-Encoding") != "gzip" {
			t.Errorf("a %d-byte page sent with Content-Encoding %q", len(got.decoded(t)), got.header.Get("Content-Encoding"))
		}
	})
}

// minCompress is the portal's threshold: answers below it are sent plain.
const minCompress = 1024

// TestStaticAssetsCarryAStrongETagAndAnswer304: each asset's ETag names its
// content and coding, is the same after a restart, and If-None-Match with
// it is answered 304 with no body, the year-long caching kept. Pages, which
// must not be stored, carry none.
func TestStaticAssetsCarryAStrongETagAndAnswer304(t *testing.T) {
	h := newHarness(t)
	w := newWire(h)
	page := h.get("/demo")
	if page.Header.Get("ETag") != "" {
		t.Errorf("a page carries ETag %q", page.Header.Get("ETag"))
	}
	css := page.Doc.Find(`link[rel="stylesheet"]`).AttrOr("href", "")
	js := page.Doc.Find(`script[src]`).AttrOr("src", "")

	tags := map[string]string{}
	for _, ae := range []string{"", "gzip", "br"} {
		for _, u := range []string{css, js} {
			first := w.do(http.MethodGet, u, ae)
			etag := first.header.Get("ETag")
			if first.status != 200 || !strings.HasPrefix(etag, `"`) || !strings.HasSuffix(etag, `"`) || len(etag) < 10 {
				t.Fatalf("%s (%q): status %d, ETag %q; want a strong, quoted tag", u, ae, first.status, etag)
			}
			if other, ok := tags[etag]; ok {
				t.Errorf("%s (%q) has the ETag of %s: %s", u, ae, other, etag)
			}
			tags[etag] = u + " " + ae

			again := w.do(http.MethodGet, u, ae, "If-None-Match", etag)
			if again.status != http.StatusNotModified || len(again.body) != 0 {
				t.Errorf("%s (%q) with If-None-Match %s: status %d, %d bytes of body; want 304 and none", u, ae, etag, again.status, len(again.body))
			}
			if again.header.Get("ETag") != etag || !strings.Contains(again.header.Get("Cache-Control"), "immutable") || !varies(again.header) {
				t.Errorf("304 headers: ETag %q, Cache-Control %q, Vary %q", again.header.Get("ETag"), again.header.Get("Cache-Control"), again.header.Values("Vary"))
			}
			if again.header.Get("Content-Encoding") != "" {
				t.Errorf("304 with Content-Encoding %q", again.header.Get("Content-Encoding"))
			}
			if ae == "" {
				// The plain bytes' tag does not stand for the gzipped ones.
				if other := w.do(http.MethodGet, u, "gzip", "If-None-Match", etag); other.status != http.StatusOK {
					t.Errorf("%s: gzip asked with the plain ETag: status %d, want 200", u, other.status)
				}
			}
		}
	}

	h.restart()
	if etag := w.do(http.MethodGet, css, "gzip").header.Get("ETag"); tags[etag] != css+" gzip" {
		t.Errorf("after a restart the stylesheet's ETag is %q, not the one it had", etag)
	}
	// A page referring to an older release's version is sent the current
	// file, revalidated on every use: the ETag makes that a 304.
	stale := "/static/0ld0ld0ld0ld/" + strings.SplitN(strings.TrimPrefix(css, "/static/"), "/", 2)[1]
	first := w.do(http.MethodGet, stale, "gzip")
	if first.header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("%s: Cache-Control %q", stale, first.header.Get("Cache-Control"))
	}
	if again := w.do(http.MethodGet, stale, "gzip", "If-None-Match", first.header.Get("ETag")); again.status != http.StatusNotModified {
		t.Errorf("%s revalidated: status %d, want 304", stale, again.status)
	}
}

// TestHEADAnswersAsGETWithCompression: HEAD with Accept-Encoding gets the
// headers its GET gets, the coding, length, Vary and ETag included, and
// no body.
func TestHEADAnswersAsGETWithCompression(t *testing.T) {
	h := newHarness(t)
	w := newWire(h)
	page := h.get("/demo")
	css := page.Doc.Find(`link[rel="stylesheet"]`).AttrOr("href", "")
	for _, u := range []string{"/demo", "/demo/no-such-page", css, "/healthz"} {
		for _, ae := range []string{"", "gzip", "br, gzip"} {
			fields := []string{"Content-Encoding", "Content-Length", "Content-Type", "Vary", "ETag", "Cache-Control"}
			if u == "/demo/no-such-page" && ae != "" {
				// Its random request id makes each one compress to a
				// slightly different length.
				fields = slices.DeleteFunc(fields, func(k string) bool { return k == "Content-Length" })
			}
			get := w.do(http.MethodGet, u, ae)
			head := w.do(http.MethodHead, u, ae)
			if head.status != get.status || len(head.body) != 0 {
				t.Errorf("HEAD %s (%q): %d with %d bytes; GET %d", u, ae, head.status, len(head.body), get.status)
			}
			for _, k := range fields {
				if head.header.Get(k) != get.header.Get(k) {
					t.Errorf("HEAD %s (%q): %s %q, GET %q", u, ae, k, head.header.Get(k), get.header.Get(k))
				}
			}
		}
	}
}

// TestFirstLoadCostsAFewKB counts what a phone with an empty cache receives
// for the first page and for a time page, standalone and embedded: the
// page and every file it links for its first paint (stylesheet, script,
// icon), status lines and headers included. Embedded, it counts the
// clinic's loader too (/embed.js and the script it redirects to), which
// the clinic's own page fetches. The bounds: 10 KB and 15 KB.
func TestFirstLoadCostsAFewKB(t *testing.T) {
	h := newHarness(t)
	times := rel(h.toTimes("Harbourside Physio Surry Hills", "Standard Consultation", "First available practitioner").URL)
	cases := []struct {
		name, url string
		embedded  bool
		bound     int64
	}{
		{"first page", "/demo", false, 10_000},
		{"first page, embedded", "/demo?embed=1", true, 10_000},
		{"time page", times, false, 15_000},
		{"time page, embedded", times + "&embed=1", true, 15_000},
	}
	browsers := []struct{ name, acceptEncoding string }{
		{"gzip", "gzip"},
		{"a browser", "gzip, deflate, br, zstd"},
		{"nothing", ""},
	}
	for _, tc := range cases {
		for _, b := range browsers {
			w := newWire(h) // a new connection and an empty cache
			page := w.do(http.MethodGet, tc.url, b.acceptEncoding)
			doc, err := goquery.NewDocumentFromReader(bytes.NewReader(page.decoded(t)))
			if err != nil || page.status != http.StatusOK {
				t.Fatalf("%s: status %d, %v", tc.url, page.status, err)
			}
			var links []string
			doc.Find(`link[rel="stylesheet"], link[rel="icon"]`).Each(func(_ int, s *goquery.Selection) { links = append(links, s.AttrOr("href", "")) })
			doc.Find(`script[src]`).Each(func(_ int, s *goquery.Selection) { links = append(links, s.AttrOr("src", "")) })
			if len(links) < 3 {
				t.Fatalf("%s links only %v", tc.url, links)
			}
			if tc.embedded {
				loader := w.do(http.MethodGet, "/embed.js", b.acceptEncoding)
				links = append(links, loader.header.Get("Location"))
			}
			for _, l := range links {
				if a := w.do(http.MethodGet, l, b.acceptEncoding); a.status != http.StatusOK {
					t.Fatalf("%s: status %d", l, a.status)
				}
			}
			total := w.read.Load()
			t.Logf("%-21s accepting %-10s page %6d bytes on the wire (%5d of body), with %d files: %6d", tc.name, b.name, page.wire, len(page.body), len(links), total)
			if b.acceptEncoding != "" && total > tc.bound {
				t.Errorf("%s accepting %s: %d bytes on the wire, over %d", tc.name, b.name, total, tc.bound)
			}
		}
	}
}
