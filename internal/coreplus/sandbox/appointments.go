package sandbox

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// reasonNotAvailable is coreplus's refusal text for a time that cannot be booked.
const reasonNotAvailable = "The selected time is not available for booking an appointment"

type practitionerRefJSON struct {
	PractitionerID string `json:"practitionerId"`
	FirstName      string `json:"firstName,omitempty"`
	LastName       string `json:"lastName,omitempty"`
}

type clientRefJSON struct {
	ClientID string `json:"clientId"`
}

// appointmentJSON is a list item; the get-one record adds the pointer fields.
type appointmentJSON struct {
	AppointmentID              string              `json:"appointmentId"`
	AppointmentReferenceNumber string              `json:"appointmentReferenceNumber"`
	Status                     string              `json:"status"`
	Practitioner               practitionerRefJSON `json:"practitioner"`
	Subject                    string              `json:"subject"`
	Notes                      *string             `json:"notes,omitempty"`
	LocationID                 string              `json:"locationId"`
	AppointmentTypeID          *string             `json:"appointmentTypeId"`
	StartDateTime              string              `json:"startDateTime"`
	EndDateTime                string              `json:"endDateTime"`
	Clients                    []clientRefJSON     `json:"clients"`
	NotifyPractitioner         *bool               `json:"notifyPractitioner,omitempty"`
	IsEmailReminderRequired    *bool               `json:"isEmailReminderRequired,omitempty"`
	IsSmsReminderRequired      *bool               `json:"isSmsReminderRequired,omitempty"`
}

// render formats a for the wire in loc. full adds the get-one fields.
func (s *Server) render(a Appointment, loc *time.Location, full, profiles bool) appointmentJSON {
	out := appointmentJSON{
		AppointmentID: a.ID, AppointmentReferenceNumber: a.ReferenceNumber, Status: a.Status,
		Practitioner: practitionerRefJSON{PractitionerID: a.PractitionerID},
		Subject:      a.Subject, LocationID: a.LocationID,
		StartDateTime: a.Start.In(loc).Format(appointmentLayout), EndDateTime: a.End.In(loc).Format(appointmentLayout),
		Clients: []clientRefJSON{{ClientID: a.ClientID}},
	}
	if a.AppointmentTypeID != "" {
		out.AppointmentTypeID = &a.AppointmentTypeID
	}
	if profiles {
		if p, ok := s.findPractitioner(a.PractitionerID); ok {
			out.Practitioner.FirstName, out.Practitioner.LastName = p.FirstName, p.LastName
		}
	}
	if full {
		out.Notes = &a.Notes
		out.NotifyPractitioner = &a.NotifyPractitioner
		out.IsEmailReminderRequired = &a.EmailReminder
		out.IsSmsReminderRequired = &a.SMSReminder
	}
	return out
}

// listAppointments serves GET Appointment: appointments starting in the date
// range, cancelled ones included, rendered in the requested zone.
func (s *Server) listAppointments(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	dq, err := s.parseDiaryQuery(q)
	if err != nil {
		writeError(w, err)
		return
	}
	profiles, err := parseBoolParam(q, "getPractitionerProfiles")
	if err != nil {
		writeError(w, err)
		return
	}
	s.mu.Lock()
	var found []Appointment
	for _, a := range s.appointments {
		if !a.Start.Before(dq.from) && a.Start.Before(dq.to) {
			found = append(found, a)
		}
	}
	s.mu.Unlock()
	sort.SliceStable(found, func(i, j int) bool { return found[i].Start.Before(found[j].Start) })
	start, end, info := dq.paging.page(len(found))
	items := make([]appointmentJSON, 0, end-start)
	for _, a := range found[start:end] {
		items = append(items, s.render(a, dq.zone.loc, false, profiles))
	}
	writeJSON(w, http.StatusOK, listBody("appointments", items, info))
}

func (s *Server) getAppointment(w http.ResponseWriter, r *http.Request, id string) {
	profiles, err := parseBoolParam(r.URL.Query(), "getPractitionerProfiles")
	if err != nil {
		writeError(w, err)
		return
	}
	s.mu.Lock()
	i := s.appointmentIndex(id)
	var a Appointment
	if i >= 0 {
		a = s.appointments[i]
	}
	s.mu.Unlock()
	if i < 0 {
		writeResult(w, http.StatusNotFound, "Appointment not found")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"appointment": s.render(a, s.locationZone(a.LocationID), true, profiles)})
}

// appointmentIndex finds an appointment by id, any case; -1 if none. Callers hold s.mu.
func (s *Server) appointmentIndex(id string) int {
	for i, a := range s.appointments {
		if strings.EqualFold(a.ID, id) {
			return i
		}
	}
	return -1
}

// createAppointment serves POST Appointment. The availability check and the
// insert happen under one lock, so two requests for one time cannot both win.
// A body naming an appointmentId with "deleted": true is the older cancel
// (the 2016 WordPress plugin's variant of §3.7) and cancels that appointment.
func (s *Server) createAppointment(w http.ResponseWriter, r *http.Request) {
	body, err := readObject(r)
	if err != nil {
		writeError(w, err)
		return
	}
	if id, ok, err := body.str("appointmentId"); err == nil && ok {
		deleted, _, err := body.boolean("deleted")
		if err != nil {
			writeError(w, err)
			return
		}
		if deleted {
			s.cancelAppointment(w, body, id)
			return
		}
	}
	a, err := s.appointmentFromBody(body)
	if err != nil {
		writeError(w, err)
		return
	}

	s.mu.Lock()
	client, ok := s.findClient(a.ClientID)
	if !ok {
		s.mu.Unlock()
		writeError(w, fail("clients[0].clientId "+a.ClientID+" does not match any client"))
		return
	}
	a.ClientID = client.ID
	if !s.bookable(a.PractitionerID, a.LocationID, a.Start, a.End, "") {
		s.mu.Unlock()
		writeResult(w, http.StatusOK, reasonNotAvailable)
		return
	}
	if a.Subject == "" {
		a.Subject = defaultSubject(client)
	}
	a.ID, a.ReferenceNumber, a.Status = s.newID(), s.nextReference(), "Booked"
	s.appointments = append(s.appointments, a)
	s.mu.Unlock()

	if s.storeThenDrop(r) {
		dropConnection(w)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"appointment": s.render(a, s.locationZone(a.LocationID), true, false)})
}

// defaultSubject is what coreplus writes when a booking has no subject: "VARGA Joanna 0412000111".
func defaultSubject(c Client) string {
	return strings.TrimSpace(strings.ToUpper(c.LastName) + " " + c.FirstName + " " + c.Mobile)
}

// appointmentFromBody validates a create body; it does not touch the diary.
func (s *Server) appointmentFromBody(body object) (Appointment, error) {
	var a Appointment
	if _, ok := body.raw("appointmentId"); ok {
		return a, fail("appointmentId must not be sent when booking, except with \"deleted\": true to cancel; to change an appointment POST to Appointment/{appointmentId}")
	}
	var err error
	if a.Start, a.End, err = timesFromBody(body, true); err != nil {
		return a, err
	}
	prac, ok, err := body.obj("practitioner")
	if err != nil {
		return a, err
	}
	if !ok {
		return a, fail("practitioner is required")
	}
	if a.PractitionerID, err = s.practitionerFrom(prac, "practitioner.practitionerId"); err != nil {
		return a, err
	}
	if a.LocationID, err = s.locationFrom(body); err != nil {
		return a, err
	}
	if a.ClientID, err = clientFromBody(body); err != nil {
		return a, err
	}
	if id, ok, err := body.str("appointmentTypeId"); err != nil {
		return a, err
	} else if ok && id != "" {
		t, found := s.findType(id)
		if !found {
			return a, fail("appointmentTypeId " + id + " does not match any appointment type")
		}
		a.AppointmentTypeID = t.ID
		if want := time.Duration(t.DurationMinutes) * time.Minute; a.End.Sub(a.Start) != want {
			return a, fail("endDateTime must be startDateTime plus the appointment type's " + t.Description + " length (" + want.String() + ")")
		}
	}
	if err := textField(body, "subject", 300, &a.Subject); err != nil {
		return a, err
	}
	if err := textField(body, "notes", 300, &a.Notes); err != nil {
		return a, err
	}
	for _, f := range []struct {
		name string
		dst  *bool
	}{{"isEmailReminderRequired", &a.EmailReminder}, {"isSmsReminderRequired", &a.SMSReminder}, {"notifyPractitioner", &a.NotifyPractitioner}} {
		v, _, err := body.boolean(f.name)
		if err != nil {
			return a, err
		}
		*f.dst = v
	}
	return a, nil
}

// timesFromBody reads startDateTime and endDateTime; with required false
// both may be absent, but never only one.
func timesFromBody(body object, required bool) (start, end time.Time, err error) {
	sv, sok, err := body.str("startDateTime")
	if err != nil {
		return start, end, err
	}
	ev, eok, err := body.str("endDateTime")
	if err != nil {
		return start, end, err
	}
	switch {
	case !sok && !eok && !required:
		return start, end, nil
	case !sok || sv == "":
		return start, end, fail("startDateTime is required")
	case !eok || ev == "":
		return start, end, fail("endDateTime is required")
	}
	if start, err = parseDateTimeOffset("startDateTime", sv); err != nil {
		return start, end, err
	}
	if end, err = parseDateTimeOffset("endDateTime", ev); err != nil {
		return start, end, err
	}
	if !end.After(start) {
		return start, end, fail("endDateTime must be after startDateTime")
	}
	return start, end, nil
}

func (s *Server) practitionerFrom(o object, name string) (string, error) {
	id, _, err := o.str("practitionerId")
	if err != nil {
		return "", fail(name + " must be a string")
	}
	if id == "" {
		return "", fail(name + " is required")
	}
	p, ok := s.findPractitioner(id)
	if !ok {
		return "", fail(name + " " + id + " does not match any practitioner")
	}
	return p.ID, nil
}

func (s *Server) locationFrom(body object) (string, error) {
	id, _, err := body.str("locationId")
	if err != nil {
		return "", err
	}
	if id == "" {
		return "", fail("locationId is required")
	}
	l, ok := s.findLocation(id)
	if !ok {
		return "", fail("locationId " + id + " does not match any location")
	}
	return l.ID, nil
}

// clientFromBody reads the single client of a booking; coreplus supports one.
func clientFromBody(body object) (string, error) {
	list, ok, err := body.array("clients")
	if err != nil {
		return "", err
	}
	switch {
	case !ok || len(list) == 0:
		return "", fail("clients is required and must hold one client")
	case len(list) > 1:
		return "", fail("clients must hold exactly one client: only one client per appointment is supported")
	}
	c, err := parseObject(list[0], "clients[0]")
	if err != nil {
		return "", err
	}
	id, _, err := c.str("clientId")
	if err != nil {
		return "", fail("clients[0].clientId must be a string")
	}
	if id == "" {
		return "", fail("clients[0].clientId is required")
	}
	return id, nil
}

func textField(body object, name string, maxLen int, dst *string) error {
	v, ok, err := body.str(name)
	if err != nil || !ok {
		return err
	}
	if len([]rune(v)) > maxLen {
		return fail(name + " must be at most " + strconv.Itoa(maxLen) + " characters")
	}
	*dst = v
	return nil
}

// updateAppointment serves POST Appointment/{id}: {"deleted": true} cancels;
// otherwise new times, practitioner, location, subject, notes or
// notifyPractitioner change the booking under the same rules as a new one.
func (s *Server) updateAppointment(w http.ResponseWriter, r *http.Request, id string) {
	body, err := readObject(r)
	if err != nil {
		writeError(w, err)
		return
	}
	deleted, _, err := body.boolean("deleted")
	if err != nil {
		writeError(w, err)
		return
	}
	if deleted {
		s.cancelAppointment(w, body, id)
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.appointmentIndex(id)
	if i < 0 {
		writeResult(w, http.StatusNotFound, "Appointment not found")
		return
	}
	a := s.appointments[i]
	if a.Status != "Booked" {
		writeError(w, fail("the appointment is cancelled and cannot be changed"))
		return
	}
	changed, err := s.applyUpdate(&a, body)
	if err != nil {
		writeError(w, err)
		return
	}
	if changed && !s.bookable(a.PractitionerID, a.LocationID, a.Start, a.End, a.ID) {
		writeResult(w, http.StatusOK, reasonNotAvailable)
		return
	}
	s.appointments[i] = a
	writeJSON(w, http.StatusOK, map[string]any{"appointment": s.render(a, s.locationZone(a.LocationID), true, false)})
}

// cancelAppointment marks an appointment cancelled, by either variant of
// §3.7. The record stays, so the list and get-one still show it, and the
// diary stops counting it, so its time is free again. Cancelling twice
// answers the same cancelled record.
func (s *Server) cancelAppointment(w http.ResponseWriter, body object, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.appointmentIndex(id)
	if i < 0 {
		writeResult(w, http.StatusNotFound, "Appointment not found")
		return
	}
	a := s.appointments[i]
	a.Status = "Cancelled"
	if err := textField(body, "notes", 300, &a.Notes); err != nil {
		writeError(w, err)
		return
	}
	s.appointments[i] = a
	writeJSON(w, http.StatusOK, map[string]any{"appointment": s.render(a, s.locationZone(a.LocationID), true, false)})
}

// applyUpdate copies the fields of an update body onto a and reports
// whether its time, practitioner or location changed. It accepts the
// practitioner nested (as on create) or as a top-level practitionerId (seen in public code).
func (s *Server) applyUpdate(a *Appointment, body object) (changed bool, err error) {
	start, end, err := timesFromBody(body, false)
	if err != nil {
		return false, err
	}
	if !start.IsZero() {
		if a.AppointmentTypeID != "" {
			t, _ := s.findType(a.AppointmentTypeID)
			if want := time.Duration(t.DurationMinutes) * time.Minute; end.Sub(start) != want {
				return false, fail("endDateTime must be startDateTime plus the appointment type's " + t.Description + " length (" + want.String() + ")")
			}
		}
		a.Start, a.End, changed = start, end, true
	}
	if prac, ok, err := body.obj("practitioner"); err != nil {
		return false, err
	} else if ok {
		if a.PractitionerID, err = s.practitionerFrom(prac, "practitioner.practitionerId"); err != nil {
			return false, err
		}
		changed = true
	} else if _, ok := body.raw("practitionerId"); ok {
		if a.PractitionerID, err = s.practitionerFrom(body, "practitionerId"); err != nil {
			return false, err
		}
		changed = true
	}
	if _, ok := body.raw("locationId"); ok {
		if a.LocationID, err = s.locationFrom(body); err != nil {
			return false, err
		}
		changed = true
	}
	if err := textField(body, "subject", 300, &a.Subject); err != nil {
		return false, err
	}
	if err := textField(body, "notes", 300, &a.Notes); err != nil {
		return false, err
	}
	if v, ok, err := body.boolean("notifyPractitioner"); err != nil {
		return false, err
	} else if ok {
		a.NotifyPractitioner = v
	}
	return changed, nil
}
