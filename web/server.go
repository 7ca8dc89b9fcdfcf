// Package web is the portal's HTTP layer: the only package that imports Echo.
// Handlers turn requests into calls on internal/booking and render views.
package web

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/clinic-booking/portal/internal/booking"
)

// Clinics finds the booking service of the clinic a URL names.
type Clinics interface {
	Clinic(ctx context.Context, slug string) (*booking.Service, bool)
	// Default is the clinic "/" leads to, when there is exactly one.
	Default() (slug string, ok bool)
}

// Config is what the HTTP layer needs from the program that starts it.
type Config struct {
	Clinics Clinics
	Logger  *slog.Logger
	// Ready reports whether the portal can serve (its database answers).
	Ready func(ctx context.Context) error
}

// Server is the portal's http.Handler.
type Server struct {
	echo    *echo.Echo
	clinics Clinics
	log     *slog.Logger
	ready   func(ctx context.Context) error
	assets  *assets
}

// New builds the server with every route.
func New(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	a, err := newAssets()
	if err != nil {
		return nil, err
	}
	s := &Server{echo: echo.New(), clinics: cfg.Clinics, log: cfg.Logger, ready: cfg.Ready, assets: a}
	s.echo.HideBanner = true
	s.echo.HidePort = true
	s.echo.HTTPErrorHandler = s.handleError
	s.routes()
	return s, nil
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }
