package sandbox

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

type appointmentBody struct {
	Appointment *appointmentWire `json:"appointment"`
}

// bookResult posts a booking and returns the appointment, or nil and the refusal reason.
func (e *env) book(body map[string]any) (*appointmentWire, string) {
	e.t.Helper()
	resp := e.post("Appointment/", body)
	if resp.status != http.StatusOK {
		e.t.Fatalf("booking: status %d %s", resp.status, resp.body)
	}
	var out appointmentBody
	resp.decode(e.t, &out)
	if out.Appointment == nil {
		return nil, strings.Join(resp.reasons(), "; ")
	}
	return out.Appointment, ""
}

func (e *env) listAppointments(date string) []appointmentWire {
	e.t.Helper()
	var body struct {
		Appointments []appointmentWire `json:"appointments"`
		Paging       pagingWire        `json:"paging"`
	}
	e.get("Appointment/", url.Values{"startDate": {date}, "endDate": {date}, "timezoneId": {TimezoneSydneyID},
		"pageSize": {"100"}, "clientId": {ClientPeterNguyenID}}).decode(e.t, &body)
	return body.Appointments
}

func hasSlot(slots []slotWire, start string) bool {
	for _, s := range slots {
		if s.StartDateTime == start {
			return true
		}
	}
	return false
}

func TestBookingLifecycle(t *testing.T) {
	e := newEnv(t, Config{})
	q := func() url.Values {
		return slotQuery(TimezoneSydneyID, "2025-03-11", "2025-03-11", "practitionerId", PractitionerPriyaID,
			"locationId", LocationSydneyID, "appointmentTypeId", AppointmentTypeStandardID)
	}
	free := e.slots(q())
	if len(free) == 0 {
		t.Fatal("no free time for Priya on 11 March")
	}
	slot := free[0]
	start := parseSlotTime(t, slot.StartDateTime)

	a, reason := e.book(booking(PractitionerPriyaID, LocationSydneyID, AppointmentTypeStandardID, ClientJoannaVargaID, start, 30))
	if a == nil {
		t.Fatalf("booking a free slot refused: %s", reason)
	}
	if a.Status != "Booked" || a.Subject != "VARGA Joanna 0412000111" || a.Clients[0].ClientID != ClientJoannaVargaID {
		t.Fatalf("booked %+v", a)
	}
	if n, err := strconv.Atoi(a.AppointmentReferenceNumber); err != nil || n < firstReference {
		t.Fatalf("reference number %q", a.AppointmentReferenceNumber)
	}
	wantStart := start.In(sydney).Format(appointmentLayout)
	if a.StartDateTime != wantStart || !strings.Contains(a.StartDateTime, " +11:00") {
		t.Fatalf("startDateTime %q, want %q (space before offset)", a.StartDateTime, wantStart)
	}

	var one appointmentBody
	e.get("Appointment/"+a.AppointmentID+"/", url.Values{"getPractitionerProfiles": {"true"}}).decode(t, &one)
	if one.Appointment == nil || one.Appointment.AppointmentID != a.AppointmentID || one.Appointment.StartDateTime != wantStart ||
		one.Appointment.Practitioner.LastName != "Nandakumar" {
		t.Fatalf("get one: %+v", one.Appointment)
	}
	listed := false
	for _, x := range e.listAppointments("2025-03-11") {
		listed = listed || x.AppointmentID == a.AppointmentID
	}
	if !listed {
		t.Fatal("new appointment missing from the list")
	}
	if hasSlot(e.slots(q()), slot.StartDateTime) {
		t.Fatal("booked time still offered")
	}

	// Same time, and a time overlapping by 15 minutes, are refused with the conflict body.
	for _, s := range []time.Time{start, start.Add(15 * time.Minute)} {
		if b, reason := e.book(booking(PractitionerPriyaID, LocationSydneyID, AppointmentTypeStandardID, ClientPeterNguyenID, s, 30)); b != nil || reason != reasonNotAvailable {
			t.Fatalf("overlap at %v: got %+v, reason %q", s, b, reason)
		}
	}

	// Cancelling frees the time and keeps the record.
	var cancelled appointmentBody
	e.post("Appointment/"+a.AppointmentID, map[string]any{"deleted": "true"}).decode(t, &cancelled)
	if cancelled.Appointment == nil || cancelled.Appointment.Status != "Cancelled" {
		t.Fatalf("cancel answered %+v", cancelled.Appointment)
	}
	e.get("Appointment/"+a.AppointmentID, nil).decode(t, &one)
	if one.Appointment.Status != "Cancelled" {
		t.Fatalf("after cancel, get one says %q", one.Appointment.Status)
	}
	if !hasSlot(e.slots(q()), slot.StartDateTime) {
		t.Fatal("cancelled time not offered again")
	}
	if b, reason := e.book(booking(PractitionerPriyaID, LocationSydneyID, "", ClientPeterNguyenID, start, 30)); b == nil {
		t.Fatalf("rebooking the freed time: %s", reason)
	}
	statuses := map[string]string{}
	for _, x := range e.listAppointments("2025-03-11") {
		statuses[x.AppointmentID] = x.Status
	}
	if statuses[a.AppointmentID] != "Cancelled" {
		t.Fatalf("list shows the cancelled appointment as %q", statuses[a.AppointmentID])
	}
}

func TestBookingOutsideRoster(t *testing.T) {
	e := newEnvAt(t, time.Date(2025, 3, 10, 9, 0, 0, 0, sydney), Config{})
	e.clearDiary()
	at := func(day, h, m int) time.Time { return time.Date(2025, 3, day, h, m, 0, 0, sydney) }
	tests := []struct {
		name  string
		loc   string
		start time.Time
		mins  int
	}{
		{"lunch break", LocationSydneyID, at(11, 12, 30), 30},
		{"straddles lunch", LocationSydneyID, at(11, 12, 15), 30},
		{"before the day starts", LocationSydneyID, at(11, 7, 45), 30},
		{"runs past the end", LocationSydneyID, at(11, 16, 45), 30},
		{"wrong location for the day", LocationBrisbaneID, at(11, 10, 0), 30},
		{"not rostered on Saturday", LocationSydneyID, at(15, 9, 0), 30},
		{"in the past", LocationSydneyID, at(10, 8, 0), 30},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if a, reason := e.book(booking(PractitionerPriyaID, tc.loc, "", ClientJoannaVargaID, tc.start, tc.mins)); a != nil || reason != reasonNotAvailable {
				t.Fatalf("got %+v, reason %q", a, reason)
			}
		})
	}
	// The wire forms with a space before the offset, and the doc's pattern, are accepted.
	for i, form := range []string{"2025-03-11T10:00:00 +11:00", "2025-03-11 10:30 +11:00"} {
		start, _ := parseDateTimeOffset("x", form)
		body := booking(PractitionerPriyaID, LocationSydneyID, "", ClientJoannaVargaID, start, 30)
		body["startDateTime"] = form
		body["notifyPractitioner"] = "true"
		if a, reason := e.book(body); a == nil {
			t.Fatalf("form %d %q refused: %s", i, form, reason)
		}
	}
	if len(e.srv.Appointments()) != 2 {
		t.Fatalf("diary holds %d appointments, want 2", len(e.srv.Appointments()))
	}
}

func TestBookingValidation(t *testing.T) {
	e := newEnv(t, Config{})
	e.clearDiary()
	start := time.Date(2025, 3, 11, 10, 0, 0, 0, sydney)
	valid := func() map[string]any {
		return booking(PractitionerPriyaID, LocationSydneyID, AppointmentTypeStandardID, ClientJoannaVargaID, start, 30)
	}
	tests := []struct {
		name   string
		edit   func(b map[string]any)
		reason string
	}{
		{"no start", func(b map[string]any) { delete(b, "startDateTime") }, "startDateTime is required"},
		{"no end", func(b map[string]any) { delete(b, "endDateTime") }, "endDateTime is required"},
		{"no offset", func(b map[string]any) { b["startDateTime"] = "2025-03-11T10:00:00" }, "startDateTime must be a date-time with a UTC offset"},
		{"end before start", func(b map[string]any) { b["endDateTime"] = "2025-03-11T09:00:00+11:00" }, "endDateTime must be after startDateTime"},
		{"no practitioner", func(b map[string]any) { delete(b, "practitioner") }, "practitioner is required"},
		{"flat practitionerId", func(b map[string]any) { delete(b, "practitioner"); b["practitionerId"] = PractitionerPriyaID }, "practitioner is required"},
		{"unknown practitioner", func(b map[string]any) { b["practitioner"] = map[string]any{"practitionerId": ClientJoannaVargaID} }, "practitioner.practitionerId"},
		{"no location", func(b map[string]any) { delete(b, "locationId") }, "locationId is required"},
		{"unknown location", func(b map[string]any) { b["locationId"] = PractitionerTomID }, "locationId"},
		{"no clients", func(b map[string]any) { b["clients"] = []any{} }, "clients is required"},
		{"two clients", func(b map[string]any) {
			b["clients"] = []map[string]any{{"clientId": ClientJoannaVargaID}, {"clientId": ClientPeterNguyenID}}
		}, "exactly one client"},
		{"unknown client", func(b map[string]any) { b["clients"] = []map[string]any{{"clientId": PractitionerTomID}} }, "clients[0].clientId"},
		{"unknown type", func(b map[string]any) { b["appointmentTypeId"] = PractitionerTomID }, "appointmentTypeId"},
		{"length not the type's", func(b map[string]any) { b["appointmentTypeId"] = AppointmentTypeInitialID }, "endDateTime must be startDateTime plus"},
		{"long notes", func(b map[string]any) { b["notes"] = strings.Repeat("n", 301) }, "notes must be at most 300"},
		{"long subject", func(b map[string]any) { b["subject"] = strings.Repeat("s", 301) }, "subject must be at most 300"},
		{"bad boolean", func(b map[string]any) { b["isSmsReminderRequired"] = "yes" }, "isSmsReminderRequired must be true or false"},
		{"number for a string", func(b map[string]any) { b["locationId"] = 42 }, "locationId must be a string"},
		{"appointmentId on a booking", func(b map[string]any) { b["appointmentId"] = "x" }, "appointmentId must not be sent"},
		{"appointmentId not deleted", func(b map[string]any) { b["appointmentId"] = "x"; b["deleted"] = "false" }, "appointmentId must not be sent"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := valid()
			tc.edit(b)
			resp := e.post("Appointment/", b)
			if resp.status != http.StatusBadRequest || !resp.hasReason(tc.reason) {
				t.Fatalf("status %d body %s, want 400 with %q", resp.status, resp.body, tc.reason)
			}
		})
	}
	req := e.newRequest(http.MethodPost, e.url("Appointment/", nil), nil)
	req.Body = http.NoBody
	if resp := e.send(req); resp.status != http.StatusBadRequest || !resp.hasReason("JSON object") {
		t.Fatalf("empty body: %d %s", resp.status, resp.body)
	}
	if len(e.srv.Appointments()) != 0 {
		t.Fatal("an invalid booking was stored")
	}
	// Field names match in any case, and Boolean strings are accepted.
	b := valid()
	b["StartDateTime"] = b["startDateTime"]
	delete(b, "startDateTime")
	b["isEmailReminderRequired"] = "True"
	if a, reason := e.book(b); a == nil {
		t.Fatalf("valid booking refused: %s", reason)
	}
}

// TestCancelViaCollection: the 2016 plugin's cancel, POST Appointment/ with
// the id and "deleted": "true", cancels in place like the other variant:
// the answer and both read-backs say Cancelled and the time is free again.
func TestCancelViaCollection(t *testing.T) {
	e := newEnv(t, Config{})
	e.clearDiary()
	q := slotQuery(TimezoneSydneyID, "2025-03-11", "2025-03-11", "practitionerId", PractitionerPriyaID,
		"locationId", LocationSydneyID, "appointmentTypeId", AppointmentTypeStandardID)
	free := e.slots(q)
	if len(free) == 0 {
		t.Fatal("no free time for Priya on 11 March")
	}
	want := free[0].StartDateTime
	start := parseSlotTime(t, want)
	a, reason := e.book(booking(PractitionerPriyaID, LocationSydneyID, AppointmentTypeStandardID, ClientPeterNguyenID, start, 30))
	if a == nil {
		t.Fatalf("booking refused: %s", reason)
	}
	if hasSlot(e.slots(q), want) {
		t.Fatal("booked time still offered")
	}
	var cancelled appointmentBody
	resp := e.post("Appointment/", map[string]any{"appointmentId": a.AppointmentID, "deleted": "true"})
	resp.decode(t, &cancelled)
	if resp.status != http.StatusOK || cancelled.Appointment == nil || cancelled.Appointment.Status != "Cancelled" ||
		cancelled.Appointment.AppointmentID != a.AppointmentID {
		t.Fatalf("cancel via collection: %d %s", resp.status, resp.body)
	}
	if n := len(e.srv.Appointments()); n != 1 {
		t.Fatalf("diary holds %d appointments after a cancel, want the one record kept", n)
	}
	var one appointmentBody
	e.get("Appointment/"+a.AppointmentID, nil).decode(t, &one)
	if one.Appointment == nil || one.Appointment.Status != "Cancelled" {
		t.Fatalf("get one after cancel: %+v", one.Appointment)
	}
	list := e.listAppointments("2025-03-11")
	if len(list) != 1 || list[0].Status != "Cancelled" {
		t.Fatalf("list after cancel: %+v", list)
	}
	if !hasSlot(e.slots(q), want) {
		t.Fatal("cancelled time not offered again")
	}
	// Cancelling again answers the same cancelled record; an unknown id is 404.
	resp = e.post("Appointment/", map[string]any{"appointmentId": a.AppointmentID, "deleted": true})
	if resp.status != http.StatusOK {
		t.Fatalf("second cancel: %d %s", resp.status, resp.body)
	}
	if resp := e.post("Appointment/", map[string]any{"appointmentId": ClientJoannaVargaID, "deleted": "true"}); resp.status != http.StatusNotFound {
		t.Fatalf("cancel of an unknown id: %d %s", resp.status, resp.body)
	}
}

func TestRescheduleAndNotFound(t *testing.T) {
	e := newEnv(t, Config{})
	e.clearDiary()
	at := func(h, m int) time.Time { return time.Date(2025, 3, 11, h, m, 0, 0, sydney) }
	a, _ := e.book(booking(PractitionerPriyaID, LocationSydneyID, AppointmentTypeStandardID, ClientJoannaVargaID, at(9, 0), 30))
	b, _ := e.book(booking(PractitionerPriyaID, LocationSydneyID, AppointmentTypeStandardID, ClientPeterNguyenID, at(10, 0), 30))
	if a == nil || b == nil {
		t.Fatal("setup bookings refused")
	}
	move := func(id string, start time.Time) response {
		return e.post("Appointment/"+id+"/", map[string]any{
			"startDateTime": start.Format(time.RFC3339), "endDateTime": start.Add(30 * time.Minute).Format(time.RFC3339),
			"notes": "Moved by patient", "notifyPractitioner": "true",
		})
	}
	if resp := move(a.AppointmentID, at(10, 15)); !resp.hasReason(reasonNotAvailable) || resp.status != http.StatusOK {
		t.Fatalf("move onto another booking: %d %s", resp.status, resp.body)
	}
	var moved appointmentBody
	move(a.AppointmentID, at(9, 15)).decode(t, &moved) // overlaps only itself
	if moved.Appointment == nil || moved.Appointment.StartDateTime != "2025-03-11T09:15:00 +11:00" || moved.Appointment.Notes != "Moved by patient" {
		t.Fatalf("moved: %+v", moved.Appointment)
	}
	e.post("Appointment/"+a.AppointmentID, map[string]any{"deleted": true})
	if resp := move(a.AppointmentID, at(11, 0)); resp.status != http.StatusBadRequest {
		t.Fatalf("moving a cancelled appointment: %d", resp.status)
	}
	for _, resp := range []response{
		e.get("Appointment/"+ClientJoannaVargaID, nil),
		e.post("Appointment/"+ClientJoannaVargaID, map[string]any{"deleted": true}),
	} {
		if resp.status != http.StatusNotFound || len(resp.reasons()) != 1 {
			t.Fatalf("unknown appointment: %d %s", resp.status, resp.body)
		}
	}
}

// TestConcurrentBookings: 50 patients race for one time; exactly one wins.
func TestConcurrentBookings(t *testing.T) {
	e := newEnv(t, Config{})
	e.clearDiary()
	start := time.Date(2025, 3, 11, 14, 0, 0, 0, sydney)
	const n = 50
	reqs := make([]*http.Request, n)
	for i := range reqs {
		reqs[i] = e.newRequest(http.MethodPost, e.url("Appointment/", nil),
			booking(PractitionerPriyaID, LocationSydneyID, AppointmentTypeStandardID, ClientOliviaSmithID, start, 30))
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	won, conflicts := 0, 0
	for _, req := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := e.ts.Client().Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			r := response{status: resp.StatusCode}
			var body appointmentBody
			buf := new(strings.Builder)
			_, _ = copyBody(buf, resp)
			r.body = []byte(buf.String())
			mu.Lock()
			defer mu.Unlock()
			switch {
			case r.status == http.StatusOK && r.hasReason(reasonNotAvailable):
				conflicts++
			case r.status == http.StatusOK && jsonOK(r.body, &body) && body.Appointment != nil:
				won++
			default:
				t.Errorf("unexpected answer %d %s", r.status, r.body)
			}
		}()
	}
	wg.Wait()
	if won != 1 || conflicts != n-1 {
		t.Fatalf("%d succeeded and %d conflicted, want 1 and %d", won, conflicts, n-1)
	}
	if got := len(e.srv.Appointments()); got != 1 {
		t.Fatalf("diary holds %d appointments, want 1", got)
	}
}
