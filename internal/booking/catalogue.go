package booking

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// Named is a coreplus id and the name staff know it by.
type Named struct {
	ID   string
	Name string
}

// Catalogue is everything coreplus lists for the clinic, offered online or
// not: what staff choose from when they decide what to offer.
type Catalogue struct {
	Locations     []Named
	Services      []Named
	Practitioners []Named
}

// Catalogue reads every location, appointment type and practitioner
// coreplus lists, by name, through the reference cache (under its own
// keys: the patients' lists are filtered by what is offered).
func (s *Service) Catalogue(ctx context.Context) (Catalogue, error) {
	var c Catalogue
	for _, part := range []struct {
		key  string
		into *[]Named
		list func(ctx context.Context) ([]Named, error)
	}{
		{"catalogue:locations", &c.Locations, func(ctx context.Context) ([]Named, error) {
			locs, err := s.api.ListLocations(ctx)
			out := make([]Named, 0, len(locs))
			for _, l := range locs {
				out = append(out, Named{ID: l.ID, Name: l.Name})
			}
			return out, err
		}},
		{"catalogue:services", &c.Services, func(ctx context.Context) ([]Named, error) {
			types, err := s.api.ListAppointmentTypes(ctx)
			out := make([]Named, 0, len(types))
			for _, t := range types {
				if t.DurationMinutes > 0 { // as Services: one with no length cannot be booked
					out = append(out, Named{ID: t.ID, Name: t.Description})
				}
			}
			return out, err
		}},
		{"catalogue:practitioners", &c.Practitioners, func(ctx context.Context) ([]Named, error) {
			ps, err := s.api.ListPractitioners(ctx)
			out := make([]Named, 0, len(ps))
			for _, p := range ps {
				out = append(out, Named{ID: p.ID, Name: strings.TrimSpace(p.FirstName + " " + p.LastName)})
			}
			return out, err
		}},
	} {
		v, err := s.cache.get(ctx, part.key, func(ctx context.Context) (any, error) {
			l, err := part.list(ctx)
			if err != nil {
				return nil, err
			}
			sort.SliceStable(l, func(i, j int) bool { return l[i].Name < l[j].Name })
			return l, nil
		})
		if err != nil {
			return Catalogue{}, upstream(fmt.Errorf("catalogue: %w", err))
		}
		*part.into = v.([]Named)
	}
	return c, nil
}
