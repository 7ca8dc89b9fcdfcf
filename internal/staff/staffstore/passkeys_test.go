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
	forEachAdapter(t, func(t *testing.T, a *staff.Accounts, ad staffstore.Adapter, _ *time.Time) {
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
		if err := ad.AddPasskey(ctx, key); !errors.Is(err, staff.ErrPasskeyTaken) {
			t.Errorf("the same credential id stored twice: %v, want ErrPasskeyTaken", err)
		}
		again := key
		again.AccountID = other.ID
		if err := ad.AddPasskey(ctx, again); !errors.Is(err, staff.ErrPasskeyTaken) {
			t.Errorf("the same credential id for another account: %v, want ErrPasskeyTaken", err)
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
		if err := ad.UsePasskey(ctx, key.ID, 9, 0x1d, false, used); err != nil {
			t.Fatal(err)
		}
		list, err := ad.Passkeys(ctx, acc.ID)
		if err != nil || len(list) != 1 {
			t.Fatalf("Passkeys = %+v, %v", list, err)
		}
		if list[0].SignCount != 9 || list[0].Flags != 0x1d || list[0].CloneWarning || !list[0].LastUsed.Equal(used) {
			t.Errorf("after use: %+v", list[0])
		}
		// Marked copied: only the mark changes.
		if err := ad.UsePasskey(ctx, key.ID, 2, 0x05, true, used.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if got, err := ad.Passkey(ctx, key.ID); err != nil || got.SignCount != 9 || got.Flags != 0x1d || !got.CloneWarning || !got.LastUsed.Equal(used) {
			t.Errorf("after the clone mark: %+v, %v", got, err)
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
		if err := ad.UsePasskey(ctx, key.ID, 10, 0, true, used); !errors.Is(err, staff.ErrNoPasskey) {
			t.Errorf("UsePasskey marking a removed one copied: %v", err)
		}
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
	forEachAdapter(t, func(t *testing.T, _ *staff.Accounts, ad staffstore.Adapter, _ *time.Time) {
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
	})
}

// The signature count only moves forward: of two sign-ins at once, the
// one recorded second with a count not past the kept one is refused, and
// the kept count is not written backwards (nor the key marked copied).
func TestPasskeyCountOnlyMovesForward(t *testing.T) {
	forEachAdapter(t, func(t *testing.T, a *staff.Accounts, ad staffstore.Adapter, _ *time.Time) {
		ctx := context.Background()
		acc, err := a.Add(ctx, "reception@northside.example", "northside", staff.RoleStaff, false)
		if err != nil {
			t.Fatal(err)
		}
		counted := staff.Passkey{ID: []byte("counted"), AccountID: acc.ID, Name: "Key", PublicKey: []byte("pk"), SignCount: 5}
		noCounter := staff.Passkey{ID: []byte("no-counter"), AccountID: acc.ID, Name: "Phone", PublicKey: []byte("pk")}
		for _, k := range []staff.Passkey{counted, noCounter} {
			if err := ad.AddPasskey(ctx, k); err != nil {
				t.Fatal(err)
			}
		}
		first, second := base.Add(time.Minute), base.Add(2*time.Minute)
		// Both sign-ins read 5; the one counting 7 is recorded first.
		if err := ad.UsePasskey(ctx, counted.ID, 7, 0x05, false, first); err != nil {
			t.Fatal(err)
		}
		for _, n := range []uint32{6, 7} {
			if err := ad.UsePasskey(ctx, counted.ID, n, 0x05, false, second); !errors.Is(err, staff.ErrPasskeyCounter) {
				t.Errorf("count %d after 7: %v, want ErrPasskeyCounter", n, err)
			}
		}
		if got, err := ad.Passkey(ctx, counted.ID); err != nil || got.SignCount != 7 || got.CloneWarning || !got.LastUsed.Equal(first) {
			t.Errorf("after the refused use: %+v, %v", got, err)
		}
		if err := ad.UsePasskey(ctx, counted.ID, 8, 0x05, false, second); err != nil {
			t.Errorf("count 8 after 7: %v", err)
		}
		// An authenticator without a counter says 0 every time.
		for range 2 {
			if err := ad.UsePasskey(ctx, noCounter.ID, 0, 0x05, false, second); err != nil {
				t.Errorf("count 0 of a key without a counter: %v", err)
			}
		}
		if got, err := ad.Passkey(ctx, noCounter.ID); err != nil || got.SignCount != 0 || !got.LastUsed.Equal(second) {
			t.Errorf("key without a counter: %+v, %v", got, err)
		}
		if err := ad.UsePasskey(ctx, []byte("nothing"), 9, 0, false, second); !errors.Is(err, staff.ErrNoPasskey) {
			t.Errorf("unknown passkey: %v", err)
		}
	})
}
