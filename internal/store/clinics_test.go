package store

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"
)

func testClinic(slug string) Clinic {
	return Clinic{
		Slug: slug, Name: "Northside Physio", Phone: "02 9000 0000",
		PrivacyURL:         "https://northside.example/privacy",
		SealedAccessToken:  "v1:0011aabb:c2VhbGVk",
		FrameOrigins:       []string{"https://northside.example", "https://www.northside.example"},
		BrandColour:        "#0b5cad",
		LogoURL:            "https://northside.example/logo.png",
		MinNotice:          3 * time.Hour,
		WindowDays:         45,
		EmailReminders:     true,
		SMSReminders:       false,
		CancellationCutoff: 24 * time.Hour,
		LocationIDs:        []string{"loc-1"},
		PractitionerIDs:    []string{"p-1", "p-2"},
		ServiceIDs:         []string{},
		Addresses:          map[string]string{"loc-1": "12 Crown St, Surry Hills NSW 2010"},
		PractitionerProfiles: map[string]PractitionerProfile{
			"p-1": {Description: "Sports physiotherapist", Services: []string{"svc-1"}},
			"p-2": {Description: "Back and neck pain"},
		},
		ServiceDescriptions: map[string]string{"svc-1": "A first visit: assessment and a plan"},
		LocationDirections:  map[string]string{"loc-1": "Level 2, lift beside the pharmacy"},
		CancellationPolicy:  "Cancel at least 24 hours ahead,\nor a fee may apply.",
		NotificationEmail:   "bookings@northside.example",
		DraftTTL:            90 * time.Minute,
		Enabled:             true,
	}
}

func TestClinicRoundTrip(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		setClock(s, base)
		want := testClinic("northside")
		if err := s.CreateClinic(ctx, want); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetClinic(ctx, "northside")
		if err != nil {
			t.Fatal(err)
		}
		want.Revision, want.CreatedAt, want.UpdatedAt = 1, base, base
		if !reflect.DeepEqual(got, want) {
			t.Errorf("GetClinic:\n got %+v\nwant %+v", got, want)
		}
		if _, err := s.GetClinic(ctx, "nowhere"); !errors.Is(err, ErrNotFound) {
			t.Errorf("GetClinic(unknown) = %v, want ErrNotFound", err)
		}
		if err := s.CreateClinic(ctx, testClinic("northside")); !errors.Is(err, ErrDuplicateClinic) {
			t.Errorf("second CreateClinic = %v, want ErrDuplicateClinic", err)
		}
		if err := s.CreateClinic(ctx, Clinic{Slug: "x", Name: "X"}); err == nil {
			t.Error("CreateClinic without an access token succeeded")
		}
	})
}

func TestListClinicsSortedWithDisabled(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		for _, slug := range []string{"southside", "eastside", "northside"} {
			c := testClinic(slug)
			c.Enabled = slug != "eastside"
			if err := s.CreateClinic(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		cs, err := s.ListClinics(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range cs {
			got = append(got, c.Slug)
			if c.Enabled == (c.Slug == "eastside") {
				t.Errorf("%s enabled = %v", c.Slug, c.Enabled)
			}
		}
		if want := []string{"eastside", "northside", "southside"}; !reflect.DeepEqual(got, want) {
			t.Errorf("ListClinics = %v, want %v", got, want)
		}
	})
}

func TestUpdateClinicBumpsRevisionAndRefusesStaleWrites(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		setClock(s, base)
		if err := s.CreateClinic(ctx, testClinic("northside")); err != nil {
			t.Fatal(err)
		}
		first, _ := s.GetClinic(ctx, "northside")

		setClock(s, base.Add(time.Hour))
		changed := first
		changed.Name, changed.Enabled, changed.ServiceIDs = "Northside Physio & Pilates", false, []string{"svc-9"}
		changed.SealedAccessToken = "v1:99887766:bmV3"
		changed.ServiceDescriptions = map[string]string{"svc-9": "Pilates in a small group"}
		changed.LocationDirections, changed.CancellationPolicy, changed.NotificationEmail = nil, "", "front-desk@northside.example"
		if err := s.UpdateClinic(ctx, changed); err != nil {
			t.Fatal(err)
		}
		got, _ := s.GetClinic(ctx, "northside")
		if got.Name != changed.Name || got.Enabled || got.SealedAccessToken != changed.SealedAccessToken ||
			!reflect.DeepEqual(got.ServiceIDs, []string{"svc-9"}) ||
			!reflect.DeepEqual(got.ServiceDescriptions, changed.ServiceDescriptions) || got.LocationDirections != nil ||
			got.CancellationPolicy != "" || got.NotificationEmail != "front-desk@northside.example" {
			t.Errorf("update not saved: %+v", got)
		}
		if got.Revision != 2 || !got.CreatedAt.Equal(base) || !got.UpdatedAt.Equal(base.Add(time.Hour)) {
			t.Errorf("revision %d created %v updated %v", got.Revision, got.CreatedAt, got.UpdatedAt)
		}

		// A second writer that read revision 1 must not overwrite revision 2.
		stale := first
		stale.Phone = "1800 000 000"
		if err := s.UpdateClinic(ctx, stale); !errors.Is(err, ErrClinicChanged) {
			t.Errorf("stale UpdateClinic = %v, want ErrClinicChanged", err)
		}
		if got, _ := s.GetClinic(ctx, "northside"); got.Phone == "1800 000 000" {
			t.Error("a stale update overwrote the clinic")
		}
		missing := testClinic("nowhere")
		missing.Revision = 1
		if err := s.UpdateClinic(ctx, missing); !errors.Is(err, ErrNotFound) {
			t.Errorf("UpdateClinic(unknown) = %v, want ErrNotFound", err)
		}
	})
}
