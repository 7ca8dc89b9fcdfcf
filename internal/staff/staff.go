// Package staff holds the rules of the console's accounts: who may sign in,
// to which clinics, with what role, and the one-time links they sign in
// with. It imports neither Echo nor SQL drivers; internal/store keeps the
// accounts through the small Store interface (see staffstore).
package staff

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"
)

// Role is what an account may do in one clinic. Operators are not a role in
// a clinic: they see every clinic (Account.Operator).
type Role string

const (
	RoleAdmin Role = "admin"
	RoleStaff Role = "staff"
)

// ParseRole reads "admin" or "staff".
func ParseRole(s string) (Role, error) {
	switch r := Role(strings.ToLower(strings.TrimSpace(s))); r {
	case RoleAdmin, RoleStaff:
		return r, nil
	}
	return "", fmt.Errorf("role %q: expected admin or staff", s)
}

// LinkTTL is how long a sign-in link is good for.
const LinkTTL = 15 * time.Minute

var (
	// ErrNoAccount means there is no account for that email or id.
	ErrNoAccount = errors.New("staff: no such account")
	// ErrBadLink means a sign-in link is unknown, used or expired; which of
	// them is not said, to the person or to the logs.
	ErrBadLink = errors.New("staff: sign-in link is unknown, used or expired")
	// ErrBadEmail means the text is not one email address.
	ErrBadEmail = errors.New("enter an email address in the format name@example.com")
)

// Account is one person who may sign in to the console.
type Account struct {
	ID    string
	Email string
	// Operator sees and runs every clinic.
	Operator bool
	// Epoch is the account's session epoch: sessions begun in an earlier
	// one are over ("sign out everywhere").
	Epoch int64
	// Clinics are the account's roles by clinic slug.
	Clinics map[string]Role
}

// Sees reports whether the account may open clinic's console pages.
func (a Account) Sees(clinic string) bool {
	if a.Operator {
		return true
	}
	_, ok := a.Clinics[clinic]
	return ok
}

// RoleIn is the account's role in clinic: admin for an operator, "" for a
// clinic it does not belong to.
func (a Account) RoleIn(clinic string) Role {
	if a.Operator {
		return RoleAdmin
	}
	return a.Clinics[clinic]
}

// ClinicSlugs are the clinics the account belongs to, sorted.
func (a Account) ClinicSlugs() []string {
	out := make([]string, 0, len(a.Clinics))
	for c := range a.Clinics {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

// NormaliseEmail turns what someone typed into the form accounts are kept
// and found by: one bare address, trimmed, in lower case (mail systems
// treat the local part case-insensitively in practice, and people type it
// either way). The error never repeats the input: it is personal.
func NormaliseEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 254 {
		return "", ErrBadEmail
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s || !strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".") {
		return "", ErrBadEmail
	}
	return strings.ToLower(s), nil
}

// Store keeps accounts and sign-in links. Emails it is given are
// normalised; hashes are of link tokens, never the tokens.
type Store interface {
	PutAccount(ctx context.Context, email string, operator bool) (Account, error)
	PutMember(ctx context.Context, accountID, clinic string, role Role) error
	RemoveMember(ctx context.Context, accountID, clinic string) (bool, error)
	RemoveAccount(ctx context.Context, accountID string) (bool, error)
	AccountByEmail(ctx context.Context, email string) (Account, error) // ErrNoAccount
	Account(ctx context.Context, id string) (Account, error)           // ErrNoAccount
	ListAccounts(ctx context.Context) ([]Account, error)
	NextEpoch(ctx context.Context, accountID string) (int64, error)
	CreateLink(ctx context.Context, tokenHash, accountID string, expires time.Time) error
	UseLink(ctx context.Context, tokenHash string, now time.Time) (accountID string, err error) // ErrBadLink
	LinkUsable(ctx context.Context, tokenHash string, now time.Time) (bool, error)
	EndSession(ctx context.Context, sid string, expires, now time.Time) error
	SessionEnded(ctx context.Context, sid string) (bool, error)
}

// Accounts applies the rules to a Store.
type Accounts struct {
	store Store
	now   func() time.Time
}

// New returns the accounts kept in store; now is the clock (time.Now when nil).
func New(store Store, now func() time.Time) *Accounts {
	if now == nil {
		now = time.Now
	}
	return &Accounts{store: store, now: now}
}

// Add gives email role in clinic, creating the account if need be. With
// operator set, clinic and role are ignored and the account sees every clinic.
func (a *Accounts) Add(ctx context.Context, email, clinic string, role Role, operator bool) (Account, error) {
	email, err := NormaliseEmail(email)
	if err != nil {
		return Account{}, err
	}
	acc, err := a.store.PutAccount(ctx, email, operator)
	if err != nil {
		return Account{}, err
	}
	if operator {
		return acc, nil
	}
	if _, err := ParseRole(string(role)); err != nil {
		return Account{}, err
	}
	if err := a.store.PutMember(ctx, acc.ID, clinic, role); err != nil {
		return Account{}, err
	}
	return a.store.Account(ctx, acc.ID)
}

// Remove takes email out of clinic, or, with clinic "", deletes the account
// (its sessions end at their next request). It reports whether anything was
// removed.
func (a *Accounts) Remove(ctx context.Context, email, clinic string) (bool, error) {
	email, err := NormaliseEmail(email)
	if err != nil {
		return false, err
	}
	acc, err := a.store.AccountByEmail(ctx, email)
	if errors.Is(err, ErrNoAccount) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	if clinic == "" {
		return a.store.RemoveAccount(ctx, acc.ID)
	}
	return a.store.RemoveMember(ctx, acc.ID, clinic)
}

// List returns every account, by email.
func (a *Accounts) List(ctx context.Context) ([]Account, error) { return a.store.ListAccounts(ctx) }

// Account returns the account with this id, or ErrNoAccount.
func (a *Accounts) Account(ctx context.Context, id string) (Account, error) {
	return a.store.Account(ctx, id)
}

// ByEmail is the account of email; ErrNoAccount when there is none.
func (a *Accounts) ByEmail(ctx context.Context, email string) (Account, error) {
	email, err := NormaliseEmail(email)
	if err != nil {
		return Account{}, ErrNoAccount
	}
	return a.store.AccountByEmail(ctx, email)
}

// LinkFor issues a sign-in link token for the account with this email:
// random, good once for LinkTTL, kept only as its hash. ErrNoAccount when
// there is no such account, or it has no access left (taken out of its
// last clinic by `portal staff remove --clinic`): the caller must not tell
// the person so.
func (a *Accounts) LinkFor(ctx context.Context, email string) (string, error) {
	email, err := NormaliseEmail(email)
	if err != nil {
		return "", err
	}
	acc, err := a.store.AccountByEmail(ctx, email)
	if err != nil {
		return "", err
	}
	if !acc.HasAccess() {
		return "", ErrNoAccount
	}
	return a.LinkForAccount(ctx, acc.ID)
}

// LinkForAccount issues a sign-in link token for the account with this id.
func (a *Accounts) LinkForAccount(ctx context.Context, accountID string) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	token := base64.RawURLEncoding.EncodeToString(b)
	if err := a.store.CreateLink(ctx, HashToken(token), accountID, a.now().Add(LinkTTL)); err != nil {
		return "", err
	}
	return token, nil
}

// LinkUsable reports whether token is a link that would sign in now,
// without using it. A token that is not even well formed is not.
func (a *Accounts) LinkUsable(ctx context.Context, token string) (bool, error) {
	if !wellFormed(token) {
		return false, nil
	}
	return a.store.LinkUsable(ctx, HashToken(token), a.now())
}

// UseLink uses the sign-in link token, once, and returns its account.
// ErrBadLink for a link that is unknown, used, expired or malformed, or
// whose account has been removed.
func (a *Accounts) UseLink(ctx context.Context, token string) (Account, error) {
	if !wellFormed(token) {
		return Account{}, ErrBadLink
	}
	id, err := a.store.UseLink(ctx, HashToken(token), a.now())
	if err != nil {
		return Account{}, err
	}
	acc, err := a.store.Account(ctx, id)
	if errors.Is(err, ErrNoAccount) {
		return Account{}, ErrBadLink
	}
	return acc, err
}

// SignOutEverywhere ends every session of the account, on every replica,
// and voids its unused sign-in links, which would begin new ones.
func (a *Accounts) SignOutEverywhere(ctx context.Context, accountID string) error {
	_, err := a.store.NextEpoch(ctx, accountID)
	return err
}

// EndSession ends the console session sid on every replica: a copy of its
// cookie opens nothing. The record is kept until expires, when the session
// would have ended anyway, and pruned after; now is the sessions' clock.
func (a *Accounts) EndSession(ctx context.Context, sid string, expires, now time.Time) error {
	return a.store.EndSession(ctx, sid, expires, now)
}

// SessionEnded reports whether the console session sid was ended.
func (a *Accounts) SessionEnded(ctx context.Context, sid string) (bool, error) {
	return a.store.SessionEnded(ctx, sid)
}

// HashToken is what the store keeps of a link token: its SHA-256. The
// token has 256 random bits, so no salt or slow hash is needed.
func HashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// wellFormed reports whether token looks like one LinkForAccount makes.
func wellFormed(token string) bool {
	b, err := base64.RawURLEncoding.DecodeString(token)
	return err == nil && len(b) == 32
}

// NewID is a random account id.
func NewID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
