package web

import (
	"strconv"
	"strings"
	"time"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/views"
)

// zoneLabel names the zone a time is shown in: "Brisbane time, AEST". The
// abbreviation is the one in force at t, so Sydney reads AEDT in summer.
func zoneLabel(t time.Time, zone *time.Location) string {
	name := zone.String()
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	name = strings.ReplaceAll(name, "_", " ")
	abbr, _ := t.In(zone).Zone()
	return name + " time, " + abbr
}

func clockLabel(t time.Time) string { return t.Format("3:04 pm") }

func dayLabel(t time.Time) string { return t.Format("Monday 2 January") }

// rangeLabel names a run of days: "30 November to 6 December".
func rangeLabel(from, to time.Time) string {
	if from.Month() == to.Month() {
		return from.Format("2") + " to " + to.Format("2 January")
	}
	return from.Format("2 January") + " to " + to.Format("2 January")
}

// durationLabel says a notice period in words: "2 hours'", "1 day's".
func durationLabel(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		if n := int(d / (24 * time.Hour)); n != 1 {
			return itoa(n) + " days'"
		}
		return "1 day's"
	case d%time.Hour == 0:
		if n := int(d / time.Hour); n != 1 {
			return itoa(n) + " hours'"
		}
		return "1 hour's"
	}
	return itoa(int(d/time.Minute)) + " minutes'"
}

func fullDateLabel(t time.Time) string { return t.Format("Monday 2 January 2006") }

// whenLabel is a slot's date and time with its zone, for summaries.
func whenLabel(sl booking.Slot, zone *time.Location) string {
	start := sl.Start.In(zone)
	return fullDateLabel(start) + ", " + clockLabel(start) + " to " + clockLabel(sl.End.In(zone)) + " (" + zoneLabel(start, zone) + ")"
}

func minutesLabel(n int) string {
	switch {
	case n == 60:
		return "1 hour"
	case n > 60 && n%60 == 0:
		return itoa(n/60) + " hours"
	case n > 60:
		return itoa(n/60) + " h " + itoa(n%60) + " min"
	}
	return itoa(n) + " minutes"
}

// shortMinutes is a service's length for its card, read at a glance:
// "45 min", "1 hour", "1 h 30 min".
func shortMinutes(n int) string {
	if n < 60 {
		return itoa(n) + " min"
	}
	return minutesLabel(n)
}

// policyParagraphs is the clinic's cancellation policy, a paragraph a line.
func policyParagraphs(c booking.Clinic) []string {
	var out []string
	for _, p := range strings.Split(c.CancellationPolicy, "\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// slotChoice renders one slot as a link, announced as a date and time.
func slotChoice(sl booking.Slot, zone *time.Location, href string) views.TimeSlot {
	start := sl.Start.In(zone)
	ts := views.TimeSlot{
		Label:     clockLabel(start),
		DateTime:  start.Format(time.RFC3339),
		AriaLabel: clockLabel(start) + ", " + dayLabel(start) + ", with " + sl.Practitioner.Name,
		Href:      href,

		PractitionerID: sl.Practitioner.ID,
	}
	return ts
}

func toHidden(fs []hiddenField) []views.Hidden {
	out := make([]views.Hidden, len(fs))
	for i, f := range fs {
		out[i] = views.Hidden{Name: f.name, Value: f.value}
	}
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }
