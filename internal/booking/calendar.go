package booking

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Calendar methods (RFC 5546) of a booking's event: PUBLISH for the
// confirmation page's download, REQUEST for an update sent by email,
// CANCEL when the appointment is cancelled.
const (
	CalendarPublish = "PUBLISH"
	CalendarRequest = "REQUEST"
	CalendarCancel  = "CANCEL"
)

// CalendarDomain is the right-hand side of a booking's event UID when the
// portal has no PUBLIC_URL.
const CalendarDomain = "booking-portal.invalid"

// CalendarUID is the UID of the event of the booking made from draftID:
// the same on the confirmation page, in every email and on every replica
// (the host of publicURL, never a request's Host), so calendars update
// one event when it moves or is cancelled.
func CalendarUID(draftID, publicURL string) string {
	host := CalendarDomain
	if u, err := url.Parse(publicURL); err == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	return draftID + "@" + host
}

// CalendarEvent is one booking as an iCalendar event.
type CalendarEvent struct {
	UID string
	// Method is CalendarPublish, CalendarRequest or CalendarCancel; a
	// cancel's event says STATUS:CANCELLED.
	Method string
	// Sequence goes up by one each time the event changes (a move).
	Sequence    int
	Start, End  time.Time
	Summary     string
	Location    string
	Description string
	// Reminder is how long before the start an alarm goes off; zero: none.
	Reminder time.Duration
	// Stamp is when the event was written (DTSTAMP).
	Stamp time.Time
}

// DefaultReminder is the alarm a booking's event carries.
const DefaultReminder = 24 * time.Hour

// BookingEvent is the calendar event of booking b at clinic, as the
// confirmation page and the emails give it: with names and the address
// when the clinic's reference data could be read, else the clinic only.
func BookingEvent(clinic Clinic, b Confirmed, publicURL string) CalendarEvent {
	sel := b.Selection
	ev := CalendarEvent{
		UID: CalendarUID(b.DraftID, publicURL), Method: CalendarPublish,
		Start: b.Start, End: b.End, Summary: "Appointment at " + clinic.Name,
		Reminder: DefaultReminder, Stamp: time.Now(), Sequence: b.Sequence,
	}
	if sel.Location != nil && sel.Service != nil && sel.Slot != nil {
		ev.Summary = sel.Service.Name + " with " + sel.Slot.Practitioner.Name
		ev.Location = sel.Location.Name
		if sel.Location.Address != "" {
			ev.Location += ", " + sel.Location.Address
		}
	}
	// What a patient needs on the day, in the calendar they will look at:
	// how to find the room, and the clinic's terms for cancelling.
	desc := []string{"Reference " + b.Reference + "."}
	if sel.Location != nil && sel.Location.Directions != "" {
		desc = append(desc, sel.Location.Directions)
	}
	if clinic.Phone != "" {
		desc = append(desc, "To change or cancel, call "+clinic.Name+" on "+clinic.Phone+".")
	}
	if p := strings.TrimSpace(clinic.CancellationPolicy); p != "" {
		desc = append(desc, "Cancellation policy: "+p)
	}
	ev.Description = strings.Join(desc, "\n\n")
	return ev
}

// ICS is the event as an iCalendar file (RFC 5545), times in UTC, lines
// folded at 75 octets and ended with CRLF.
func (e CalendarEvent) ICS() []byte {
	utc := func(t time.Time) string { return t.UTC().Format("20060102T150405Z") }
	method, status := e.Method, "CONFIRMED"
	if method == "" {
		method = CalendarPublish
	}
	if method == CalendarCancel {
		status = "CANCELLED"
	}
	stamp := e.Stamp
	if stamp.IsZero() {
		stamp = time.Now()
	}
	lines := []string{
		"BEGIN:VCALENDAR",
		"VERSION:2.0",
		"PRODID:-//clinic-booking//portal//EN",
		"CALSCALE:GREGORIAN",
		"METHOD:" + method,
		"BEGIN:VEVENT",
		"UID:" + e.UID,
		"SEQUENCE:" + strconv.Itoa(e.Sequence),
		"DTSTAMP:" + utc(stamp),
		"DTSTART:" + utc(e.Start),
		"DTEND:" + utc(e.End),
		"SUMMARY:" + icsText(e.Summary),
		"LOCATION:" + icsText(e.Location),
		"DESCRIPTION:" + icsText(e.Description),
		"STATUS:" + status,
	}
	if e.Location == "" {
		lines = slices.DeleteFunc(lines, func(l string) bool { return l == "LOCATION:" })
	}
	if e.Reminder > 0 && method != CalendarCancel {
		lines = append(lines,
			"BEGIN:VALARM",
			"ACTION:DISPLAY",
			"DESCRIPTION:"+icsText(e.Summary),
			"TRIGGER:-PT"+strconv.Itoa(int(e.Reminder/time.Minute))+"M",
			"END:VALARM")
	}
	lines = append(lines, "END:VEVENT", "END:VCALENDAR")
	var out strings.Builder
	for _, l := range lines {
		out.WriteString(foldICS(l))
		out.WriteString("\r\n")
	}
	return []byte(out.String())
}

// icsText escapes a TEXT value (RFC 5545 §3.3.11).
func icsText(s string) string {
	r := strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\r\n", `\n`, "\n", `\n`)
	return r.Replace(s)
}

// foldICS folds a content line at 75 octets without splitting a character.
func foldICS(line string) string {
	var b strings.Builder
	n := 0
	for _, r := range line {
		size := len(string(r))
		if n+size > 75 {
			b.WriteString("\r\n ")
			n = 1
		}
		b.WriteRune(r)
		n += size
	}
	return b.String()
}
