package main

import (
	"encoding/json"
	"errors"
	"strings"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/internal/clinics"
	"github.com/clinic-booking/portal/internal/coreplus/sandbox"
)

// loadEnvClinic reads the clinic configured by environment as a clinic
// record and checks it with the rules every stored clinic meets; each
// problem names the variable to fix. The access token comes from the
// coreplus part of the configuration, which reports its absence itself.
func loadEnvClinic(getenv func(string) string, demo bool, accessToken string, bad func(string, ...any)) clinics.Record {
	rec := clinics.NewRecord()
	rec.Slug, rec.Name = "clinic", "Online booking"
	if demo {
		rec.Slug, rec.Name, rec.Phone = "demo", "Harbourside Physio & Allied Health (demo)", "07 3000 0000"
	}
	rec.Slug = firstNonEmpty(getenv("CLINIC_SLUG"), rec.Slug)
	rec.Name = firstNonEmpty(getenv("CLINIC_NAME"), rec.Name)
	rec.Phone = firstNonEmpty(getenv("CLINIC_PHONE"), rec.Phone)
	rec.PrivacyURL = getenv("CLINIC_PRIVACY_URL")
	rec.AccessToken = clinics.Token(accessToken)
	rec.FrameOrigins = splitList(getenv("CLINIC_FRAME_ORIGINS"))
	rec.Theme = booking.Theme{BrandColour: getenv("CLINIC_BRAND_COLOUR"), LogoURL: getenv("CLINIC_LOGO_URL")}
	rec.MinNotice = parseDuration(getenv, "BOOKING_MIN_NOTICE", rec.MinNotice, bad)
	rec.WindowDays = parseInt(getenv, "BOOKING_WINDOW_DAYS", rec.WindowDays, bad)
	rec.EmailReminders = parseBool(getenv, "BOOKING_EMAIL_REMINDERS", rec.EmailReminders, bad)
	rec.SMSReminders = parseBool(getenv, "BOOKING_SMS_REMINDERS", rec.SMSReminders, bad)
	rec.DraftTTL = parseDuration(getenv, "BOOKING_DRAFT_TTL", rec.DraftTTL, bad)
	rec.CancellationCutoff = parseDuration(getenv, "BOOKING_CANCELLATION_CUTOFF", rec.CancellationCutoff, bad)
	rec.Services = splitList(getenv("CLINIC_SERVICES"))
	if v := getenv("CLINIC_LOCATION_ADDRESSES"); v != "" {
		if err := json.Unmarshal([]byte(v), &rec.Addresses); err != nil {
			bad(`CLINIC_LOCATION_ADDRESSES is not valid: expected JSON such as {"<coreplus location id>": "12 Crown St, Surry Hills NSW 2010"}`)
		}
	}
	for _, m := range []struct {
		name, example string
		into          *map[string]string
	}{
		{"CLINIC_LOCATION_DIRECTIONS", `{"<coreplus location id>": "Level 2: the lift is beside the pharmacy"}`, &rec.LocationDirections},
		{"CLINIC_SERVICE_DESCRIPTIONS", `{"<coreplus appointment type id>": "Assessment, treatment and a plan for your first visit"}`, &rec.ServiceDescriptions},
	} {
		if v := getenv(m.name); v != "" {
			if err := json.Unmarshal([]byte(v), m.into); err != nil {
				bad("%s is not valid: expected JSON such as %s", m.name, m.example)
			}
		}
	}
	rec.CancellationPolicy = strings.TrimSpace(getenv("CLINIC_CANCELLATION_POLICY"))
	rec.NotificationEmail = strings.TrimSpace(getenv("CLINIC_NOTIFICATION_EMAIL"))
	if v := getenv("CLINIC_PRACTITIONERS"); v != "" {
		var ps map[string]struct {
			Description string   `json:"description"`
			Services    []string `json:"services"`
		}
		if err := json.Unmarshal([]byte(v), &ps); err != nil {
			bad(`CLINIC_PRACTITIONERS is not valid: expected JSON such as {"<coreplus practitioner id>": {"description": "Sports physiotherapist", "services": ["<appointment type id>"]}}`)
		}
		rec.PractitionerProfiles = map[string]booking.PractitionerProfile{}
		for id, p := range ps {
			rec.PractitionerProfiles[id] = booking.PractitionerProfile{Description: p.Description, Services: p.Services}
		}
	}
	if demo {
		demoClinic(&rec)
	}

	if !demo && accessToken == "" && getenv("PORTAL_TOKEN_KEYS") != "" {
		// The portal serves stored clinics only: leftover CLINIC_* values
		// are not served, so they must not stop it starting.
		return rec
	}
	var problems clinics.Problems
	if err := rec.Validate(); errors.As(err, &problems) {
		for _, p := range problems {
			if p.Field == "access-token" && accessToken == "" {
				continue // the coreplus part says what to set
			}
			bad("%s %s", clinicEnvName(p.Field), p.Message)
		}
	}
	return rec
}

// clinicEnvName is the environment variable that sets a clinic record's
// field, as clinics.Problem names it.
func clinicEnvName(field string) string {
	switch field {
	case "slug":
		return "CLINIC_SLUG"
	case "name":
		return "CLINIC_NAME"
	case "phone":
		return "CLINIC_PHONE"
	case "privacy-url":
		return "CLINIC_PRIVACY_URL"
	case "access-token":
		return "COREPLUS_ACCESS_TOKEN"
	case "frame-origins":
		return "CLINIC_FRAME_ORIGINS"
	case "brand-colour":
		return "CLINIC_BRAND_COLOUR"
	case "logo-url":
		return "CLINIC_LOGO_URL"
	case "min-notice":
		return "BOOKING_MIN_NOTICE"
	case "window-days":
		return "BOOKING_WINDOW_DAYS"
	case "draft-ttl":
		return "BOOKING_DRAFT_TTL"
	case "cancellation-cutoff":
		return "BOOKING_CANCELLATION_CUTOFF"
	case "services":
		return "CLINIC_SERVICES"
	case "addresses":
		return "CLINIC_LOCATION_ADDRESSES"
	case "practitioner-profiles":
		return "CLINIC_PRACTITIONERS"
	case "location-directions":
		return "CLINIC_LOCATION_DIRECTIONS"
	case "service-descriptions":
		return "CLINIC_SERVICE_DESCRIPTIONS"
	case "cancellation-policy":
		return "CLINIC_CANCELLATION_POLICY"
	case "notification-email":
		return "CLINIC_NOTIFICATION_EMAIL"
	}
	// A setting the environment cannot set keeps its command-line name.
	return "--" + field
}

// splitList reads a list separated by commas or spaces.
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })
}

// demoClinic describes the sandbox's demo practitioners and locations, where
// configuration has not.
func demoClinic(rec *clinics.Record) {
	if rec.Addresses == nil {
		rec.Addresses = map[string]string{
			sandbox.LocationSydneyID:   "112 Crown Street, Surry Hills NSW 2010",
			sandbox.LocationBrisbaneID: "40 Grey Street, South Brisbane QLD 4101",
		}
	}
	if rec.LocationDirections == nil {
		rec.LocationDirections = map[string]string{
			sandbox.LocationSydneyID:   "Level 1, above the pharmacy: the entrance and lift are on Crown Street",
			sandbox.LocationBrisbaneID: "Ground floor; two-hour street parking on Grey Street",
		}
	}
	if rec.ServiceDescriptions == nil {
		rec.ServiceDescriptions = map[string]string{
			sandbox.AppointmentTypeInitialID:  "Your first visit: assessment, treatment and a plan",
			sandbox.AppointmentTypeStandardID: "A follow-up visit for a problem we are treating",
			sandbox.AppointmentTypeExtendedID: "More time for complex or several problems",
			sandbox.AppointmentTypeReviewID:   "A short check of your progress and exercises",
		}
	}
	if rec.CancellationPolicy == "" {
		rec.CancellationPolicy = "Please give at least 24 hours' notice if you need to cancel or change your appointment, so that someone else can have the time."
	}
	if rec.PractitionerProfiles == nil {
		rec.PractitionerProfiles = map[string]booking.PractitionerProfile{
			sandbox.PractitionerPriyaID: {Description: "Physiotherapist: sports injuries and running"},
			sandbox.PractitionerTomID:   {Description: "Physiotherapist: back and neck pain"},
			sandbox.PractitionerMeiID:   {Description: "Physiotherapist: women's health and pelvic floor"},
			sandbox.PractitionerLiamID:  {Description: "Physiotherapist: rehabilitation after surgery"},
			sandbox.PractitionerAishaID: {Description: "Physiotherapist: evening appointments, headaches and jaw pain"},
			sandbox.PractitionerJackID:  {Description: "Exercise physiologist: strength and balance"},
		}
	}
}
