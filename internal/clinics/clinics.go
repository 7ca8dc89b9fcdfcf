// Package clinics keeps the clinics a portal serves as records in the store,
// each with its coreplus access token sealed by a key from configuration,
// and turns them into the booking rules' clinics. The store sees only sealed
// tokens; logs and commands see only masked ones.
package clinics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/internal/store"
)

// Token is a coreplus access token. Printing or logging it shows only its
// last four characters; Reveal gives the whole token to the one caller that
// sends it.
type Token string

// Reveal returns the whole token.
func (t Token) Reveal() string { return string(t) }

// String masks the token.
func (t Token) String() string { return Mask(string(t)) }

// GoString masks the token in %#v.
func (t Token) GoString() string { return strconv.Quote(t.String()) }

// LogValue masks the token in slog output.
func (t Token) LogValue() slog.Value { return slog.StringValue(t.String()) }

// MarshalText masks the token in JSON and other encodings.
func (t Token) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// Mask shows the last four characters of a secret, and only when it is long
// enough that they give nothing useful away.
func Mask(s string) string {
	if s == "" {
		return "(none)"
	}
	if len(s) < 16 {
		return "••••"
	}
	return "••••" + s[len(s)-4:]
}

// Record is one clinic's settings and credentials, in the clear.
type Record struct {
	Slug       string
	Name       string
	Phone      string
	PrivacyURL string
	// AccessToken is the clinic's coreplus access token for the operator's add-on.
	AccessToken  Token
	FrameOrigins []string
	Theme        booking.Theme
	MinNotice    time.Duration
	WindowDays   int
	// EmailReminders and SMSReminders are asked of coreplus on each booking.
	EmailReminders     bool
	SMSReminders       bool
	CancellationCutoff time.Duration
	// Locations, Practitioners and Services list the coreplus ids offered
	// online; an empty list offers everything coreplus lists.
	Locations     []string
	Practitioners []string
	Services      []string
	// Addresses gives each location's street address by coreplus location
	// id (coreplus locations carry none).
	Addresses map[string]string
	// PractitionerProfiles describes practitioners by coreplus id: a line
	// shown under the name and the services each offers online.
	PractitionerProfiles map[string]booking.PractitionerProfile
	// ServiceDescriptions gives a line about each service by coreplus
	// appointment type id.
	ServiceDescriptions map[string]string
	// LocationDirections gives each location's one-line directions by
	// coreplus location id.
	LocationDirections map[string]string
	// CancellationPolicy is the clinic's policy text; line breaks separate
	// paragraphs.
	CancellationPolicy string
	// NotificationEmail is the one address the clinic's staff are told at.
	NotificationEmail string
	// DraftTTL is how long a patient's typed details are kept after their
	// last change if no booking is made.
	DraftTTL time.Duration
	Enabled  bool
	// Revision is the stored revision the record was read at.
	Revision  int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// NewRecord is a record with the default rules, enabled.
func NewRecord() Record {
	return Record{
		MinNotice:      booking.DefaultMinNotice,
		WindowDays:     booking.DefaultBookingWindowDays,
		EmailReminders: true,
		SMSReminders:   true,
		DraftTTL:       booking.DefaultDraftTTL,
		// Patients cancel and move online until a day before (issue 15).
		CancellationCutoff: booking.DefaultCancellationCutoff,
		Enabled:            true,
	}
}

// Problem is one invalid field. Field is the setting's name as the command
// line spells it (without "--").
type Problem struct {
	Field   string
	Message string
}

func (p Problem) Error() string { return "--" + p.Field + " " + p.Message }

// Problems is every invalid field of a record.
type Problems []Problem

func (ps Problems) Error() string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.Error()
	}
	return strings.Join(s, "; ")
}

var (
	slugPattern   = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$`)
	colourPattern = regexp.MustCompile(`^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$`)
	idPattern     = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,64}$`)
)

// minDraftTTL leaves a patient time to type their details.
const minDraftTTL = 10 * time.Minute

// ReservedSlugs are first path segments the portal uses itself, and the
// second segments of /console/ that are not a clinic's (the console's
// pages of a clinic are /console/{clinic}/...).
var ReservedSlugs = []string{"healthz", "static", "api", "admin", "console", "clinics", "sign-in", "sign-out", "sign-out-everywhere"}

// Validate checks every field and returns Problems naming each bad one and
// what was expected, or nil. It never repeats the access token.
func (r Record) Validate() error {
	var ps Problems
	bad := func(field, format string, a ...any) {
		ps = append(ps, Problem{Field: field, Message: fmt.Sprintf(format, a...)})
	}
	switch {
	case !slugPattern.MatchString(r.Slug):
		bad("slug", "is %q: expected 1 to 40 lower-case letters, digits and inner hyphens, such as northside-physio", r.Slug)
	case slices.Contains(ReservedSlugs, r.Slug):
		bad("slug", "is %q, which the portal uses for its own pages: choose another", r.Slug)
	}
	if n := len([]rune(strings.TrimSpace(r.Name))); n == 0 || n > 120 {
		bad("name", "is empty or longer than 120 characters: expected the clinic's name as patients know it")
	}
	if len(r.Phone) > 40 {
		bad("phone", "is longer than 40 characters: expected a phone number such as 02 9000 0000")
	}
	if r.PrivacyURL != "" && !httpURL(r.PrivacyURL, false) {
		bad("privacy-url", "is %q: expected an absolute http(s) URL", r.PrivacyURL)
	}
	switch tok := r.AccessToken.Reveal(); {
	case tok == "":
		bad("access-token", "is empty: expected the access token the clinic granted the portal's add-on in coreplus")
	case strings.TrimSpace(tok) != tok || strings.ContainsAny(tok, " \t\r\n"):
		bad("access-token", "has spaces or line breaks: copy it exactly as coreplus shows it")
	case len(tok) > 50:
		bad("access-token", "is %d characters: coreplus issues at most 50", len(tok))
	}
	for _, o := range r.FrameOrigins {
		if _, ok := Origin(o); !ok {
			bad("frame-origins", "has %q: expected origins such as https://www.example-clinic.com.au, separated by commas", o)
		}
	}
	if r.Theme.BrandColour != "" && !colourPattern.MatchString(r.Theme.BrandColour) {
		bad("brand-colour", "is %q: expected a hex colour such as #0b5cad", r.Theme.BrandColour)
	}
	if r.Theme.LogoURL != "" && !httpURL(r.Theme.LogoURL, true) {
		bad("logo-url", "is %q: expected an absolute https URL", r.Theme.LogoURL)
	}
	if r.MinNotice < 0 || r.MinNotice > 30*24*time.Hour || r.MinNotice%time.Second != 0 {
		bad("min-notice", "is %v: expected whole seconds from 0 to 720h, such as 2h or 90m", r.MinNotice)
	}
	if r.WindowDays < 1 || r.WindowDays > 730 {
		bad("window-days", "is %d: expected a whole number of days from 1 to 730", r.WindowDays)
	}
	if r.CancellationCutoff < 0 || r.CancellationCutoff > 30*24*time.Hour || r.CancellationCutoff%time.Second != 0 {
		bad("cancellation-cutoff", "is %v: expected whole seconds from 0 to 720h, such as 24h", r.CancellationCutoff)
	}
	if r.DraftTTL < minDraftTTL || r.DraftTTL > 30*24*time.Hour || r.DraftTTL%time.Second != 0 {
		bad("draft-ttl", "is %v: expected whole seconds from 10m to 720h, so patients have time to finish", r.DraftTTL)
	}
	for _, l := range []struct {
		field string
		ids   []string
	}{{"locations", r.Locations}, {"practitioners", r.Practitioners}, {"services", r.Services}} {
		for _, id := range l.ids {
			if !idPattern.MatchString(id) {
				bad(l.field, "has %q: expected coreplus ids separated by commas", id)
			}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(r.Addresses)) {
		if !idPattern.MatchString(id) {
			bad("addresses", "has %q: expected coreplus location ids", id)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(r.PractitionerProfiles)) {
		if !idPattern.MatchString(id) {
			bad("practitioner-profiles", "has %q: expected coreplus practitioner ids", id)
		}
		for _, svc := range r.PractitionerProfiles[id].Services {
			if !idPattern.MatchString(svc) {
				bad("practitioner-profiles", "has service %q for practitioner %q: expected coreplus appointment type ids", svc, id)
			}
		}
	}
	for _, m := range []struct {
		field, ids string
		texts      map[string]string
		max        int
	}{
		{"service-descriptions", "appointment type", r.ServiceDescriptions, maxDescription},
		{"location-directions", "location", r.LocationDirections, maxDirections},
	} {
		for _, id := range slices.Sorted(maps.Keys(m.texts)) {
			if !idPattern.MatchString(id) {
				bad(m.field, "has %q: expected coreplus %s ids", id, m.ids)
				continue
			}
			if problem := lineProblem(m.texts[id], m.max, false); problem != "" {
				bad(m.field, "for %q %s", id, problem)
			}
		}
	}
	if problem := lineProblem(r.CancellationPolicy, maxPolicy, true); problem != "" && r.CancellationPolicy != "" {
		bad("cancellation-policy", "%s", problem)
	}
	if r.NotificationEmail != "" && !oneAddress(r.NotificationEmail) {
		bad("notification-email", "is %q: expected one email address such as bookings@example-clinic.com.au", r.NotificationEmail)
	}
	if ps == nil {
		return nil
	}
	return ps
}

// Longest texts a clinic may show patients: a description and directions
// fit on a card on a phone in two or three lines; a policy in a paragraph
// or two.
const (
	maxDescription = 160
	maxDirections  = 200
	maxPolicy      = 1000
)

// lineProblem says what is wrong with a text patients will read, or "":
// empty, longer than max characters, or holding control characters (only
// line breaks, and only where paragraphs is set).
func lineProblem(s string, max int, paragraphs bool) string {
	if strings.TrimSpace(s) == "" {
		return "is empty: expected a short text, or leave it out"
	}
	if n := utf8.RuneCountInString(s); n > max {
		return fmt.Sprintf("is %d characters: expected at most %d", n, max)
	}
	for _, c := range s {
		if c == '\n' && paragraphs {
			continue
		}
		if unicode.IsControl(c) || c == '\u2028' || c == '\u2029' {
			if paragraphs {
				return "has a control character: expected plain text, with line breaks only between paragraphs"
			}
			return "has a line break or control character: expected one line of plain text"
		}
	}
	return ""
}

// oneAddress reports whether s is exactly one bare email address, such as
// bookings@example.com, with no name, angle brackets or list.
func oneAddress(s string) bool {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s || len(s) > 254 {
		return false
	}
	_, domain, _ := strings.Cut(a.Address, "@")
	return strings.Contains(domain, ".") && !strings.ContainsAny(s, " \"")
}

// Origin normalises a frame origin, reporting whether it is one: an http
// or https scheme and a host of letters, digits, dots and hyphens (after an
// optional leading "*." wildcard label) with an optional port, nothing else. The host is lowercased and a default port
// (:443 for https, :80 for http) dropped, so an origin compares equal to
// the one a browser sends. Origins go into a Content-Security-Policy
// header: nothing that could end a source (a ';', a space, a quote) passes.
// The portal's configuration and the clinic records both use it.
func Origin(s string) (string, bool) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || u.Opaque != "" || u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" ||
		(u.Path != "" && u.Path != "/") {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "https" && scheme != "http" {
		return "", false
	}
	host := strings.ToLower(u.Host)
	// A leading "*." label is a CSP wildcard for any subdomain. It never
	// equals an origin a browser sends, so postMessage checks ignore it.
	wild := ""
	if rest, ok := strings.CutPrefix(host, "*."); ok {
		wild, host = "*.", rest
	}
	m := originHost.FindStringSubmatch(host)
	if m == nil || strings.HasPrefix(m[1], ".") || strings.HasSuffix(m[1], ".") || strings.Contains(m[1], "..") {
		return "", false
	}
	switch port := m[2]; {
	case port == "":
	case scheme == "https" && port == ":443", scheme == "http" && port == ":80":
		host = m[1]
	default:
		if n, err := strconv.Atoi(port[1:]); err != nil || n < 1 || n > 65535 || port[1] == '0' {
			return "", false
		}
	}
	return scheme + "://" + wild + host, true
}

// originHost is a frame origin's host and optional port, lowercased.
var originHost = regexp.MustCompile(`^([a-z0-9.-]+)(:[0-9]*)?$`)

func httpURL(s string, httpsOnly bool) bool {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return false
	}
	return u.Scheme == "https" || (!httpsOnly && u.Scheme == "http")
}

// Booking turns the record into the booking rules' clinic.
func (r Record) Booking() booking.Clinic {
	return booking.Clinic{
		Slug: r.Slug, Name: r.Name, Phone: r.Phone, PrivacyURL: r.PrivacyURL,
		MinNotice:            r.MinNotice,
		BookingWindowDays:    r.WindowDays,
		EmailReminders:       r.EmailReminders,
		SMSReminders:         r.SMSReminders,
		FrameOrigins:         normaliseOrigins(r.FrameOrigins),
		Locations:            r.Locations,
		Services:             r.Services,
		OfferedPractitioners: r.Practitioners,
		CancellationCutoff:   r.CancellationCutoff,
		Practitioners:        r.PractitionerProfiles,
		Addresses:            r.Addresses,
		LocationDirections:   r.LocationDirections,
		ServiceDescriptions:  r.ServiceDescriptions,
		CancellationPolicy:   r.CancellationPolicy,
		NotificationEmail:    r.NotificationEmail,
		DraftTTL:             r.DraftTTL,
		Theme:                r.Theme,
	}
}

// Repo keeps records in a store, sealing tokens with a keyring. Keys may be
// nil: then records can be listed and shown (tokens stay sealed) but not
// added, opened or served.
type Repo struct {
	store *store.Store
	keys  *Keyring
	log   *slog.Logger
}

// NewRepo keeps records in s with keys (which may be nil).
func NewRepo(s *store.Store, keys *Keyring) *Repo {
	return &Repo{store: s, keys: keys, log: slog.New(slog.DiscardHandler)}
}

// SetLogger sets where the repo reports stored settings it cannot use.
func (r *Repo) SetLogger(l *slog.Logger) {
	if l != nil {
		r.log = l
	}
}

// ErrNoKeys means a token must be sealed or opened but no keyring is configured.
var ErrNoKeys = errors.New("PORTAL_TOKEN_KEYS is not set: expected one or more 32-byte keys as hex or base64, separated by commas (for example: openssl rand -hex 32), the same on every replica")

// Errors passed through from the store.
var (
	ErrNotFound  = store.ErrNotFound
	ErrDuplicate = store.ErrDuplicateClinic
	ErrChanged   = store.ErrClinicChanged
)

// Add validates and stores a new clinic.
func (r *Repo) Add(ctx context.Context, rec Record) error {
	return r.save(ctx, rec, r.store.CreateClinic)
}

// Update validates and saves rec, which must have been read at the stored
// revision (ErrChanged otherwise). The token is sealed again with the first key.
func (r *Repo) Update(ctx context.Context, rec Record) error {
	return r.save(ctx, rec, r.store.UpdateClinic)
}

// save validates rec, seals its token and hands the row to write.
func (r *Repo) save(ctx context.Context, rec Record, write func(context.Context, store.Clinic) error) error {
	if err := rec.Validate(); err != nil {
		return err
	}
	row, err := r.seal(rec)
	if err != nil {
		return err
	}
	return write(ctx, row)
}

// Get reads a clinic and opens its token.
func (r *Repo) Get(ctx context.Context, slug string) (Record, error) {
	row, err := r.store.GetClinic(ctx, slug)
	if err != nil {
		return Record{}, err
	}
	return r.open(row)
}

// SetEnabled enables or disables a clinic, reporting whether that changed
// anything (false when it already was). The token stays sealed as it is,
// so this works without keys. Running portals follow within their refresh
// interval. ErrNotFound when there is no such clinic.
func (r *Repo) SetEnabled(ctx context.Context, slug string, enabled bool) (bool, error) {
	for {
		row, err := r.store.GetClinic(ctx, slug)
		if err != nil {
			return false, err
		}
		if row.Enabled == enabled {
			return false, nil
		}
		row.Enabled = enabled
		switch err := r.store.UpdateClinic(ctx, row); {
		case errors.Is(err, ErrChanged):
			continue // someone changed something else: read again
		case err != nil:
			return false, err
		}
		return true, nil
	}
}

// Sealed is a record whose token stays sealed: for listing without keys.
type Sealed struct {
	Record // AccessToken is empty
	// SealedKeyID names the key that sealed the token.
	SealedKeyID string
}

// List reads every clinic without opening tokens.
func (r *Repo) List(ctx context.Context) ([]Sealed, error) {
	rows, err := r.store.ListClinics(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Sealed, len(rows))
	for i, row := range rows {
		id, _ := SealedKeyID(row.SealedAccessToken)
		out[i] = Sealed{Record: fromRow(row), SealedKeyID: id}
	}
	return out, nil
}

// RotateKeys re-seals, with the first key, every token sealed with another
// one, and reports how many it re-sealed.
func (r *Repo) RotateKeys(ctx context.Context) (int, error) {
	if r.keys == nil {
		return 0, ErrNoKeys
	}
	all, err := r.List(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, s := range all {
		if s.SealedKeyID == r.keys.SealingKeyID() {
			continue
		}
		rec, err := r.Get(ctx, s.Slug)
		if err != nil {
			return n, fmt.Errorf("clinic %s: %w", s.Slug, err)
		}
		if err := r.Update(ctx, rec); err != nil {
			return n, fmt.Errorf("clinic %s: %w", s.Slug, err)
		}
		n++
	}
	return n, nil
}

// Loader lists the enabled clinics for a booking.Directory. build makes a
// clinic's service from its settings and access token; it is called only
// when a clinic is new or its revision changed, and only then is the token
// opened.
func (r *Repo) Loader(build func(c booking.Clinic, accessToken Token) (*booking.Service, error)) booking.Loader {
	return func(ctx context.Context) ([]booking.Entry, error) {
		rows, err := r.store.ListClinics(ctx)
		if err != nil {
			return nil, err
		}
		var out []booking.Entry
		for _, row := range rows {
			if !row.Enabled {
				continue
			}
			out = append(out, booking.Entry{
				Slug:    row.Slug,
				Version: strconv.FormatInt(row.Revision, 10),
				Service: func() (*booking.Service, error) {
					rec, err := r.open(row)
					if err != nil {
						return nil, err
					}
					for _, o := range rec.FrameOrigins {
						if _, ok := Origin(o); !ok {
							r.log.Warn("stored frame origin is not a valid origin; dropped", "clinic", rec.Slug, "origin", o)
						}
					}
					return build(rec.Booking(), rec.AccessToken)
				},
			})
		}
		return out, nil
	}
}

func (r *Repo) seal(rec Record) (store.Clinic, error) {
	if r.keys == nil {
		return store.Clinic{}, ErrNoKeys
	}
	sealed, err := r.keys.Seal(rec.Slug, rec.AccessToken.Reveal())
	if err != nil {
		return store.Clinic{}, err
	}
	return store.Clinic{
		Slug: rec.Slug, Name: strings.TrimSpace(rec.Name), Phone: rec.Phone, PrivacyURL: rec.PrivacyURL,
		SealedAccessToken: sealed,
		FrameOrigins:      normaliseOrigins(rec.FrameOrigins),
		BrandColour:       rec.Theme.BrandColour, LogoURL: rec.Theme.LogoURL,
		MinNotice: rec.MinNotice, WindowDays: rec.WindowDays,
		EmailReminders: rec.EmailReminders, SMSReminders: rec.SMSReminders,
		CancellationCutoff: rec.CancellationCutoff,
		LocationIDs:        rec.Locations, PractitionerIDs: rec.Practitioners, ServiceIDs: rec.Services,
		Addresses:            rec.Addresses,
		PractitionerProfiles: convertProfiles(rec.PractitionerProfiles, func(p booking.PractitionerProfile) store.PractitionerProfile { return store.PractitionerProfile(p) }),
		ServiceDescriptions:  rec.ServiceDescriptions,
		LocationDirections:   rec.LocationDirections,
		CancellationPolicy:   rec.CancellationPolicy,
		NotificationEmail:    rec.NotificationEmail,
		DraftTTL:             rec.DraftTTL,
		Enabled:              rec.Enabled, Revision: rec.Revision,
	}, nil
}

func (r *Repo) open(row store.Clinic) (Record, error) {
	if r.keys == nil {
		return Record{}, ErrNoKeys
	}
	tok, err := r.keys.Open(row.Slug, row.SealedAccessToken)
	if err != nil {
		return Record{}, fmt.Errorf("clinic %s: %w", row.Slug, err)
	}
	rec := fromRow(row)
	rec.AccessToken = Token(tok)
	return rec, nil
}

func fromRow(row store.Clinic) Record {
	return Record{
		Slug: row.Slug, Name: row.Name, Phone: row.Phone, PrivacyURL: row.PrivacyURL,
		FrameOrigins: row.FrameOrigins,
		Theme:        booking.Theme{BrandColour: row.BrandColour, LogoURL: row.LogoURL},
		MinNotice:    row.MinNotice, WindowDays: row.WindowDays,
		EmailReminders: row.EmailReminders, SMSReminders: row.SMSReminders,
		CancellationCutoff: row.CancellationCutoff,
		Locations:          row.LocationIDs, Practitioners: row.PractitionerIDs, Services: row.ServiceIDs,
		Addresses:            row.Addresses,
		PractitionerProfiles: convertProfiles(row.PractitionerProfiles, func(p store.PractitionerProfile) booking.PractitionerProfile { return booking.PractitionerProfile(p) }),
		ServiceDescriptions:  row.ServiceDescriptions,
		LocationDirections:   row.LocationDirections,
		CancellationPolicy:   row.CancellationPolicy,
		NotificationEmail:    row.NotificationEmail,
		DraftTTL:             row.DraftTTL,
		Enabled:              row.Enabled, Revision: row.Revision, CreatedAt: row.CreatedAt, UpdatedAt: row.UpdatedAt,
	}
}

// convertProfiles maps practitioner profiles between the store's and the
// booking rules' types; nil stays nil.
func convertProfiles[From, To any](in map[string]From, convert func(From) To) map[string]To {
	if in == nil {
		return nil
	}
	out := make(map[string]To, len(in))
	for id, p := range in {
		out[id] = convert(p)
	}
	return out
}

func normaliseOrigins(os []string) []string {
	out := make([]string, 0, len(os))
	for _, o := range os {
		if n, ok := Origin(o); ok && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}
