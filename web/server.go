// Package web is the portal's HTTP layer: the only package that imports Echo.
// Handlers turn requests into calls on internal/booking and render views.
package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/views"
)

// Config is what the HTTP layer needs from the program that starts it.
type Config struct {
	Clinics Clinics
	Logger  *slog.Logger
	// Ready reports whether the portal can serve (its database answers).
	Ready func(ctx context.Context) error
	// SecretKey signs draft ids and session cookies (at least 32 bytes).
	SecretKey []byte
	// TrustedProxies are the proxies whose X-Forwarded-For names the
	// client; with none, the client is the TCP peer.
	TrustedProxies []netip.Prefix
	// Limits caps how often one client address may send the forms.
	Limits Limits
	// PublicURL is the portal's own address ("https://book.example.com"),
	// used in the embed snippets; empty takes it from the request, which a
	// client can shape with X-Forwarded-Proto and Host.
	PublicURL string
	// Metrics, when set, is told how long each request took.
	Metrics PageMetrics
	// Funnel, when set, counts the patients reaching each step.
	Funnel FunnelCounter
	// DemoMailbox, only in the demo, is the mail the demo kept instead of
	// sending it: its page (/demo/mail) is served, and the confirmation
	// page links to it. Nil everywhere else: no such page.
	DemoMailbox DemoMailbox
	// Console serves the staff console at /console/ when its Accounts is set.
	Console ConsoleConfig
}

// PageMetrics is told of every request the portal answers, by route: Echo's
// route template ("/:clinic/book"), never the URL, whose ids and draft
// tokens would make a label per patient; "unmatched" when no route matched.
type PageMetrics interface {
	ObservePage(route, method string, status int, took time.Duration)
}

// Server is the portal's http.Handler.
type Server struct {
	echo     *echo.Echo
	handler  http.Handler
	clinics  Clinics
	log      *slog.Logger
	ready    func(ctx context.Context) error
	assets   *assets
	signer   draftSigner
	sessions *sessions.CookieStore
	abuse    *abuseGuard
	metrics  PageMetrics
	funnel   FunnelCounter
	// manageTokens opens a patient's manage link, /{clinic}/manage/{token}.
	manageTokens booking.ManageTokens
	// routeNames holds "METHOD template" of every route, for PageMetrics.
	routeNames map[string]bool
	// publicURL is Config.PublicURL without a trailing slash.
	publicURL string
	// rendered keeps time pages while their step is memoised.
	rendered renderedPages
	// demoMailbox is Config.DemoMailbox.
	demoMailbox DemoMailbox
	// console is nil when there is no staff console.
	console *console
}

// New builds the server with every route.
func New(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if len(cfg.SecretKey) < 32 {
		return nil, errors.New("web: Config.SecretKey must be at least 32 bytes")
	}
	a, err := loadAssets()
	if err != nil {
		return nil, err
	}
	s := &Server{
		echo: echo.New(), clinics: cfg.Clinics, log: cfg.Logger, ready: cfg.Ready, assets: a,
		publicURL: strings.TrimRight(cfg.PublicURL, "/"),
		signer:    newDraftSigner(cfg.SecretKey), sessions: newSessionStore(cfg.SecretKey),
		manageTokens: booking.NewManageTokens(cfg.SecretKey),
		abuse:        newAbuseGuard(cfg.Limits), metrics: cfg.Metrics, funnel: cfg.Funnel, demoMailbox: cfg.DemoMailbox,
	}
	if cfg.Console.Accounts != nil {
		if cfg.Console.Mailer == nil || cfg.Console.Bookings == nil {
			return nil, errors.New("web: Config.Console needs a Mailer and Bookings with its Accounts")
		}
		s.console = newConsole(cfg.Console, cfg.SecretKey)
		if s.console.relyingParty, err = newRelyingParty(s.publicURL); err != nil {
			return nil, err
		}
	}
	s.echo.IPExtractor = clientIPExtractor(cfg.TrustedProxies)
	s.echo.HideBanner = true
	s.echo.HidePort = true
	s.echo.HTTPErrorHandler = s.handleError
	s.routes()
	s.routeSet()

	// Every POST must come from the portal's own pages (Fetch Metadata and
	// Origin): no token and no cookie, so it works inside a blocked iframe.
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(s.crossOriginDenied))
	// Compression sits inside headAsGet, so a HEAD is answered with the
	// headers of the GET it stands for, Content-Encoding included.
	compressed, err := compressAnswers(cop.Handler(s.echo))
	if err != nil {
		return nil, err
	}
	s.handler = headAsGet(compressed)
	return s, nil
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// crossOriginDenied answers a form posted from another site.
func (s *Server) crossOriginDenied(w http.ResponseWriter, r *http.Request) {
	s.log.Warn("cross-origin request refused", "method", r.Method, "path", redactPath(r.URL.Path))
	m := views.ErrorPage{
		Page:    views.Page{Title: "We couldn't accept that form", Asset: s.assets.url},
		Heading: "We couldn't accept that form",
		Message: "The form was sent from another website, so nothing was saved or booked. Go back to the booking page and try again.",
	}
	s.setSecurityHeaders(w.Header())
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusForbidden)
	_ = views.ErrorView(m).Render(r.Context(), w)
}
