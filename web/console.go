package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/internal/clinics"
	"github.com/clinic-booking/portal/internal/funnel"
	"github.com/clinic-booking/portal/internal/staff"
	"github.com/clinic-booking/portal/views"
)

// The staff console is a second front door to the same clinics: its own
// route group (routes.go), its own middleware (a session, the clinic
// checked on every request, never framed or cached), its own views. The
// patient pages never need a cookie; the console does, first-party only.

// ConsoleConfig is what the console needs; with no Accounts there is no
// console.
type ConsoleConfig struct {
	Accounts StaffAccounts
	// Mailer sends the links the sign-in page issues.
	Mailer SignInMailer
	// Bookings lists the bookings the portal made, for Today.
	Bookings ConsoleBookings
	// Requests lists the clinic's booking requests and marks them
	// contacted, for Requests (bookingstore.Adapter); nil for no page.
	Requests booking.RequestStore
	// Health says what this server has seen of coreplus, by clinic; nil
	// when nothing watches.
	Health UpstreamHealthSource
	// Settings reads, saves and audits the stored clinics' settings; nil
	// when there is no store of clinics (no Settings or Audit page).
	Settings ClinicSettings
	// Funnel reads the funnel's counts back, for the Funnel page; nil when
	// nothing counts.
	Funnel funnel.Reader
	// ClinicRecords are the clinics kept in the database, for the
	// operator's list (disabled ones too) and its Disable and Enable; nil
	// when the clinics come from the environment alone.
	ClinicRecords ClinicRecords
	// ClinicSlugs lists every clinic served, for the operator's list.
	ClinicSlugs func(ctx context.Context) []string
	// Checker runs `portal check` for the operator's Check buttons; nil
	// for no buttons.
	Checker ClinicChecker
	// RefreshClinics reloads the clinics served now, so a clinic the
	// operator just added or enabled is served by this server at once (the
	// others follow within their refresh interval); nil for none.
	RefreshClinics func(ctx context.Context) error
	// Team invites and removes a clinic's staff, for the Staff page; nil
	// for no page.
	Team StaffTeam
	// Passkeys keeps the accounts' passkeys; nil, or no PUBLIC_URL, for
	// none (console_passkeys.go).
	Passkeys StaffPasskeys
	// Now is the clock of session timeouts (time.Now when nil).
	Now func() time.Time
}

// ClinicRecords is what the operator's pages ask of the clinic records
// (*clinics.Repo).
type ClinicRecords interface {
	Add(ctx context.Context, rec clinics.Record) error
	List(ctx context.Context) ([]clinics.Sealed, error)
	SetEnabled(ctx context.Context, slug string, enabled bool) (bool, error)
}

var _ ClinicRecords = (*clinics.Repo)(nil)

// StaffAccounts is what the console asks of the staff accounts
// (*staff.Accounts).
type StaffAccounts interface {
	LinkFor(ctx context.Context, email string) (string, error)
	LinkUsable(ctx context.Context, token string) (bool, error)
	UseLink(ctx context.Context, token string) (staff.Account, error)
	Account(ctx context.Context, id string) (staff.Account, error)
	SignOutEverywhere(ctx context.Context, accountID string) error
	EndSession(ctx context.Context, sid string, expires, now time.Time) error
	SessionEnded(ctx context.Context, sid string) (bool, error)
}

var _ StaffAccounts = (*staff.Accounts)(nil)

// SignInMailer sends a sign-in link to an address. It is told only that a
// link is due; how it is written and sent is the mailer's.
type SignInMailer interface {
	SendSignInLink(ctx context.Context, email, link string) error
	// SendInvite tells email it was given access to clinic's console,
	// with a first sign-in link.
	SendInvite(ctx context.Context, clinic, email, link string) error
}

// ConsoleBookings lists a clinic's booking records starting in [from, to),
// by start, in every status, and every record of the clinic whose outcome
// is not known yet.
type ConsoleBookings interface {
	BookingsBetween(ctx context.Context, clinic string, from, to time.Time) ([]booking.Record, error)
	UnsettledBookings(ctx context.Context, clinic string) ([]booking.Record, error)
}

// UpstreamHealthSource is what this server has seen of coreplus for a
// clinic; false when it has seen nothing.
type UpstreamHealthSource interface {
	UpstreamHealth(clinic string) (UpstreamHealth, bool)
}

// UpstreamHealth is what one server has seen of coreplus for one clinic
// since Since, in its own memory: another replica has seen its own calls.
type UpstreamHealth struct {
	Since time.Time
	// LastGood and LastFailure are the last answered and failed calls.
	LastGood    time.Time
	LastFailure time.Time
	// LastFailureKind says what the last failure was, in words.
	LastFailureKind string
	// Window is how far back the counts below go.
	Window time.Duration
	// Calls, Failures, Refused (the circuit breaker kept a call from
	// coreplus) and RateLimited (coreplus answered 429) in Window.
	Calls, Failures, Refused, RateLimited int
	// Waits counts the calls that waited for the upstream budget, and
	// LongestWait is the longest such wait, in Window.
	Waits       int
	LongestWait time.Duration
}

// The console's session: a first-party cookie. __Host- makes the browser
// accept it only with Secure, Path=/ and no Domain, so no other host can
// set or shadow it; Chromium keeps Secure cookies from http://127.0.0.1
// and http://localhost (loopback counts as secure), so the demo works.
const (
	consoleCookie = "__Host-portal-console"
	// consoleIdle ends a session not used for this long; consoleLifetime
	// ends any session this long after sign-in.
	consoleIdle     = 12 * time.Hour
	consoleLifetime = 7 * 24 * time.Hour
	// consoleSeenEvery is how stale the "last seen" in the cookie may grow
	// before a request writes it again: a new cookie on every request
	// would be needless.
	consoleSeenEvery = 5 * time.Minute
)

// console holds the console's parts on the Server.
type console struct {
	ConsoleConfig
	sessions *sessions.CookieStore
	// byAddress and byIP limit sign-in link requests.
	byAddress, byIP *addrLimiter
	now             func() time.Time
	// issuer makes and sends sign-in links after the answer (console_signin.go).
	issuer *linkIssuer
	// relyingParty runs the passkey ceremonies; nil for no passkeys
	// (console_passkeys.go). passkeysByIP limits them.
	relyingParty *webauthn.WebAuthn
	passkeysByIP *addrLimiter
}

// passkeyCallsPerMinute bounds the passkey ceremonies' calls from one
// connection: a sign-in or an addition is two (begin, finish), so this is
// twenty a minute, for a front desk of several people behind one address,
// while a script trying keys is held to a trickle.
const passkeyCallsPerMinute = 40

func newConsole(cfg ConsoleConfig, secret []byte) *console {
	derive := func(label string) []byte {
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(label))
		return m.Sum(nil)
	}
	st := sessions.NewCookieStore(derive("console session hash v1"), derive("console session block v1"))
	st.Options = &sessions.Options{Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode}
	st.MaxAge(int(consoleLifetime / time.Second))
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &console{
		ConsoleConfig: cfg, sessions: st, now: now,
		// Three links for an address at once, then one every five
		// minutes: a person who lost the first email asks again; a script
		// cannot flood someone's inbox.
		byAddress: &addrLimiter{every: 5 * time.Minute, burst: 3, buckets: map[string]*addrBucket{}},
		// Ten a minute from one connection: a front desk of several
		// people signing in at once, not a script trying addresses.
		byIP:   newAddrLimiter(10, 10),
		issuer: newLinkIssuer(),
		// Each passkey sign-in or addition is two requests (begin, finish):
		// twenty a minute is ten tries, as for the links.
		passkeysByIP: newAddrLimiter(passkeyCallsPerMinute, passkeyCallsPerMinute),
	}
}

// staffSession is a signed-in session as the cookie holds it. SID is
// random, made at sign-in and kept for the session's life: "Sign out" ends
// it in the database (staff.Accounts.EndSession), for every replica.
type staffSession struct {
	SID         string
	AccountID   string
	Epoch       int64
	Since, Seen time.Time
}

const staffKey = "staff_account"

// staffFrom is the signed-in account of a console request.
func staffFrom(c echo.Context) staff.Account {
	a, _ := c.Get(staffKey).(staff.Account)
	return a
}

// consoleHeaders makes every console answer unframable, uncached and
// unreferred.
func (s *Server) consoleHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		h.Set("Cache-Control", "no-store")
		h.Set("Referrer-Policy", "no-referrer")
		return next(c)
	}
}

// requireStaff lets a request on only with a live session: signed in, not
// idle 12 hours, not older than 7 days, its account still there and still
// in the epoch the session began in (any replica can tell, as the epoch is
// in the database). Anyone else is sent to the sign-in page.
func (s *Server) requireStaff(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		sess, ok := s.readStaffSession(c)
		if !ok {
			return s.toSignIn(c)
		}
		now := s.console.now()
		if now.Sub(sess.Since) >= consoleLifetime || now.Sub(sess.Seen) >= consoleIdle {
			s.endStaffSession(c)
			return s.toSignIn(c)
		}
		ended, err := s.console.Accounts.SessionEnded(c.Request().Context(), sess.SID)
		if err != nil {
			return err
		}
		if ended {
			s.endStaffSession(c)
			return s.toSignIn(c)
		}
		acc, err := s.console.Accounts.Account(c.Request().Context(), sess.AccountID)
		// An account with no clinic left (and not an operator) has no
		// console, not even its own passkeys page.
		if errors.Is(err, staff.ErrNoAccount) || err == nil && (acc.Epoch != sess.Epoch || !acc.HasAccess()) {
			s.endStaffSession(c)
			return s.toSignIn(c)
		}
		if err != nil {
			return err
		}
		if now.Sub(sess.Seen) >= consoleSeenEvery {
			sess.Seen = now
			s.saveStaffSession(c, sess)
		}
		c.Set(staffKey, acc)
		return next(c)
	}
}

// toSignIn sends a request with no live session to the sign-in page.
func (s *Server) toSignIn(c echo.Context) error {
	return c.Redirect(http.StatusSeeOther, "/console/sign-in")
}

// consoleClinic lets a request for one clinic's pages on only when the
// account sees that clinic. A clinic that exists but is someone else's
// gets the same 404 as one that does not, so nothing tells them apart.
func (s *Server) consoleClinic(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		slug := c.Param("clinic")
		if !staffFrom(c).Sees(slug) {
			return s.consoleNotFound(c)
		}
		if _, ok := s.clinics.Clinic(c.Request().Context(), slug); !ok {
			return s.consoleNotFound(c)
		}
		return next(c)
	}
}

// consoleNotFound answers a console URL there is nothing at for this
// account.
func (s *Server) consoleNotFound(c echo.Context) error {
	acc := staffFrom(c)
	return render(c, http.StatusNotFound, views.ConsoleMessageView(views.ConsoleMessagePage{
		ConsolePage: views.ConsolePage{Title: "Page not found", Email: acc.Email, ClinicsLink: acc.Operator || len(acc.Clinics) > 1, PasskeysLink: s.passkeysOn(), Asset: s.assets.url},
		Heading:     "Page not found",
		Message:     "There is no console page at this address for your account.",
		Link:        "/console", LinkText: "Go to your console",
	}))
}

// readStaffSession reads the console cookie; false when there is none or it
// is not a signed-in session (a forged or tampered cookie does not decode).
func (s *Server) readStaffSession(c echo.Context) (staffSession, bool) {
	sess, err := s.console.sessions.Get(c.Request(), consoleCookie)
	if err != nil || sess.IsNew {
		return staffSession{}, false
	}
	sid, _ := sess.Values["sid"].(string)
	id, _ := sess.Values["account"].(string)
	epoch, ok1 := sess.Values["epoch"].(int64)
	since, ok2 := sess.Values["since"].(int64)
	seen, ok3 := sess.Values["seen"].(int64)
	if sid == "" || id == "" || !ok1 || !ok2 || !ok3 {
		return staffSession{}, false
	}
	return staffSession{SID: sid, AccountID: id, Epoch: epoch, Since: time.Unix(since, 0), Seen: time.Unix(seen, 0)}, true
}

// startStaffSession signs the account in with a new session: a new cookie
// built from nothing the browser sent, so a cookie planted before sign-in
// (session fixation) never becomes a signed-in one.
func (s *Server) startStaffSession(c echo.Context, acc staff.Account) {
	now := s.console.now()
	sid := make([]byte, 16)
	_, _ = rand.Read(sid)
	s.saveStaffSession(c, staffSession{SID: hex.EncodeToString(sid), AccountID: acc.ID, Epoch: acc.Epoch, Since: now, Seen: now})
}

// saveStaffSession writes the session's cookie, its sid unchanged.
func (s *Server) saveStaffSession(c echo.Context, ss staffSession) {
	sess := sessions.NewSession(s.console.sessions, consoleCookie)
	opts := *s.console.sessions.Options
	sess.Options = &opts
	sess.Values["sid"] = ss.SID
	sess.Values["account"] = ss.AccountID
	sess.Values["epoch"] = ss.Epoch
	sess.Values["since"] = ss.Since.Unix()
	sess.Values["seen"] = ss.Seen.Unix()
	if err := s.console.sessions.Save(c.Request(), c.Response(), sess); err != nil {
		s.log.Warn("save console session", "request_id", requestIDFrom(c), "err", err)
	}
}

// endStaffSession removes the console cookie from this browser.
func (s *Server) endStaffSession(c echo.Context) {
	sess := sessions.NewSession(s.console.sessions, consoleCookie)
	opts := *s.console.sessions.Options
	opts.MaxAge = -1
	sess.Options = &opts
	if err := s.console.sessions.Save(c.Request(), c.Response(), sess); err != nil {
		s.log.Warn("end console session", "request_id", requestIDFrom(c), "err", err)
	}
}

// consolePage fills the layout of a signed-in console page about clinic
// (nil for none), marking current in its navigation.
func (s *Server) consolePage(c echo.Context, clinic *booking.Clinic, title, current string) views.ConsolePage {
	acc := staffFrom(c)
	p := views.ConsolePage{Title: title, Email: acc.Email, ClinicsLink: acc.Operator || len(acc.Clinics) > 1, PasskeysLink: s.passkeysOn(), Asset: s.assets.url}
	if clinic == nil {
		return p
	}
	p.ClinicName, p.ClinicSlug = clinic.Name, clinic.Slug
	base := "/console/" + clinic.Slug + "/"
	// A page is in the navigation only where it is served to this
	// account: Settings for those who may change them, Requests and Audit
	// where they are stored.
	requests, settings, audit := "", "", ""
	if s.console.Requests != nil {
		requests = "requests"
	}
	if s.console.Settings != nil {
		audit = "audit"
		if isClinicAdmin(acc, clinic.Slug) {
			settings = "settings"
		}
	}
	for _, n := range []struct{ label, path string }{
		{"Today", "today"}, {"Requests", requests}, {"Settings", settings}, {"Embed", "embed"}, {"Funnel", "funnel"}, {"Audit", audit},
	} {
		if n.path != "" {
			p.Nav = append(p.Nav, views.ConsoleNavItem{Label: n.label, URL: base + n.path, Current: n.label == current})
		}
	}
	if s.console.Team != nil && isClinicAdmin(acc, clinic.Slug) {
		p.Nav = append(p.Nav, views.ConsoleNavItem{Label: "Staff", URL: base + "staff", Current: current == "Staff"})
	}
	return p
}
