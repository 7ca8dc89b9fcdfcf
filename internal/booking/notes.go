package booking

import (
	"strings"
	"unicode/utf8"
)

// appointmentNotes is the patient's note plus a marker that tells staff
// (and a later reconciler) the booking came from the portal. The marker is
// always there: a note is checked to leave room for it, and one saved
// before that check is shortened to fit coreplus's 300 characters.
func appointmentNotes(note, draftID string) string {
	mark := marker(draftID)
	note = NormaliseNote(note)
	if note == "" {
		return mark
	}
	if room := MaxNoteLength - 1 - len(mark); utf8.RuneCountInString(note) > room {
		note = strings.TrimSpace(string([]rune(note)[:room-1])) + "…"
	}
	return note + "\n" + mark
}

// markerLength is the length of every draft's marker: draft ids are
// shortened to 8 characters in it.
const markerLength = len("Booked online (ref 12345678)")

// marker is what the notes of an appointment booked from a draft carry, so
// the sweeper can find it in coreplus after an unanswered booking.
func marker(draftID string) string { return "Booked online (ref " + short(draftID) + ")" }
