package staff

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// A clinic's team: its admins invite and remove the clinic's staff from
// the console, and each change is audited with the clinic's settings.

var (
	// ErrAlreadyMember means the address already has access to the clinic.
	ErrAlreadyMember = errors.New("staff: already has access to the clinic")
	// ErrLastAdmin means removing the account would leave the clinic with
	// no admin, so no one could invite or remove staff any more.
	ErrLastAdmin = errors.New("staff: the clinic's only admin")
	// ErrRemoveSelf means an admin tried to remove their own access.
	ErrRemoveSelf = errors.New("staff: an admin cannot remove their own access")
	// ErrNotMember means the account is not a member of the clinic.
	ErrNotMember = errors.New("staff: not a member of the clinic")
)

// AuditSetting is what the audit calls a change to a clinic's staff.
const AuditSetting = "Staff access"

// Member is one account's access to one clinic.
type Member struct {
	AccountID string
	Email     string
	Role      Role
	// Since is when the access was given; zero when not known.
	Since time.Time
}

// Change is a change to a clinic's staff as the audit records it: who
// made it (the actor's email) and the access before and after, in words.
type Change struct {
	Actor, Before, After string
}

// TeamStore keeps a clinic's members; each change is written with its
// audit record in one transaction. AddMemberAudited gives ErrAlreadyMember for an
// address that already has access (as an operator too); RemoveMemberAudited gives
// ErrNotMember and ErrLastAdmin, changing nothing, and ends the removed
// account's sessions.
type TeamStore interface {
	ClinicMembers(ctx context.Context, clinic string) ([]Member, error)
	AddMemberAudited(ctx context.Context, email, clinic string, role Role, change Change) (Account, error)
	RemoveMemberAudited(ctx context.Context, accountID, clinic string, change Change) error
}

// Team applies the rules of inviting and removing to a TeamStore, and
// issues invited people's first sign-in links through Accounts.
type Team struct {
	store    TeamStore
	accounts *Accounts
}

// NewTeam returns the team rules over store, with links from accounts.
func NewTeam(store TeamStore, accounts *Accounts) *Team {
	return &Team{store: store, accounts: accounts}
}

// Members lists the clinic's members, by email.
func (t *Team) Members(ctx context.Context, clinic string) ([]Member, error) {
	return t.store.ClinicMembers(ctx, clinic)
}

// Invite gives email role in clinic, as `portal staff add` does, on behalf
// of by, and returns a first sign-in link token for them. ErrBadEmail for
// something that is not one address; ErrAlreadyMember when the address
// already has access to the clinic.
func (t *Team) Invite(ctx context.Context, clinic, email string, role Role, by Account) (Account, string, error) {
	email, err := NormaliseEmail(email)
	if err != nil {
		return Account{}, "", err
	}
	if _, err := ParseRole(string(role)); err != nil {
		return Account{}, "", err
	}
	acc, err := t.store.AddMemberAudited(ctx, email, clinic, role, Change{Actor: by.Email, After: DescribeAccess(email, role)})
	if err != nil {
		return Account{}, "", err
	}
	token, err := t.accounts.LinkForAccount(ctx, acc.ID)
	if err != nil {
		return acc, "", fmt.Errorf("first sign-in link: %w", err)
	}
	return acc, token, nil
}

// Remove takes the member with accountID out of clinic on behalf of by:
// their sessions end at their next request. An admin may not remove
// themselves (they would lock themselves out by one click; another admin
// or an operator can), and no one may remove the clinic's last admin.
func (t *Team) Remove(ctx context.Context, clinic, accountID string, by Account) (Member, error) {
	if accountID == by.ID {
		return Member{}, ErrRemoveSelf
	}
	members, err := t.store.ClinicMembers(ctx, clinic)
	if err != nil {
		return Member{}, err
	}
	for _, m := range members {
		if m.AccountID == accountID {
			err := t.store.RemoveMemberAudited(ctx, accountID, clinic, Change{Actor: by.Email, Before: DescribeAccess(m.Email, m.Role)})
			return m, err
		}
	}
	return Member{}, ErrNotMember
}

// describe is a member's access as the audit shows it.
func DescribeAccess(email string, role Role) string {
	return email + " (" + string(role) + ")"
}
