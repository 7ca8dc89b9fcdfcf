package booking_test

import (
	"strings"
	"testing"
	"time"

	"github.com/clinic-booking/portal/internal/booking"
)

func TestCalendarUIDIsStable(t *testing.T) {
	if got := booking.CalendarUID("abc", "https://book.example.com:8443/x"); got != "abc@book.example.com" {
		t.Errorf("UID %q", got)
	}
	if got := booking.CalendarUID("abc", ""); got != "abc@"+booking.CalendarDomain {
		t.Errorf("UID without PUBLIC_URL %q", got)
	}
}

func TestCalendarEventMethods(t *testing.T) {
	start := time.Date(2026, 12, 8, 9, 0, 0, 0, time.FixedZone("AEDT", 11*3600))
	ev := booking.CalendarEvent{UID: "d1@x", Start: start, End: start.Add(30 * time.Minute),
		Summary: "Physio; with Priya", Location: "Room 1, 12 Crown St", Description: "Reference 1.", Reminder: time.Hour}
	ics := string(ev.ICS())
	for _, want := range []string{"METHOD:PUBLISH", "UID:d1@x", "SEQUENCE:0", "DTSTART:20261207T220000Z",
		`SUMMARY:Physio\; with Priya`, `LOCATION:Room 1\, 12 Crown St`, "STATUS:CONFIRMED", "BEGIN:VALARM", "TRIGGER:-PT60M"} {
		if !strings.Contains(ics, want+"\r\n") {
			t.Errorf("event lacks %q:\n%s", want, ics)
		}
	}
	ev.Method, ev.Sequence = booking.CalendarCancel, 2
	ics = string(ev.ICS())
	for _, want := range []string{"METHOD:CANCEL", "UID:d1@x", "SEQUENCE:2", "STATUS:CANCELLED"} {
		if !strings.Contains(ics, want+"\r\n") {
			t.Errorf("cancel lacks %q:\n%s", want, ics)
		}
	}
	if strings.Contains(ics, "VALARM") {
		t.Errorf("a cancelled event keeps its alarm:\n%s", ics)
	}
}
