// Package storetest gives tests outside internal/store an empty database of
// each dialect: a SQLite file, and a fresh PostgreSQL schema when
// TEST_DATABASE_URL names a server.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
)

// ForEachDatabase runs fn in a "sqlite" and a "postgres" subtest with the
// URL of an empty database; the postgres one is skipped when
// TEST_DATABASE_URL is not set.
func ForEachDatabase(t *testing.T, fn func(t *testing.T, databaseURL string)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		fn(t, "sqlite:"+filepath.Join(t.TempDir(), "portal.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		fn(t, FreshPostgresSchema(t))
	})
}

// FreshPostgresSchema creates a schema for the calling test, dropped when it
// ends, and returns TEST_DATABASE_URL pointed at it through search_path. It
// skips the test when TEST_DATABASE_URL is not set.
func FreshPostgresSchema(t *testing.T) string {
	t.Helper()
	base := os.Getenv("TEST_DATABASE_URL")
	if base == "" {
		t.Skip("TEST_DATABASE_URL is not set; set it to postgres://... to run the PostgreSQL variant")
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	schema := "test_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	if _, err := admin.ExecContext(context.Background(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("TEST_DATABASE_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
