// Package staffstore keeps staff accounts (internal/staff) in the portal's
// database (internal/store), as bookingstore does for bookings.
package staffstore

import (
	"context"
	"errors"
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
