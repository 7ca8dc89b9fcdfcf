package booking

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/clinic-booking/portal/internal/coreplus"
)

// fakeClinics is a Loader over a table the test edits, as `portal clinic
// update` edits the database under a running replica.
type fakeClinics struct {
	mu      sync.Mutex
	entries map[string]string // slug -> version; absent means disabled
	err     error
	broken  map[string]bool
	built   map[string]int
}

func (f *fakeClinics) set(slug, version string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if version == "" {
		delete(f.entries, slug)
	} else {
		f.entries[slug] = version
	}
}

func (f *fakeClinics) load(context.Context) ([]Entry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	var out []Entry
	for slug, v := range f.entries {
		out = append(out, Entry{Slug: slug, Version: v, Service: func() (*Service, error) {
			if f.broken[slug] {
				return nil, errors.New("cannot decrypt the access token")
			}
			f.built[slug]++
			return NewService(Clinic{Slug: slug, Name: slug + " " + v}, nil, nil, nil), nil
		}})
	}
	return out, nil
}

func TestLoadingDirectoryFollowsChangesAfterItsInterval(t *testing.T) {
	f := &fakeClinics{entries: map[string]string{"north": "1", "south": "1"}, broken: map[string]bool{}, built: map[string]int{}}
	env := NewService(Clinic{Slug: "env"}, nil, nil, nil)
	d, err := NewLoadingDirectory(context.Background(), f.load, 30*time.Second, nil, env)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	d.now = func() time.Time { return now }
	ctx := context.Background()

	served := func(slug string) bool {
		_, ok := d.Clinic(ctx, slug)
		return ok
	}
	for _, slug := range []string{"env", "north", "south"} {
		if !served(slug) {
			t.Errorf("%s is not served", slug)
		}
	}
	if served("east") {
		t.Error("an unknown slug is served")
	}
	if _, ok := d.Default(); ok {
		t.Error("Default names a clinic although three are served")
	}
	north, _ := d.Clinic(ctx, "north")

	// Disable south, change north's settings, add east.
	f.set("south", "")
	f.set("north", "2")
	f.set("east", "1")
	now = now.Add(29 * time.Second)
	if !served("south") || served("east") {
		t.Error("the directory reloaded before its interval")
	}
	now = now.Add(time.Second)
	if served("south") {
		t.Error("a disabled clinic is still served after the interval")
	}
	if !served("east") {
		t.Error("a new clinic is not served after the interval")
	}
	if n, _ := d.Clinic(ctx, "north"); n == north || n.Clinic().Name != "north 2" {
		t.Errorf("north was not rebuilt with its new settings: %q", n.Clinic().Name)
	}
	east, _ := d.Clinic(ctx, "east")

	// An unchanged version keeps its service (and its caches).
	now = now.Add(time.Minute)
	if e, _ := d.Clinic(ctx, "east"); e != east || f.built["east"] != 1 {
		t.Errorf("east rebuilt %d times though unchanged", f.built["east"])
	}

	// The database going away keeps the clinics loaded before.
	f.err = errors.New("connection refused")
	now = now.Add(time.Minute)
	if !served("east") || !served("north") {
		t.Error("a failed reload dropped the clinics")
	}
	f.err = nil

	// A clinic whose service cannot be built is not served.
	f.broken["east"] = true
	f.set("east", "2")
	now = now.Add(time.Minute)
	if served("east") {
		t.Error("a clinic whose service failed to build is served")
	}
}

func TestLoadingDirectoryFixedClinicWinsAndDefault(t *testing.T) {
	f := &fakeClinics{entries: map[string]string{"env": "1"}, broken: map[string]bool{}, built: map[string]int{}}
	env := NewService(Clinic{Slug: "env", Name: "from environment"}, nil, nil, nil)
	d, err := NewLoadingDirectory(context.Background(), f.load, time.Minute, nil, env)
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := d.Clinic(context.Background(), "env"); s != env {
		t.Error("a stored clinic replaced the environment's clinic of the same slug")
	}
	if slug, ok := d.Default(); !ok || slug != "env" {
		t.Errorf("Default() = %q, %v; want the only clinic", slug, ok)
	}

	f.err = errors.New("no database")
	if _, err := NewLoadingDirectory(context.Background(), f.load, time.Minute, nil); err == nil {
		t.Error("a first load that fails is not reported")
	}
}

// refAPI answers the reference-data calls.
type refAPI struct{ Coreplus }

func (refAPI) ListLocations(context.Context) ([]coreplus.Location, error) {
	return []coreplus.Location{
		{ID: "syd", Name: "Sydney", TimeZoneName: "Australia/Sydney"},
		{ID: "bne", Name: "Brisbane", TimeZoneName: "Australia/Brisbane"},
	}, nil
}

func (refAPI) ListPractitioners(context.Context) ([]coreplus.Practitioner, error) {
	return []coreplus.Practitioner{{ID: "tom", FirstName: "Tom"}, {ID: "mei", FirstName: "Mei"}}, nil
}

func TestClinicOffersOnlyItsLocationsAndPractitioners(t *testing.T) {
	ctx := context.Background()
	s := NewService(Clinic{Slug: "c", Locations: []string{"bne"}, OfferedPractitioners: []string{"mei"}}, refAPI{}, nil, nil)
	locs, err := s.Locations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(locs) != 1 || locs[0].ID != "bne" {
		t.Errorf("locations %+v, want only bne", locs)
	}
	if _, err := s.Resolve(ctx, Choice{LocationID: "syd"}); err == nil {
		t.Error("a location not offered online resolves")
	}
	if _, err := s.Resolve(ctx, Choice{PractitionerID: "tom"}); err == nil {
		t.Error("a practitioner not offered online resolves")
	}
	if sel, err := s.Resolve(ctx, Choice{PractitionerID: "mei"}); err != nil || sel.Practitioner == nil {
		t.Errorf("an offered practitioner does not resolve: %v", err)
	}

	all := NewService(Clinic{Slug: "c"}, refAPI{}, nil, nil)
	if locs, _ := all.Locations(ctx); len(locs) != 2 {
		t.Errorf("an empty list offers %d locations, want every one", len(locs))
	}
}

// TestDirectoryRefreshServesANewClinicAtOnce: Refresh reloads before the
// interval, so the server that added a clinic serves it at once; a
// directory with no Loader has nothing to reload.
func TestDirectoryRefreshServesANewClinicAtOnce(t *testing.T) {
	f := &fakeClinics{entries: map[string]string{"north": "1"}, broken: map[string]bool{}, built: map[string]int{}}
	d, err := NewLoadingDirectory(context.Background(), f.load, time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	f.set("east", "1")
	if _, ok := d.Clinic(ctx, "east"); ok {
		t.Fatal("east is served before any reload")
	}
	if err := d.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := d.Clinic(ctx, "east"); !ok {
		t.Error("east is not served after Refresh")
	}
	f.err = errors.New("connection refused")
	if err := d.Refresh(ctx); err == nil {
		t.Error("a failed Refresh reported no error")
	}
	if _, ok := d.Clinic(ctx, "east"); !ok {
		t.Error("a failed Refresh dropped the clinics")
	}
	if err := NewDirectory().Refresh(ctx); err != nil {
		t.Errorf("Refresh with no Loader: %v", err)
	}
}
