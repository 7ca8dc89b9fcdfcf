package web

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

const requestIDKey = "request_id"

// requestID gives each request an id for logs and error pages.
func (s *Server) requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		id := hex.EncodeToString(b)
		c.Set(requestIDKey, id)
		c.Response().Header().Set("X-Request-Id", id)
		return next(c)
	}
}

func requestIDFrom(c echo.Context) string {
	id, _ := c.Get(requestIDKey).(string)
	return id
}

// logRequests writes one line per request. It logs the path only: queries
// hold no personal details by design, but bodies do and are never logged.
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		tally := withUpstreamTally(c)
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		req := c.Request()
		calls, upstreamMS := tally.read()
		s.log.Info("request", "request_id", requestIDFrom(c), "method", req.Method, "path", logPath(c),
			"status", c.Response().Status, "duration_ms", time.Since(start).Milliseconds(),
			"upstream_calls", calls, "upstream_ms", upstreamMS)
		return nil
	}
}

// recoverPanics turns a panic into the generic error page.
func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		return next(c)
	}
}

// securityHeaders sets headers every page needs. Frame policy is per clinic
// and set by the embeddable pages themselves.
func (s *Server) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		if h.Get("Content-Security-Policy") == "" {
			h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		}
		return next(c)
	}
}

// logPath is what logs name a request by: the route with the clinic filled
// in, never the URL itself, because the confirmation URL carries the signed
// draft id and that opens a patient's booking.
func logPath(c echo.Context) string {
	p := c.Path()
	if p == "" || strings.HasSuffix(p, "*") && c.Param("*") != "" {
		return redactPath(c.Request().URL.Path)
	}
	if slug := c.Param("clinic"); slug != "" {
		p = strings.Replace(p, ":clinic", slug, 1)
	}
	return p
}

// redactPath keeps a raw path fit for a log: the segment after /booking/
// (a signed draft id) is replaced.
func redactPath(p string) string {
	if i := strings.Index(p, "/booking/"); i >= 0 {
		return p[:i] + "/booking/:ref"
	}
	return p
}
