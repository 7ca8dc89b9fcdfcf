package booking

import "time"

// Observer is told what the booking rules did, for the portal's metrics
// (internal/metrics implements it): how each cache read was answered and
// how each submit ended. Its methods must be cheap and safe for concurrent
// use; the rules work the same without one.
type Observer interface {
	// CacheRead is told how a read of cache (ReferenceCache or
	// AvailabilityCache) was answered and how old the value served was
	// (zero for a miss, which waited for a load).
	CacheRead(cache string, result CacheResult, age time.Duration)
	// Submitted is told how a patient's confirm that tried to book ended.
	// A confirm answered from a submit already made (a double tap, a
	// reload) tries nothing and is not told.
	Submitted(outcome SubmitOutcome)
}

// SweepObserver is told what each sweep did (see Sweeper.Observer).
type SweepObserver interface {
	Swept(res SweepResult)
}

// The caches a Service keeps, as Observer.CacheRead names them.
const (
	ReferenceCache    = "reference"    // locations, services, practitioners, who works where
	AvailabilityCache = "availability" // free times
)

// CacheResult is how a cache read was answered.
type CacheResult string

const (
	// CacheHit: from a value younger than the cache's time to live.
	CacheHit CacheResult = "hit"
	// CacheMiss: loaded from coreplus (or joined a load under way).
	CacheMiss CacheResult = "miss"
	// CacheStale: from a value past its time to live: served at once while
	// one background reload refreshes it (stale-while-revalidate), or
	// because reloading it failed or outlasted the page's wait.
	CacheStale CacheResult = "stale"
)

// SubmitOutcome is how a submit of a patient's booking ended.
type SubmitOutcome string

const (
	// SubmitBooked: coreplus has the appointment.
	SubmitBooked SubmitOutcome = "booked"
	// SubmitSlotTaken: the time went (or fell inside the notice period)
	// before it could be booked; the patient was offered others.
	SubmitSlotTaken SubmitOutcome = "slot_taken"
	// SubmitUnknown: sent with no answer, so it may exist in coreplus; the
	// sweeper settles it.
	SubmitUnknown SubmitOutcome = "unknown"
	// SubmitFailed: the send failed and nothing was booked: coreplus
	// refused it, or it could not go out.
	SubmitFailed SubmitOutcome = "failed"
	// SubmitNotSent: stopped before anything was sent (coreplus could not
	// be asked, the store failed); the draft was reopened.
	SubmitNotSent SubmitOutcome = "not_sent"
)

// SubmitOutcomes lists every submit outcome.
func SubmitOutcomes() []SubmitOutcome {
	return []SubmitOutcome{SubmitBooked, SubmitSlotTaken, SubmitUnknown, SubmitFailed, SubmitNotSent}
}

type nopObserver struct{}

func (nopObserver) CacheRead(string, CacheResult, time.Duration) {}
func (nopObserver) Submitted(SubmitOutcome)                      {}
