package booking

import (
	"context"
	"log/slog"
	"time"
)

// DefaultExpirySweepEvery is how often expired drafts and booking requests
// (and the personal details in them) are deleted.
const DefaultExpirySweepEvery = 10 * time.Minute

// ExpirySweeper deletes the drafts and booking requests that have expired,
// with the personal details in them: they are kept no longer than the
// patient needs them. Every replica may sweep; a row is deleted once.
type ExpirySweeper struct {
	Drafts interface {
		DeleteExpiredDrafts(ctx context.Context, now time.Time) (int64, error)
	}
	Requests interface {
		DeleteExpiredRequests(ctx context.Context, now time.Time) (int64, error)
	}
	Log *slog.Logger
	// Now is the clock (time.Now if nil).
	Now func() time.Time
}

// Run sweeps now and then every interval, until ctx is done.
func (s *ExpirySweeper) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		s.Sweep(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Sweep deletes what has expired by now once, logging how much; an error
// is logged, not returned, so that the next sweep tries again.
func (s *ExpirySweeper) Sweep(ctx context.Context) {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	for _, kind := range []struct {
		what   string
		delete func(context.Context, time.Time) (int64, error)
	}{
		{"drafts", s.Drafts.DeleteExpiredDrafts},
		{"booking requests", s.Requests.DeleteExpiredRequests},
	} {
		n, err := kind.delete(ctx, now())
		switch {
		case err != nil && ctx.Err() == nil:
			s.Log.Error("delete expired "+kind.what, "err", err)
		case n > 0:
			s.Log.Info("deleted expired "+kind.what, "count", n)
		}
	}
}
