package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/clinic-booking/portal/internal/clinics"
	"github.com/clinic-booking/portal/internal/coreplus/sandbox"
	"github.com/clinic-booking/portal/internal/store"
)

// withCoreplusEnv adds to env a valid operator configuration: coreplus
// consumer credentials and the portal's secret key.
func withCoreplusEnv(env map[string]string) map[string]string {
	for k, v := range map[string]string{
		"COREPLUS_BASE_URL":        "https://sandbox.coreplus.example/API/Core/v2.1/",
		"COREPLUS_CONSUMER_ID":     "consumer",
		"COREPLUS_CONSUMER_SECRET": "s3cret-value",
		"PORTAL_SECRET_KEY":        strings.Repeat("ab", 32),
	} {
		if _, ok := env[k]; !ok {
			env[k] = v
		}
	}
	return env
}

// TestLeftoverClinicValuesDoNotStopAStoredClinicsPortal: with no access
// token and stored clinics' keys set, no clinic is configured by
// environment, so CLINIC_* values left behind are not checked (CLINIC_SLUG
// and CLINIC_NAME alone still ask for the token: they say one was meant).
func TestLeftoverClinicValuesDoNotStopAStoredClinicsPortal(t *testing.T) {
	env := withCoreplusEnv(map[string]string{
		"PORTAL_TOKEN_KEYS": strings.Repeat("cd", 32),
		"CLINIC_PHONE":      strings.Repeat("9", 41),
		"CLINIC_SERVICES":   "{not-an-id}",
	})
	cfg, err := loadConfig(nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatalf("loadConfig refused a stored-clinics portal over unused CLINIC_* values: %v", err)
	}
	if cfg.HasEnvClinic() {
		t.Error("a clinic configured by environment is served with no access token")
	}
	// The same values do stop a portal that would serve them.
	env["COREPLUS_ACCESS_TOKEN"] = "5f0c2a8e-9d7b-4c1e-8a3f-2b6d9e4c7a10"
	if _, err := loadConfig(nil, func(k string) string { return env[k] }, io.Discard); err == nil || !strings.Contains(err.Error(), "CLINIC_SERVICES") || !strings.Contains(err.Error(), "CLINIC_PHONE") {
		t.Errorf("loadConfig with an access token: %v, want CLINIC_SERVICES and CLINIC_PHONE named", err)
	}
}

// TestEnvClinicMeetsTheStoredClinicsRules: the clinic configured by
// environment is checked by clinics.Record.Validate, and each problem names
// the variable to fix.
func TestEnvClinicMeetsTheStoredClinicsRules(t *testing.T) {
	env := withCoreplusEnv(map[string]string{
		"COREPLUS_ACCESS_TOKEN":       strings.Repeat("t", 51),
		"CLINIC_SLUG":                 "admin",
		"BOOKING_WINDOW_DAYS":         "0",
		"BOOKING_DRAFT_TTL":           "5m",
		"CLINIC_PRACTITIONERS":        `{"p 1": {"description": "Physiotherapist"}}`,
		"CLINIC_SERVICE_DESCRIPTIONS": `{"svc-1": "one\u0007bell"}`,
		"CLINIC_LOCATION_DIRECTIONS":  `not json`,
		"CLINIC_NOTIFICATION_EMAIL":   "desk@",
	})
	_, err := loadConfig(nil, func(k string) string { return env[k] }, io.Discard)
	if err == nil {
		t.Fatal("loadConfig accepted a clinic that breaks the clinic rules")
	}
	for _, want := range []string{
		`CLINIC_SLUG is "admin", which the portal uses for its own pages`,
		"BOOKING_WINDOW_DAYS is 0: expected a whole number of days from 1 to 730",
		"BOOKING_DRAFT_TTL is 5m0s: expected whole seconds from 10m",
		`CLINIC_PRACTITIONERS has "p 1"`,
		"COREPLUS_ACCESS_TOKEN is 51 characters",
		`CLINIC_SERVICE_DESCRIPTIONS for "svc-1" has a line break or control character`,
		`CLINIC_LOCATION_DIRECTIONS is not valid: expected JSON`,
		`CLINIC_NOTIFICATION_EMAIL is "desk@": expected one email address`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), strings.Repeat("t", 51)) {
		t.Error("the error repeats the access token")
	}
}

// TestDemoClinicSurvivesTheStore: everything the demo clinic carries
// (addresses, practitioner profiles, draft lifetime...) comes back from the
// store unchanged, so a clinic moved from environment to `portal clinic add`
// loses nothing.
func TestDemoClinicSurvivesTheStore(t *testing.T) {
	env := map[string]string{"DATA_DIR": t.TempDir(), "BOOKING_DRAFT_TTL": "45m", "CLINIC_SERVICES": sandbox.AppointmentTypeStandardID}
	cfg, err := loadConfig([]string{"-demo"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Clinic.AccessToken = sandbox.DemoAccessToken
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite:"+t.TempDir()+"/portal.db")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	keys, err := clinics.ParseKeyring(strings.Repeat("cd", 32))
	if err != nil {
		t.Fatal(err)
	}
	repo := clinics.NewRepo(db, keys)
	if err := repo.Add(ctx, cfg.Clinic); err != nil {
		t.Fatal(err)
	}
	got, err := repo.Get(ctx, cfg.Clinic.Slug)
	if err != nil {
		t.Fatal(err)
	}
	// Printed, an empty list and a missing one read the same, as they mean.
	if got, want := fmt.Sprintf("%+v", got.Booking()), fmt.Sprintf("%+v", cfg.Clinic.Booking()); got != want {
		t.Errorf("after the store:\n got %s\nwant %s", got, want)
	}
	if len(got.Addresses) == 0 || len(got.PractitionerProfiles) == 0 || len(got.LocationDirections) == 0 ||
		len(got.ServiceDescriptions) == 0 || got.CancellationPolicy == "" {
		t.Errorf("the demo's addresses, directions, service or practitioner descriptions or policy were dropped: %+v", got)
	}
}
