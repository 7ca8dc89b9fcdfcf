package clinics

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/internal/store"
	"github.com/clinic-booking/portal/internal/store/storetest"
)

func TestUpdateByRecordsEachChangeAndNothingForARefusedOne(t *testing.T) {
	storetest.ForEachDatabase(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		s, err := store.Open(ctx, databaseURL)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		repo := NewRepo(s, mustKeys(t, keyA))
		if err := repo.Add(ctx, testRecord("northside")); err != nil {
			t.Fatal(err)
		}
		rec, err := repo.Get(ctx, "northside")
		if err != nil {
			t.Fatal(err)
		}
		rec.Phone, rec.Theme.BrandColour = "02 9000 0000", "#aa3300"
		rec.AccessToken = Token("ffffffff-2b7c-4e9a-b5d0-c4e1f7a20000")
		if err := repo.UpdateBy(ctx, rec, "admin@northside.example"); err != nil {
			t.Fatal(err)
		}
		rows, err := repo.Audit(ctx, "northside", 50)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]store.AuditEntry{}
		for _, r := range rows {
			got[r.Setting] = r
			if r.Actor != "admin@northside.example" || r.Revision != 2 || r.Clinic != "northside" {
				t.Errorf("audit row %+v: want the admin, revision 2", r)
			}
			if strings.Contains(r.OldValue+r.NewValue, token) || strings.Contains(r.OldValue+r.NewValue, "ffffffff-2b7c") {
				t.Errorf("audit row %s holds an access token: %q → %q", r.Setting, r.OldValue, r.NewValue)
			}
		}
		if len(rows) != 3 || got["phone"].OldValue != "(none)" || got["phone"].NewValue != "02 9000 0000" ||
			got["brand-colour"].OldValue != "#0b5cad" || got["brand-colour"].NewValue != "#aa3300" ||
			got["access-token"].OldValue != "••••9b63" || got["access-token"].NewValue != "••••0000 (a new token)" {
			t.Errorf("audit rows: %+v", rows)
		}

		// Stale (read at revision 1, stored at 2) and invalid updates are
		// refused and leave no row.
		stale := testRecord("northside")
		stale.Revision, stale.Phone = 1, "03 9000 0000"
		if err := repo.UpdateBy(ctx, stale, "other@northside.example"); !errors.Is(err, ErrChanged) {
			t.Errorf("stale update = %v, want ErrChanged", err)
		}
		bad, _ := repo.Get(ctx, "northside")
		bad.Theme.BrandColour = "blue"
		var ps Problems
		if err := repo.UpdateBy(ctx, bad, "other@northside.example"); !errors.As(err, &ps) || ps[0].Field != "brand-colour" {
			t.Errorf("invalid update = %v, want a brand-colour problem", err)
		}
		if after, _ := repo.Audit(ctx, "northside", 50); len(after) != 3 {
			t.Errorf("refused updates left audit rows: %d rows, want 3", len(after))
		}
		if now, _ := repo.Get(ctx, "northside"); now.Phone != "02 9000 0000" || now.Revision != 2 {
			t.Errorf("after the refused updates: phone %q revision %d", now.Phone, now.Revision)
		}
	})
}

// TestAChangeReachesAnotherReplica: a second portal over the same database
// serves the change once its directory reloads, as it does for the
// commands' changes (the revision changed, so the clinic is built again).
func TestAChangeReachesAnotherReplica(t *testing.T) {
	storetest.ForEachDatabase(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		var replicas [2]*booking.Directory
		var repos [2]*Repo
		if err := func() error {
			s, err := store.Open(ctx, databaseURL)
			if err != nil {
				return err
			}
			t.Cleanup(func() { s.Close() })
			return NewRepo(s, mustKeys(t, keyA)).Add(ctx, testRecord("northside"))
		}(); err != nil {
			t.Fatal(err)
		}
		for i := range replicas {
			s, err := store.Open(ctx, databaseURL)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			repos[i] = NewRepo(s, mustKeys(t, keyA))
			// Reload on every look, so the test needs no clock.
			d, err := booking.NewLoadingDirectory(ctx, repos[i].Loader(func(c booking.Clinic, _ Token) (*booking.Service, error) {
				return booking.NewService(c, nil, nil, nil), nil
			}), time.Nanosecond, nil)
			if err != nil {
				t.Fatal(err)
			}
			replicas[i] = d
		}
		rec, err := repos[0].Get(ctx, "northside")
		if err != nil {
			t.Fatal(err)
		}
		rec.CancellationPolicy = "Free to cancel up to a day before."
		rec.Theme.BrandColour = "#1a7f37"
		if err := repos[0].UpdateBy(ctx, rec, "admin@northside.example"); err != nil {
			t.Fatal(err)
		}
		svc, ok := replicas[1].Clinic(ctx, "northside")
		if !ok {
			t.Fatal("the second replica does not serve the clinic")
		}
		if c := svc.Clinic(); c.CancellationPolicy != rec.CancellationPolicy || c.Theme.BrandColour != "#1a7f37" {
			t.Errorf("the second replica serves policy %q colour %q after reloading", c.CancellationPolicy, c.Theme.BrandColour)
		}
	})
}
