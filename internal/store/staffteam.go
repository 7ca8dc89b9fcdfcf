package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// The console's Staff page: a clinic's admins invite and remove the
// clinic's staff. Each change is recorded in clinic_audit in the same
// transaction, as settings changes are.

var (
	// ErrAlreadyMember means the address already has access to the clinic
	// (as its staff, or as an operator of every clinic).
	ErrAlreadyMember = errors.New("store: the account already has access to the clinic")
	// ErrLastAdmin means the change would leave the clinic with no admin.
	ErrLastAdmin = errors.New("store: the clinic's last admin")
)

// ClinicStaffMember is one account's access to one clinic.
type ClinicStaffMember struct {
	AccountID string
	Email     string
	Role      string
	// Since is when the account was given access to the clinic.
	Since time.Time
}

// ClinicStaffMembers lists the accounts that are members of clinic, by
// email. Operators, who see every clinic without being members, are not
// among them.
func (s *Store) ClinicStaffMembers(ctx context.Context, clinic string) ([]ClinicStaffMember, error) {
	rows, err := s.db.QueryContext(ctx, `
		SELECT a.id, a.email, m.role, m.created_at
		FROM staff_members m JOIN staff_accounts a ON a.id = m.account_id
		WHERE m.clinic = $1 ORDER BY a.email`, clinic)
	if err != nil {
		return nil, fmt.Errorf("staff of %s: %w", clinic, err)
	}
	defer rows.Close()
	var out []ClinicStaffMember
	for rows.Next() {
		var (
			m     ClinicStaffMember
			since int64
		)
		if err := rows.Scan(&m.AccountID, &m.Email, &m.Role, &since); err != nil {
			return nil, fmt.Errorf("staff of %s: %w", clinic, err)
		}
		m.Since = fromUnix(since)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("staff of %s: %w", clinic, err)
	}
	return out, nil
}

// AddStaffMemberAudited gives the account for email (created with id when
// there is none) role in clinic and records the change as audit says
// (Clinic, At and Revision are filled in), all in one transaction. An
// address that already has access to the clinic, as a member or as an
// operator, gives ErrAlreadyMember and changes nothing.
func (s *Store) AddStaffMemberAudited(ctx context.Context, id, email, clinic, role string, audit AuditEntry) (StaffAccount, error) {
	now := s.now()
	var accountID string
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// The upsert writes the account's row even when it is there, so
		// the row is locked until this commits: a removal that would
		// delete the account as left with no clinic (it locks the row
		// too) either goes first, and this makes the account anew, or
		// waits and then sees the membership added here.
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO staff_accounts (id, email, operator, session_epoch, created_at)
			VALUES ($1, $2, 0, 0, $3)
			ON CONFLICT (email) DO UPDATE SET email = excluded.email`, id, email, unix(now)); err != nil {
			return err
		}
		var operator int
		if err := tx.QueryRowContext(ctx, `SELECT id, operator FROM staff_accounts WHERE email = $1`, email).Scan(&accountID, &operator); err != nil {
			return err
		}
		if operator == 1 {
			return ErrAlreadyMember
		}
		n, err := txCount(ctx, tx, `
			INSERT INTO staff_members (account_id, clinic, role, created_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (account_id, clinic) DO NOTHING`, accountID, clinic, role, unix(now))
		if err != nil {
			return err
		}
		if n == 0 {
			return ErrAlreadyMember
		}
		return insertAudit(ctx, tx, clinic, now, audit)
	})
	if err != nil {
		if errors.Is(err, ErrAlreadyMember) {
			return StaffAccount{}, err
		}
		return StaffAccount{}, fmt.Errorf("add staff member of %s: %w", clinic, err)
	}
	return s.StaffAccount(ctx, accountID)
}

// RemoveStaffMemberAudited takes the account out of clinic and records it
// as audit says, in one transaction. Its sessions lose the clinic at their
// next request (every console request reads the account's clinics) and
// keep the account's other clinics; an account left with no clinic (and
// not an operator) is deleted, with its sign-in links, so its sessions
// end. ErrNotFound when the account is not a member of clinic;
// ErrLastAdmin, changing nothing, when it is the clinic's only admin.
func (s *Store) RemoveStaffMemberAudited(ctx context.Context, accountID, clinic string, audit AuditEntry) error {
	now := s.now()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// Lock the account's row first, as an invitation does, so one
		// being given another clinic meanwhile is not deleted below as
		// left with none.
		if _, err := tx.ExecContext(ctx, `UPDATE staff_accounts SET operator = operator WHERE id = $1`, accountID); err != nil {
			return err
		}
		var role string
		err := tx.QueryRowContext(ctx, `SELECT role FROM staff_members WHERE account_id = $1 AND clinic = $2`, accountID, clinic).Scan(&role)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		} else if err != nil {
			return err
		}
		// Two admins removed at once must not both go: touching the
		// clinic's admin rows first makes a second such transaction wait
		// for this one (PostgreSQL's row locks; SQLite has one writer),
		// and its delete then sees this one's. The delete itself checks
		// that another admin stays, so the check and the change are one
		// statement.
		if _, err := tx.ExecContext(ctx, `UPDATE staff_members SET role = role WHERE clinic = $1 AND role = 'admin'`, clinic); err != nil {
			return err
		}
		n, err := txCount(ctx, tx, `
			DELETE FROM staff_members WHERE account_id = $1 AND clinic = $2
			AND (role <> 'admin' OR EXISTS (
				SELECT 1 FROM staff_members o WHERE o.clinic = $2 AND o.role = 'admin' AND o.account_id <> $1))`,
			accountID, clinic)
		if err != nil {
			return err
		}
		if n == 0 {
			return ErrLastAdmin
		}
		var left, operator int
		if err := tx.QueryRowContext(ctx, `
			SELECT (SELECT COUNT(*) FROM staff_members WHERE account_id = $1), operator
			FROM staff_accounts WHERE id = $1`, accountID).Scan(&left, &operator); err != nil {
			return err
		}
		if left == 0 && operator == 0 {
			if _, err := deleteStaffAccount(ctx, tx, accountID); err != nil {
				return err
			}
		}
		return insertAudit(ctx, tx, clinic, now, audit)
	})
	if err != nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrLastAdmin) {
		return fmt.Errorf("remove staff member of %s: %w", clinic, err)
	}
	return err
}

// insertAudit records one change to clinic's staff at the clinic's current
// revision (0 for a clinic configured by environment, which has none). The
// Audit page lists a second's rows by ascending seq (a settings save's in
// the order made); each staff change takes a seq below the second's
// lowest, so the newest of several in one second comes first.
func insertAudit(ctx context.Context, tx *sql.Tx, clinic string, now time.Time, e AuditEntry) error {
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `
		INSERT INTO clinic_audit (id, clinic, at, seq, revision, actor, setting, old_value, new_value)
		VALUES ($1, $2, $3,
			COALESCE((SELECT MIN(seq) FROM clinic_audit WHERE clinic = $2 AND at = $3), 0) - 1,
			COALESCE((SELECT revision FROM clinics WHERE slug = $2), 0), $4, $5, $6, $7)`,
		hex.EncodeToString(id[:]), clinic, unix(now), e.Actor, e.Setting, e.OldValue, e.NewValue)
	if err != nil {
		return fmt.Errorf("audit clinic %s: %w", clinic, err)
	}
	return nil
}

func txCount(ctx context.Context, tx *sql.Tx, query string, args ...any) (int64, error) {
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// AuditStaffChange records a change to clinic's staff made outside the
// console (`portal staff add|remove`, whose changes are the accounts'
// own writes), so the Audit page shows every change to who has access.
func (s *Store) AuditStaffChange(ctx context.Context, clinic string, audit AuditEntry) error {
	now := s.now()
	return s.inTx(ctx, func(tx *sql.Tx) error { return insertAudit(ctx, tx, clinic, now, audit) })
}
