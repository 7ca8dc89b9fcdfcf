// Package funnelstore adapts internal/store to funnel.Store and
// funnel.Reader, so that the counter never imports a database driver.
package funnelstore

import (
	"context"
	"errors"

	"github.com/clinic-booking/portal/internal/funnel"
	"github.com/clinic-booking/portal/internal/store"
)

// Adapter is a funnel.Store and funnel.Reader over a *store.Store.
type Adapter struct{ S *store.Store }

var (
	_ funnel.Store  = Adapter{}
	_ funnel.Reader = Adapter{}
)

// New wraps s.
func New(s *store.Store) Adapter { return Adapter{S: s} }

func (a Adapter) Salt(ctx context.Context, day string) (string, error) {
	return a.S.FunnelSalt(ctx, day)
}

func (a Adapter) Add(ctx context.Context, visits []funnel.Visit, zones map[string]string) (int64, error) {
	sv := make([]store.FunnelVisit, len(visits))
	for i, v := range visits {
		sv[i] = store.FunnelVisit{Clinic: v.Clinic, Day: v.Day, Step: string(v.Step), Visitor: v.Visitor}
	}
	return a.S.AddFunnelVisits(ctx, sv, zones)
}

func (a Adapter) Zones(ctx context.Context) (map[string]string, error) {
	return a.S.FunnelZones(ctx)
}

func (a Adapter) Prune(ctx context.Context, rawBefore, countsBefore string) error {
	return a.S.PruneFunnel(ctx, rawBefore, countsBefore)
}

func (a Adapter) Counts(ctx context.Context, clinic, from, to string) ([]funnel.Count, error) {
	sc, err := a.S.FunnelCounts(ctx, clinic, from, to)
	if err != nil {
		return nil, err
	}
	out := make([]funnel.Count, len(sc))
	for i, c := range sc {
		out[i] = funnel.Count{Day: c.Day, Step: funnel.Step(c.Step), Patients: c.Patients}
	}
	return out, nil
}

func (a Adapter) Zone(ctx context.Context, clinic string) (string, error) {
	z, err := a.S.FunnelZone(ctx, clinic)
	if errors.Is(err, store.ErrNotFound) {
		return "", funnel.ErrNoZone
	}
	return z, err
}
