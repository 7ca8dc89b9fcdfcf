package bookingstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/internal/store"
)

// Sealer seals and opens bytes bound to associated data; *clinics.Keyring
// is one (AES-256-GCM under PORTAL_TOKEN_KEYS).
type Sealer interface {
	SealData(ad, plain []byte) (string, error)
	OpenData(ad []byte, sealed string) ([]byte, error)
}

// sealedMessage is what of the patient a queued message holds: sealed at
// rest, deleted with the message.
type sealedMessage struct {
	To        string `json:"to"`
	FirstName string `json:"first_name,omitempty"`
	Link      string `json:"link,omitempty"`
	// Request is a request note's choices (no personal detail of the
	// patient: see booking.MessageRequestLeft).
	Request *sealedRequest `json:"request,omitempty"`
}

type sealedRequest struct {
	ID             string   `json:"id"`
	LocationID     string   `json:"location_id,omitempty"`
	ServiceID      string   `json:"service_id,omitempty"`
	PractitionerID string   `json:"practitioner_id,omitempty"`
	Days           []string `json:"days,omitempty"`
	Times          []string `json:"times,omitempty"`
}

// messageAD binds a sealed message to its row, so sealed content copied
// onto another message (another patient's booking) does not open.
func messageAD(id, kind, draftID string) []byte {
	return []byte("outbox-message:" + id + ":" + kind + ":" + draftID)
}

// contactAD binds a booking's sealed contact to the booking, so a contact
// copied onto another booking does not open.
func contactAD(draftID string) []byte {
	return []byte("booking-contact:" + draftID)
}

// sealContact is the contact of the confirmation among due, sealed to keep
// on its booking for the emails after it (a move, a cancel); "" when none
// is due or the portal sends no mail.
func (a Adapter) sealContact(draftID string, due []booking.Message) (string, error) {
	if a.Seal == nil {
		return "", nil
	}
	for _, m := range due {
		if m.Kind != booking.MessageConfirmed || m.To == "" {
			continue
		}
		plain, err := json.Marshal(sealedMessage{To: m.To, FirstName: m.FirstName})
		if err != nil {
			return "", err
		}
		sealed, err := a.Seal.SealData(contactAD(draftID), plain)
		if err != nil {
			return "", fmt.Errorf("seal the contact of booking %s: %w", short(draftID), err)
		}
		return sealed, nil
	}
	return "", nil
}

// addressed is due with the recipient of the booking made from draftID
// filled in from the contact sealed on it: none when the portal sends no
// mail, or the booking keeps no contact (no address given, or wiped).
func (a Adapter) addressed(ctx context.Context, draftID string, due []booking.Message) ([]booking.Message, error) {
	if a.Seal == nil || len(due) == 0 {
		return nil, nil
	}
	sealed, err := a.S.GetBookingContact(ctx, draftID)
	if err != nil || sealed == "" {
		return nil, mapErr(err)
	}
	plain, err := a.Seal.OpenData(contactAD(draftID), sealed)
	if err != nil {
		return nil, fmt.Errorf("open the contact of booking %s: %w", short(draftID), err)
	}
	var c sealedMessage
	if err := json.Unmarshal(plain, &c); err != nil {
		return nil, fmt.Errorf("open the contact of booking %s: %w", short(draftID), err)
	}
	out := make([]booking.Message, len(due))
	for i, m := range due {
		m.To, m.FirstName = c.To, c.FirstName
		out[i] = m
	}
	return out, nil
}

func short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// sealMessages turns due messages into outbox rows; none when the portal
// sends no mail.
func (a Adapter) sealMessages(due []booking.Message) ([]store.OutboxMessage, error) {
	if a.Seal == nil || len(due) == 0 {
		return nil, nil
	}
	out := make([]store.OutboxMessage, 0, len(due))
	for _, m := range due {
		var raw [16]byte
		if _, err := rand.Read(raw[:]); err != nil {
			return nil, err
		}
		id := hex.EncodeToString(raw[:])
		sm := sealedMessage{To: m.To, FirstName: m.FirstName, Link: m.Link}
		if r := m.Request; r != nil {
			sm.Request = &sealedRequest{ID: r.ID, LocationID: r.LocationID, ServiceID: r.ServiceID, PractitionerID: r.PractitionerID, Days: r.Days, Times: r.Times}
		}
		plain, err := json.Marshal(sm)
		if err != nil {
			return nil, err
		}
		sealed, err := a.Seal.SealData(messageAD(id, string(m.Kind), m.DraftID), plain)
		if err != nil {
			return nil, fmt.Errorf("seal %s message: %w", m.Kind, err)
		}
		out = append(out, store.OutboxMessage{
			ID: id, Kind: string(m.Kind), Clinic: m.Clinic, DraftID: m.DraftID, Sequence: m.Sequence, Sealed: sealed,
		})
	}
	return out, nil
}

// QueueMessage queues a message due on its own, about no change to a
// booking (a staff sign-in link), sealed like a booking's.
func (a Adapter) QueueMessage(ctx context.Context, m booking.Message) error {
	if a.Seal == nil {
		return fmt.Errorf("queue %s message: this portal sends no mail", m.Kind)
	}
	rows, err := a.sealMessages([]booking.Message{m})
	if err != nil {
		return err
	}
	return a.S.QueueOutbox(ctx, rows[0])
}

// ClaimMessage claims the message due longest and opens what it holds of
// the patient. A message that does not open (a key dropped from
// PORTAL_TOKEN_KEYS) is returned with an error, so the worker can give it
// up.
func (a Adapter) ClaimMessage(ctx context.Context, now time.Time, lease time.Duration) (booking.QueuedMessage, bool, error) {
	m, ok, err := a.S.ClaimOutbox(ctx, now, lease)
	if err != nil || !ok {
		return booking.QueuedMessage{}, ok, err
	}
	q := booking.QueuedMessage{
		ID: m.ID, Tries: m.Tries, CreatedAt: m.CreatedAt,
		Message: booking.Message{Kind: booking.MessageKind(m.Kind), Clinic: m.Clinic, DraftID: m.DraftID, Sequence: m.Sequence},
	}
	if a.Seal == nil {
		return q, true, fmt.Errorf("open message %s: no keys to open it with", m.ID[:8])
	}
	plain, err := a.Seal.OpenData(messageAD(m.ID, m.Kind, m.DraftID), m.Sealed)
	if err != nil {
		return q, true, fmt.Errorf("open message %s: %w", m.ID[:8], err)
	}
	var sm sealedMessage
	if err := json.Unmarshal(plain, &sm); err != nil {
		return q, true, fmt.Errorf("open message %s: %w", m.ID[:8], err)
	}
	q.To, q.FirstName, q.Link = sm.To, sm.FirstName, sm.Link
	if r := sm.Request; r != nil {
		q.Request = &booking.Request{ID: r.ID, Clinic: m.Clinic, LocationID: r.LocationID, ServiceID: r.ServiceID,
			PractitionerID: r.PractitionerID, Days: r.Days, Times: r.Times, CreatedAt: m.CreatedAt}
	}
	return q, true, nil
}

func (a Adapter) DeleteMessage(ctx context.Context, id string, claim int) (bool, error) {
	return a.S.DeleteOutbox(ctx, id, claim)
}

func (a Adapter) RetryMessage(ctx context.Context, id string, claim int, due time.Time) (bool, error) {
	return a.S.RetryOutbox(ctx, id, claim, due)
}
