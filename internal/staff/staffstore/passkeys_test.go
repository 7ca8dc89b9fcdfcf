package staffstore_test

import (
	"bytes"
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

// forEachAdapter runs fn with accounts and their adapter over a fresh store
// of each dialect, and a clock the test moves.
func forEachAdapter(t *testing.T, fn func(t *testing.T, a *staff.Accounts, ad staffstore.Adapter, clock *time.Time)) {
	t.Helper()
	storetest.ForEachDatabase(t, func(t *testing.T, databaseURL string) {
		s, err := store.Open(context.Background(), databaseURL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		clock := base
		s.SetClock(func() time.Time { return clock })
		ad := staffstore.New(s)
		fn(t, staff.New(ad, func() time.Time { return clock }), ad, &clock)
	})
}

func TestPasskeysAreKeptUsedAndRemovedWithTheirAccount(t *testing.T) {
	forEachAdapter(t, func(t *testing.T, a *staff.Accounts, ad staffstore.Adapter, clock *time.Time) {
		ctx := context.Background()
		acc, err := a.Add(ctx, "reception@northside.example", "northside", staff.RoleStaff, false)
		if err != nil {
			t.Fatal(err)
		}
		other, err := a.Add(ctx, "other@northside.example", "northside", staff.RoleStaff, false)
		if err != nil {
			t.Fatal(err)
		}
		key := staff.Passkey{
			ID: []byte{0, 1, 2, 0xff}, AccountID: acc.ID, Name: "Work laptop", PublicKey: []byte("cose key"),
			Attestation: "none", AAGUID: bytes.Repeat([]byte{7}, 16), Transports: []string{"internal", "hybrid"},
			Flags: 0x5d, SignCount: 3,
		}
		if err := ad.AddPasskey(ctx, key); err != nil {
			t.Fatal(err)
		}
		if err := ad.AddPasskey(ctx, key); err == nil {
			t.Error("the same credential id was stored twice")
		}
		got, err := ad.Passkey(ctx, key.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.ID, key.ID) || !bytes.Equal(got.PublicKey, key.PublicKey) || !bytes.Equal(got.AAGUID, key.AAGUID) ||
			got.Name != "Work laptop" || got.AccountID != acc.ID || got.Flags != 0x5d || got.SignCount != 3 ||
			len(got.Transports) != 2 || got.Transports[1] != "hybrid" || !got.CreatedAt.Equal(base) || !got.LastUsed.IsZero() {
			t.Errorf("Passkey = %+v", got)
		}
		used := base.Add(time.Hour)
		if err := ad.UsePasskey(ctx, key.ID, 9, 0x1d, true, used); err != nil {
			t.Fatal(err)
		}
		list, err := ad.Passkeys(ctx, acc.ID)
		if err != nil || len(list) != 1 {
			t.Fatalf("Passkeys = %+v, %v", list, err)
		}
		if list[0].SignCount != 9 || list[0].Flags != 0x1d || !list[0].CloneWarning || !list[0].LastUsed.Equal(used) {
			t.Errorf("after use: %+v", list[0])
		}
		if ok, err := ad.RemovePasskey(ctx, other.ID, key.ID); ok || err != nil {
			t.Errorf("another account removed it: %v, %v", ok, err)
		}
		if _, err := ad.Passkey(ctx, []byte("nothing")); !errors.Is(err, staff.ErrNoPasskey) {
			t.Errorf("unknown passkey: %v", err)
		}
		// Removing the account takes its passkeys with it.
		if ok, err := a.Remove(ctx, "reception@northside.example", ""); !ok || err != nil {
			t.Fatalf("Remove = %v, %v", ok, err)
		}
		if _, err := ad.Passkey(ctx, key.ID); !errors.Is(err, staff.ErrNoPasskey) {
			t.Errorf("passkey of a removed account: %v", err)
		}
		if err := ad.UsePasskey(ctx, key.ID, 10, 0, false, used); !errors.Is(err, staff.ErrNoPasskey) {
			t.Errorf("UsePasskey of a removed one: %v", err)
		}
		_ = clock
	})
}

func TestPasskeyRemovedByItsAccount(t *testing.T) {
	forEachAdapter(t, func(t *testing.T, a *staff.Accounts, ad staffstore.Adapter, _ *time.Time) {
		ctx := context.Background()
		acc, err := a.Add(ctx, "reception@northside.example", "northside", staff.RoleStaff, false)
		if err != nil {
			t.Fatal(err)
		}
		if err := ad.AddPasskey(ctx, staff.Passkey{ID: []byte("k1"), AccountID: acc.ID, Name: "Phone", PublicKey: []byte("pk")}); err != nil {
			t.Fatal(err)
		}
		if ok, err := ad.RemovePasskey(ctx, acc.ID, []byte("k1")); !ok || err != nil {
			t.Fatalf("RemovePasskey = %v, %v", ok, err)
		}
		if list, err := ad.Passkeys(ctx, acc.ID); len(list) != 0 || err != nil {
			t.Errorf("Passkeys after remove = %+v, %v", list, err)
		}
	})
}

func TestCeremonyIsGoodOnceAndUntilItExpires(t *testing.T) {
	forEachAdapter(t, func(t *testing.T, _ *staff.Accounts, ad staffstore.Adapter, clock *time.Time) {
		ctx := context.Background()
		exp := base.Add(staff.PasskeyCeremonyTTL)
		if err := ad.PutCeremony(ctx, "c1", staff.CeremonyRegister, "acc1", []byte(`{"challenge":"x"}`), exp); err != nil {
			t.Fatal(err)
		}
		if err := ad.PutCeremony(ctx, "c2", staff.CeremonySignIn, "", []byte(`{}`), exp); err != nil {
			t.Fatal(err)
		}
		if err := ad.PutCeremony(ctx, "c3", staff.CeremonySignIn, "", []byte(`{}`), exp); err != nil {
			t.Fatal(err)
		}
		// Not of the kind asked for: refused, and not used up.
		if _, _, err := ad.TakeCeremony(ctx, "c1", staff.CeremonySignIn, base); !errors.Is(err, staff.ErrNoCeremony) {
			t.Errorf("wrong kind: %v", err)
		}
		acc, data, err := ad.TakeCeremony(ctx, "c1", staff.CeremonyRegister, base.Add(time.Minute))
		if err != nil || acc != "acc1" || string(data) != `{"challenge":"x"}` {
			t.Fatalf("Take = %q, %q, %v", acc, data, err)
		}
		if _, _, err := ad.TakeCeremony(ctx, "c1", staff.CeremonyRegister, base.Add(time.Minute)); !errors.Is(err, staff.ErrNoCeremony) {
			t.Errorf("taken twice: %v", err)
		}
		if _, _, err := ad.TakeCeremony(ctx, "c2", staff.CeremonySignIn, exp); !errors.Is(err, staff.ErrNoCeremony) {
			t.Errorf("expired ceremony taken: %v", err)
		}
		// Of two finishes at once, one gets it.
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			wins int
		)
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, _, err := ad.TakeCeremony(ctx, "c3", staff.CeremonySignIn, base); err == nil {
					mu.Lock()
					wins++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if wins != 1 {
			t.Errorf("ceremony taken %d times at once", wins)
		}
		_ = clock
	})
}
