package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/internal/mail"
	"github.com/clinic-booking/portal/internal/staff"
	"github.com/clinic-booking/portal/views"
)

// defaultBrand is the portal's own blue (static/css/portal.css), for a
// clinic with no brand colour.
const defaultBrand = "#0b5cad"

// MailComposer writes the outbox's messages as emails, from the booking as
// it stands when the message is sent, with the same presenters as the
// pages: mail is a view.
type MailComposer struct {
	clinics   Clinics
	publicURL string
	linkURL   string
	manage    booking.ManageTokens
	// now is the clock sign-in links expire by (time.Now).
	now func() time.Time
	// members tells whether an invitation's address still has access to
	// its clinic; nil sends every invitation.
	members StaffMembers
}

// StaffMembers finds the account of an address (*staff.Accounts):
// staff.ErrNoAccount when there is none.
type StaffMembers interface {
	ByEmail(ctx context.Context, email string) (staff.Account, error)
}

// WithStaff drops an invitation whose address was removed from its clinic
// before it went out (an admin inviting the wrong address, then removing
// it), instead of welcoming someone who has no access.
func (mc *MailComposer) WithStaff(members StaffMembers) *MailComposer {
	mc.members = members
	return mc
}

// NewMailComposer composes for the clinics in clinics. publicURL is
// PUBLIC_URL, the portal's own address (Config.PublicURL), which every
// link in an email starts with and the calendar event's UID is made from;
// secret is PORTAL_SECRET_KEY, which the manage links are signed with.
func NewMailComposer(clinics Clinics, publicURL string, secret []byte) *MailComposer {
	u := strings.TrimRight(publicURL, "/")
	return &MailComposer{clinics: clinics, publicURL: u, linkURL: u, manage: booking.NewManageTokens(secret), now: time.Now}
}

// WithClock makes the composer tell the time by now, for tests that move
// time forward.
func (mc *MailComposer) WithClock(now func() time.Time) *MailComposer {
	mc.now = now
	return mc
}

// LinksTo makes the email's links start with base instead of PUBLIC_URL,
// for the demo, which has no PUBLIC_URL and links to its own listener; the
// calendar UID stays the confirmation page's.
func (mc *MailComposer) LinksTo(base string) *MailComposer {
	mc.linkURL = strings.TrimRight(base, "/")
	return mc
}

// incompleteTries is how many tries a message waits for the clinic's
// reference data (names, address) before it goes with what the booking
// record holds.
const incompleteTries = 3

// Compose writes m. mail.ErrNotDue means the booking no longer stands as
// the message would say (a confirmation of a booking cancelled since).
func (mc *MailComposer) Compose(ctx context.Context, m booking.QueuedMessage) (mail.Email, error) {
	switch m.Kind {
	case booking.MessageStaffSignIn:
		return mc.signInEmail(ctx, m)
	case booking.MessageStaffInvite:
		return mc.inviteEmail(ctx, m)
	case booking.MessageRequestLeft:
		return mc.requestEmail(ctx, m)
	}
	svc, ok := mc.clinics.Clinic(ctx, m.Clinic)
	if !ok {
		return mail.Email{}, fmt.Errorf("compose %s mail: clinic %s is not served", m.Kind, m.Clinic)
	}
	clinic := svc.Clinic()
	b, err := svc.Booking(ctx, m.DraftID)
	if err != nil {
		return mail.Email{}, fmt.Errorf("compose %s mail: read booking: %w", m.Kind, err)
	}
	want := booking.RecordBooked
	if m.Kind == booking.MessageCancelled {
		want = booking.RecordCancelled
	}
	if b.Status != want {
		return mail.Email{}, mail.ErrNotDue
	}
	sel := b.Selection
	if (sel.Location == nil || sel.Service == nil || sel.Slot == nil) && m.Tries < incompleteTries {
		return mail.Email{}, errors.New("compose mail: the clinic's reference data could not be read; trying again later")
	}

	ev := booking.BookingEvent(clinic, b, mc.publicURL)
	ev.Sequence = m.Sequence
	v := mc.model(clinic, b, m)
	switch m.Kind {
	case booking.MessageConfirmed:
		v.Heading = "Your booking is confirmed"
		v.Intro = "Thanks for booking with " + clinic.Name + ". Here are the details."
	case booking.MessageMoved:
		v.Heading = "Your booking has moved"
		v.Intro = "Your appointment with " + clinic.Name + " is now at the time below."
		v.CalendarNote = "Open the attached file to move the appointment in your calendar."
		// PUBLISH like the confirmation: the event names no organizer or
		// attendee (RFC 5546 wants both for REQUEST), and a calendar
		// updates an event it holds from a newer SEQUENCE of the same UID.
		ev.Method = booking.CalendarPublish
	case booking.MessageCancelled:
		v.Heading = "Your booking is cancelled"
		v.Intro = "Your appointment with " + clinic.Name + " below is cancelled."
		v.ManageURL, v.Policy = "", nil
		v.BookAgainURL = mc.linkURL + flowLinks{slug: clinic.Slug}.book(booking.Choice{
			LocationID: b.LocationID, ServiceID: b.ServiceID, PractitionerID: b.PractitionerID,
		})
		v.CalendarNote = "Open the attached file to take it out of your calendar."
		ev.Method = booking.CalendarCancel
	default:
		return mail.Email{}, fmt.Errorf("compose mail: no email for messages of kind %q", m.Kind)
	}
	v.Subject = v.Heading + " – " + clinic.Name
	if len(v.Rows) > 0 {
		v.Preheader = v.Rows[len(v.Rows)-1].Value
	}

	var html bytes.Buffer
	if err := views.BookingEmailHTML(v).Render(ctx, &html); err != nil {
		return mail.Email{}, fmt.Errorf("render %s mail: %w", m.Kind, err)
	}
	return mail.Email{
		Subject: v.Subject,
		Text:    views.BookingEmailText(v),
		HTML:    html.String(),
		Attachments: []mail.Attachment{{
			Name: "appointment-" + b.Reference + ".ics", ContentType: "text/calendar", Data: ev.ICS(),
		}},
	}, nil
}

// model is what every kind of booking email shows.
func (mc *MailComposer) model(clinic booking.Clinic, b booking.Confirmed, m booking.QueuedMessage) views.BookingEmail {
	brand, ok := parseHexColour(clinic.Theme.BrandColour)
	if !ok {
		brand, _ = parseHexColour(defaultBrand)
	}
	v := views.BookingEmail{
		ClinicName: clinic.Name,
		Brand:      brand.String(), BrandText: textOn(brand).String(), Link: linkColour(brand).String(),
		Rows:         confirmedRows(b),
		Policy:       cancellationPolicy(clinic),
		ManageURL:    mc.linkURL + "/" + clinic.Slug + "/manage/" + mc.manage.Token(clinic.Slug, b.DraftID),
		CalendarNote: "The attached calendar file adds the appointment to your calendar, with a reminder the day before.",
		Phone:        clinic.Phone,
	}
	if m.FirstName != "" {
		v.Greeting = "Hi " + m.FirstName + ","
	}
	return v
}

// cancellationPolicy is the clinic's cancellation policy as patients read
// it: the clinic's own words when it has set them, then what the portal
// lets them do online.
func cancellationPolicy(clinic booking.Clinic) []string {
	call := "call " + clinic.Name
	if clinic.Phone != "" {
		call += " on " + clinic.Phone
	}
	online := "To cancel or change your appointment, " + call + "."
	if clinic.CancellationCutoff > 0 {
		online = "You can cancel or change your appointment online up to " + cutoffLabel(clinic.CancellationCutoff) +
			" before it starts. After that, " + call + "."
	}
	return append(policyParagraphs(clinic), online)
}

// cutoffLabel says a cut-off in words: "24 hours", "2 days".
func cutoffLabel(d time.Duration) string {
	return strings.TrimSuffix(strings.TrimSuffix(durationLabel(d), "'"), "'s")
}
