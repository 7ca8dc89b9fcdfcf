// Package booking holds the rules a clinic cares about: which services and
// practitioners are offered, notice period, booking window, and the path from
// a chosen time to an appointment in coreplus. It imports neither Echo nor
// templ nor SQL drivers.
package booking

import (
	"slices"
	"time"
)

// Clinic is one practice's settings for the portal.
type Clinic struct {
	Slug  string
	Name  string
	Phone string
	// PrivacyURL is the clinic's privacy policy that patients consent to.
	PrivacyURL string
	// MinNotice is the shortest time between now and an appointment's start.
	MinNotice time.Duration
	// BookingWindowDays is how many days ahead patients may book: days from
	// the setting to the page, a duration only where times are compared.
	BookingWindowDays int
	// EmailReminders and SMSReminders are asked of coreplus on each booking.
	EmailReminders bool
	SMSReminders   bool
	// FrameOrigins are the sites allowed to embed the portal in an iframe.
	FrameOrigins []string

	// Locations lists the coreplus location ids offered online; empty
	// offers every location coreplus lists.
	Locations []string
	// Services lists the appointment type ids offered online; empty offers
	// every type coreplus lists.
	Services []string
	// OfferedPractitioners lists the practitioner ids offered online; empty
	// offers every practitioner coreplus lists.
	OfferedPractitioners []string
	// Practitioners describes practitioners by coreplus id. A practitioner
	// with no entry offers every service and has no description.
	Practitioners map[string]PractitionerProfile
	// Addresses gives each location's street address by coreplus location id
	// (coreplus locations carry none).
	Addresses map[string]string
	// LocationDirections gives each location's one-line directions (the
	// entrance, parking) by coreplus location id.
	LocationDirections map[string]string
	// ServiceDescriptions gives a line about each service by coreplus
	// appointment type id, shown under its name.
	ServiceDescriptions map[string]string
	// CancellationPolicy is the clinic's policy as patients read it before
	// and after booking; empty shows none.
	CancellationPolicy string
	// NotificationEmail is where the clinic's staff are told of bookings.
	NotificationEmail string
	// DraftTTL is how long a patient's typed details are kept after their
	// last change if no booking is made.
	DraftTTL time.Duration
	// CancellationCutoff is how long before the start a patient may still
	// cancel online; zero means online cancellation is not offered.
	CancellationCutoff time.Duration
	// Theme is how the clinic's pages look.
	Theme Theme
}

// Theme is a clinic's branding on the portal's pages.
type Theme struct {
	// BrandColour is a CSS hex colour such as "#0b5cad"; empty keeps the
	// portal's own.
	BrandColour string
	// LogoURL is an absolute https URL of the clinic's logo; empty shows none.
	LogoURL string
}

// PractitionerProfile is what the clinic says about one practitioner.
type PractitionerProfile struct {
	// Description is one short line shown under the name.
	Description string
	// Services lists the appointment type ids this practitioner offers
	// online; empty means every service.
	Services []string
}

// Defaults for the clinic rules when configuration leaves them out. A stored
// clinic keeps the value it was saved with (migration 00006 gave clinics
// stored before it 2h): changing a default here reaches new clinics only.
const (
	DefaultMinNotice         = 2 * time.Hour
	DefaultBookingWindowDays = 60
	DefaultDraftTTL          = 2 * time.Hour
)

// bookingWindow is how far ahead of now patients may book, for comparing
// times.
func (c Clinic) bookingWindow() time.Duration {
	return time.Duration(c.BookingWindowDays) * 24 * time.Hour
}

// offersService reports whether the clinic offers type id online.
func (c Clinic) offersService(id string) bool {
	return len(c.Services) == 0 || slices.Contains(c.Services, id)
}

// offersLocation reports whether the clinic offers location id online.
func (c Clinic) offersLocation(id string) bool {
	return len(c.Locations) == 0 || slices.Contains(c.Locations, id)
}

// offersPractitioner reports whether practitioner id is bookable online.
func (c Clinic) offersPractitioner(id string) bool {
	return len(c.OfferedPractitioners) == 0 || slices.Contains(c.OfferedPractitioners, id)
}

// practitionerOffers reports whether practitioner p offers type id online.
func (c Clinic) practitionerOffers(p, typeID string) bool {
	prof, ok := c.Practitioners[p]
	return !ok || len(prof.Services) == 0 || slices.Contains(prof.Services, typeID)
}
