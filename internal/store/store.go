// Package store keeps the portal's own state in SQL: drafts (in-progress
// bookings holding the patient's details) and bookings (what was sent to
// coreplus, keyed by draft for idempotency). The diary itself lives in
// coreplus. SQLite is the embedded default; PostgreSQL serves several replicas.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/clinic-booking/portal/migrations"
)

// Dialect names returned by Store.Dialect.
const (
	DialectSQLite   = "sqlite"
	DialectPostgres = "postgres"
)

// pgMaxConns bounds one replica's connections to PostgreSQL.
const pgMaxConns = 20

// DefaultSQLitePath is where an empty DATABASE_URL puts the database.
const DefaultSQLitePath = "data/portal.db"

var (
	// ErrNotFound means no such row, or a draft that has expired.
	ErrNotFound = errors.New("store: not found")
	// ErrDuplicateDraft means a booking already exists for this draft.
	ErrDuplicateDraft = errors.New("store: draft already has a booking")
	// ErrSlotTaken means another draft holds this practitioner at this start.
	ErrSlotTaken = errors.New("store: slot already claimed")
	// ErrDraftNotOpen means the draft exists but is no longer editable
	// because a submit has started or finished.
	ErrDraftNotOpen = errors.New("store: draft is not open")
)

// Store is safe for concurrent use.
type Store struct {
	db      *sql.DB
	dialect string
	// now is the clock for created_at and updated_at; tests replace it.
	now func() time.Time
}

// Open connects to databaseURL and brings its schema up to date.
//
// "postgres://..." and "postgresql://..." open PostgreSQL through pgx.
// Anything else is a SQLite file: "" (DefaultSQLitePath), "sqlite:PATH",
// "file:PATH" or a plain path. The file's directory is created if missing.
func Open(ctx context.Context, databaseURL string) (*Store, error) {
	var (
		db      *sql.DB
		dialect string
		err     error
	)
	if strings.HasPrefix(databaseURL, "postgres://") || strings.HasPrefix(databaseURL, "postgresql://") {
		dialect = DialectPostgres
		db, err = sql.Open("pgx", databaseURL)
		if err == nil {
			// A bound per replica, so that several replicas under load
			// queue in their pools rather than run the server out of
			// connections (PostgreSQL's default max_connections is 100).
			db.SetMaxOpenConns(pgMaxConns)
			db.SetMaxIdleConns(pgMaxConns)
			db.SetConnMaxIdleTime(5 * time.Minute)
		}
	} else {
		dialect = DialectSQLite
		db, err = openSQLite(databaseURL)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", dialect, err)
	}
	s := &Store{db: db, dialect: dialect, now: time.Now}
	if err := s.Ping(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s database: %w", dialect, err)
	}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate %s database: %w", dialect, err)
	}
	return s, nil
}

// openSQLite turns the accepted spellings into a modernc DSN. Every
// connection gets WAL (readers do not block the writer), a busy timeout
// (concurrent writers wait instead of failing with SQLITE_BUSY) and foreign
// keys; transactions start IMMEDIATE so two of them never deadlock upgrading
// a read lock.
func openSQLite(databaseURL string) (*sql.DB, error) {
	path := databaseURL
	for _, prefix := range []string{"sqlite://", "sqlite:", "file://", "file:"} {
		if strings.HasPrefix(path, prefix) {
			path = strings.TrimPrefix(path, prefix)
			break
		}
	}
	// Our own pragmas go after any the caller wrote, so a caller can add but
	// not forget the ones the store relies on.
	path, query, _ := strings.Cut(path, "?")
	if path == "" {
		path = DefaultSQLitePath
	}
	memory := path == ":memory:"
	if !memory {
		if dir := filepath.Dir(path); dir != "." {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, fmt.Errorf("create directory for %s: %w", path, err)
			}
		}
	}
	params := "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	if query != "" {
		params = query + "&" + params
	}
	db, err := sql.Open("sqlite", path+"?"+params)
	if err != nil {
		return nil, err
	}
	if memory {
		// Every connection to ":memory:" is a separate empty database.
		db.SetMaxOpenConns(1)
	}
	return db, nil
}

// migrationOptions are goose's settings for the portal's migrations.
// Migrations are numbered when their work starts and land when it is done,
// so a lower number can land after a higher one a database already has
// (00015 after 00016): each adds its own tables or columns, so goose applies
// the missing one rather than refusing to start.
func migrationOptions() []goose.ProviderOption {
	return []goose.ProviderOption{goose.WithDisableGlobalRegistry(true), goose.WithAllowOutofOrder(true)}
}

func (s *Store) migrate(ctx context.Context) error {
	opts := migrationOptions()
	gooseDialect := goose.DialectSQLite3
	if s.dialect == DialectPostgres {
		gooseDialect = goose.DialectPostgres
		// Replicas starting together take turns instead of racing to
		// create the same tables.
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
		if err != nil {
			return err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(gooseDialect, s.db, migrations.FS, opts...)
	if err != nil {
		return err
	}
	_, err = p.Up(ctx)
	return err
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Dialect reports DialectSQLite or DialectPostgres.
func (s *Store) Dialect() string { return s.dialect }

// Ping checks the database answers; for health checks.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// bookingConflict turns a unique-constraint violation on bookings into
// ErrDuplicateDraft or ErrSlotTaken, for either driver; other errors pass
// through unchanged.
func bookingConflict(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		switch pgErr.ConstraintName {
		case "bookings_pkey":
			return ErrDuplicateDraft
		case "bookings_slot_held":
			return ErrSlotTaken
		}
		return err
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		// SQLite names columns, not constraints, in its message; the
		// extended code tells the primary key from the unique index.
		switch liteErr.Code() {
		case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return ErrDuplicateDraft
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE:
			if strings.Contains(liteErr.Error(), "bookings.start_unix") {
				return ErrSlotTaken
			}
		}
	}
	return err
}

// execCount runs a statement that changes rows and returns how many it
// changed.
func (s *Store) execCount(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := s.db.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// inList is the parenthesised placeholders $first.. for an IN list of n
// values; "(NULL)", which matches nothing, when n is 0.
func inList(first, n int) string {
	if n == 0 {
		return "(NULL)"
	}
	ps := make([]string, n)
	for i := range ps {
		ps[i] = "$" + strconv.Itoa(first+i)
	}
	return "(" + strings.Join(ps, ", ") + ")"
}

// stringArgs is values as query arguments.
func stringArgs(values ...string) []any {
	out := make([]any, len(values))
	for i, v := range values {
		out[i] = v
	}
	return out
}

// Instants are stored as unix seconds; these keep the conversion in one place.
func unix(t time.Time) int64 { return t.Unix() }

func fromUnix(sec int64) time.Time { return time.Unix(sec, 0).UTC() }

// SetClock replaces the clock the store stamps created_at and updated_at
// with (time.Now by default), for tests and simulations that move time
// forward. Set it before the store is used.
func (s *Store) SetClock(now func() time.Time) { s.now = now }

// unixOrZero is unix, with the zero time as 0, as columns that default to 0
// (never) keep it.
func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// Appointment times keep their offset (the clinic's local time) as text.
func formatSlotTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339)
}

func parseSlotTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.RFC3339, s)
}

// SchemaVersion is the newest migration applied.
func (s *Store) SchemaVersion(ctx context.Context) (int64, error) {
	var v int64
	err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version_id), 0) FROM goose_db_version WHERE is_applied`).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("schema version: %w", err)
	}
	return v, nil
}

// shortID is the first 8 characters of a draft or request id, for error
// messages, which reach the logs: enough to find the row, too few to open
// a patient's draft with.
func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}
