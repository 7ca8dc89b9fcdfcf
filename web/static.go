package web

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/clinic-booking/portal/static"
)

// assets serves the embedded static files under a content-hash version, so
// they can be cached for a year and still change on every release.
type assets struct {
	version string
	files   http.Handler
}

func newAssets() (*assets, error) {
	h := sha256.New()
	err := fs.WalkDir(static.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(static.FS, path)
		if err != nil {
			return err
		}
		h.Write([]byte(path))
		h.Write(b)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &assets{version: hex.EncodeToString(h.Sum(nil))[:12], files: http.FileServerFS(static.FS)}, nil
}

func (a *assets) url(name string) string { return "/static/" + a.version + "/" + name }

func (s *Server) static(c echo.Context) error {
	name := c.Param("*")
	if strings.HasSuffix(name, "/") || name == "" {
		return echo.ErrNotFound
	}
	if _, err := fs.Stat(static.FS, name); err != nil {
		return echo.ErrNotFound
	}
	h := c.Response().Header()
	if c.Param("version") == s.assets.version {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	req := c.Request().Clone(c.Request().Context())
	req.URL.Path = "/" + name
	s.assets.files.ServeHTTP(c.Response(), req)
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
