package booking

import (
	"context"
	"errors"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/clinic-booking/portal/internal/coreplus"
)

// Serving stale reference data: only while coreplus is down or limiting us,
// never older than maxStale, and asking again at most every staleRetry.
const (
	maxStale   = time.Hour
	staleRetry = 15 * time.Second
)

// refCache keeps reference data (locations, practitioners, services) for a
// short time and coalesces identical concurrent loads into one upstream call,
// so a burst of page views costs coreplus one request, not hundreds.
type refCache struct {
	ttl   time.Duration
	now   func() time.Time
	group singleflight.Group
	// onStale, when set, keeps the last good value of a key past its ttl
	// and serves it when a reload fails because coreplus is unavailable or
	// rate limited (not for any other error), up to maxStale after it was
	// loaded: reference data a minute old is better than no page while
	// coreplus is down. It is told each time.
	onStale func(key string, err error)

	mu      sync.Mutex
	entries map[string]cacheEntry
}

type cacheEntry struct {
	value   any
	loaded  time.Time
	expires time.Time
}

func newRefCache(ttl time.Duration, now func() time.Time) *refCache {
	return &refCache{ttl: ttl, now: now, entries: map[string]cacheEntry{}}
}

// get returns the cached value for key or loads it. Failed loads are not
// cached, so the next patient tries again; with onStale set, a failed
// reload answers with the last good value instead.
func (c *refCache) get(ctx context.Context, key string, load func(context.Context) (any, error)) (any, error) {
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	if ok && c.now().Before(e.expires) {
		return e.value, nil
	}
	ch := c.group.DoChan(key, func() (any, error) {
		// Detached from one patient's request: others are waiting on it too.
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		v, err := load(lctx)
		if err != nil {
			if ok && c.onStale != nil && staleWorthy(err) && c.now().Sub(e.loaded) < maxStale {
				c.onStale(key, err)
				// Served a while before asking again, so a dead coreplus
				// is not asked on every request.
				e.expires = c.now().Add(staleRetry)
				c.mu.Lock()
				c.entries[key] = e
				c.mu.Unlock()
				return e.value, nil
			}
			return nil, err
		}
		now := c.now()
		c.mu.Lock()
		c.entries[key] = cacheEntry{value: v, loaded: now, expires: now.Add(c.ttl)}
		c.mu.Unlock()
		return v, nil
	})
	select {
	case r := <-ch:
		return r.Val, r.Err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// put stores a value loaded elsewhere (a fresh read), for the next get.
func (c *refCache) put(key string, v any) {
	now := c.now()
	c.mu.Lock()
	c.entries[key] = cacheEntry{value: v, loaded: now, expires: now.Add(c.ttl)}
	c.mu.Unlock()
}

// staleWorthy reports whether a failed load may be answered with the last
// good value: only when coreplus is down or limiting us. Anything else (a
// revoked token, a record gone) must be seen.
func staleWorthy(err error) bool {
	return errors.Is(err, coreplus.ErrUnavailable) || errors.Is(err, coreplus.ErrRateLimited)
}
