package booking

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/clinic-booking/portal/internal/coreplus"
)

// AnyPractitioner is the practitioner choice "first available practitioner".
const AnyPractitioner = "any"

// Location is a place the clinic sees patients, with its zone loaded.
type Location struct {
	ID         string
	Name       string
	Address    string
	Directions string
	Zone       *time.Location
	TimezoneID string
}

// ServiceType is an appointment type offered online.
type ServiceType struct {
	ID      string
	Name    string
	Minutes int
	// Description is the clinic's line about the service, if any.
	Description string
}

// Length is how long the service takes.
func (s ServiceType) Length() time.Duration { return time.Duration(s.Minutes) * time.Minute }

// Practitioner is a bookable person.
type Practitioner struct {
	ID          string
	Name        string
	Description string
}

// Slot is one bookable time: a service's length starting at Start.
type Slot struct {
	Start        time.Time // in the location's zone
	End          time.Time
	Practitioner Practitioner
	LocationID   string
}

// Choice is what the patient has picked so far, as it travels in URLs.
// Empty fields are not chosen yet.
type Choice struct {
	LocationID     string
	ServiceID      string
	PractitionerID string // a practitioner id or AnyPractitioner
	Week           string // first day shown on the time step, "2006-01-02"
	// FromWeek opens the time step on the first free day on or after Week.
	FromWeek bool
	Slot     string // the slot's start, RFC 3339
	With     string // whose slot was picked
}

// Selection is a Choice checked against the clinic's reference data.
type Selection struct {
	Location     *Location
	Service      *ServiceType
	Practitioner *Practitioner // nil while unchosen or when Any
	Any          bool
	Week         time.Time // midnight in the location's zone; zero if not given
	FromWeek     bool      // open on the first free day on or after Week
	Slot         *Slot
}

// PractitionerChosen reports whether the practitioner step is done.
func (s Selection) PractitionerChosen() bool { return s.Any || s.Practitioner != nil }

// Choice turns the selection back into URL choices.
func (s Selection) Choice() Choice {
	var c Choice
	if s.Location != nil {
		c.LocationID = s.Location.ID
	}
	if s.Service != nil {
		c.ServiceID = s.Service.ID
	}
	if s.Any {
		c.PractitionerID = AnyPractitioner
	} else if s.Practitioner != nil {
		c.PractitionerID = s.Practitioner.ID
	}
	if !s.Week.IsZero() {
		c.Week = s.Week.Format(dateLayout)
	}
	if s.Slot != nil {
		c.Slot = s.Slot.Start.Format(time.RFC3339)
		c.With = s.Slot.Practitioner.ID
	}
	return c
}

const dateLayout = "2006-01-02"

func invalid(msg string) error { return &Error{Code: CodeInvalid, Message: msg} }

// Locations lists the clinic's locations, from cache when fresh.
func (s *Service) Locations(ctx context.Context) ([]Location, error) {
	v, err := s.cache.get(ctx, "locations", func(ctx context.Context) (any, error) {
		locs, err := s.api.ListLocations(ctx)
		if err != nil {
			return nil, err
		}
		out := make([]Location, 0, len(locs))
		for _, l := range locs {
			if !s.clinic.offersLocation(l.ID) {
				continue
			}
			zone, err := time.LoadLocation(l.TimeZoneName)
			if err != nil || l.TimeZoneName == "" {
				// A location whose zone we cannot read cannot show honest times.
				continue
			}
			addr := s.clinic.Addresses[l.ID]
			if addr == "" {
				addr = l.Address
			}
			out = append(out, Location{
				ID: l.ID, Name: l.Name, Address: addr, Directions: s.clinic.LocationDirections[l.ID],
				Zone: zone, TimezoneID: l.TimezoneID,
			})
		}
		sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
		return out, nil
	})
	if err != nil {
		return nil, upstream(fmt.Errorf("list locations: %w", err))
	}
	return v.([]Location), nil
}

// Services lists the appointment types offered online.
func (s *Service) Services(ctx context.Context) ([]ServiceType, error) {
	v, err := s.cache.get(ctx, "services", func(ctx context.Context) (any, error) {
		types, err := s.api.ListAppointmentTypes(ctx)
		if err != nil {
			return nil, err
		}
		var out []ServiceType
		for _, t := range types {
			if t.DurationMinutes > 0 && s.clinic.offersService(t.ID) {
				out = append(out, ServiceType{
					ID: t.ID, Name: t.Description, Minutes: t.DurationMinutes,
					Description: s.clinic.ServiceDescriptions[t.ID],
				})
			}
		}
		return out, nil
	})
	if err != nil {
		return nil, upstream(fmt.Errorf("list appointment types: %w", err))
	}
	return v.([]ServiceType), nil
}

// allPractitioners lists every practitioner offered online, with the
// clinic's descriptions.
func (s *Service) allPractitioners(ctx context.Context) ([]Practitioner, error) {
	v, err := s.cache.get(ctx, "practitioners", func(ctx context.Context) (any, error) {
		ps, err := s.api.ListPractitioners(ctx)
		if err != nil {
			return nil, err
		}
		out := make([]Practitioner, 0, len(ps))
		for _, p := range ps {
			if !s.clinic.offersPractitioner(p.ID) {
				continue
			}
			name := strings.TrimSpace(p.FirstName + " " + p.LastName)
			out = append(out, Practitioner{ID: p.ID, Name: name, Description: s.clinic.Practitioners[p.ID].Description})
		}
		return out, nil
	})
	if err != nil {
		return nil, upstream(fmt.Errorf("list practitioners: %w", err))
	}
	return v.([]Practitioner), nil
}

// Practitioners lists who offers the service at the location: the clinic's
// configuration says who offers what, and availability says who works where.
func (s *Service) Practitioners(ctx context.Context, loc Location, svc ServiceType) ([]Practitioner, error) {
	all, err := s.allPractitioners(ctx)
	if err != nil {
		return nil, err
	}
	working, err := s.workingAt(ctx, loc)
	if err != nil {
		return nil, err
	}
	var out []Practitioner
	for _, p := range all {
		if working[p.ID] && s.clinic.practitionerOffers(p.ID, svc.ID) {
			out = append(out, p)
		}
	}
	return out, nil
}

// workingAt finds who has free time at a location in the next four weeks
// (rosters repeat weekly; a longer look costs more requests than it tells).
// coreplus has no "practitioners by location" call, so free time is the
// evidence: the same spans of whole free blocks the time step cuts, so it
// costs no request of its own. It is cached like other reference data.
func (s *Service) workingAt(ctx context.Context, loc Location) (map[string]bool, error) {
	v, err := s.cache.get(ctx, "working:"+loc.ID, func(ctx context.Context) (any, error) {
		today := dayOf(s.now(), loc.Zone)
		last := addDays(today, workingLookDays-1)
		if w := dayOf(s.now().Add(s.clinic.bookingWindow()), loc.Zone); w.Before(last) {
			last = w
		}
		var slots []coreplus.Slot
		for ss := spanStart(today); !ss.After(last); ss = addDays(ss, spanDays) {
			blocks, _, err := s.span(ctx, &loc, ss)
			if err != nil {
				return nil, err
			}
			for _, b := range blocks {
				if d := dayOf(b.Start, loc.Zone); !d.Before(today) && !d.After(last) {
					slots = append(slots, b)
				}
			}
		}
		set := map[string]bool{}
		for _, sl := range slots {
			if sl.LocationID == "" || sl.LocationID == loc.ID {
				set[sl.PractitionerID] = true
			}
		}
		return set, nil
	})
	if err != nil {
		return nil, upstream(fmt.Errorf("find who works at %s: %w", loc.ID, err))
	}
	return v.(map[string]bool), nil
}

// workingLookDays is how far ahead workingAt looks; at most 31, the longest
// range one availability request may cover.
const workingLookDays = 28

// Resolve checks each choice in c against the clinic's reference data. An
// id that does not exist, or is not offered online, is a CodeInvalid error
// whose message says which choice is wrong. With one location, it is chosen
// for the patient.
func (s *Service) Resolve(ctx context.Context, c Choice) (Selection, error) {
	var sel Selection
	locs, err := s.Locations(ctx)
	if err != nil {
		return sel, err
	}
	switch {
	case c.LocationID != "":
		for i := range locs {
			if locs[i].ID == c.LocationID {
				sel.Location = &locs[i]
			}
		}
		if sel.Location == nil {
			return sel, invalid("The location in this link isn't one of the clinic's locations. Start again to choose a location.")
		}
	case len(locs) == 1:
		sel.Location = &locs[0]
	}

	if c.ServiceID != "" {
		svcs, err := s.Services(ctx)
		if err != nil {
			return sel, err
		}
		for i := range svcs {
			if svcs[i].ID == c.ServiceID {
				sel.Service = &svcs[i]
			}
		}
		if sel.Service == nil {
			return sel, invalid("The service in this link can't be booked online. Start again to choose a service.")
		}
	}

	if c.PractitionerID == AnyPractitioner {
		sel.Any = true
	} else if c.PractitionerID != "" {
		p, err := s.practitioner(ctx, c.PractitionerID)
		if err != nil {
			return sel, err
		}
		if sel.Service != nil && !s.clinic.practitionerOffers(p.ID, sel.Service.ID) {
			return sel, invalid(p.Name + " doesn't offer that service online. Choose another practitioner or service.")
		}
		sel.Practitioner = &p
	}

	if c.Week != "" && sel.Location != nil {
		d, err := time.ParseInLocation(dateLayout, c.Week, sel.Location.Zone)
		if err != nil {
			return sel, invalid("The date in this link isn't a real date. Choose a time again.")
		}
		sel.Week, sel.FromWeek = d, c.FromWeek
	}

	if c.Slot != "" && sel.Location != nil && sel.Service != nil && sel.PractitionerChosen() {
		start, err := time.Parse(time.RFC3339, c.Slot)
		if err != nil {
			return sel, invalid("The time in this link isn't a time we can read. Choose a time again.")
		}
		with := c.With
		if with == "" && sel.Practitioner != nil {
			with = sel.Practitioner.ID
		}
		if sel.Practitioner != nil && with != sel.Practitioner.ID {
			return sel, invalid("The time in this link is with a different practitioner. Choose a time again.")
		}
		p, err := s.practitioner(ctx, with)
		if err != nil {
			return sel, err
		}
		if !s.clinic.practitionerOffers(p.ID, sel.Service.ID) {
			return sel, invalid(p.Name + " doesn't offer that service online. Choose a time again.")
		}
		start = start.In(sel.Location.Zone)
		sel.Slot = &Slot{Start: start, End: start.Add(sel.Service.Length()), Practitioner: p, LocationID: sel.Location.ID}
	}
	return sel, nil
}

func (s *Service) practitioner(ctx context.Context, id string) (Practitioner, error) {
	all, err := s.allPractitioners(ctx)
	if err != nil {
		return Practitioner{}, err
	}
	for _, p := range all {
		if p.ID == id {
			return p, nil
		}
	}
	return Practitioner{}, invalid("The practitioner in this link isn't one of the clinic's practitioners. Start again to choose who you'd like to see.")
}

// Bookable reports whether a start time is inside the clinic's notice and
// window rules at now.
func (c Clinic) Bookable(start, now time.Time) bool {
	return !start.Before(now.Add(c.MinNotice)) && !start.After(now.Add(c.bookingWindow()))
}

// dayOf is midnight of t's calendar date in zone.
func dayOf(t time.Time, zone *time.Location) time.Time {
	t = t.In(zone)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, zone)
}

// addDays moves a midnight by whole calendar days, right across DST changes.
func addDays(d time.Time, n int) time.Time {
	return time.Date(d.Year(), d.Month(), d.Day()+n, 0, 0, 0, 0, d.Location())
}

// AllPractitioners lists every practitioner offered online, from the cache
// when fresh: the staff console names bookings' practitioners with it.
func (s *Service) AllPractitioners(ctx context.Context) ([]Practitioner, error) {
	return s.allPractitioners(ctx)
}
