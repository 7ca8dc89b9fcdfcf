package mail

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/clinic-booking/portal/internal/booking"
)

// Defaults of the outbox worker.
const (
	// DefaultPoll is how often a worker looks for messages due.
	DefaultPoll = 5 * time.Second
	// DefaultLease is how long a claimed message is one worker's: longer
	// than a send may take (the worker's SendTimeout, Lease/2 by default,
	// bounds compose and send), so that only a worker that died with it
	// lets another send it, once, after the lease.
	DefaultLease = 2 * time.Minute
	// DefaultMaxTries bounds the sends of one message. With Backoff the
	// tries span about two and a half hours: an SMTP server down for an
	// hour loses nothing.
	DefaultMaxTries = 10
)

// Backoff is how long after its tries-th failed send a message is tried
// again: 30 s, doubling, at most 30 minutes.
func Backoff(tries int) time.Duration {
	d := 30 * time.Second
	for i := 1; i < tries && d < 30*time.Minute; i++ {
		d *= 2
	}
	return min(d, 30*time.Minute)
}

// ErrNotDue is what a Composer returns for a message that no longer
// applies (the booking was cancelled before its confirmation went): the
// message is deleted unsent.
var ErrNotDue = errors.New("mail: message no longer due")

// Composer writes a queued message as an email to its patient.
type Composer func(ctx context.Context, m booking.QueuedMessage) (Email, error)

// Worker sends the outbox's messages. Every replica runs one: each message
// is claimed by one worker at a time, for a lease, sent, and deleted; one
// that fails is tried again after Backoff, up to MaxTries, then deleted and
// logged at error level, without the address.
type Worker struct {
	Outbox  booking.Outbox
	Compose Composer
	Sender  Sender
	Log     *slog.Logger
	// Poll, Lease and MaxTries default to DefaultPoll, DefaultLease and
	// DefaultMaxTries; Now to time.Now, Backoff to Backoff.
	Poll     time.Duration
	Lease    time.Duration
	MaxTries int
	// SendTimeout bounds composing (which may ask coreplus) and sending
	// one message: half the lease when zero, and never more, so a hung
	// compose or SMTP server is cut off well before the lease runs out and
	// another replica would claim the message and send it again.
	SendTimeout time.Duration
	Now         func() time.Time
	Backoff     func(tries int) time.Duration
}

func (w *Worker) defaults() {
	if w.Poll <= 0 {
		w.Poll = DefaultPoll
	}
	if w.Lease <= 0 {
		w.Lease = DefaultLease
	}
	if w.MaxTries <= 0 {
		w.MaxTries = DefaultMaxTries
	}
	if w.SendTimeout <= 0 || w.SendTimeout > w.Lease/2 {
		w.SendTimeout = w.Lease / 2
	}
	if w.Now == nil {
		w.Now = time.Now
	}
	if w.Backoff == nil {
		w.Backoff = Backoff
	}
	if w.Log == nil {
		w.Log = slog.New(slog.DiscardHandler)
	}
}

// Run sends what is due now and then every Poll until ctx is done.
func (w *Worker) Run(ctx context.Context) {
	w.defaults()
	t := time.NewTicker(w.Poll)
	defer t.Stop()
	for {
		if _, err := w.Drain(ctx); err != nil && ctx.Err() == nil {
			w.Log.Error("send queued mail", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Drain sends every message due, one at a time, until none is due or ctx
// is done, and returns how many it sent. A failed message waits for its
// retry; the error returned is from reading the outbox.
func (w *Worker) Drain(ctx context.Context) (sent int, err error) {
	w.defaults()
	for ctx.Err() == nil {
		done, ok, err := w.one(ctx)
		if err != nil || !ok {
			return sent, err
		}
		if done {
			sent++
		}
	}
	return sent, nil
}

// one claims and handles one message: ok false when none is due, done
// when it was sent.
func (w *Worker) one(ctx context.Context) (done, ok bool, err error) {
	m, ok, err := w.Outbox.ClaimMessage(ctx, w.Now(), w.Lease)
	if !ok {
		return false, false, err
	}
	log := w.Log.With("message", short(m.ID), "kind", string(m.Kind), "clinic", m.Clinic, "draft", short(m.DraftID), "tries", m.Tries)
	// Once claimed, finish with it even if the worker is stopping: a send
	// cut off mid-way would go again after the lease. Compose and send
	// have SendTimeout, well inside the lease.
	wctx := context.WithoutCancel(ctx)
	if err == nil {
		sctx, cancel := context.WithTimeout(wctx, w.SendTimeout)
		var e Email
		if e, err = w.Compose(sctx, m); errors.Is(err, ErrNotDue) {
			cancel()
			log.Info("queued mail no longer due; dropped")
			_, err := w.Outbox.DeleteMessage(wctx, m.ID, m.Tries)
			return false, true, err
		}
		if err == nil {
			e.ID, e.To = m.ID, m.To
			err = w.Sender.Send(sctx, e)
		}
		cancel()
	}
	if err == nil {
		log.Info("mail sent")
		held, derr := w.Outbox.DeleteMessage(wctx, m.ID, m.Tries)
		switch {
		case derr != nil:
			// Sent: at worst it goes once more after the lease.
			log.Error("mail sent but not taken off the outbox; it may go once more", "err", derr)
		case !held:
			log.Warn("mail sent after its lease ran out and another worker claimed it; it may go twice")
		}
		return true, true, nil
	}
	if m.Tries >= w.MaxTries {
		log.Error("mail given up after its last try; the patient was not sent it", "alert", true, "err", err)
		_, err := w.Outbox.DeleteMessage(wctx, m.ID, m.Tries)
		return false, true, err
	}
	retry := w.Backoff(m.Tries)
	log.Warn("mail not sent; will try again", "err", err, "retry_in_s", int(retry.Seconds()))
	// Not held: another worker claimed it after the lease and has it now.
	_, err = w.Outbox.RetryMessage(wctx, m.ID, m.Tries, w.Now().Add(retry))
	return false, true, err
}

// short is the first 8 characters of an id, enough to find its row in the
// logs and too few to open a booking's page with.
func short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}
