package web_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-webauthn/webauthn/protocol/webauthncbor"
	"github.com/go-webauthn/webauthn/protocol/webauthncose"

	"github.com/clinic-booking/portal/internal/booking/bookingstore"
	"github.com/clinic-booking/portal/internal/staff"
	"github.com/clinic-booking/portal/internal/staff/staffstore"
	"github.com/clinic-booking/portal/web"
)

// softAuthenticator is a passkey authenticator in software, as the
// WebAuthn spec describes one (ES256, "none" attestation, a resident key),
// so that the handlers' tests run whole ceremonies through the real
// go-webauthn checks. The browser test does the same with Chromium's.
type softAuthenticator struct {
	t      *testing.T
	origin string
	rpID   string
	key    *ecdsa.PrivateKey
	credID []byte
	user   []byte // the user handle registration gave
	count  uint32
	// presenceOnly makes it a key without a PIN or biometric: its answers
	// say the person touched it (UP) but was not verified (no UV).
	presenceOnly bool
}

var b64 = base64.RawURLEncoding

func newSoftAuthenticator(t *testing.T) *softAuthenticator {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	return &softAuthenticator{t: t, origin: "https://book.example-clinic.com.au", rpID: "book.example-clinic.com.au", key: key, credID: id}
}

func (a *softAuthenticator) clientData(kind, challenge string) []byte {
	b, _ := json.Marshal(map[string]any{"type": kind, "challenge": challenge, "origin": a.origin, "crossOrigin": false})
	return b
}

func (a *softAuthenticator) authData(flags byte, attested []byte) []byte {
	if a.presenceOnly {
		flags &^= 0x04 // UV
	}
	h := sha256.Sum256([]byte(a.rpID))
	out := append(h[:], flags)
	out = binary.BigEndian.AppendUint32(out, a.count)
	return append(out, attested...)
}

// create answers registration options as navigator.credentials.create
// would, in the JSON passkeys.js posts.
func (a *softAuthenticator) create(options json.RawMessage) string {
	a.t.Helper()
	var o struct {
		Challenge string `json:"challenge"`
		User      struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	if err := json.Unmarshal(options, &o); err != nil {
		a.t.Fatal(err)
	}
	a.user, _ = b64.DecodeString(o.User.ID)
	pub, err := a.key.PublicKey.ECDH()
	if err != nil {
		a.t.Fatal(err)
	}
	raw := pub.Bytes() // 0x04 || X || Y
	cose, err := webauthncbor.Marshal(webauthncose.EC2PublicKeyData{
		PublicKeyData: webauthncose.PublicKeyData{KeyType: int64(webauthncose.EllipticKey), Algorithm: int64(webauthncose.AlgES256)},
		Curve:         1, XCoord: raw[1:33], YCoord: raw[33:],
	})
	if err != nil {
		a.t.Fatal(err)
	}
	attested := make([]byte, 16) // AAGUID: none
	attested = binary.BigEndian.AppendUint16(attested, uint16(len(a.credID)))
	attested = append(append(attested, a.credID...), cose...)
	// UP, UV (unless presenceOnly), AT.
	obj, err := webauthncbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": a.authData(0x45, attested)})
	if err != nil {
		a.t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]any{
		"id": b64.EncodeToString(a.credID), "rawId": b64.EncodeToString(a.credID), "type": "public-key",
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(a.clientData("webauthn.create", o.Challenge)),
			"attestationObject": b64.EncodeToString(obj), "transports": []string{"internal"},
		},
	})
	return string(b)
}

// get answers sign-in options as navigator.credentials.get would, its
// signature counter moved by step (0: a copy that has not seen the last
// use).
func (a *softAuthenticator) get(options json.RawMessage, step uint32) string {
	a.t.Helper()
	var o struct {
		Challenge string `json:"challenge"`
	}
	if err := json.Unmarshal(options, &o); err != nil {
		a.t.Fatal(err)
	}
	a.count += step
	data := a.authData(0x05, nil) // UP, UV (unless presenceOnly)
	cd := a.clientData("webauthn.get", o.Challenge)
	h := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, data...), h[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, a.key, digest[:])
	if err != nil {
		a.t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]any{
		"id": b64.EncodeToString(a.credID), "rawId": b64.EncodeToString(a.credID), "type": "public-key",
		"response": map[string]any{
			"clientDataJSON": b64.EncodeToString(cd), "authenticatorData": b64.EncodeToString(data),
			"signature": b64.EncodeToString(sig), "userHandle": b64.EncodeToString(a.user),
		},
	})
	return string(b)
}

// addPasskey runs a whole registration for the session cookie.
func (ch *consoleHarness) addPasskey(cookie string, a *softAuthenticator, name string) begun {
	ch.t.Helper()
	p, _ := ch.send(http.MethodPost, "/console/account/passkeys/begin", cookie, url.Values{"name": {name}})
	b := readBegun(ch.t, p)
	if b.Ceremony == "" {
		ch.t.Fatalf("begin: %d %s", p.Status, p.Body)
	}
	p, _ = ch.send(http.MethodPost, "/console/account/passkeys/finish", cookie, url.Values{"name": {name}, "ceremony": {b.Ceremony}, "credential": {a.create(b.Options)}})
	return readBegun(ch.t, p)
}

// passkeySignIn runs a whole sign-in with cookie (the browser's, maybe
// none); it returns the answer and the cookie set.
func (ch *consoleHarness) passkeySignIn(cookie string, a *softAuthenticator, step uint32) (int, begun, string) {
	ch.t.Helper()
	p, _ := ch.send(http.MethodPost, "/console/sign-in/passkey/begin", cookie, nil)
	b := readBegun(ch.t, p)
	p, set := ch.send(http.MethodPost, "/console/sign-in/passkey/finish", cookie, url.Values{"ceremony": {b.Ceremony}, "credential": {a.get(b.Options, step)}})
	return p.Status, readBegun(ch.t, p), set
}

func TestPasskeyCeremoniesWhole(t *testing.T) {
	ch := newPasskeyHarness(t)
	ch.addStaff("reception@demo.example", "demo", staff.RoleStaff, false)
	cookie := ch.signIn("reception@demo.example")
	key := newSoftAuthenticator(t)
	if b := ch.addPasskey(cookie, key, "  Front   desk PC "); b.Redirect != "/console/account/passkeys?done=added" {
		t.Fatalf("add: %+v", b)
	}
	p, _ := ch.send(http.MethodGet, "/console/account/passkeys", cookie, nil)
	if !strings.Contains(p.Text(), "Front desk PC") || !strings.Contains(p.Text(), "Never") {
		t.Errorf("passkeys page after adding: %q", p.Text())
	}
	// The same authenticator cannot be added twice: the options exclude it.
	p, _ = ch.send(http.MethodPost, "/console/account/passkeys/begin", cookie, url.Values{"name": {"Again"}})
	if b := readBegun(t, p); !strings.Contains(string(b.Options), b64.EncodeToString(key.credID)) {
		t.Errorf("registration options do not exclude the passkey there is: %s", b.Options)
	}

	// Signing in with it: a new session (the planted cookie is not it).
	st, b, set := ch.passkeySignIn("planted-cookie", key, 1)
	if st != http.StatusOK || b.Redirect != "/console" || set == "" || set == "-" || set == cookie {
		t.Fatalf("passkey sign-in: %d %+v, cookie set %v", st, b, set != "")
	}
	if p, _ := ch.send(http.MethodGet, "/console/demo/today", set, nil); p.Status != http.StatusOK {
		t.Errorf("the passkey's session opens Today: %d", p.Status)
	}
	// Sign out everywhere ends it; the passkey still signs in, in the new epoch.
	if p, _ := ch.send(http.MethodPost, "/console/sign-out-everywhere", set, nil); p.Status != http.StatusSeeOther {
		t.Fatalf("sign out everywhere: %d", p.Status)
	}
	if p, _ := ch.send(http.MethodGet, "/console/demo/today", set, nil); p.Status != http.StatusSeeOther {
		t.Errorf("a session before sign out everywhere still opens Today: %d", p.Status)
	}
	st, _, again := ch.passkeySignIn("", key, 1)
	if p, _ := ch.send(http.MethodGet, "/console/demo/today", again, nil); st != http.StatusOK || p.Status != http.StatusOK {
		t.Errorf("after sign out everywhere the passkey signs in: %d, Today %d", st, p.Status)
	}

	// A copy: its counter has not moved since the last use. Refused, and
	// marked on the page; from then on the passkey signs no one in.
	st, b, set = ch.passkeySignIn("", key, 0)
	if st != http.StatusUnauthorized || b.Error != "That passkey didn't sign you in. Try again, or ask for a sign-in link by email below." || set != "" {
		t.Errorf("clone: %d %+v, cookie set %v", st, b, set != "")
	}
	if st, _, _ := ch.passkeySignIn("", key, 5); st != http.StatusUnauthorized {
		t.Errorf("a passkey marked copied signed in: %d", st)
	}
	p, _ = ch.send(http.MethodGet, "/console/account/passkeys", again, nil)
	if !strings.Contains(p.Text(), "looks copied") {
		t.Errorf("the passkeys page does not mark the copied passkey: %q", p.Text())
	}
	logs := ch.logs.String()
	if !strings.Contains(logs, "signature counter went backwards") {
		t.Error("the clone warning was not logged")
	}
	if strings.Contains(logs, "reception@demo.example") {
		t.Error("the logs name the person")
	}
}

func TestPasskeyOfAnAccountWithoutAccessSignsNoOneIn(t *testing.T) {
	ch := newPasskeyHarness(t)
	ch.addStaff("reception@demo.example", "demo", staff.RoleStaff, false)
	cookie := ch.signIn("reception@demo.example")
	key := newSoftAuthenticator(t)
	if b := ch.addPasskey(cookie, key, "Laptop"); b.Redirect == "" {
		t.Fatalf("add: %+v", b)
	}
	// Out of its only clinic: the account is there, with no access.
	if _, err := ch.accounts.Remove(t.Context(), "reception@demo.example", "demo"); err != nil {
		t.Fatal(err)
	}
	if st, b, set := ch.passkeySignIn("", key, 1); st != http.StatusUnauthorized || b.Redirect != "" || set != "" {
		t.Errorf("without access: %d %+v", st, b)
	}
	// Removed altogether: its passkeys went with it.
	if _, err := ch.accounts.Remove(t.Context(), "reception@demo.example", ""); err != nil {
		t.Fatal(err)
	}
	st, unknownAccount, set := ch.passkeySignIn("", key, 1)
	if st != http.StatusUnauthorized || set != "" {
		t.Errorf("removed account: %d", st)
	}
	// And the answer is the one an unknown passkey gets.
	if st2, unknown, _ := ch.passkeySignIn("", newSoftAuthenticator(t), 1); st2 != st || unknown.Error != unknownAccount.Error || unknown.Error == "" {
		t.Errorf("a removed account's passkey is answered %d %+v, an unknown one %d %+v", st, unknownAccount, st2, unknown)
	}
}

// A passkey must verify the person (PIN, fingerprint, face), not only see
// a touch: a security key without a PIN is neither added nor signs in.
func TestPasskeyWithoutUserVerificationIsRefused(t *testing.T) {
	ch := newPasskeyHarness(t)
	ch.addStaff("reception@demo.example", "demo", staff.RoleStaff, false)
	cookie := ch.signIn("reception@demo.example")

	touchOnly := newSoftAuthenticator(t)
	touchOnly.presenceOnly = true
	if b := ch.addPasskey(cookie, touchOnly, "Key without PIN"); b.Error != "Your passkey couldn't be checked, so it was not added. Please try again." || b.Redirect != "" {
		t.Errorf("presence-only registration: %+v", b)
	}
	if p, _ := ch.send(http.MethodGet, "/console/account/passkeys", cookie, nil); !strings.Contains(p.Text(), "You have no passkeys yet") {
		t.Errorf("a presence-only passkey was kept: %q", p.Text())
	}

	// Added with verification, then answering with a touch only.
	key := newSoftAuthenticator(t)
	if b := ch.addPasskey(cookie, key, "Laptop"); b.Redirect == "" {
		t.Fatalf("add: %+v", b)
	}
	key.presenceOnly = true
	if st, b, set := ch.passkeySignIn("", key, 1); st != http.StatusUnauthorized || b.Redirect != "" || set != "" {
		t.Errorf("presence-only assertion: %d %+v, cookie set %v", st, b, set != "")
	}
	key.presenceOnly = false
	if st, b, _ := ch.passkeySignIn("", key, 1); st != http.StatusOK {
		t.Errorf("the same key verifying the person: %d %+v", st, b)
	}
}

// failingPasskeys is the passkeys' store with its look-up by credential id
// failing while fail is set, as a database down would; with overtaken set,
// another sign-in with the same passkey (a higher count) is recorded just
// before each sign-in's own.
type failingPasskeys struct {
	web.StaffPasskeys
	fail, overtaken atomic.Bool
}

func (f *failingPasskeys) UsePasskey(ctx context.Context, id []byte, signCount uint32, flags byte, clone bool, now time.Time) error {
	if f.overtaken.Load() {
		if err := f.StaffPasskeys.UsePasskey(ctx, id, signCount+1, flags, false, now); err != nil {
			return err
		}
	}
	return f.StaffPasskeys.UsePasskey(ctx, id, signCount, flags, clone, now)
}

func (f *failingPasskeys) Passkey(ctx context.Context, id []byte) (staff.Passkey, error) {
	if f.fail.Load() {
		return staff.Passkey{}, errors.New("database is down")
	}
	return f.StaffPasskeys.Passkey(ctx, id)
}

// A database failing during the sign-in's look-up is the portal's fault,
// not a refusal of the passkey: a 500 and an error in the log naming it.
func TestPasskeySignInLookUpFailingIsAnErrorNotARefusal(t *testing.T) {
	fp := &failingPasskeys{}
	ch := newConsoleHarness(t, func(c *web.Config) {
		c.PublicURL = "https://book.example-clinic.com.au"
		fp.StaffPasskeys = staffstore.New(c.Console.Bookings.(bookingstore.Adapter).S)
		c.Console.Passkeys = fp
	})
	ch.addStaff("reception@demo.example", "demo", staff.RoleStaff, false)
	cookie := ch.signIn("reception@demo.example")
	key := newSoftAuthenticator(t)
	if b := ch.addPasskey(cookie, key, "Laptop"); b.Redirect == "" {
		t.Fatalf("add: %+v", b)
	}
	fp.fail.Store(true)
	p, _ := ch.send(http.MethodPost, "/console/sign-in/passkey/begin", "", nil)
	b := readBegun(t, p)
	p, set := ch.send(http.MethodPost, "/console/sign-in/passkey/finish", "", url.Values{"ceremony": {b.Ceremony}, "credential": {key.get(b.Options, 1)}})
	if p.Status != http.StatusInternalServerError || set != "" || strings.Contains(p.Body, "didn't sign you in") || strings.Contains(p.Body, "database is down") {
		t.Errorf("look-up failing: %d, cookie set %v: %.300s", p.Status, set != "", p.Body)
	}
	if logs := ch.logs.String(); !strings.Contains(logs, "request failed") || !strings.Contains(logs, "database is down") {
		t.Errorf("the failure is not logged as one: %s", logs)
	}
	// Back up, the same passkey signs in.
	fp.fail.Store(false)
	if st, b, _ := ch.passkeySignIn("", key, 1); st != http.StatusOK {
		t.Errorf("after the database is back: %d %+v", st, b)
	}
}

// Two sign-ins with one passkey at once: the one whose count is recorded
// second, and is not past the other's, signs no one in, and the passkey is
// not marked copied for it.
func TestPasskeySignInOvertakenByAnotherIsRefused(t *testing.T) {
	fp := &failingPasskeys{}
	ch := newConsoleHarness(t, func(c *web.Config) {
		c.PublicURL = "https://book.example-clinic.com.au"
		fp.StaffPasskeys = staffstore.New(c.Console.Bookings.(bookingstore.Adapter).S)
		c.Console.Passkeys = fp
	})
	ch.addStaff("reception@demo.example", "demo", staff.RoleStaff, false)
	cookie := ch.signIn("reception@demo.example")
	key := newSoftAuthenticator(t)
	if b := ch.addPasskey(cookie, key, "Laptop"); b.Redirect == "" {
		t.Fatalf("add: %+v", b)
	}
	fp.overtaken.Store(true)
	if st, b, set := ch.passkeySignIn("", key, 1); st != http.StatusUnauthorized || b.Error != "That passkey didn't sign you in. Try again, or ask for a sign-in link by email below." || set != "" {
		t.Errorf("overtaken sign-in: %d %+v, cookie set %v", st, b, set != "")
	}
	fp.overtaken.Store(false)
	key.count++ // the other sign-in's use
	if st, b, _ := ch.passkeySignIn("", key, 1); st != http.StatusOK {
		t.Errorf("the next sign-in: %d %+v", st, b)
	}
	if p, _ := ch.send(http.MethodGet, "/console/account/passkeys", cookie, nil); strings.Contains(p.Text(), "looks copied") {
		t.Error("the passkey was marked copied")
	}
}

// A credential id kept already, another account's or the same one's (an
// authenticator ignoring the exclusions), is not added: a 400 with the
// plain message, not a 500 from the primary key.
func TestPasskeyAlreadyKeptIsNotAddedAgain(t *testing.T) {
	ch := newPasskeyHarness(t)
	ch.addStaff("reception@demo.example", "demo", staff.RoleStaff, false)
	ch.addStaff("other@demo.example", "demo", staff.RoleStaff, false)
	cookie := ch.signIn("reception@demo.example")
	otherCookie := ch.signIn("other@demo.example")
	key := newSoftAuthenticator(t)
	if b := ch.addPasskey(cookie, key, "Laptop"); b.Redirect == "" {
		t.Fatalf("add: %+v", b)
	}
	for who, c := range map[string]string{"another account": otherCookie, "the same account": cookie} {
		p, _ := ch.send(http.MethodPost, "/console/account/passkeys/begin", c, url.Values{"name": {"Again"}})
		b := readBegun(t, p)
		p, _ = ch.send(http.MethodPost, "/console/account/passkeys/finish", c, url.Values{"name": {"Again"}, "ceremony": {b.Ceremony}, "credential": {key.create(b.Options)}})
		if got := readBegun(t, p); p.Status != http.StatusBadRequest || got.Error != "Your passkey couldn't be checked, so it was not added. Please try again." {
			t.Errorf("%s adding a kept credential id: %d %+v", who, p.Status, got)
		}
	}
	for _, c := range []string{cookie, otherCookie} {
		p, _ := ch.send(http.MethodGet, "/console/account/passkeys", c, nil)
		if strings.Contains(p.Text(), "Again") {
			t.Errorf("the passkey was added again: %q", p.Text())
		}
	}
}
