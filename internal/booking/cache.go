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

// pageWait bounds how long a patient waits for data the cache must load
// (coreplus slow, or its budget spoken for by bookings): past it, the page
// is served from the last copy, however old (up to maxStale; a time page
// then says how old), or the patient is told the system is busy and the
// page tries again by itself. The load goes on, for the next to ask.
const pageWait = 2 * time.Second

type waitUntilKey struct{}

// WithWaitBudget bounds, from now, how long everything done under ctx may
// wait, all together, for data the cache must load: a page made of several
// loads still waits at most d in all (each load at most pageWait).
func WithWaitBudget(ctx context.Context, d time.Duration) context.Context {
	return context.WithValue(ctx, waitUntilKey{}, time.Now().Add(d))
}

// loadWait is how long a patient may wait for one load under ctx.
func loadWait(ctx context.Context) time.Duration {
	if until, ok := ctx.Value(waitUntilKey{}).(time.Time); ok {
		return max(0, min(pageWait, time.Until(until)))
	}
	return pageWait
}

// refCache keeps reference data (locations, practitioners, services) and
// free time for a short time and coalesces identical concurrent loads into
// one upstream call, so a burst of page views costs coreplus one request,
// not hundreds.
type refCache struct {
	ttl time.Duration
	// swr, when set, serves a value up to swr past its ttl at once, while
	// one reload in the background refreshes it (stale-while-revalidate):
	// a patient never waits for a refresh the cache can answer.
	swr   time.Duration
	now   func() time.Time
	group singleflight.Group
	// onStale, when set, keeps the last good value of a key past its ttl
	// and serves it when a reload fails because coreplus is unavailable or
	// rate limited (not for any other error), up to maxStale after it was
	// loaded: reference data a minute old is better than no page while
	// coreplus is down. It is told each time.
	onStale func(key string, err error)
	// observe, when set, is told how each get was answered and how old
	// the value served was.
	observe func(result CacheResult, age time.Duration)

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
	v, _, err := c.getAged(ctx, key, load)
	return v, err
}

// getAged is get, also saying when the value was loaded from coreplus.
func (c *refCache) getAged(ctx context.Context, key string, load func(context.Context) (any, error)) (any, time.Time, error) {
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	now := c.now()
	if ok && now.Before(e.expires) {
		// Past its ttl, an entry is only still here because its reload
		// failed, or because another replica is refreshing it (see aged).
		if age := now.Sub(e.loaded); age > c.ttl {
			c.tell(CacheStale, age)
		} else {
			c.tell(CacheHit, age)
		}
		return e.value, e.loaded, nil
	}
	if ok && c.swr > 0 && now.Before(e.expires.Add(c.swr)) {
		// Joins a reload under way, or starts one nobody waits for, which
		// waits for the budget behind everyone a page waits on.
		c.group.DoChan(key, c.loader(coreplus.WithPriority(ctx, coreplus.PriorityBackground), key, load, e, ok))
		c.tell(CacheStale, now.Sub(e.loaded))
		return e.value, e.loaded, nil
	}
	ch := c.group.DoChan(key, c.loader(ctx, key, load, e, ok))
	wait := time.NewTimer(loadWait(ctx))
	defer wait.Stop()
	select {
	case r := <-ch:
		if r.Err != nil {
			c.tell(CacheMiss, 0)
			return nil, time.Time{}, r.Err
		}
		l := r.Val.(loaded)
		if l.stale {
			c.tell(CacheStale, c.now().Sub(l.at))
		} else {
			c.tell(CacheMiss, 0)
		}
		return l.value, l.at, nil
	case <-wait.C:
		if age := c.now().Sub(e.loaded); ok && age < maxStale {
			c.tell(CacheStale, age)
			return e.value, e.loaded, nil
		}
		c.tell(CacheMiss, 0)
		return nil, time.Time{}, errBusy
	case <-ctx.Done():
		c.tell(CacheMiss, 0)
		return nil, time.Time{}, ctx.Err()
	}
}

// loaded is a value and when it was loaded, as a load shares it; stale
// when the load failed and it is the last good value.
type loaded struct {
	value any
	at    time.Time
	stale bool
}

// loader loads key for everyone waiting on it, and keeps what it got. old
// is the entry it replaces, if had.
func (c *refCache) loader(ctx context.Context, key string, load func(context.Context) (any, error), old cacheEntry, had bool) func() (any, error) {
	return func() (any, error) {
		// Detached from one patient's request: others are waiting on it too.
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		v, err := load(lctx)
		if err != nil {
			if had && c.onStale != nil && staleWorthy(err) && c.now().Sub(old.loaded) < maxStale {
				c.onStale(key, err)
				// Served a while before asking again, so a dead coreplus
				// is not asked on every request.
				old.expires = c.now().Add(staleRetry)
				c.mu.Lock()
				c.entries[key] = old
				c.mu.Unlock()
				return loaded{value: old.value, at: old.loaded, stale: true}, nil
			}
			return nil, err
		}
		now := c.now()
		e := cacheEntry{value: v, loaded: now, expires: now.Add(c.ttl)}
		if a, ok := v.(aged); ok {
			e = cacheEntry{value: a.value, loaded: a.at, expires: a.expires}
		}
		c.mu.Lock()
		c.entries[key] = e
		c.mu.Unlock()
		return loaded{value: e.value, at: e.loaded}, nil
	}
}

// aged is what a load returns for a value loaded earlier, elsewhere (by
// another replica, kept in the database): when coreplus gave it, and until
// when to keep it before loading again.
type aged struct {
	value   any
	at      time.Time
	expires time.Time
}

func (c *refCache) tell(result CacheResult, age time.Duration) {
	if c.observe != nil {
		c.observe(result, age)
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

// freshGroup coalesces identical concurrent reads that must be fresh, such
// as the re-check just before a booking is sent. singleflight lets a caller
// join a call already under way, whose answer may predate the caller; here
// a caller only joins a call that has not started yet, so every answer was
// fetched after its caller asked. One call per key is in flight at a time;
// callers who ask meanwhile share the next, made as soon as it ends.
type freshGroup struct {
	mu   sync.Mutex
	keys map[string]*freshKey
}

// freshKey is one key's calls: one running, and the next, which callers
// join until it starts.
type freshKey struct {
	next *freshCall
}

type freshCall struct {
	ctx     context.Context // from the first caller's, see newFreshCall
	cancel  context.CancelFunc
	waiters int
	done    chan struct{}
	val     any
	err     error
}

// do returns the result of a call to load made after do was called, shared
// with every other caller of key waiting for that same call.
func (g *freshGroup) do(ctx context.Context, key string, load func(context.Context) (any, error)) (any, error) {
	g.mu.Lock()
	if g.keys == nil {
		g.keys = map[string]*freshKey{}
	}
	k, running := g.keys[key]
	if !running {
		k = &freshKey{}
		g.keys[key] = k
	}
	c := k.next
	if c == nil {
		c = newFreshCall(ctx)
		if running {
			k.next = c // made when the running call ends
		}
	}
	c.waiters++
	g.mu.Unlock()
	if !running {
		go g.run(key, k, c, load)
	}

	select {
	case <-c.done:
		return c.val, c.err
	case <-ctx.Done():
		g.mu.Lock()
		c.waiters--
		g.mu.Unlock()
		return nil, ctx.Err()
	}
}

// run makes call c and then each next call of key that someone still
// waits for.
func (g *freshGroup) run(key string, k *freshKey, c *freshCall, load func(context.Context) (any, error)) {
	for c != nil {
		c.val, c.err = load(c.ctx)
		c.cancel()
		close(c.done)
		g.mu.Lock()
		c, k.next = k.next, nil
		if c != nil && c.waiters == 0 {
			// Everyone who asked for it has gone: nothing to fetch for.
			c.cancel()
			c.err = context.Canceled
			close(c.done)
			c = nil
		}
		if c == nil {
			delete(g.keys, key)
		}
		g.mu.Unlock()
	}
}

// newFreshCall makes a call for ctx's caller. Its context keeps ctx's
// values and deadline (30 s when it has none) but not its cancellation:
// one patient leaving must not fail the others waiting on the same call.
func newFreshCall(ctx context.Context) *freshCall {
	c := &freshCall{done: make(chan struct{})}
	if dl, ok := ctx.Deadline(); ok {
		c.ctx, c.cancel = context.WithDeadline(context.WithoutCancel(ctx), dl)
	} else {
		c.ctx, c.cancel = context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	}
	return c
}
