package booking

import (
	"context"
	"errors"
	"time"
)

// MessageKind names why a message is sent: to a patient about their
// booking, or to staff (a sign-in link). The rules say that a message is
// due, and which; what it says is the views', and how it goes is
// internal/mail's.
type MessageKind string

const (
	// MessageConfirmed: the booking is made (at confirm, or when the
	// sweeper settles an unknown booking as booked).
	MessageConfirmed MessageKind = "confirmed"
	// MessageCancelled: the patient (or the clinic) cancelled it; its
	// calendar event goes out with METHOD:CANCEL and the same UID.
	MessageCancelled MessageKind = "cancelled"
	// MessageMoved: the appointment moved to another time; its calendar
	// event keeps the UID with a higher SEQUENCE.
	MessageMoved MessageKind = "moved"
	// MessageStaffSignIn: a staff member asked for a link that signs them
	// in to the console. It is about no booking (DraftID is ""); its Link
	// is sealed with the address, and it is dropped unsent once the link
	// has expired.
	MessageStaffSignIn MessageKind = "staff-sign-in"
	// MessageStaffInvite: a clinic's admin (or an operator) gave the
	// address access to the clinic's console; Clinic names the clinic and
	// Link is a first sign-in link, sealed like the address. Unlike a link
	// asked for, it is sent however late: once the link has expired it
	// says to ask the sign-in page for a new one.
	MessageStaffInvite MessageKind = "staff-invite"
	// MessageRequestLeft: a patient left a booking request; the clinic's
	// notification address is told, queued with the request. It is about
	// no booking (DraftID is ""); Request holds the choices, never the
	// patient's details.
	MessageRequestLeft MessageKind = "request-left"
)

// MessageKinds lists every kind.
func MessageKinds() []MessageKind {
	return []MessageKind{MessageConfirmed, MessageCancelled, MessageMoved, MessageStaffSignIn, MessageStaffInvite, MessageRequestLeft}
}

// Message is one message due, in the outbox. A patient's is queued in the
// same transaction as the change to the booking that makes it due (see
// Store.UpdateBooking and Store.SettleBooking); the booking is read back
// when the message is written, so the message names only the booking and
// what of the patient it needs. A message about no booking (a staff
// sign-in link) has no DraftID and carries what it needs in To and Link.
type Message struct {
	Kind    MessageKind
	Clinic  string
	DraftID string
	// Sequence is the calendar event's SEQUENCE: 0 for the booking, one
	// more for each change to it after.
	Sequence int
	// To and FirstName are the patient's, as typed: the store keeps them
	// sealed and deletes them with the message.
	To        string
	FirstName string
	// Link is a secret link the message carries (a sign-in link): kept
	// sealed like the address.
	Link string
	// Request is the booking request a MessageRequestLeft is about: its
	// id, choices, preferences and when it was left, without the patient's
	// name or contact details (kept sealed like the address).
	Request *Request
}

// QueuedMessage is a Message a worker has claimed from the outbox.
type QueuedMessage struct {
	Message
	// ID names the queued message (never the patient): its logs, its
	// Message-ID, its calendar file in the demo's mailbox.
	ID string
	// Tries counts the claims, this one included.
	Tries     int
	CreatedAt time.Time
}

// Outbox is the queue of messages due, as a worker sees it.
type Outbox interface {
	// ClaimMessage takes the message due longest at now that no other
	// worker holds, for lease; false when none is due.
	ClaimMessage(ctx context.Context, now time.Time, lease time.Duration) (QueuedMessage, bool, error)
	// DeleteMessage deletes a message sent or given up on, and the
	// personal details sealed in it, if claim (its Tries as claimed) is
	// still its latest claim; false when another worker has claimed it
	// since (the lease ran out), and then nothing changes.
	DeleteMessage(ctx context.Context, id string, claim int) (bool, error)
	// RetryMessage lets a claimed message be claimed again from due, on
	// the same condition as DeleteMessage.
	RetryMessage(ctx context.Context, id string, claim int, due time.Time) (bool, error)
}

// bookedMessages is what a booking made from a draft with details d makes
// due: the confirmation, when the patient gave an address.
func bookedMessages(rec Record, d Details) []Message {
	if d.Email == "" {
		return nil
	}
	return []Message{{Kind: MessageConfirmed, Clinic: rec.Clinic, DraftID: rec.DraftID, To: d.Email, FirstName: d.FirstName}}
}

// changedMessage is the message a patient's change to rec (a move or a
// cancel) makes due. The store addresses it to whom the booking was
// confirmed, as the draft's details are long wiped by then; with no
// address kept, none is sent.
func changedMessage(kind MessageKind, rec Record) Message {
	return Message{Kind: kind, Clinic: rec.Clinic, DraftID: rec.DraftID}
}

// ErrNotAddressed is a store's answer to a change recorded whose message
// could not be addressed (the contact kept for it does not open: a key
// dropped from PORTAL_TOKEN_KEYS), so none was queued. The change stands.
var ErrNotAddressed = errors.New("the message could not be addressed, so none was queued")

// changeRecorded is what the recording of a change answered: a message
// not addressed is logged, not a failure of the change.
func (s *Service) changeRecorded(what, draftID string, err error) error {
	if errors.Is(err, ErrNotAddressed) {
		s.log.Warn(what+" recorded; its email was not queued", "draft", short(draftID), "err", err)
		return nil
	}
	return err
}
