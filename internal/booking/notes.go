package booking

import (
	"strings"
	"unicode/utf8"
)

// bookingNotes is the notes of the appointment rec books for a patient
// with details d. They depend only on what the store keeps, so the sweeper
// sends again exactly what a confirm sent.
func bookingNotes(d Details, rec Record) string {
	var contact string
	if rec.ContactDiffers {
		contact = contactLine(d)
	}
	return appointmentNotes(d.Note, contact, rec.DraftID)
}

// appointmentNotes is the patient's note, then contact (a line for staff,
// or ""), then a marker that tells staff (and a later reconciler) the
// booking came from the portal. The marker and the contact line are always
// there: a note is checked to leave room for the marker, and one too long
// for all three is shortened to fit coreplus's 300 characters.
func appointmentNotes(note, contact, draftID string) string {
	tail := marker(draftID)
	if contact != "" {
		tail = contact + "\n" + tail
	}
	note = NormaliseNote(note)
	if note == "" {
		return tail
	}
	if room := MaxNoteLength - 1 - utf8.RuneCountInString(tail); utf8.RuneCountInString(note) > room {
		note = strings.TrimSpace(string([]rune(note)[:room-1])) + "…"
	}
	return note + "\n" + tail
}

// contactLine tells staff that the booking went on an existing client
// whose record lacks the contact details the patient gave, which the
// portal never writes over (see findOrCreateClient). It goes only into
// coreplus, the clinic's own record, never into the portal's logs.
func contactLine(d Details) string {
	var given []string
	if d.Email != "" {
		given = append(given, "email "+d.Email)
	}
	if d.Mobile != "" {
		given = append(given, "mobile "+d.Mobile)
	}
	if len(given) == 0 {
		return ""
	}
	return "Contact details given online differ from the client record: " + strings.Join(given, ", ")
}

// markerLength is the length of every draft's marker: draft ids are
// shortened to 8 characters in it.
const markerLength = len("Booked online (ref 12345678)")

// marker is what the notes of an appointment booked from a draft carry, so
// the sweeper can find it in coreplus after an unanswered booking.
func marker(draftID string) string { return "Booked online (ref " + short(draftID) + ")" }
