package web_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/internal/coreplus/sandbox"
	"github.com/clinic-booking/portal/internal/pagetest"
	"github.com/clinic-booking/portal/web"
)

// fakeClinic stands in for a clinic's booking service on the pages that
// need neither coreplus nor a database: it knows the sandbox's locations
// and services, keeps booking requests in memory, and answers anything
// else as a clinic whose coreplus is down would.
type fakeClinic struct {
	clinic booking.Clinic
	now    time.Time
	// down makes the reference data unavailable too.
	down bool

	mu       sync.Mutex
	requests []booking.Request
}

var _ web.ClinicService = (*fakeClinic)(nil)

// newPageHarness serves the portal over a fakeClinic, starting neither
// the coreplus sandbox nor a database. Only setup.web is used.
func newPageHarness(t *testing.T, setup harnessSetup, opts ...harnessOption) *harness {
	t.Helper()
	h := &harness{t: t, now: summerMonday, logs: &pagetest.SyncBuffer{}}
	h.fake = &fakeClinic{clinic: testClinic(opts...), now: summerMonday}
	h.serve(fakeClinics{h.fake}, h.newLogger(), nil, setup.web)
	return h
}

// fakeClinics is a directory of one fake clinic.
type fakeClinics struct{ clinic *fakeClinic }

func (d fakeClinics) Clinic(_ context.Context, slug string) (web.ClinicService, bool) {
	if slug != d.clinic.clinic.Slug {
		return nil, false
	}
	return d.clinic, true
}

func (d fakeClinics) Default() (string, bool) { return d.clinic.clinic.Slug, true }

var errNoCoreplus = &booking.Error{Code: booking.CodeUnavailable, Message: "coreplus is not reachable", Cause: errors.New("fake clinic: no coreplus")}

func (f *fakeClinic) Clinic() booking.Clinic { return f.clinic }
func (f *fakeClinic) Now() time.Time         { return f.now }

func (f *fakeClinic) Locations(context.Context) ([]booking.Location, error) {
	if f.down {
		return nil, errNoCoreplus
	}
	return []booking.Location{
		{ID: sandbox.LocationSydneyID, Name: "Harbourside Physio Surry Hills", Address: f.clinic.Addresses[sandbox.LocationSydneyID], Zone: sydney},
		{ID: sandbox.LocationBrisbaneID, Name: "Riverside Physio South Brisbane", Address: f.clinic.Addresses[sandbox.LocationBrisbaneID], Zone: mustZone("Australia/Brisbane")},
	}, nil
}

func (f *fakeClinic) Catalogue(context.Context) (booking.Catalogue, error) {
	if f.down {
		return booking.Catalogue{}, errNoCoreplus
	}
	return booking.Catalogue{
		Locations: []booking.Named{{ID: sandbox.LocationSydneyID, Name: "Harbourside Physio Surry Hills"}, {ID: sandbox.LocationBrisbaneID, Name: "Riverside Physio South Brisbane"}},
		Services:  []booking.Named{{ID: sandbox.AppointmentTypeStandardID, Name: "Standard Consultation"}},
	}, nil
}

func (f *fakeClinic) Services(context.Context) ([]booking.ServiceType, error) {
	if f.down {
		return nil, errNoCoreplus
	}
	return []booking.ServiceType{{ID: sandbox.AppointmentTypeStandardID, Name: "Standard Consultation", Minutes: 30}}, nil
}

// Resolve knows only the first step: no choice made yet.
func (f *fakeClinic) Resolve(_ context.Context, ch booking.Choice) (booking.Selection, error) {
	if f.down || ch != (booking.Choice{}) {
		return booking.Selection{}, errNoCoreplus
	}
	return booking.Selection{}, nil
}

func (f *fakeClinic) LeaveRequest(_ context.Context, r booking.Request) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, r)
	return "request-1", nil
}

// leftRequests are the booking requests stored so far.
func (f *fakeClinic) leftRequests() []booking.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]booking.Request(nil), f.requests...)
}

func (f *fakeClinic) AllPractitioners(context.Context) ([]booking.Practitioner, error) {
	return nil, errNoCoreplus
}
func (f *fakeClinic) Practitioners(context.Context, booking.Location, booking.ServiceType) ([]booking.Practitioner, error) {
	return nil, errNoCoreplus
}
func (f *fakeClinic) ShowWeek(context.Context, booking.Selection) (booking.Week, error) {
	return booking.Week{}, errNoCoreplus
}
func (f *fakeClinic) CheckSlot(context.Context, booking.Selection) error { return errNoCoreplus }

// The fake clinic has no bookings to manage.
func (f *fakeClinic) ManagedBooking(context.Context, string) (booking.Managed, error) {
	return booking.Managed{}, errNoCoreplus
}
func (f *fakeClinic) CancelBooking(context.Context, string) (booking.Managed, error) {
	return booking.Managed{}, errNoCoreplus
}
func (f *fakeClinic) MoveBooking(context.Context, string, booking.Selection) (booking.Managed, error) {
	return booking.Managed{}, errNoCoreplus
}
func (f *fakeClinic) ManageRefusal(booking.Managed) string { return "" }
func (f *fakeClinic) Alternatives(context.Context, booking.Selection, int) ([]booking.Slot, error) {
	return nil, errNoCoreplus
}

// The fake keeps no drafts or bookings: every draft has expired.
var errNoDraft = &booking.Error{Code: booking.CodeNotFound, Message: "no such draft"}

func (f *fakeClinic) Draft(context.Context, string) (booking.Draft, error) {
	return booking.Draft{}, errNoDraft
}
func (f *fakeClinic) SaveDetails(context.Context, string, booking.Selection, booking.Details) (string, error) {
	return "", errNoCoreplus
}
func (f *fakeClinic) SaveDetailsUnchecked(context.Context, string, booking.Choice, booking.Details) (string, error) {
	return "", errNoDraft
}
func (f *fakeClinic) Confirm(context.Context, string, booking.Selection) (booking.Outcome, error) {
	return booking.Outcome{}, errNoCoreplus
}
func (f *fakeClinic) Booking(context.Context, string) (booking.Confirmed, error) {
	return booking.Confirmed{}, booking.ErrNoBooking
}
func (f *fakeClinic) RequestFromDraft(context.Context, string) (booking.RequestForm, error) {
	return booking.RequestForm{}, errNoDraft
}
