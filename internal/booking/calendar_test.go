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

// TestBookingEventCarriesWhatThePatientNeedsOnTheDay: the address, the
// directions, the clinic's cancellation policy and the move's sequence
// reach the calendar event.
func TestBookingEventCarriesWhatThePatientNeedsOnTheDay(t *testing.T) {
	start := time.Date(2026, 12, 8, 9, 0, 0, 0, time.UTC)
	clinic := booking.Clinic{Name: "Harbourside Physio", Phone: "02 9000 0000",
		CancellationPolicy: "Please give 24 hours' notice.\nLate cancellations may be charged."}
	b := booking.Confirmed{DraftID: "d1", Reference: "7712093", Start: start, End: start.Add(30 * time.Minute), Sequence: 2,
		Selection: booking.Selection{
			Location: &booking.Location{Name: "Surry Hills", Address: "112 Crown Street", Directions: "Level 1, above the pharmacy"},
			Service:  &booking.ServiceType{Name: "Standard Consultation"},
			Slot:     &booking.Slot{Start: start, End: start.Add(30 * time.Minute), Practitioner: booking.Practitioner{Name: "Priya Nandakumar"}},
		}}
	ics := strings.ReplaceAll(string(booking.BookingEvent(clinic, b, "https://book.example.com").ICS()), "\r\n ", "")
	for _, want := range []string{"UID:d1@book.example.com", "SEQUENCE:2", `LOCATION:Surry Hills\, 112 Crown Street`,
		`Reference 7712093.\n\nLevel 1\, above the pharmacy`, "Please give 24 hours' notice.", "Late cancellations may be charged."} {
		if !strings.Contains(ics, want) {
			t.Errorf("event lacks %q:\n%s", want, ics)
		}
	}
}
