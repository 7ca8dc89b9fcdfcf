package booking

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/text/unicode/norm"

	"github.com/clinic-booking/portal/internal/coreplus"
)

// findOrCreateClient matches the patient to one coreplus client with the
// same first name, last name and date of birth and the same email or
// mobile, or creates one. Its outcome is never shown to the patient.
//
// Several matches mean coreplus already holds duplicates of this person;
// the first coreplus lists is used, and the ids are logged for staff to
// merge, rather than adding yet another duplicate.
func (s *Service) findOrCreateClient(ctx context.Context, d Details) (string, error) {
	dob := coreplus.DateOf(d.DateOfBirth)
	cands, err := s.api.SearchClients(ctx, coreplus.ClientSearch{Name: d.LastName, DateOfBirth: &dob})
	if err != nil {
		return "", fmt.Errorf("search clients: %w", err)
	}
	var matches []string
	for _, c := range cands {
		if !sameName(c.FirstName, d.FirstName) || !sameName(c.LastName, d.LastName) || c.DateOfBirth == nil || *c.DateOfBirth != dob {
			continue
		}
		full, err := s.api.GetClient(ctx, c.ID)
		if errors.Is(err, coreplus.ErrNotFound) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("get client: %w", err)
		}
		if SameContact(full, d) {
			matches = append(matches, full.ID)
		}
	}
	switch len(matches) {
	case 1:
		return matches[0], nil
	case 0:
	default:
		s.log.Warn("several coreplus clients match one patient; used the first", "clients", strings.Join(matches, ","))
		return matches[0], nil
	}
	id, err := s.api.CreateClient(ctx, coreplus.NewClient{
		FirstName: d.FirstName, LastName: d.LastName, DateOfBirth: dob, Email: d.Email, Mobile: d.Mobile,
	})
	if err != nil {
		return "", fmt.Errorf("create client: %w", err)
	}
	return id, nil
}

// SameContact reports whether a coreplus client has the patient's email
// (any case) or mobile (in any format).
func SameContact(c coreplus.Client, d Details) bool {
	if c.Email != "" && strings.EqualFold(strings.TrimSpace(c.Email), d.Email) {
		return true
	}
	m, ok := NormaliseMobile(c.Mobile)
	return ok && m == d.Mobile
}

// sameName compares names as a person reads them: case, runs of spaces and
// composed or decomposed accents (coreplus may hold either) aside.
func sameName(a, b string) bool {
	return strings.EqualFold(norm.NFC.String(collapseSpaces(a)), norm.NFC.String(collapseSpaces(b)))
}
