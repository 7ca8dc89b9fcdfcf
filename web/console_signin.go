package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/clinic-booking/portal/internal/staff"
	"github.com/clinic-booking/portal/views"
)

// Passwordless sign-in: the sign-in page takes an email address and, when
// it has an account, sends a one-time link; the link's page has a button
// that signs in (a POST), so that a mail scanner fetching the link does not
// use it up. What the page answers never depends on whether the address
// has an account.

const (
	linkSentMessage  = "If that address has a staff console account, a sign-in link is on its way to it. The link works once, within 15 minutes."
	tooManyLinks     = "Too many sign-in links have been asked for from here or for that address. Please wait a few minutes, then try again."
	signedOutMessage = "You have signed out."
	signedOutAll     = "You have signed out on every device."
	// passkeysStay follows it where passkeys sign in: a lost phone's
	// passkey still would.
	passkeysStay = "Passkeys still sign you in: if you lost a device with one, sign in and remove its passkey under Your passkeys."
)

func (s *Server) signInPage(c echo.Context, status int, m views.SignInPage) error {
	m.ConsolePage = views.ConsolePage{Title: "Sign in", Asset: s.assets.url}
	m.Passkey = s.passkeysOn()
	if len(m.Errors) > 0 {
		m.Title = "Error: Sign in"
	}
	return render(c, status, views.SignInView(m))
}

// signInForm shows the sign-in page; a signed-in person goes to the console.
func (s *Server) signInForm(c echo.Context) error {
	if _, ok := s.readStaffSession(c); ok {
		return c.Redirect(http.StatusSeeOther, "/console")
	}
	m := views.SignInPage{}
	switch c.QueryParam("done") {
	case "signed-out":
		m.Notice = signedOutMessage
	case "everywhere":
		m.Notice = signedOutAll
		if s.passkeysOn() {
			m.Notice += " " + passkeysStay
		}
	}
	return s.signInPage(c, http.StatusOK, m)
}

// sendSignInLink issues a link to the address typed, if it has an account.
func (s *Server) sendSignInLink(c echo.Context) error {
	typed := c.FormValue("email")
	email, err := staff.NormaliseEmail(typed)
	if err != nil {
		return s.signInPage(c, http.StatusUnprocessableEntity, views.SignInPage{
			Email:  typed,
			Errors: []views.FieldError{{Field: "email", Message: "Enter your email address in the format name@example.com"}},
		})
	}
	if !s.console.byIP.allow(c.RealIP()) || !s.console.byAddress.allow(addressKey(email)) {
		s.rateLimited(c)
		return s.signInPage(c, http.StatusTooManyRequests, views.SignInPage{Email: typed, Notice: tooManyLinks})
	}
	s.issueSignInLink(c, email)
	return s.signInPage(c, http.StatusOK, views.SignInPage{Sent: true, Notice: linkSentMessage})
}

// Issuing a link takes a look-up, a link written and a message queued for
// an account, and nothing for an address without one: done before the
// answer, how long the answer took would tell which addresses have
// accounts. So it is done after, off the request path, a few at a time and
// each within a time limit. A link lost to a crash is one the person asks
// for again, so this is not outbox work.
const (
	// linksIssuedAtOnce bounds the links being issued; more requests at
	// once (the per-address and per-connection limits passed) wait
	// linkSlotWait for a free one, then are dropped and logged.
	linksIssuedAtOnce = 8
	// linkSlotWait is how long a request waits for one of those before
	// its link is dropped.
	linkSlotWait = 2 * time.Second
	// linkIssueTimeout bounds issuing one link.
	linkIssueTimeout = 30 * time.Second
)

// linkIssuer runs the issuing of sign-in links.
type linkIssuer struct {
	slots   chan struct{}
	running sync.WaitGroup
	// draining is set by Drain: no link is started after it (a
	// WaitGroup's Add must not race its Wait from zero).
	mu       sync.Mutex
	draining bool
}

// start counts one link in, false once draining.
func (is *linkIssuer) start() bool {
	is.mu.Lock()
	defer is.mu.Unlock()
	if is.draining {
		return false
	}
	is.running.Add(1)
	return true
}

func newLinkIssuer() *linkIssuer {
	return &linkIssuer{slots: make(chan struct{}, linksIssuedAtOnce)}
}

// Drain waits until the sign-in links being issued have been issued (or
// not: an address with no account), or until ctx ends. It is for shutdown,
// after the server has stopped taking requests and before the database
// closes, so a link asked for just before is not lost.
func (s *Server) Drain(ctx context.Context) error {
	if s.console == nil {
		return nil
	}
	is := s.console.issuer
	is.mu.Lock()
	is.draining = true
	is.mu.Unlock()
	done := make(chan struct{})
	go func() { is.running.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("sign-in links still being issued: %w", ctx.Err())
	}
}

// issueSignInLink looks email up and, when it has an account, makes and
// sends its link, in the background: the answer does not wait for it or
// depend on it (only, in a burst, for a free slot, whoever asks). Its logs
// name neither the address nor the link.
func (s *Server) issueSignInLink(c echo.Context, email string) {
	is := s.console.issuer
	rid := requestIDFrom(c)
	// A burst waits a moment for a slot (the database slow for a few
	// seconds), whoever asks: the wait says nothing of accounts.
	wait := time.NewTimer(linkSlotWait)
	defer wait.Stop()
	select {
	case is.slots <- struct{}{}:
	case <-wait.C:
		s.log.Error("console sign-in link not issued: too many being issued at once; the person asks again", "request_id", rid)
		return
	case <-c.Request().Context().Done():
		s.log.Info("console sign-in link not issued: the browser left while it waited for a slot", "request_id", rid)
		return
	}
	if !is.start() {
		<-is.slots
		s.log.Warn("console sign-in link not issued: the server is shutting down", "request_id", rid)
		return
	}
	base := s.portalBase(c)
	// The request's values (its id, for the logs) without its end.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request().Context()), linkIssueTimeout)
	go func() {
		defer func() {
			cancel()
			<-is.slots
			is.running.Done()
		}()
		token, err := s.console.Accounts.LinkFor(ctx, email)
		if errors.Is(err, staff.ErrNoAccount) {
			return
		}
		if err == nil {
			err = s.console.Mailer.SendSignInLink(ctx, email, base+"/console/sign-in/"+token)
		}
		if err != nil {
			s.log.Error("console sign-in link not issued", "request_id", rid, "err", err)
		}
	}()
}

// addressKey is what the per-address limit counts by: a hash, so that the
// limiter's memory holds no addresses.
func addressKey(email string) string {
	h := sha256.Sum256([]byte(email))
	return "email:" + hex.EncodeToString(h[:16])
}

// signInLink is what a sign-in link opens: a button that signs in, or, for
// a link used, expired or mangled, a way to get a new one.
func (s *Server) signInLink(c echo.Context) error {
	usable, err := s.console.Accounts.LinkUsable(c.Request().Context(), c.Param("token"))
	if err != nil {
		return err
	}
	m := views.SignInLinkPage{ConsolePage: views.ConsolePage{Title: "Sign in", Asset: s.assets.url}}
	status := http.StatusOK
	if usable {
		m.Action = "/console/sign-in/" + c.Param("token")
	} else {
		m.Title = "This sign-in link can't be used"
		status = http.StatusNotFound
	}
	return render(c, status, views.SignInLinkView(m))
}

// useSignInLink signs in with the link, once, in a new session.
func (s *Server) useSignInLink(c echo.Context) error {
	acc, err := s.console.Accounts.UseLink(c.Request().Context(), c.Param("token"))
	if errors.Is(err, staff.ErrBadLink) {
		s.log.Info("console sign-in link refused", "request_id", requestIDFrom(c))
		return render(c, http.StatusNotFound, views.SignInLinkView(views.SignInLinkPage{
			ConsolePage: views.ConsolePage{Title: "This sign-in link can't be used", Asset: s.assets.url},
		}))
	}
	if err != nil {
		return err
	}
	s.startStaffSession(c, acc)
	s.log.Info("console signed in", "request_id", requestIDFrom(c), "account", acc.ID)
	return c.Redirect(http.StatusSeeOther, "/console")
}

// signOut ends this browser's session, in the database too, so that a copy
// of its cookie opens nothing on any replica.
func (s *Server) signOut(c echo.Context) error {
	if sess, ok := s.readStaffSession(c); ok {
		if err := s.console.Accounts.EndSession(c.Request().Context(), sess.SID, sess.Since.Add(consoleLifetime), s.console.now()); err != nil {
			return err
		}
		s.log.Info("console signed out", "request_id", requestIDFrom(c), "account", sess.AccountID)
	}
	s.endStaffSession(c)
	return c.Redirect(http.StatusSeeOther, "/console/sign-in?done=signed-out")
}

// signOutEverywhere ends every session of the account, on every device and
// replica, by moving its epoch.
func (s *Server) signOutEverywhere(c echo.Context) error {
	acc := staffFrom(c)
	if err := s.console.Accounts.SignOutEverywhere(c.Request().Context(), acc.ID); err != nil {
		return err
	}
	s.endStaffSession(c)
	s.log.Info("console signed out everywhere", "request_id", requestIDFrom(c), "account", acc.ID)
	return c.Redirect(http.StatusSeeOther, "/console/sign-in?done=everywhere")
}
