package sandbox

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Demo credentials: what the sandbox accepts when Config leaves them empty.
const (
	DemoConsumerID     = "demo-portal"
	DemoConsumerSecret = "demo-consumer-secret-not-for-production"
	DemoAccessToken    = "5f0c2a8e-9d7b-4c1e-8a3f-2b6d9e4c7a10"
)

// Demo timezone ids (coreplus GUIDs, not IANA names). TimezoneMelbourneID is
// the real coreplus id seen in the docs; no demo location uses it, but
// queries may name it.
const (
	TimezoneSydneyID    = "8a1d5c3e-2f47-4b9a-9e61-0c7d3b5a2f18"
	TimezoneBrisbaneID  = "e7c4da7d-0aa9-451a-bddc-50925076f14b"
	TimezoneMelbourneID = "39d62534-501c-49cd-9da9-6fa8d6a81f48"
	TimezonePerthID     = "5b2e8f0a-7c31-4d6e-a9b4-1f3c6e8d0a27"
)

// Demo locations: Sydney observes daylight saving, Brisbane does not.
const (
	LocationSydneyID   = "39efbeff-fa50-4643-80e7-481ea75670d0"
	LocationBrisbaneID = "b7d3e1a4-6c2f-4e8b-9a15-3f7c0d2e8b64"
)

// Demo practitioners.
const (
	PractitionerPriyaID = "2375a2df-ffe9-4294-9b7c-7ef487e66f4a" // Sydney Mon-Wed, Brisbane Thu-Fri
	PractitionerTomID   = "6c1f9e3b-4a7d-4b2e-8f05-9d3a1c7e5b20" // Sydney Tue-Fri, Saturday morning
	PractitionerMeiID   = "d4a8b2c6-1e3f-4a5d-b7c9-0e2f4a6c8d13" // Brisbane Mon-Fri
	PractitionerLiamID  = "0f7e3d5c-9b1a-4c8e-a2d6-5e4b3c1a9f07" // Brisbane Mon/Wed/Fri, Sydney Tue/Thu
	PractitionerAishaID = "a93c5e71-2d8b-4f6a-8c04-7b1e9d2f3a56" // Sydney Mon/Wed/Fri, late shifts
	PractitionerJackID  = "58b0d2f4-6e1c-4a3b-9d7f-2c5e8a0b4d69" // Brisbane Tue-Thu, Saturday morning
)

// Demo appointment types, one per length.
const (
	AppointmentTypeInitialID  = "e1620e2d-3381-4878-9324-82ce3c5f51f4" // 60 minutes
	AppointmentTypeStandardID = "3d9f6b2a-8e4c-4f1d-a7b3-6c0e2d8f4a95" // 30 minutes
	AppointmentTypeExtendedID = "7a2c4e6f-0b8d-4e3a-9c1f-5d7b3a9e1c28" // 45 minutes
	AppointmentTypeReviewID   = "c0e8a6d4-3f1b-4d9c-8e2a-1b5f7d3c9e46" // 15 minutes
)

// Demo clients. The two Smiths share a surname so name searches can be ambiguous.
const (
	ClientJoannaVargaID   = "c5794d63-b1be-42f8-abb8-777b3d861467"
	ClientPeterNguyenID   = "1d3b5f7a-9c2e-4a6b-8d0f-3e5a7c9b1d24"
	ClientSarahObrienID   = "9e7c5a3b-1f8d-4b2c-a6e4-0d2f8b6a4c71"
	ClientMichaelSmithID  = "4f2a8c6e-0d3b-4e9a-b1c5-7a9e3d5f1b82"
	ClientOliviaSmithID   = "b6d4f2a0-8e1c-4c7b-9f3d-5a1c9e7b3d05"
	ClientHenryThompsonID = "72a0c8e6-4b2d-4f5a-8e9c-1d7b5f3a0c93"
)

// The diary's records below look like the client's domain types, and stay
// apart on purpose: the sandbox does not import the client (see the package
// doc), so a field added to coreplus.Location cannot quietly reach its oracle.

// Location is a practice location and the zone its diary runs in.
type Location struct {
	ID           string
	Name         string
	TimeZoneName string // IANA name
	TimezoneID   string // coreplus GUID
}

// Practitioner is a person whose diary can be booked.
type Practitioner struct {
	ID        string
	FirstName string
	LastName  string
}

// AppointmentType is a bookable service and its length.
type AppointmentType struct {
	ID              string
	Description     string
	DurationMinutes int
}

// Shift is one block of a practitioner's weekly roster, in the location's
// local wall-clock time ("08:00" to "12:30").
type Shift struct {
	PractitionerID string
	LocationID     string
	Weekday        time.Weekday
	Start, End     string
}

// Appointment is one diary entry. Status is "Booked" or "Cancelled".
type Appointment struct {
	ID                 string
	ReferenceNumber    string
	Status             string
	PractitionerID     string
	LocationID         string
	AppointmentTypeID  string
	ClientID           string
	Start, End         time.Time
	Notes              string
	Subject            string
	EmailReminder      bool
	SMSReminder        bool
	NotifyPractitioner bool
}

// Address is a client's street address. Create bodies call the suburb "city".
type Address struct {
	StreetAddress string
	Suburb        string
	State         string
	Postcode      string
}

// Client is a patient record.
type Client struct {
	ID                      string
	Title                   string
	FirstName               string
	MiddleName              string
	LastName                string
	PreferredName           string
	DateOfBirth             string // "2006-01-02"
	Gender                  string
	Pronouns                string
	Culture                 string
	Email                   string
	Mobile                  string
	PhoneHome               string
	PhoneWork               string
	ExternalID              string
	Status                  string
	Notes                   string
	MedicareCardNumber      string
	MedicareCardIRN         string
	MedicareCardExpireDate  string
	DVACardNumber           string
	PractitionerID          string // preferred practitioner, may be empty
	Residential             Address
	Postal                  Address
	PostalSameAsResidential bool
}

// zone is a coreplus timezone: its GUID and the IANA zone behind it.
type zone struct {
	id   string
	name string
	loc  *time.Location
}

func loadZones() map[string]zone {
	zones := map[string]zone{}
	for id, name := range map[string]string{
		TimezoneSydneyID:    "Australia/Sydney",
		TimezoneBrisbaneID:  "Australia/Brisbane",
		TimezoneMelbourneID: "Australia/Melbourne",
		TimezonePerthID:     "Australia/Perth",
	} {
		loc, err := time.LoadLocation(name)
		if err != nil {
			// time/tzdata is embedded, so this is a programming error.
			panic(fmt.Sprintf("sandbox: load zone %s: %v", name, err))
		}
		zones[id] = zone{id: id, name: name, loc: loc}
	}
	return zones
}

func demoLocations() []Location {
	return []Location{
		{ID: LocationSydneyID, Name: "Harbourside Physio Surry Hills", TimeZoneName: "Australia/Sydney", TimezoneID: TimezoneSydneyID},
		{ID: LocationBrisbaneID, Name: "Riverside Physio South Brisbane", TimeZoneName: "Australia/Brisbane", TimezoneID: TimezoneBrisbaneID},
	}
}

func demoPractitioners() []Practitioner {
	return []Practitioner{
		{ID: PractitionerPriyaID, FirstName: "Priya", LastName: "Nandakumar"},
		{ID: PractitionerTomID, FirstName: "Tom", LastName: "Whitfield"},
		{ID: PractitionerMeiID, FirstName: "Mei", LastName: "Chen"},
		{ID: PractitionerLiamID, FirstName: "Liam", LastName: "O'Connor"},
		{ID: PractitionerAishaID, FirstName: "Aisha", LastName: "Rahman"},
		{ID: PractitionerJackID, FirstName: "Jack", LastName: "Morrison"},
	}
}

func demoAppointmentTypes() []AppointmentType {
	return []AppointmentType{
		{ID: AppointmentTypeInitialID, Description: "Initial Physiotherapy Assessment", DurationMinutes: 60},
		{ID: AppointmentTypeStandardID, Description: "Standard Consultation", DurationMinutes: 30},
		{ID: AppointmentTypeExtendedID, Description: "Extended Consultation", DurationMinutes: 45},
		{ID: AppointmentTypeReviewID, Description: "Short Review", DurationMinutes: 15},
	}
}

// demoShifts is the weekly roster. Most days have a lunch break, so a day is
// two shifts and a booking cannot straddle lunch.
func demoShifts() []Shift {
	var out []Shift
	add := func(prac, loc string, days []time.Weekday, blocks ...string) {
		for _, d := range days {
			for _, b := range blocks {
				start, end, _ := strings.Cut(b, "-")
				out = append(out, Shift{PractitionerID: prac, LocationID: loc, Weekday: d, Start: start, End: end})
			}
		}
	}
	mon, tue, wed, thu, fri, sat := time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday
	add(PractitionerPriyaID, LocationSydneyID, []time.Weekday{mon, tue, wed}, "08:00-12:30", "13:30-17:00")
	add(PractitionerPriyaID, LocationBrisbaneID, []time.Weekday{thu, fri}, "08:30-12:00", "13:00-16:30")
	add(PractitionerTomID, LocationSydneyID, []time.Weekday{tue, wed, thu, fri}, "09:00-13:00", "14:00-18:00")
	add(PractitionerTomID, LocationSydneyID, []time.Weekday{sat}, "08:00-12:00")
	add(PractitionerMeiID, LocationBrisbaneID, []time.Weekday{mon, tue, wed, thu, fri}, "07:30-12:00", "12:45-15:30")
	add(PractitionerLiamID, LocationBrisbaneID, []time.Weekday{mon, wed, fri}, "09:00-12:30", "13:30-17:30")
	add(PractitionerLiamID, LocationSydneyID, []time.Weekday{tue, thu}, "10:00-14:00", "14:30-18:30")
	add(PractitionerAishaID, LocationSydneyID, []time.Weekday{mon, wed, fri}, "12:00-15:30", "16:00-19:30")
	add(PractitionerJackID, LocationBrisbaneID, []time.Weekday{tue, wed, thu}, "08:00-12:00", "13:00-17:00")
	add(PractitionerJackID, LocationBrisbaneID, []time.Weekday{sat}, "08:00-12:00")
	return out
}

func demoClients() []Client {
	return []Client{
		{ID: ClientJoannaVargaID, Title: "Ms", FirstName: "Joanna", MiddleName: "Lee", LastName: "Varga", PreferredName: "Jo",
			DateOfBirth: "1988-11-20", Gender: "Female", Pronouns: "she", Email: "jo.varga@example.com", Mobile: "0412000111",
			Status: "Current", PractitionerID: PractitionerPriyaID,
			Residential: Address{StreetAddress: "4 Wattle Lane", Suburb: "Ashgrove", State: "QLD", Postcode: "4060"}},
		{ID: ClientPeterNguyenID, Title: "Mr", FirstName: "Peter", LastName: "Nguyen",
			DateOfBirth: "1975-03-02", Gender: "Male", Pronouns: "he", Email: "peter.nguyen@example.com", Mobile: "0423555019",
			PhoneHome: "0295550123", Status: "Current",
			Residential: Address{StreetAddress: "12 Crown St", Suburb: "Surry Hills", State: "NSW", Postcode: "2010"}},
		{ID: ClientSarahObrienID, Title: "Mrs", FirstName: "Sarah", LastName: "O'Brien",
			DateOfBirth: "1962-07-14", Gender: "Female", Pronouns: "she", Mobile: "+61 433 555 207", Status: "Current",
			Residential: Address{StreetAddress: "3/88 Grey St", Suburb: "South Brisbane", State: "QLD", Postcode: "4101"}},
		{ID: ClientMichaelSmithID, Title: "Mr", FirstName: "Michael", LastName: "Smith",
			DateOfBirth: "1990-01-05", Gender: "Male", Email: "m.smith@example.com", Mobile: "0400555321", Status: "Current",
			PractitionerID: PractitionerTomID,
			Residential:    Address{StreetAddress: "7 Bourke St", Suburb: "Darlinghurst", State: "NSW", Postcode: "2010"}},
		{ID: ClientOliviaSmithID, Title: "Miss", FirstName: "Olivia", LastName: "Smith",
			DateOfBirth: "2009-09-30", Gender: "Female", Pronouns: "they", Email: "olivia.smith@example.com", Status: "Current",
			Residential: Address{StreetAddress: "7 Bourke St", Suburb: "Darlinghurst", State: "NSW", Postcode: "2010"}},
		{ID: ClientHenryThompsonID, Title: "Dr", FirstName: "Henry", LastName: "Thompson",
			DateOfBirth: "1949-12-24", Gender: "Male", Mobile: "0411555876", PhoneHome: "0733550999", Status: "Current",
			Residential: Address{StreetAddress: "21 Boundary Rd", Suburb: "Paddington QLD", State: "QLD", Postcode: "4064"}},
	}
}

// seedAppointments fills the next eight weeks of every roster to roughly 40%,
// deterministically from rng, starting on today's date in each location's zone.
func (s *Server) seedAppointments(rng *rand.Rand, now time.Time) {
	const days = 56
	weights := []int{2, 5, 2, 3} // initial, standard, extended, review: standard is the most common
	pickType := func() AppointmentType {
		n := rng.IntN(12)
		for i, w := range weights {
			if n < w {
				return s.types[i]
			}
			n -= w
		}
		return s.types[1]
	}
	for day := 0; day < days; day++ {
		for _, loc := range s.locations {
			z := s.locationZone(loc.ID)
			today := now.In(z)
			date := time.Date(today.Year(), today.Month(), today.Day()+day, 0, 0, 0, 0, z)
			for _, sh := range s.shifts {
				if sh.loc != loc.ID || sh.weekday != date.Weekday() {
					continue
				}
				start, end := sh.on(date, z)
				for t := start; t.Before(end); {
					if rng.Float64() < 0.3 {
						typ := pickType()
						stop := t.Add(time.Duration(typ.DurationMinutes) * time.Minute)
						if !stop.After(end) {
							client := s.clients[rng.IntN(len(s.clients))]
							status := "Booked"
							if rng.IntN(25) == 0 {
								status = "Cancelled" // a few cancellations leave freed time behind
							}
							s.appointments = append(s.appointments, Appointment{
								ID: s.newID(), ReferenceNumber: s.nextReference(), Status: status,
								PractitionerID: sh.prac, LocationID: loc.ID, AppointmentTypeID: typ.ID,
								ClientID: client.ID, Start: t, End: stop,
								Subject: defaultSubject(client), SMSReminder: client.Mobile != "",
							})
							t = stop
							continue
						}
					}
					t = t.Add(time.Duration(15*(1+rng.IntN(2))) * time.Minute)
				}
			}
		}
	}
}
