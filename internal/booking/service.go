package booking

import (
	"context"
	"fmt"
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
}

// Service applies one clinic's rules on top of its coreplus account.
type Service struct {
	clinic Clinic
	api    Coreplus
	now    func() time.Time
	cache  *refCache
}

// ReferenceTTL is how long locations, practitioners and services are cached.
const ReferenceTTL = 5 * time.Minute

// NewService builds the service for one clinic. now may be nil.
func NewService(clinic Clinic, api Coreplus, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	if clinic.MinNotice == 0 {
		clinic.MinNotice = DefaultMinNotice
	}
	if clinic.BookingWindow == 0 {
		clinic.BookingWindow = DefaultBookingWindow
	}
	return &Service{clinic: clinic, api: api, now: now, cache: newRefCache(ReferenceTTL, now)}
}

// Clinic returns the clinic's settings.
func (s *Service) Clinic() Clinic { return s.clinic }

// Locations lists the clinic's locations, from cache when fresh.
func (s *Service) Locations(ctx context.Context) ([]coreplus.Location, error) {
	v, err := s.cache.get(ctx, "locations", func(ctx context.Context) (any, error) {
		return s.api.ListLocations(ctx)
	})
	if err != nil {
		return nil, upstream(fmt.Errorf("list locations: %w", err))
	}
	return v.([]coreplus.Location), nil
}

// upstream wraps a coreplus failure in a patient-safe error.
func upstream(err error) error {
	return &Error{Code: CodeUnavailable, Message: "We couldn't reach the clinic's booking system.", Cause: err}
}
