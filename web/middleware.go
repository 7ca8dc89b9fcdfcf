package web

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/clinic-booking/portal/internal/booking"
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

// pageWaitBudget bounds how long one request waits for coreplus data the
// cache must load, all loads together (issue 14: never a 30 s hang).
const pageWaitBudget = 2500 * time.Millisecond

// logRequests writes one line per request. It logs the path only: queries
// hold no personal details by design, but bodies do and are never logged.
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		tally := withUpstreamTally(c)
		// However many loads a page needs, a patient waits for them at most
		// pageWaitBudget in all; then the page is served from what the
		// cache has, or says the system is busy and tries again by itself.
		req := c.Request()
		c.SetRequest(req.WithContext(booking.WithWaitBudget(req.Context(), pageWaitBudget)))
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		req = c.Request()
		took := time.Since(start)
		calls, upstreamMS := tally.read()
		s.log.Info("request", "request_id", requestIDFrom(c), "method", req.Method, "path", logPath(c),
			"status", c.Response().Status, "duration_ms", took.Milliseconds(),
			"upstream_calls", calls, "upstream_ms", upstreamMS)
		if s.metrics != nil {
			s.metrics.ObservePage(s.routeLabel(c), req.Method, c.Response().Status, took)
		}
		return nil
	}
}

// routeSet notes every route's method and template, for routeLabel.
func (s *Server) routeSet() {
	s.routeNames = map[string]bool{}
	for _, r := range s.echo.Routes() {
		s.routeNames[r.Method+" "+r.Path] = true
	}
}

// routeLabel names a request for metrics by the route it matched: Echo's
// template, which holds no clinic, id or token. A request no route answers
// (a 404 or 405 from the router) is "unmatched": the path Echo reports then
// is only the nearest node, not a route.
func (s *Server) routeLabel(c echo.Context) string {
	if p := c.Path(); s.routeNames[c.Request().Method+" "+p] {
		return p
	}
	return "unmatched"
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
		s.setSecurityHeaders(c.Response().Header())
		return next(c)
	}
}

// setSecurityHeaders sets what every answer carries, the pages and the
// cross-origin refusal alike:
//   - no sniffing, and a referrer that never holds a page's query;
//   - a content policy that forbids framing (embeddable pages set their
//     clinic's own);
//   - Cache-Control no-store: pages show a patient's details or free times,
//     neither of which a browser or proxy may keep (static assets set their
//     own caching over this);
//   - HSTS when the portal's public address is https: a first visit over
//     http is then the last. Without includeSubDomains: the portal's host
//     says nothing for the operator's other hosts.
func (s *Server) setSecurityHeaders(h http.Header) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
	if h.Get("Content-Security-Policy") == "" {
		h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
	}
	h.Set("Cache-Control", "private, no-store")
	if strings.HasPrefix(s.publicURL, "https://") {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
}

// headAsGet answers HEAD as GET is answered: Echo adds no HEAD routes of
// its own, so the router is handed a copy of the request as a GET, while
// net/http, which still holds the original HEAD request, drops the body
// the handler writes. (Echo routes by the request it was given, so this
// must happen before it, not in its middleware.)
func headAsGet(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			get := r.WithContext(r.Context())
			get.Method = http.MethodGet
			r = get
		}
		next.ServeHTTP(w, r)
	})
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

// redactPath keeps a raw path fit for a log: what follows /booking/ or
// /manage/ (a signed draft id, a manage token) is replaced, and so is what
// follows /console/sign-in/ (a sign-in link's token, which signs in).
func redactPath(p string) string {
	// From the earliest of them: "/c/manage/<token>/booking/x" must not
	// keep the manage token because /booking/ comes later.
	at, keep := -1, ""
	for _, m := range []struct{ mark, as string }{
		{"/console/sign-in/", "/console/sign-in/:token"},
		{"/booking/", "/booking/:ref"},
		{"/manage/", "/manage/:token"},
	} {
		if i := strings.Index(p, m.mark); i >= 0 && (at < 0 || i < at) {
			at, keep = i, m.as
		}
	}
	if at < 0 {
		return p
	}
	return p[:at] + keep
}
