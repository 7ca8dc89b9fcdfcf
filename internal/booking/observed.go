package booking

import (
	"context"
	"time"

	"github.com/clinic-booking/portal/internal/coreplus"
)

// CallObserver is told of each call the booking rules make to coreplus
// (retries and pages included in its duration), with the caller's context,
// so that a request's log line can count its upstream calls. op names the
// call, never its arguments.
type CallObserver func(ctx context.Context, op string, d time.Duration, err error)

// Observed wraps api so that observe is told of every call.
func Observed(api Coreplus, observe CallObserver) Coreplus {
	if observe == nil {
		return api
	}
	return observedAPI{api: api, observe: observe}
}

type observedAPI struct {
	api     Coreplus
	observe CallObserver
}

func (o observedAPI) timed(ctx context.Context, op string) func(error) {
	start := time.Now()
	return func(err error) { o.observe(ctx, op, time.Since(start), err) }
}

func (o observedAPI) ListLocations(ctx context.Context) (v []coreplus.Location, err error) {
	done := o.timed(ctx, "ListLocations")
	defer func() { done(err) }()
	return o.api.ListLocations(ctx)
}

func (o observedAPI) ListPractitioners(ctx context.Context) (v []coreplus.Practitioner, err error) {
	done := o.timed(ctx, "ListPractitioners")
	defer func() { done(err) }()
	return o.api.ListPractitioners(ctx)
}

func (o observedAPI) ListAppointmentTypes(ctx context.Context) (v []coreplus.AppointmentType, err error) {
	done := o.timed(ctx, "ListAppointmentTypes")
	defer func() { done(err) }()
	return o.api.ListAppointmentTypes(ctx)
}

func (o observedAPI) FindAvailability(ctx context.Context, q coreplus.SlotQuery) (v []coreplus.Slot, err error) {
	done := o.timed(ctx, "FindAvailability")
	defer func() { done(err) }()
	return o.api.FindAvailability(ctx, q)
}

func (o observedAPI) SearchClients(ctx context.Context, q coreplus.ClientSearch) (v []coreplus.Client, err error) {
	done := o.timed(ctx, "SearchClients")
	defer func() { done(err) }()
	return o.api.SearchClients(ctx, q)
}

func (o observedAPI) GetClient(ctx context.Context, id string) (v coreplus.Client, err error) {
	done := o.timed(ctx, "GetClient")
	defer func() { done(err) }()
	return o.api.GetClient(ctx, id)
}

func (o observedAPI) CreateClient(ctx context.Context, c coreplus.NewClient) (v string, err error) {
	done := o.timed(ctx, "CreateClient")
	defer func() { done(err) }()
	return o.api.CreateClient(ctx, c)
}

func (o observedAPI) CreateAppointment(ctx context.Context, a coreplus.NewAppointment) (v coreplus.Appointment, err error) {
	done := o.timed(ctx, "CreateAppointment")
	defer func() { done(err) }()
	return o.api.CreateAppointment(ctx, a)
}

func (o observedAPI) GetAppointment(ctx context.Context, id string) (v coreplus.Appointment, err error) {
	done := o.timed(ctx, "GetAppointment")
	defer func() { done(err) }()
	return o.api.GetAppointment(ctx, id)
}

func (o observedAPI) ListAppointments(ctx context.Context, q coreplus.AppointmentQuery) (v []coreplus.Appointment, err error) {
	done := o.timed(ctx, "ListAppointments")
	defer func() { done(err) }()
	return o.api.ListAppointments(ctx, q)
}
