package clinicscheck_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/clinic-booking/portal/internal/clinics"
	"github.com/clinic-booking/portal/internal/clinics/clinicscheck"
	"github.com/clinic-booking/portal/internal/coreplus"
	"github.com/clinic-booking/portal/internal/coreplus/sandbox"
)

// sandboxURL serves a coreplus sandbox over loopback HTTP.
func sandboxURL(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(sandbox.New(sandbox.Config{RateLimit: -1}))
	t.Cleanup(srv.Close)
	return srv.URL + "/API/Core/v2.1/"
}

func client(t *testing.T, base string, rec clinics.Record) *coreplus.API {
	t.Helper()
	api, err := coreplus.New(coreplus.Config{
		BaseURL: base, ConsumerID: sandbox.DemoConsumerID, ConsumerSecret: sandbox.DemoConsumerSecret,
		AccessToken: rec.AccessToken.Reveal(), Timeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	return api
}

func record(slug string, token string) clinics.Record {
	rec := clinics.NewRecord()
	rec.Slug, rec.Name, rec.AccessToken = slug, "Northside Physio", clinics.Token(token)
	return rec
}

func TestRunCountsWhatCoreplusHas(t *testing.T) {
	base := sandboxURL(t)
	rec := record("northside", sandbox.DemoAccessToken)
	rec.Locations = []string{sandbox.LocationSydneyID}
	r := clinicscheck.Run(context.Background(), client(t, base, rec), rec)
	if r.Failure != nil || !r.Ok() {
		t.Fatalf("a good clinic's check failed: %+v", r.Failure)
	}
	if len(r.Lists) != 3 || r.Lists[0].Name != "locations" || r.Lists[0].Found != 2 || r.Lists[0].Offered != 1 || r.Lists[0].Missing != nil ||
		r.Lists[1].Name != "practitioners" || r.Lists[1].Found != 6 || r.Lists[1].Offered != 0 ||
		r.Lists[2].Name != "services" || r.Lists[2].Found == 0 {
		t.Errorf("lists: %+v", r.Lists)
	}
	if r.Token != "••••7a10" || r.Slug != "northside" || !r.Enabled {
		t.Errorf("the report's clinic: %q %q %v", r.Slug, r.Token, r.Enabled)
	}
}

func TestRunNamesTheIDsCoreplusLacks(t *testing.T) {
	base := sandboxURL(t)
	rec := record("stale", sandbox.DemoAccessToken)
	rec.Locations = []string{sandbox.LocationSydneyID, "loc-gone"}
	rec.Services = []string{"svc-gone"}
	r := clinicscheck.Run(context.Background(), client(t, base, rec), rec)
	want := []clinicscheck.Missing{{List: "locations", ID: "loc-gone"}, {List: "services", ID: "svc-gone"}}
	got := r.Missing()
	if r.Failure != nil || r.Ok() || len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("missing ids: %+v (failure %+v)", got, r.Failure)
	}
}

func TestRunSaysWhichKindOfFailure(t *testing.T) {
	// coreplus answering 429 to everything.
	limited := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "3600")
		http.Error(w, `{"result":{"reason":"Too many requests"}}`, http.StatusTooManyRequests)
	}))
	t.Cleanup(limited.Close)
	// Nothing listening.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/API/Core/v2.1/"
	ln.Close()

	for _, tc := range []struct {
		name, base, token string
		want              clinicscheck.Kind
		status            int
	}{
		{"wrong token", sandboxURL(t), "00000000-0000-0000-0000-000000000000", clinicscheck.InvalidCredentials, http.StatusUnauthorized},
		{"429", limited.URL + "/API/Core/v2.1/", sandbox.DemoAccessToken, clinicscheck.RateLimited, http.StatusTooManyRequests},
		{"nothing listening", closed, sandbox.DemoAccessToken, clinicscheck.Unreachable, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := record("northside", tc.token)
			r := clinicscheck.Run(context.Background(), client(t, tc.base, rec), rec)
			f := r.Failure
			if f == nil || f.List != "locations" || f.Kind != tc.want || f.Status != tc.status || f.Err == nil || len(r.Lists) != 0 {
				t.Fatalf("failure %+v, lists %+v; want %s on locations with HTTP %d", f, r.Lists, tc.want, tc.status)
			}
		})
	}
}

// hungCoreplus accepts requests and never answers them.
func hungCoreplus(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	t.Cleanup(srv.Close)
	return srv.URL + "/API/Core/v2.1/"
}

type records map[string]clinics.Record

func (r records) Get(_ context.Context, slug string) (clinics.Record, error) {
	if rec, ok := r[slug]; ok {
		return rec, nil
	}
	return clinics.Record{}, clinics.ErrNotFound
}

// TestCheckerFindsTheClinicAndBoundsTheCheck: the clinic configured by
// environment wins over a stored one of its slug, as in serving; a
// disabled clinic is checked; a coreplus that never answers is reported
// unreachable once the checker's timeout is up, whatever the client's own
// (longer) timeouts.
func TestCheckerFindsTheClinicAndBoundsTheCheck(t *testing.T) {
	base, hung := sandboxURL(t), hungCoreplus(t)
	env := record("harbourside", sandbox.DemoAccessToken)
	shadowed := record("harbourside", "00000000-0000-0000-0000-000000000000")
	disabled := record("closed", sandbox.DemoAccessToken)
	disabled.Enabled = false
	stuck := record("stuck", sandbox.DemoAccessToken)
	var asked []string
	c := &clinicscheck.Checker{
		Fixed:   []clinics.Record{env},
		Records: records{"harbourside": shadowed, "closed": disabled, "stuck": stuck},
		Client: func(rec clinics.Record) (clinicscheck.Coreplus, error) {
			asked = append(asked, rec.Slug)
			if rec.Slug == "stuck" {
				api, err := coreplus.New(coreplus.Config{BaseURL: hung, ConsumerID: sandbox.DemoConsumerID,
					ConsumerSecret: sandbox.DemoConsumerSecret, AccessToken: rec.AccessToken.Reveal(), Timeout: time.Minute, CallTimeout: time.Minute})
				return api, err
			}
			return client(t, base, rec), nil
		},
		Timeout: 300 * time.Millisecond,
	}
	ctx := context.Background()
	if r, err := c.Check(ctx, "harbourside"); err != nil || !r.Ok() || !r.Environment {
		t.Errorf("the environment's clinic: %+v, %v", r.Failure, err)
	}
	if r, err := c.Check(ctx, "closed"); err != nil || !r.Ok() || r.Enabled || r.Environment {
		t.Errorf("a disabled clinic: %+v, %v", r, err)
	}
	if _, err := c.Check(ctx, "nowhere"); !errors.Is(err, clinics.ErrNotFound) {
		t.Errorf("no such clinic: %v", err)
	}
	// A hang guard, not a timing assertion: without the checker's timeout
	// this would wait for the client's minute.
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	r, err := c.Check(ctx, "stuck")
	if err != nil || r.Failure == nil || r.Failure.Kind != clinicscheck.Unreachable || ctx.Err() != nil {
		t.Errorf("a coreplus that never answers: %+v, %v", r.Failure, err)
	}
	if len(asked) != 3 {
		t.Errorf("clients built for %q", asked)
	}
}
