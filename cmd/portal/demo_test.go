package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
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

// Several replicas share one consumer's budget, so each takes its part and
// together they stay under coreplus's limit.
func TestUpstreamShareSplitsTheBudget(t *testing.T) {
	for _, tc := range []struct{ replicas, want int }{{1, 9}, {2, 4}, {3, 3}, {9, 1}, {0, 9}} {
		got := upstreamShare(tc.replicas)
		if got != tc.want {
			t.Errorf("upstreamShare(%d) = %d, want %d", tc.replicas, got, tc.want)
		}
		if tc.replicas > 0 && got*tc.replicas > 9 {
			t.Errorf("%d replicas could together start %d requests in a window", tc.replicas, got*tc.replicas)
		}
	}
	env := map[string]string{"PORTAL_REPLICAS": "0"}
	if _, err := loadConfig([]string{"-demo"}, func(k string) string { return env[k] }, io.Discard); err == nil || !strings.Contains(err.Error(), "PORTAL_REPLICAS") {
		t.Errorf("PORTAL_REPLICAS=0 accepted: %v", err)
	}
}
