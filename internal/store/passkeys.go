package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// StaffPasskey is a WebAuthn credential of a staff account as the database
// keeps it. The binary values (ID, PublicKey, AAGUID) are base64url text,
// encoded by the caller; Transports are joined with commas.
type StaffPasskey struct {
	ID           string
	AccountID    string
	Name         string
	PublicKey    string
	Attestation  string
	AAGUID       string
	Transports   []string
	Flags        int64
	SignCount    int64
	CloneWarning bool
	CreatedAt    time.Time
	LastUsed     time.Time // zero when never used
}

const passkeyColumns = `credential_id, account_id, name, public_key, attestation, aaguid, transports, flags, sign_count, clone_warning, created_at, last_used_at`

// ErrDuplicatePasskey means a passkey with that credential id is kept
// already (of this account or another).
var ErrDuplicatePasskey = errors.New("store: a passkey with this credential id is kept already")

// AddStaffPasskey stores a new passkey, stamped with the store's clock. A
// credential id already kept is ErrDuplicatePasskey: an authenticator's id
// is unique.
func (s *Store) AddStaffPasskey(ctx context.Context, p StaffPasskey) error {
	_, err := s.db.ExecContext(ctx, `
		INSERT INTO staff_passkeys (`+passkeyColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0)`,
		p.ID, p.AccountID, p.Name, p.PublicKey, p.Attestation, p.AAGUID, strings.Join(p.Transports, ","),
		p.Flags, p.SignCount, boolInt(p.CloneWarning), unix(s.now()))
	if isUniqueViolation(err) {
		return ErrDuplicatePasskey
	}
	if err != nil {
		return fmt.Errorf("add staff passkey: %w", err)
	}
	return nil
}

// StaffPasskeys returns the account's passkeys, oldest first.
func (s *Store) StaffPasskeys(ctx context.Context, accountID string) ([]StaffPasskey, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+passkeyColumns+` FROM staff_passkeys WHERE account_id = $1 ORDER BY created_at, credential_id`, accountID)
	if err != nil {
		return nil, fmt.Errorf("list staff passkeys: %w", err)
	}
	defer rows.Close()
	var out []StaffPasskey
	for rows.Next() {
		p, err := scanPasskey(rows)
		if err != nil {
			return nil, fmt.Errorf("list staff passkeys: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list staff passkeys: %w", err)
	}
	return out, nil
}

// StaffPasskey returns the passkey with this credential id, or ErrNotFound.
func (s *Store) StaffPasskey(ctx context.Context, id string) (StaffPasskey, error) {
	p, err := scanPasskey(s.db.QueryRowContext(ctx, `SELECT `+passkeyColumns+` FROM staff_passkeys WHERE credential_id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return StaffPasskey{}, ErrNotFound
	}
	if err != nil {
		return StaffPasskey{}, fmt.Errorf("get staff passkey: %w", err)
	}
	return p, nil
}

func scanPasskey(row interface{ Scan(...any) error }) (StaffPasskey, error) {
	var (
		p                   StaffPasskey
		transports          string
		clone               int
		created, lastUsedAt int64
	)
	if err := row.Scan(&p.ID, &p.AccountID, &p.Name, &p.PublicKey, &p.Attestation, &p.AAGUID, &transports,
		&p.Flags, &p.SignCount, &clone, &created, &lastUsedAt); err != nil {
		return StaffPasskey{}, err
	}
	if transports != "" {
		p.Transports = strings.Split(transports, ",")
	}
	p.CloneWarning, p.CreatedAt = clone == 1, fromUnix(created)
	if lastUsedAt != 0 {
		p.LastUsed = fromUnix(lastUsedAt)
	}
	return p, nil
}

// ErrPasskeyCounter means a sign-in's signature count is not past the one
// kept: another sign-in with the passkey was recorded first.
var ErrPasskeyCounter = errors.New("store: the passkey's signature count has moved past this sign-in's")

// UseStaffPasskey records a sign-in assertion of the passkey: its new
// signature count and flags, and when. The count only moves forward: the
// row changes only when the kept count is below signCount (or both are 0,
// an authenticator without a counter), so that of two sign-ins at once the
// later count stays; the other gets ErrPasskeyCounter and is no sign-in.
// With cloneWarning (the caller saw the count go backwards) the passkey is
// only marked copied, its count and last use left as they were.
// ErrNotFound when it is gone.
func (s *Store) UseStaffPasskey(ctx context.Context, id string, signCount, flags int64, cloneWarning bool, now time.Time) error {
	if cloneWarning {
		n, err := s.execCount(ctx, `UPDATE staff_passkeys SET clone_warning = 1 WHERE credential_id = $1`, id)
		if err != nil {
			return fmt.Errorf("use staff passkey: %w", err)
		}
		if n == 0 {
			return ErrNotFound
		}
		return nil
	}
	n, err := s.execCount(ctx, `
		UPDATE staff_passkeys SET sign_count = $2, flags = $3, last_used_at = $4
		WHERE credential_id = $1 AND (sign_count < $2 OR (sign_count = 0 AND sign_count = $2))`,
		id, signCount, flags, unix(now))
	if err != nil {
		return fmt.Errorf("use staff passkey: %w", err)
	}
	if n == 1 {
		return nil
	}
	var one int
	err = s.db.QueryRowContext(ctx, `SELECT 1 FROM staff_passkeys WHERE credential_id = $1`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("use staff passkey: %w", err)
	}
	return ErrPasskeyCounter
}

// RemoveStaffPasskey deletes the account's passkey with this id; it
// reports whether there was one (another account's is not touched).
func (s *Store) RemoveStaffPasskey(ctx context.Context, accountID, id string) (bool, error) {
	n, err := s.execCount(ctx, `DELETE FROM staff_passkeys WHERE account_id = $1 AND credential_id = $2`, accountID, id)
	if err != nil {
		return false, fmt.Errorf("remove staff passkey: %w", err)
	}
	return n == 1, nil
}

// PutWebAuthnCeremony keeps the state of a begun ceremony until expires.
// Ceremonies expired at the store's clock are pruned on the way.
func (s *Store) PutWebAuthnCeremony(ctx context.Context, id, kind, accountID string, data []byte, expires time.Time) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM staff_webauthn_ceremonies WHERE expires_at <= $1`, unix(s.now())); err != nil {
		return fmt.Errorf("put webauthn ceremony: %w", err)
	}
	_, err := s.db.ExecContext(ctx, `
		INSERT INTO staff_webauthn_ceremonies (id, kind, account_id, data, expires_at) VALUES ($1, $2, $3, $4, $5)`,
		id, kind, accountID, string(data), unix(expires))
	if err != nil {
		return fmt.Errorf("put webauthn ceremony: %w", err)
	}
	return nil
}

// TakeWebAuthnCeremony returns the state of the ceremony id of this kind
// and deletes it, so that it is good once: of two finishes at once, one
// gets it. ErrNotFound when it is unknown, taken, of another kind, or
// expired at now.
func (s *Store) TakeWebAuthnCeremony(ctx context.Context, id, kind string, now time.Time) (accountID string, data []byte, err error) {
	var (
		text    string
		expires int64
	)
	err = s.db.QueryRowContext(ctx, `SELECT account_id, data, expires_at FROM staff_webauthn_ceremonies WHERE id = $1 AND kind = $2`, id, kind).
		Scan(&accountID, &text, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil, ErrNotFound
	}
	if err != nil {
		return "", nil, fmt.Errorf("take webauthn ceremony: %w", err)
	}
	n, err := s.execCount(ctx, `DELETE FROM staff_webauthn_ceremonies WHERE id = $1`, id)
	if err != nil {
		return "", nil, fmt.Errorf("take webauthn ceremony: %w", err)
	}
	if n == 0 || expires <= unix(now) {
		return "", nil, ErrNotFound
	}
	return accountID, []byte(text), nil
}
