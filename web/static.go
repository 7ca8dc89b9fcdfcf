package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"sync"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/gzip"
	"github.com/labstack/echo/v4"

	"github.com/clinic-booking/portal/static"
)

// assets serves the embedded static files under a content-hash version, so
// they can be cached for a year and still change on every release. The
// files are read, hashed and compressed once, at start: they are embedded
// and never change while the portal runs, so no request pays to compress
// one, and each can be compressed at the slowest, smallest level.
type assets struct {
	version string
	files   map[string]*asset
}

// asset is one static file as it is sent: its bytes, plain and in each
// coding that makes it smaller, and the ETag of each.
type asset struct {
	contentType string
	// hash names the file's content: its ETag is "hash" plain and
	// "hash-gzip" or "hash-br" encoded (a strong ETag names exact bytes).
	hash  string
	plain []byte
	coded map[string][]byte // by content coding: "br", "gzip"
}

// loadAssets reads and compresses the embedded files once per process,
// however many servers it starts (the tests start many): they are
// constants of the binary, so every server can share the result.
var loadAssets = sync.OnceValues(newAssets)

func newAssets() (*assets, error) {
	a := &assets{files: map[string]*asset{}}
	h := sha256.New()
	err := fs.WalkDir(static.FS, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(static.FS, name)
		if err != nil {
			return err
		}
		h.Write([]byte(name))
		h.Write(b)
		f, err := newAsset(name, b)
		if err != nil {
			return err
		}
		a.files[name] = f
		return nil
	})
	if err != nil {
		return nil, err
	}
	a.version = hex.EncodeToString(h.Sum(nil))[:12]
	return a, nil
}

func newAsset(name string, b []byte) (*asset, error) {
	sum := sha256.Sum256(b)
	f := &asset{
		contentType: mime.TypeByExtension(path.Ext(name)),
		hash:        hex.EncodeToString(sum[:])[:20],
		plain:       b,
		coded:       map[string][]byte{},
	}
	if f.contentType == "" {
		f.contentType = http.DetectContentType(b)
	}
	if len(b) < minCompressBytes {
		return f, nil
	}
	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	var br bytes.Buffer
	// A 64 KB window: the files are a few KB, and the default 4 MB one
	// makes them no smaller but takes five times as long.
	bw := brotli.NewWriterOptions(&br, brotli.WriterOptions{Quality: brotli.BestCompression, LGWin: 16})
	if _, err := bw.Write(b); err != nil {
		return nil, err
	}
	if err := bw.Close(); err != nil {
		return nil, err
	}
	for coding, out := range map[string][]byte{"gzip": gz.Bytes(), "br": br.Bytes()} {
		if len(out) < len(b) {
			f.coded[coding] = out
		}
	}
	return f, nil
}

func (a *assets) url(name string) string { return "/static/" + a.version + "/" + name }

// static sends a file in the best coding the client accepts, with a strong
// ETag for that coding, and answers 304 when If-None-Match names it. The
// Vary: Accept-Encoding it needs comes from compressAnswers, which wraps
// every answer.
func (s *Server) static(c echo.Context) error {
	f, ok := s.assets.files[c.Param("*")]
	if !ok {
		return echo.ErrNotFound
	}
	h := c.Response().Header()
	if c.Param("version") == s.assets.version {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	body, etag := f.plain, f.hash
	if coding := acceptedCoding(c.Request(), func(coding string) bool { return f.coded[coding] != nil }); coding != "" {
		body, etag = f.coded[coding], f.hash+"-"+coding
		h.Set("Content-Encoding", coding)
	}
	h.Set("Content-Type", f.contentType)
	h.Set("ETag", `"`+etag+`"`)
	// ServeContent answers If-None-Match with a 304, Range with the part
	// of the bytes sent, and sets Content-Length.
	http.ServeContent(c.Response(), c.Request(), "", time.Time{}, bytes.NewReader(body))
	return nil
}

// embedScript sends the snippet's stable /embed.js to the loader's
// content-hashed URL. The redirect is cached for five minutes and the
// script for a year, so a release reaches every clinic's site within
// minutes while browsers keep the script itself.
func (s *Server) embedScript(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.Redirect(http.StatusFound, s.assets.url("js/embed.js"))
}

// favicon answers browsers and tools that ask for /favicon.ico whatever the
// page links to, with the versioned icon, so they get no 404.
func (s *Server) favicon(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "public, max-age=86400")
	return c.Redirect(http.StatusFound, s.assets.url("img/favicon.svg"))
}
