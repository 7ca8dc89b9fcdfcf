package sandbox

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// slotGranularity: free time that starts "now" is rounded up to this, so
// no slot starts at 09:07:33.
const slotGranularity = 5 * time.Minute

// shift is a roster block in minutes after local midnight.
type shift struct {
	prac, loc        string
	weekday          time.Weekday
	startMin, endMin int
}

func parseShift(sh Shift) shift {
	return shift{prac: sh.PractitionerID, loc: sh.LocationID, weekday: sh.Weekday,
		startMin: clockMinutes(sh.Start), endMin: clockMinutes(sh.End)}
}

func clockMinutes(hhmm string) int {
	h, m, _ := strings.Cut(hhmm, ":")
	hi, err1 := strconv.Atoi(h)
	mi, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil {
		panic(fmt.Sprintf("sandbox: bad roster time %q", hhmm)) // demo data is fixed
	}
	return hi*60 + mi
}

func (sh shift) export() Shift {
	f := func(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }
	return Shift{PractitionerID: sh.prac, LocationID: sh.loc, Weekday: sh.weekday, Start: f(sh.startMin), End: f(sh.endMin)}
}

// on places the shift on date's calendar day in z. Building from wall-clock
// fields makes DST days come out right.
func (sh shift) on(date time.Time, z *time.Location) (start, end time.Time) {
	y, m, d := date.Date()
	start = time.Date(y, m, d, sh.startMin/60, sh.startMin%60, 0, 0, z)
	end = time.Date(y, m, d, sh.endMin/60, sh.endMin%60, 0, 0, z)
	return start, end
}

func (s *Server) locationZone(id string) *time.Location {
	for _, l := range s.locations {
		if l.ID == id {
			return s.zones[l.TimezoneID].loc
		}
	}
	return time.UTC
}

func (s *Server) findLocation(id string) (Location, bool) {
	for _, l := range s.locations {
		if strings.EqualFold(l.ID, id) {
			return l, true
		}
	}
	return Location{}, false
}

func (s *Server) findPractitioner(id string) (Practitioner, bool) {
	for _, p := range s.practitioners {
		if strings.EqualFold(p.ID, id) {
			return p, true
		}
	}
	return Practitioner{}, false
}

func (s *Server) findType(id string) (AppointmentType, bool) {
	for _, t := range s.types {
		if strings.EqualFold(t.ID, id) {
			return t, true
		}
	}
	return AppointmentType{}, false
}

// interval is a half-open [start, end) range of one practitioner's time.
type interval struct {
	start, end time.Time
	prac, loc  string
}

// rosterBlocks returns the roster blocks at loc that touch [from, to).
func (s *Server) rosterBlocks(from, to time.Time, keep func(sh shift) bool) []interval {
	var out []interval
	for _, l := range s.locations {
		z := s.locationZone(l.ID)
		first := from.In(z)
		day := time.Date(first.Year(), first.Month(), first.Day()-1, 0, 0, 0, 0, z)
		for ; day.Before(to); day = time.Date(day.Year(), day.Month(), day.Day()+1, 0, 0, 0, 0, z) {
			for _, sh := range s.shifts {
				if sh.loc != l.ID || sh.weekday != day.Weekday() || !keep(sh) {
					continue
				}
				start, end := sh.on(day, z)
				if end.After(from) && start.Before(to) {
					out = append(out, interval{start: start, end: end, prac: sh.prac, loc: sh.loc})
				}
			}
		}
	}
	return out
}

// freeTime is roster minus Booked appointments, clipped to [from, to) and to
// now. Callers hold s.mu.
func (s *Server) freeTime(from, to time.Time, keep func(sh shift) bool) []interval {
	earliest := s.now()
	if r := earliest.Truncate(slotGranularity); r.Before(earliest) {
		earliest = r.Add(slotGranularity)
	}
	if earliest.After(from) {
		from = earliest
	}
	var out []interval
	for _, b := range s.rosterBlocks(from, to, keep) {
		b.start, b.end = later(b.start, from), earlier(b.end, to)
		if !b.start.Before(b.end) {
			continue
		}
		out = append(out, s.subtractBooked(b)...)
	}
	return out
}

// subtractBooked removes the practitioner's Booked appointments (at any
// location: one person cannot be in two rooms) from b.
func (s *Server) subtractBooked(b interval) []interval {
	var busy []interval
	for _, a := range s.appointments {
		if a.Status == "Booked" && a.PractitionerID == b.prac && a.End.After(b.start) && a.Start.Before(b.end) {
			busy = append(busy, interval{start: a.Start, end: a.End})
		}
	}
	sort.Slice(busy, func(i, j int) bool { return busy[i].start.Before(busy[j].start) })
	var out []interval
	cur := b.start
	for _, x := range busy {
		if x.start.After(cur) {
			out = append(out, interval{start: cur, end: x.start, prac: b.prac, loc: b.loc})
		}
		cur = later(cur, x.end)
	}
	if cur.Before(b.end) {
		out = append(out, interval{start: cur, end: b.end, prac: b.prac, loc: b.loc})
	}
	return out
}

// chunk cuts each block into consecutive pieces of d from its start; a
// remainder shorter than d is dropped.
func chunk(blocks []interval, d time.Duration) []interval {
	var out []interval
	for _, b := range blocks {
		for t := b.start; !t.Add(d).After(b.end); t = t.Add(d) {
			out = append(out, interval{start: t, end: t.Add(d), prac: b.prac, loc: b.loc})
		}
	}
	return out
}

// bookable reports whether [start, end) lies wholly inside one roster block
// of prac at loc, is not in the past, and clashes with no Booked appointment
// of prac other than ignoreID. Callers hold s.mu.
func (s *Server) bookable(prac, loc string, start, end time.Time, ignoreID string) bool {
	if start.Before(s.now()) || !start.Before(end) {
		return false
	}
	z := s.locationZone(loc)
	local := start.In(z)
	inRoster := false
	for _, sh := range s.shifts {
		if sh.prac != prac || sh.loc != loc || sh.weekday != local.Weekday() {
			continue
		}
		bs, be := sh.on(local, z)
		if !start.Before(bs) && !end.After(be) {
			inRoster = true
			break
		}
	}
	if !inRoster {
		return false
	}
	for _, a := range s.appointments {
		if a.ID != ignoreID && a.Status == "Booked" && a.PractitionerID == prac && a.Start.Before(end) && a.End.After(start) {
			return false
		}
	}
	return true
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
