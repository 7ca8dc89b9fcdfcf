package booking

import (
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// weekMemo keeps the time steps this replica computed for weekFresh, so
// that the many patients looking at the same location, service and
// practitioner at once share one computation: cutting the free time,
// leaving out held times, choosing first available. A claim here drops
// them all at once (with the held snapshot, see heldChanged); otherwise
// what they show is at most weekFresh older than the free time and held
// times they were cut from.
type weekMemo struct {
	gen atomic.Uint64 // bumped by every claim on this replica

	mu      sync.Mutex
	entries map[string]weekEntry
}

type weekEntry struct {
	week Week
	made time.Time // wall clock
	gen  uint64
}

// weekSerials numbers every Week the memos of this process compute, across
// clinics and the Services a clinic's new settings replace, so a Serial is
// never reused.
var weekSerials atomic.Uint64

// weekFresh is how long a computed time step is served as it is: as long
// as the held snapshot it was cut with.
const weekFresh = heldFresh

// maxWeeks bounds the memo; past it, it starts afresh.
const maxWeeks = 4096

// get returns the time step for sel, from the memo or computed by make.
// The returned Week shares its slices with other callers: read only.
func (m *weekMemo) get(sel Selection, now time.Time, make func() (Week, error)) (Week, error) {
	key := weekKey(sel, now)
	gen := m.gen.Load()
	m.mu.Lock()
	e, ok := m.entries[key]
	m.mu.Unlock()
	if ok && e.gen == gen && time.Since(e.made) < weekFresh {
		return e.week, nil
	}
	w, err := make()
	if err != nil {
		return Week{}, err
	}
	w.Serial = weekSerials.Add(1)
	m.mu.Lock()
	if m.entries == nil || len(m.entries) >= maxWeeks {
		m.entries = map[string]weekEntry{}
	}
	m.entries[key] = weekEntry{week: w, made: time.Now(), gen: gen}
	m.mu.Unlock()
	return w, nil
}

// dropAll makes every memoised time step stale.
func (m *weekMemo) dropAll() { m.gen.Add(1) }

// weekKey names what a time step depends on besides free and held time:
// the choices, and today in the location (the window and notice move with
// it).
func weekKey(sel Selection, now time.Time) string {
	var b strings.Builder
	b.WriteString(sel.Location.ID)
	b.WriteByte('|')
	b.WriteString(sel.Service.ID)
	b.WriteByte('|')
	if sel.Practitioner != nil {
		b.WriteString(sel.Practitioner.ID)
	}
	b.WriteByte('|')
	b.WriteString(strconv.FormatBool(sel.Any))
	b.WriteByte('|')
	if !sel.Week.IsZero() {
		b.WriteString(sel.Week.Format(dateLayout))
	}
	b.WriteByte('|')
	b.WriteString(strconv.FormatBool(sel.FromWeek))
	b.WriteByte('|')
	b.WriteString(now.In(sel.Location.Zone).Format(dateLayout))
	return b.String()
}
