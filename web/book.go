package web

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/internal/funnel"
	"github.com/clinic-booking/portal/views"
)

// flowService is what the choosing steps ask of a clinic's booking service.
type flowService interface {
	Clinic() booking.Clinic
	Now() time.Time
	Locations(ctx context.Context) ([]booking.Location, error)
	Services(ctx context.Context) ([]booking.ServiceType, error)
	Practitioners(ctx context.Context, loc booking.Location, svc booking.ServiceType) ([]booking.Practitioner, error)
	Resolve(ctx context.Context, ch booking.Choice) (booking.Selection, error)
	ShowWeek(ctx context.Context, sel booking.Selection) (booking.Week, error)
}

// flow is one request's place in the booking flow.
type flow struct {
	svc      ClinicService
	clinic   booking.Clinic
	sel      booking.Selection
	links    flowLinks
	multiLoc bool
	// zone is the clinic's, its first location's: the funnel's days.
	zone *time.Location
	// manage is set, to "manage/<token>", when the time step picks a new
	// time for a booking (manage.go): its links lead to the move's review.
	manage string
}

// timesPage is the page that shows the time step: the booking flow's, or
// a booking's choose-another-time page.
func (f *flow) timesPage() string {
	if f.manage != "" {
		return f.manage + "/reschedule"
	}
	return "book"
}

// takenURL is the time step on the day of the slot chosen, saying the time
// was just taken.
func (f *flow) takenURL() string {
	ch := f.sel.Choice()
	ch.Week = f.sel.Slot.Start.In(f.sel.Location.Zone).Format("2006-01-02")
	ch.Slot, ch.With, ch.FromWeek = "", "", false
	u := f.links.to(f.timesPage(), ch)
	if len(f.links.params(ch, nil)) == 0 {
		return u + "?" + qTaken + "=1"
	}
	return u + "&" + qTaken + "=1"
}

// Steps of the flow, in order; the location step is skipped when the clinic
// has one location.
const (
	stepLocation     = "location"
	stepService      = "service"
	stepPractitioner = "practitioner"
	stepTime         = "time"
	stepDetails      = "details"
	stepReview       = "review"
)

// startFlow finds the clinic and checks the choices in get (the query, or a
// form's fields).
func (s *Server) startFlow(c echo.Context, get func(string) string) (*flow, error) {
	f, err := s.openFlow(c, get)
	if err != nil {
		return nil, err
	}
	if err := f.resolve(c.Request().Context(), get); err != nil {
		return nil, err
	}
	return f, nil
}

// openFlow finds the clinic and reads the links, with the verified draft,
// from get; it asks coreplus nothing, so it works while coreplus is down.
func (s *Server) openFlow(c echo.Context, get func(string) string) (*flow, error) {
	svc, err := s.clinicFrom(c)
	if err != nil {
		return nil, err
	}
	return &flow{svc: svc, clinic: svc.Clinic(), links: s.linksFor(get, svc.Clinic())}, nil
}

// resolve checks the choices in get against the clinic's reference data.
func (f *flow) resolve(ctx context.Context, get func(string) string) error {
	locs, err := f.svc.Locations(ctx)
	if err != nil {
		return err
	}
	f.multiLoc = len(locs) > 1
	if len(locs) > 0 {
		f.zone = locs[0].Zone
	}
	f.sel, err = f.svc.Resolve(ctx, choiceFrom(get))
	return err
}

func (f *flow) progress(step, back string) views.Progress {
	if f.manage != "" {
		// Choosing a new time is one step, back to the booking.
		return views.Progress{BackURL: f.links.withCarried("/" + f.clinic.Slug + "/" + f.manage)}
	}
	order := []string{stepLocation, stepService, stepPractitioner, stepTime, stepDetails, stepReview}
	if !f.multiLoc {
		order = order[1:]
	}
	p := views.Progress{Of: len(order), BackURL: back}
	for i, st := range order {
		if st == step {
			p.Step = i + 1
		}
	}
	return p
}

// Choices for going back a step: each drops the choice it revisits and
// anything that depends on it.
func (f *flow) without(step string) booking.Choice {
	ch := f.sel.Choice()
	ch.Slot, ch.With = "", ""
	switch step {
	case stepLocation:
		ch.LocationID, ch.Week = "", ""
		if ch.PractitionerID != booking.AnyPractitioner {
			ch.PractitionerID = "" // they may not work at the next location
		}
	case stepService:
		ch.ServiceID, ch.Week = "", ""
		if ch.PractitionerID != booking.AnyPractitioner {
			ch.PractitionerID = "" // they may not offer the next service
		}
	case stepPractitioner:
		ch.PractitionerID, ch.Week = "", ""
	case stepTime:
		if f.sel.Slot != nil {
			ch.Week = f.sel.Slot.Start.Format("2006-01-02")
		}
	}
	return ch
}

// backFrom is the back link of a step: the step before it, or none.
func (f *flow) backFrom(step string) string {
	switch step {
	case stepService:
		if f.multiLoc {
			return f.links.book(f.without(stepLocation))
		}
	case stepPractitioner:
		return f.links.book(f.without(stepService))
	case stepTime:
		return f.links.book(f.without(stepPractitioner))
	case stepDetails:
		return f.links.book(f.without(stepTime))
	case stepReview:
		return f.links.to("book/details", f.sel.Choice())
	}
	return ""
}

// book works out the next step from the choices in the query and shows it:
// location, then service, then practitioner, then time. With everything
// chosen it moves on to the details form (or, with a draft, the review).
func (s *Server) book(c echo.Context) error {
	f, err := s.startFlow(c, c.QueryParam)
	if err != nil {
		return err
	}
	sel := f.sel
	switch {
	case sel.Location == nil:
		return s.locationStep(c, f)
	case sel.Service == nil:
		return s.serviceStep(c, f)
	case !sel.PractitionerChosen():
		return s.practitionerStep(c, f)
	case sel.Slot == nil:
		return s.timeStep(c, f)
	}
	return c.Redirect(http.StatusSeeOther, f.slotTarget(sel.Choice()))
}

// slotTarget is where picking a time leads: the details form, or straight
// to the review when the patient's details are already saved in a draft.
func (f *flow) slotTarget(ch booking.Choice) string {
	if f.manage != "" {
		return f.links.to(f.manage+"/reschedule/review", ch)
	}
	if f.links.draft != "" {
		return f.links.to("book/review", ch)
	}
	return f.links.to("book/details", ch)
}

func (s *Server) locationStep(c echo.Context, f *flow) error {
	locs, err := f.svc.Locations(c.Request().Context())
	if err != nil {
		return err
	}
	m := views.LocationsPage{Page: s.page(c, &f.clinic, "Choose a location"), Progress: f.progress(stepLocation, "")}
	stepViewed(&m.Page, stepLocation, m.Progress)
	s.reachedStep(c, f, funnel.Location)
	now := f.svc.Now()
	for _, l := range locs {
		ch := f.sel.Choice()
		ch.LocationID, ch.Slot, ch.With, ch.Week = l.ID, "", "", ""
		m.Locations = append(m.Locations, views.LocationChoice{
			Name: l.Name, Address: l.Address, Directions: l.Directions,
			TimeZone: "Times shown in " + zoneLabel(now, l.Zone), Href: f.links.book(ch),
		})
	}
	return render(c, http.StatusOK, views.LocationsView(m))
}

func (s *Server) serviceStep(c echo.Context, f *flow) error {
	svcs, err := f.svc.Services(c.Request().Context())
	if err != nil {
		return err
	}
	m := views.ServicesPage{Page: s.page(c, &f.clinic, "Choose a service"), Progress: f.progress(stepService, f.backFrom(stepService))}
	stepViewed(&m.Page, stepService, m.Progress)
	s.reachedStep(c, f, funnel.Service)
	if f.multiLoc {
		m.LocationName = f.sel.Location.Name
	}
	for _, t := range svcs {
		ch := f.sel.Choice()
		ch.ServiceID, ch.Slot, ch.With, ch.Week = t.ID, "", "", ""
		m.Services = append(m.Services, views.LinkChoice{Label: t.Name, Aside: shortMinutes(t.Minutes), Meta: t.Description, Href: f.links.book(ch)})
	}
	return render(c, http.StatusOK, views.ServicesView(m))
}

func (s *Server) practitionerStep(c echo.Context, f *flow) error {
	pracs, err := f.svc.Practitioners(c.Request().Context(), *f.sel.Location, *f.sel.Service)
	if err != nil {
		return err
	}
	m := views.PractitionersPage{
		Page:         s.page(c, &f.clinic, "Choose a practitioner"),
		Progress:     f.progress(stepPractitioner, f.backFrom(stepPractitioner)),
		ServiceName:  f.sel.Service.Name + " (" + minutesLabel(f.sel.Service.Minutes) + ")",
		LocationName: f.sel.Location.Name,
	}
	stepViewed(&m.Page, stepPractitioner, m.Progress)
	s.reachedStep(c, f, funnel.Practitioner)
	pick := func(id string) string {
		ch := f.sel.Choice()
		ch.PractitionerID, ch.Slot, ch.With, ch.Week = id, "", "", ""
		return f.links.book(ch)
	}
	m.Any = views.LinkChoice{Label: "First available practitioner", Meta: "See the earliest times with anyone who offers this service", Href: pick(booking.AnyPractitioner)}
	for _, p := range pracs {
		m.Practitioners = append(m.Practitioners, views.LinkChoice{Label: p.Name, Meta: p.Description, Href: pick(p.ID)})
	}
	return render(c, http.StatusOK, views.PractitionersView(m))
}

func (s *Server) timeStep(c echo.Context, f *flow) error {
	sel := f.sel
	week, err := f.svc.ShowWeek(c.Request().Context(), sel)
	if err != nil {
		return err
	}
	// A booking's choose-another-time page is not the booking funnel's,
	// and its address holds the booking's manage token: neither counted
	// nor kept.
	keep := f.links.draft == "" && f.manage == ""
	if f.manage == "" {
		s.reachedStep(c, f, funnel.Time)
	}
	if keep {
		if kept := s.keptPage(c, week.Serial); kept != nil {
			return kept.send(c)
		}
	}
	zone := sel.Location.Zone
	title := "Choose a time"
	if f.manage != "" {
		title = "Choose a new time"
	}
	m := views.TimesPage{
		Page:       s.page(c, &f.clinic, title),
		Heading:    title,
		Progress:   f.progress(stepTime, f.backFrom(stepTime)),
		Summary:    bookingSummary(sel),
		Empty:      week.Empty,
		PastWindow: week.PastWindow,
		WindowDays: f.clinic.BookingWindowDays,
	}
	stepViewed(&m.Page, stepTime, m.Progress)
	if m.Host != nil {
		m.Host.Context = &views.HostEvent{LocationID: sel.Location.ID, ServiceID: sel.Service.ID}
	}
	dayLink := func(d time.Time, next bool) string {
		ch := sel.Choice()
		ch.Week, ch.FromWeek = d.Format(time.DateOnly), next
		return f.links.to(f.timesPage(), ch)
	}
	switch {
	case f.manage != "" && !sel.Any:
		ch := f.without(stepPractitioner)
		ch.PractitionerID = booking.AnyPractitioner
		m.OthersLabel, m.OthersURL = "See times with any practitioner", f.links.to(f.timesPage(), ch)
	case f.manage != "":
		// Any practitioner already; the booking's service and place stay.
	case sel.Any:
		m.OthersLabel, m.OthersURL = "Choose a practitioner instead", f.links.book(f.without(stepPractitioner))
	default:
		ch := f.without(stepPractitioner)
		ch.PractitionerID = booking.AnyPractitioner
		m.OthersLabel, m.OthersURL = "See times with any practitioner", f.links.book(ch)
	}
	if week.PastWindow {
		m.LastWeekURL = dayLink(week.LastWeek, false)
	}
	if week.Empty || week.PastWindow {
		return render(c, http.StatusOK, views.TimesView(m))
	}
	noon := func(d time.Time) time.Time { return d.Add(12 * time.Hour) }
	m.ZoneLabel = zoneLabel(noon(week.Start), zone)
	lastDay := week.Days[len(week.Days)-1].Date
	m.WeekLabel = rangeLabel(week.Start, lastDay)
	switch {
	case c.QueryParam(qTaken) == "1":
		m.Notice = "The time you chose has just been taken. Please choose another."
	case week.Moved:
		m.Notice = "There are no free times later in the booking window, so these are the earliest free times."
	case !sel.Week.IsZero() && !sel.FromWeek && !week.Chosen.IsZero() && !week.Chosen.Equal(sel.Week) && !sel.Week.Equal(week.Start) && !sel.Week.Before(week.Start):
		// A date asked for (not a week's first day, which moving between
		// weeks asks for) without free times.
		m.Notice = "There are no free times on " + dayLabel(sel.Week) + "."
	}
	if !week.Earlier.IsZero() {
		m.EarlierURL = dayLink(week.Earlier, false)
	}
	if !week.Later.IsZero() {
		m.LaterURL = dayLink(week.Later, false)
	} else {
		m.WindowEnds = true
	}
	if !week.NextFrom.IsZero() {
		m.NextAvailableURL = dayLink(week.NextFrom, true)
	}
	if now := f.svc.Now(); !week.AsOf.IsZero() && now.Sub(week.AsOf) > booking.StaleAfter {
		m.StaleNote = "These times are from " + clockLabel(week.AsOf.In(f.sel.Location.Zone)) +
			": the clinic's booking system is slow to answer, so some may have gone. Any time you pick is checked before it is booked."
	}
	if now := f.svc.Now(); f.clinic.MinNotice > 0 && !week.Start.After(now) {
		m.NoticeNote = "Online bookings need at least " + durationLabel(f.clinic.MinNotice) + " notice."
	}
	names := shortNames(week.Days)
	for _, d := range week.Days {
		date := d.Date.Format(time.DateOnly)
		sd := views.StripDay{Weekday: d.Date.Format("Mon"), Day: d.Date.Format("2"), Rest: d.Date.Format(" January"), Date: date, Chosen: d.Date.Equal(week.Chosen)}
		if len(d.Slots) > 0 {
			sd.Href = dayLink(d.Date, false)
		}
		m.Strip = append(m.Strip, sd)
		if len(d.Slots) == 0 {
			continue
		}
		day := views.TimeDay{ID: "h-" + date, Heading: dayLabel(d.Date), Date: date, Hidden: !sd.Chosen}
		if l := zoneLabel(noon(d.Date), zone); l != m.ZoneLabel {
			day.ZoneLabel = l
		}
		for _, sl := range d.Slots {
			ch := sel.Choice()
			ch.Week = date
			ch.Slot, ch.With = sl.Start.Format(time.RFC3339), sl.Practitioner.ID
			ts := slotChoice(sl, zone, f.slotTarget(ch))
			if sel.Any {
				ts.With = "with " + names[sl.Practitioner.ID]
			}
			part := partOfDay(sl.Start.In(zone))
			if n := len(day.Groups); n == 0 || day.Groups[n-1].Name != part {
				day.Groups = append(day.Groups, views.TimeGroup{ID: "h-" + date + "-" + strings.ToLower(part), Name: part})
			}
			g := &day.Groups[len(day.Groups)-1]
			g.Slots = append(g.Slots, ts)
		}
		m.Days = append(m.Days, day)
	}
	if !keep {
		return render(c, http.StatusOK, views.TimesView(m))
	}
	return s.renderKept(c, week.Serial, views.TimesView(m))
}

// partOfDay groups a day's times as patients think of them. The
// boundaries are noon and 5 pm, on the clock of the location's zone
// (t is in it).
func partOfDay(t time.Time) string {
	switch {
	case t.Hour() < 12:
		return "Morning"
	case t.Hour() < 17:
		return "Afternoon"
	}
	return "Evening"
}

// shortNames are the practitioners of days as "first available" shows them
// beside a time: "Priya N.", or the full name where two would read alike.
func shortNames(days []booking.Day) map[string]string {
	full := map[string]string{}
	for _, d := range days {
		for _, sl := range d.Slots {
			full[sl.Practitioner.ID] = sl.Practitioner.Name
		}
	}
	short, seen := map[string]string{}, map[string]int{}
	for id, name := range full {
		short[id] = shortName(name)
		seen[short[id]]++
	}
	for id, name := range full {
		if seen[short[id]] > 1 {
			short[id] = name
		}
	}
	return short
}

// shortName is a first name and the initial of the last: "Priya N.".
func shortName(name string) string {
	f := strings.Fields(name)
	if len(f) < 2 {
		return name
	}
	r := []rune(f[len(f)-1])
	return strings.Join(f[:len(f)-1], " ") + " " + string(r[0]) + "."
}

// bookingSummary says what is being booked, in a sentence.
func bookingSummary(sel booking.Selection) string {
	who := "the first available practitioner"
	if sel.Practitioner != nil {
		who = sel.Practitioner.Name
	}
	return sel.Service.Name + " (" + minutesLabel(sel.Service.Minutes) + ") with " + who + " at " + sel.Location.Name + "."
}
