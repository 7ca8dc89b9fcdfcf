// Package staffstore keeps staff accounts (internal/staff) in the portal's
// database (internal/store), as bookingstore does for bookings.
package staffstore

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/clinic-booking/portal/internal/staff"
	"github.com/clinic-booking/portal/internal/store"
)

// Adapter is a staff.Store on a *store.Store.
type Adapter struct{ S *store.Store }

var _ staff.Store = Adapter{}

// New returns the adapter.
func New(s *store.Store) Adapter { return Adapter{S: s} }

func (a Adapter) PutAccount(ctx context.Context, email string, operator bool) (staff.Account, error) {
	acc, err := a.S.PutStaffAccount(ctx, staff.NewID(), email, operator)
	return fromStore(acc), mapErr(err)
}

func (a Adapter) PutMember(ctx context.Context, accountID, clinic string, role staff.Role) error {
	return a.S.PutStaffMember(ctx, accountID, clinic, string(role))
}

func (a Adapter) RemoveMember(ctx context.Context, accountID, clinic string) (bool, error) {
	return a.S.RemoveStaffMember(ctx, accountID, clinic)
}

func (a Adapter) RemoveAccount(ctx context.Context, accountID string) (bool, error) {
	return a.S.RemoveStaffAccount(ctx, accountID)
}

func (a Adapter) AccountByEmail(ctx context.Context, email string) (staff.Account, error) {
	acc, err := a.S.StaffAccountByEmail(ctx, email)
	return fromStore(acc), mapErr(err)
}

func (a Adapter) Account(ctx context.Context, id string) (staff.Account, error) {
	acc, err := a.S.StaffAccount(ctx, id)
	return fromStore(acc), mapErr(err)
}

func (a Adapter) ListAccounts(ctx context.Context) ([]staff.Account, error) {
	list, err := a.S.ListStaffAccounts(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]staff.Account, len(list))
	for i, acc := range list {
		out[i] = fromStore(acc)
	}
	return out, nil
}

func (a Adapter) NextEpoch(ctx context.Context, accountID string) (int64, error) {
	n, err := a.S.NextStaffEpoch(ctx, accountID)
	return n, mapErr(err)
}

func (a Adapter) CreateLink(ctx context.Context, tokenHash, accountID string, expires time.Time) error {
	return a.S.CreateSignInLink(ctx, tokenHash, accountID, expires)
}

func (a Adapter) UseLink(ctx context.Context, tokenHash string, now time.Time) (string, error) {
	id, err := a.S.UseSignInLink(ctx, tokenHash, now)
	if errors.Is(err, store.ErrNotFound) {
		return "", staff.ErrBadLink
	}
	return id, err
}

func (a Adapter) LinkUsable(ctx context.Context, tokenHash string, now time.Time) (bool, error) {
	return a.S.SignInLinkUsable(ctx, tokenHash, now)
}

func fromStore(acc store.StaffAccount) staff.Account {
	if acc.ID == "" {
		return staff.Account{}
	}
	out := staff.Account{ID: acc.ID, Email: acc.Email, Operator: acc.Operator, Epoch: acc.Epoch, Clinics: map[string]staff.Role{}}
	for _, m := range acc.Members {
		out.Clinics[m.Clinic] = staff.Role(m.Role)
	}
	return out
}

func mapErr(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return staff.ErrNoAccount
	}
	return err
}

func (a Adapter) EndSession(ctx context.Context, sid string, expires, now time.Time) error {
	return a.S.EndStaffSession(ctx, sid, expires, now)
}

func (a Adapter) SessionEnded(ctx context.Context, sid string) (bool, error) {
	return a.S.StaffSessionEnded(ctx, sid)
}

// Passkeys: binary values are kept as base64url text.

var b64 = base64.RawURLEncoding

func (a Adapter) AddPasskey(ctx context.Context, p staff.Passkey) error {
	err := a.S.AddStaffPasskey(ctx, store.StaffPasskey{
		ID: b64.EncodeToString(p.ID), AccountID: p.AccountID, Name: p.Name,
		PublicKey: b64.EncodeToString(p.PublicKey), Attestation: p.Attestation,
		AAGUID: b64.EncodeToString(p.AAGUID), Transports: p.Transports,
		Flags: int64(p.Flags), SignCount: int64(p.SignCount), CloneWarning: p.CloneWarning,
	})
	if errors.Is(err, store.ErrDuplicatePasskey) {
		return staff.ErrPasskeyTaken
	}
	return err
}

func (a Adapter) Passkeys(ctx context.Context, accountID string) ([]staff.Passkey, error) {
	list, err := a.S.StaffPasskeys(ctx, accountID)
	if err != nil {
		return nil, err
	}
	out := make([]staff.Passkey, 0, len(list))
	for _, p := range list {
		k, err := passkeyFromStore(p)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, nil
}

func (a Adapter) Passkey(ctx context.Context, id []byte) (staff.Passkey, error) {
	p, err := a.S.StaffPasskey(ctx, b64.EncodeToString(id))
	if errors.Is(err, store.ErrNotFound) {
		return staff.Passkey{}, staff.ErrNoPasskey
	}
	if err != nil {
		return staff.Passkey{}, err
	}
	return passkeyFromStore(p)
}

func (a Adapter) UsePasskey(ctx context.Context, id []byte, signCount uint32, flags byte, cloneWarning bool, now time.Time) error {
	err := a.S.UseStaffPasskey(ctx, b64.EncodeToString(id), int64(signCount), int64(flags), cloneWarning, now)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return staff.ErrNoPasskey
	case errors.Is(err, store.ErrPasskeyCounter):
		return staff.ErrPasskeyCounter
	}
	return err
}

func (a Adapter) RemovePasskey(ctx context.Context, accountID string, id []byte) (bool, error) {
	return a.S.RemoveStaffPasskey(ctx, accountID, b64.EncodeToString(id))
}

func (a Adapter) PutCeremony(ctx context.Context, id, kind, accountID string, data []byte, expires time.Time) error {
	return a.S.PutWebAuthnCeremony(ctx, id, kind, accountID, data, expires)
}

func (a Adapter) TakeCeremony(ctx context.Context, id, kind string, now time.Time) (string, []byte, error) {
	accountID, data, err := a.S.TakeWebAuthnCeremony(ctx, id, kind, now)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil, staff.ErrNoCeremony
	}
	return accountID, data, err
}

func passkeyFromStore(p store.StaffPasskey) (staff.Passkey, error) {
	id, err1 := b64.DecodeString(p.ID)
	pub, err2 := b64.DecodeString(p.PublicKey)
	aaguid, err3 := b64.DecodeString(p.AAGUID)
	if err := errors.Join(err1, err2, err3); err != nil {
		return staff.Passkey{}, fmt.Errorf("read staff passkey: %w", err)
	}
	return staff.Passkey{
		ID: id, AccountID: p.AccountID, Name: p.Name, PublicKey: pub, Attestation: p.Attestation,
		AAGUID: aaguid, Transports: p.Transports, Flags: byte(p.Flags), SignCount: uint32(p.SignCount),
		CloneWarning: p.CloneWarning, CreatedAt: p.CreatedAt, LastUsed: p.LastUsed,
	}, nil
}
