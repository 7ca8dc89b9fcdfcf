package sandbox

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
)

type locationJSON struct {
	LocationID string       `json:"locationId"`
	Name       string       `json:"name"`
	TimeZone   timeZoneJSON `json:"timeZone"`
}

type timeZoneJSON struct {
	TZName     string `json:"tzName"`
	TimezoneID string `json:"timezoneId"`
}

type practitionerJSON struct {
	PractitionerID string `json:"practitionerId"`
	FirstName      string `json:"firstName"`
	LastName       string `json:"lastName"`
}

// appointmentTypeJSON sends durationMinutes as a string, as coreplus does in
// create bodies, so clients must decode it loosely.
type appointmentTypeJSON struct {
	AppointmentTypeID string `json:"appointmentTypeId"`
	Description       string `json:"description"`
	DurationMinutes   string `json:"durationMinutes"`
}

func (s *Server) listLocations(w http.ResponseWriter, r *http.Request) {
	p, err := parsePaging(r.URL.Query())
	if err != nil {
		writeError(w, err)
		return
	}
	items := make([]locationJSON, 0, len(s.locations))
	for _, l := range s.locations {
		items = append(items, locationJSON{LocationID: l.ID, Name: l.Name,
			TimeZone: timeZoneJSON{TZName: l.TimeZoneName, TimezoneID: l.TimezoneID}})
	}
	from, to, info := p.page(len(items))
	writeJSON(w, http.StatusOK, listBody("locations", items[from:to], info))
}

func (s *Server) listPractitioners(w http.ResponseWriter, r *http.Request) {
	p, err := parsePaging(r.URL.Query())
	if err != nil {
		writeError(w, err)
		return
	}
	items := make([]practitionerJSON, 0, len(s.practitioners))
	for _, pr := range s.practitioners {
		items = append(items, practitionerJSON{PractitionerID: pr.ID, FirstName: pr.FirstName, LastName: pr.LastName})
	}
	sort.Slice(items, func(i, j int) bool {
		return strings.ToLower(items[i].LastName+" "+items[i].FirstName) < strings.ToLower(items[j].LastName+" "+items[j].FirstName)
	})
	from, to, info := p.page(len(items))
	writeJSON(w, http.StatusOK, listBody("practitioners", items[from:to], info))
}

func (s *Server) listAppointmentTypes(w http.ResponseWriter, r *http.Request) {
	p, err := parsePaging(r.URL.Query())
	if err != nil {
		writeError(w, err)
		return
	}
	items := make([]appointmentTypeJSON, 0, len(s.types))
	for _, t := range s.types {
		items = append(items, appointmentTypeJSON{AppointmentTypeID: t.ID, Description: t.Description,
			DurationMinutes: strconv.Itoa(t.DurationMinutes)})
	}
	from, to, info := p.page(len(items))
	writeJSON(w, http.StatusOK, listBody("appointmentTypes", items[from:to], info))
}
