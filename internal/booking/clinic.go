// Package booking holds the rules a clinic cares about: which services and
// practitioners are offered, notice period, booking window, and the path from
// a chosen time to an appointment in coreplus. It imports neither Echo nor
// templ nor SQL drivers.
package booking

import "time"

// Clinic is one practice's settings for the portal.
type Clinic struct {
	Slug  string
	Name  string
	Phone string
	// PrivacyURL is the clinic's privacy policy that patients consent to.
	PrivacyURL string
	// MinNotice is the shortest time between now and an appointment's start.
	MinNotice time.Duration
	// BookingWindow is how far ahead patients may book.
	BookingWindow time.Duration
	// EmailReminders and SMSReminders are asked of coreplus on each booking.
	EmailReminders bool
	SMSReminders   bool
	// FrameOrigins are the sites allowed to embed the portal in an iframe.
	FrameOrigins []string
}

// Defaults for the clinic rules when configuration leaves them out.
const (
	DefaultMinNotice     = 2 * time.Hour
	DefaultBookingWindow = 60 * 24 * time.Hour
)
