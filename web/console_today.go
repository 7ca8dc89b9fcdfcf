package web

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/internal/staff"
	"github.com/clinic-booking/portal/views"
)

// todayService is what the Today page asks of a clinic's booking service:
// the names of its locations, services and practitioners, from the cache.
type todayService interface {
	Clinic() booking.Clinic
	Locations(ctx context.Context) ([]booking.Location, error)
	Services(ctx context.Context) ([]booking.ServiceType, error)
	AllPractitioners(ctx context.Context) ([]booking.Practitioner, error)
}

// todayDays is how far ahead Today lists bookings.
const todayDays = 14

// consoleHome sends a signed-in person to where they work: their one
// clinic's Today, or the list of clinics.
func (s *Server) consoleHome(c echo.Context) error {
	acc := staffFrom(c)
	if slugs := acc.ClinicSlugs(); !acc.Operator && len(slugs) == 1 {
		return c.Redirect(http.StatusSeeOther, "/console/"+slugs[0]+"/today")
	}
	return c.Redirect(http.StatusSeeOther, "/console/clinics")
}

// consoleClinics lists the clinics the account sees: every clinic served,
// for an operator.
func (s *Server) consoleClinics(c echo.Context) error {
	acc := staffFrom(c)
	ctx := c.Request().Context()
	slugs := acc.ClinicSlugs()
	if acc.Operator && s.console.ClinicSlugs != nil {
		slugs = s.console.ClinicSlugs(ctx)
	}
	m := views.ConsoleClinicsPage{ConsolePage: s.consolePage(c, nil, "Clinics", ""), SignOutEverywhere: true}
	if acc.Operator && (s.console.ClinicRecords != nil || s.console.Checker != nil) {
		return s.operatorClinics(c, m)
	}
	for _, slug := range slugs {
		svc, ok := s.clinics.Clinic(ctx, slug)
		if !ok {
			continue // removed or disabled since
		}
		role := "staff"
		switch {
		case acc.Operator:
			role = "operator"
		case acc.RoleIn(slug) == staff.RoleAdmin:
			role = "admin"
		}
		m.Clinics = append(m.Clinics, views.ConsoleClinic{Name: svc.Clinic().Name, Slug: slug, URL: "/console/" + slug + "/today", Role: role})
	}
	slices.SortFunc(m.Clinics, func(a, b views.ConsoleClinic) int {
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
	return render(c, http.StatusOK, views.ConsoleClinicsView(m))
}

// today shows the clinic's upcoming online bookings, what is unsettled and
// what the portal is doing about it, and how coreplus has been answering.
// It is served from the portal's own records: coreplus is asked (through
// the cache) only for names, and a page is shown without them.
func (s *Server) today(c echo.Context) error {
	svc, err := s.clinicFrom(c)
	if err != nil {
		return err
	}
	cl := svc.Clinic()
	ctx := c.Request().Context()
	now := s.console.now()
	to := now.AddDate(0, 0, todayDays)
	upcoming, err := s.console.Bookings.BookingsBetween(ctx, cl.Slug, now.Add(-time.Hour), to)
	if err != nil {
		return fmt.Errorf("today: %w", err)
	}
	unsettled, err := s.console.Bookings.UnsettledBookings(ctx, cl.Slug)
	if err != nil {
		return fmt.Errorf("today: %w", err)
	}
	names := referenceNames(ctx, svc)
	m := views.TodayPage{
		ConsolePage:  s.consolePage(c, &cl, "Today", "Today"),
		Range:        "From an hour ago to " + to.In(names.zone).Format("Monday 2 January"),
		NamesMissing: names.missing,
		Health:       s.todayHealth(cl.Slug, now, names.zone),
	}
	for _, r := range upcoming {
		b := names.describe(r)
		day := r.Start.In(names.zoneOf(r)).Format("Monday 2 January")
		if n := len(m.Days); n == 0 || m.Days[n-1].Heading != day {
			m.Days = append(m.Days, views.TodayDay{Heading: day})
		}
		last := &m.Days[len(m.Days)-1]
		last.Bookings = append(last.Bookings, b)
	}
	for _, r := range unsettled {
		b := names.describe(r)
		b.Time = r.Start.In(names.zoneOf(r)).Format("Mon 2 Jan, 3:04 pm")
		b.Doing = unsettledDoing(r, names.zoneOf(r))
		m.Unsettled = append(m.Unsettled, b)
	}
	return render(c, http.StatusOK, views.TodayView(m))
}

// names are a clinic's locations, services and practitioners by id.
type names struct {
	locations     map[string]booking.Location
	services      map[string]string
	practitioners map[string]string
	// zone is the clinic's first location's, for dates not of a booking.
	zone    *time.Location
	missing bool
}

// referenceNames reads the names from the booking service's cache; what it
// cannot read is left out, and missing says so.
func referenceNames(ctx context.Context, svc todayService) names {
	n := names{locations: map[string]booking.Location{}, services: map[string]string{}, practitioners: map[string]string{}, zone: time.Local}
	if locs, err := svc.Locations(ctx); err == nil {
		for i, l := range locs {
			n.locations[l.ID] = l
			if i == 0 {
				n.zone = l.Zone
			}
		}
	} else {
		n.missing = true
	}
	if types, err := svc.Services(ctx); err == nil {
		for _, t := range types {
			n.services[t.ID] = t.Name
		}
	} else {
		n.missing = true
	}
	if ps, err := svc.AllPractitioners(ctx); err == nil {
		for _, p := range ps {
			n.practitioners[p.ID] = p.Name
		}
	} else {
		n.missing = true
	}
	return n
}

// zoneOf is the zone of a booking's location; without it, the offset the
// booking was made with, which is the location's at that time.
func (n names) zoneOf(r booking.Record) *time.Location {
	if l, ok := n.locations[r.LocationID]; ok && l.Zone != nil {
		return l.Zone
	}
	return r.Start.Location()
}

func (n names) describe(r booking.Record) views.TodayBooking {
	or := func(m map[string]string, id, gone string) string {
		if v, ok := m[id]; ok {
			return v
		}
		if n.missing {
			return id
		}
		return gone + " (" + id + ")"
	}
	loc := "a location no longer offered (" + r.LocationID + ")"
	if l, ok := n.locations[r.LocationID]; ok {
		loc = l.Name
	} else if n.missing {
		loc = r.LocationID
	}
	return views.TodayBooking{
		Reference:    r.ReferenceNumber,
		Time:         r.Start.In(n.zoneOf(r)).Format("3:04 pm"),
		Location:     loc,
		Service:      or(n.services, r.ServiceID, "a service no longer offered"),
		Practitioner: or(n.practitioners, r.PractitionerID, "a practitioner no longer offered"),
		Status:       recordWords(r),
	}
}

// recordWords is a booking's status with what the patient did to it: a
// change under way, or a move made.
func recordWords(r booking.Record) string {
	switch {
	case r.Status == booking.RecordBooked && r.Change == booking.ChangeMoving:
		return "Booked; the patient is moving it"
	case r.Status == booking.RecordBooked && r.Change == booking.ChangeCancelling:
		return "Booked; the patient is cancelling it"
	case r.Status == booking.RecordBooked && r.Sequence > 0:
		return "Booked (moved by the patient)"
	}
	return statusWords(r.Status)
}

// statusWords says a booking record's status as staff would.
func statusWords(st booking.RecordStatus) string {
	switch st {
	case booking.RecordBooked:
		return "Booked"
	case booking.RecordPending:
		return "Confirming with coreplus"
	case booking.RecordUnknown:
		return "Confirming: coreplus didn't answer"
	case booking.RecordFailed:
		return "Not booked: coreplus refused it"
	case booking.RecordCancelled:
		return "Cancelled"
	}
	return string(st)
}

// unsettledDoing says what the portal is doing about a booking whose
// outcome is not known.
func unsettledDoing(r booking.Record, zone *time.Location) string {
	switch {
	case r.Status == booking.RecordPending:
		return "It is being sent to coreplus now. If no answer comes, the portal looks for it in coreplus by itself within minutes."
	case r.Resent:
		return "The portal has already sent it a second time and will not send it again; it keeps looking for it in coreplus. If it is still listed here in an hour, look for the appointment in coreplus."
	case !r.NextLook.IsZero():
		return "The portal is looking for it in coreplus (next look at " + r.NextLook.In(zone).Format("3:04 pm") + "); if coreplus has no record of it, the portal sends it once more."
	}
	return "The portal is looking for it in coreplus; if coreplus has no record of it, the portal sends it once more."
}

// todayHealth says what this server has seen of coreplus for the clinic.
func (s *Server) todayHealth(slug string, now time.Time, zone *time.Location) views.TodayHealth {
	h := views.TodayHealth{Summary: "This server has not called coreplus for this clinic since it started."}
	if s.console.Health == nil {
		h.Summary = "This server does not keep track of how coreplus answers."
		return h
	}
	u, ok := s.console.Health.UpstreamHealth(slug)
	if !ok {
		return h
	}
	ago := func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return agoWords(now.Sub(t)) + " ago"
	}
	switch {
	case u.LastGood.IsZero() && !u.LastFailure.IsZero():
		h.Summary = "coreplus has not answered this server successfully since it started. Patients are offered a booking request form instead of times."
	case u.LastFailure.After(u.LastGood):
		h.Summary = "coreplus's last answer to this server was a failure (" + u.LastFailureKind + "). Patients see a booking request form while it does not answer."
	default:
		h.Summary = "coreplus is answering."
	}
	window := agoWords(u.Window)
	if u.Window == time.Hour {
		window = "hour"
	}
	h.Rows = []views.SummaryRow{
		{Key: "Last good answer", Value: ago(u.LastGood)},
		{Key: "Last failure", Value: ago(u.LastFailure) + kindSuffix(u.LastFailureKind)},
		{Key: "Calls in the last " + window, Value: strconv.Itoa(u.Calls) + ", of which " + strconv.Itoa(u.Failures) + " failed"},
		{Key: "Turned away by coreplus as too many (429)", Value: strconv.Itoa(u.RateLimited) + " in the last " + window},
		{Key: "Not sent while coreplus was failing", Value: strconv.Itoa(u.Refused) + " in the last " + window},
		{Key: "Waited for the request budget", Value: waitWords(u.Waits, u.LongestWait) + " in the last " + window},
	}
	h.Note = "As seen by this server since " + u.Since.In(zone).Format("2 Jan 3:04 pm MST") + "; with several servers, each sees its own calls."
	return h
}

func kindSuffix(kind string) string {
	if kind == "" {
		return ""
	}
	return " (" + kind + ")"
}

func waitWords(n int, longest time.Duration) string {
	if n == 0 {
		return "0 calls"
	}
	return strconv.Itoa(n) + " calls, the longest " + longest.Round(time.Millisecond).String()
}

// agoWords says a duration roughly, as a person would.
func agoWords(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "less than a minute"
	case d < 2*time.Minute:
		return "1 minute"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + " minutes"
	case d < 2*time.Hour:
		return "1 hour"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + " hours"
	}
	return strconv.Itoa(int(d/(24*time.Hour))) + " days"
}
