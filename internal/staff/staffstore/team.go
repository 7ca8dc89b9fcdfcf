package staffstore

import (
	"context"
	"errors"

	"github.com/clinic-booking/portal/internal/staff"
	"github.com/clinic-booking/portal/internal/store"
)

var _ staff.TeamStore = Adapter{}

func (a Adapter) ClinicMembers(ctx context.Context, clinic string) ([]staff.Member, error) {
	list, err := a.S.ClinicStaffMembers(ctx, clinic)
	if err != nil {
		return nil, err
	}
	out := make([]staff.Member, len(list))
	for i, m := range list {
		out[i] = staff.Member{AccountID: m.AccountID, Email: m.Email, Role: staff.Role(m.Role), Since: m.Since}
	}
	return out, nil
}

func (a Adapter) AddMemberAudited(ctx context.Context, email, clinic string, role staff.Role, change staff.Change) (staff.Account, error) {
	acc, err := a.S.AddStaffMemberAudited(ctx, staff.NewID(), email, clinic, string(role), auditEntry(change))
	if errors.Is(err, store.ErrAlreadyMember) {
		return staff.Account{}, staff.ErrAlreadyMember
	}
	return fromStore(acc), err
}

func (a Adapter) RemoveMemberAudited(ctx context.Context, accountID, clinic string, change staff.Change) error {
	err := a.S.RemoveStaffMemberAudited(ctx, accountID, clinic, auditEntry(change))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return staff.ErrNotMember
	case errors.Is(err, store.ErrLastAdmin):
		return staff.ErrLastAdmin
	}
	return err
}

func auditEntry(c staff.Change) store.AuditEntry {
	return store.AuditEntry{Actor: c.Actor, Setting: staff.AuditSetting, OldValue: c.Before, NewValue: c.After}
}
