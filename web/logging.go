package web

import (
	"context"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// upstreamTally counts one request's calls to coreplus for its log line.
// Calls made for several requests at once (a coalesced read) count for the
// request that started them.
type upstreamTally struct {
	mu    sync.Mutex
	calls int
	total time.Duration
}

type tallyKey struct{}

// withUpstreamTally puts a fresh tally in the request's context.
func withUpstreamTally(c echo.Context) *upstreamTally {
	t := &upstreamTally{}
	req := c.Request()
	c.SetRequest(req.WithContext(context.WithValue(req.Context(), tallyKey{}, t)))
	return t
}

func (t *upstreamTally) read() (calls int, ms int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.calls, t.total.Milliseconds()
}

// CountUpstream adds one attempt at a coreplus request, and the time it took
// (its wait for the upstream budget included, so that queueing for the
// budget shows on the request's log line), to the tally of the request whose
// context ctx is; it is meant to be called from coreplus.Config.OnCall for
// each attempt that went out. Each page and each retry counts as an attempt
// of its own; the backoff between retries is not counted. Outside a request
// it does nothing.
func CountUpstream(ctx context.Context, took time.Duration) {
	t, _ := ctx.Value(tallyKey{}).(*upstreamTally)
	if t == nil {
		return
	}
	t.mu.Lock()
	t.calls++
	t.total += took
	t.mu.Unlock()
}
