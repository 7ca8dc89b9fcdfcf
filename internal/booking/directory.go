package booking

import (
	"context"
	"sort"
	"sync"
	"time"
)

// Directory finds a clinic's service by its URL slug. It holds fixed
// services (a clinic configured by environment) and, when given a Loader,
// the clinics the Loader lists, read again once they are RefreshEvery old so
// that a clinic added, changed or disabled on any replica takes effect on
// every replica without a restart.
type Directory struct {
	fixed map[string]*Service
	load  Loader
	every time.Duration
	now   func() time.Time
	log   Logger

	refreshing sync.Mutex // one refresh at a time; others serve what is loaded

	mu       sync.RWMutex
	loaded   map[string]loadedService
	loadedAt time.Time
}

// Loader lists the clinics to serve now: enabled ones only. It is called
// again every refresh interval.
type Loader func(ctx context.Context) ([]Entry, error)

// Entry is one clinic a Loader lists.
type Entry struct {
	Slug string
	// Version changes whenever the clinic's settings or credentials change;
	// while it stays the same the directory keeps the service it built, and
	// with it the service's caches.
	Version string
	// Service builds the clinic's service; it is called only for a clinic
	// that is new or whose Version changed.
	Service func() (*Service, error)
}

type loadedService struct {
	version string
	svc     *Service
}

// DefaultRefreshEvery is how stale a Loader's clinics may become.
const DefaultRefreshEvery = 30 * time.Second

// NewDirectory holds the given clinics. With exactly one, "/" leads to it.
func NewDirectory(services ...*Service) *Directory {
	d := &Directory{fixed: map[string]*Service{}, loaded: map[string]loadedService{}, now: time.Now, log: nopLogger{}}
	for _, s := range services {
		d.fixed[s.clinic.Slug] = s
	}
	return d
}

// NewLoadingDirectory holds the fixed services and whatever load lists,
// loading it once now (an error here is returned) and again whenever what it
// holds is older than every (errors then are logged and the clinics already
// loaded are kept). A loaded clinic with the slug of a fixed one is ignored.
func NewLoadingDirectory(ctx context.Context, load Loader, every time.Duration, log Logger, fixed ...*Service) (*Directory, error) {
	d := NewDirectory(fixed...)
	d.load = load
	d.every = every
	if d.every <= 0 {
		d.every = DefaultRefreshEvery
	}
	if log != nil {
		d.log = log
	}
	if err := d.refresh(ctx); err != nil {
		return nil, err
	}
	for _, s := range fixed {
		if _, ok := d.loaded[s.clinic.Slug]; ok {
			d.log.Warn("a stored clinic has the same slug as the clinic configured by environment; the environment's is served", "clinic", s.clinic.Slug)
		}
	}
	return d, nil
}

// Clinic returns the service of the enabled clinic with this slug; false for
// a slug that is unknown or disabled.
func (d *Directory) Clinic(ctx context.Context, slug string) (*Service, bool) {
	if s, ok := d.fixed[slug]; ok {
		return s, true
	}
	d.refreshIfStale(ctx)
	d.mu.RLock()
	defer d.mu.RUnlock()
	l, ok := d.loaded[slug]
	return l.svc, ok
}

// Default names the only clinic, when there is exactly one.
func (d *Directory) Default() (string, bool) {
	slugs := d.Slugs(context.Background())
	if len(slugs) != 1 {
		return "", false
	}
	return slugs[0], true
}

// Slugs lists every clinic served, sorted.
func (d *Directory) Slugs(ctx context.Context) []string {
	d.refreshIfStale(ctx)
	d.mu.RLock()
	defer d.mu.RUnlock()
	var out []string
	for slug := range d.fixed {
		out = append(out, slug)
	}
	for slug := range d.loaded {
		if _, ok := d.fixed[slug]; !ok {
			out = append(out, slug)
		}
	}
	sort.Strings(out)
	return out
}

// Refresh reloads the clinics now, whatever their age: a clinic added or
// enabled through this server is served at once, not after the interval.
// With no Loader it does nothing.
func (d *Directory) Refresh(ctx context.Context) error {
	if d.load == nil {
		return nil
	}
	d.refreshing.Lock()
	defer d.refreshing.Unlock()
	return d.refresh(ctx)
}

// refreshIfStale reloads when what is held is older than the interval. A
// request that finds another refresh under way serves what is loaded rather
// than wait.
func (d *Directory) refreshIfStale(ctx context.Context) {
	if d.load == nil || !d.stale() || !d.refreshing.TryLock() {
		return
	}
	defer d.refreshing.Unlock()
	if !d.stale() {
		return
	}
	// The patient's request may be cancelled; the refresh serves everyone.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := d.refresh(rctx); err != nil {
		d.log.Warn("reload clinics failed; serving the clinics loaded before", "err", err)
	}
}

func (d *Directory) stale() bool {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.now().Sub(d.loadedAt) >= d.every
}

// refresh calls the loader and swaps in what it lists. On a loader error it
// keeps the clinics it has and waits a full interval before trying again.
func (d *Directory) refresh(ctx context.Context) error {
	entries, err := d.load(ctx)
	d.mu.RLock()
	old := d.loaded
	d.mu.RUnlock()
	if err != nil {
		d.mu.Lock()
		d.loadedAt = d.now()
		d.mu.Unlock()
		return err
	}
	next := make(map[string]loadedService, len(entries))
	for _, e := range entries {
		if prev, ok := old[e.Slug]; ok && prev.version == e.Version {
			next[e.Slug] = prev
			continue
		}
		svc, err := e.Service()
		if err != nil {
			// A clinic that cannot be built is not served (its pages answer
			// "not found") rather than served with stale credentials.
			d.log.Warn("clinic not served", "clinic", e.Slug, "err", err)
			continue
		}
		next[e.Slug] = loadedService{version: e.Version, svc: svc}
	}
	d.mu.Lock()
	d.loaded, d.loadedAt = next, d.now()
	d.mu.Unlock()
	return nil
}
