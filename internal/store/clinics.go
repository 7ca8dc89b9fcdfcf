package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

var (
	// ErrDuplicateClinic means a clinic with this slug already exists.
	ErrDuplicateClinic = errors.New("store: a clinic with this slug already exists")
	// ErrClinicChanged means the clinic was changed by someone else since it
	// was read (its revision moved on); read it again and retry.
	ErrClinicChanged = errors.New("store: the clinic was changed since it was read")
)

// Clinic is a clinic's stored record. The access token is kept sealed: the
// store never sees it in the clear.
type Clinic struct {
	Slug       string
	Name       string
	Phone      string
	PrivacyURL string
	// SealedAccessToken is the coreplus access token encrypted by the
	// caller; the store keeps it as given.
	SealedAccessToken  string
	FrameOrigins       []string
	BrandColour        string
	LogoURL            string
	MinNotice          time.Duration // to the second
	WindowDays         int
	EmailReminders     bool
	SMSReminders       bool
	CancellationCutoff time.Duration // to the second
	LocationIDs        []string
	PractitionerIDs    []string
	ServiceIDs         []string
	// Addresses gives each location's street address by coreplus location id.
	Addresses map[string]string
	// PractitionerProfiles describes practitioners by coreplus id.
	PractitionerProfiles map[string]PractitionerProfile
	// ServiceDescriptions gives a line about each appointment type by id.
	ServiceDescriptions map[string]string
	// LocationDirections gives how to find each location by id.
	LocationDirections map[string]string
	CancellationPolicy string
	NotificationEmail  string
	DraftTTL           time.Duration // to the second
	Enabled            bool
	// Revision is 1 on creation and goes up by one with every update.
	Revision  int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// PractitionerProfile is what a clinic says about one practitioner, as stored.
type PractitionerProfile struct {
	Description string   `json:"description"`
	Services    []string `json:"services"`
}

const clinicColumns = `slug, name, phone, privacy_url, access_token, frame_origins,
	brand_colour, logo_url, min_notice_seconds, window_days, email_reminders,
	sms_reminders, cancellation_cutoff_seconds, location_ids, practitioner_ids,
	service_ids, addresses, practitioner_profiles, draft_ttl_seconds,
	enabled, revision, created_at, updated_at, service_descriptions,
	location_directions, cancellation_policy, notification_email`

// CreateClinic inserts c with revision 1. Slug, Name and SealedAccessToken
// are required; ErrDuplicateClinic if the slug is taken.
func (s *Store) CreateClinic(ctx context.Context, c Clinic) error {
	if c.Slug == "" || c.Name == "" || c.SealedAccessToken == "" {
		return errors.New("create clinic: slug, name and access token are required")
	}
	now := unix(s.now())
	lists, err := clinicLists(c)
	if err != nil {
		return fmt.Errorf("create clinic %s: %w", c.Slug, err)
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO clinics (`+clinicColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, 1, $21, $21, $22, $23, $24, $25)`,
		c.Slug, c.Name, c.Phone, c.PrivacyURL, c.SealedAccessToken, lists[0],
		c.BrandColour, c.LogoURL, seconds(c.MinNotice), c.WindowDays, boolInt(c.EmailReminders),
		boolInt(c.SMSReminders), seconds(c.CancellationCutoff), lists[1], lists[2],
		lists[3], lists[4], lists[5], seconds(c.DraftTTL), boolInt(c.Enabled), now,
		lists[6], lists[7], c.CancellationPolicy, c.NotificationEmail)
	if isUniqueViolation(err) {
		return ErrDuplicateClinic
	}
	if err != nil {
		return fmt.Errorf("create clinic %s: %w", c.Slug, err)
	}
	return nil
}

// GetClinic returns the clinic with this slug, enabled or not, or ErrNotFound.
func (s *Store) GetClinic(ctx context.Context, slug string) (Clinic, error) {
	c, err := scanClinic(s.db.QueryRowContext(ctx, `SELECT `+clinicColumns+` FROM clinics WHERE slug = $1`, slug))
	if errors.Is(err, sql.ErrNoRows) {
		return Clinic{}, ErrNotFound
	}
	if err != nil {
		return Clinic{}, fmt.Errorf("get clinic %s: %w", slug, err)
	}
	return c, nil
}

// ListClinics returns every clinic, enabled or not, by slug.
func (s *Store) ListClinics(ctx context.Context) ([]Clinic, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+clinicColumns+` FROM clinics ORDER BY slug`)
	if err != nil {
		return nil, fmt.Errorf("list clinics: %w", err)
	}
	defer rows.Close()
	var out []Clinic
	for rows.Next() {
		c, err := scanClinic(rows)
		if err != nil {
			return nil, fmt.Errorf("list clinics: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list clinics: %w", err)
	}
	return out, nil
}

// UpdateClinic saves every field of c but the slug and creation time, if the
// stored revision is still c.Revision; the stored revision then goes up by
// one. ErrNotFound for an unknown slug, ErrClinicChanged if someone else
// updated it since c was read.
func (s *Store) UpdateClinic(ctx context.Context, c Clinic) error {
	return s.updateClinic(ctx, s.db, c)
}

func (s *Store) updateClinic(ctx context.Context, db execer, c Clinic) error {
	if c.Name == "" || c.SealedAccessToken == "" {
		return errors.New("update clinic: name and access token are required")
	}
	lists, err := clinicLists(c)
	if err != nil {
		return fmt.Errorf("update clinic %s: %w", c.Slug, err)
	}
	res, err := db.ExecContext(ctx, `
		UPDATE clinics SET name = $2, phone = $3, privacy_url = $4, access_token = $5,
			frame_origins = $6, brand_colour = $7, logo_url = $8, min_notice_seconds = $9,
			window_days = $10, email_reminders = $11, sms_reminders = $12,
			cancellation_cutoff_seconds = $13, location_ids = $14, practitioner_ids = $15,
			service_ids = $16, addresses = $17, practitioner_profiles = $18,
			draft_ttl_seconds = $19, enabled = $20, revision = revision + 1, updated_at = $21,
			service_descriptions = $23, location_directions = $24,
			cancellation_policy = $25, notification_email = $26
		WHERE slug = $1 AND revision = $22`,
		c.Slug, c.Name, c.Phone, c.PrivacyURL, c.SealedAccessToken,
		lists[0], c.BrandColour, c.LogoURL, seconds(c.MinNotice),
		c.WindowDays, boolInt(c.EmailReminders), boolInt(c.SMSReminders),
		seconds(c.CancellationCutoff), lists[1], lists[2],
		lists[3], lists[4], lists[5], seconds(c.DraftTTL), boolInt(c.Enabled), unix(s.now()), c.Revision,
		lists[6], lists[7], c.CancellationPolicy, c.NotificationEmail)
	if err != nil {
		return fmt.Errorf("update clinic %s: %w", c.Slug, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("update clinic %s: %w", c.Slug, err)
	}
	if n == 1 {
		return nil
	}
	if _, err := s.GetClinic(ctx, c.Slug); err != nil {
		return err
	}
	return ErrClinicChanged
}

func scanClinic(row interface{ Scan(...any) error }) (Clinic, error) {
	var (
		c                                   Clinic
		origins, locs, pracs, svcs          string
		addresses, profiles                 string
		descriptions, directions            string
		notice, cutoff, email, sms, enabled int64
		created, updated, windowDays, ttl   int64
	)
	err := row.Scan(&c.Slug, &c.Name, &c.Phone, &c.PrivacyURL, &c.SealedAccessToken, &origins,
		&c.BrandColour, &c.LogoURL, &notice, &windowDays, &email,
		&sms, &cutoff, &locs, &pracs,
		&svcs, &addresses, &profiles, &ttl,
		&enabled, &c.Revision, &created, &updated, &descriptions,
		&directions, &c.CancellationPolicy, &c.NotificationEmail)
	if err != nil {
		return Clinic{}, err
	}
	for _, l := range []struct {
		text string
		into any
	}{
		{origins, &c.FrameOrigins}, {locs, &c.LocationIDs}, {pracs, &c.PractitionerIDs}, {svcs, &c.ServiceIDs},
		{addresses, &c.Addresses}, {profiles, &c.PractitionerProfiles},
		{descriptions, &c.ServiceDescriptions}, {directions, &c.LocationDirections},
	} {
		if err := json.Unmarshal([]byte(l.text), l.into); err != nil {
			return Clinic{}, fmt.Errorf("clinic %s: JSON column: %w", c.Slug, err)
		}
	}
	c.MinNotice, c.CancellationCutoff = time.Duration(notice)*time.Second, time.Duration(cutoff)*time.Second
	c.DraftTTL = time.Duration(ttl) * time.Second
	if len(c.Addresses) == 0 {
		c.Addresses = nil // as a clinic that never had any
	}
	if len(c.PractitionerProfiles) == 0 {
		c.PractitionerProfiles = nil
	}
	if len(c.ServiceDescriptions) == 0 {
		c.ServiceDescriptions = nil
	}
	if len(c.LocationDirections) == 0 {
		c.LocationDirections = nil
	}
	c.WindowDays = int(windowDays)
	c.EmailReminders, c.SMSReminders, c.Enabled = email == 1, sms == 1, enabled == 1
	c.CreatedAt, c.UpdatedAt = fromUnix(created), fromUnix(updated)
	return c, nil
}

// clinicLists encodes frame origins, locations, practitioners, services,
// addresses, practitioner profiles, service descriptions and location
// directions as JSON; nil is stored empty, not null.
func clinicLists(c Clinic) ([8]string, error) {
	var out [8]string
	for i, v := range []any{
		nonNilList(c.FrameOrigins), nonNilList(c.LocationIDs), nonNilList(c.PractitionerIDs), nonNilList(c.ServiceIDs),
		nonNilMap(c.Addresses), nonNilMap(c.PractitionerProfiles),
		nonNilMap(c.ServiceDescriptions), nonNilMap(c.LocationDirections),
	} {
		b, err := json.Marshal(v)
		if err != nil {
			return out, err
		}
		out[i] = string(b)
	}
	return out, nil
}

func nonNilList(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

func nonNilMap[V any](m map[string]V) map[string]V {
	if m == nil {
		return map[string]V{}
	}
	return m
}

func seconds(d time.Duration) int64 { return int64(d / time.Second) }

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// isUniqueViolation reports a primary key or unique constraint violation on
// either driver.
func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		return liteErr.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY || liteErr.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE
	}
	return false
}
