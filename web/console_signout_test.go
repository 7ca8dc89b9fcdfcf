package web_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clinic-booking/portal/internal/booking/bookingstore"
	"github.com/clinic-booking/portal/internal/staff"
	"github.com/clinic-booking/portal/internal/staff/staffstore"
	"github.com/clinic-booking/portal/internal/store"
	"github.com/clinic-booking/portal/web"
)

// secondReplica serves the console harness's clinics from a second Server
// with its own connection to the same database file, as another replica
// would; it returns that server's address.
func (ch *consoleHarness) secondReplica() string {
	ch.t.Helper()
	db, err := store.Open(context.Background(), "sqlite:"+ch.dbPath)
	if err != nil {
		ch.t.Fatal(err)
	}
	ch.t.Cleanup(func() { db.Close() })
	handler, err := web.New(web.Config{
		Clinics: web.ServiceDirectory(ch.dir), Logger: ch.newLogger(), Ready: db.Ping,
		SecretKey: bytes.Repeat([]byte{7}, 32), // the harness's: one deployment's key
		Console: web.ConsoleConfig{
			Accounts: staff.New(staffstore.New(db), nil), Mailer: &mailbox{links: map[string][]string{}},
			Bookings: bookingstore.New(db),
			Now: func() time.Time {
				ch.mu.Lock()
				defer ch.mu.Unlock()
				return ch.now.Add(ch.sessionSkew)
			},
		},
	})
	if err != nil {
		ch.t.Fatal(err)
	}
	srv := httptest.NewServer(handler)
	ch.t.Cleanup(srv.Close)
	return srv.URL
}

// Sign out ends the session in the database: a copy of its cookie (a
// shared computer's, a stolen one), taken before or after the cookie was
// last refreshed, then opens nothing on this replica or another. Other
// sessions of the account go on.
func TestConsoleSignOutEndsTheSessionOnEveryReplica(t *testing.T) {
	ch := newConsoleHarness(t)
	ch.addStaff("jo@demo.example", "demo", staff.RoleAdmin, false)
	other := ch.secondReplica()
	desk, laptop := ch.signIn("jo@demo.example"), ch.signIn("jo@demo.example")

	// A page after the "seen" refresh is due writes the cookie again.
	ch.mu.Lock()
	ch.sessionSkew += 6 * time.Minute
	ch.mu.Unlock()
	p, refreshed := ch.send(http.MethodGet, "/console/demo/today", desk, nil)
	if p.Status != http.StatusOK || refreshed == "" || refreshed == "-" {
		t.Fatalf("a page 6 minutes on: status %d, cookie written again %v", p.Status, refreshed != "")
	}
	for _, base := range []string{"", other} {
		for _, cookie := range []string{desk, refreshed} {
			if p, _ := ch.send(http.MethodGet, base+"/console/demo/today", cookie, nil); p.Status != http.StatusOK {
				t.Fatalf("%s before sign out: %d", base, p.Status)
			}
		}
	}

	if p, set := ch.send(http.MethodPost, "/console/sign-out", refreshed, url.Values{}); p.Header.Get("Location") != "/console/sign-in?done=signed-out" || set != "-" {
		t.Fatalf("sign out: Location %q, cookie removed %v", p.Header.Get("Location"), set == "-")
	}
	for _, base := range []string{"", other} {
		for name, cookie := range map[string]string{"the cookie from sign-in": desk, "the refreshed cookie": refreshed} {
			p, _ := ch.send(http.MethodGet, base+"/console/demo/today", cookie, nil)
			if p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/console/sign-in" {
				t.Errorf("replica %q after sign out, %s: status %d, Location %q", base, name, p.Status, p.Header.Get("Location"))
			}
		}
		if p, _ := ch.send(http.MethodGet, base+"/console/demo/today", laptop, nil); p.Status != http.StatusOK {
			t.Errorf("replica %q: signing out the desk ended the laptop's session: %d", base, p.Status)
		}
	}
}

// gatedAccounts holds every link look-up until its gate opens, counting
// them.
type gatedAccounts struct {
	web.StaffAccounts
	gate    chan struct{}
	lookups *atomic.Int32
}

func (g gatedAccounts) LinkFor(ctx context.Context, email string) (string, error) {
	g.lookups.Add(1)
	<-g.gate
	return g.StaffAccounts.LinkFor(ctx, email)
}

// The sign-in page answers before it looks the address up, so how long it
// takes cannot tell an address with an account from one without: with
// every look-up held, both are answered, alike; once let go, the account's
// link arrives and the other address gets nothing.
func TestConsoleSignInAnswersBeforeLookingTheAddressUp(t *testing.T) {
	gate, lookups := make(chan struct{}), new(atomic.Int32)
	ch := newConsoleHarness(t, func(c *web.Config) {
		c.Console.Accounts = gatedAccounts{StaffAccounts: c.Console.Accounts, gate: gate, lookups: lookups}
	})
	var open sync.Once
	let := func() { open.Do(func() { close(gate) }) }
	t.Cleanup(let) // before the servers close, which waits for held requests
	ch.addStaff("jo@demo.example", "demo", staff.RoleStaff, false)
	ask := func(email string) *page {
		req, _ := http.NewRequest(http.MethodPost, ch.abs("/console/sign-in"), strings.NewReader(url.Values{"email": {email}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", ch.portal.URL)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		return ch.do(req) // would wait for the gate, and fail by the client's timeout, were the look-up on the request path
	}
	known, unknown := ask("jo@demo.example"), ask("nobody@demo.example")
	if known.Status != http.StatusOK || unknown.Status != http.StatusOK || known.Text() != unknown.Text() {
		t.Errorf("known address: %d %q\nunknown address: %d %q", known.Status, known.Text(), unknown.Status, unknown.Text())
	}
	if n := ch.mailbox.count(); n != 0 {
		t.Errorf("%d links sent with the look-ups held", n)
	}
	let()
	ch.handler.(*web.Server).WaitForSignInLinks()
	if lookups.Load() != 2 || ch.mailbox.count() != 1 || ch.mailbox.last("jo@demo.example") == "" {
		t.Errorf("%d look-ups, mailbox %v; want both addresses looked up and one link, to jo@demo.example", lookups.Load(), ch.mailbox.links)
	}
}

// At most eight links are issued at once: with eight look-ups held, a
// ninth request is answered alike but issues nothing, and says so in the
// log without the address.
func TestConsoleSignInIssuesABoundedNumberOfLinksAtOnce(t *testing.T) {
	gate, lookups := make(chan struct{}), new(atomic.Int32)
	ch := newConsoleHarness(t, func(c *web.Config) {
		c.Console.Accounts = gatedAccounts{StaffAccounts: c.Console.Accounts, gate: gate, lookups: lookups}
	})
	var open sync.Once
	let := func() { open.Do(func() { close(gate) }) }
	t.Cleanup(let)
	for i := range 9 {
		req, _ := http.NewRequest(http.MethodPost, ch.abs("/console/sign-in"), strings.NewReader(url.Values{"email": {"person" + string(rune('a'+i)) + "@demo.example"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", ch.portal.URL)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		if p := ch.do(req); p.Status != http.StatusOK {
			t.Fatalf("request %d: status %d", i+1, p.Status)
		}
	}
	let()
	ch.handler.(*web.Server).WaitForSignInLinks()
	if n := lookups.Load(); n != 8 {
		t.Errorf("%d look-ups, want 8: the ninth dropped", n)
	}
	logs := ch.logs.String()
	if !strings.Contains(logs, "too many being issued at once") || strings.Contains(logs, "personi@") {
		t.Errorf("logs:\n%s", logs)
	}
}

// TestConsoleSignInAfterDrainIssuesNothing: once shutdown has drained the
// links being issued, a request that still arrives starts none (its
// background work would outlive the database) and says so in the log.
func TestConsoleSignInAfterDrainIssuesNothing(t *testing.T) {
	ch := newConsoleHarness(t)
	ch.addStaff("jo@demo.example", "demo", staff.RoleStaff, false)
	if err := ch.handler.(*web.Server).Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	before := ch.mailbox.count()
	if p, _ := ch.send(http.MethodPost, "/console/sign-in", "", url.Values{"email": {"jo@demo.example"}}); p.Status != http.StatusOK {
		t.Fatalf("asking for a link while shutting down: %d", p.Status)
	}
	ch.handler.(*web.Server).WaitForSignInLinks()
	if n := ch.mailbox.count() - before; n != 0 || !strings.Contains(ch.logs.String(), "shutting down") {
		t.Errorf("%d links issued after Drain; logs:\n%s", n, ch.logs.String())
	}
}

// TestSignOutEverywhereSaysPasskeysStay: where passkeys sign in, the page
// after "sign out everywhere" says they still do, and where to remove a
// lost device's; where they do not, it says nothing of them.
func TestSignOutEverywhereSaysPasskeysStay(t *testing.T) {
	for _, tc := range []struct {
		name string
		ch   *consoleHarness
		want bool
	}{{"passkeys", newPasskeyHarness(t), true}, {"no passkeys", newConsoleHarness(t), false}} {
		p, _ := tc.ch.send(http.MethodGet, "/console/sign-in?done=everywhere", "", nil)
		notice := p.Doc.Find("main .notice").Text()
		if !strings.Contains(notice, "You have signed out on every device.") || strings.Contains(notice, "Passkeys still sign you in") != tc.want {
			t.Errorf("%s: the notice %q", tc.name, notice)
		}
	}
}
