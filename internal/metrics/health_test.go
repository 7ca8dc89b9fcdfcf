package metrics

import (
	"testing"
	"time"

	"github.com/clinic-booking/portal/internal/coreplus"
)

func TestHealthCountsTheLastHourPerClinic(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	h := NewHealth(func() time.Time { return now })
	if _, ok := h.Report("northside"); ok {
		t.Fatal("a report before any call")
	}
	h.Observe("northside", coreplus.CallInfo{Status: 200, Wait: 300 * time.Millisecond})
	good := now
	now = now.Add(10 * time.Minute)
	h.Observe("northside", coreplus.CallInfo{Status: 429, Err: coreplus.ErrRateLimited})
	h.Observe("northside", coreplus.CallInfo{Status: 409, Err: coreplus.ErrSlotUnavailable}) // an answer
	now = now.Add(time.Minute)
	h.Observe("northside", coreplus.CallInfo{Err: coreplus.ErrUnavailable, NotTried: true})
	h.Observe("southside", coreplus.CallInfo{Status: 503, Err: coreplus.ErrUnavailable})

	r, ok := h.Report("northside")
	if !ok {
		t.Fatal("no report")
	}
	want := HealthReport{Since: good, LastGood: good.Add(10 * time.Minute), LastFailure: now, LastFailureKind: "not sent: coreplus had been failing",
		Window: time.Hour, Calls: 3, Failures: 2, Refused: 1, RateLimited: 1, Waits: 1, LongestWait: 300 * time.Millisecond}
	if r != want {
		t.Errorf("report =\n%+v\nwant\n%+v", r, want)
	}

	// An hour on, the counts are gone and the last times stay.
	now = now.Add(time.Hour)
	r, _ = h.Report("northside")
	if r.Calls != 0 || r.Failures != 0 || r.Waits != 0 || r.LastGood != want.LastGood {
		t.Errorf("an hour later: %+v", r)
	}
	if s, _ := h.Report("southside"); s.LastFailureKind != "not answering" || !s.LastGood.IsZero() {
		t.Errorf("southside: %+v", s)
	}
	var nilHealth *Health
	nilHealth.Observe("x", coreplus.CallInfo{})
}
