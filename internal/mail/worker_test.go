package mail_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/internal/mail"
)

// oneMessage is an outbox holding one message, claimed once, that records
// what the worker does with its claim; held is what its delete and retry
// answer (false: another worker claimed it since).
type oneMessage struct {
	mu               sync.Mutex
	claimed          bool
	held             bool
	deleted, retried []int // the claims given
	claimAt          time.Time
	lease            time.Duration
}

func (o *oneMessage) ClaimMessage(_ context.Context, now time.Time, lease time.Duration) (booking.QueuedMessage, bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.claimed {
		return booking.QueuedMessage{}, false, nil
	}
	o.claimed, o.claimAt, o.lease = true, now, lease
	return booking.QueuedMessage{ID: "0123456789abcdef", Tries: 3,
		Message: booking.Message{Kind: booking.MessageConfirmed, Clinic: "demo", To: "pat.test@example.com"}}, true, nil
}

func (o *oneMessage) DeleteMessage(_ context.Context, _ string, claim int) (bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.deleted = append(o.deleted, claim)
	return o.held, nil
}

func (o *oneMessage) RetryMessage(_ context.Context, _ string, claim int, _ time.Time) (bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.retried = append(o.retried, claim)
	return o.held, nil
}

type senderFunc func(ctx context.Context, e mail.Email) error

func (f senderFunc) Send(ctx context.Context, e mail.Email) error { return f(ctx, e) }

// TestWorkerBoundsComposeAndSendWellInsideTheLease: composing and sending
// get a deadline at most half the lease away (even when SendTimeout asks
// for more), so a hung coreplus or SMTP server is cut off before the lease
// runs out and another replica claims the message and sends it again; the
// message cut off is retried under its own claim.
func TestWorkerBoundsComposeAndSendWellInsideTheLease(t *testing.T) {
	const lease = 400 * time.Millisecond
	out := &oneMessage{held: true}
	var composeLeft time.Duration
	w := &mail.Worker{
		Outbox: out, Lease: lease, SendTimeout: time.Hour, MaxTries: 10,
		Compose: func(ctx context.Context, m booking.QueuedMessage) (mail.Email, error) {
			d, ok := ctx.Deadline()
			if !ok {
				t.Error("compose has no deadline")
			}
			composeLeft = time.Until(d)
			return mail.Email{Subject: "Booked", Text: "t", HTML: "h"}, nil
		},
		Sender: senderFunc(func(ctx context.Context, e mail.Email) error {
			select { // a server that never answers
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(10 * time.Second):
				return errors.New("the send was never cut off")
			}
		}),
	}
	sent, err := w.Drain(context.Background())
	if err != nil || sent != 0 {
		t.Fatalf("Drain = %d, %v", sent, err)
	}
	if composeLeft <= 0 || composeLeft > lease/2 {
		t.Errorf("compose's deadline was %v away, want within half the lease (%v)", composeLeft, lease/2)
	}
	if len(out.retried) != 1 || out.retried[0] != 3 || len(out.deleted) != 0 {
		t.Errorf("retried %v, deleted %v; want one retry under claim 3", out.retried, out.deleted)
	}
}

// TestWorkerSaysWhenItsClaimWasTaken: a message sent after another worker
// claimed it is not deleted from under that worker (the outbox refuses the
// stale claim) and the log says it may go twice, without the address.
func TestWorkerSaysWhenItsClaimWasTaken(t *testing.T) {
	out := &oneMessage{held: false}
	var logs bytes.Buffer
	w := &mail.Worker{
		Outbox: out, Log: slog.New(slog.NewTextHandler(&logs, nil)),
		Compose: func(context.Context, booking.QueuedMessage) (mail.Email, error) {
			return mail.Email{Subject: "Booked", Text: "t", HTML: "h"}, nil
		},
		Sender: senderFunc(func(context.Context, mail.Email) error { return nil }),
	}
	if sent, err := w.Drain(context.Background()); err != nil || sent != 1 {
		t.Fatalf("Drain = %d, %v", sent, err)
	}
	if len(out.deleted) != 1 || out.deleted[0] != 3 {
		t.Errorf("deleted under claims %v, want [3]", out.deleted)
	}
	if !strings.Contains(logs.String(), "another worker claimed it") || strings.Contains(logs.String(), "pat.test") {
		t.Errorf("log:\n%s", logs.String())
	}
}
