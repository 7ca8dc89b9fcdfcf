package web

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/labstack/echo/v4"

	"github.com/clinic-booking/portal/internal/staff"
	"github.com/clinic-booking/portal/views"
)

// Passkeys, on top of the emailed link: a signed-in account adds a passkey
// (WebAuthn registration) on /console/account/passkeys, and the sign-in
// page offers "Sign in with a passkey" (a discoverable-credential
// assertion) where the browser can. The ceremonies are
// github.com/go-webauthn/webauthn's; the state between a ceremony's begin
// and its finish is kept in the database (StaffPasskeys), good once and for
// staff.PasskeyCeremonyTTL, so that the finish may reach any replica. The
// browser's half is static/js/passkeys.js (the console's CSP allows no
// inline script). Begin and finish are plain urlencoded POSTs from that
// script, refused cross-site like every form (server.go).

// StaffPasskeys keeps passkeys and ceremony state (staffstore.Adapter).
type StaffPasskeys interface {
	AddPasskey(ctx context.Context, p staff.Passkey) error
	Passkeys(ctx context.Context, accountID string) ([]staff.Passkey, error)
	Passkey(ctx context.Context, id []byte) (staff.Passkey, error) // staff.ErrNoPasskey
	UsePasskey(ctx context.Context, id []byte, signCount uint32, flags byte, cloneWarning bool, now time.Time) error
	RemovePasskey(ctx context.Context, accountID string, id []byte) (bool, error)
	PutCeremony(ctx context.Context, id, kind, accountID string, data []byte, expires time.Time) error
	TakeCeremony(ctx context.Context, id, kind string, now time.Time) (accountID string, data []byte, err error) // staff.ErrNoCeremony
}

const (
	passkeyRefused   = "That passkey didn't sign you in. Try again, or ask for a sign-in link by email below."
	passkeyStale     = "That took too long, or was already done. Please try again."
	passkeyUnread    = "Your browser's answer couldn't be read. Please try again."
	passkeyNotAdded  = "Your passkey couldn't be checked, so it was not added. Please try again."
	tooManyPasskeys  = "Too many passkey attempts from here. Please wait a minute, then try again."
	passkeyNameLimit = 60
	// passkeyTime is how the passkeys page shows when (an account may
	// span clinics in several zones, so UTC, said).
	passkeyTime = "2 Jan 2006, 15:04 UTC"
	// passkeyDefaultName names a passkey given no name.
	passkeyDefaultName = "Passkey"
)

// newRelyingParty is the WebAuthn relying party at publicURL: its RP ID is
// PUBLIC_URL's host name and its one origin PUBLIC_URL's scheme and host. A
// passkey is bound to that name, so without PUBLIC_URL (the demo) or with an
// IP address there (WebAuthn takes no IP addresses) there are no passkeys:
// nil, and the console offers none.
func newRelyingParty(publicURL string) (*webauthn.WebAuthn, error) {
	u, err := url.Parse(publicURL)
	if publicURL == "" || err != nil || u.Hostname() == "" || net.ParseIP(u.Hostname()) != nil {
		return nil, nil
	}
	wa, err := webauthn.New(&webauthn.Config{
		RPID:          u.Hostname(),
		RPDisplayName: "Clinic booking portal staff console",
		RPOrigins:     []string{u.Scheme + "://" + u.Host},
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Enforce: true, Timeout: staff.PasskeyCeremonyTTL, TimeoutUVD: staff.PasskeyCeremonyTTL},
			Registration: webauthn.TimeoutConfig{Enforce: true, Timeout: staff.PasskeyCeremonyTTL, TimeoutUVD: staff.PasskeyCeremonyTTL},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("web: passkeys for PUBLIC_URL: %w", err)
	}
	return wa, nil
}

// passkeysOn reports whether the console offers passkeys.
func (s *Server) passkeysOn() bool {
	return s.console != nil && s.console.relyingParty != nil && s.console.Passkeys != nil
}

// passkeyUser is an account as the WebAuthn library sees it: its user
// handle is the account id (random, no personal detail), its name the
// email the authenticator shows when asking which passkey to use.
type passkeyUser struct {
	acc  staff.Account
	keys []staff.Passkey
}

func (u passkeyUser) WebAuthnID() []byte          { return []byte(u.acc.ID) }
func (u passkeyUser) WebAuthnName() string        { return u.acc.Email }
func (u passkeyUser) WebAuthnDisplayName() string { return u.acc.Email }
func (u passkeyUser) WebAuthnCredentials() []webauthn.Credential {
	out := make([]webauthn.Credential, len(u.keys))
	for i, k := range u.keys {
		tr := make([]protocol.AuthenticatorTransport, len(k.Transports))
		for j, t := range k.Transports {
			tr[j] = protocol.AuthenticatorTransport(t)
		}
		out[i] = webauthn.Credential{
			ID: k.ID, PublicKey: k.PublicKey, AttestationType: k.Attestation, Transport: tr,
			Flags:         webauthn.CredentialFlagsFromMsgpByte(k.Flags),
			Authenticator: webauthn.Authenticator{AAGUID: k.AAGUID, SignCount: k.SignCount, CloneWarning: k.CloneWarning},
		}
	}
	return out
}

// passkeyAnswer is what the script is told: an error to show (next to
// Field when set), or where to go next.
type passkeyAnswer struct {
	Error    string `json:"error,omitempty"`
	Field    string `json:"field,omitempty"`
	Redirect string `json:"redirect,omitempty"`
}

func passkeyFail(c echo.Context, status int, msg string) error {
	return c.JSON(status, passkeyAnswer{Error: msg})
}

// limitPasskeys bounds the passkey ceremonies a connection may run, as the
// sign-in link requests are bounded.
func (s *Server) limitPasskeys(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !s.console.passkeysByIP.allow(c.RealIP()) {
			s.rateLimited(c)
			return passkeyFail(c, http.StatusTooManyRequests, tooManyPasskeys)
		}
		return next(c)
	}
}

// beginCeremony keeps the library's session data under a new random id
// and answers the options for navigator.credentials.
func (s *Server) beginCeremony(c echo.Context, kind, accountID string, sd *webauthn.SessionData, options any) error {
	data, err := json.Marshal(sd)
	if err != nil {
		return err
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	id := base64.RawURLEncoding.EncodeToString(b)
	if err := s.console.Passkeys.PutCeremony(c.Request().Context(), id, kind, accountID, data, s.console.now().Add(staff.PasskeyCeremonyTTL)); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"ceremony": id, "options": options})
}

// takeCeremony takes the ceremony the finish names; false (and the answer
// sent) when it is unknown, finished, expired or another account's.
func (s *Server) takeCeremony(c echo.Context, kind, accountID string) (webauthn.SessionData, bool, error) {
	owner, data, err := s.console.Passkeys.TakeCeremony(c.Request().Context(), c.FormValue("ceremony"), kind, s.console.now())
	if errors.Is(err, staff.ErrNoCeremony) || err == nil && owner != accountID {
		s.log.Info("console passkey ceremony refused: unknown, finished, expired or another's", "request_id", requestIDFrom(c), "kind", kind)
		return webauthn.SessionData{}, false, passkeyFail(c, http.StatusBadRequest, passkeyStale)
	}
	if err != nil {
		return webauthn.SessionData{}, false, err
	}
	var sd webauthn.SessionData
	if err := json.Unmarshal(data, &sd); err != nil {
		return webauthn.SessionData{}, false, err
	}
	return sd, true, nil
}

// passkeyName reads the name typed for a new passkey.
func passkeyName(c echo.Context) (string, string) {
	name := strings.Join(strings.Fields(c.FormValue("name")), " ")
	if name == "" {
		return passkeyDefaultName, ""
	}
	if utf8.RuneCountInString(name) > passkeyNameLimit {
		return "", fmt.Sprintf("Give the passkey a name of at most %d characters", passkeyNameLimit)
	}
	return name, ""
}

// passkeysPage lists the account's passkeys, with Add and Remove.
func (s *Server) passkeysPage(c echo.Context) error {
	acc := staffFrom(c)
	keys, err := s.console.Passkeys.Passkeys(c.Request().Context(), acc.ID)
	if err != nil {
		return err
	}
	m := views.ConsolePasskeysPage{ConsolePage: s.consolePage(c, nil, "Your passkeys", "")}
	for _, k := range keys {
		row := views.PasskeyRow{
			Name: k.Name, Created: k.CreatedAt.UTC().Format(passkeyTime), CloneWarning: k.CloneWarning,
			RemoveURL: "/console/account/passkeys/" + base64.RawURLEncoding.EncodeToString(k.ID) + "/remove",
		}
		if !k.LastUsed.IsZero() {
			row.LastUsed = k.LastUsed.UTC().Format(passkeyTime)
		}
		m.Passkeys = append(m.Passkeys, row)
	}
	switch c.QueryParam("done") {
	case "added":
		m.Notice = "Your passkey was added. Next time, choose \"Sign in with a passkey\" on the sign-in page."
	case "removed":
		m.Notice = "The passkey was removed. It no longer signs you in."
	}
	return render(c, http.StatusOK, views.ConsolePasskeysView(m))
}

// beginAddPasskey starts a registration for the signed-in account: a
// discoverable credential (so that sign-in needs no email typed), none of
// the account's passkeys again. User verification is required (a PIN,
// fingerprint or face, not only a touch): a passkey is the whole sign-in,
// with no password beside it, so a key found on a desk must not be enough.
func (s *Server) beginAddPasskey(c echo.Context) error {
	if _, msg := passkeyName(c); msg != "" {
		return c.JSON(http.StatusUnprocessableEntity, passkeyAnswer{Error: msg, Field: "name"})
	}
	acc := staffFrom(c)
	keys, err := s.console.Passkeys.Passkeys(c.Request().Context(), acc.ID)
	if err != nil {
		return err
	}
	user := passkeyUser{acc: acc, keys: keys}
	yes := true
	options, sd, err := s.console.relyingParty.BeginRegistration(user,
		webauthn.WithExclusions(webauthn.Credentials(user.WebAuthnCredentials()).CredentialDescriptors()),
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
			RequireResidentKey: &yes, ResidentKey: protocol.ResidentKeyRequirementRequired,
			UserVerification: protocol.VerificationRequired,
		}))
	if err != nil {
		return err
	}
	return s.beginCeremony(c, staff.CeremonyRegister, acc.ID, sd, options.Response)
}

// finishAddPasskey checks the authenticator's answer against the ceremony
// and keeps the new passkey.
func (s *Server) finishAddPasskey(c echo.Context) error {
	name, msg := passkeyName(c)
	if msg != "" {
		return c.JSON(http.StatusUnprocessableEntity, passkeyAnswer{Error: msg, Field: "name"})
	}
	acc := staffFrom(c)
	sd, ok, err := s.takeCeremony(c, staff.CeremonyRegister, acc.ID)
	if !ok {
		return err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes([]byte(c.FormValue("credential")))
	if err != nil {
		s.log.Info("console passkey not added: answer unreadable", "request_id", requestIDFrom(c), "account", acc.ID)
		return passkeyFail(c, http.StatusBadRequest, passkeyUnread)
	}
	keys, err := s.console.Passkeys.Passkeys(c.Request().Context(), acc.ID)
	if err != nil {
		return err
	}
	cred, err := s.console.relyingParty.CreateCredential(passkeyUser{acc: acc, keys: keys}, sd, parsed)
	if err != nil {
		s.log.Info("console passkey not added: not verified", "request_id", requestIDFrom(c), "account", acc.ID, "err", err)
		return passkeyFail(c, http.StatusBadRequest, passkeyNotAdded)
	}
	tr := make([]string, len(cred.Transport))
	for i, t := range cred.Transport {
		tr[i] = string(t)
	}
	err = s.console.Passkeys.AddPasskey(c.Request().Context(), staff.Passkey{
		ID: cred.ID, AccountID: acc.ID, Name: name, PublicKey: cred.PublicKey, Attestation: cred.AttestationType,
		AAGUID: cred.Authenticator.AAGUID, Transports: tr, Flags: cred.Flags.MsgpByte(), SignCount: cred.Authenticator.SignCount,
	})
	if errors.Is(err, staff.ErrPasskeyTaken) {
		// The options excluded the account's own; an authenticator that
		// ignored that, or one already another account's, is not added.
		s.log.Info("console passkey not added: credential id kept already", "request_id", requestIDFrom(c), "account", acc.ID)
		return passkeyFail(c, http.StatusBadRequest, passkeyNotAdded)
	}
	if err != nil {
		return err
	}
	s.log.Info("console passkey added", "request_id", requestIDFrom(c), "account", acc.ID)
	return c.JSON(http.StatusOK, passkeyAnswer{Redirect: "/console/account/passkeys?done=added"})
}

// removePasskey removes one of the account's own passkeys.
func (s *Server) removePasskey(c echo.Context) error {
	acc := staffFrom(c)
	id, err := base64.RawURLEncoding.DecodeString(c.Param("id"))
	if err != nil {
		return s.consoleNotFound(c)
	}
	removed, err := s.console.Passkeys.RemovePasskey(c.Request().Context(), acc.ID, id)
	if err != nil {
		return err
	}
	if !removed {
		return s.consoleNotFound(c)
	}
	s.log.Info("console passkey removed", "request_id", requestIDFrom(c), "account", acc.ID)
	return c.Redirect(http.StatusSeeOther, "/console/account/passkeys?done=removed")
}

// beginPasskeySignIn starts a sign-in with a discoverable credential: the
// browser offers the passkeys it has for this site, no email typed. As
// when it was added, the passkey must verify the person (the library then
// refuses an assertion without the UV flag).
func (s *Server) beginPasskeySignIn(c echo.Context) error {
	options, sd, err := s.console.relyingParty.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return err
	}
	return s.beginCeremony(c, staff.CeremonySignIn, "", sd, options.Response)
}

// errPasskeyNoSignIn is why a passkey found signs no one in; the person is
// told only passkeyRefused, whatever the reason.
var errPasskeyNoSignIn = errors.New("passkey signs no one in")

// finishPasskeySignIn checks the assertion and, when it holds, signs its
// account in with a new session, exactly as a sign-in link does (so in the
// account's current epoch). A passkey unknown, of a removed account or one
// without access, or marked as copied, signs no one in, and the answer is
// the same for all: it says nothing of which accounts exist.
func (s *Server) finishPasskeySignIn(c echo.Context) error {
	ctx := c.Request().Context()
	sd, ok, err := s.takeCeremony(c, staff.CeremonySignIn, "")
	if !ok {
		return err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes([]byte(c.FormValue("credential")))
	if err != nil {
		s.log.Info("console passkey sign-in refused: answer unreadable", "request_id", requestIDFrom(c))
		return passkeyFail(c, http.StatusBadRequest, passkeyRefused)
	}
	var (
		acc staff.Account
		// lookupErr is the look-up's own error: the library wraps it into
		// a refusal, but a database failing is no refusal.
		lookupErr error
	)
	lookup := func(rawID, userHandle []byte) (webauthn.User, error) {
		key, err := s.console.Passkeys.Passkey(ctx, rawID)
		if err != nil {
			return nil, err
		}
		if key.AccountID != string(userHandle) || key.CloneWarning {
			return nil, errPasskeyNoSignIn
		}
		if acc, err = s.console.Accounts.Account(ctx, key.AccountID); err != nil {
			return nil, err
		}
		if !acc.HasAccess() {
			return nil, errPasskeyNoSignIn
		}
		keys, err := s.console.Passkeys.Passkeys(ctx, acc.ID)
		if err != nil {
			return nil, err
		}
		return passkeyUser{acc: acc, keys: keys}, nil
	}
	user := func(rawID, userHandle []byte) (webauthn.User, error) {
		u, err := lookup(rawID, userHandle)
		lookupErr = err
		return u, err
	}
	_, cred, err := s.console.relyingParty.ValidatePasskeyLogin(user, sd, parsed)
	if lookupErr != nil && !errors.Is(lookupErr, staff.ErrNoPasskey) && !errors.Is(lookupErr, staff.ErrNoAccount) && !errors.Is(lookupErr, errPasskeyNoSignIn) {
		// The error page (500) and its log, as for any handler's failure.
		return fmt.Errorf("passkey sign-in look-up: %w", lookupErr)
	}
	if err != nil {
		s.log.Info("console passkey sign-in refused", "request_id", requestIDFrom(c), "reason", passkeyRefusal(err))
		return passkeyFail(c, http.StatusUnauthorized, passkeyRefused)
	}
	clone := cred.Authenticator.CloneWarning
	err = s.console.Passkeys.UsePasskey(ctx, cred.ID, cred.Authenticator.SignCount, cred.Flags.MsgpByte(), clone, s.console.now())
	switch {
	case errors.Is(err, staff.ErrPasskeyCounter), errors.Is(err, staff.ErrNoPasskey):
		// Another sign-in with this passkey was recorded between the
		// look-up and now (its count past this one's), or the passkey was
		// removed: no sign-in, and no copy to mark.
		s.log.Info("console passkey sign-in refused", "request_id", requestIDFrom(c), "reason", "another sign-in with the passkey came first, or it was removed")
		return passkeyFail(c, http.StatusUnauthorized, passkeyRefused)
	case err != nil:
		return err
	}
	if clone {
		// The signature counter went backwards: another copy of the key
		// has signed since. It signs no one in from now on.
		s.log.Warn("console passkey refused: signature counter went backwards (a copied key?)", "request_id", requestIDFrom(c), "account", acc.ID)
		return passkeyFail(c, http.StatusUnauthorized, passkeyRefused)
	}
	s.startStaffSession(c, acc)
	s.log.Info("console signed in", "request_id", requestIDFrom(c), "account", acc.ID, "with", "passkey")
	return c.JSON(http.StatusOK, passkeyAnswer{Redirect: "/console"})
}

// passkeyRefusal says in a few words why an assertion was refused, for the
// log; the library's own words may quote what the browser sent.
func passkeyRefusal(err error) string {
	switch {
	case errors.Is(err, staff.ErrNoPasskey):
		return "unknown passkey"
	case errors.Is(err, staff.ErrNoAccount):
		return "account removed"
	case errors.Is(err, errPasskeyNoSignIn):
		return "passkey of another account, marked copied, or account without access"
	}
	var pe *protocol.Error
	if errors.As(err, &pe) {
		return "not verified: " + pe.Type
	}
	return "not verified"
}
