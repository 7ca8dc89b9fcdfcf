package web

import (
	"bytes"
	"context"
	"fmt"

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
