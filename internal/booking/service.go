package booking

import (
	"context"
	"time"

	"github.com/clinic-booking/portal/internal/coreplus"
)

// Coreplus is what the booking rules need of the coreplus API.
type Coreplus interface {
	ListLocations(ctx context.Context) ([]coreplus.Location, error)
	ListPractitioners(ctx context.Context) ([]coreplus.Practitioner, error)
	ListAppointmentTypes(ctx context.Context) ([]coreplus.AppointmentType, error)
	FindAvailability(ctx context.Context, q coreplus.SlotQuery) ([]coreplus.Slot, error)
	SearchClients(ctx context.Context, q coreplus.ClientSearch) ([]coreplus.Client, error)
	GetClient(ctx context.Context, id string) (coreplus.Client, error)
	CreateClient(ctx context.Context, c coreplus.NewClient) (string, error)
	CreateAppointment(ctx context.Context, a coreplus.NewAppointment) (coreplus.Appointment, error)
	GetAppointment(ctx context.Context, id string) (coreplus.Appointment, error)
	ListAppointments(ctx context.Context, q coreplus.AppointmentQuery) ([]coreplus.Appointment, error)
	UpdateAppointment(ctx context.Context, id string, m coreplus.AppointmentMove) (coreplus.Appointment, error)
	CancelAppointment(ctx context.Context, id string) error
}

// Service applies one clinic's rules on top of its coreplus account.
type Service struct {
	clinic Clinic
	api    Coreplus
	store  Store
	now    func() time.Time
	cache  *refCache
	slots  *refCache
	shared SharedSpans // nil: free time is fetched by this process alone
	fresh  freshGroup  // uncached free-time re-checks, coalesced
	held   heldSnapshot
	weeks  weekMemo
	log    Logger
	obs    Observer
}

// Logger is where the service notes things staff may need to act on. It
// never receives a patient's details, only ids.
type Logger interface {
	Warn(msg string, args ...any)
}

// Caching: reference data changes rarely; free time changes as people book,
// so it is kept only long enough to make browsing cheap. Free time older
// than AvailabilityTTL is still served, up to AvailabilityStale more,
// while one reload in the background refreshes it: a patient never waits
// for coreplus when the cache can answer. With anyone browsing, free time
// shown is at most AvailabilityTTL and a reload old; after a quiet spell,
// at most AvailabilityTTL + AvailabilityStale. The portal's own bookings
// leave the times offered at once (see notHeld); staff's own bookings in
// coreplus, within those bounds; and the confirm's uncached re-check has
// the last word either way.
// Reference data is served stale-while-revalidate too, up to another
// ReferenceTTL.
const (
	ReferenceTTL      = 5 * time.Minute
	AvailabilityTTL   = 30 * time.Second
	AvailabilityStale = 90 * time.Second
)

// NewService builds the service for one clinic. store may be nil for a
// portal that only browses; now may be nil.
func NewService(clinic Clinic, api Coreplus, store Store, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	if clinic.MinNotice == 0 {
		clinic.MinNotice = DefaultMinNotice
	}
	if clinic.BookingWindowDays == 0 {
		clinic.BookingWindowDays = DefaultBookingWindowDays
	}
	if clinic.DraftTTL == 0 {
		clinic.DraftTTL = DefaultDraftTTL
	}
	s := &Service{
		clinic: clinic, api: api, store: store, now: now,
		cache: &refCache{ttl: ReferenceTTL, swr: ReferenceTTL, now: now, entries: map[string]cacheEntry{}},
		slots: &refCache{ttl: AvailabilityTTL, swr: AvailabilityStale, now: now, entries: map[string]cacheEntry{}},
		log:   nopLogger{},
		obs:   nopObserver{},
	}
	// Free time is never served stale: a time shown must be one coreplus
	// offered lately. Names and places may be.
	s.cache.onStale = func(key string, err error) {
		s.log.Warn("reference data reload failed; serving the last good copy", "key", key, "err", err)
	}
	s.cache.observe = func(r CacheResult, age time.Duration) { s.obs.CacheRead(ReferenceCache, r, age) }
	s.slots.observe = func(r CacheResult, age time.Duration) { s.obs.CacheRead(AvailabilityCache, r, age) }
	return s
}

// SetLogger sets where warnings go (ids only, never personal details).
func (s *Service) SetLogger(l Logger) {
	if l != nil {
		s.log = l
	}
}

// SetSharedSpans makes the service share the free time it fetches with
// every other service over the same SharedSpans (replicas on one
// database). Like SetLogger, it is called before the service is used.
func (s *Service) SetSharedSpans(sh SharedSpans) { s.shared = sh }

// SetObserver sets what is told how caches and submits fare, for metrics.
// Like SetLogger, it is called before the service is used.
func (s *Service) SetObserver(o Observer) {
	if o != nil {
		s.obs = o
	}
}

type nopLogger struct{}

func (nopLogger) Warn(string, ...any) {}

// Clinic returns the clinic's settings.
func (s *Service) Clinic() Clinic { return s.clinic }

// Now is the service's clock.
func (s *Service) Now() time.Time { return s.now() }

// upstream wraps a coreplus failure in a patient-safe error; one that was
// only busy stays so.
func upstream(err error) error {
	if be, ok := AsError(err); ok && be.Code == CodeBusy {
		return be
	}
	return &Error{Code: CodeUnavailable, Message: "We couldn't reach the clinic's booking system.", Cause: err}
}
