package booking

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/clinic-booking/portal/internal/coreplus"
)

var sydney = func() *time.Location {
	z, err := time.LoadLocation("Australia/Sydney")
	if err != nil {
		panic(err)
	}
	return z
}()

func TestNormaliseMobile(t *testing.T) {
	for in, want := range map[string]string{
		"0412 345 678":        "0412345678",
		"0412345678":          "0412345678",
		"+61 412 345 678":     "0412345678",
		"+61412345678":        "0412345678",
		"61 412 345 678":      "0412345678",
		"+61 (0) 412 345 678": "0412345678",
		"(04) 1234-5678":      "0412345678",
		"0412.345.678":        "0412345678",
		" 0412 345 678 ":      "0412345678",
	} {
		if got, ok := NormaliseMobile(in); !ok || got != want {
			t.Errorf("NormaliseMobile(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "02 9555 0123", "0412 345 67", "0412 345 6789", "+1 412 345 678", "0412 abc 678", "04123456781", "+61 2 9555 0123", "0412+345678"} {
		if got, ok := NormaliseMobile(in); ok {
			t.Errorf("NormaliseMobile(%q) accepted as %q", in, got)
		}
	}
}

func TestParseDateOfBirth(t *testing.T) {
	today := time.Date(2026, 11, 30, 9, 0, 0, 0, sydney)
	cases := []struct{ d, m, y, msg string }{
		{"14", "2", "1983", ""},
		{"29", "2", "2024", ""},
		{"29", "11", "2026", ""},
		{"", "", "", "Enter your date of birth"},
		{"14", "", "1983", "Enter a real date of birth"},
		{"29", "2", "2023", "Enter a real date of birth"},
		{"31", "4", "1990", "Enter a real date of birth"},
		{"1", "13", "1990", "Enter a real date of birth"},
		{"1", "1", "83", "Enter a real date of birth"},
		{"1", "1", "1899", "Enter a real date of birth"},
		{"x", "1", "1990", "Enter a real date of birth"},
		{"30", "11", "2026", "Date of birth must be in the past"},
		{"1", "1", "2031", "Date of birth must be in the past"},
	}
	for _, c := range cases {
		got, msg := ParseDateOfBirth(c.d, c.m, c.y, today)
		if msg != c.msg {
			t.Errorf("%s/%s/%s: message %q, want %q", c.d, c.m, c.y, msg, c.msg)
		}
		if msg == "" && got.Format("2006-01-02") == "0001-01-01" {
			t.Errorf("%s/%s/%s: no date", c.d, c.m, c.y)
		}
	}
}

func TestValidateCountsCharactersNotBytes(t *testing.T) {
	today := time.Date(2026, 11, 30, 9, 0, 0, 0, sydney)
	f := DetailsForm{FirstName: strings.Repeat("é", 50), LastName: "  de   la Cruz ", DOBDay: "1", DOBMonth: "2", DOBYear: "1990",
		Email: " a@b.co ", Mobile: "0412 345 678", Note: strings.Repeat("ü", MaxPatientNoteLength), Consent: true}
	d, errs := f.Validate(today)
	if len(errs) != 0 {
		t.Fatalf("errors %v", errs)
	}
	if d.LastName != "de la Cruz" || d.Email != "a@b.co" || d.Mobile != "0412345678" {
		t.Errorf("normalised %+v", d)
	}
	f.FirstName += "é"
	if _, errs := f.Validate(today); len(errs) != 1 || errs[0].Message != "First name must be 50 characters or fewer" {
		t.Errorf("51 characters: %v", errs)
	}
}

func TestBookableRespectsNoticeAndWindow(t *testing.T) {
	c := Clinic{MinNotice: 2 * time.Hour, BookingWindowDays: 60}
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, sydney)
	for _, tc := range []struct {
		start time.Time
		want  bool
	}{
		{now.Add(time.Hour), false},
		{now.Add(119 * time.Minute), false},
		{now.Add(2 * time.Hour), true},
		{now.Add(59 * 24 * time.Hour), true},
		{now.Add(60 * 24 * time.Hour), true},
		{now.Add(60*24*time.Hour + time.Minute), false},
		{now.Add(-time.Hour), false},
	} {
		if got := c.Bookable(tc.start, now); got != tc.want {
			t.Errorf("Bookable(%v) = %v", tc.start, got)
		}
	}
}

// fakeAPI answers from fixed data and records calls.
type fakeAPI struct {
	Coreplus
	slots   []coreplus.Slot
	queries []coreplus.SlotQuery
	clients []coreplus.Client
	created []coreplus.NewClient
}

func (f *fakeAPI) FindAvailability(_ context.Context, q coreplus.SlotQuery) ([]coreplus.Slot, error) {
	f.queries = append(f.queries, q)
	var out []coreplus.Slot
	for _, s := range f.slots {
		d := s.Start.In(sydney).Format("2006-01-02")
		if d >= q.StartDate && d <= q.EndDate {
			if s.End.IsZero() {
				s.End = s.Start.Add(30 * time.Minute) // a block with room for one standard visit
			}
			out = append(out, s)
		}
	}
	return out, nil
}

func (f *fakeAPI) SearchClients(_ context.Context, q coreplus.ClientSearch) ([]coreplus.Client, error) {
	var out []coreplus.Client
	for _, c := range f.clients {
		if strings.Contains(strings.ToLower(c.LastName), strings.ToLower(q.Name)) && *c.DateOfBirth == *q.DateOfBirth {
			lite := c
			lite.Email, lite.Mobile = "", "" // list items carry no contact details
			out = append(out, lite)
		}
	}
	return out, nil
}

func (f *fakeAPI) GetClient(_ context.Context, id string) (coreplus.Client, error) {
	for _, c := range f.clients {
		if c.ID == id {
			return c, nil
		}
	}
	return coreplus.Client{}, &coreplus.Error{Kind: coreplus.ErrNotFound}
}

func (f *fakeAPI) CreateClient(_ context.Context, c coreplus.NewClient) (string, error) {
	f.created = append(f.created, c)
	return "new-client", nil
}

func TestFreeSlotsMergesFiltersAndSorts(t *testing.T) {
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, sydney)
	at := func(day, h, m int) time.Time { return time.Date(2026, 11, day, h, m, 0, 0, sydney) }
	api := &fakeAPI{slots: []coreplus.Slot{
		{Start: at(30, 10, 0), PractitionerID: "tom", LocationID: "syd"}, // inside the notice
		{Start: at(30, 11, 0), PractitionerID: "tom", LocationID: "syd"}, // exactly 2 h: bookable
		{Start: at(30, 11, 0), PractitionerID: "amy", LocationID: "syd"}, // same time, other practitioner
		{Start: at(30, 11, 0), PractitionerID: "amy", LocationID: "syd"}, // duplicate
		{Start: at(30, 12, 0), PractitionerID: "amy", LocationID: "bne"}, // other location
		{Start: at(30, 13, 0), PractitionerID: "zed", LocationID: "syd"}, // does not offer the service
		{Start: at(30, 14, 0).UTC(), PractitionerID: "amy", LocationID: "syd"},
	}}
	svc := NewService(Clinic{Slug: "x", Practitioners: map[string]PractitionerProfile{"zed": {Services: []string{"other"}}}}, api, nil, func() time.Time { return now })
	loc := &Location{ID: "syd", Zone: sydney, TimezoneID: "tz"}
	sel := Selection{Location: loc, Service: &ServiceType{ID: "std", Name: "Standard", Minutes: 30}, Any: true}
	pracs := []Practitioner{{ID: "tom", Name: "Tom"}, {ID: "amy", Name: "Amy"}}
	got, err := svc.freeSlots(t.Context(), sel, pracs, dayOf(now, sydney), addDays(dayOf(now, sydney), 6))
	if err != nil {
		t.Fatal(err)
	}
	var desc []string
	for _, s := range got {
		desc = append(desc, s.Start.Format("15:04 -0700")+" "+s.Practitioner.Name)
	}
	want := "11:00 +1100 Amy, 11:00 +1100 Tom, 14:00 +1100 Amy"
	if strings.Join(desc, ", ") != want {
		t.Errorf("slots %q, want %q", strings.Join(desc, ", "), want)
	}
	if !got[0].End.Equal(got[0].Start.Add(30 * time.Minute)) {
		t.Error("slot end is not start plus the service length")
	}
	// A second look within the cache's life asks coreplus nothing more.
	n := len(api.queries)
	if _, err := svc.freeSlots(t.Context(), sel, pracs, dayOf(now, sydney), addDays(dayOf(now, sydney), 6)); err != nil {
		t.Fatal(err)
	}
	if len(api.queries) != n {
		t.Errorf("cached read made %d more requests", len(api.queries)-n)
	}
	// One query for the whole location's free blocks, over the span that
	// holds the week: no service, no practitioner.
	if q := api.queries[0]; q.AppointmentTypeID != "" || len(q.PractitionerIDs) != 0 || len(q.LocationIDs) != 1 || q.LocationIDs[0] != "syd" ||
		q.TimezoneID != "tz" || q.StartDate != "2026-11-30" || q.EndDate != "2026-12-13" {
		t.Errorf("query %+v", q)
	}
}

func TestShowWeekOpensOnFirstFreeDay(t *testing.T) {
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, sydney)
	api := &fakeAPI{slots: []coreplus.Slot{
		{Start: time.Date(2026, 12, 16, 9, 0, 0, 0, sydney), PractitionerID: "tom", LocationID: "syd"},
	}}
	svc := NewService(Clinic{Slug: "x", BookingWindowDays: 60}, api, nil, func() time.Time { return now })
	sel := Selection{Location: &Location{ID: "syd", Zone: sydney, TimezoneID: "tz"},
		Service: &ServiceType{ID: "std", Minutes: 30}, Practitioner: &Practitioner{ID: "tom", Name: "Tom"}}
	w, err := svc.ShowWeek(t.Context(), sel)
	if err != nil {
		t.Fatal(err)
	}
	// Strips are whole weeks from today: 30 November, 7, 14 December...
	if w.Start.Format("2006-01-02") != "2026-12-14" || w.Chosen.Format("2006-01-02") != "2026-12-16" || w.Empty || len(w.Days) != 7 || len(w.Days[2].Slots) != 1 {
		t.Errorf("week %+v", w)
	}
	if w.Earlier.Format("2006-01-02") != "2026-12-07" || !w.NextFrom.IsZero() {
		t.Errorf("earlier %v, next from %v", w.Earlier, w.NextFrom)
	}
	// Asking for a week with no free time shows it, with nothing chosen,
	// and "next available" searching from the week after.
	sel.Week = dayOf(now, sydney)
	w, _ = svc.ShowWeek(t.Context(), sel)
	if w.Start.Format("2006-01-02") != "2026-11-30" || !w.Chosen.IsZero() || w.NextFrom.Format("2006-01-02") != "2026-12-07" {
		t.Errorf("empty week: start %v chosen %v next from %v", w.Start, w.Chosen, w.NextFrom)
	}
	sel.Week, sel.FromWeek = w.NextFrom, true
	if w, _ = svc.ShowWeek(t.Context(), sel); w.Chosen.Format("2006-01-02") != "2026-12-16" || w.Moved {
		t.Errorf("next available: chosen %v moved %v", w.Chosen, w.Moved)
	}
	// A date in a strip with a free time shows that strip's free day.
	sel.Week, sel.FromWeek = time.Date(2026, 12, 19, 0, 0, 0, 0, sydney), false
	if w, _ = svc.ShowWeek(t.Context(), sel); w.Chosen.Format("2006-01-02") != "2026-12-16" {
		t.Errorf("date with no free time in a strip with one: chosen %v", w.Chosen)
	}
	// A date past the booking window (60 days) says so.
	sel.Week = time.Date(2027, 2, 1, 0, 0, 0, 0, sydney)
	if w, _ = svc.ShowWeek(t.Context(), sel); !w.PastWindow || w.LastWeek.Format("2006-01-02") != "2027-01-25" {
		t.Errorf("past the window: %+v", w)
	}
	api.slots = nil
	svc = NewService(Clinic{Slug: "x", BookingWindowDays: 60}, api, nil, func() time.Time { return now })
	if w, _ = svc.ShowWeek(t.Context(), Selection{Location: sel.Location, Service: sel.Service, Practitioner: sel.Practitioner}); !w.Empty {
		t.Error("no free time at all is not reported as empty")
	}
}

// TestFirstAvailableOffersEachTimeOnce: with "first available", a time two
// practitioners have free is offered once, with the one listed first.
func TestFirstAvailableOffersEachTimeOnce(t *testing.T) {
	at := func(h int) time.Time { return time.Date(2026, 12, 1, h, 0, 0, 0, sydney) }
	ann, tom := Practitioner{ID: "a", Name: "Ann"}, Practitioner{ID: "t", Name: "Tom"}
	order := []Practitioner{tom, ann} // the clinic lists Tom first
	got := FirstAvailable([]Slot{{Start: at(9), Practitioner: ann}, {Start: at(9), Practitioner: tom}, {Start: at(10), Practitioner: ann}, {Start: at(11), Practitioner: tom}}, order)
	var s []string
	for _, sl := range got {
		s = append(s, sl.Start.Format("15")+sl.Practitioner.Name)
	}
	if strings.Join(s, " ") != "09Tom 10Ann 11Tom" {
		t.Errorf("first available: %v", s)
	}
}

func TestNearestAlternatives(t *testing.T) {
	at := func(h int) time.Time { return time.Date(2026, 12, 1, h, 0, 0, 0, sydney) }
	tom := Practitioner{ID: "tom", Name: "Tom"}
	taken := Slot{Start: at(10), Practitioner: tom}
	slots := []Slot{{Start: at(8), Practitioner: tom}, {Start: at(10), Practitioner: tom}, {Start: at(11), Practitioner: tom}, {Start: at(9), Practitioner: tom}, {Start: at(16), Practitioner: tom}}
	got := nearest(slots, taken, 3)
	if len(got) != 3 || got[0].Start.Hour() != 8 || got[1].Start.Hour() != 9 || got[2].Start.Hour() != 11 {
		t.Errorf("nearest %v", got)
	}
}

// heldStore holds the given booking records' slots and nothing else.
type heldStore struct {
	Store
	held []Record
}

func (h heldStore) HeldSlots(_ context.Context, clinic string, from, to time.Time) ([]Record, error) {
	var out []Record
	for _, r := range h.held {
		if r.Clinic == clinic && !r.Start.Before(from) && r.Start.Before(to) {
			out = append(out, r)
		}
	}
	return out, nil
}

// TestAlternativesFromCacheLessHeldTimes: a patient who lost a time is
// offered the nearest cached free times, asking coreplus nothing more, and
// none that another draft's booking holds.
func TestAlternativesFromCacheLessHeldTimes(t *testing.T) {
	now := time.Date(2026, 11, 30, 6, 0, 0, 0, sydney)
	at := func(h int) time.Time { return time.Date(2026, 12, 1, h, 0, 0, 0, sydney) }
	tom := Practitioner{ID: "tom", Name: "Tom"}
	api := &fakeAPI{}
	for h := 9; h <= 13; h++ {
		api.slots = append(api.slots, coreplus.Slot{Start: at(h), PractitionerID: "tom", LocationID: "syd"})
	}
	held := heldStore{held: []Record{
		{DraftID: "a", Clinic: "x", PractitionerID: "tom", Start: at(10)}, // the time lost
		{DraftID: "b", Clinic: "x", PractitionerID: "tom", Start: at(11)},
		{DraftID: "c", Clinic: "other", PractitionerID: "tom", Start: at(12)},
	}}
	svc := NewService(Clinic{Slug: "x"}, api, held, func() time.Time { return now })
	sel := Selection{Location: &Location{ID: "syd", Zone: sydney, TimezoneID: "tz"},
		Service: &ServiceType{ID: "std", Minutes: 30}, Practitioner: &tom,
		Slot: &Slot{Start: at(10), End: at(10).Add(30 * time.Minute), Practitioner: tom}}
	// The time step was shown: its week is cached.
	if _, err := svc.ShowWeek(t.Context(), sel); err != nil {
		t.Fatal(err)
	}
	asked := len(api.queries)
	got, err := svc.Alternatives(t.Context(), sel, 5)
	if err != nil {
		t.Fatal(err)
	}
	var hours []int
	for _, sl := range got {
		hours = append(hours, sl.Start.Hour())
	}
	if fmt.Sprint(hours) != "[9 12 13]" {
		t.Errorf("alternatives at %v, want [9 12 13]: neither the time lost nor one held", hours)
	}
	for _, q := range api.queries[asked:] {
		if q.StartDate != "2026-12-07" {
			t.Errorf("alternatives asked coreplus again for %s..%s, not only for the week not yet seen", q.StartDate, q.EndDate)
		}
	}
}

func TestFindOrCreateClient(t *testing.T) {
	dob := &coreplus.Date{Year: 1988, Month: 11, Day: 20}
	clients := []coreplus.Client{
		{ID: "jo", FirstName: "Joanna", LastName: "Varga", DateOfBirth: dob, Email: "Jo.Varga@example.com", Mobile: "+61 412 000 111"},
		{ID: "jo-other-dob", FirstName: "Joanna", LastName: "Varga", DateOfBirth: &coreplus.Date{Year: 1990, Month: 1, Day: 1}, Email: "jo.varga@example.com"},
		{ID: "joe", FirstName: "Joe", LastName: "Varga", DateOfBirth: dob, Email: "jo.varga@example.com"},
	}
	patient := Details{FirstName: "joanna", LastName: "VARGA", DateOfBirth: time.Date(1988, 11, 20, 0, 0, 0, 0, time.UTC)}
	dup := coreplus.Client{ID: "jo-dup", FirstName: "Joanna", LastName: "Varga", DateOfBirth: dob, Email: "jo.new@example.com"}
	cases := []struct {
		name, first, email, mobile string
		extra                      []coreplus.Client
		want                       clientMatch
	}{
		{"both match, any case and format", "joanna", "jo.varga@example.com", "0412000111", nil, clientMatch{ID: "jo"}},
		{"email matches, mobile differs", "joanna", "jo.varga@example.com", "0499000000", nil, clientMatch{ID: "jo", ContactDiffers: true}},
		{"mobile matches, email differs", "joanna", "x@example.com", "0412000111", nil, clientMatch{ID: "jo", ContactDiffers: true}},
		{"name and birthday only: the same person, never a new record", "joanna", "x@example.com", "0499000000", nil, clientMatch{ID: "jo", ContactDiffers: true}},
		{"two records of one person: the one with the contact", "joanna", "jo.new@example.com", "", []coreplus.Client{dup}, clientMatch{ID: "jo-dup"}},
		{"two records of one person, neither with the contact: the first", "joanna", "x@example.com", "0499000000", []coreplus.Client{dup}, clientMatch{ID: "jo", ContactDiffers: true}},
		{"no such person: created", "johanna", "jo.varga@example.com", "0412000111", nil, clientMatch{ID: "new-client"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			api := &fakeAPI{clients: append(append([]coreplus.Client(nil), clients...), tc.extra...)}
			svc := NewService(Clinic{Slug: "x"}, api, nil, nil)
			d := patient
			d.FirstName, d.Email, d.Mobile = tc.first, tc.email, tc.mobile
			got, err := svc.findOrCreateClient(t.Context(), d)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("client %+v, want %+v", got, tc.want)
			}
			if (tc.want.ID == "new-client") != (len(api.created) == 1) {
				t.Errorf("created %v", api.created)
			}
		})
	}
}

// TestAppointmentNotesAlwaysCarryTheMarker: the sweeper finds a booking
// by its marker, so the longest note a patient may write still leaves room
// for it, CRLF from a textarea goes as LF, and the notes fit coreplus.
func TestAppointmentNotesAlwaysCarryTheMarker(t *testing.T) {
	id := "0123456789abcdef0123456789abcdef"
	mark := "Booked online (ref 01234567)"
	if len(mark) != markerLength {
		t.Fatalf("markerLength %d, marker %d", markerLength, len(mark))
	}
	if got := appointmentNotes("", "", id); got != mark {
		t.Errorf("no note: %q", got)
	}
	if got := appointmentNotes("Sore knee", "", id); got != "Sore knee\n"+mark {
		t.Errorf("short note: %q", got)
	}
	if got := appointmentNotes("Sore knee\r\nworse on stairs", "", id); got != "Sore knee\nworse on stairs\n"+mark {
		t.Errorf("CRLF note: %q", got)
	}
	longest := strings.Repeat("ü", MaxPatientNoteLength)
	if got := appointmentNotes(longest, "", id); got != longest+"\n"+mark || utf8.RuneCountInString(got) > MaxNoteLength {
		t.Errorf("longest note allowed: %q", got)
	}
	// A draft saved before the limit: shortened, never the marker dropped.
	old := strings.Repeat("x", MaxNoteLength)
	if got := appointmentNotes(old, "", id); !strings.HasSuffix(got, "\n"+mark) || utf8.RuneCountInString(got) > MaxNoteLength {
		t.Errorf("over-long note: %d characters, %q", utf8.RuneCountInString(got), got)
	}
	// The longest contact line beside the longest note: the note gives way,
	// never the line for staff or the marker.
	d := Details{Email: strings.Repeat("e", MaxEmailLength-12) + "@example.com", Mobile: "0412345678", Note: longest}
	line := contactLine(d)
	if line != "Contact details given online differ from the client record: email "+d.Email+", mobile 0412345678" {
		t.Errorf("contact line %q", line)
	}
	got := bookingNotes(d, Record{DraftID: id, ContactDiffers: true})
	if !strings.HasSuffix(got, "…\n"+line+"\n"+mark) || utf8.RuneCountInString(got) > MaxNoteLength {
		t.Errorf("note with the contact line: %d characters, %q", utf8.RuneCountInString(got), got)
	}
	if got := bookingNotes(d, Record{DraftID: id}); got != longest+"\n"+mark {
		t.Errorf("contact held: %q", got)
	}
}

func TestNoteLimitLeavesRoomForTheMarker(t *testing.T) {
	today := time.Date(2026, 11, 30, 9, 0, 0, 0, sydney)
	f := DetailsForm{FirstName: "Ada", LastName: "Lovelace", DOBDay: "1", DOBMonth: "2", DOBYear: "1990",
		Email: "a@b.co", Mobile: "0412 345 678", Consent: true}
	f.Note = strings.Repeat("n", MaxPatientNoteLength+1)
	if _, errs := f.Validate(today); len(errs) != 1 || errs[0].Message != "Your note must be 270 characters or fewer" {
		t.Errorf("note of %d: %v", MaxPatientNoteLength+1, errs)
	}
	// A browser sends CRLF: counted and kept as LF.
	f.Note = strings.Repeat("a\r\n", MaxPatientNoteLength/2-1) + "a" // 403 bytes sent, 269 kept
	d, errs := f.Validate(today)
	if len(errs) != 0 || strings.Contains(d.Note, "\r") {
		t.Errorf("CRLF note: %v, %q", errs, d.Note)
	}
}
