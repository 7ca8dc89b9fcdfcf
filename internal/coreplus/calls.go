package coreplus

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// ListLocations returns the practice's locations with their time zones.
func (a *API) ListLocations(ctx context.Context) ([]Location, error) {
	return list[locationsPage](ctx, a, call{method: http.MethodGet, path: "Location/"}, wireLocation.domain)
}

// ListPractitioners returns every practitioner.
func (a *API) ListPractitioners(ctx context.Context) ([]Practitioner, error) {
	return list[practitionersPage](ctx, a, call{method: http.MethodGet, path: "Practitioner/"}, wirePractitioner.domain)
}

// ListAppointmentTypes returns the bookable services and their lengths.
func (a *API) ListAppointmentTypes(ctx context.Context) ([]AppointmentType, error) {
	return list[appointmentTypesPage](ctx, a, call{method: http.MethodGet, path: "AppointmentType/"}, wireAppointmentType.domain)
}

// FindAvailability returns the free slots matching q, from every page.
func (a *API) FindAvailability(ctx context.Context, q SlotQuery) ([]Slot, error) {
	c := call{method: http.MethodGet, path: "AvailabilitySlot/"}
	if err := checkRange(c, q.StartDate, q.EndDate, q.TimezoneID); err != nil {
		return nil, err
	}
	c.query = url.Values{
		"startDate":  {q.StartDate},
		"endDate":    {q.EndDate},
		"timezoneId": {q.TimezoneID},
	}
	// Repeated parameters, as coreplus documents for several ids.
	for _, id := range q.PractitionerIDs {
		c.query.Add("practitionerId", id)
	}
	for _, id := range q.LocationIDs {
		c.query.Add("locationId", id)
	}
	if q.AppointmentTypeID != "" {
		c.query.Set("appointmentTypeId", q.AppointmentTypeID)
	}
	slots, err := list[slotsPage](ctx, a, c, wireSlot.domain)
	// A slot without both times cannot be offered or booked.
	return slices.DeleteFunc(slots, func(s Slot) bool { return s.Start.IsZero() || s.End.IsZero() }), err
}

// SearchClients returns the clients matching every field set in q, from every page.
func (a *API) SearchClients(ctx context.Context, q ClientSearch) ([]Client, error) {
	c := call{method: http.MethodGet, path: "Client/", query: url.Values{}}
	if s := strings.TrimSpace(q.Name); s != "" {
		c.query.Set("name", s)
	}
	if q.DateOfBirth != nil {
		if !q.DateOfBirth.Valid() {
			return nil, &Error{Kind: ErrRejected, Op: c.op(), Reason: "dateOfBirth is not a real date"}
		}
		c.query.Set("dateOfBirth", q.DateOfBirth.String())
	}
	if s := strings.TrimSpace(q.Mobile); s != "" {
		c.query.Set("mobile", s)
	}
	return list[clientsPage](ctx, a, c, wireClient.domain)
}

// GetClient returns one client, with the email and mobile the list leaves out.
func (a *API) GetClient(ctx context.Context, id string) (Client, error) {
	c, err := itemCall(http.MethodGet, "Client/", id)
	if err != nil {
		return Client{}, err
	}
	var body clientBody
	if err := a.do(ctx, c, &body); err != nil {
		return Client{}, err
	}
	if !body.present() {
		return Client{}, &Error{Kind: ErrUnavailable, Op: c.op(), Status: http.StatusOK, Reason: "answer has no client record"}
	}
	return body.record().domain(), nil
}

// CreateClient adds a client and returns its id. coreplus does not
// deduplicate: search first.
func (a *API) CreateClient(ctx context.Context, nc NewClient) (string, error) {
	c := call{method: http.MethodPost, path: "Client/"}
	var missing []string
	if strings.TrimSpace(nc.FirstName) == "" {
		missing = append(missing, "firstName")
	}
	if strings.TrimSpace(nc.LastName) == "" {
		missing = append(missing, "lastName")
	}
	if !nc.DateOfBirth.Valid() {
		missing = append(missing, "dateOfBirth")
	}
	if len(missing) > 0 {
		return "", &Error{Kind: ErrRejected, Op: c.op(), Reason: "not sent: missing or invalid " + strings.Join(missing, ", ")}
	}
	c.body = newClientWire(nc)
	var body createdClientBody
	if err := a.do(ctx, c, &body); err != nil {
		return "", err
	}
	if !body.present() {
		// The client may exist; only a search can tell.
		return "", &Error{Kind: ErrUnavailable, Op: c.op(), Status: http.StatusOK, Sent: true, Reason: "answer has no clientId"}
	}
	return body.id(), nil
}

// CreateAppointment books na. A refusal because the time is taken is
// ErrSlotUnavailable, whatever HTTP status coreplus used.
func (a *API) CreateAppointment(ctx context.Context, na NewAppointment) (Appointment, error) {
	c := call{method: http.MethodPost, path: "Appointment/"}
	var missing []string
	if na.Start.IsZero() || na.End.IsZero() || !na.End.After(na.Start) {
		missing = append(missing, "startDateTime/endDateTime")
	}
	if na.PractitionerID == "" {
		missing = append(missing, "practitionerId")
	}
	if na.LocationID == "" {
		missing = append(missing, "locationId")
	}
	if na.ClientID == "" {
		missing = append(missing, "clientId")
	}
	if len(missing) > 0 {
		return Appointment{}, &Error{Kind: ErrRejected, Op: c.op(), Reason: "not sent: missing or invalid " + strings.Join(missing, ", ")}
	}
	c.body = newAppointmentWire(na)
	return a.writeAppointment(ctx, c)
}

// writeAppointment sends a booking or a move, which coreplus answers alike:
// the appointment, or a refusal (a time taken is ErrSlotUnavailable,
// whatever HTTP status coreplus used). An answer with neither leaves it
// unknown whether the write happened: ErrUnavailable, marked Sent.
func (a *API) writeAppointment(ctx context.Context, c call) (Appointment, error) {
	var body appointmentBody
	if err := a.do(ctx, c, &body); err != nil {
		var e *Error
		if errors.As(err, &e) && e.Kind == ErrRejected && slotTaken(e.Reason) {
			e.Kind = ErrSlotUnavailable
		}
		return Appointment{}, err
	}
	if !body.present() {
		return Appointment{}, &Error{Kind: ErrUnavailable, Op: c.op(), Status: http.StatusOK, Sent: true, Reason: "answer has no appointment"}
	}
	return body.Appointment.domain(), nil
}

// GetAppointment returns one appointment.
func (a *API) GetAppointment(ctx context.Context, id string) (Appointment, error) {
	c, err := itemCall(http.MethodGet, "Appointment/", id)
	if err != nil {
		return Appointment{}, err
	}
	var body appointmentBody
	if err := a.do(ctx, c, &body); err != nil {
		return Appointment{}, err
	}
	if !body.present() {
		return Appointment{}, &Error{Kind: ErrUnavailable, Op: c.op(), Status: http.StatusOK, Reason: "answer has no appointment"}
	}
	return body.Appointment.domain(), nil
}

// ListAppointments returns the appointments in q's date range, from every
// page, keeping only q.ClientID's when it is set.
func (a *API) ListAppointments(ctx context.Context, q AppointmentQuery) ([]Appointment, error) {
	c := call{method: http.MethodGet, path: "Appointment/"}
	if err := checkRange(c, q.StartDate, q.EndDate, q.TimezoneID); err != nil {
		return nil, err
	}
	c.query = url.Values{
		"startDate":  {q.StartDate},
		"endDate":    {q.EndDate},
		"timezoneId": {q.TimezoneID},
	}
	if q.ClientID != "" {
		// Undocumented upstream filter: it may narrow the pages; we filter anyway.
		c.query.Set("clientId", q.ClientID)
	}
	appointments, err := list[appointmentsPage](ctx, a, c, wireAppointment.domain)
	return slices.DeleteFunc(appointments, func(ap Appointment) bool { return q.ClientID != "" && !hasClient(ap, q.ClientID) }), err
}

// UpdateAppointment moves the appointment id in place to m's time and
// practitioner: POST /Appointment/{id}, as public clients do (§3.7). A
// refusal because the new time is taken is ErrSlotUnavailable, as on create;
// the appointment then keeps its old time.
func (a *API) UpdateAppointment(ctx context.Context, id string, m AppointmentMove) (Appointment, error) {
	c, err := itemCall(http.MethodPost, "Appointment/", id)
	if err != nil {
		return Appointment{}, err
	}
	if m.Start.IsZero() || m.End.IsZero() || !m.End.After(m.Start) || m.PractitionerID == "" {
		return Appointment{}, &Error{Kind: ErrRejected, Op: c.op(), Reason: "not sent: missing or invalid startDateTime/endDateTime/practitionerId"}
	}
	c.body = moveBody{
		StartDateTime:      m.Start.Format(timeLayout),
		EndDateTime:        m.End.Format(timeLayout),
		Practitioner:       wirePractitionerRef{PractitionerID: looseString(m.PractitionerID)},
		Notes:              m.Notes,
		NotifyPractitioner: m.NotifyPractitioner,
	}
	return a.writeAppointment(ctx, c)
}

// CancelAppointment cancels the appointment with the given id, the way
// public clients do: POST /Appointment/{id} {"deleted": true}.
func (a *API) CancelAppointment(ctx context.Context, id string) error {
	c, err := itemCall(http.MethodPost, "Appointment/", id)
	if err != nil {
		return err
	}
	c.body = cancelBody{Deleted: true}
	var body appointmentBody
	return a.do(ctx, c, &body)
}

// itemCall addresses one record; an empty or dot id would address the list
// or its parent instead.
func itemCall(method, collection, id string) (call, error) {
	c := call{method: method, path: collection + url.PathEscape(id), route: collection + "{id}"}
	if s := strings.TrimSpace(id); s == "" || s == "." || s == ".." {
		return c, &Error{Kind: ErrNotFound, Op: method + " /" + collection + "{id}", Reason: "no id given"}
	}
	return c, nil
}

func hasClient(a Appointment, id string) bool {
	for _, c := range a.ClientIDs {
		if strings.EqualFold(c, id) {
			return true
		}
	}
	return false
}

// checkRange refuses, before sending, a query coreplus would refuse.
func checkRange(c call, start, end, timezoneID string) error {
	s, err1 := time.Parse(dateLayout, start)
	e, err2 := time.Parse(dateLayout, end)
	switch {
	case err1 != nil || err2 != nil:
		return &Error{Kind: ErrRejected, Op: c.op(), Reason: "not sent: startDate and endDate must be YYYY-MM-DD"}
	case e.Before(s):
		return &Error{Kind: ErrRejected, Op: c.op(), Reason: "not sent: endDate is before startDate"}
	case strings.TrimSpace(timezoneID) == "":
		return &Error{Kind: ErrRejected, Op: c.op(), Reason: "not sent: timezoneId is required"}
	}
	return nil
}
