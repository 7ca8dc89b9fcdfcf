package web

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"sync"

	"github.com/a-h/templ"
	"github.com/klauspost/compress/gzip"
	"github.com/labstack/echo/v4"
)

// renderedPages keeps time pages as sent, gzipped, for as long as the
// time step they show is memoised: the key is the step's booking.Week.Serial
// with the request's path and query, and nothing else goes into the page
// (no cookie, no header, no draft: pages carrying a draft are not kept).
// The many patients on one practitioner's week then cost one render and
// one gzip per memo lifetime (half a second) instead of one each, which
// was three quarters of serving a cached time page. A claim or a newer
// held snapshot gives the step a new Serial, so a kept page never shows a
// time the memo no longer offers.
type renderedPages struct {
	mu    sync.Mutex
	pages map[pageKey]*renderedPage
}

type pageKey struct {
	serial uint64
	uri    string
}

// renderedPage is one page's bytes: gzipped always, since nearly every
// client takes gzip, and plain once a client that does not asks.
type renderedPage struct {
	gz    []byte
	mu    sync.Mutex
	plain []byte
}

// maxRenderedPages bounds the cache at a few megabytes (a time page is
// about 3 KB gzipped); past it, it starts afresh, as the week memo does.
// Pages of Weeks no longer memoised are never asked for again and go at
// the next fresh start.
const maxRenderedPages = 1024

// keptPage returns the page kept for this request and week serial, or
// nil. Only GETs without a draft are kept.
func (s *Server) keptPage(c echo.Context, serial uint64) *renderedPage {
	req := c.Request()
	if serial == 0 || req.Method != http.MethodGet {
		return nil
	}
	s.rendered.mu.Lock()
	defer s.rendered.mu.Unlock()
	return s.rendered.pages[pageKey{serial: serial, uri: req.URL.RequestURI()}]
}

// renderKept renders page, keeps it under the request and week serial
// (for a GET, with a serial) and sends it.
func (s *Server) renderKept(c echo.Context, serial uint64, page templ.Component) error {
	req := c.Request()
	if serial == 0 || req.Method != http.MethodGet {
		return render(c, http.StatusOK, page)
	}
	plain := renderBuffers.Get().(*bytes.Buffer)
	defer func() {
		if plain.Cap() <= maxPooledRender {
			plain.Reset()
			renderBuffers.Put(plain)
		}
	}()
	if err := page.Render(req.Context(), plain); err != nil {
		return err
	}
	var gz bytes.Buffer
	gz.Grow(plain.Len()/4 + 64)
	zw := gzipWriters.Get().(*gzip.Writer)
	zw.Reset(&gz)
	_, err := zw.Write(plain.Bytes())
	if err == nil {
		err = zw.Close()
	}
	gzipWriters.Put(zw)
	if err != nil {
		return err
	}
	p := &renderedPage{gz: gz.Bytes()}
	if !takesGzip(req) {
		p.plain = bytes.Clone(plain.Bytes())
	}
	s.rendered.mu.Lock()
	if s.rendered.pages == nil || len(s.rendered.pages) >= maxRenderedPages {
		s.rendered.pages = map[pageKey]*renderedPage{}
	}
	s.rendered.pages[pageKey{serial: serial, uri: req.URL.RequestURI()}] = p
	s.rendered.mu.Unlock()
	return p.send(c)
}

// gzipWriters keeps gzip writers between pages: a fresh one allocates
// about a megabyte of tables. BestSpeed, as compressAnswers gzips pages made
// per request.
var gzipWriters = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed) // a valid level: no error
	return zw
}}

func takesGzip(req *http.Request) bool {
	return acceptedCoding(req, func(coding string) bool { return coding == "gzip" }) == "gzip"
}

// send writes the page gzipped when the client takes gzip, plain
// otherwise. compressAnswers passes an answer already encoded untouched
// and has marked it Vary: Accept-Encoding.
func (p *renderedPage) send(c echo.Context) error {
	req, h := c.Request(), c.Response().Header()
	h.Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	if takesGzip(req) {
		h.Set("Content-Encoding", "gzip")
		h.Set(echo.HeaderContentLength, strconv.Itoa(len(p.gz)))
		c.Response().WriteHeader(http.StatusOK)
		_, err := c.Response().Write(p.gz)
		return err
	}
	p.mu.Lock()
	if p.plain == nil {
		zr, err := gzip.NewReader(bytes.NewReader(p.gz))
		if err != nil {
			p.mu.Unlock()
			return err
		}
		var plain bytes.Buffer
		if _, err := plain.ReadFrom(zr); err != nil {
			p.mu.Unlock()
			return err
		}
		p.plain = plain.Bytes()
	}
	plain := p.plain
	p.mu.Unlock()
	return c.HTMLBlob(http.StatusOK, plain)
}
