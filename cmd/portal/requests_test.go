package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/clinic-booking/portal/internal/store"
)

func TestRequestsCommandListsNewestFirst(t *testing.T) {
	o := newOperator(t)
	ctx := context.Background()
	db, err := store.Open(ctx, o.env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	for _, r := range []store.Request{
		{ID: "aa000000000000000000000000000001", Clinic: "northside", CreatedAt: now.Add(-2 * time.Hour), LocationID: "loc-1",
			Days: []string{"mon", "fri"}, Times: []string{"morning"},
			Details: store.RequestDetails{FirstName: "Older", LastName: "Patient", Email: "older@example.com", Note: "knee\nand hip"}},
		{ID: "aa000000000000000000000000000002", Clinic: "northside", CreatedAt: now.Add(-time.Hour),
			Details: store.RequestDetails{FirstName: "Newer", LastName: "Patient", Mobile: "0412345678"}},
		{ID: "aa000000000000000000000000000003", Clinic: "eastside", CreatedAt: now,
			Details: store.RequestDetails{FirstName: "Other", LastName: "Clinic", Email: "other@example.com"}},
		{ID: "aa000000000000000000000000000004", Clinic: "northside", CreatedAt: now.Add(-31 * 24 * time.Hour),
			Details: store.RequestDetails{FirstName: "Expired", LastName: "Patient", Email: "old@example.com"}},
	} {
		if err := db.CreateRequest(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	out := o.must("", "requests", "northside")
	newer, older := strings.Index(out, "Newer Patient"), strings.Index(out, "Older Patient")
	if newer < 0 || older < 0 || newer > older {
		t.Fatalf("want both northside requests, newest first:\n%s", out)
	}
	for _, want := range []string{"older@example.com", "0412 345 678", "mon,fri", "morning", "any", "loc-1/-/-", "new", "knee and hip"} {
		if !strings.Contains(out, want) {
			t.Errorf("listing lacks %q:\n%s", want, out)
		}
	}
	for _, absent := range []string{"Other Clinic", "Expired"} {
		if strings.Contains(out, absent) {
			t.Errorf("listing shows %q:\n%s", absent, out)
		}
	}

	var list []map[string]any
	if err := json.Unmarshal([]byte(o.must("", "requests", "northside", "--json")), &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0]["first_name"] != "Newer" || list[1]["email"] != "older@example.com" {
		t.Errorf("--json: %v", list)
	}

	if out := o.must("", "requests", "nowhere"); !strings.Contains(out, "no booking requests for clinic nowhere") {
		t.Errorf("empty listing: %q", out)
	}
	if _, err := o.run("", "requests"); err == nil || !strings.Contains(err.Error(), "expected a clinic slug") {
		t.Errorf("no slug: %v", err)
	}
}

func TestExpiredRequestsAreDeleted(t *testing.T) {
	db, err := store.Open(context.Background(), "sqlite:"+t.TempDir()+"/p.db")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Now()
	old := store.Request{ID: "bb000000000000000000000000000001", Clinic: "c", CreatedAt: now.Add(-store.RequestTTL - time.Minute),
		Details: store.RequestDetails{FirstName: "A", LastName: "B", Email: "a@b.co"}}
	fresh := store.Request{ID: "bb000000000000000000000000000002", Clinic: "c", CreatedAt: now,
		Details: store.RequestDetails{FirstName: "C", LastName: "D", Email: "c@d.co"}}
	for _, r := range []store.Request{old, fresh} {
		if err := db.CreateRequest(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := db.DeleteExpiredRequests(context.Background(), now); err != nil || n != 1 {
		t.Fatalf("deleted %d, %v; want 1", n, err)
	}
}
