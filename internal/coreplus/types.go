package coreplus

import "time"

// Location is a practice location and the time zone its diary runs in.
type Location struct {
	ID   string
	Name string
	// TimeZoneName is the IANA name (for example "Australia/Brisbane").
	TimeZoneName string
	// TimezoneID is coreplus's own GUID for the zone; availability and
	// appointment lists need it as the timezoneId query parameter.
	TimezoneID string
	// Address and Phone are filled when coreplus sends them (undocumented fields).
	Address string
	Phone   string
}

// Practitioner is a person whose diary can be booked.
type Practitioner struct {
	ID        string
	FirstName string
	LastName  string
}

// AppointmentType is a bookable service ("Specialty Type" in the coreplus docs).
type AppointmentType struct {
	ID              string
	Description     string
	DurationMinutes int
}

// Slot is a free range of a practitioner's time, as AvailabilitySlot returns it.
// Start and End carry the offset of the timezoneId that was asked for.
type Slot struct {
	Start          time.Time
	End            time.Time
	LocationID     string
	PractitionerID string
}

// SlotQuery asks for free time. StartDate and EndDate are calendar dates
// ("2006-01-02") read in the zone named by TimezoneID; both are inclusive.
type SlotQuery struct {
	StartDate         string
	EndDate           string
	TimezoneID        string
	PractitionerIDs   []string
	LocationIDs       []string
	AppointmentTypeID string
}

// Date is a calendar date with no time zone, as coreplus stores a date of birth.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ClientSearch narrows GET /Client/. Empty fields are not sent.
type ClientSearch struct {
	Name        string
	DateOfBirth *Date
	Mobile      string
}

// Client is a patient record as coreplus returns it in the client list.
type Client struct {
	ID            string
	FirstName     string
	MiddleName    string
	LastName      string
	PreferredName string
	DateOfBirth   *Date
	Gender        string
	Email         string
	Mobile        string
}

// NewClient is the body of POST /Client/. FirstName, LastName and
// DateOfBirth are required by coreplus.
type NewClient struct {
	FirstName   string
	LastName    string
	DateOfBirth Date
	Email       string
	Mobile      string
	ExternalID  string
	Notes       string
}

// NewAppointment is the body of POST /Appointment/.
type NewAppointment struct {
	Start              time.Time
	End                time.Time
	PractitionerID     string
	LocationID         string
	AppointmentTypeID  string
	ClientID           string
	Subject            string
	Notes              string
	EmailReminder      bool
	SMSReminder        bool
	NotifyPractitioner bool
}

// AppointmentMove is the body of POST /Appointment/{id} that moves a booked
// appointment to a new time (and practitioner) in place.
type AppointmentMove struct {
	Start              time.Time
	End                time.Time
	PractitionerID     string
	Notes              string
	NotifyPractitioner bool
}

// Appointment is a booked (or cancelled) appointment.
type Appointment struct {
	ID                string
	ReferenceNumber   string
	Status            string
	PractitionerID    string
	LocationID        string
	AppointmentTypeID string
	Subject           string
	Notes             string
	Start             time.Time
	End               time.Time
	ClientIDs         []string
	// Cancelled is set when coreplus marks the appointment deleted or its
	// status names a cancellation.
	Cancelled bool
}

// AppointmentQuery asks for the appointments in a date range.
type AppointmentQuery struct {
	StartDate  string
	EndDate    string
	TimezoneID string
	// ClientID, when set, keeps only that client's appointments (filtered on
	// our side too, because the upstream filter is undocumented).
	ClientID string
}
