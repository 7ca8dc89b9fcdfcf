package web_test

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/internal/coreplus/sandbox"
	"github.com/clinic-booking/portal/web"
)

// recorder keeps what the portal tells its metrics.
type recorder struct {
	mu      sync.Mutex
	pages   []string // "METHOD route status"
	submits []booking.SubmitOutcome
	cache   map[string]int // "cache result"
	sweeps  []booking.SweepResult
}

func newRecorder() *recorder { return &recorder{cache: map[string]int{}} }

func (r *recorder) ObservePage(route, method string, status int, _ time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pages = append(r.pages, method+" "+route+" "+http.StatusText(status))
}

func (r *recorder) CacheRead(cache string, result booking.CacheResult, _ time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cache[cache+" "+string(result)]++
}

func (r *recorder) Submitted(o booking.SubmitOutcome) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.submits = append(r.submits, o)
}

func (r *recorder) Swept(res booking.SweepResult) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sweeps = append(r.sweeps, res)
}

// TestPageMetricsNameRoutesNotURLs: every request is told by its route
// template, so no clinic, draft token or id becomes a label; a URL no route
// answers is "unmatched".
func TestPageMetricsNameRoutesNotURLs(t *testing.T) {
	rec := newRecorder()
	h := newHarnessSetup(t, harnessSetup{web: func(c *web.Config) { c.Metrics = rec }})
	done := h.confirm(h.toReview(newPatient, "Tom Whitfield")).WantH1("Booking confirmed")
	h.get("/static/nonsense/a/b")
	h.get("/demo/no/such/page/here")
	req, _ := http.NewRequest(http.MethodDelete, h.abs("/demo/book"), nil)
	h.do(req)

	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, want := range []string{
		"GET /:clinic OK",
		"GET /:clinic/book OK",
		"GET /:clinic/book/details OK",
		"POST /:clinic/book/details See Other",
		"GET /:clinic/book/review OK",
		"POST /:clinic/book/confirm See Other",
		"GET /:clinic/booking/:ref/ OK",
		"GET /static/:version/* Not Found",
		"GET unmatched Not Found",
		"DELETE unmatched ",
	} {
		if !slices.ContainsFunc(rec.pages, func(p string) bool { return strings.HasPrefix(p, want) }) {
			t.Errorf("no request told as %q; told: %q", want, rec.pages)
		}
	}
	_, ref, _ := strings.Cut(done.URL, "/booking/")
	for _, p := range rec.pages {
		if strings.Contains(p, "demo") || strings.Contains(p, strings.Trim(ref, "/")) {
			t.Errorf("a request told with its URL: %q", p)
		}
	}
}

// TestObserverToldOfSubmitsAndSweeps: each submit's outcome is told once
// (booked, taken by someone else, unknown), a confirm pressed again is not,
// and the sweep that settles the unknown one says so.
func TestObserverToldOfSubmitsAndSweeps(t *testing.T) {
	rec := newRecorder()
	h := newHarnessSetup(t, harnessSetup{observer: rec})
	first := h.toReview(newPatient, "Tom Whitfield")
	second := newPatient
	second.First, second.Email = "Ysolde", "ysolde.test@example.com"
	late := h.toReview(second, "Tom Whitfield") // the same first free time
	h.confirm(first).WantH1("Booking confirmed")
	h.confirm(first).WantH1("Booking confirmed") // pressed again: told once
	if taken := h.confirm(late); taken.Status != http.StatusConflict {
		t.Fatalf("the second patient's confirm: status %d, want 409", taken.Status)
	}

	third := newPatient
	third.First, third.Email = "Wendeline", "wendeline.test@example.com"
	review := h.toReview(third, "Priya Nandakumar")
	h.sb.SetFaults(sandbox.Faults{StoreThenDropRate: 1, Match: postAppointment})
	h.confirm(review).WantH1("We're confirming your booking")
	h.sb.SetFaults(sandbox.Faults{})
	sw := h.sweeper(0)
	sw.Observer = rec
	if _, err := sw.Sweep(t.Context()); err != nil {
		t.Fatal(err)
	}

	rec.mu.Lock()
	defer rec.mu.Unlock()
	want := []booking.SubmitOutcome{booking.SubmitBooked, booking.SubmitSlotTaken, booking.SubmitUnknown}
	if !slices.Equal(rec.submits, want) {
		t.Errorf("submits told as %v, want %v", rec.submits, want)
	}
	if len(rec.sweeps) != 1 || rec.sweeps[0].Booked != 1 {
		t.Errorf("sweeps told as %+v, want one that booked one", rec.sweeps)
	}
	if rec.cache["availability miss"] == 0 || rec.cache["availability hit"] == 0 || rec.cache["reference hit"] == 0 {
		t.Errorf("cache reads told as %v", rec.cache)
	}
}
