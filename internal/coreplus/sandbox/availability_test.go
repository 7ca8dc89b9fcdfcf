package sandbox

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func slotQuery(tz, from, to string, extra ...string) url.Values {
	q := url.Values{"startDate": {from}, "endDate": {to}, "timezoneId": {tz}}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Add(extra[i], extra[i+1])
	}
	return q
}

func starts(slots []slotWire) []string {
	var out []string
	for _, s := range slots {
		out = append(out, s.StartDateTime)
	}
	return out
}

// TestAvailabilityIsRosterMinusBookings checks, against the seeded diary,
// that free time plus booked time is exactly the roster.
func TestAvailabilityIsRosterMinusBookings(t *testing.T) {
	e := newEnv(t, Config{})
	slots := e.slots(slotQuery(TimezoneSydneyID, "2025-03-10", "2025-03-12",
		"practitionerId", PractitionerPriyaID, "locationId", LocationSydneyID))

	var booked []Appointment
	for _, a := range e.srv.Appointments() {
		if a.Status == "Booked" && a.PractitionerID == PractitionerPriyaID {
			booked = append(booked, a)
		}
	}
	bookedInBlocks, rosterTotal, freeTotal := time.Duration(0), time.Duration(0), time.Duration(0)
	for day := 10; day <= 12; day++ {
		date := time.Date(2025, 3, day, 0, 0, 0, 0, sydney)
		for _, sh := range e.srv.Rosters() {
			if sh.PractitionerID != PractitionerPriyaID || sh.LocationID != LocationSydneyID || sh.Weekday != date.Weekday() {
				continue
			}
			bs, be := parseShift(sh).on(date, sydney)
			rosterTotal += be.Sub(bs)
			for _, a := range booked {
				if a.Start.Before(be) && a.End.After(bs) {
					bookedInBlocks += earlier(a.End, be).Sub(later(a.Start, bs))
				}
			}
		}
	}
	for _, s := range slots {
		start, end := parseSlotTime(t, s.StartDateTime), parseSlotTime(t, s.EndDateTime)
		freeTotal += end.Sub(start)
		if s.PractitionerID != PractitionerPriyaID || s.LocationID != LocationSydneyID {
			t.Fatalf("slot %+v outside the filter", s)
		}
		for _, a := range booked {
			if a.Start.Before(end) && a.End.After(start) {
				t.Fatalf("slot %+v overlaps booked %v-%v", s, a.Start, a.End)
			}
		}
	}
	if bookedInBlocks == 0 {
		t.Fatal("the seeded diary has no bookings for Priya on 10-12 March; the test proves nothing")
	}
	if freeTotal+bookedInBlocks != rosterTotal {
		t.Fatalf("free %v + booked %v != roster %v", freeTotal, bookedInBlocks, rosterTotal)
	}
}

// TestSeededDiaryFill: the demo diary is realistically part-full.
func TestSeededDiaryFill(t *testing.T) {
	e := newEnv(t, Config{})
	var booked, roster time.Duration
	for _, a := range e.srv.Appointments() {
		if a.Status == "Booked" {
			booked += a.End.Sub(a.Start)
		}
	}
	for day := 0; day < 56; day++ {
		for _, sh := range e.srv.Rosters() {
			z := sydney
			if sh.LocationID == LocationBrisbaneID {
				z = brisbane
			}
			date := time.Date(2025, 3, 3+day, 0, 0, 0, 0, z)
			if sh.Weekday == date.Weekday() {
				bs, be := parseShift(sh).on(date, z)
				roster += be.Sub(bs)
			}
		}
	}
	fill := float64(booked) / float64(roster)
	if fill < 0.25 || fill > 0.55 {
		t.Fatalf("diary %.0f%% full, want about 40%%", fill*100)
	}
	again := New(Config{Now: e.clock.Now})
	a, b := again.Appointments(), e.srv.Appointments()
	if len(a) != len(b) || a[7].ID != b[7].ID || !a[7].Start.Equal(b[7].Start) || a[7].ReferenceNumber != b[7].ReferenceNumber {
		t.Fatal("the same seed and clock must give the same diary")
	}
}

func TestAvailabilitySplitByType(t *testing.T) {
	e := newEnv(t, Config{})
	e.clearDiary()
	base := []string{"practitionerId", PractitionerPriyaID, "locationId", LocationSydneyID}

	whole := e.slots(slotQuery(TimezoneSydneyID, "2025-03-10", "2025-03-10", base...))
	if got := starts(whole); len(got) != 2 || got[0] != "2025-03-10T08:00:00+11:00" || got[1] != "2025-03-10T13:30:00+11:00" ||
		whole[0].EndDateTime != "2025-03-10T12:30:00+11:00" || whole[1].EndDateTime != "2025-03-10T17:00:00+11:00" {
		t.Fatalf("whole blocks %+v", whole)
	}

	// 45 minutes: 08:00-12:30 gives 6, 13:30-17:00 gives 4 and drops 30 minutes.
	chunks := e.slots(slotQuery(TimezoneSydneyID, "2025-03-10", "2025-03-10", append(base, "appointmentTypeId", AppointmentTypeExtendedID)...))
	if len(chunks) != 10 {
		t.Fatalf("got %d chunks, want 10: %v", len(chunks), starts(chunks))
	}
	if chunks[5].StartDateTime != "2025-03-10T11:45:00+11:00" || chunks[5].EndDateTime != "2025-03-10T12:30:00+11:00" ||
		chunks[9].StartDateTime != "2025-03-10T15:45:00+11:00" || chunks[9].EndDateTime != "2025-03-10T16:30:00+11:00" {
		t.Fatalf("chunks %v", starts(chunks))
	}

	// The type does not restrict who is offered: everyone rostered on a Monday appears.
	all := e.slots(slotQuery(TimezoneSydneyID, "2025-03-10", "2025-03-10", "appointmentTypeId", AppointmentTypeInitialID))
	seen := map[string]bool{}
	for i, s := range all {
		seen[s.PractitionerID] = true
		if i > 0 && parseSlotTime(t, s.StartDateTime).Before(parseSlotTime(t, all[i-1].StartDateTime)) {
			t.Fatal("slots not sorted by start")
		}
	}
	for _, id := range []string{PractitionerPriyaID, PractitionerMeiID, PractitionerLiamID, PractitionerAishaID} {
		if !seen[id] {
			t.Errorf("practitioner %s missing from Monday slots", id)
		}
	}
}

func TestAvailabilityExcludesThePast(t *testing.T) {
	e := newEnvAt(t, time.Date(2025, 3, 10, 10, 2, 17, 0, sydney), Config{})
	e.clearDiary()
	got := starts(e.slots(slotQuery(TimezoneSydneyID, "2025-03-10", "2025-03-10",
		"practitionerId", PractitionerPriyaID, "locationId", LocationSydneyID)))
	if len(got) != 2 || got[0] != "2025-03-10T10:05:00+11:00" {
		t.Fatalf("slots %v, want the morning to start at 10:05", got)
	}
}

func TestAvailabilityRenderedInRequestedZone(t *testing.T) {
	e := newEnv(t, Config{})
	e.clearDiary()
	filter := []string{"practitionerId", PractitionerMeiID, "locationId", LocationBrisbaneID}
	inBrisbane := e.slots(slotQuery(TimezoneBrisbaneID, "2025-03-10", "2025-03-10", filter...))
	inSydney := e.slots(slotQuery(TimezoneSydneyID, "2025-03-10", "2025-03-10", filter...))
	upper := e.slots(slotQuery(strings.ToUpper(TimezoneMelbourneID), "2025-03-10", "2025-03-10", filter...))
	if inBrisbane[0].StartDateTime != "2025-03-10T07:30:00+10:00" || inSydney[0].StartDateTime != "2025-03-10T08:30:00+11:00" ||
		upper[0].StartDateTime != "2025-03-10T08:30:00+11:00" {
		t.Fatalf("Brisbane %s, Sydney %s, Melbourne %s", inBrisbane[0].StartDateTime, inSydney[0].StartDateTime, upper[0].StartDateTime)
	}
}

func TestAvailabilityAcrossDST(t *testing.T) {
	tests := []struct {
		name     string
		now      time.Time
		from, to string
		tz, loc  string
		prac     string
		want     []string // first slot start of each rostered day
	}{
		{"Sydney DST ends 6 April", time.Date(2025, 3, 31, 6, 0, 0, 0, sydney), "2025-04-04", "2025-04-08",
			TimezoneSydneyID, LocationSydneyID, PractitionerTomID,
			[]string{"2025-04-04T09:00:00+11:00", "2025-04-05T08:00:00+11:00", "2025-04-08T09:00:00+10:00"}},
		{"Sydney DST starts 5 October", time.Date(2025, 9, 29, 6, 0, 0, 0, sydney), "2025-10-03", "2025-10-07",
			TimezoneSydneyID, LocationSydneyID, PractitionerTomID,
			[]string{"2025-10-03T09:00:00+10:00", "2025-10-04T08:00:00+10:00", "2025-10-07T09:00:00+11:00"}},
		{"Brisbane has no DST", time.Date(2025, 9, 29, 6, 0, 0, 0, sydney), "2025-10-03", "2025-10-06",
			TimezoneBrisbaneID, LocationBrisbaneID, PractitionerMeiID,
			[]string{"2025-10-03T07:30:00+10:00", "2025-10-06T07:30:00+10:00"}},
		{"Brisbane rooms seen from Sydney", time.Date(2025, 9, 29, 6, 0, 0, 0, sydney), "2025-10-03", "2025-10-06",
			TimezoneSydneyID, LocationBrisbaneID, PractitionerMeiID,
			[]string{"2025-10-03T07:30:00+10:00", "2025-10-06T08:30:00+11:00"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnvAt(t, tc.now, Config{})
			e.clearDiary()
			slots := e.slots(slotQuery(tc.tz, tc.from, tc.to, "practitionerId", tc.prac, "locationId", tc.loc))
			var firsts []string
			lastDay := ""
			for _, s := range slots {
				if day := s.StartDateTime[:10]; day != lastDay {
					firsts, lastDay = append(firsts, s.StartDateTime), day
				}
			}
			if strings.Join(firsts, " ") != strings.Join(tc.want, " ") {
				t.Fatalf("first slot of each day\n got %v\nwant %v", firsts, tc.want)
			}
		})
	}
}

func TestAvailabilityBadRequests(t *testing.T) {
	e := newEnv(t, Config{})
	tests := []struct {
		name   string
		q      url.Values
		reason string
	}{
		{"no timezone", url.Values{"startDate": {"2025-03-10"}, "endDate": {"2025-03-10"}}, "timezoneId is required"},
		{"IANA name as timezone", slotQuery("Australia/Sydney", "2025-03-10", "2025-03-10"), "timezoneId"},
		{"no start", url.Values{"endDate": {"2025-03-10"}, "timezoneId": {TimezoneSydneyID}}, "startDate is required"},
		{"bad date", slotQuery(TimezoneSydneyID, "10/03/2025", "2025-03-10"), "startDate must be a date"},
		{"end before start", slotQuery(TimezoneSydneyID, "2025-03-10", "2025-03-09"), "endDate must not be before startDate"},
		{"32 days", slotQuery(TimezoneSydneyID, "2025-03-10", "2025-04-10"), "at most 31 days"},
		{"page size 101", slotQuery(TimezoneSydneyID, "2025-03-10", "2025-03-10", "pageSize", "101"), "pageSize"},
		{"page 0", slotQuery(TimezoneSydneyID, "2025-03-10", "2025-03-10", "pageNumber", "0"), "pageNumber"},
		{"unknown practitioner", slotQuery(TimezoneSydneyID, "2025-03-10", "2025-03-10", "practitionerId", ClientJoannaVargaID), "practitionerId"},
		{"comma-joined ids", slotQuery(TimezoneSydneyID, "2025-03-10", "2025-03-10", "practitionerId", PractitionerPriyaID+","+PractitionerTomID), "practitionerId"},
		{"unknown type", slotQuery(TimezoneSydneyID, "2025-03-10", "2025-03-10", "appointmentTypeId", PractitionerTomID), "appointmentTypeId"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := e.get("AvailabilitySlot/", tc.q)
			if resp.status != http.StatusBadRequest || !resp.hasReason(tc.reason) {
				t.Fatalf("status %d body %s, want 400 naming %q", resp.status, resp.body, tc.reason)
			}
		})
	}
	// 31 days inclusive is allowed.
	if resp := e.get("AvailabilitySlot/", slotQuery(TimezoneSydneyID, "2025-03-10", "2025-04-09")); resp.status != http.StatusOK {
		t.Fatalf("31 days: status %d %s", resp.status, resp.body)
	}
}

func TestAvailabilityPaging(t *testing.T) {
	e := newEnv(t, Config{})
	q := slotQuery(TimezoneSydneyID, "2025-03-10", "2025-03-16", "appointmentTypeId", AppointmentTypeReviewID)
	var first struct {
		Timeslots []slotWire `json:"timeslots"`
		Paging    pagingWire `json:"paging"`
	}
	e.get("AvailabilitySlot/", q).decode(t, &first)
	if first.Paging.PageSize != 50 || first.Paging.PageNumber != 1 || len(first.Timeslots) != 50 || first.Paging.TotalRows <= 100 {
		t.Fatalf("default page: %d slots, paging %+v", len(first.Timeslots), first.Paging)
	}
	all := e.slots(q)
	if len(all) != first.Paging.TotalRows || all[0] != first.Timeslots[0] {
		t.Fatalf("paged total %d, want %d", len(all), first.Paging.TotalRows)
	}
}
