package store

import (
	"cmp"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// FunnelVisit is one visitor reaching one step of one clinic's booking flow
// on one day. Visitor is a keyed hash, never an address or a name.
type FunnelVisit struct {
	Clinic  string
	Day     string // the clinic's calendar day, "2006-01-02"
	Step    string
	Visitor string
}

// FunnelCount is how many visitors reached a step on a day.
type FunnelCount struct {
	Day      string
	Step     string
	Patients int64
}

// funnelChunk is how many visits go in one INSERT: 4 parameters each stays
// far below both databases' limits on parameters in one statement.
const funnelChunk = 250

// FunnelSalt returns the day's salt, making it if no replica has yet.
func (s *Store) FunnelSalt(ctx context.Context, day string) (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("funnel salt for %s: %w", day, err)
	}
	if _, err := s.db.ExecContext(ctx, `
		INSERT INTO funnel_salts (day, salt) VALUES ($1, $2)
		ON CONFLICT (day) DO NOTHING`, day, hex.EncodeToString(b[:])); err != nil {
		return "", fmt.Errorf("funnel salt for %s: %w", day, err)
	}
	var salt string
	if err := s.db.QueryRowContext(ctx, `SELECT salt FROM funnel_salts WHERE day = $1`, day).Scan(&salt); err != nil {
		return "", fmt.Errorf("funnel salt for %s: %w", day, err)
	}
	return salt, nil
}

// AddFunnelVisits counts the visits not counted before, by any replica,
// and records the zone each clinic's days are counted in (zones may be
// nil). It returns how many were new. Visitor rows and counts change in
// one transaction, so they always agree; visits are written in key order,
// so two replicas writing the same ones wait for each other instead of
// deadlocking.
func (s *Store) AddFunnelVisits(ctx context.Context, visits []FunnelVisit, zones map[string]string) (added int64, err error) {
	visits = slices.Clone(visits)
	slices.SortFunc(visits, func(a, b FunnelVisit) int {
		return cmp.Or(strings.Compare(a.Day, b.Day), strings.Compare(a.Clinic, b.Clinic),
			strings.Compare(a.Step, b.Step), strings.Compare(a.Visitor, b.Visitor))
	})
	visits = slices.Compact(visits)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("add funnel visits: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	type key struct{ clinic, day, step string }
	fresh := map[key]int64{}
	for chunk := range slices.Chunk(visits, funnelChunk) {
		rows := make([]string, len(chunk))
		args := make([]any, 0, 4*len(chunk))
		for i, v := range chunk {
			rows[i] = inList(4*i+1, 4)
			args = append(args, v.Clinic, v.Day, v.Step, v.Visitor)
		}
		res, err := tx.QueryContext(ctx, `
			INSERT INTO funnel_visitors (clinic, day, step, visitor) VALUES `+strings.Join(rows, ", ")+`
			ON CONFLICT DO NOTHING
			RETURNING clinic, day, step`, args...)
		if err != nil {
			return 0, fmt.Errorf("add funnel visits: %w", err)
		}
		for res.Next() {
			var k key
			if err := res.Scan(&k.clinic, &k.day, &k.step); err != nil {
				res.Close()
				return 0, fmt.Errorf("add funnel visits: %w", err)
			}
			fresh[k]++
		}
		if err := errors.Join(res.Err(), res.Close()); err != nil {
			return 0, fmt.Errorf("add funnel visits: %w", err)
		}
	}
	keys := make([]key, 0, len(fresh))
	for k := range fresh {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b key) int {
		return cmp.Or(strings.Compare(a.clinic, b.clinic), strings.Compare(a.day, b.day), strings.Compare(a.step, b.step))
	})
	for _, k := range keys {
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO funnel_counts (clinic, day, step, patients) VALUES ($1, $2, $3, $4)
			ON CONFLICT (clinic, day, step) DO UPDATE SET patients = funnel_counts.patients + excluded.patients`,
			k.clinic, k.day, k.step, fresh[k]); err != nil {
			return 0, fmt.Errorf("add funnel counts: %w", err)
		}
		added += fresh[k]
	}
	clinics := make([]string, 0, len(zones))
	for c := range zones {
		clinics = append(clinics, c)
	}
	slices.Sort(clinics)
	for _, c := range clinics {
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO funnel_zones (clinic, zone) VALUES ($1, $2)
			ON CONFLICT (clinic) DO UPDATE SET zone = excluded.zone
			WHERE funnel_zones.zone <> excluded.zone`, c, zones[c]); err != nil {
			return 0, fmt.Errorf("record funnel zone of %s: %w", c, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("add funnel visits: %w", err)
	}
	return added, nil
}

// FunnelCounts returns a clinic's counts for the days from from to to,
// both included ("2006-01-02"), by day then step. Days and steps nobody
// reached have no row.
func (s *Store) FunnelCounts(ctx context.Context, clinic, from, to string) ([]FunnelCount, error) {
	rows, err := s.db.QueryContext(ctx, `
		SELECT day, step, patients FROM funnel_counts
		WHERE clinic = $1 AND day >= $2 AND day <= $3
		ORDER BY day, step`, clinic, from, to)
	if err != nil {
		return nil, fmt.Errorf("funnel counts of %s: %w", clinic, err)
	}
	defer rows.Close()
	var out []FunnelCount
	for rows.Next() {
		var c FunnelCount
		if err := rows.Scan(&c.Day, &c.Step, &c.Patients); err != nil {
			return nil, fmt.Errorf("funnel counts of %s: %w", clinic, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("funnel counts of %s: %w", clinic, err)
	}
	return out, nil
}

// FunnelZones returns the zone each clinic's days are counted in, by slug.
func (s *Store) FunnelZones(ctx context.Context) (map[string]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT clinic, zone FROM funnel_zones`)
	if err != nil {
		return nil, fmt.Errorf("funnel zones: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var c, z string
		if err := rows.Scan(&c, &z); err != nil {
			return nil, fmt.Errorf("funnel zones: %w", err)
		}
		out[c] = z
	}
	return out, rows.Err()
}

// FunnelZone returns the zone a clinic's days are counted in, or
// ErrNotFound before its first count.
func (s *Store) FunnelZone(ctx context.Context, clinic string) (string, error) {
	var z string
	err := s.db.QueryRowContext(ctx, `SELECT zone FROM funnel_zones WHERE clinic = $1`, clinic).Scan(&z)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("funnel zone of %s: %w", clinic, err)
	}
	return z, nil
}

// PruneFunnel deletes the salts and visitor hashes of days before
// rawBefore, and the counts of days before countsBefore.
func (s *Store) PruneFunnel(ctx context.Context, rawBefore, countsBefore string) error {
	for _, q := range []struct{ sql, before string }{
		{`DELETE FROM funnel_visitors WHERE day < $1`, rawBefore},
		{`DELETE FROM funnel_salts WHERE day < $1`, rawBefore},
		{`DELETE FROM funnel_counts WHERE day < $1`, countsBefore},
	} {
		if _, err := s.db.ExecContext(ctx, q.sql, q.before); err != nil {
			return fmt.Errorf("prune funnel: %w", err)
		}
	}
	return nil
}
