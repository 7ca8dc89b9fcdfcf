// Package clinicscheck asks coreplus, with a clinic's access token, for
// what the clinic has (locations, practitioners, services) and says what
// it found or exactly what failed: `portal check` prints the report, the
// operator's console shows it. It decides nothing about wording for
// either; it classifies.
package clinicscheck

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/clinic-booking/portal/internal/clinics"
	"github.com/clinic-booking/portal/internal/coreplus"
)

// Coreplus is what a check asks coreplus (*coreplus.API).
type Coreplus interface {
	ListLocations(ctx context.Context) ([]coreplus.Location, error)
	ListPractitioners(ctx context.Context) ([]coreplus.Practitioner, error)
	ListAppointmentTypes(ctx context.Context) ([]coreplus.AppointmentType, error)
}

var _ Coreplus = (*coreplus.API)(nil)

// The lists a check reads, in the order it reads them, by the name the
// command line's settings use (--locations, --practitioners, --services).
const (
	Locations     = "locations"
	Practitioners = "practitioners"
	Services      = "services"
)

// Report is what one check found.
type Report struct {
	Slug, Name string
	Enabled    bool
	// Environment is set for the clinic configured by environment
	// variables (by Checker), which is changed where they are set.
	Environment bool
	// Token is the access token masked (••••7a10), never the token.
	Token string
	// Lists are the lists read, in order, up to the one that failed.
	Lists []List
	// Failure is what stopped the check; nil when every list was read.
	Failure *Failure
}

// List is one list coreplus answered.
type List struct {
	Name string // Locations, Practitioners or Services
	// Found is how many coreplus has; Offered how many of them the clinic
	// offers online (0: it offers whatever coreplus lists).
	Found, Offered int
	// Missing are the ids the clinic offers that coreplus does not have,
	// in the clinic's order.
	Missing []string
}

// Kind is the kind of a failure, in the operator's terms.
type Kind string

const (
	// InvalidCredentials: coreplus rejected the consumer id, its secret or
	// the clinic's access token.
	InvalidCredentials Kind = "invalid credentials"
	// RateLimited: coreplus answered 429, or (Status 0) this portal's own
	// share of the upstream budget was used up for the check's time.
	RateLimited Kind = "rate limited"
	// Unreachable: no usable answer, in the check's time.
	Unreachable Kind = "unreachable"
	// Failed is anything else coreplus refused.
	Failed Kind = "failed"
)

// Failure is the list that could not be read, and why.
type Failure struct {
	List string
	Kind Kind
	// Status is coreplus's HTTP status; 0 when no answer came.
	Status int
	// Reason is coreplus's own text, scrubbed of credentials by the client.
	Reason string
	// Err is the client's error, for the command line and logs: its cause
	// may be an internal string (a dial error), not for a web page.
	Err error
}

// Ok reports whether every list was read and every id the clinic offers
// is in coreplus.
func (r Report) Ok() bool { return r.Failure == nil && len(r.Missing()) == 0 }

// Missing is every id the clinic offers that coreplus lacks, by list.
func (r Report) Missing() []Missing {
	var out []Missing
	for _, l := range r.Lists {
		for _, id := range l.Missing {
			out = append(out, Missing{List: l.Name, ID: id})
		}
	}
	return out
}

// Missing is one id the clinic offers online that coreplus does not have.
type Missing struct{ List, ID string }

// Run asks api for rec's locations, practitioners and services, in that
// order, stopping at the first that fails. ctx bounds it all.
func Run(ctx context.Context, api Coreplus, rec clinics.Record) Report {
	r := Report{Slug: rec.Slug, Name: rec.Name, Enabled: rec.Enabled, Token: rec.AccessToken.String()}
	read := func(name string, ids []string, offered []string, err error) bool {
		if err != nil {
			r.Failure = classify(name, err)
			return false
		}
		l := List{Name: name, Found: len(ids), Offered: len(offered)}
		for _, id := range offered {
			if !slices.Contains(ids, id) {
				l.Missing = append(l.Missing, id)
			}
		}
		r.Lists = append(r.Lists, l)
		return true
	}
	locs, err := api.ListLocations(ctx)
	if !read(Locations, idsOf(locs, func(l coreplus.Location) string { return l.ID }), rec.Locations, err) {
		return r
	}
	pracs, err := api.ListPractitioners(ctx)
	if !read(Practitioners, idsOf(pracs, func(p coreplus.Practitioner) string { return p.ID }), rec.Practitioners, err) {
		return r
	}
	types, err := api.ListAppointmentTypes(ctx)
	read(Services, idsOf(types, func(t coreplus.AppointmentType) string { return t.ID }), rec.Services, err)
	return r
}

func classify(list string, err error) *Failure {
	f := &Failure{List: list, Kind: Failed, Err: err}
	var ce *coreplus.Error
	if errors.As(err, &ce) {
		f.Status, f.Reason = ce.Status, ce.Reason
	}
	switch {
	case errors.Is(err, coreplus.ErrInvalidCredentials):
		f.Kind = InvalidCredentials
	case errors.Is(err, coreplus.ErrRateLimited):
		f.Kind = RateLimited
	case errors.Is(err, coreplus.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		f.Kind = Unreachable
	}
	return f
}

func idsOf[T any](items []T, id func(T) string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = id(it)
	}
	return out
}

// DefaultTimeout bounds a check from the console: a coreplus that does not
// answer is reported unreachable in this time, not a page left hanging.
const DefaultTimeout = 10 * time.Second

// Checker checks a clinic by its slug, for the console: the clinic
// configured by environment or one in the database, disabled ones too (a
// disabled clinic is the one an operator most needs to check).
type Checker struct {
	// Fixed are the clinics configured by environment; they win over a
	// stored clinic of the same slug, as in serving.
	Fixed []clinics.Record
	// Records reads the stored clinics (*clinics.Repo); nil when there are
	// none.
	Records interface {
		Get(ctx context.Context, slug string) (clinics.Record, error)
	}
	// Client is the coreplus client for a clinic: the serving portal's,
	// sharing its upstream budget, never one of its own.
	Client func(rec clinics.Record) (Coreplus, error)
	// Timeout bounds each check (DefaultTimeout when zero).
	Timeout time.Duration
}

// Check checks the clinic slug names. clinics.ErrNotFound when there is no
// such clinic; any other error is the portal's own (a database that cannot
// be read, a client that cannot be built), not coreplus's, which the
// Report holds.
func (c *Checker) Check(ctx context.Context, slug string) (Report, error) {
	rec, err := c.record(ctx, slug)
	if err != nil {
		return Report{}, err
	}
	api, err := c.Client(rec)
	if err != nil {
		return Report{}, fmt.Errorf("check %s: %w", slug, err)
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	r := Run(ctx, api, rec)
	r.Environment = slices.ContainsFunc(c.Fixed, func(f clinics.Record) bool { return f.Slug == slug })
	return r, nil
}

func (c *Checker) record(ctx context.Context, slug string) (clinics.Record, error) {
	if i := slices.IndexFunc(c.Fixed, func(r clinics.Record) bool { return r.Slug == slug }); i >= 0 {
		return c.Fixed[i], nil
	}
	if c.Records == nil {
		return clinics.Record{}, clinics.ErrNotFound
	}
	rec, err := c.Records.Get(ctx, slug)
	if err != nil && !errors.Is(err, clinics.ErrNotFound) {
		return clinics.Record{}, fmt.Errorf("check %s: %w", slug, err)
	}
	return rec, err
}
