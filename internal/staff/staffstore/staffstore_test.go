package staffstore_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/clinic-booking/portal/internal/staff"
	"github.com/clinic-booking/portal/internal/staff/staffstore"
	"github.com/clinic-booking/portal/internal/store"
	"github.com/clinic-booking/portal/internal/store/storetest"
)

var base = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

// forEachAccounts runs fn with accounts over a fresh store of each dialect
// and a clock the test moves.
func forEachAccounts(t *testing.T, fn func(t *testing.T, a *staff.Accounts, clock *time.Time)) {
	t.Helper()
	storetest.ForEachDatabase(t, func(t *testing.T, databaseURL string) {
		s, err := store.Open(context.Background(), databaseURL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		clock := base
		s.SetClock(func() time.Time { return clock })
		fn(t, staff.New(staffstore.New(s), func() time.Time { return clock }), &clock)
	})
}

func TestAccountsAreKeptByNormalisedEmailWithTheirClinics(t *testing.T) {
	forEachAccounts(t, func(t *testing.T, a *staff.Accounts, _ *time.Time) {
		ctx := context.Background()
		if _, err := a.Add(ctx, " Reception@Northside.example ", "northside", staff.RoleStaff, false); err != nil {
			t.Fatal(err)
		}
		acc, err := a.Add(ctx, "reception@northside.example", "southside", staff.RoleAdmin, false)
		if err != nil {
			t.Fatal(err)
		}
		if acc.Email != "reception@northside.example" || acc.Operator {
			t.Errorf("account = %+v", acc)
		}
		if acc.RoleIn("northside") != staff.RoleStaff || acc.RoleIn("southside") != staff.RoleAdmin || acc.Sees("eastside") {
			t.Errorf("clinics = %v", acc.Clinics)
		}
		op, err := a.Add(ctx, "ops@host.example", "", "", true)
		if err != nil {
			t.Fatal(err)
		}
		if !op.Operator || !op.Sees("anything") || op.RoleIn("eastside") != staff.RoleAdmin {
			t.Errorf("operator = %+v", op)
		}
		list, err := a.List(ctx)
		if err != nil || len(list) != 2 || list[0].Email != "ops@host.example" {
			t.Fatalf("List = %+v, %v", list, err)
		}

		if ok, err := a.Remove(ctx, "RECEPTION@northside.example", "northside"); !ok || err != nil {
			t.Fatalf("Remove from northside = %v, %v", ok, err)
		}
		acc, _ = a.Account(ctx, acc.ID)
		if acc.Sees("northside") || !acc.Sees("southside") {
			t.Errorf("after removal from northside: %v", acc.Clinics)
		}
		if ok, err := a.Remove(ctx, "reception@northside.example", ""); !ok || err != nil {
			t.Fatalf("Remove account = %v, %v", ok, err)
		}
		if _, err := a.Account(ctx, acc.ID); !errors.Is(err, staff.ErrNoAccount) {
			t.Errorf("removed account: err = %v, want ErrNoAccount", err)
		}
		if ok, err := a.Remove(ctx, "nobody@example.com", ""); ok || err != nil {
			t.Errorf("Remove of no account = %v, %v", ok, err)
		}
	})
}

func TestSignInLinksAreGoodOnceFor15Minutes(t *testing.T) {
	forEachAccounts(t, func(t *testing.T, a *staff.Accounts, clock *time.Time) {
		ctx := context.Background()
		acc, err := a.Add(ctx, "jo@clinic.example", "northside", staff.RoleStaff, false)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.LinkFor(ctx, "nobody@clinic.example"); !errors.Is(err, staff.ErrNoAccount) {
			t.Errorf("link for an unknown address: err = %v, want ErrNoAccount", err)
		}

		token, err := a.LinkFor(ctx, "JO@clinic.example")
		if err != nil {
			t.Fatal(err)
		}
		if ok, _ := a.LinkUsable(ctx, token); !ok {
			t.Error("a new link is not usable")
		}
		got, err := a.UseLink(ctx, token)
		if err != nil || got.ID != acc.ID {
			t.Fatalf("UseLink = %+v, %v", got, err)
		}
		if _, err := a.UseLink(ctx, token); !errors.Is(err, staff.ErrBadLink) {
			t.Errorf("second use: err = %v, want ErrBadLink", err)
		}
		if ok, _ := a.LinkUsable(ctx, token); ok {
			t.Error("a used link is still usable")
		}

		late, _ := a.LinkForAccount(ctx, acc.ID)
		*clock = clock.Add(staff.LinkTTL)
		if _, err := a.UseLink(ctx, late); !errors.Is(err, staff.ErrBadLink) {
			t.Errorf("link used at 15 minutes: err = %v, want ErrBadLink", err)
		}

		forged := token[:len(token)-2] + "AA"
		for _, bad := range []string{"", "not-a-token", forged} {
			if _, err := a.UseLink(ctx, bad); !errors.Is(err, staff.ErrBadLink) {
				t.Errorf("UseLink(%q): err = %v, want ErrBadLink", bad, err)
			}
		}

		// Of two uses at once, exactly one signs in.
		race, _ := a.LinkForAccount(ctx, acc.ID)
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := 0
		for range 4 {
			wg.Go(func() {
				if _, err := a.UseLink(ctx, race); err == nil {
					mu.Lock()
					wins++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if wins != 1 {
			t.Errorf("%d concurrent uses of one link signed in, want 1", wins)
		}
	})
}

func TestSignOutEverywhereMovesTheEpoch(t *testing.T) {
	forEachAccounts(t, func(t *testing.T, a *staff.Accounts, _ *time.Time) {
		ctx := context.Background()
		acc, err := a.Add(ctx, "jo@clinic.example", "northside", staff.RoleAdmin, false)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.SignOutEverywhere(ctx, acc.ID); err != nil {
			t.Fatal(err)
		}
		after, _ := a.Account(ctx, acc.ID)
		if after.Epoch != acc.Epoch+1 {
			t.Errorf("epoch %d after sign out everywhere, want %d", after.Epoch, acc.Epoch+1)
		}
		if err := a.SignOutEverywhere(ctx, "no-such-id"); !errors.Is(err, staff.ErrNoAccount) {
			t.Errorf("unknown account: err = %v", err)
		}
	})
}

func TestNormaliseEmail(t *testing.T) {
	for in, want := range map[string]string{
		"Jo@Example.COM":   "jo@example.com",
		"  jo@example.com": "jo@example.com",
		"jo":               "",
		"Jo <jo@ex.com>":   "",
		"jo@localhost":     "",
		"":                 "",
	} {
		got, err := staff.NormaliseEmail(in)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("NormaliseEmail(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestEndedSessionsAreKeptUntilTheyWouldHaveExpired(t *testing.T) {
	forEachAccounts(t, func(t *testing.T, a *staff.Accounts, _ *time.Time) {
		ctx := context.Background()
		ended := func(sid string) bool {
			t.Helper()
			ok, err := a.SessionEnded(ctx, sid)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if ended("desk") {
			t.Fatal("a session never ended counts as ended")
		}
		if err := a.EndSession(ctx, "desk", base.Add(7*24*time.Hour), base); err != nil {
			t.Fatal(err)
		}
		// Twice (two tabs signing out) is not an error.
		if err := a.EndSession(ctx, "desk", base.Add(7*24*time.Hour), base); err != nil {
			t.Fatal(err)
		}
		if !ended("desk") || ended("laptop") {
			t.Errorf("ended desk %v, laptop %v; want only desk", ended("desk"), ended("laptop"))
		}
		// Ending another session a week on prunes desk's record, whose
		// session would have ended by then anyway.
		if err := a.EndSession(ctx, "laptop", base.Add(14*24*time.Hour), base.Add(7*24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if ended("desk") || !ended("laptop") {
			t.Errorf("a week on: ended desk %v, laptop %v; want only laptop", ended("desk"), ended("laptop"))
		}
	})
}

// TestSignOutEverywhereVoidsUnusedLinks: a sign-in link lying in an inbox
// signs nobody in after "sign out everywhere"; a link asked for after it
// works, and another account's links are untouched.
func TestSignOutEverywhereVoidsUnusedLinks(t *testing.T) {
	forEachAccounts(t, func(t *testing.T, a *staff.Accounts, _ *time.Time) {
		ctx := context.Background()
		jo, err := a.Add(ctx, "jo@clinic.example", "northside", staff.RoleAdmin, false)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Add(ctx, "sam@clinic.example", "northside", staff.RoleStaff, false); err != nil {
			t.Fatal(err)
		}
		lying, err := a.LinkFor(ctx, "jo@clinic.example")
		if err != nil {
			t.Fatal(err)
		}
		sams, err := a.LinkFor(ctx, "sam@clinic.example")
		if err != nil {
			t.Fatal(err)
		}
		if err := a.SignOutEverywhere(ctx, jo.ID); err != nil {
			t.Fatal(err)
		}
		if ok, err := a.LinkUsable(ctx, lying); err != nil || ok {
			t.Errorf("the link from before sign out everywhere: usable %v, %v", ok, err)
		}
		if _, err := a.UseLink(ctx, lying); !errors.Is(err, staff.ErrBadLink) {
			t.Errorf("the link from before sign out everywhere signs in: err = %v", err)
		}
		fresh, err := a.LinkFor(ctx, "jo@clinic.example")
		if err != nil {
			t.Fatal(err)
		}
		if acc, err := a.UseLink(ctx, fresh); err != nil || acc.Epoch != jo.Epoch+1 {
			t.Errorf("a link asked for afterwards: %+v, %v", acc, err)
		}
		if acc, err := a.UseLink(ctx, sams); err != nil || acc.Email != "sam@clinic.example" {
			t.Errorf("another account's link: %+v, %v", acc, err)
		}
	})
}
