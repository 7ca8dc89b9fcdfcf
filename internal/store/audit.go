package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"time"
)

// AuditEntry is one clinic setting changed: by whom, when, from what to
// what. Values are as staff read them; the caller masks secrets.
type AuditEntry struct {
	Clinic string
	At     time.Time
	// Revision is the clinic's revision the change made.
	Revision int64
	// Actor is the staff account's email, or "command line".
	Actor    string
	Setting  string
	OldValue string
	NewValue string
}

// UpdateClinicAudited saves c as UpdateClinic does and, in the same
// transaction, records changes (Clinic, At and Revision are filled in):
// a refused or failed update records nothing.
func (s *Store) UpdateClinicAudited(ctx context.Context, c Clinic, changes []AuditEntry) error {
	now := s.now()
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.updateClinic(ctx, tx, c); err != nil {
			return err
		}
		for i, e := range changes {
			var id [16]byte
			if _, err := rand.Read(id[:]); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `
				INSERT INTO clinic_audit (id, clinic, at, seq, revision, actor, setting, old_value, new_value)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
				hex.EncodeToString(id[:]), c.Slug, unix(now), i, c.Revision+1, e.Actor, e.Setting, e.OldValue, e.NewValue); err != nil {
				return fmt.Errorf("audit clinic %s: %w", c.Slug, err)
			}
		}
		return nil
	})
}

// ClinicAudit lists a clinic's recorded changes, newest first, at most
// limit, leaving out those of the setting named without ("" for none).
func (s *Store) ClinicAudit(ctx context.Context, clinic string, limit int, without ...string) ([]AuditEntry, error) {
	if len(without) > 1 {
		return nil, fmt.Errorf("clinic audit %s: one setting to leave out at most", clinic)
	}
	rows, err := s.db.QueryContext(ctx, `
		SELECT clinic, at, revision, actor, setting, old_value, new_value FROM clinic_audit
		WHERE clinic = $1 AND setting <> $3 ORDER BY at DESC, revision DESC, seq LIMIT $2`, clinic, limit, append(without, "")[0])
	if err != nil {
		return nil, fmt.Errorf("clinic audit %s: %w", clinic, err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var (
			e  AuditEntry
			at int64
		)
		if err := rows.Scan(&e.Clinic, &at, &e.Revision, &e.Actor, &e.Setting, &e.OldValue, &e.NewValue); err != nil {
			return nil, fmt.Errorf("clinic audit %s: %w", clinic, err)
		}
		e.At = fromUnix(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("clinic audit %s: %w", clinic, err)
	}
	return out, nil
}
