package sandbox

import (
	"net/http"
	"sort"
	"strings"
	"time"
)

type slotJSON struct {
	StartDateTime  string `json:"startDateTime"`
	EndDateTime    string `json:"endDateTime"`
	LocationID     string `json:"locationId"`
	PractitionerID string `json:"practitionerId"`
}

// listAvailability serves GET AvailabilitySlot: roster minus Booked
// appointments minus the past, optionally cut into appointment-type lengths.
func (s *Server) listAvailability(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	dq, err := s.parseDiaryQuery(q)
	if err != nil {
		writeError(w, err)
		return
	}
	pracs, err := idFilter(q["practitionerId"], "practitionerId", func(id string) (string, bool) {
		pr, ok := s.findPractitioner(id)
		return pr.ID, ok
	})
	if err != nil {
		writeError(w, err)
		return
	}
	locs, err := idFilter(q["locationId"], "locationId", func(id string) (string, bool) {
		l, ok := s.findLocation(id)
		return l.ID, ok
	})
	if err != nil {
		writeError(w, err)
		return
	}
	var length time.Duration
	if id := q.Get("appointmentTypeId"); id != "" {
		t, ok := s.findType(id)
		if !ok {
			writeError(w, fail("appointmentTypeId "+id+" is not a known appointment type"))
			return
		}
		length = time.Duration(t.DurationMinutes) * time.Minute
	}

	keep := func(sh shift) bool {
		return (pracs == nil || pracs[sh.prac]) && (locs == nil || locs[sh.loc])
	}
	s.mu.Lock()
	free := s.freeTime(dq.from, dq.to, keep)
	s.mu.Unlock()
	if length > 0 {
		free = chunk(free, length)
	}
	sort.Slice(free, func(i, j int) bool {
		if !free[i].start.Equal(free[j].start) {
			return free[i].start.Before(free[j].start)
		}
		if free[i].prac != free[j].prac {
			return free[i].prac < free[j].prac
		}
		return free[i].loc < free[j].loc
	})

	start, end, info := dq.paging.page(len(free))
	items := make([]slotJSON, 0, end-start)
	for _, f := range free[start:end] {
		items = append(items, slotJSON{
			StartDateTime: f.start.In(dq.zone.loc).Format(slotLayout), EndDateTime: f.end.In(dq.zone.loc).Format(slotLayout),
			LocationID: f.loc, PractitionerID: f.prac,
		})
	}
	writeJSON(w, http.StatusOK, listBody("timeslots", items, info))
}

// idFilter turns repeated id parameters into a set (nil when none were
// given). An unknown id is a 400, so a comma-joined list is caught.
func idFilter(values []string, name string, lookup func(string) (string, bool)) (map[string]bool, error) {
	var set map[string]bool
	for _, v := range values {
		if v == "" {
			continue
		}
		id, ok := lookup(v)
		if !ok {
			return nil, fail(name + " " + v + " does not match any " + strings.TrimSuffix(name, "Id"))
		}
		if set == nil {
			set = map[string]bool{}
		}
		set[id] = true
	}
	return set, nil
}
