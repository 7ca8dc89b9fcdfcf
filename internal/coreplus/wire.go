package coreplus

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"
)

// Wire structs mirror coreplus's JSON. encoding/json matches names without
// regard to case and skips unknown fields, which covers "ExternalId" vs
// "externalId" and fields coreplus adds later.

// wireResult is one entry of coreplus's "result" array, its way of saying no.
type wireResult struct {
	Severity looseInt    `json:"severity"`
	Reason   looseString `json:"reason"`
	Message  looseString `json:"message"`
}

// results accepts an array of results, a single result object, or plain
// text, and skips entries it cannot read: a refusal's shape must never make a
// good answer fail to decode.
type results []wireResult

func (r *results) UnmarshalJSON(b []byte) error {
	*r = nil
	b = bytes.TrimSpace(b)
	if isNull(b) {
		return nil
	}
	var items []json.RawMessage
	if b[0] == '[' {
		// Into a nil slice: a RawMessage reuses its backing array, and b is the decoder's.
		if json.Unmarshal(b, &items) != nil {
			return nil
		}
	} else {
		items = []json.RawMessage{b}
	}
	for _, item := range items {
		item = bytes.TrimSpace(item)
		var one wireResult
		switch {
		case len(item) > 0 && item[0] == '{':
			if json.Unmarshal(item, &one) != nil {
				continue
			}
		default:
			var s looseString
			if json.Unmarshal(item, &s) != nil {
				continue
			}
			one.Reason = s
		}
		*r = append(*r, one)
	}
	return nil
}

// reason joins the texts of every entry.
func (r results) reason() string {
	var parts []string
	for _, x := range r {
		text := strings.TrimSpace(string(x.Reason))
		if text == "" {
			text = strings.TrimSpace(string(x.Message))
		}
		if text != "" {
			parts = append(parts, text)
		}
	}
	return strings.Join(parts, "; ")
}

// wireStatus is embedded in every response body so a refusal can be spotted
// whatever the HTTP status.
type wireStatus struct {
	Result results `json:"result"`
}

func (s *wireStatus) failure() results { return s.Result }

// envelope is what do decodes a 2xx answer into: present reports whether the
// payload the call asked for is there; failure is coreplus's refusal, if any.
type envelope interface {
	present() bool
	failure() results
}

// wirePaging is the "paging" object of list responses.
type wirePaging struct {
	TotalRows  looseInt `json:"totalRows"`
	PageNumber looseInt `json:"pageNumber"`
	PageSize   looseInt `json:"pageSize"`
}

type wireList struct {
	wireStatus
	Paging *wirePaging `json:"paging"`
}

func (l *wireList) paging() *wirePaging { return l.Paging }

type wireLocation struct {
	LocationID looseString `json:"locationId"`
	Name       looseString `json:"name"`
	TimeZone   *struct {
		TzName     looseString `json:"tzName"`
		TimezoneID looseString `json:"timezoneId"`
	} `json:"timeZone"`
	// Flat forms, in case a version returns the zone beside the name.
	TzName     looseString     `json:"tzName"`
	TimezoneID looseString     `json:"timezoneId"`
	Address    json.RawMessage `json:"address"`
	Phone      looseString     `json:"phone"`
	PhoneNo    looseString     `json:"phoneNumber"`
}

func (w wireLocation) domain() Location {
	l := Location{
		ID:         string(w.LocationID),
		Name:       string(w.Name),
		TimezoneID: string(w.TimezoneID),
		Address:    addressText(w.Address),
		Phone:      firstNonEmpty(string(w.Phone), string(w.PhoneNo)),
	}
	tz := string(w.TzName)
	if w.TimeZone != nil {
		tz = firstNonEmpty(string(w.TimeZone.TzName), tz)
		l.TimezoneID = firstNonEmpty(string(w.TimeZone.TimezoneID), l.TimezoneID)
	}
	// One public client had to turn "\" into "/" before loading the zone.
	l.TimeZoneName = strings.ReplaceAll(strings.TrimSpace(tz), `\`, "/")
	return l
}

// addressText renders an address that may be a string or an object.
func addressText(raw json.RawMessage) string {
	if isNull(raw) {
		return ""
	}
	var s looseString
	if json.Unmarshal(raw, &s) == nil {
		return strings.TrimSpace(string(s))
	}
	var a struct {
		StreetAddress looseString `json:"streetAddress"`
		Address1      looseString `json:"address1"`
		Address2      looseString `json:"address2"`
		Suburb        looseString `json:"suburb"`
		City          looseString `json:"city"`
		State         looseString `json:"state"`
		Postcode      looseString `json:"postcode"`
	}
	if json.Unmarshal(raw, &a) != nil {
		return ""
	}
	var parts []string
	for _, p := range []looseString{a.StreetAddress, a.Address1, a.Address2, a.Suburb, a.City} {
		if t := strings.TrimSpace(string(p)); t != "" {
			parts = append(parts, t)
		}
	}
	tail := strings.TrimSpace(strings.TrimSpace(string(a.State)) + " " + strings.TrimSpace(string(a.Postcode)))
	if tail != "" {
		parts = append(parts, tail)
	}
	return strings.Join(parts, ", ")
}

type locationsPage struct {
	wireList
	Locations []wireLocation `json:"locations"`
}

func (p *locationsPage) present() bool         { return p.Locations != nil }
func (p *locationsPage) items() []wireLocation { return p.Locations }

type wirePractitioner struct {
	PractitionerID looseString `json:"practitionerId"`
	FirstName      looseString `json:"firstName"`
	LastName       looseString `json:"lastName"`
}

func (w wirePractitioner) domain() Practitioner {
	return Practitioner{ID: string(w.PractitionerID), FirstName: string(w.FirstName), LastName: string(w.LastName)}
}

type practitionersPage struct {
	wireList
	Practitioners []wirePractitioner `json:"practitioners"`
}

func (p *practitionersPage) present() bool             { return p.Practitioners != nil }
func (p *practitionersPage) items() []wirePractitioner { return p.Practitioners }

type wireAppointmentType struct {
	AppointmentTypeID looseString `json:"appointmentTypeId"`
	Description       looseString `json:"description"`
	Name              looseString `json:"name"`
	DurationMinutes   looseInt    `json:"durationMinutes"`
}

func (w wireAppointmentType) domain() AppointmentType {
	return AppointmentType{
		ID:              string(w.AppointmentTypeID),
		Description:     firstNonEmpty(string(w.Description), string(w.Name)),
		DurationMinutes: int(w.DurationMinutes),
	}
}

type appointmentTypesPage struct {
	wireList
	AppointmentTypes []wireAppointmentType `json:"appointmentTypes"`
}

func (p *appointmentTypesPage) present() bool                { return p.AppointmentTypes != nil }
func (p *appointmentTypesPage) items() []wireAppointmentType { return p.AppointmentTypes }

// wirePractitionerRef is {"practitionerId": "..."}, how bookings name a practitioner.
type wirePractitionerRef struct {
	PractitionerID looseString `json:"practitionerId"`
}

type wireSlot struct {
	StartDateTime  wireTime             `json:"startDateTime"`
	EndDateTime    wireTime             `json:"endDateTime"`
	LocationID     looseString          `json:"locationId"`
	PractitionerID looseString          `json:"practitionerId"`
	Practitioner   *wirePractitionerRef `json:"practitioner"`
}

func (w wireSlot) domain() Slot {
	s := Slot{
		Start:          time.Time(w.StartDateTime),
		End:            time.Time(w.EndDateTime),
		LocationID:     string(w.LocationID),
		PractitionerID: string(w.PractitionerID),
	}
	if s.PractitionerID == "" && w.Practitioner != nil {
		s.PractitionerID = string(w.Practitioner.PractitionerID)
	}
	return s
}

type slotsPage struct {
	wireList
	Timeslots []wireSlot `json:"timeslots"`
}

func (p *slotsPage) present() bool     { return p.Timeslots != nil }
func (p *slotsPage) items() []wireSlot { return p.Timeslots }

type wireClient struct {
	ClientID          looseString `json:"clientId"`
	FirstName         looseString `json:"firstName"`
	MiddleName        looseString `json:"middleName"`
	LastName          looseString `json:"lastName"`
	PreferredName     looseString `json:"preferredName"`
	DateOfBirth       wireDate    `json:"dateOfBirth"`
	Gender            looseString `json:"gender"`
	Email             looseString `json:"email"`
	PhoneNumberMobile looseString `json:"phoneNumberMobile"`
	Mobile            looseString `json:"mobile"`
}

func (w wireClient) domain() Client {
	return Client{
		ID:            string(w.ClientID),
		FirstName:     string(w.FirstName),
		MiddleName:    string(w.MiddleName),
		LastName:      string(w.LastName),
		PreferredName: string(w.PreferredName),
		DateOfBirth:   w.DateOfBirth.d,
		Gender:        string(w.Gender),
		Email:         strings.TrimSpace(string(w.Email)),
		Mobile:        strings.TrimSpace(firstNonEmpty(string(w.PhoneNumberMobile), string(w.Mobile))),
	}
}

type clientsPage struct {
	wireList
	Clients []wireClient `json:"clients"`
}

func (p *clientsPage) present() bool       { return p.Clients != nil }
func (p *clientsPage) items() []wireClient { return p.Clients }

// clientBody is GET /Client/{id}: either {"client": {...}} or the record at
// the top level (one public client reads it that way).
type clientBody struct {
	wireStatus
	wrapped *wireClient
	flat    wireClient
}

func (c *clientBody) UnmarshalJSON(b []byte) error {
	var outer struct {
		Result results         `json:"result"`
		Client json.RawMessage `json:"client"`
	}
	if err := json.Unmarshal(b, &outer); err != nil {
		return err
	}
	c.Result = outer.Result
	if inner := bytes.TrimSpace(outer.Client); len(inner) > 0 && inner[0] == '{' {
		c.wrapped = new(wireClient)
		return json.Unmarshal(inner, c.wrapped)
	}
	return json.Unmarshal(b, &c.flat)
}

func (c *clientBody) record() wireClient {
	if c.wrapped != nil {
		return *c.wrapped
	}
	return c.flat
}

func (c *clientBody) present() bool { return c.record().ClientID != "" }

// newClientBody is the body of POST /Client/. The capital E in ExternalId is
// as documented.
type newClientBody struct {
	FirstName         string `json:"firstName"`
	LastName          string `json:"lastName"`
	DateOfBirth       string `json:"dateOfBirth"`
	Email             string `json:"email,omitempty"`
	PhoneNumberMobile string `json:"phoneNumberMobile,omitempty"`
	ExternalID        string `json:"ExternalId,omitempty"`
	Notes1            string `json:"notes1,omitempty"`
}

func newClientWire(c NewClient) newClientBody {
	return newClientBody{
		FirstName:         strings.TrimSpace(c.FirstName),
		LastName:          strings.TrimSpace(c.LastName),
		DateOfBirth:       c.DateOfBirth.String(),
		Email:             strings.TrimSpace(c.Email),
		PhoneNumberMobile: strings.TrimSpace(c.Mobile),
		ExternalID:        c.ExternalID,
		Notes1:            c.Notes,
	}
}

// createdClientBody is {"client":{"clientId":"..."}}; a bare clientId is accepted too.
type createdClientBody struct {
	wireStatus
	Client *struct {
		ClientID looseString `json:"clientId"`
	} `json:"client"`
	ClientID looseString `json:"clientId"`
}

func (c *createdClientBody) id() string {
	if c.Client != nil && c.Client.ClientID != "" {
		return string(c.Client.ClientID)
	}
	return string(c.ClientID)
}

func (c *createdClientBody) present() bool { return c.id() != "" }

type wireClientRef struct {
	ClientID looseString `json:"clientId"`
}

type wireAppointment struct {
	AppointmentID              looseString          `json:"appointmentId"`
	AppointmentReferenceNumber looseString          `json:"appointmentReferenceNumber"`
	Status                     looseString          `json:"status"`
	Practitioner               *wirePractitionerRef `json:"practitioner"`
	PractitionerID             looseString          `json:"practitionerId"`
	LocationID                 looseString          `json:"locationId"`
	AppointmentTypeID          looseString          `json:"appointmentTypeId"`
	Subject                    looseString          `json:"subject"`
	Notes                      looseString          `json:"notes"`
	StartDateTime              wireTime             `json:"startDateTime"`
	EndDateTime                wireTime             `json:"endDateTime"`
	Clients                    []wireClientRef      `json:"clients"`
	Deleted                    looseBool            `json:"deleted"`
}

func (w wireAppointment) domain() Appointment {
	a := Appointment{
		ID:                string(w.AppointmentID),
		ReferenceNumber:   string(w.AppointmentReferenceNumber),
		Status:            string(w.Status),
		PractitionerID:    string(w.PractitionerID),
		LocationID:        string(w.LocationID),
		AppointmentTypeID: string(w.AppointmentTypeID),
		Subject:           string(w.Subject),
		Notes:             string(w.Notes),
		Start:             time.Time(w.StartDateTime),
		End:               time.Time(w.EndDateTime),
		Cancelled:         bool(w.Deleted) || strings.Contains(strings.ToLower(string(w.Status)), "cancel"),
	}
	if w.Practitioner != nil && w.Practitioner.PractitionerID != "" {
		a.PractitionerID = string(w.Practitioner.PractitionerID)
	}
	for _, c := range w.Clients {
		if c.ClientID != "" {
			a.ClientIDs = append(a.ClientIDs, string(c.ClientID))
		}
	}
	return a
}

// appointmentBody is {"appointment": {...}}, the answer to a get, a booking
// and (sometimes) a cancellation.
type appointmentBody struct {
	wireStatus
	Appointment *wireAppointment `json:"appointment"`
}

func (b *appointmentBody) present() bool { return b.Appointment != nil }

type appointmentsPage struct {
	wireList
	Appointments []wireAppointment `json:"appointments"`
}

func (p *appointmentsPage) present() bool            { return p.Appointments != nil }
func (p *appointmentsPage) items() []wireAppointment { return p.Appointments }

// newAppointmentBody is the body of POST /Appointment/. The reminder flags
// are sent even when false so coreplus's defaults never decide for the clinic.
type newAppointmentBody struct {
	StartDateTime           string              `json:"startDateTime"`
	EndDateTime             string              `json:"endDateTime"`
	Practitioner            wirePractitionerRef `json:"practitioner"`
	LocationID              string              `json:"locationId"`
	AppointmentTypeID       string              `json:"appointmentTypeId,omitempty"`
	Clients                 []wireClientRef     `json:"clients"`
	Subject                 string              `json:"subject,omitempty"`
	Notes                   string              `json:"notes,omitempty"`
	IsEmailReminderRequired bool                `json:"isEmailReminderRequired"`
	IsSmsReminderRequired   bool                `json:"isSmsReminderRequired"`
	NotifyPractitioner      bool                `json:"notifyPractitioner"`
}

func newAppointmentWire(a NewAppointment) newAppointmentBody {
	return newAppointmentBody{
		StartDateTime:           a.Start.Format(timeLayout),
		EndDateTime:             a.End.Format(timeLayout),
		Practitioner:            wirePractitionerRef{PractitionerID: looseString(a.PractitionerID)},
		LocationID:              a.LocationID,
		AppointmentTypeID:       a.AppointmentTypeID,
		Clients:                 []wireClientRef{{ClientID: looseString(a.ClientID)}},
		Subject:                 a.Subject,
		Notes:                   a.Notes,
		IsEmailReminderRequired: a.EmailReminder,
		IsSmsReminderRequired:   a.SMSReminder,
		NotifyPractitioner:      a.NotifyPractitioner,
	}
}

// moveBody is how public clients move an appointment in place:
// POST /Appointment/{id} with the new times and the practitioner nested as
// on create.
type moveBody struct {
	StartDateTime      string              `json:"startDateTime"`
	EndDateTime        string              `json:"endDateTime"`
	Practitioner       wirePractitionerRef `json:"practitioner"`
	Notes              string              `json:"notes,omitempty"`
	NotifyPractitioner bool                `json:"notifyPractitioner"`
}

// cancelBody is how public clients cancel: POST /Appointment/{id} {"deleted": true}.
type cancelBody struct {
	Deleted bool `json:"deleted"`
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}
