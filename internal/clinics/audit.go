package clinics

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/clinic-booking/portal/internal/store"
)

// ActorCommandLine is who the audit says changed a setting from `portal
// clinic update`.
const ActorCommandLine = "command line"

// Change is one setting changed, its values as staff read them (the access
// token masked).
type Change struct {
	// Setting is the setting's name as the command line spells it.
	Setting  string
	Old, New string
}

// setting is one audited setting: its name and how its value reads.
type setting struct {
	name, label string
	value       func(Record) string
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func listValue(l []string, empty string) string {
	if len(l) == 0 {
		return empty
	}
	return strings.Join(l, ", ")
}

func mapValue(m map[string]string) string {
	var parts []string
	for _, id := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, id+": "+m[id])
	}
	return orNone(strings.Join(parts, "; "))
}

// settings are every setting the audit records, in the order pages show them.
var settings = []setting{
	{"name", "Name", func(r Record) string { return r.Name }},
	{"phone", "Phone", func(r Record) string { return orNone(r.Phone) }},
	{"privacy-url", "Privacy policy", func(r Record) string { return orNone(r.PrivacyURL) }},
	{"access-token", "coreplus access token", func(r Record) string { return r.AccessToken.String() }},
	{"min-notice", "Shortest notice", func(r Record) string { return r.MinNotice.String() }},
	{"window-days", "Booking window", func(r Record) string { return strconv.Itoa(r.WindowDays) + " days" }},
	{"cancellation-cutoff", "Online cancellation cut-off", func(r Record) string { return r.CancellationCutoff.String() }},
	{"cancellation-policy", "Cancellation policy", func(r Record) string { return orNone(r.CancellationPolicy) }},
	{"email-reminders", "Email reminders", func(r Record) string { return strconv.FormatBool(r.EmailReminders) }},
	{"sms-reminders", "SMS reminders", func(r Record) string { return strconv.FormatBool(r.SMSReminders) }},
	{"locations", "Locations offered", func(r Record) string { return listValue(r.Locations, "all") }},
	{"services", "Services offered", func(r Record) string { return listValue(r.Services, "all") }},
	{"practitioners", "Practitioners offered", func(r Record) string { return listValue(r.Practitioners, "all") }},
	{"addresses", "Location addresses", func(r Record) string { return mapValue(r.Addresses) }},
	{"location-directions", "Location directions", func(r Record) string { return mapValue(r.LocationDirections) }},
	{"service-descriptions", "Service descriptions", func(r Record) string { return mapValue(r.ServiceDescriptions) }},
	{"practitioner-profiles", "Practitioner descriptions", func(r Record) string {
		var parts []string
		for _, id := range slices.Sorted(maps.Keys(r.PractitionerProfiles)) {
			p := r.PractitionerProfiles[id]
			part := id + ": " + p.Description
			if len(p.Services) > 0 {
				part += " (services " + strings.Join(p.Services, ", ") + ")"
			}
			parts = append(parts, part)
		}
		return orNone(strings.Join(parts, "; "))
	}},
	{"brand-colour", "Brand colour", func(r Record) string { return orNone(r.Theme.BrandColour) }},
	{"logo-url", "Logo", func(r Record) string { return orNone(r.Theme.LogoURL) }},
	{"frame-origins", "Sites allowed to embed the portal", func(r Record) string { return listValue(normaliseOrigins(r.FrameOrigins), "(none)") }},
	{"notification-email", "Notification email", func(r Record) string { return orNone(r.NotificationEmail) }},
	{"draft-ttl", "Typed details kept for", func(r Record) string { return r.DraftTTL.String() }},
	{"enabled", "Served", func(r Record) string { return strconv.FormatBool(r.Enabled) }},
}

// SettingLabel is a setting's name as staff read it ("" for none such).
func SettingLabel(name string) string {
	for _, s := range settings {
		if s.name == name {
			return s.label
		}
	}
	return ""
}

// Changes lists the settings that differ between before and after. The
// access token is compared in full and shown only masked, and a new token
// whose mask reads as the old one's is still recorded.
func Changes(before, after Record) []Change {
	var out []Change
	for _, s := range settings {
		o, n := s.value(before), s.value(after)
		if s.name == "access-token" {
			if before.AccessToken.Reveal() != after.AccessToken.Reveal() {
				out = append(out, Change{Setting: s.name, Old: o, New: n + " (a new token)"})
			}
			continue
		}
		if o != n {
			out = append(out, Change{Setting: s.name, Old: o, New: n})
		}
	}
	return out
}

// UpdateBy saves rec as Update does, recording each setting it changes
// against the stored one as actor's, in the same transaction: a refused
// update (invalid, or stale: ErrChanged) records nothing.
func (r *Repo) UpdateBy(ctx context.Context, rec Record, actor string) error {
	if err := rec.Validate(); err != nil {
		return err
	}
	stored, err := r.Get(ctx, rec.Slug)
	if err != nil {
		return err
	}
	if stored.Revision != rec.Revision {
		return ErrChanged
	}
	row, err := r.seal(rec)
	if err != nil {
		return err
	}
	var entries []store.AuditEntry
	for _, c := range Changes(stored, rec) {
		entries = append(entries, store.AuditEntry{Actor: actor, Setting: c.Setting, OldValue: c.Old, NewValue: c.New})
	}
	return r.store.UpdateClinicAudited(ctx, row, entries)
}

// Audit lists a clinic's recorded changes, newest first, at most limit,
// leaving out those of the setting named without, if given.
func (r *Repo) Audit(ctx context.Context, slug string, limit int, without ...string) ([]AuditEntry, error) {
	if limit <= 0 {
		return nil, errors.New("audit: limit must be positive")
	}
	return r.store.ClinicAudit(ctx, slug, limit, without...)
}

// AuditEntry is one recorded change to a clinic's settings.
type AuditEntry = store.AuditEntry
