package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"testing"
	"testing/fstest"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/clinic-booking/portal/internal/store/storetest"
	"github.com/clinic-booking/portal/migrations"
)

// forEachStore runs fn against a fresh SQLite file and, when
// TEST_DATABASE_URL names a PostgreSQL server, against a fresh schema there.
func forEachStore(t *testing.T, fn func(t *testing.T, s *Store)) {
	t.Helper()
	forEachDatabase(t, func(t *testing.T, databaseURL string) {
		fn(t, openTestStore(t, databaseURL))
	})
}

// forEachDatabase runs fn with the URL of an empty database for each dialect.
func forEachDatabase(t *testing.T, fn func(t *testing.T, databaseURL string)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		fn(t, filepath.Join(t.TempDir(), "data", "portal.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		fn(t, storetest.FreshPostgresSchema(t))
	})
}

func openTestStore(t *testing.T, databaseURL string) *Store {
	t.Helper()
	s, err := Open(context.Background(), databaseURL)
	if err != nil {
		t.Fatalf("Open(%q): %v", databaseURL, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// setClock makes the store stamp rows with now instead of the wall clock.
func setClock(s *Store, now time.Time) { s.now = func() time.Time { return now } }

func TestOpenMigratesOnceAndReopens(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		s := openTestStore(t, databaseURL)
		d := testDraft(t, "demo", time.Now().Add(time.Hour))
		if err := s.CreateDraft(ctx, d); err != nil {
			t.Fatal(err)
		}
		if err := s.Ping(ctx); err != nil {
			t.Fatalf("Ping: %v", err)
		}

		// A second open (a restart, or another replica) finds the schema
		// current and the data intact.
		again := openTestStore(t, databaseURL)
		if _, err := again.GetDraft(ctx, d.ID); err != nil {
			t.Fatalf("GetDraft after reopen: %v", err)
		}
		files, err := fs.Glob(migrations.FS, "*.sql")
		if err != nil {
			t.Fatal(err)
		}
		var rows, versions int
		err = again.db.QueryRowContext(ctx,
			`SELECT COUNT(*), COUNT(DISTINCT version_id) FROM goose_db_version WHERE version_id > 0`).Scan(&rows, &versions)
		if err != nil {
			t.Fatal(err)
		}
		if rows != len(files) || versions != len(files) {
			t.Errorf("goose_db_version has %d rows for %d versions; want each of the %d migrations applied once",
				rows, versions, len(files))
		}
	})
}

// TestMigrationsRollBack keeps every Down section honest: all the way down
// and up again must work on both dialects.
func TestMigrationsRollBack(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		dialect := goose.DialectSQLite3
		if s.Dialect() == DialectPostgres {
			dialect = goose.DialectPostgres
		}
		p, err := goose.NewProvider(dialect, s.db, migrations.FS, goose.WithDisableGlobalRegistry(true))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.DownTo(ctx, 0); err != nil {
			t.Fatalf("down: %v", err)
		}
		if _, err := p.Up(ctx); err != nil {
			t.Fatalf("up again: %v", err)
		}
	})
}

func TestOpenDialect(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		// The subtest is named after the dialect it runs on.
		if want := path.Base(t.Name()); s.Dialect() != want {
			t.Errorf("Dialect() = %q, want %q", s.Dialect(), want)
		}
	})
}

func TestOpenSQLiteSpellings(t *testing.T) {
	dir := t.TempDir()
	for _, databaseURL := range []string{
		filepath.Join(dir, "plain", "a.db"),
		"sqlite:" + filepath.Join(dir, "prefixed", "b.db"),
		"file:" + filepath.Join(dir, "uri", "c.db") + "?_pragma=cache_size(-4000)",
		":memory:",
	} {
		t.Run(databaseURL, func(t *testing.T) {
			s := openTestStore(t, databaseURL)
			if s.Dialect() != DialectSQLite {
				t.Errorf("Dialect() = %q", s.Dialect())
			}
			var mode string
			if err := s.db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil {
				t.Fatal(err)
			}
			if databaseURL != ":memory:" && mode != "wal" {
				t.Errorf("journal_mode = %q, want wal", mode)
			}
			var fk int
			if err := s.db.QueryRow(`PRAGMA foreign_keys`).Scan(&fk); err != nil {
				t.Fatal(err)
			}
			if fk != 1 {
				t.Errorf("foreign_keys = %d, want 1", fk)
			}
		})
	}
	for _, name := range []string{"plain/a.db", "prefixed/b.db", "uri/c.db"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("database file %s: %v", name, err)
		}
	}
}

// testID is a random 32-hex-character id, like those booking mints.
func testID(t *testing.T) string {
	t.Helper()
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b[:])
}

// TestAMigrationLandingLateIsApplied: a database that has migration 3
// gets migration 2 when it lands later, as 00015 landed after 00016.
func TestAMigrationLandingLateIsApplied(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "late.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	file := func(table string) *fstest.MapFile {
		return &fstest.MapFile{Data: []byte("-- +goose Up\nCREATE TABLE " + table + " (id TEXT);\n-- +goose Down\nDROP TABLE " + table + ";\n")}
	}
	up := func(fsys fstest.MapFS) error {
		p, err := goose.NewProvider(goose.DialectSQLite3, db, fsys, migrationOptions()...)
		if err != nil {
			return err
		}
		_, err = p.Up(ctx)
		return err
	}
	if err := up(fstest.MapFS{"00001_a.sql": file("a"), "00003_c.sql": file("c")}); err != nil {
		t.Fatal(err)
	}
	if err := up(fstest.MapFS{"00001_a.sql": file("a"), "00002_b.sql": file("b"), "00003_c.sql": file("c")}); err != nil {
		t.Fatalf("the late migration was refused: %v", err)
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO b (id) VALUES ('x')"); err != nil {
		t.Fatalf("the late migration was not applied: %v", err)
	}
}
