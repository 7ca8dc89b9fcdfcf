package main

import (
	"os"
	"path/filepath"
	"testing"
)

// The demo sandbox forgets its diary on exit; the demo database must too, or
// times booked in an earlier run would be refused as taken.
func TestFreshDemoDatabaseForgetsThePreviousRun(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"demo.db", "demo.db-wal", "demo.db-shm", "portal.db"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("old"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	url, err := freshDemoDatabase(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := "sqlite:" + filepath.Join(dir, "demo.db"); url != want {
		t.Errorf("url %q, want %q", url, want)
	}
	for _, name := range []string{"demo.db", "demo.db-wal", "demo.db-shm"} {
		if _, err := os.Stat(filepath.Join(dir, name)); !os.IsNotExist(err) {
			t.Errorf("%s survived: %v", name, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "portal.db")); err != nil {
		t.Errorf("a non-demo database was touched: %v", err)
	}
	if _, err := freshDemoDatabase(dir); err != nil {
		t.Errorf("second call with nothing to remove: %v", err)
	}
}
