package coreplus_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/clinic-booking/portal/internal/coreplus"
	"github.com/clinic-booking/portal/internal/coreplus/sandbox"
)

// These tests run the client over real HTTP against the stateful sandbox,
// which checks every token the way coreplus does.

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	z, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return z
}

type fixture struct {
	srv   *sandbox.Server
	api   *coreplus.API
	clock *clock
	base  string
}

// newFixture serves a sandbox whose clock and the client's are the same fake
// clock, a Monday morning in Sydney before any roster opens. Unless the test
// asks for one, the sandbox's rate limit is off so the tests stay fast.
func newFixture(t *testing.T, cfg sandbox.Config, tweak ...func(*coreplus.Config)) *fixture {
	t.Helper()
	return newFixtureBehind(t, cfg, nil, tweak...)
}

// newFixtureBehind is newFixture with the sandbox served behind front, which
// may answer a request itself; front is given the fixture's clock.
func newFixtureBehind(t *testing.T, cfg sandbox.Config, front func(*clock, http.Handler) http.Handler, tweak ...func(*coreplus.Config)) *fixture {
	t.Helper()
	c := &clock{t: time.Date(2025, 3, 3, 6, 0, 0, 0, zone(t, "Australia/Sydney"))}
	cfg.Now = c.Now
	if cfg.RateLimit == 0 {
		cfg.RateLimit = -1
	}
	srv := sandbox.New(cfg)
	var h http.Handler = srv
	if front != nil {
		h = front(c, srv)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	ccfg := coreplus.Config{
		BaseURL:        ts.URL + "/API/Core/v2.1/",
		ConsumerID:     sandbox.DemoConsumerID,
		ConsumerSecret: sandbox.DemoConsumerSecret,
		AccessToken:    sandbox.DemoAccessToken,
		Issuer:         "https://book.example-clinic.com.au",
		Timeout:        5 * time.Second,
		Now:            c.Now,
		// The sandbox's clock stands still, so the client's own real-time
		// limit would only slow these tests; it has its own test.
		Limiter: rate.NewLimiter(rate.Inf, 0),
	}
	for _, f := range tweak {
		f(&ccfg)
	}
	api, err := coreplus.New(ccfg)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{srv: srv, api: api, clock: c, base: ccfg.BaseURL}
}

func (f *fixture) location(t *testing.T, id string) coreplus.Location {
	t.Helper()
	locs, err := f.api.ListLocations(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range locs {
		if l.ID == id {
			return l
		}
	}
	t.Fatalf("location %s not listed", id)
	return coreplus.Location{}
}

func TestSandboxReferenceData(t *testing.T) {
	f := newFixture(t, sandbox.Config{})
	ctx := context.Background()

	locs, err := f.api.ListLocations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := f.srv.Locations()
	if len(locs) != len(want) {
		t.Fatalf("got %d locations, want %d", len(locs), len(want))
	}
	byID := map[string]sandbox.Location{}
	for _, l := range want {
		byID[l.ID] = l
	}
	for _, l := range locs {
		w, ok := byID[l.ID]
		if !ok || l.Name != w.Name || l.TimeZoneName != w.TimeZoneName || l.TimezoneID != w.TimezoneID {
			t.Errorf("location %+v, want %+v", l, w)
		}
		if _, err := time.LoadLocation(l.TimeZoneName); err != nil {
			t.Errorf("location %s zone %q does not load: %v", l.Name, l.TimeZoneName, err)
		}
	}

	ps, err := f.api.ListPractitioners(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantPs := map[string]sandbox.Practitioner{}
	for _, p := range f.srv.Practitioners() {
		wantPs[p.ID] = p
	}
	if len(ps) != len(wantPs) {
		t.Fatalf("got %d practitioners, want %d", len(ps), len(wantPs))
	}
	for _, p := range ps {
		if w := wantPs[p.ID]; p.FirstName != w.FirstName || p.LastName != w.LastName || p.FirstName == "" {
			t.Errorf("practitioner %+v, want %+v", p, w)
		}
	}

	types, err := f.api.ListAppointmentTypes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantTypes := map[string]sandbox.AppointmentType{}
	for _, at := range f.srv.AppointmentTypes() {
		wantTypes[at.ID] = at
	}
	if len(types) != len(wantTypes) {
		t.Fatalf("got %d appointment types, want %d", len(types), len(wantTypes))
	}
	for _, at := range types {
		w := wantTypes[at.ID]
		if at.DurationMinutes != w.DurationMinutes || at.DurationMinutes == 0 || at.Description != w.Description {
			t.Errorf("type %+v, want %+v (durationMinutes comes as a string)", at, w)
		}
	}
}

func TestSandboxAvailability(t *testing.T) {
	f := newFixture(t, sandbox.Config{})
	ctx := context.Background()
	sydney := f.location(t, sandbox.LocationSydneyID)
	loc := zone(t, sydney.TimeZoneName)

	// Across the end of daylight saving (6 April 2025) and long enough to need several pages.
	before := f.srv.Stats().Requests
	slots, err := f.api.FindAvailability(ctx, coreplus.SlotQuery{
		StartDate: "2025-03-31", EndDate: "2025-04-13", TimezoneID: sydney.TimezoneID,
		LocationIDs: []string{sydney.ID}, AppointmentTypeID: sandbox.AppointmentTypeStandardID,
	})
	if err != nil {
		t.Fatal(err)
	}
	requests := f.srv.Stats().Requests - before
	if len(slots) <= 100 {
		t.Fatalf("got %d slots; the test needs more than one page", len(slots))
	}
	if wantReq := (len(slots) + 99) / 100; requests != wantReq {
		t.Errorf("%d slots took %d requests, want %d (one per page of 100)", len(slots), requests, wantReq)
	}
	seen := map[string]bool{}
	offsets := map[int]bool{}
	for _, s := range slots {
		key := s.PractitionerID + s.Start.String()
		if seen[key] {
			t.Errorf("slot %v for %s listed twice (pages overlap)", s.Start, s.PractitionerID)
		}
		seen[key] = true
		_, off := s.Start.Zone()
		_, want := s.Start.In(loc).Zone()
		if off != want {
			t.Errorf("slot %v has offset %d, want Sydney's %d", s.Start, off, want)
		}
		offsets[off] = true
		if s.End.Sub(s.Start) != 30*time.Minute {
			t.Errorf("slot %v..%v is not 30 minutes", s.Start, s.End)
		}
		if s.LocationID != sydney.ID || s.PractitionerID == "" {
			t.Errorf("slot %+v", s)
		}
	}
	if !offsets[11*3600] || !offsets[10*3600] {
		t.Errorf("offsets seen %v, want both +11:00 and +10:00 across the DST change", offsets)
	}

	one, err := f.api.FindAvailability(ctx, coreplus.SlotQuery{
		StartDate: "2025-03-03", EndDate: "2025-03-09", TimezoneID: sydney.TimezoneID,
		PractitionerIDs: []string{sandbox.PractitionerPriyaID}, AppointmentTypeID: sandbox.AppointmentTypeStandardID,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(one) == 0 {
		t.Fatal("Priya has no free time in the first week")
	}
	for _, s := range one {
		if s.PractitionerID != sandbox.PractitionerPriyaID {
			t.Errorf("slot for %s in a query for Priya", s.PractitionerID)
		}
	}

	two, err := f.api.FindAvailability(ctx, coreplus.SlotQuery{
		StartDate: "2025-03-03", EndDate: "2025-03-09", TimezoneID: sydney.TimezoneID,
		PractitionerIDs: []string{sandbox.PractitionerPriyaID, sandbox.PractitionerTomID}, AppointmentTypeID: sandbox.AppointmentTypeStandardID,
	})
	if err != nil {
		t.Fatal(err)
	}
	who := map[string]bool{}
	for _, s := range two {
		who[s.PractitionerID] = true
	}
	if len(who) != 2 || !who[sandbox.PractitionerPriyaID] || !who[sandbox.PractitionerTomID] {
		t.Errorf("repeated practitionerId gave slots for %v", who)
	}
}

func TestSandboxClients(t *testing.T) {
	f := newFixture(t, sandbox.Config{})
	ctx := context.Background()

	smiths, err := f.api.SearchClients(ctx, coreplus.ClientSearch{Name: "smith"})
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{}
	for _, c := range smiths {
		ids = append(ids, c.ID)
		if c.Email != "" || c.Mobile != "" {
			t.Errorf("list item %s has contact details; the sandbox's list leaves them out", c.ID)
		}
	}
	sort.Strings(ids)
	want := []string{sandbox.ClientMichaelSmithID, sandbox.ClientOliviaSmithID}
	sort.Strings(want)
	if strings.Join(ids, ",") != strings.Join(want, ",") {
		t.Errorf("search smith = %v, want %v", ids, want)
	}

	var joanna sandbox.Client
	for _, c := range f.srv.Clients() {
		if c.ID == sandbox.ClientJoannaVargaID {
			joanna = c
		}
	}
	dob, err := coreplus.ParseDate(joanna.DateOfBirth)
	if err != nil {
		t.Fatal(err)
	}
	found, err := f.api.SearchClients(ctx, coreplus.ClientSearch{Name: joanna.LastName, DateOfBirth: &dob})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 || found[0].ID != joanna.ID || found[0].DateOfBirth == nil || *found[0].DateOfBirth != dob {
		t.Fatalf("search by surname and date of birth = %+v", found)
	}

	got, err := f.api.GetClient(ctx, joanna.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Email != joanna.Email || got.Mobile != joanna.Mobile || got.Email == "" || got.Mobile == "" || got.FirstName != joanna.FirstName {
		t.Errorf("GetClient = %+v, want email %q mobile %q", got, joanna.Email, joanna.Mobile)
	}

	newDOB := coreplus.Date{Year: 1990, Month: time.July, Day: 14}
	id, err := f.api.CreateClient(ctx, coreplus.NewClient{FirstName: "Ngaio", LastName: "Whitcombe", DateOfBirth: newDOB,
		Email: "ngaio@example.com", Mobile: "0499 123 456", ExternalID: "draft-7", Notes: "Booked online"})
	if err != nil {
		t.Fatal(err)
	}
	created, err := f.api.GetClient(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if created.ID != id || created.FirstName != "Ngaio" || created.LastName != "Whitcombe" || created.DateOfBirth == nil ||
		*created.DateOfBirth != newDOB || created.Email != "ngaio@example.com" || created.Mobile == "" {
		t.Errorf("created client reads back as %+v", created)
	}
	var stored sandbox.Client
	for _, c := range f.srv.Clients() {
		if c.ID == id {
			stored = c
		}
	}
	if stored.ExternalID != "draft-7" || stored.Notes != "Booked online" {
		t.Errorf("ExternalId/notes1 not stored: %+v", stored)
	}
	byMobile, err := f.api.SearchClients(ctx, coreplus.ClientSearch{Mobile: "+61 499 123 456"})
	if err != nil {
		t.Fatal(err)
	}
	if len(byMobile) != 1 || byMobile[0].ID != id {
		t.Errorf("search by mobile = %+v", byMobile)
	}

	_, err = f.api.GetClient(ctx, "00000000-0000-0000-0000-000000000000")
	if !errors.Is(err, coreplus.ErrNotFound) {
		t.Errorf("unknown client: %v, want ErrNotFound", err)
	}
	_, err = f.api.CreateClient(ctx, coreplus.NewClient{FirstName: "Ngaio", LastName: "Whitcombe", DateOfBirth: newDOB, Email: "not an email"})
	var e *coreplus.Error
	if !errors.As(err, &e) || e.Kind != coreplus.ErrRejected || e.Status != 400 || !strings.Contains(strings.ToLower(e.Reason), "email") {
		t.Errorf("bad email: %v, want ErrRejected naming email", err)
	}
}

func TestSandboxBooking(t *testing.T) {
	f := newFixture(t, sandbox.Config{})
	ctx := context.Background()
	sydney := f.location(t, sandbox.LocationSydneyID)
	q := coreplus.SlotQuery{StartDate: "2025-03-03", EndDate: "2025-03-05", TimezoneID: sydney.TimezoneID,
		PractitionerIDs: []string{sandbox.PractitionerPriyaID}, LocationIDs: []string{sydney.ID},
		AppointmentTypeID: sandbox.AppointmentTypeStandardID}
	slots, err := f.api.FindAvailability(ctx, q)
	if err != nil || len(slots) == 0 {
		t.Fatalf("availability: %d slots, %v", len(slots), err)
	}
	slot := slots[0]
	free := func() bool {
		t.Helper()
		now, err := f.api.FindAvailability(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range now {
			if s.Start.Equal(slot.Start) && s.PractitionerID == slot.PractitionerID {
				return true
			}
		}
		return false
	}
	book := coreplus.NewAppointment{Start: slot.Start, End: slot.End, PractitionerID: slot.PractitionerID,
		LocationID: slot.LocationID, AppointmentTypeID: sandbox.AppointmentTypeStandardID,
		ClientID: sandbox.ClientJoannaVargaID, Notes: "Booked via online portal", SMSReminder: true}

	appt, err := f.api.CreateAppointment(ctx, book)
	if err != nil {
		t.Fatal(err)
	}
	if appt.ID == "" || !appt.Start.Equal(slot.Start) || !appt.End.Equal(slot.End) || appt.PractitionerID != slot.PractitionerID ||
		appt.LocationID != sydney.ID || len(appt.ClientIDs) != 1 || appt.ClientIDs[0] != sandbox.ClientJoannaVargaID || appt.Cancelled {
		t.Errorf("booked %+v", appt)
	}

	got, err := f.api.GetAppointment(ctx, appt.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != appt.ID || !got.Start.Equal(slot.Start) || got.Status != "Booked" || got.Notes != book.Notes {
		t.Errorf("GetAppointment = %+v", got)
	}
	if _, off := got.Start.Zone(); off != 11*3600 {
		t.Errorf("appointment offset %d, want Sydney's +11:00 (parsed from the spaced form)", off)
	}

	list, err := f.api.ListAppointments(ctx, coreplus.AppointmentQuery{StartDate: "2025-03-03", EndDate: "2025-03-05",
		TimezoneID: sydney.TimezoneID, ClientID: sandbox.ClientJoannaVargaID})
	if err != nil {
		t.Fatal(err)
	}
	var listed bool
	for _, a := range list {
		if len(a.ClientIDs) != 1 || a.ClientIDs[0] != sandbox.ClientJoannaVargaID {
			t.Errorf("list for Joanna has %+v", a)
		}
		listed = listed || a.ID == appt.ID
	}
	if !listed {
		t.Error("the new appointment is not in the list")
	}
	if free() {
		t.Error("the booked slot is still offered")
	}

	_, err = f.api.CreateAppointment(ctx, book)
	var e *coreplus.Error
	if !errors.Is(err, coreplus.ErrSlotUnavailable) || !errors.As(err, &e) || e.Status != 200 || e.Sent {
		t.Fatalf("booking the same slot again: %v, want ErrSlotUnavailable (HTTP 200)", err)
	}

	// Move it in place to the next free time, then try to move it onto a
	// time another patient holds: a typed clash, and it keeps its time.
	next := slots[1]
	moved, err := f.api.UpdateAppointment(ctx, appt.ID, coreplus.AppointmentMove{Start: next.Start, End: next.End, PractitionerID: next.PractitionerID})
	if err != nil {
		t.Fatal(err)
	}
	if moved.ID != appt.ID || !moved.Start.Equal(next.Start) || moved.Cancelled {
		t.Errorf("moved %+v", moved)
	}
	if !free() {
		t.Error("moving did not free the old time")
	}
	other := book
	other.ClientID = sandbox.ClientPeterNguyenID
	if _, err := f.api.CreateAppointment(ctx, other); err != nil {
		t.Fatalf("booking the freed time for another patient: %v", err)
	}
	_, err = f.api.UpdateAppointment(ctx, appt.ID, coreplus.AppointmentMove{Start: slot.Start, End: slot.End, PractitionerID: slot.PractitionerID})
	if !errors.Is(err, coreplus.ErrSlotUnavailable) {
		t.Fatalf("moving onto a taken time: %v, want ErrSlotUnavailable", err)
	}
	if got, err := f.api.GetAppointment(ctx, appt.ID); err != nil || !got.Start.Equal(next.Start) {
		t.Fatalf("after a refused move: %+v, %v", got, err)
	}

	if err := f.api.CancelAppointment(ctx, appt.ID); err != nil {
		t.Fatal(err)
	}
	cancelled, err := f.api.GetAppointment(ctx, appt.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !cancelled.Cancelled || cancelled.Status != "Cancelled" {
		t.Errorf("after cancel: %+v", cancelled)
	}
	slot = next
	if !free() {
		t.Error("cancelling did not free the slot")
	}
	book.Start, book.End = next.Start, next.End
	if _, err := f.api.CreateAppointment(ctx, book); err != nil {
		t.Errorf("rebooking the freed slot: %v", err)
	}
}

func TestSandboxWrongSecret(t *testing.T) {
	const wrong = "not-the-demo-secret"
	f := newFixture(t, sandbox.Config{}, func(c *coreplus.Config) { c.ConsumerSecret = wrong })
	dob := coreplus.Date{Year: 1988, Month: time.November, Day: 20}
	_, err := f.api.SearchClients(context.Background(), coreplus.ClientSearch{Name: "Varga", DateOfBirth: &dob})
	var e *coreplus.Error
	if !errors.Is(err, coreplus.ErrInvalidCredentials) || !errors.As(err, &e) || e.Status != 401 {
		t.Fatalf("got %v, want ErrInvalidCredentials (401)", err)
	}
	for _, s := range []string{wrong, sandbox.DemoAccessToken, "Varga", "1988-11-20", "eyJ"} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error %q contains %q", err, s)
		}
	}
}

func TestSandboxRateLimit(t *testing.T) {
	// The clock stands still, so every request falls in one second, and a
	// retry would meet the same full window: this test reads one 429.
	f := newFixture(t, sandbox.Config{RateLimit: 10}, func(c *coreplus.Config) { c.MaxAttempts = 1 })
	ctx := context.Background()
	for i := range 10 {
		if _, err := f.api.ListPractitioners(ctx); err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
	}
	_, err := f.api.ListPractitioners(ctx)
	var e *coreplus.Error
	if !errors.Is(err, coreplus.ErrRateLimited) || !errors.As(err, &e) || e.Status != 429 || e.RetryAfter != time.Second {
		t.Fatalf("11th request: %v, want ErrRateLimited with RetryAfter 1s", err)
	}
	f.clock.Advance(2 * time.Second)
	if _, err := f.api.ListPractitioners(ctx); err != nil {
		t.Errorf("after the window passed: %v", err)
	}
}

func TestSandboxFaults(t *testing.T) {
	ctx := context.Background()

	t.Run("503", func(t *testing.T) {
		f := newFixture(t, sandbox.Config{})
		f.srv.SetFaults(sandbox.Faults{ErrorRate: 1})
		_, err := f.api.ListLocations(ctx)
		var e *coreplus.Error
		if !errors.Is(err, coreplus.ErrUnavailable) || !errors.As(err, &e) || e.Status != 503 {
			t.Fatalf("got %v, want ErrUnavailable (503)", err)
		}
	})

	t.Run("dropped GET", func(t *testing.T) {
		f := newFixture(t, sandbox.Config{})
		f.srv.SetFaults(sandbox.Faults{DropRate: 1})
		_, err := f.api.ListPractitioners(ctx)
		var e *coreplus.Error
		if !errors.Is(err, coreplus.ErrUnavailable) || !errors.As(err, &e) || e.Status != 0 || e.Sent {
			t.Fatalf("got %v, want ErrUnavailable with no status", err)
		}
	})

	t.Run("slow answer", func(t *testing.T) {
		f := newFixture(t, sandbox.Config{}, func(c *coreplus.Config) { c.Timeout = 50 * time.Millisecond })
		f.srv.SetFaults(sandbox.Faults{Latency: 5 * time.Second})
		_, err := f.api.ListAppointmentTypes(ctx)
		if !errors.Is(err, coreplus.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v, want ErrUnavailable after the deadline", err)
		}
	})

	t.Run("store then drop", func(t *testing.T) {
		f := newFixture(t, sandbox.Config{})
		sydney := f.location(t, sandbox.LocationSydneyID)
		slots, err := f.api.FindAvailability(ctx, coreplus.SlotQuery{StartDate: "2025-03-03", EndDate: "2025-03-05",
			TimezoneID: sydney.TimezoneID, PractitionerIDs: []string{sandbox.PractitionerPriyaID},
			LocationIDs: []string{sydney.ID}, AppointmentTypeID: sandbox.AppointmentTypeStandardID})
		if err != nil || len(slots) == 0 {
			t.Fatalf("availability: %d slots, %v", len(slots), err)
		}
		slot := slots[0]
		f.srv.SetFaults(sandbox.Faults{StoreThenDropRate: 1})
		_, err = f.api.CreateAppointment(ctx, coreplus.NewAppointment{Start: slot.Start, End: slot.End,
			PractitionerID: slot.PractitionerID, LocationID: slot.LocationID,
			AppointmentTypeID: sandbox.AppointmentTypeStandardID, ClientID: sandbox.ClientPeterNguyenID})
		var e *coreplus.Error
		if !errors.Is(err, coreplus.ErrUnavailable) || !errors.As(err, &e) || !e.Sent {
			t.Fatalf("got %v, want ErrUnavailable with Sent=true", err)
		}
		var stored bool
		for _, a := range f.srv.Appointments() {
			if a.Start.Equal(slot.Start) && a.PractitionerID == slot.PractitionerID && a.ClientID == sandbox.ClientPeterNguyenID && a.Status == "Booked" {
				stored = true
			}
		}
		if !stored {
			t.Error("the sandbox did not store the booking it dropped the answer to")
		}
	})
}
