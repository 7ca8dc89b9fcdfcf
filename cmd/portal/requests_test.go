package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/clinic-booking/portal/internal/booking"
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
		r.Status = string(booking.RequestNew)
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

func TestRequestsDoneMarksContactedAndHidesIt(t *testing.T) {
	o := newOperator(t)
	ctx := context.Background()
	db, err := store.Open(ctx, o.env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	for _, r := range []store.Request{
		{ID: "3f2a9c1e000000000000000000000001", Clinic: "northside", CreatedAt: now.Add(-time.Hour),
			Details: store.RequestDetails{FirstName: "Called", LastName: "Back", Email: "called@example.com"}},
		{ID: "3f2a9c1e000000000000000000000002", Clinic: "northside", CreatedAt: now.Add(-2 * time.Hour),
			Details: store.RequestDetails{FirstName: "Still", LastName: "Waiting", Email: "waiting@example.com"}},
		{ID: "77777777000000000000000000000001", Clinic: "eastside", CreatedAt: now,
			Details: store.RequestDetails{FirstName: "Other", LastName: "Clinic", Email: "other@example.com"}},
	} {
		r.Status = string(booking.RequestNew)
		if err := db.CreateRequest(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	out := o.must("", "requests", "northside")
	if !strings.Contains(out, "ID") || !strings.Contains(out, "3f2a9c1e ") || strings.Contains(out, "3f2a9c1e000") {
		t.Errorf("listing should show each id's first 8 characters:\n%s", out)
	}

	// The id as listed is ambiguous here; the whole id is not.
	if _, err := o.run("", "requests", "northside", "--done", "3f2a9c1e"); err == nil || !strings.Contains(err.Error(), "give more of it") {
		t.Errorf("ambiguous id: %v", err)
	}
	out = o.must("", "requests", "northside", "--done", "3F2A9C1E000000000000000000000001")
	if !strings.Contains(out, "marked request 3f2a9c1e (Called Back) contacted") {
		t.Errorf("--done said %q", out)
	}

	out = o.must("", "requests", "northside")
	if strings.Contains(out, "Called Back") || !strings.Contains(out, "Still Waiting") {
		t.Errorf("default listing should hide the contacted request only:\n%s", out)
	}
	out = o.must("", "requests", "northside", "--all")
	if !strings.Contains(out, "Called Back") || !strings.Contains(out, "contacted") || !strings.Contains(out, "Still Waiting") {
		t.Errorf("--all should list both, with their status:\n%s", out)
	}
	var list []map[string]any
	if err := json.Unmarshal([]byte(o.must("", "requests", "northside", "--json")), &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0]["first_name"] != "Still" || list[0]["status"] != "new" {
		t.Errorf("--json: %v", list)
	}
	if err := json.Unmarshal([]byte(o.must("", "requests", "northside", "--json", "--all")), &list); err != nil || len(list) != 2 {
		t.Errorf("--json --all: %v, %v", list, err)
	}

	if _, err := o.run("", "requests", "northside", "--done=3f2a9c1e000000000000000000000001"); err == nil || !strings.Contains(err.Error(), "already marked contacted") {
		t.Errorf("marking twice: %v", err)
	}
	o.must("", "requests", "northside", "--done=3f2a9c1e000000000000000000000002")
	if out := o.must("", "requests", "northside"); !strings.Contains(out, "no new booking requests for clinic northside: 2 in the last 30 days, all marked contacted") {
		t.Errorf("listing with every request handled: %q", out)
	}
	if out := o.must("", "requests", "eastside"); !strings.Contains(out, "Other Clinic") {
		t.Errorf("another clinic's request was touched:\n%s", out)
	}
}

func TestRequestsDoneRefusesBadInput(t *testing.T) {
	o := newOperator(t)
	ctx := context.Background()
	db, err := store.Open(ctx, o.env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateRequest(ctx, store.Request{ID: "77777777000000000000000000000001", Clinic: "eastside",
		Details: store.RequestDetails{FirstName: "Other", LastName: "Clinic"}, Status: string(booking.RequestNew)}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"requests", "northside", "--done", "ffffffff"}, "clinic northside has no booking request ffffffff"},
		{[]string{"requests", "northside", "--done", "77777777"}, "clinic northside has no booking request 77777777"}, // eastside's
		{[]string{"requests", "northside", "--done", "7777"}, "too short"},
		{[]string{"requests", "northside", "--done"}, "--done needs a request id"},
		{[]string{"requests", "northside", "--done", "--all"}, "--done needs a request id"},
		{[]string{"requests", "northside", "--done="}, "--done needs a request id"},
		{[]string{"requests", "northside", "--done", "77777777", "--json"}, "cannot go with --json"},
		{[]string{"requests", "northside", "--done", "77777777", "--done", "88888888"}, "one request id at a time"},
		{[]string{"requests", "--done", "77777777"}, "expected a clinic slug"},
		{[]string{"requests", "northside", "--handled"}, "unknown flag"},
	} {
		out, err := o.run("", tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("portal %s: %v (printed %q); want an error saying %q", strings.Join(tc.args, " "), err, out, tc.want)
		}
	}
	if out := o.must("", "requests", "eastside"); !strings.Contains(out, "Other Clinic") || !strings.Contains(out, "new") {
		t.Errorf("a refused --done changed something:\n%s", out)
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
		r.Status = string(booking.RequestNew)
		if err := db.CreateRequest(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := db.DeleteExpiredRequests(context.Background(), now); err != nil || n != 1 {
		t.Fatalf("deleted %d, %v; want 1", n, err)
	}
}
