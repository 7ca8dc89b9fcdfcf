package main

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// recorder gathers what the patients saw. It is safe for concurrent use.
type recorder struct {
	mu         sync.Mutex
	latency    map[string][]time.Duration // by page kind
	statuses   map[int]int                // 0: no answer (connection failed)
	confirms   []time.Duration            // from pressing Confirm to the page it led to
	booked     int
	notBooked  map[int]int // confirms that ended elsewhere, by the final status
	stillShown []time.Duration
	censored   []time.Duration // booked times still offered when the load ended: how long after booking
	errors     map[string]int
	combos     map[string]bool
	weeks      map[string]bool
	watchers   sync.WaitGroup
}

func newRecorder() *recorder {
	return &recorder{latency: map[string][]time.Duration{}, statuses: map[int]int{}, notBooked: map[int]int{},
		errors: map[string]int{}, combos: map[string]bool{}, weeks: map[string]bool{}}
}

func (r *recorder) request(kind string, took time.Duration, status int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.latency[kind] = append(r.latency[kind], took)
	r.statuses[status]++
}

func (r *recorder) confirmed(took time.Duration, booked bool, status int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.confirms = append(r.confirms, took)
	if booked {
		r.booked++
	} else {
		r.notBooked[status]++
	}
}

func (r *recorder) flowError(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors[err.Error()]++
}

// sawTimes notes the combination and week a time page showed.
func (r *recorder) sawTimes(pg *page) {
	q := pg.url.Query()
	combo := strings.Join([]string{q.Get("location"), q.Get("type"), q.Get("practitioner")}, " ")
	r.mu.Lock()
	defer r.mu.Unlock()
	r.combos[combo] = true
	r.weeks[combo+" "+weekOf(pg)] = true
}

func (r *recorder) watch(f func()) { r.watchers.Go(f) }
func (r *recorder) wait()          { r.watchers.Wait() }

// gone records how long a booked time stayed on offer; censored when the
// load ended first.
func (r *recorder) gone(after time.Duration, censored bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if censored {
		r.censored = append(r.censored, after)
	} else {
		r.stillShown = append(r.stillShown, after)
	}
}

// results are the figures of one run.
type results struct {
	o           options
	elapsed     time.Duration
	kinds       []kindFigures
	requests    int
	status5xx   int
	status4xx   int
	noAnswer    int
	confirms    kindFigures
	booked      int
	notBooked   map[int]int
	stillShown  kindFigures
	censored    kindFigures
	upstream    int
	busiest     int // most upstream calls in any 1 s
	busiestAt   time.Duration
	upstream429 int
	upstream5xx int
	combos      int
	weeks       int
	errors      map[string]int
	bench       *benchFigures
}

// kindFigures are the latency percentiles of one kind of request.
type kindFigures struct {
	kind               string
	n                  int
	p50, p95, p99, max time.Duration
}

func percentiles(kind string, ds []time.Duration) kindFigures {
	f := kindFigures{kind: kind, n: len(ds)}
	if len(ds) == 0 {
		return f
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	at := func(p float64) time.Duration {
		i := int(p*float64(len(s))+0.999999) - 1
		return s[max(0, min(i, len(s)-1))]
	}
	f.p50, f.p95, f.p99, f.max = at(0.50), at(0.95), at(0.99), s[len(s)-1]
	return f
}

// pageOrder lists the kinds of request in the order a patient meets them.
var pageOrder = []string{"first", "service", "practitioner", "time", "time picked", "details", "details POST", "review", "confirm POST", "confirmation", "recheck"}

func summarize(o options, rec *recorder, up *upstream, elapsed time.Duration) *results {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	res := &results{o: o, elapsed: elapsed, notBooked: rec.notBooked, errors: rec.errors,
		combos: len(rec.combos), weeks: len(rec.weeks), booked: rec.booked}
	kinds := make([]string, 0, len(rec.latency))
	for k := range rec.latency {
		kinds = append(kinds, k)
	}
	sort.Slice(kinds, func(i, j int) bool { return orderOf(kinds[i]) < orderOf(kinds[j]) })
	for _, k := range kinds {
		res.kinds = append(res.kinds, percentiles(k, rec.latency[k]))
	}
	for status, n := range rec.statuses {
		res.requests += n
		switch {
		case status == 0:
			res.noAnswer += n
		case status >= 500:
			res.status5xx += n
		case status >= 400:
			res.status4xx += n
		}
	}
	res.confirms = percentiles("confirm", rec.confirms)
	res.stillShown = percentiles("gone after", rec.stillShown)
	res.censored = percentiles("still offered", rec.censored)

	calls := up.counted()
	res.upstream = len(calls)
	res.busiest, res.busiestAt = busiestSecond(calls)
	for _, c := range calls {
		switch {
		case c.status == http.StatusTooManyRequests:
			res.upstream429++
		case c.status >= 500:
			res.upstream5xx++
		}
	}
	return res
}

// busiestSecond is the most calls that arrived within any one second
// (a sliding window, as coreplus counts), and when that second began,
// counted from the first call. calls are in order of arrival.
func busiestSecond(calls []upstreamCall) (most int, at time.Duration) {
	lo := 0
	for hi, c := range calls {
		for c.at.Sub(calls[lo].at) >= time.Second {
			lo++
		}
		if n := hi - lo + 1; n > most {
			most, at = n, calls[lo].at.Sub(calls[0].at)
		}
	}
	return most, at
}

func orderOf(kind string) int {
	if i := slices.Index(pageOrder, kind); i >= 0 {
		return i
	}
	return len(pageOrder)
}

func (r *results) print(w io.Writer) {
	secs := r.elapsed.Seconds()
	fmt.Fprintf(w, "\ncoverage: %d location × service × practitioner combinations, %d combination-weeks shown\n\n", r.combos, r.weeks)
	fmt.Fprintf(w, "%-14s %7s %8s %8s %8s %8s\n", "page", "count", "p50", "p95", "p99", "max")
	for _, k := range r.kinds {
		fmt.Fprintf(w, "%-14s %7d %8s %8s %8s %8s\n", k.kind, k.n, short(k.p50), short(k.p95), short(k.p99), short(k.max))
	}
	rechecks := ""
	for _, k := range r.kinds {
		if k.kind == "recheck" {
			rechecks = fmt.Sprintf(" (%d of them rechecks of booked times)", k.n)
		}
	}
	fmt.Fprintf(w, "\nportal:    %d requests in %.0f s = %.1f a second%s; 5xx %d, 4xx %d, no answer %d\n",
		r.requests, secs, float64(r.requests)/secs, rechecks, r.status5xx, r.status4xx, r.noAnswer)
	fmt.Fprintf(w, "upstream:  %d calls = %.1f a second; busiest 1 s window %d (at %.0f s; coreplus allows 10); 429s %d, 5xx %d\n",
		r.upstream, float64(r.upstream)/secs, r.busiest, r.busiestAt.Seconds(), r.upstream429, r.upstream5xx)
	if r.confirms.n > 0 {
		fmt.Fprintf(w, "confirms:  %d sent, %d booked%s; from Confirm to the next page p50 %s, p95 %s, max %s\n",
			r.confirms.n, r.booked, notBookedNote(r.notBooked), short(r.confirms.p50), short(r.confirms.p95), short(r.confirms.max))
	} else {
		fmt.Fprintln(w, "confirms:  none sent")
	}
	if r.stillShown.n+r.censored.n > 0 {
		where := "its own portal's"
		if r.o.replicas > 1 {
			where = "the other portal's"
		}
		fmt.Fprintf(w, "booked:    a booked time left %s time pages", where)
		if r.stillShown.n > 0 {
			fmt.Fprintf(w, " after p50 %s, max %s (%d times)", short(r.stillShown.p50), short(r.stillShown.max), r.stillShown.n)
		}
		if r.censored.n > 0 {
			fmt.Fprintf(w, "; %d still offered when the load ended, up to %s after booking", r.censored.n, short(r.censored.max))
		}
		fmt.Fprintln(w)
	}
	if len(r.errors) > 0 {
		fmt.Fprintln(w, "visits that ended early (the patient started again):")
		for msg, n := range r.errors {
			fmt.Fprintf(w, "  %5d × %s\n", n, msg)
		}
	}
	if b := r.bench; b != nil {
		fmt.Fprintf(w, "bench:     cached time page %.0f a second, bare Echo handler %.0f a second: %.3f× (go test -bench, one run)\n",
			b.cached, b.bare, b.cached/b.bare)
	}
}

func notBookedNote(by map[int]int) string {
	var parts []string
	for status, n := range by {
		parts = append(parts, fmt.Sprintf("%d ended on a %d page", n, status))
	}
	sort.Strings(parts)
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// short prints a duration to two or three significant figures.
func short(d time.Duration) string {
	switch {
	case d == 0:
		return "-"
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	default:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
}

// check lists the issue 14 targets the figures miss.
func (r *results) check(o options) []string {
	var failed []string
	miss := func(format string, args ...any) { failed = append(failed, fmt.Sprintf(format, args...)) }
	if r.status5xx > 0 || r.noAnswer > 0 {
		miss("portal answered 5xx %d times and not at all %d times; want 0", r.status5xx, r.noAnswer)
	}
	if r.upstream429 > 0 {
		miss("coreplus answered 429 %d times; want 0", r.upstream429)
	}
	if r.busiest > 10 {
		miss("%d upstream calls in one second; want at most 10", r.busiest)
	}
	for _, k := range r.kinds {
		if k.kind == "time" && k.p95 > time.Second {
			miss("time page p95 %s; want at most 1s", short(k.p95))
		}
	}
	if r.confirms.max > 3*time.Second {
		miss("slowest confirm %s; want every one within 3s", short(r.confirms.max))
	}
	if o.bookEvery > 0 && r.booked == 0 {
		miss("no booking made; want some")
	}
	if late := max(r.stillShown.max, r.censored.max); late > time.Second {
		miss("a booked time was still offered %s later; want gone within 1s", short(late))
	}
	if o.patients >= 200 && o.duration >= 60*time.Second && r.combos < 40 {
		miss("%d combinations shown; want at least 40", r.combos)
	}
	if b := r.bench; b != nil && b.cached < 0.3*b.bare {
		miss("cached time page at %.3f× a bare Echo handler; want at least 0.3×", b.cached/b.bare)
	}
	return failed
}
