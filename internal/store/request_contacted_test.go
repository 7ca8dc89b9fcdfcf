package store

import (
	"context"
	"errors"
	"testing"
)

// TestMarkRequestContacted: a request is found by at least the start of its
// id that staff are shown, among its clinic's unexpired requests only, and
// marked once.
func TestMarkRequestContacted(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		setClock(s, base)
		for _, r := range []Request{
			{ID: "3f2a9c1e000000000000000000000001", Clinic: "northside", Details: RequestDetails{FirstName: "First"}},
			{ID: "3f2a9c1e000000000000000000000002", Clinic: "northside", Details: RequestDetails{FirstName: "Second"}},
			{ID: "77777777000000000000000000000001", Clinic: "eastside"},
		} {
			if err := s.CreateRequest(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		var ambiguous *AmbiguousRequestIDError
		for _, tc := range []struct {
			id   string
			want func(error) bool
		}{
			{"3f2a", func(err error) bool { return errors.Is(err, ErrRequestIDTooShort) }},
			{"3f2a9c1e", func(err error) bool { return errors.As(err, &ambiguous) && ambiguous.Matches == 2 }},
			{"77777777", func(err error) bool { return errors.Is(err, ErrNoSuchRequest) }}, // eastside's
			{"ffffffff", func(err error) bool { return errors.Is(err, ErrNoSuchRequest) }},
		} {
			if _, err := s.MarkRequestContacted(ctx, "northside", tc.id, base); !tc.want(err) {
				t.Errorf("MarkRequestContacted(%q) = %v", tc.id, err)
			}
		}
		r, err := s.MarkRequestContacted(ctx, "northside", "3f2a9c1e000000000000000000000002", base)
		if err != nil || r.Details.FirstName != "Second" || r.Status != RequestContacted {
			t.Fatalf("mark = %+v, %v", r, err)
		}
		if r, err := s.MarkRequestContacted(ctx, "northside", "3f2a9c1e000000000000000000000002", base); !errors.Is(err, ErrAlreadyContacted) || r.Details.FirstName != "Second" {
			t.Errorf("marking twice = %+v, %v; want ErrAlreadyContacted naming the request", r, err)
		}
		if _, err := s.MarkRequestContacted(ctx, "northside", "3f2a9c1e000000000000000000000001", base.Add(RequestTTL)); !errors.Is(err, ErrNoSuchRequest) {
			t.Errorf("marking an expired request = %v, want ErrNoSuchRequest", err)
		}
	})
}
