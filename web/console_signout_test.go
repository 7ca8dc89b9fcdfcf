package web_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
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
