// Package funnel counts the patients who reach each step of a clinic's
// booking flow, per day, for the staff console's Funnel page, with no
// personal detail kept and no cookie.
//
// How a patient is counted. Patients are usually inside a clinic's iframe,
// where Safari and every iOS browser block third-party cookies, and the
// portal keeps no account for them, so there is nothing to recognise a
// patient by that would survive a blocked cookie. Like the privacy-first
// analytics (Plausible, Fathom), a patient is instead a visitor key: an
// HMAC-SHA256, keyed with a random salt made for the day and shared by the
// replicas through the database, of the clinic, the client's address and
// its User-Agent. Reloading a step, going back to it or opening it in a new
// tab gives the same key, so counts once; the key means nothing without the
// salt, and salt and keys are deleted once the day has ended in every time
// zone, after which only the counts remain. What this gets wrong, knowingly:
// patients behind one address with the same browser (a family, a clinic's
// front desk) count as one, a patient who changes network midway (Wi-Fi to
// mobile) as two in the steps after the change, and a patient who comes
// back on another day counts on both. Those are small next to what page
// views would report (a patient reloads and steps back often), so the
// console can say "patients".
//
// Days are the clinic's calendar days, in the zone of its first location,
// which staff read "Monday" in; a step counted when no zone is known (the
// booking-request form, used while coreplus cannot be reached) takes the
// last zone the clinic's steps had, or UTC for a clinic never counted.
//
// Counting costs a request one hash and a map insert: hits wait in memory
// and are written every few seconds (Counter.Run) and at shutdown
// (Counter.Close), one upsert per clinic, day and step.
package funnel

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Step is a step of the booking flow that a patient can reach.
type Step string

// The steps, in the order of the flow. Request is apart: a booking request
// left while online booking was unavailable.
const (
	Location     Step = "location"
	Service      Step = "service"
	Practitioner Step = "practitioner"
	Time         Step = "time"
	Details      Step = "details"
	Review       Step = "review"
	Booked       Step = "booked"
	Request      Step = "request"
)

// Flow is the booking flow's steps in order, each reached through the one
// before (deep links from a clinic's site may start past the first).
var Flow = []Step{Location, Service, Practitioner, Time, Details, Review, Booked}

// Steps is every step counted: the flow, then Request.
var Steps = append(append([]Step{}, Flow...), Request)

// Visit is one visitor reaching one step of one clinic's flow on one day.
type Visit struct {
	Clinic  string
	Day     string // "2006-01-02", the clinic's calendar day
	Step    Step
	Visitor string // the visitor key, hex
}

// Store keeps salts and counts; funnelstore adapts *store.Store to it.
type Store interface {
	// Salt returns the day's salt, made by the first replica to ask.
	Salt(ctx context.Context, day string) (string, error)
	// Add counts the visits no replica has counted before and records the
	// zone each clinic's days are counted in.
	Add(ctx context.Context, visits []Visit, zones map[string]string) (added int64, err error)
	// Zones returns the zone each clinic's days were last counted in.
	Zones(ctx context.Context) (map[string]string, error)
	// Prune deletes salts and visitor keys of days before rawBefore and
	// counts of days before countsBefore.
	Prune(ctx context.Context, rawBefore, countsBefore string) error
}

// KeepCounts is how long the counts of a day are kept: a year and a month,
// so a month can be compared with the same month a year before.
const KeepCounts = 400 * 24 * time.Hour

// DefaultFlushEvery is how often hits waiting in memory are written: the
// console is read in days, so a few seconds' delay costs nothing, and one
// write every few seconds per replica costs the database little.
const DefaultFlushEvery = 5 * time.Second

// maxPending bounds the hits waiting in memory while the database cannot
// be written (about 100 bytes each); hits past it are dropped and logged
// rather than grow the process without end.
const maxPending = 200_000

// Counter counts patients reaching steps. It is safe for concurrent use.
type Counter struct {
	store Store
	now   func() time.Time
	log   *slog.Logger

	mu      sync.Mutex
	salts   map[string][]byte         // by day
	zones   map[string]string         // by clinic: the zone last seen
	locs    map[string]*time.Location // by zone name
	pending map[Visit]struct{}
	dropped int
	pruned  string // the UTC day the last prune ran on

	flushing sync.Mutex // one flush at a time
	stop     context.CancelFunc
	done     chan struct{}
}

// NewCounter returns a counter writing to st, on the clock now (time.Now
// when nil).
func NewCounter(st Store, now func() time.Time, log *slog.Logger) *Counter {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.Default()
	}
	return &Counter{store: st, now: now, log: log,
		salts: map[string][]byte{}, zones: map[string]string{}, locs: map[string]*time.Location{},
		pending: map[Visit]struct{}{}}
}

// Reached counts a patient, known by clientIP and userAgent (which are
// hashed at once and never kept), reaching step of clinic's flow. zone is
// the clinic's zone, or nil when the caller does not know it. It never
// waits for the database unless the day's salt is not loaded yet, which
// Run prevents.
func (c *Counter) Reached(ctx context.Context, clinic string, zone *time.Location, step Step, clientIP, userAgent string) {
	if c == nil {
		return
	}
	now := c.now()
	c.mu.Lock()
	if zone != nil {
		if c.zones[clinic] != zone.String() {
			c.zones[clinic] = zone.String()
		}
		c.locs[zone.String()] = zone
	} else {
		zone = c.zoneLocked(clinic)
	}
	day := now.In(zone).Format(time.DateOnly)
	salt, ok := c.salts[day]
	c.mu.Unlock()
	if !ok {
		var err error
		if salt, err = c.loadSalt(ctx, day); err != nil {
			c.log.Warn("funnel: a step was not counted: no salt for the day", "clinic", clinic, "step", string(step), "error", err.Error())
			return
		}
	}
	v := Visit{Clinic: clinic, Day: day, Step: step, Visitor: visitorKey(salt, clinic, clientIP, userAgent)}
	c.mu.Lock()
	if len(c.pending) < maxPending {
		c.pending[v] = struct{}{}
	} else {
		c.dropped++
	}
	c.mu.Unlock()
}

// zoneLocked is the zone clinic's days are counted in; c.mu is held.
func (c *Counter) zoneLocked(clinic string) *time.Location {
	if name, ok := c.zones[clinic]; ok {
		if loc, ok := c.locs[name]; ok {
			return loc
		}
		if loc, err := time.LoadLocation(name); err == nil {
			c.locs[name] = loc
			return loc
		}
	}
	return time.UTC
}

// visitorKey is the HMAC of the clinic, address and User-Agent under the
// day's salt: the same patient gives the same key on every replica that
// day, and nobody can tell whose it is once the salt is gone. The clinic
// is in it so that one patient's keys at two clinics cannot be linked.
func visitorKey(salt []byte, clinic, clientIP, userAgent string) string {
	m := hmac.New(sha256.New, salt)
	for _, part := range []string{clinic, clientIP, userAgent} {
		m.Write([]byte(part))
		m.Write([]byte{0})
	}
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// loadSalt fetches the day's salt (making it if need be) and keeps it.
func (c *Counter) loadSalt(ctx context.Context, day string) ([]byte, error) {
	s, err := c.store.Salt(ctx, day)
	if err != nil {
		return nil, err
	}
	salt, err := hex.DecodeString(s)
	if err != nil || len(salt) < 16 {
		return nil, fmt.Errorf("the salt of %s is not 16 or more hex bytes", day)
	}
	c.mu.Lock()
	c.salts[day] = salt
	c.mu.Unlock()
	return salt, nil
}

// prepare loads the zones clinics were counted in and the salts of every
// day that is today somewhere on Earth now or within the next flush
// (UTC's yesterday, today and tomorrow), forgets older salts, and prunes
// old data once a UTC day.
func (c *Counter) prepare(ctx context.Context) error {
	now := c.now().UTC()
	var errs []error
	if zones, err := c.store.Zones(ctx); err != nil {
		errs = append(errs, err)
	} else {
		c.mu.Lock()
		for clinic, z := range zones {
			if _, seen := c.zones[clinic]; !seen {
				c.zones[clinic] = z
			}
		}
		c.mu.Unlock()
	}
	days := map[string]bool{}
	for _, d := range []int{-1, 0, 1} {
		days[now.AddDate(0, 0, d).Format(time.DateOnly)] = true
	}
	for day := range days {
		c.mu.Lock()
		_, ok := c.salts[day]
		c.mu.Unlock()
		if !ok {
			if _, err := c.loadSalt(ctx, day); err != nil {
				errs = append(errs, err)
			}
		}
	}
	c.mu.Lock()
	for day := range c.salts {
		if !days[day] {
			delete(c.salts, day)
		}
	}
	prune := c.pruned != now.Format(time.DateOnly)
	c.mu.Unlock()
	if prune {
		if err := c.Prune(ctx); err != nil {
			errs = append(errs, err)
		} else {
			c.mu.Lock()
			c.pruned = now.Format(time.DateOnly)
			c.mu.Unlock()
		}
	}
	return errors.Join(errs...)
}

// Prune deletes the salts and visitor keys of days that have ended in
// every zone (any day before UTC's yesterday: UTC-12 ends a day at noon
// UTC of the next), and the counts older than KeepCounts.
func (c *Counter) Prune(ctx context.Context) error {
	now := c.now().UTC()
	return c.store.Prune(ctx, now.AddDate(0, 0, -1).Format(time.DateOnly), now.Add(-KeepCounts).Format(time.DateOnly))
}

// Flush writes the hits waiting in memory. Those it could not write wait
// for the next flush.
func (c *Counter) Flush(ctx context.Context) error {
	c.flushing.Lock()
	defer c.flushing.Unlock()
	c.mu.Lock()
	batch, dropped := c.pending, c.dropped
	c.pending, c.dropped = map[Visit]struct{}{}, 0
	zones := make(map[string]string, len(c.zones))
	for k, v := range c.zones {
		zones[k] = v
	}
	c.mu.Unlock()
	if dropped > 0 {
		c.log.Warn("funnel: steps were not counted: too many waiting for the database", "dropped", dropped)
	}
	if len(batch) == 0 {
		return nil
	}
	visits := make([]Visit, 0, len(batch))
	for v := range batch {
		visits = append(visits, v)
	}
	if _, err := c.store.Add(ctx, visits, zones); err != nil {
		c.mu.Lock()
		for v := range batch {
			if len(c.pending) < maxPending {
				c.pending[v] = struct{}{}
			}
		}
		c.mu.Unlock()
		return fmt.Errorf("funnel: write %d steps reached: %w", len(visits), err)
	}
	return nil
}

// Start loads the day's salts and then, until Close, flushes every every
// and keeps the salts of the coming day loaded.
func (c *Counter) Start(ctx context.Context, every time.Duration) {
	if err := c.prepare(ctx); err != nil {
		c.log.Warn("funnel: could not prepare the counter; it tries again at each flush", "error", err.Error())
	}
	ctx, c.stop = context.WithCancel(ctx)
	c.done = make(chan struct{})
	go func() {
		defer close(c.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if err := c.Flush(ctx); err != nil && ctx.Err() == nil {
				c.log.Warn("funnel: flush failed; the steps wait for the next", "error", err.Error())
			}
			if err := c.prepare(ctx); err != nil && ctx.Err() == nil {
				c.log.Warn("funnel: could not load salts or prune", "error", err.Error())
			}
		}
	}()
}

// Close stops the periodic flush and writes what is waiting, within ctx.
// Call it once the server has stopped taking requests.
func (c *Counter) Close(ctx context.Context) error {
	if c.stop != nil {
		c.stop()
		<-c.done
	}
	return c.Flush(ctx)
}
