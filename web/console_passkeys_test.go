package web_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/clinic-booking/portal/internal/booking/bookingstore"
	"github.com/clinic-booking/portal/internal/staff"
	"github.com/clinic-booking/portal/internal/staff/staffstore"
	"github.com/clinic-booking/portal/web"
)

// newPasskeyHarness is the console harness with passkeys on: a PUBLIC_URL
// with a host name (the relying party's id) and the passkeys' store.
func newPasskeyHarness(t *testing.T) *consoleHarness {
	t.Helper()
	return newConsoleHarness(t, func(c *web.Config) {
		c.PublicURL = "https://book.example-clinic.com.au"
		c.Console.Passkeys = staffstore.New(c.Console.Bookings.(bookingstore.Adapter).S)
	})
}

// begun is what a ceremony's begin answers.
type begun struct {
	Ceremony string          `json:"ceremony"`
	Options  json.RawMessage `json:"options"`
	Error    string          `json:"error"`
	Field    string          `json:"field"`
	Redirect string          `json:"redirect"`
}

func readBegun(t *testing.T, p *page) begun {
	t.Helper()
	var b begun
	if err := json.Unmarshal([]byte(p.Body), &b); err != nil {
		t.Fatalf("%s: answer %d is not JSON: %v: %.200s", p.URL, p.Status, err, p.Body)
	}
	return b
}

func TestPasskeysNeedASignedInAccountAndAreRefusedCrossSite(t *testing.T) {
	ch := newPasskeyHarness(t)
	ch.addStaff("staff@demo.example", "demo", staff.RoleStaff, false)
	for _, path := range []string{"/console/account/passkeys/begin", "/console/account/passkeys/finish", "/console/account/passkeys/AAAA/remove"} {
		p, _ := ch.send(http.MethodPost, path, "", url.Values{"name": {"Laptop"}})
		if p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/console/sign-in" {
			t.Errorf("anonymous POST %s: %d %q, want 303 to sign-in", path, p.Status, p.Header.Get("Location"))
		}
	}
	if p, _ := ch.send(http.MethodGet, "/console/account/passkeys", "", nil); p.Status != http.StatusSeeOther {
		t.Errorf("anonymous GET passkeys page: %d", p.Status)
	}
	cookie := ch.signIn("staff@demo.example")
	for _, path := range []string{"/console/account/passkeys/begin", "/console/sign-in/passkey/begin", "/console/sign-in/passkey/finish"} {
		req, _ := http.NewRequest(http.MethodPost, ch.abs(path), strings.NewReader("name=Laptop"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://evil.example")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		req.AddCookie(&http.Cookie{Name: "__Host-portal-console", Value: cookie})
		if p := ch.do(req); p.Status != http.StatusForbidden || strings.Contains(p.Body, `"ceremony"`) {
			t.Errorf("cross-site POST %s: %d, want 403 with no ceremony", path, p.Status)
		}
	}
}

func TestPasskeysPageAndBeginForASignedInAccount(t *testing.T) {
	ch := newPasskeyHarness(t)
	acc := ch.addStaff("staff@demo.example", "demo", staff.RoleStaff, false)
	cookie := ch.signIn("staff@demo.example")
	home, _ := ch.send(http.MethodGet, "/console/demo/today", cookie, nil)
	if home.Link("Your passkeys") != "/console/account/passkeys" {
		t.Errorf("the console header does not link to the passkeys page")
	}
	p, _ := ch.send(http.MethodGet, "/console/account/passkeys", cookie, nil)
	p.WantH1("Your passkeys")
	if !strings.Contains(p.Text(), "You have no passkeys yet") || p.Doc.Find(`script[src*="passkeys.js"]`).Length() != 1 {
		t.Errorf("passkeys page: %q", p.Text())
	}
	// A name too long is refused before the authenticator is asked.
	p, _ = ch.send(http.MethodPost, "/console/account/passkeys/begin", cookie, url.Values{"name": {strings.Repeat("x", 61)}})
	if b := readBegun(t, p); p.Status != http.StatusUnprocessableEntity || b.Field != "name" || !strings.Contains(b.Error, "at most 60 characters") || b.Ceremony != "" {
		t.Errorf("long name: %d %+v", p.Status, b)
	}
	p, _ = ch.send(http.MethodPost, "/console/account/passkeys/begin", cookie, url.Values{"name": {"Front desk PC"}})
	b := readBegun(t, p)
	if p.Status != http.StatusOK || b.Ceremony == "" {
		t.Fatalf("begin: %d %+v", p.Status, b)
	}
	var opts struct {
		RP struct {
			ID string `json:"id"`
		} `json:"rp"`
		User struct {
			ID, Name string
		} `json:"user"`
		Challenge              string `json:"challenge"`
		AuthenticatorSelection struct {
			ResidentKey string `json:"residentKey"`
		} `json:"authenticatorSelection"`
	}
	if err := json.Unmarshal(b.Options, &opts); err != nil {
		t.Fatal(err)
	}
	if opts.RP.ID != "book.example-clinic.com.au" || opts.User.Name != "staff@demo.example" || opts.Challenge == "" || opts.AuthenticatorSelection.ResidentKey != "required" {
		t.Errorf("registration options: %+v", opts)
	}
	// The user handle is the account id (random), never the email.
	if handle, err := base64.RawURLEncoding.DecodeString(opts.User.ID); err != nil || string(handle) != acc.ID {
		t.Errorf("user handle %q (%v), want the account id %q", handle, err, acc.ID)
	}
}

// The state between begin and finish is good once, for its own account,
// and only for its kind of ceremony.
func TestPasskeyCeremonyIsSingleUseAndItsAccounts(t *testing.T) {
	ch := newPasskeyHarness(t)
	ch.addStaff("staff@demo.example", "demo", staff.RoleStaff, false)
	ch.addStaff("other@demo.example", "demo", staff.RoleStaff, false)
	cookie := ch.signIn("staff@demo.example")
	otherCookie := ch.signIn("other@demo.example")
	begin := func(cookie string) string {
		p, _ := ch.send(http.MethodPost, "/console/account/passkeys/begin", cookie, url.Values{"name": {"Laptop"}})
		return readBegun(t, p).Ceremony
	}
	finish := func(cookie, ceremony string) (int, begun) {
		p, _ := ch.send(http.MethodPost, "/console/account/passkeys/finish", cookie, url.Values{"name": {"Laptop"}, "ceremony": {ceremony}, "credential": {"{}"}})
		return p.Status, readBegun(t, p)
	}
	const stale = "That took too long, or was already done. Please try again."
	c1 := begin(cookie)
	// Another account cannot finish it, and its try uses it up.
	if st, b := finish(otherCookie, c1); st != http.StatusBadRequest || !strings.Contains(b.Error, "took too long, or was already done") {
		t.Errorf("another account's finish: %d %+v", st, b)
	}
	if st, b := finish(cookie, c1); st != http.StatusBadRequest || !strings.Contains(b.Error, "took too long") {
		t.Errorf("finish after it was taken: %d %+v", st, b)
	}
	c2 := begin(cookie)
	// A garbled answer is refused with a plain message, and the ceremony
	// is gone after it.
	if st, b := finish(cookie, c2); st != http.StatusBadRequest || !strings.Contains(b.Error, "couldn't be read") {
		t.Errorf("garbled answer: %d %+v", st, b)
	}
	if st, b := finish(cookie, c2); st != http.StatusBadRequest || b.Error != stale {
		t.Errorf("second finish: %d %+v", st, b)
	}
	// A registration's ceremony does not finish a sign-in: it is not found
	// as one (the garbled answer would be refused otherwise, differently).
	c3 := begin(cookie)
	p, _ := ch.send(http.MethodPost, "/console/sign-in/passkey/finish", "", url.Values{"ceremony": {c3}, "credential": {"{}"}})
	if b := readBegun(t, p); p.Status != http.StatusBadRequest || b.Error != stale || b.Redirect != "" {
		t.Errorf("registration ceremony used to sign in: %d %+v", p.Status, b)
	}
	// Expired: begun, then the ceremonies' clock passes their five minutes.
	c4 := begin(cookie)
	ch.mu.Lock()
	ch.sessionSkew = staff.PasskeyCeremonyTTL
	ch.mu.Unlock()
	if st, b := finish(cookie, c4); st != http.StatusBadRequest || !strings.Contains(b.Error, "took too long") {
		t.Errorf("expired ceremony: %d %+v", st, b)
	}
}

func TestPasskeySignInRefusalSaysNothingOfAccounts(t *testing.T) {
	ch := newPasskeyHarness(t)
	p, _ := ch.send(http.MethodGet, "/console/sign-in", "", nil)
	if p.Doc.Find("#passkey-sign-in[hidden] button").Length() != 1 || p.Doc.Find(`form[action="/console/sign-in"]`).Length() != 1 {
		t.Errorf("sign-in page lacks the hidden passkey button or the link form")
	}
	p, _ = ch.send(http.MethodPost, "/console/sign-in/passkey/begin", "", nil)
	if b := readBegun(t, p); p.Status != http.StatusOK || b.Ceremony == "" || strings.Contains(string(b.Options), "allowCredentials") {
		t.Fatalf("sign-in begin: %d %s", p.Status, p.Body)
	}
	// finish runs a sign-in with a real signed assertion of key and
	// answers exactly what the browser is sent.
	finish := func(key *softAuthenticator) string {
		t.Helper()
		p, _ := ch.send(http.MethodPost, "/console/sign-in/passkey/begin", "", nil)
		b := readBegun(t, p)
		p, set := ch.send(http.MethodPost, "/console/sign-in/passkey/finish", "", url.Values{"ceremony": {b.Ceremony}, "credential": {key.get(b.Options, 1)}})
		if set != "" {
			t.Errorf("a refused passkey set a cookie")
		}
		return fmt.Sprintf("%d %s %s", p.Status, p.Header.Get("Content-Type"), p.Body)
	}
	ch.addStaff("reception@demo.example", "demo", staff.RoleStaff, false)
	cookie := ch.signIn("reception@demo.example")
	key := newSoftAuthenticator(t)
	if b := ch.addPasskey(cookie, key, "Laptop"); b.Redirect == "" {
		t.Fatalf("add: %+v", b)
	}
	// Out of its only clinic, then removed altogether (its passkeys with it).
	if _, err := ch.accounts.Remove(t.Context(), "reception@demo.example", "demo"); err != nil {
		t.Fatal(err)
	}
	withoutAccess := finish(key)
	if _, err := ch.accounts.Remove(t.Context(), "reception@demo.example", ""); err != nil {
		t.Fatal(err)
	}
	removed := finish(key)
	unknown := finish(newSoftAuthenticator(t))
	want := fmt.Sprintf("%d %s %s\n", http.StatusUnauthorized, echo.MIMEApplicationJSON, `{"error":"That passkey didn't sign you in. Try again, or ask for a sign-in link by email below."}`)
	if unknown != want || removed != unknown || withoutAccess != unknown {
		t.Errorf("answers differ or are not the refusal:\nunknown:        %q\nremoved:        %q\nwithout access: %q\nwant:           %q", unknown, removed, withoutAccess, want)
	}
}

func TestPasskeyEndpointsAreLimitedPerConnection(t *testing.T) {
	ch := newPasskeyHarness(t)
	limited := false
	for range 45 {
		p, _ := ch.send(http.MethodPost, "/console/sign-in/passkey/begin", "", nil)
		if p.Status == http.StatusTooManyRequests {
			if b := readBegun(t, p); !strings.Contains(b.Error, "Too many passkey attempts") {
				t.Errorf("429 says %q", b.Error)
			}
			limited = true
			break
		}
	}
	if !limited {
		t.Error("45 passkey sign-ins begun from one connection in a moment: none refused")
	}
}

// Without a PUBLIC_URL with a host name there are no passkeys: no button,
// no routes, no link.
func TestNoPasskeysWithoutAPublicHostName(t *testing.T) {
	ch := newConsoleHarness(t, func(c *web.Config) {
		c.PublicURL = "http://127.0.0.1:8080"
		c.Console.Passkeys = staffstore.New(c.Console.Bookings.(bookingstore.Adapter).S)
	})
	ch.addStaff("staff@demo.example", "demo", staff.RoleStaff, false)
	p, _ := ch.send(http.MethodGet, "/console/sign-in", "", nil)
	if p.Doc.Find("#passkey-sign-in").Length() != 0 {
		t.Error("passkey button offered with an IP address as PUBLIC_URL")
	}
	cookie := ch.signIn("staff@demo.example")
	if p, _ := ch.send(http.MethodPost, "/console/account/passkeys/begin", cookie, nil); p.Status != http.StatusNotFound {
		t.Errorf("begin without passkeys: %d", p.Status)
	}
}
