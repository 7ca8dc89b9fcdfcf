package web_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzhttp"

	"github.com/clinic-booking/portal/static"
	"github.com/clinic-booking/portal/web"
)

// The stylesheet, the largest asset, sent gzipped: compressed once at
// start (what the portal does) against compressed on every request (what
// gzhttp around a file server would do).

func BenchmarkStylesheetPrecompressed(b *testing.B) {
	srv, err := web.New(web.Config{SecretKey: bytes.Repeat([]byte{7}, 32), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/favicon.ico", nil))
	css := strings.Replace(rec.Header().Get("Location"), "img/favicon.svg", "css/portal.css", 1)
	benchmarkGzipped(b, srv, css)
}

func BenchmarkStylesheetGzippedPerRequest(b *testing.B) {
	wrap, err := gzhttp.NewWrapper(gzhttp.EnableZstd(false))
	if err != nil {
		b.Fatal(err)
	}
	benchmarkGzipped(b, wrap(http.FileServerFS(static.FS)), "/css/portal.css")
}

func benchmarkGzipped(b *testing.B, h http.Handler, path string) {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Encoding") != "gzip" {
		b.Fatalf("%s: %d, Content-Encoding %q", path, rec.Code, rec.Header().Get("Content-Encoding"))
	}
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	b.ReportMetric(float64(rec.Body.Len()), "sent-bytes")
}
