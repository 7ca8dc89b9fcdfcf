package booking

import (
	"context"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// refCache keeps reference data (locations, practitioners, services) for a
// short time and coalesces identical concurrent loads into one upstream call,
// so a burst of page views costs coreplus one request, not hundreds.
type refCache struct {
	ttl   time.Duration
	now   func() time.Time
	group singleflight.Group
	// onStale, when set, keeps the last good value of a key past its ttl
	// and serves it when a reload fails: reference data a minute old is
	// better than no page while coreplus is down. It is told each time.
	onStale func(key string, err error)

	mu      sync.Mutex
	entries map[string]cacheEntry
}

type cacheEntry struct {
	value   any
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
			if ok && c.onStale != nil {
				c.onStale(key, err)
				return e.value, nil
			}
			return nil, err
		}
		c.mu.Lock()
		c.entries[key] = cacheEntry{value: v, expires: c.now().Add(c.ttl)}
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
	c.mu.Lock()
	c.entries[key] = cacheEntry{value: v, expires: c.now().Add(c.ttl)}
	c.mu.Unlock()
}
