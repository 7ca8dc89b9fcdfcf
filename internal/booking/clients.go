package booking

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sync/errgroup"
	"golang.org/x/text/unicode/norm"

	"github.com/clinic-booking/portal/internal/coreplus"
)

// maxCandidates bounds the coreplus clients read for one patient. They are
// read all at once, so matching costs the same two round trips whoever
// the patient is; more records of one person than this are for staff to
// merge, and the first ones coreplus lists are enough to choose from.
const maxCandidates = 5

// clientMatch is the coreplus client a booking goes on.
type clientMatch struct {
	ID string
	// ContactDiffers is set when the client record lacks the email or the
	// mobile the patient gave: the record is left as it is, and the
	// appointment's notes tell staff (see contactLine).
	ContactDiffers bool
}

// findOrCreateClient finds the patient's coreplus client, or creates one.
// A person is a first name, last name and date of birth: when coreplus
// holds any client with them, the booking goes on one of those, never a
// new one, and the record is never changed (knowing a name and a birthday
// must not be enough to redirect someone's reminders). Of several, the one
// with the patient's email or mobile is used, else the first listed.
//
// Every path is the same two sequential round trips, so that how long a
// booking takes says nothing about coreplus's records: the search, then
// either every candidate read at once or the client created. Only when
// every candidate vanishes between the two does a create follow. Its
// outcome is never shown to the patient.
func (s *Service) findOrCreateClient(ctx context.Context, d Details) (clientMatch, error) {
	dob := coreplus.DateOf(d.DateOfBirth)
	listed, err := s.api.SearchClients(ctx, coreplus.ClientSearch{Name: d.LastName, DateOfBirth: &dob})
	if err != nil {
		return clientMatch{}, fmt.Errorf("search clients: %w", err)
	}
	var ids []string
	for _, c := range listed {
		if sameName(c.FirstName, d.FirstName) && sameName(c.LastName, d.LastName) && c.DateOfBirth != nil && *c.DateOfBirth == dob {
			ids = append(ids, c.ID)
		}
	}
	if len(ids) > 0 {
		m, ok, err := s.matchClient(ctx, ids, d)
		if err != nil || ok {
			return m, err
		}
	}
	id, err := s.api.CreateClient(ctx, coreplus.NewClient{
		FirstName: d.FirstName, LastName: d.LastName, DateOfBirth: dob, Email: d.Email, Mobile: d.Mobile,
	})
	if err != nil {
		return clientMatch{}, fmt.Errorf("create client: %w", err)
	}
	return clientMatch{ID: id}, nil
}

// matchClient reads the candidates ids (at most maxCandidates of them) at
// once and chooses one, reporting false when none exists any more.
func (s *Service) matchClient(ctx context.Context, ids []string, d Details) (clientMatch, bool, error) {
	if len(ids) > 1 {
		// Duplicates already in coreplus: ids only, for staff to merge.
		s.log.Warn("several coreplus clients share one patient's name and date of birth", "clients", strings.Join(ids, ","))
	}
	ids = ids[:min(len(ids), maxCandidates)]
	found := make([]*coreplus.Client, len(ids)) // nil: gone since the search
	g, gctx := errgroup.WithContext(ctx)
	for i, id := range ids {
		g.Go(func() error {
			c, err := s.api.GetClient(gctx, id)
			if errors.Is(err, coreplus.ErrNotFound) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("get client: %w", err)
			}
			found[i] = &c
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return clientMatch{}, false, err
	}
	var chosen *coreplus.Client
	for _, c := range found {
		switch {
		case c == nil:
		case SameContact(*c, d):
			return clientMatch{ID: c.ID, ContactDiffers: !holdsContact(*c, d)}, true, nil
		case chosen == nil:
			chosen = c
		}
	}
	if chosen == nil {
		return clientMatch{}, false, nil
	}
	return clientMatch{ID: chosen.ID, ContactDiffers: true}, true, nil
}

// SameContact reports whether a coreplus client has the patient's email
// (any case) or mobile (in any format).
func SameContact(c coreplus.Client, d Details) bool {
	return sameEmail(c, d) || sameMobile(c, d)
}

// holdsContact reports whether a coreplus client has every contact detail
// the patient gave.
func holdsContact(c coreplus.Client, d Details) bool {
	return (d.Email == "" || sameEmail(c, d)) && (d.Mobile == "" || sameMobile(c, d))
}

func sameEmail(c coreplus.Client, d Details) bool {
	return c.Email != "" && strings.EqualFold(strings.TrimSpace(c.Email), d.Email)
}

func sameMobile(c coreplus.Client, d Details) bool {
	m, ok := NormaliseMobile(c.Mobile)
	return ok && m == d.Mobile
}

// sameName compares names as a person reads them: case, runs of spaces and
// composed or decomposed accents (coreplus may hold either) aside.
func sameName(a, b string) bool {
	return strings.EqualFold(norm.NFC.String(collapseSpaces(a)), norm.NFC.String(collapseSpaces(b)))
}
