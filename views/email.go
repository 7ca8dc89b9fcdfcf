package views

import "strings"

// BookingEmailText is the plain-text part of a booking email: the same
// view model as BookingEmailHTML, for clients that show text only.
func BookingEmailText(m BookingEmail) string {
	var b strings.Builder
	line := func(s ...string) {
		b.WriteString(strings.Join(s, ""))
		b.WriteString("\n")
	}
	line(m.ClinicName)
	line()
	line(m.Heading)
	line(strings.Repeat("=", len([]rune(m.Heading))))
	line()
	if m.Greeting != "" {
		line(m.Greeting)
		line()
	}
	line(m.Intro)
	line()
	for _, r := range m.Rows {
		line(r.Key, ": ", r.Value)
		if r.Extra != "" {
			line("  ", r.Extra)
		}
		if r.Note != "" {
			line("  ", r.Note)
		}
	}
	line()
	if m.ManageURL != "" {
		line("Manage your booking: ", m.ManageURL)
		line()
	}
	if m.BookAgainURL != "" {
		line("Book again: ", m.BookAgainURL)
		line()
	}
	if len(m.Policy) > 0 {
		line("Cancellation policy")
		for _, para := range m.Policy {
			line(para)
			line()
		}
	}
	if m.CalendarNote != "" {
		line(m.CalendarNote)
		line()
	}
	line("-- ")
	if m.Phone != "" {
		line(m.ClinicName, " · ", m.Phone)
	} else {
		line(m.ClinicName)
	}
	line("You're receiving this because you booked online with ", m.ClinicName, ".")
	return b.String()
}
