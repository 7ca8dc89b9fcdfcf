package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/internal/mail"
	"github.com/clinic-booking/portal/internal/staff"
	"github.com/clinic-booking/portal/views"
)

// MessageQueue queues a message about no change to a booking in the
// outbox (bookingstore.Adapter with its keys).
type MessageQueue interface {
	QueueMessage(ctx context.Context, m booking.Message) error
}

// SignInMail sends sign-in links through the outbox, so the mail worker
// sends them like patients' mail: the address and the link are sealed at
// rest and never logged, and an SMTP server that is down delays a link
// instead of losing it (until the link expires: see MailComposer).
type SignInMail struct{ Queue MessageQueue }

func (m SignInMail) SendSignInLink(ctx context.Context, email, link string) error {
	return m.Queue.QueueMessage(ctx, booking.Message{Kind: booking.MessageStaffSignIn, To: email, Link: link})
}

func (m SignInMail) SendInvite(ctx context.Context, clinic, email, link string) error {
	return m.Queue.QueueMessage(ctx, booking.Message{Kind: booking.MessageStaffInvite, Clinic: clinic, To: email, Link: link})
}

// inviteEmail tells someone they were given access to a clinic's console:
// which clinic, and a first sign-in link; or, once that link has expired
// (the mail was held up), the sign-in page, which emails a new one. It is
// not "someone asked for a link": they asked for nothing.
func (mc *MailComposer) inviteEmail(ctx context.Context, m booking.QueuedMessage) (mail.Email, error) {
	if m.Link == "" {
		return mail.Email{}, fmt.Errorf("compose %s mail: no link in the message", m.Kind)
	}
	if mc.members != nil {
		acc, err := mc.members.ByEmail(ctx, m.To)
		switch {
		case errors.Is(err, staff.ErrNoAccount) || err == nil && !acc.Sees(m.Clinic):
			return mail.Email{}, mail.ErrNotDue // removed since: no welcome
		case err != nil:
			return mail.Email{}, fmt.Errorf("compose %s mail: %w", m.Kind, err)
		}
	}
	name := m.Clinic
	if svc, ok := mc.clinics.Clinic(ctx, m.Clinic); ok {
		name = svc.Clinic().Name
	}
	v := views.StaffEmail{
		Subject: "You've been given access to " + name + "'s staff console",
		Heading: "Welcome to " + name + "'s staff console",
		Paragraphs: []string{
			"An admin of " + name + " gave this address access to the clinic's online booking console, where staff see the bookings patients make online, their booking requests and the portal's settings.",
		},
		Footer: "You're receiving this because an admin of " + name + " added this address to the clinic's staff on its booking portal. If you don't work with " + name + ", ignore this email.",
	}
	if mc.now().Before(m.CreatedAt.Add(staff.LinkTTL)) {
		v.Paragraphs = append(v.Paragraphs, "Your first sign-in link works once, within 15 minutes of the invitation. Open it on the device you want to sign in on, then press Sign in. After that, sign in at the console's sign-in page with this address: it emails you a new link each time.")
		v.ButtonURL, v.ButtonText = m.Link, "Sign in"
	} else {
		v.Paragraphs = append(v.Paragraphs, "The first sign-in link made for you has expired, as links do after 15 minutes. Open the console's sign-in page and enter this address: it emails you a new link.")
		base, _, _ := strings.Cut(m.Link, "/console/sign-in/")
		v.ButtonURL, v.ButtonText = base+"/console/sign-in", "Go to the sign-in page"
	}
	var html bytes.Buffer
	if err := views.StaffEmailHTML(v).Render(ctx, &html); err != nil {
		return mail.Email{}, fmt.Errorf("render %s mail: %w", m.Kind, err)
	}
	return mail.Email{Subject: v.Subject, Text: views.StaffEmailText(v), HTML: html.String()}, nil
}

// signInEmail writes a sign-in link's email, or drops it (mail.ErrNotDue)
// once the link has expired: a link that cannot sign in is no use, and a
// late one would only confuse.
func (mc *MailComposer) signInEmail(ctx context.Context, m booking.QueuedMessage) (mail.Email, error) {
	if !mc.now().Before(m.CreatedAt.Add(staff.LinkTTL)) {
		return mail.Email{}, mail.ErrNotDue
	}
	if m.Link == "" {
		return mail.Email{}, fmt.Errorf("compose %s mail: no link in the message", m.Kind)
	}
	v := views.StaffEmail{
		Subject: "Your sign-in link for the staff console",
		Heading: "Sign in to the staff console",
		Paragraphs: []string{
			"Someone, hopefully you, asked for a link to sign in to your clinic's booking portal console with this address.",
			"The link works once, within 15 minutes of being asked for. Open it on the device you want to sign in on, then press Sign in.",
			"If you didn't ask for it, ignore this email: without the link, no one can sign in as you.",
		},
		ButtonURL: m.Link, ButtonText: "Sign in",
		Footer: "You're receiving this because this address has a staff account on the clinic's booking portal.",
	}
	var html bytes.Buffer
	if err := views.StaffEmailHTML(v).Render(ctx, &html); err != nil {
		return mail.Email{}, fmt.Errorf("render %s mail: %w", m.Kind, err)
	}
	return mail.Email{Subject: v.Subject, Text: views.StaffEmailText(v), HTML: html.String()}, nil
}

// requestEmail tells the clinic's notification address that a patient
// left a booking request: what they chose and when they would like to
// come, and a link to the console's Requests page. The patient's name and
// contact details are not in it: a clinic's notification address is often
// a shared or forwarded inbox, and email is kept, copied and searched long
// after the request (and the details in it) is deleted at 30 days; the
// console shows them only to signed-in staff of the clinic.
func (mc *MailComposer) requestEmail(ctx context.Context, m booking.QueuedMessage) (mail.Email, error) {
	if m.Request == nil {
		return mail.Email{}, fmt.Errorf("compose %s mail: no request in the message", m.Kind)
	}
	svc, ok := mc.clinics.Clinic(ctx, m.Clinic)
	if !ok {
		return mail.Email{}, fmt.Errorf("compose %s mail: clinic %s is not served", m.Kind, m.Clinic)
	}
	clinic := svc.Clinic()
	names := referenceNames(ctx, svc)
	if names.missing && m.Tries < incompleteTries {
		return mail.Email{}, errors.New("compose request mail: the clinic's reference data could not be read; trying again later")
	}
	r := names.describeRequest(*m.Request)
	v := views.StaffEmail{
		Subject: "New booking request – " + clinic.Name,
		Heading: "A patient left a booking request",
		Paragraphs: []string{
			"Online booking couldn't reach coreplus, so a patient left a request for " + clinic.Name + " to contact them. They asked for:",
			"Service: " + r.Service,
			"Practitioner: " + r.Practitioner,
			"Location: " + r.Location,
			"Preferred days: " + r.Days,
			"Preferred times: " + r.Times,
			"Received: " + r.Received + " (reference " + r.Reference + ")",
			"Their name and how to reach them are in the staff console, not in this email. Sign in to see them, call them back, and mark the request contacted.",
		},
		ButtonURL: mc.linkURL + "/console/" + clinic.Slug + "/requests", ButtonText: "Open booking requests",
		Footer: "You're receiving this because this address is " + clinic.Name + "'s notification address on the booking portal.",
	}
	var html bytes.Buffer
	if err := views.StaffEmailHTML(v).Render(ctx, &html); err != nil {
		return mail.Email{}, fmt.Errorf("render %s mail: %w", m.Kind, err)
	}
	return mail.Email{Subject: v.Subject, Text: views.StaffEmailText(v), HTML: html.String()}, nil
}
