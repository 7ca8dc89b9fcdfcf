package web

import (
	"context"

	"github.com/clinic-booking/portal/internal/booking"
)

// Clinics finds the booking service of the clinic a URL names.
type Clinics interface {
	Clinic(ctx context.Context, slug string) (ClinicService, bool)
	// Default is the clinic "/" leads to, when there is exactly one.
	Default() (slug string, ok bool)
}

// ClinicService is what the pages ask of one clinic's booking service. Each
// page's file declares the part it uses; *booking.Service has them all, and
// a test can stand in for it without coreplus or a database.
type ClinicService interface {
	flowService         // book.go: the choosing steps
	detailsService      // details.go
	reviewService       // review.go
	confirmationService // confirmation.go and outcome.go
	manageService       // manage.go
	requestService      // request.go
	embedCodeService    // embedcode.go
	todayService        // console_today.go
	catalogueService    // console_settings.go
}

var _ ClinicService = (*booking.Service)(nil)

// serviceDirectory is a directory of booking services, such as
// *booking.Directory.
type serviceDirectory interface {
	Clinic(ctx context.Context, slug string) (*booking.Service, bool)
	Default() (slug string, ok bool)
}

// ServiceDirectory serves a directory of booking services, such as
// *booking.Directory, as the portal's Clinics.
func ServiceDirectory(d serviceDirectory) Clinics { return serviceClinics{d} }

type serviceClinics struct{ serviceDirectory }

func (d serviceClinics) Clinic(ctx context.Context, slug string) (ClinicService, bool) {
	svc, ok := d.serviceDirectory.Clinic(ctx, slug)
	if !ok {
		return nil, false // never a nil *booking.Service inside the interface
	}
	return svc, true
}
