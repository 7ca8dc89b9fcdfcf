//go:build browser

package browsertest

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/clinic-booking/portal/internal/coreplus"
)

// TestPatientMovesThenCancelsABooking books, opens the manage link of the
// confirmation email (sent over SMTP to the suite's server), moves the
// appointment to another day, then cancels it; coreplus (the sandbox)
// holds exactly the right appointment after each step, the patient gets a
// "moved" and a "cancelled" email of the same calendar event, and axe-core
// finds nothing on any of the pages.
func TestPatientMovesThenCancelsABooking(t *testing.T) {
	b := newBrowser(t, desktop)
	p := patient{
		firstName: "Mona", lastName: "Manage-Test", dateOfBirth: time.Date(1957, time.May, 3, 0, 0, 0, 0, time.UTC),
		email: "mona.manage-test@example.com", mobile: "0413 222 333",
	}
	got := bookAppointment(b, choices{location: "Harbourside Physio Surry Hills", service: "Standard"}, p)
	booked := appointmentByReference(t, got.reference)
	if n := bookedFor(t, booked.ClientIDs[0]); n != 1 {
		t.Fatalf("coreplus holds %d booked appointments for the patient after booking, want 1", n)
	}

	// The booking email: the confirmation, with the manage link the
	// confirmation page shows too.
	confirmation := waitForEmail(t, p.email, 1)
	if !strings.Contains(confirmation.text, "Your booking is confirmed") || !strings.Contains(confirmation.text, got.reference) {
		t.Fatalf("the first email is not the booking's confirmation:\n%s", confirmation.text)
	}
	link := regexp.MustCompile(`Manage your booking: (\S+)`).FindStringSubmatch(confirmation.text)
	if link == nil {
		t.Fatalf("the confirmation email has no manage link:\n%s", confirmation.text)
	}
	manageURL := link[1]
	shown, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](
		`[...document.querySelectorAll('a')].find(a => a.textContent.includes('Change or cancel this booking')).getAttribute('href')`))
	if err != nil {
		t.Fatalf("the confirmation page has no manage link: %v", err)
	}
	if manageURL != suite.embedURL+shown {
		t.Fatalf("the email links to %q, the confirmation page to %q", manageURL, shown)
	}
	manage := strings.TrimPrefix(manageURL, suite.embedURL)
	uid := confirmation.icsLine("UID")

	// Opened from the email, as the patient would.
	b.open(manageURL)
	b.expectHeading("Your booking")
	b.expectText("the manage page", got.reference, "Standard Consultation", "You can change or cancel this booking online until")
	b.checkPage()
	b.expectNoAxeViolations("manage page")

	// Another day: the first time on the first later day that has one.
	b.follow("Choose another time")
	b.expectHeading("Choose a new time")
	b.checkPage()
	b.expectNoAxeViolations("reschedule time step")
	oldDay := booked.Start.Format(time.DateOnly)
	var newStart time.Time
	for days := 1; days <= 7 && newStart.IsZero(); days++ {
		other := booked.Start.AddDate(0, 0, days).Format(time.DateOnly)
		b.open(suite.portalURL + manage + "/reschedule?date=" + other)
		b.expectHeading("Choose a new time")
		link, name := b.firstTime()
		b.navigate("pick the time "+quote(name), chromedp.Click(link))
		b.expectHeading("Check your new time")
		slot, err := time.Parse(time.RFC3339, b.hiddenFields()["slot"])
		if err != nil {
			t.Fatalf("the review's slot: %v", err)
		}
		if slot.Format(time.DateOnly) != oldDay {
			newStart = slot
		}
	}
	if newStart.IsZero() {
		t.Fatal("no time on another day in the week after the booking")
	}
	b.expectText("the move's review", "Your booking now", "Your new time")
	b.checkPage()
	b.expectNoAxeViolations("reschedule review")
	b.press("Move my booking")
	b.expectHeading("Your booking has been moved")
	b.expectText("the moved page", got.reference, newStart.Format("Monday 2 January 2006"))
	b.checkPage()
	b.expectNoAxeViolations("moved page")

	moved := appointmentByReference(t, got.reference)
	if moved.ID != booked.ID || !moved.Start.Equal(newStart) || moved.Cancelled {
		t.Fatalf("after the move coreplus has %+v, want appointment %s moved in place to %s", moved, booked.ID, newStart)
	}
	if n := bookedFor(t, booked.ClientIDs[0]); n != 1 {
		t.Fatalf("coreplus holds %d booked appointments for the patient after the move, want 1", n)
	}
	movedEmail := waitForEmail(t, p.email, 2)
	if !strings.Contains(movedEmail.text, "Your booking has moved") || !strings.Contains(movedEmail.text, newStart.Format("Monday 2 January 2006")) ||
		!strings.Contains(movedEmail.text, manageURL) || movedEmail.icsLine("UID") != uid || movedEmail.icsLine("SEQUENCE") != "1" ||
		movedEmail.icsLine("DTSTART") != newStart.UTC().Format("20060102T150405Z") {
		t.Errorf("the moved email (UID %s, SEQUENCE %s, DTSTART %s) does not give the new time of the same event:\n%s",
			movedEmail.icsLine("UID"), movedEmail.icsLine("SEQUENCE"), movedEmail.icsLine("DTSTART"), movedEmail.text)
	}

	b.follow("Cancel this booking")
	b.expectHeading("Cancel this booking?")
	b.checkPage()
	b.expectNoAxeViolations("cancel confirm step")
	if a := appointmentByReference(t, got.reference); a.Cancelled {
		t.Fatal("the confirm step cancelled already")
	}
	b.press("Yes, cancel my booking")
	b.expectHeading("Your booking is cancelled")
	b.expectText("the cancelled page", got.reference, "Book again")
	b.checkPage()
	b.expectNoAxeViolations("cancelled page")

	if a := appointmentByReference(t, got.reference); !a.Cancelled {
		t.Fatalf("after the cancel coreplus has %+v, want it cancelled", a)
	}
	if n := bookedFor(t, booked.ClientIDs[0]); n != 0 {
		t.Fatalf("coreplus holds %d booked appointments for the patient after the cancel, want none", n)
	}
	cancelledEmail := waitForEmail(t, p.email, 3)
	if !strings.Contains(cancelledEmail.text, "Your booking is cancelled") || !strings.Contains(cancelledEmail.text, "Book again: ") ||
		cancelledEmail.icsLine("METHOD") != "CANCEL" || cancelledEmail.icsLine("UID") != uid || cancelledEmail.icsLine("SEQUENCE") != "2" {
		t.Errorf("the cancelled email (METHOD %s, UID %s, SEQUENCE %s) does not cancel the same event:\n%s",
			cancelledEmail.icsLine("METHOD"), cancelledEmail.icsLine("UID"), cancelledEmail.icsLine("SEQUENCE"), cancelledEmail.text)
	}
	// The cancelled time is offered again: "Book again" leads to its
	// choices, and the freed day offers the moved time once more.
	b.open(suite.portalURL + "/" + clinicSlug + "/book?" + url.Values{
		"location": {got.query.Get("location")}, "type": {got.query.Get("type")},
		"practitioner": {moved.PractitionerID}, "date": {newStart.Format(time.DateOnly)},
	}.Encode())
	b.expectHeading("Choose a time")
	if n := b.count("//a[@data-slot=" + xpathLiteral(newStart.Format(time.RFC3339)) + "]"); n != 1 {
		t.Errorf("the cancelled time %s is offered %d times, want once", newStart.Format(time.RFC3339), n)
	}
}

// TestCancelRefusedInsideTheCutoff: at a clinic whose cut-off has passed
// for the booking (the second portal's is 30 days), the manage page offers
// neither cancel nor move, says why and gives the phone number, and the
// appointment stays booked.
func TestCancelRefusedInsideTheCutoff(t *testing.T) {
	b := newBrowser(t, desktop)
	p := patient{
		firstName: "Cyril", lastName: "Cutoff-Test", dateOfBirth: time.Date(1970, time.January, 9, 0, 0, 0, 0, time.UTC),
		email: "cyril.cutoff-test@example.com", mobile: "0413 444 555",
	}
	// Three weeks on, well inside the 30 days, and clear of the times the
	// axe walk takes straight in coreplus on this portal (its time step
	// may show those for a moment longer).
	got := bookAppointmentFrom(b, choices{location: "Harbourside Physio Surry Hills", service: "Standard",
		date: time.Now().AddDate(0, 0, 21).Format(time.DateOnly)}, p,
		func() { b.open(suite.faultyURL + "/") }, nil)
	b.follow("Change or cancel this booking")
	b.expectHeading("Your booking")
	b.expectText("the manage page inside the cut-off", got.reference,
		"Online changes close 30 days before the appointment", "too late to change this booking online", clinicPhone)
	for _, offer := range []string{"Cancel this booking", "Choose another time"} {
		if n := b.count("//a[contains(normalize-space(.), " + xpathLiteral(offer) + ")]"); n != 0 {
			t.Errorf("inside the cut-off the page offers %q", offer)
		}
	}
	b.checkPage()
	b.expectNoAxeViolations("manage page inside the cut-off")
	if a := appointmentByReference(t, got.reference); a.Cancelled {
		t.Fatal("the appointment was cancelled")
	}
}

// appointmentByReference finds, in the next 60 days of coreplus's diary,
// the appointment with the reference number a patient was shown.
func appointmentByReference(t *testing.T, reference string) coreplus.Appointment {
	t.Helper()
	for _, a := range diary(t) {
		if a.ReferenceNumber == reference {
			return a
		}
	}
	t.Fatalf("coreplus has no appointment with reference %q", reference)
	return coreplus.Appointment{}
}

// bookedFor counts a client's appointments in coreplus that are not cancelled.
func bookedFor(t *testing.T, clientID string) int {
	t.Helper()
	n := 0
	for _, a := range diary(t) {
		if !a.Cancelled && len(a.ClientIDs) == 1 && strings.EqualFold(a.ClientIDs[0], clientID) {
			n++
		}
	}
	return n
}

// diary lists coreplus's appointments from yesterday to 60 days on, in
// the first location's zone (coreplus answers 31 days at a time).
func diary(t *testing.T) []coreplus.Appointment {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	api := newCoreplusAPI(t)
	var locs []coreplus.Location
	if err := retryRateLimited(ctx, func() (err error) { locs, err = api.ListLocations(ctx); return err }); err != nil || len(locs) == 0 {
		t.Fatalf("list locations in coreplus: %v (%d)", err, len(locs))
	}
	var out []coreplus.Appointment
	from, until := time.Now().AddDate(0, 0, -1), time.Now().AddDate(0, 0, 61)
	for day := from; !day.After(until); day = day.AddDate(0, 0, 31) {
		q := coreplus.AppointmentQuery{StartDate: day.Format(time.DateOnly), EndDate: day.AddDate(0, 0, 30).Format(time.DateOnly), TimezoneID: locs[0].TimezoneID}
		var apps []coreplus.Appointment
		if err := retryRateLimited(ctx, func() (err error) { apps, err = api.ListAppointments(ctx, q); return err }); err != nil {
			t.Fatalf("list appointments %s to %s: %v", q.StartDate, q.EndDate, err)
		}
		out = append(out, apps...)
	}
	return out
}
