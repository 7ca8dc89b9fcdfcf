package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// StaffAccount is one person who may sign in to the console. Email is
// stored as the caller normalised it.
type StaffAccount struct {
	ID       string
	Email    string
	Operator bool
	// Epoch is the account's session epoch: a session begun in an older
	// epoch is over.
	Epoch     int64
	CreatedAt time.Time
	// Members are the clinics the account belongs to, by clinic slug.
	Members []StaffMember
}

// StaffMember is an account's role in one clinic.
type StaffMember struct {
	Clinic string
	Role   string
}

// PutStaffAccount creates the account for email (id is used only when it
// is new), or finds the one there is, makes it an operator when operator is
// set (never the other way), and returns it. It is what `portal staff add`
// does first.
func (s *Store) PutStaffAccount(ctx context.Context, id, email string, operator bool) (StaffAccount, error) {
	_, err := s.db.ExecContext(ctx, `
		INSERT INTO staff_accounts (id, email, operator, session_epoch, created_at)
		VALUES ($1, $2, $3, 0, $4)
		ON CONFLICT (email) DO NOTHING`, id, email, boolInt(operator), unix(s.now()))
	if err != nil {
		return StaffAccount{}, fmt.Errorf("put staff account: %w", err)
	}
	if operator {
		if _, err := s.db.ExecContext(ctx, `UPDATE staff_accounts SET operator = 1 WHERE email = $1`, email); err != nil {
			return StaffAccount{}, fmt.Errorf("put staff account: %w", err)
		}
	}
	return s.StaffAccountByEmail(ctx, email)
}

// PutStaffMember gives the account role in clinic, replacing the role it
// had there.
func (s *Store) PutStaffMember(ctx context.Context, accountID, clinic, role string) error {
	_, err := s.db.ExecContext(ctx, `
		INSERT INTO staff_members (account_id, clinic, role, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (account_id, clinic) DO UPDATE SET role = excluded.role`,
		accountID, clinic, role, unix(s.now()))
	if err != nil {
		return fmt.Errorf("put staff member of %s: %w", clinic, err)
	}
	return nil
}

// RemoveStaffMember takes the account out of clinic; it reports whether it
// was a member.
func (s *Store) RemoveStaffMember(ctx context.Context, accountID, clinic string) (bool, error) {
	n, err := s.execCount(ctx, `DELETE FROM staff_members WHERE account_id = $1 AND clinic = $2`, accountID, clinic)
	if err != nil {
		return false, fmt.Errorf("remove staff member of %s: %w", clinic, err)
	}
	return n == 1, nil
}

// RemoveStaffAccount deletes the account, its memberships, its sign-in
// links and its passkeys, in one transaction; it reports whether there was
// one.
func (s *Store) RemoveStaffAccount(ctx context.Context, accountID string) (bool, error) {
	var removed bool
	err := s.inTx(ctx, func(tx *sql.Tx) (err error) {
		removed, err = deleteStaffAccount(ctx, tx, accountID)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("remove staff account: %w", err)
	}
	return removed, nil
}

// deleteStaffAccount deletes the account and every row that is its own
// within tx; it reports whether there was one. The one list of what an
// account owns, for RemoveStaffAccount and the console's removal alike.
func deleteStaffAccount(ctx context.Context, tx *sql.Tx, accountID string) (bool, error) {
	// Deleted explicitly: SQLite enforces ON DELETE CASCADE only where the
	// foreign_keys pragma is on, and a second copy of the rule costs nothing.
	for _, q := range []string{
		`DELETE FROM staff_sign_in_links WHERE account_id = $1`,
		`DELETE FROM staff_members WHERE account_id = $1`,
		`DELETE FROM staff_passkeys WHERE account_id = $1`,
	} {
		if _, err := tx.ExecContext(ctx, q, accountID); err != nil {
			return false, err
		}
	}
	n, err := txCount(ctx, tx, `DELETE FROM staff_accounts WHERE id = $1`, accountID)
	return n == 1, err
}

// StaffAccountByEmail returns the account with this (normalised) email,
// with its memberships, or ErrNotFound.
func (s *Store) StaffAccountByEmail(ctx context.Context, email string) (StaffAccount, error) {
	return s.staffAccount(ctx, `WHERE email = $1`, email)
}

// StaffAccount returns the account with this id, with its memberships, or
// ErrNotFound.
func (s *Store) StaffAccount(ctx context.Context, id string) (StaffAccount, error) {
	return s.staffAccount(ctx, `WHERE id = $1`, id)
}

func (s *Store) staffAccount(ctx context.Context, where string, arg string) (StaffAccount, error) {
	var (
		a        StaffAccount
		operator int
		created  int64
	)
	err := s.db.QueryRowContext(ctx, `SELECT id, email, operator, session_epoch, created_at FROM staff_accounts `+where, arg).
		Scan(&a.ID, &a.Email, &operator, &a.Epoch, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return StaffAccount{}, ErrNotFound
	}
	if err != nil {
		return StaffAccount{}, fmt.Errorf("get staff account: %w", err)
	}
	a.Operator, a.CreatedAt = operator == 1, fromUnix(created)
	rows, err := s.db.QueryContext(ctx, `SELECT clinic, role FROM staff_members WHERE account_id = $1 ORDER BY clinic`, a.ID)
	if err != nil {
		return StaffAccount{}, fmt.Errorf("get staff account: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var m StaffMember
		if err := rows.Scan(&m.Clinic, &m.Role); err != nil {
			return StaffAccount{}, fmt.Errorf("get staff account: %w", err)
		}
		a.Members = append(a.Members, m)
	}
	if err := rows.Err(); err != nil {
		return StaffAccount{}, fmt.Errorf("get staff account: %w", err)
	}
	return a, nil
}

// ListStaffAccounts returns every account, by email, with its memberships.
func (s *Store) ListStaffAccounts(ctx context.Context) ([]StaffAccount, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM staff_accounts ORDER BY email`)
	if err != nil {
		return nil, fmt.Errorf("list staff accounts: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list staff accounts: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list staff accounts: %w", err)
	}
	out := make([]StaffAccount, 0, len(ids))
	for _, id := range ids {
		a, err := s.StaffAccount(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue // removed meanwhile
		} else if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// NextStaffEpoch moves the account to a new session epoch, which ends every
// session begun before, and returns it. The account's unused sign-in links
// go in the same transaction: a link lying in an inbox would otherwise
// begin a session in the new epoch.
func (s *Store) NextStaffEpoch(ctx context.Context, accountID string) (int64, error) {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE staff_accounts SET session_epoch = session_epoch + 1 WHERE id = $1`, accountID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return cmp.Or(err, ErrNotFound)
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM staff_sign_in_links WHERE account_id = $1 AND used_at = 0`, accountID)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return 0, err
	}
	if err != nil {
		return 0, fmt.Errorf("next session epoch: %w", err)
	}
	a, err := s.StaffAccount(ctx, accountID)
	return a.Epoch, err
}

// CreateSignInLink stores the hash of a sign-in link's token for the
// account, good until expires. Links that expired a day before are deleted
// on the way: nothing else needs them.
func (s *Store) CreateSignInLink(ctx context.Context, tokenHash, accountID string, expires time.Time) error {
	now := s.now()
	if _, err := s.db.ExecContext(ctx, `DELETE FROM staff_sign_in_links WHERE expires_at <= $1`, unix(now.Add(-24*time.Hour))); err != nil {
		return fmt.Errorf("create sign-in link: %w", err)
	}
	_, err := s.db.ExecContext(ctx, `
		INSERT INTO staff_sign_in_links (token_hash, account_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
		tokenHash, accountID, unix(now), unix(expires))
	if err != nil {
		return fmt.Errorf("create sign-in link: %w", err)
	}
	return nil
}

// UseSignInLink marks the link with this hash used, if it is unused and
// unexpired at now, and returns its account id. Of two requests using one
// link at once, one gets it: the update is a compare-and-set. A link that
// is unknown, used or expired gives ErrNotFound.
func (s *Store) UseSignInLink(ctx context.Context, tokenHash string, now time.Time) (string, error) {
	n, err := s.execCount(ctx, `
		UPDATE staff_sign_in_links SET used_at = $2
		WHERE token_hash = $1 AND used_at = 0 AND expires_at > $2`, tokenHash, unix(now))
	if err != nil {
		return "", fmt.Errorf("use sign-in link: %w", err)
	}
	if n == 0 {
		return "", ErrNotFound
	}
	var id string
	if err := s.db.QueryRowContext(ctx, `SELECT account_id FROM staff_sign_in_links WHERE token_hash = $1`, tokenHash).Scan(&id); err != nil {
		return "", fmt.Errorf("use sign-in link: %w", err)
	}
	return id, nil
}

// SignInLinkUsable reports whether the link with this hash is unused and
// unexpired at now, without using it: the page a link opens asks before
// it offers the button that signs in.
func (s *Store) SignInLinkUsable(ctx context.Context, tokenHash string, now time.Time) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `
		SELECT COUNT(*) FROM staff_sign_in_links WHERE token_hash = $1 AND used_at = 0 AND expires_at > $2`,
		tokenHash, unix(now)).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("check sign-in link: %w", err)
	}
	return n == 1, nil
}

// EndStaffSession records the console session sid as signed out until
// expires, when it would have ended anyway. Rows whose expiry is past at
// now are pruned on the way. Ending a session twice is not an error.
func (s *Store) EndStaffSession(ctx context.Context, sid string, expires, now time.Time) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM staff_ended_sessions WHERE expires_at <= $1`, unix(now)); err != nil {
		return fmt.Errorf("end console session: %w", err)
	}
	_, err := s.db.ExecContext(ctx, `
		INSERT INTO staff_ended_sessions (sid, expires_at) VALUES ($1, $2)
		ON CONFLICT (sid) DO NOTHING`, sid, unix(expires))
	if err != nil {
		return fmt.Errorf("end console session: %w", err)
	}
	return nil
}

// StaffSessionEnded reports whether the console session sid was signed out.
func (s *Store) StaffSessionEnded(ctx context.Context, sid string) (bool, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM staff_ended_sessions WHERE sid = $1`, sid).Scan(&n); err != nil {
		return false, fmt.Errorf("check console session: %w", err)
	}
	return n > 0, nil
}
