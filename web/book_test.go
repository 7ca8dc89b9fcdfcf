package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/internal/coreplus"
	"github.com/clinic-booking/portal/internal/coreplus/sandbox"
	"github.com/clinic-booking/portal/internal/pagetest"
	"github.com/clinic-booking/portal/web"
)

func TestRootLeadsToTheOnlyClinic(t *testing.T) {
	h := newPageHarness(t, harnessSetup{})
	p := h.get("/")
	if !strings.HasSuffix(p.URL, "/demo") {
		t.Fatalf("/ led to %s", p.URL)
	}
	p.WantH1("Where would you like to be seen?")
	if got := p.Doc.Find("p.step").Text(); got != "Step 1 of 6" {
		t.Errorf("step indicator %q", got)
	}
}

// TestStandalonePagesStartWithASkipLink: the first link of a standalone
// page takes keyboard users past the clinic's header to the content.
func TestStandalonePagesStartWithASkipLink(t *testing.T) {
	h := newHarness(t)
	for _, p := range []*page{h.get("/demo"), h.toTimes("Harbourside Physio Surry Hills", "Standard Consultation", "Priya Nandakumar")} {
		first := p.Doc.Find("body a[href]").First()
		if first.Text() != "Skip to main content" || first.AttrOr("href", "") != "#main" || p.Doc.Find("main#main").Length() != 1 {
			t.Errorf("%s: first link %q to %q", p.URL, first.Text(), first.AttrOr("href", ""))
		}
	}
}

func TestEveryStepBeforeDetails(t *testing.T) {
	h := newHarness(t)
	p := h.get("/demo").WantH1("Where would you like to be seen?")
	for _, want := range []string{"Harbourside Physio Surry Hills", "112 Crown Street", "Sydney time, AEDT", "Riverside Physio South Brisbane", "Brisbane time, AEST"} {
		if !strings.Contains(p.Text(), want) {
			t.Errorf("location step lacks %q", want)
		}
	}

	p = h.get(p.Link("Harbourside Physio Surry Hills")).WantH1("What would you like to book?")
	if p.Doc.Find("p.back a").Length() != 1 || p.Doc.Find("p.step").Text() != "Step 2 of 6" {
		t.Errorf("service step: back link or step indicator missing")
	}
	for _, want := range []string{"Initial Physiotherapy Assessment 1 hour", "Standard Consultation 30 min", "Extended Consultation 45 min", "Short Review 15 min"} {
		if !strings.Contains(p.Text(), want) {
			t.Errorf("service step lacks %q:\n%s", want, p.Text())
		}
	}

	p = h.get(p.Link("Standard Consultation")).WantH1("Who would you like to see?")
	// Sydney's roster: Priya, Tom, Liam and Aisha work there; Mei and Jack do not.
	for _, want := range []string{"First available practitioner", "Priya Nandakumar Sports injuries and running", "Tom Whitfield", "Liam O'Connor", "Aisha Rahman"} {
		if !strings.Contains(p.Text(), want) {
			t.Errorf("practitioner step lacks %q:\n%s", want, p.Text())
		}
	}
	for _, absent := range []string{"Mei Chen", "Jack Morrison"} {
		if strings.Contains(p.Text(), absent) {
			t.Errorf("practitioner step offers %s, who doesn't work in Sydney", absent)
		}
	}

	p = h.get(p.Link("Priya Nandakumar")).WantH1("Choose a time")
	if !strings.Contains(p.Text(), "All times are Sydney time, AEDT") {
		t.Errorf("time step doesn't name its zone:\n%s", p.Text())
	}
	// Opens on the first day with a free time: today, Monday 30 November.
	shown := shownDay(t, p)
	if got := shown.Find("h2 time"); got.AttrOr("datetime", "") != "2026-11-30" || got.Text() != "Monday 30 November" {
		t.Errorf("day shown %q %q", got.AttrOr("datetime", ""), got.Text())
	}
	assertStripMatchesCoreplus(t, h, p, sandbox.PractitionerPriyaID)
	href, label := p.FirstSlot()
	if !regexp.MustCompile(`^\d{1,2}:\d\d [ap]m, Monday 30 November, with Priya Nandakumar$`).MatchString(label) {
		t.Errorf("slot label %q", label)
	}
	dt := shown.Find("ul.slots a time").First().AttrOr("datetime", "")
	if !strings.HasSuffix(dt, "+11:00") || !strings.HasPrefix(dt, "2026-11-30T") {
		t.Errorf("summer Sydney slot datetime %q, want +11:00", dt)
	}
	start, _ := time.Parse(time.RFC3339, dt)
	if start.Before(h.now.Add(2 * time.Hour)) {
		t.Errorf("first slot %v is inside the 2 hour notice", start)
	}
	if !strings.Contains(p.Text(), "Online bookings need at least 2 hours' notice.") {
		t.Error("the week holding today does not explain the minimum notice")
	}
	// Times are on screen: "next available" would only send the patient
	// where they are.
	if p.Doc.Find("a:contains('Next available time'), a:contains('Earlier')").Length() != 0 {
		t.Error("the first week offers earlier times or a next available time")
	}
	later := h.get(p.Link("Later")).WantH1("Choose a time")
	if got := later.Doc.Find(".strip li").First().Text(); !strings.Contains(got, "7 December") {
		t.Errorf("the later week starts %q", got)
	}
	if strings.Contains(later.Text(), "notice") {
		t.Error("a week without today explains the minimum notice")
	}
	h.get(later.Link("Earlier")).WantH1("Choose a time")

	p = h.get(href).WantH1("Your details")
	for _, l := range []string{"First name", "Last name", "Day", "Month", "Year", "Email address", "Mobile number", "Note to the clinic (optional)", "I agree to the clinic's privacy policy"} {
		p.Labelled(l)
	}
	if p.Doc.Find("button:contains('Continue')").Length() != 1 {
		t.Error("details form has no Continue button")
	}
}

// shownDay is the one day of times the time step shows.
func shownDay(t *testing.T, p *page) *goquery.Selection {
	t.Helper()
	days := p.Doc.Find("section.day").Not("[hidden]")
	if days.Length() != 1 {
		t.Fatalf("%s: %d days shown, want 1:\n%s", p.URL, days.Length(), p.Text())
	}
	return days
}

// assertStripMatchesCoreplus checks each day of the time step's strip
// against coreplus: a day is a link, marked as having free times, exactly
// when coreplus has a free time that day outside the minimum notice with
// one of practitioners; any other day is no link and says "no free times".
func assertStripMatchesCoreplus(t *testing.T, h *harness, p *page, practitioners ...string) {
	t.Helper()
	days := p.Doc.Find(".strip li")
	if days.Length() != 7 {
		t.Fatalf("strip of %d days, want 7", days.Length())
	}
	free, err := h.api.FindAvailability(t.Context(), coreplus.SlotQuery{
		StartDate: "2026-11-30", EndDate: "2026-12-06", TimezoneID: sandbox.TimezoneSydneyID,
		LocationIDs: []string{sandbox.LocationSydneyID}, PractitionerIDs: practitioners,
		AppointmentTypeID: sandbox.AppointmentTypeStandardID,
	})
	if err != nil {
		t.Fatal(err)
	}
	hasTimes := map[string]bool{}
	for _, sl := range free {
		if sl.LocationID == sandbox.LocationSydneyID && !sl.Start.Before(h.now.Add(2*time.Hour)) {
			hasTimes[sl.Start.In(sydney).Format(time.DateOnly)] = true
		}
	}
	withTimes := 0
	days.Each(func(i int, li *goquery.Selection) {
		date := time.Date(2026, 11, 30+i, 0, 0, 0, 0, sydney).Format(time.DateOnly)
		link := li.Find("a[href]")
		text := strings.Join(strings.Fields(li.Text()), " ")
		switch {
		case hasTimes[date] && link.Length() != 1:
			t.Errorf("strip: %s has free times in coreplus but is no link: %q", date, text)
		case hasTimes[date]:
			withTimes++
			u, _ := url.Parse(link.AttrOr("href", ""))
			if u.Query().Get("date") != date {
				t.Errorf("strip: the link of %s goes to %s", date, u)
			}
			if p.Doc.Find("section#day-"+date+" ul.slots a").Length() == 0 {
				t.Errorf("strip: %s is a link but the page has no times for it", date)
			}
		case link.Length() != 0 || !strings.Contains(text, "no free times"):
			t.Errorf("strip: %s has no free time in coreplus but reads %q (links %d)", date, text, link.Length())
		}
	})
	if withTimes == 0 || withTimes == 7 {
		t.Errorf("strip: %d days of 7 with times; the test wants both kinds", withTimes)
	}
}

// TestFirstAvailableOffersEachTimeOnce: with "first available" each time
// is offered once, with the practitioner who takes it named beside it:
// the first of the practitioner step's list free at that time.
func TestFirstAvailableOffersEachTimeOnce(t *testing.T) {
	h := newHarness(t)
	p := h.toTimes("Harbourside Physio Surry Hills", "Standard Consultation", "First available practitioner")
	order := p.Link("Choose a practitioner instead")
	pracs := h.get(order).WantH1("Who would you like to see?")
	var listed []string // practitioner ids, in the step's order
	pracs.Doc.Find("ul.choices a").Each(func(_ int, a *goquery.Selection) {
		u, _ := url.Parse(a.AttrOr("href", ""))
		if id := u.Query().Get("practitioner"); id != "any" {
			listed = append(listed, id)
		}
	})
	assertStripMatchesCoreplus(t, h, p, listed...)

	free, err := h.api.FindAvailability(t.Context(), coreplus.SlotQuery{
		StartDate: "2026-11-30", EndDate: "2026-12-06", TimezoneID: sandbox.TimezoneSydneyID,
		LocationIDs: []string{sandbox.LocationSydneyID}, PractitionerIDs: listed,
		AppointmentTypeID: sandbox.AppointmentTypeStandardID,
	})
	if err != nil {
		t.Fatal(err)
	}
	freeAt := map[string][]string{} // start -> practitioner ids free then
	for _, sl := range free {
		k := sl.Start.In(sydney).Format(time.RFC3339)
		freeAt[k] = append(freeAt[k], sl.PractitionerID)
	}
	seen := map[string]bool{}
	names := map[string]bool{}
	var last time.Time
	p.Doc.Find("ul.slots li").Each(func(_ int, li *goquery.Selection) {
		a := li.Find("a")
		dt := a.Find("time").AttrOr("datetime", "")
		start, err := time.Parse(time.RFC3339, dt)
		if err != nil || !start.After(last) {
			t.Errorf("times repeated or out of order at %v", dt)
		}
		last = start
		if seen[dt] {
			t.Errorf("%s offered twice", dt)
		}
		seen[dt] = true
		u, _ := url.Parse(a.AttrOr("href", ""))
		with := u.Query().Get("with")
		best := ""
		for _, id := range listed {
			if slices.Contains(freeAt[dt], id) {
				best = id
				break
			}
		}
		if with != best {
			t.Errorf("%s goes to %s; the first listed practitioner free then is %s", dt, with, best)
		}
		beside := strings.TrimSpace(li.Find(".with").Text())
		if !regexp.MustCompile(`^with \S+ \S\.$`).MatchString(beside) {
			t.Errorf("%s: beside the time %q, want \"with First L.\"", dt, beside)
		}
		full := strings.TrimPrefix(a.AttrOr("aria-label", ""), strings.TrimSpace(a.Text())+", ")
		if first, _, _ := strings.Cut(strings.TrimPrefix(beside, "with "), " "); !strings.Contains(full, ", with "+first) {
			t.Errorf("%s: announced as %q, shown %q", dt, a.AttrOr("aria-label", ""), beside)
		}
		names[beside] = true
	})
	if len(names) < 2 {
		t.Errorf("the week's times are all with %v", names)
	}
	if names["with Mei C."] {
		t.Error("a Brisbane-only practitioner shows in Sydney")
	}
}

// TestTimeStepShowsOneDayByPartOfDay: one day at a time, its times under
// Morning (before noon), Afternoon (to 5 pm) and Evening, in the
// location's zone; each time's name begins with what it shows.
func TestTimeStepShowsOneDayByPartOfDay(t *testing.T) {
	h := newHarness(t)
	// Aisha works late shifts on Mondays, Wednesdays and Fridays.
	p := h.toTimes("Harbourside Physio Surry Hills", "Standard Consultation", "Aisha Rahman")
	day := shownDay(t, p)
	parts := map[string]bool{}
	day.Find("h3").Each(func(_ int, h3 *goquery.Selection) {
		part := h3.Text()
		parts[part] = true
		list := day.Find("ul.slots[aria-labelledby='" + h3.AttrOr("id", "") + "']")
		if list.Length() != 1 {
			t.Fatalf("%s: %d lists of times", part, list.Length())
		}
		list.Find("a").Each(func(_ int, a *goquery.Selection) {
			start, _ := time.Parse(time.RFC3339, a.Find("time").AttrOr("datetime", ""))
			hour := start.In(sydney).Hour()
			want := map[bool]string{true: "Morning"}[hour < 12]
			if want == "" {
				want = map[bool]string{true: "Afternoon", false: "Evening"}[hour < 17]
			}
			if part != want {
				t.Errorf("%v is under %s, want %s", start, part, want)
			}
			visible := strings.Join(strings.Fields(a.Text()), " ")
			if !strings.HasPrefix(a.AttrOr("aria-label", ""), visible+",") {
				t.Errorf("%q is announced as %q", visible, a.AttrOr("aria-label", ""))
			}
		})
	})
	if !parts["Evening"] || !parts["Morning"] && !parts["Afternoon"] {
		t.Errorf("parts of the day shown: %v", parts)
	}
	if n := p.Doc.Find("nav").Length(); n != 1 {
		t.Errorf("%d nav landmarks, want 1 (labelled)", n)
	}
}

// TestTimeStepWithoutJavaScript walks the time step by its links alone:
// another day of the strip, the next week and back, then a time, to a
// booking; the date travels in the URL and the day stays chosen.
func TestTimeStepWithoutJavaScript(t *testing.T) {
	h := newHarness(t)
	p := h.toTimes("Harbourside Physio Surry Hills", "Standard Consultation", "Priya Nandakumar")
	// Tuesday 1 December, by the strip's link.
	tue := p.Doc.Find(".strip a[href]").Eq(1)
	if !strings.Contains(tue.Text(), "1 December") {
		t.Fatalf("second day of the strip is %q", tue.Text())
	}
	p = h.get(tue.AttrOr("href", "")).WantH1("Choose a time")
	if got := shownDay(t, p).Find("h2 time").AttrOr("datetime", ""); got != "2026-12-01" {
		t.Fatalf("following Tuesday's link shows %s", got)
	}
	if got := p.Doc.Find(".strip a[aria-current=date]").Text(); !strings.Contains(got, "1 December") {
		t.Errorf("the strip marks %q as chosen", got)
	}
	p = h.get(h.get(p.Link("Later")).Link("Earlier")).WantH1("Choose a time")
	href, label := p.FirstSlot()
	if !strings.Contains(label, "Monday 30 November") {
		t.Errorf("back on the first week, the first time is %q", label)
	}
	details := h.get(href).WantH1("Your details")
	// Back from the details returns to the day of the time picked.
	back := h.get(details.Doc.Find("p.back a").AttrOr("href", "")).WantH1("Choose a time")
	if got := shownDay(t, back).Find("h2 time").AttrOr("datetime", ""); got != "2026-11-30" {
		t.Errorf("back from the details shows %s", got)
	}
	action, form := details.Form()
	review := h.post(action, newPatient.fill(form)).WantH1("Check your booking")
	h.confirm(review).WantH1("Booking confirmed")
}

// TestTimeStepDeepLinksAndWindow: a link with a date opens on that day
// (or the nearest free day of its week, saying so); a date past the booking
// window says so and offers the last week that can be booked.
func TestTimeStepDeepLinksAndWindow(t *testing.T) {
	h := newHarness(t)
	base := "/demo/book?location=" + sandbox.LocationSydneyID + "&type=" + sandbox.AppointmentTypeStandardID + "&practitioner=" + sandbox.PractitionerPriyaID
	p := h.get(base + "&date=2026-12-02").WantH1("Choose a time")
	if got := shownDay(t, p).Find("h2 time").AttrOr("datetime", ""); got != "2026-12-02" {
		t.Errorf("date=2026-12-02 shows %s", got)
	}
	// Priya does not work in Sydney from Thursday to Sunday: the strip's
	// nearest free day is the Wednesday before.
	p = h.get(base + "&date=2026-12-03").WantH1("Choose a time")
	if got := shownDay(t, p).Find("h2 time").AttrOr("datetime", ""); got != "2026-12-02" {
		t.Errorf("date=2026-12-03 (no times) shows %s, want the week's free day before it", got)
	}
	if !strings.Contains(p.Text(), "There are no free times on Thursday 3 December.") {
		t.Errorf("no word that the date asked for has no times:\n%s", p.Text())
	}

	far := h.get(base + "&date=2027-03-01").WantH1("Choose a time")
	for _, want := range []string{"That date is past the booking window.", "You can book up to 60 days ahead online.", "For later times call 07 3000 0000."} {
		if !strings.Contains(far.Text(), want) {
			t.Errorf("past the window: no %q in:\n%s", want, far.Text())
		}
	}
	if far.Doc.Find("ul.slots a").Length() != 0 {
		t.Error("past the window, times are offered anyway")
	}
	lastWeek := h.get(far.Link("See the last week you can book")).WantH1("Choose a time")
	if lastWeek.Doc.Find("a:contains('Later')").Length() != 0 || !strings.Contains(lastWeek.Text(), "You can book up to 60 days ahead online.") {
		t.Errorf("the last week offers later times or does not explain the window:\n%s", lastWeek.Text())
	}

	// "First available" deep link with a date, and the slot's practitioner.
	p = h.get("/demo/book?location=" + sandbox.LocationSydneyID + "&type=" + sandbox.AppointmentTypeStandardID + "&practitioner=any&date=2026-12-01").WantH1("Choose a time")
	if got := shownDay(t, p).Find("h2 time").AttrOr("datetime", ""); got != "2026-12-01" {
		t.Errorf("first available, date=2026-12-01 shows %s", got)
	}
}

func TestBrisbaneTimesAreAEST(t *testing.T) {
	h := newHarness(t)
	p := h.toTimes("Riverside Physio South Brisbane", "Short Review", "Mei Chen")
	if !strings.Contains(p.Text(), "All times are Brisbane time, AEST") {
		t.Errorf("zone label:\n%s", p.Text())
	}
	if dt := p.Doc.Find("ul.slots a time").First().AttrOr("datetime", ""); !strings.HasSuffix(dt, "+10:00") {
		t.Errorf("Brisbane slot %q, want +10:00", dt)
	}
}

func TestDaylightSavingChangeIsLabelledPerDay(t *testing.T) {
	// Sydney leaves daylight saving on Sunday 4 April 2027; the week shown
	// runs from Thursday 1 to Wednesday 7 April.
	h := newHarnessAt(t, time.Date(2027, 4, 1, 6, 0, 0, 0, sydney))
	p := h.toTimes("Harbourside Physio Surry Hills", "Standard Consultation", "Tom Whitfield")
	if !strings.Contains(p.Text(), "All times are Sydney time, AEDT") || !strings.Contains(p.Text(), "Times on this day are Sydney time, AEST") {
		t.Errorf("DST week labels:\n%s", p.Text())
	}
	var before, after bool
	p.Doc.Find("ul.slots a time").Each(func(_ int, s *goquery.Selection) {
		dt := s.AttrOr("datetime", "")
		before = before || strings.HasPrefix(dt, "2027-04-01") && strings.HasSuffix(dt, "+11:00")
		after = after || strings.HasPrefix(dt, "2027-04-0") && dt >= "2027-04-05" && strings.HasSuffix(dt, "+10:00")
	})
	if !before {
		t.Error("no +11:00 time before the change")
	}
	if !after {
		t.Errorf("no +10:00 time after the change")
	}
}

func TestDeepLinkKeepsChoicesAndRejectsUnknownIDs(t *testing.T) {
	h := newHarness(t)
	p := h.get("/demo/book?type=" + sandbox.AppointmentTypeStandardID + "&practitioner=" + sandbox.PractitionerTomID).
		WantH1("Where would you like to be seen?")
	p = h.get(p.Link("Harbourside Physio Surry Hills")).WantH1("Choose a time")
	if !strings.Contains(p.Text(), "Standard Consultation (30 minutes) with Tom Whitfield") {
		t.Errorf("deep link lost a choice:\n%s", p.Text())
	}

	for _, u := range []string{
		"/demo/book?location=nope",
		"/demo/book?location=" + sandbox.LocationSydneyID + "&type=nope",
		"/demo/book?location=" + sandbox.LocationSydneyID + "&type=" + sandbox.AppointmentTypeStandardID + "&practitioner=nope",
	} {
		p := h.get(u)
		if p.Status != http.StatusBadRequest {
			t.Errorf("%s: status %d", u, p.Status)
		}
		p.WantH1("We couldn't use that link")
		p.Link("Start again")
	}
	h.get("/nosuchclinic").WantH1("Page not found")
}

func TestBookingWithNoCookieJarEndToEnd(t *testing.T) {
	h := newHarness(t)
	clientsBefore := len(h.sb.Clients())
	review := h.toReview(newPatient, "First available practitioner")
	for _, want := range []string{"Zephyrine Quillfeather", "14 February 1983", "zq.test@example.com", "0499 111 222", "Left knee, worse on stairs", "Standard Consultation", "Harbourside Physio Surry Hills", "Sydney time, AEDT"} {
		if !strings.Contains(review.Text(), want) {
			t.Errorf("review lacks %q:\n%s", want, review.Text())
		}
	}
	if n := review.Doc.Find("a:contains('Change')").Length(); n < 8 {
		t.Errorf("review has %d change links", n)
	}
	if got := review.Doc.Find("p.step").Text(); got != "Step 6 of 6" {
		t.Errorf("review step %q", got)
	}

	done := h.confirm(review).WantH1("Booking confirmed")
	appts := h.portalAppointments()
	if len(appts) != 1 {
		t.Fatalf("%d portal appointments in the sandbox", len(appts))
	}
	a := appts[0]
	if !strings.Contains(done.Text(), "Your reference number is "+a.ReferenceNumber) {
		t.Errorf("confirmation lacks reference %s:\n%s", a.ReferenceNumber, done.Text())
	}
	for _, want := range []string{"Standard Consultation", "Harbourside Physio Surry Hills", "112 Crown Street, Surry Hills NSW 2010", "Sydney time, AEDT", "call Harbourside Physio (test) on 07 3000 0000"} {
		if !strings.Contains(done.Text(), want) {
			t.Errorf("confirmation lacks %q:\n%s", want, done.Text())
		}
	}
	if !a.EmailReminder || !a.SMSReminder || !strings.HasPrefix(a.Notes, "Left knee, worse on stairs\nBooked online (ref ") {
		t.Errorf("appointment reminders %v/%v notes %q", a.EmailReminder, a.SMSReminder, a.Notes)
	}
	clients := h.sb.Clients()
	if len(clients) != clientsBefore+1 {
		t.Fatalf("clients %d -> %d, want one new", clientsBefore, len(clients))
	}
	c := clients[len(clients)-1]
	if c.ID != a.ClientID || c.FirstName != "Zephyrine" || c.DateOfBirth != "1983-02-14" || c.Mobile != "0499111222" || c.Email != "zq.test@example.com" {
		t.Errorf("new client %+v for appointment client %s", c, a.ClientID)
	}

	ics := h.get(done.Link("Add to your calendar"))
	ics.Body = strings.ReplaceAll(ics.Body, "\r\n ", "") // unfold long lines
	if ct := ics.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/calendar") {
		t.Errorf(".ics content type %q", ct)
	}
	wantStart := "DTSTART:" + a.Start.UTC().Format("20060102T150405Z")
	for _, want := range []string{"BEGIN:VEVENT", wantStart, "SUMMARY:Standard Consultation with ", "LOCATION:Harbourside Physio Surry Hills\\, 112 Crown Street\\, Surry Hills NSW 2010", "Reference " + a.ReferenceNumber} {
		if !strings.Contains(ics.Body, want) {
			t.Errorf(".ics lacks %q:\n%s", want, ics.Body)
		}
	}
	h.assertPrivate(newPatient)
}

func TestDoubleConfirmBooksOnce(t *testing.T) {
	h := newHarness(t)
	review := h.toReview(newPatient, "Priya Nandakumar")
	action, form := review.Form()
	var wg sync.WaitGroup
	pages := make([]*page, 3)
	for i := range pages {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPost, h.abs(action), strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := h.http.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			pages[i] = pagetest.Read(t, action, resp)
		}()
	}
	wg.Wait()
	again := h.confirm(review).WantH1("Booking confirmed")
	if n := len(h.portalAppointments()); n != 1 {
		t.Fatalf("%d appointments after confirming four times", n)
	}
	for _, p := range pages {
		if p == nil {
			continue
		}
		if p.Status != http.StatusSeeOther || !strings.HasSuffix(again.URL, p.Header.Get("Location")) {
			t.Errorf("a confirm answered %d %s, want the same confirmation %s", p.Status, p.Header.Get("Location"), again.URL)
		}
	}
}

func TestMatchesAnExistingClient(t *testing.T) {
	h := newHarness(t)
	jo := patient{First: "joanna", Last: "VARGA", Day: "20", Month: "11", Year: "1988",
		Email: "someone.else@example.com", Mobile: "+61 412 000 111", Consent: true}
	before := len(h.sb.Clients())
	h.confirm(h.toReview(jo, "Priya Nandakumar")).WantH1("Booking confirmed")
	if len(h.sb.Clients()) != before {
		t.Errorf("a client was created for an existing patient")
	}
	appts := h.portalAppointments()
	if len(appts) != 1 || appts[0].ClientID != sandbox.ClientJoannaVargaID {
		t.Fatalf("appointment on %+v, want Joanna Varga's record", appts)
	}
}

// TestSameNameAndBirthdayButOtherContactGoesOnTheRecord: a name and date
// of birth coreplus already holds are that person, whatever contact details
// are typed. Each booking goes on the one existing record, never a new
// one, and leaves the record as it was: knowing someone's name and birthday
// must not be enough to redirect their reminders. Staff read the details
// given in the appointment's notes; the portal's logs never hold them.
func TestSameNameAndBirthdayButOtherContactGoesOnTheRecord(t *testing.T) {
	h := newHarness(t)
	jo := patient{First: "Joanna", Last: "Varga", Day: "20", Month: "11", Year: "1988",
		Email: "another.jo@example.com", Mobile: "0400 000 001", Note: "Sore shoulder", Consent: true}
	before := h.sb.Clients()
	var pages []string
	for _, practitioner := range []string{"Priya Nandakumar", "Tom Whitfield", "Aisha Rahman"} {
		done := h.confirm(h.toReview(jo, practitioner)).WantH1("Booking confirmed")
		pages = append(pages, done.Text())
	}
	if after := h.sb.Clients(); !slices.Equal(after, before) {
		t.Errorf("coreplus's clients changed:\n%+v\nwas\n%+v", after, before)
	}
	same := 0
	for _, c := range h.sb.Clients() {
		if strings.EqualFold(c.FirstName, "Joanna") && strings.EqualFold(c.LastName, "Varga") && c.DateOfBirth == "1988-11-20" {
			same++
		}
	}
	if same != 1 {
		t.Errorf("%d coreplus clients for one person", same)
	}
	appts := h.portalAppointments()
	if len(appts) != 3 {
		t.Fatalf("%d portal appointments, want 3", len(appts))
	}
	for _, a := range appts {
		if a.ClientID != sandbox.ClientJoannaVargaID {
			t.Errorf("appointment on client %s, want Joanna Varga's record", a.ClientID)
		}
		want := "Sore shoulder\nContact details given online differ from the client record: email another.jo@example.com, mobile 0400000001\nBooked online (ref "
		if !strings.HasPrefix(a.Notes, want) {
			t.Errorf("notes %q, want them to start %q", a.Notes, want)
		}
	}
	for _, text := range pages {
		if strings.Contains(strings.ToLower(text), "existing") || strings.Contains(strings.ToLower(text), "new client") || strings.Contains(text, "differ") {
			t.Error("the confirmation says whether a record existed")
		}
	}
	h.assertPrivate(jo)
}

func TestSlotTakenMeanwhile(t *testing.T) {
	h := newHarness(t)
	review := h.toReview(newPatient, "Priya Nandakumar")
	_, form := review.Form()
	start, err := time.Parse(time.RFC3339, form.Get("slot"))
	if err != nil {
		t.Fatal(err)
	}
	// Someone else books the same time directly in coreplus.
	if _, err := h.api.CreateAppointment(t.Context(), coreplus.NewAppointment{
		Start: start, End: start.Add(30 * time.Minute), PractitionerID: sandbox.PractitionerPriyaID,
		LocationID: sandbox.LocationSydneyID, AppointmentTypeID: sandbox.AppointmentTypeStandardID,
		ClientID: sandbox.ClientPeterNguyenID,
	}); err != nil {
		t.Fatal(err)
	}

	taken := h.confirm(review)
	if taken.Status != http.StatusConflict {
		t.Errorf("status %d", taken.Status)
	}
	taken.WantH1("Check your booking")
	if summary := taken.Doc.Find(".error-summary").Text(); !strings.Contains(summary, "That time has just been taken") {
		t.Errorf("no error summary:\n%s", taken.Text())
	}
	if !strings.Contains(taken.Text(), "Zephyrine Quillfeather") {
		t.Error("the patient's details are not kept")
	}
	alts := taken.Doc.Find("section.taken ul.slots a")
	if alts.Length() == 0 {
		t.Fatalf("no alternatives offered:\n%s", taken.Text())
	}
	alts.Each(func(_ int, s *goquery.Selection) {
		if !strings.Contains(s.AttrOr("aria-label", ""), "with Priya Nandakumar") {
			t.Errorf("alternative with someone else: %s", s.AttrOr("aria-label", ""))
		}
	})
	taken.Link("See all free times")
	if len(h.portalAppointments()) != 0 {
		t.Fatal("a booking was made on a taken time")
	}

	// Picking an alternative needs no retyping: straight back to the review.
	again := h.get(alts.First().AttrOr("href", "")).WantH1("Check your booking")
	if !strings.Contains(again.Text(), "Zephyrine Quillfeather") {
		t.Error("details lost after choosing another time")
	}
	h.confirm(again).WantH1("Booking confirmed")
	if n := len(h.portalAppointments()); n != 1 {
		t.Fatalf("%d bookings", n)
	}
	h.assertPrivate(newPatient)
}

func TestCoreplusDownShowsAFriendlyPage(t *testing.T) {
	h := newPageHarness(t, harnessSetup{})
	h.fake.down = true
	p := h.get("/demo")
	if p.Status != http.StatusServiceUnavailable {
		t.Errorf("status %d", p.Status)
	}
	p.WantH1("Online booking isn't available right now")
	p.Link("Try again")
	p.Link("07 3000 0000")
	for _, leak := range []string{"coreplus", "503", "Service Unavailable", "HTTP", "GET /"} {
		if strings.Contains(p.Text(), leak) {
			t.Errorf("error page shows %q:\n%s", leak, p.Text())
		}
	}
}

func TestCoreplusDownAtConfirmKeepsTheDraft(t *testing.T) {
	h := newHarness(t)
	review := h.toReview(newPatient, "Tom Whitfield")
	h.sb.SetFaults(sandbox.Faults{ErrorRate: 1})
	down := h.confirm(review)
	if down.Status != http.StatusServiceUnavailable {
		t.Errorf("status %d", down.Status)
	}
	down.WantH1("Online booking isn't available right now")
	retry := down.Link("Try again")
	if strings.Contains(down.Text(), "coreplus") {
		t.Errorf("error page names the upstream:\n%s", down.Text())
	}

	h.sb.SetFaults(sandbox.Faults{})
	again := h.get(retry).WantH1("Check your booking")
	if !strings.Contains(again.Text(), "Zephyrine Quillfeather") {
		t.Error("details lost after a failed confirm")
	}
	h.confirm(again).WantH1("Booking confirmed")
	h.assertPrivate(newPatient)
}

func TestLostAnswerIsNotResent(t *testing.T) {
	h := newHarness(t)
	review := h.toReview(newPatient, "Tom Whitfield")
	h.sb.SetFaults(sandbox.Faults{StoreThenDropRate: 1})
	p := h.confirm(review).WantH1("We're confirming your booking")
	if !strings.Contains(p.Text(), "Please don't book again") {
		t.Errorf("pending page:\n%s", p.Text())
	}
	h.sb.SetFaults(sandbox.Faults{})
	h.confirm(review).WantH1("We're confirming your booking")
	if n := len(h.portalAppointments()); n != 1 {
		t.Errorf("%d appointments: the booking was resent", n)
	}
}

func TestDetailsValidation(t *testing.T) {
	long := strings.Repeat("a", 51)
	cases := []struct {
		name    string
		change  func(*patient)
		field   string
		message string
	}{
		{"first name missing", func(p *patient) { p.First = "  " }, "first-name", "Enter your first name"},
		{"first name long", func(p *patient) { p.First = long }, "first-name", "First name must be 50 characters or fewer"},
		{"last name missing", func(p *patient) { p.Last = "" }, "last-name", "Enter your last name"},
		{"last name long", func(p *patient) { p.Last = long }, "last-name", "Last name must be 50 characters or fewer"},
		{"dob missing", func(p *patient) { p.Day, p.Month, p.Year = "", "", "" }, "dob-day", "Enter your date of birth"},
		{"dob not a date", func(p *patient) { p.Day, p.Month = "31", "2" }, "dob-day", "Enter a real date of birth"},
		{"dob in the future", func(p *patient) { p.Year = "2030" }, "dob-day", "Date of birth must be in the past"},
		{"email missing", func(p *patient) { p.Email = "" }, "email", "Enter your email address"},
		{"email format", func(p *patient) { p.Email = "zq.test.example.com" }, "email", "Enter an email address in the correct format, like name@example.com"},
		{"email long", func(p *patient) { p.Email = strings.Repeat("z", 40) + "@example.com" }, "email", "Email address must be 50 characters or fewer"},
		{"mobile missing", func(p *patient) { p.Mobile = "" }, "mobile", "Enter your mobile number"},
		{"mobile landline", func(p *patient) { p.Mobile = "02 9555 0123" }, "mobile", "Enter an Australian mobile number, like 0412 345 678"},
		{"note long", func(p *patient) { p.Note = strings.Repeat("n", 271) }, "note", "Your note must be 270 characters or fewer"},
		{"no consent", func(p *patient) { p.Consent = false }, "consent", "Confirm that you agree to the privacy policy"},
	}
	// Every mistake comes from one address, more than the limit on forms
	// with mistakes allows (TestRejectLimitPerClientAddress tests that).
	h := newHarnessSetup(t, harnessSetup{web: func(c *web.Config) { c.Limits.RejectsPerMinute = -1 }})
	times := h.toTimes("Harbourside Physio Surry Hills", "Standard Consultation", "Priya Nandakumar")
	slot, _ := times.FirstSlot()
	details := h.get(slot).WantH1("Your details")
	action, blank := details.Form()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pt := newPatient
			tc.change(&pt)
			form := url.Values{}
			for k, v := range blank {
				form[k] = v
			}
			p := h.post(action, pt.fill(form)).ReportingTo(t)
			if p.Status != http.StatusUnprocessableEntity {
				t.Errorf("status %d", p.Status)
			}
			p.WantH1("Your details")
			summary := p.Doc.Find(".error-summary a")
			if summary.Length() != 1 || strings.TrimSpace(summary.Text()) != tc.message || summary.AttrOr("href", "") != "#"+tc.field {
				t.Errorf("summary %q -> %q, want %q -> #%s", summary.Text(), summary.AttrOr("href", ""), tc.message, tc.field)
			}
			ctl := p.Doc.Find("#" + tc.field)
			field := ctl.Closest(".field")
			if got := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(field.Find(".field-error").Text()), "Error:")); got != tc.message {
				t.Errorf("message by the field %q, want %q", got, tc.message)
			}
			if ctl.AttrOr("aria-invalid", "") != "true" {
				t.Error("field not marked aria-invalid")
			}
			if !strings.Contains(ctl.AttrOr("aria-describedby", "")+field.Find("fieldset").AttrOr("aria-describedby", ""), "-error") {
				t.Error("field not described by its error")
			}
			// Everything typed is kept, the mistake included.
			for label, want := range map[string]string{"First name": pt.First, "Last name": pt.Last, "Day": pt.Day, "Month": pt.Month, "Year": pt.Year, "Email address": pt.Email, "Mobile number": pt.Mobile} {
				if got := p.Labelled(label).AttrOr("value", ""); got != want {
					t.Errorf("%s kept as %q, want %q", label, got, want)
				}
			}
			if got := p.Labelled("Note to the clinic (optional)").Text(); got != pt.Note {
				t.Errorf("note kept as %q", got)
			}
			_, checked := p.Labelled("I agree to the clinic's privacy policy").Attr("checked")
			if checked != pt.Consent {
				t.Errorf("consent kept as %v", checked)
			}
		})
	}
	h.assertPrivate(newPatient)
}

func TestMobileIsNormalisedAndChangeLinksKeepDetails(t *testing.T) {
	h := newHarness(t)
	pt := newPatient
	pt.Mobile = "+61 (499) 111-222"
	review := h.toReview(pt, "Priya Nandakumar")
	if !strings.Contains(review.Text(), "0499 111 222") {
		t.Errorf("mobile not normalised:\n%s", review.Text())
	}
	// Change the time: the details stay, and the new time returns to the review.
	times := h.get(review.Link("Change date and time")).WantH1("Choose a time")
	links := times.Doc.Find("ul.slots a")
	if links.Length() < 2 {
		t.Fatal("not enough times")
	}
	changed := h.get(links.Eq(1).AttrOr("href", "")).WantH1("Check your booking")
	if !strings.Contains(changed.Text(), "Zephyrine Quillfeather") {
		t.Error("details lost when changing the time")
	}
	// Change the details: the form comes back filled in.
	form := h.get(changed.Link("Change name")).WantH1("Your details")
	if form.Labelled("First name").AttrOr("value", "") != "Zephyrine" || form.Labelled("Mobile number").AttrOr("value", "") != "0499111222" {
		t.Error("details form not filled from the draft")
	}
	// Change the service: the practitioner choice is asked again.
	h.get(changed.Link("Change service")).WantH1("What would you like to book?")
	h.assertPrivate(pt)
}

func TestPagesAreFramableOnlyByTheClinic(t *testing.T) {
	h := newPageHarness(t, harnessSetup{})
	p := h.get("/demo")
	csp := p.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "frame-ancestors 'self' https://www.example-clinic.com.au") || p.Header.Get("X-Frame-Options") != "" {
		t.Errorf("clinic page CSP %q, XFO %q", csp, p.Header.Get("X-Frame-Options"))
	}
	if csp := h.get("/healthz").Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("non-clinic CSP %q", csp)
	}
}

func TestCrossSitePostIsRefused(t *testing.T) {
	h := newPageHarness(t, harnessSetup{})
	req, _ := http.NewRequest(http.MethodPost, h.abs("/demo/book/details"), strings.NewReader(newPatient.fill(url.Values{}).Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	p := h.do(req)
	if p.Status != http.StatusForbidden {
		t.Fatalf("status %d", p.Status)
	}
	p.WantH1("We couldn't accept that form")
}

func TestSecondBookingOffersTheSameDetailsWhereCookiesWork(t *testing.T) {
	h := newHarness(t)
	h.withTLSAndJar()
	h.confirm(h.toReview(newPatient, "Priya Nandakumar")).WantH1("Booking confirmed")
	cookie := h.sessionCookie()
	if cookie == nil {
		t.Fatal("no session cookie kept")
	}
	if strings.Contains(cookie.Value, "Zephyrine") {
		t.Error("session cookie is readable")
	}

	// The device may be shared: until someone asks, the page shows the
	// first name and nothing else kept.
	offer := h.secondDetailsPage()
	if !strings.Contains(offer.Text(), "Booking for Zephyrine again?") {
		t.Errorf("no offer of the saved details:\n%s", offer.Text())
	}
	assertShowsNoSavedDetail(t, offer)
	if cc := offer.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("details page Cache-Control %q", cc)
	}

	// Only someone who knows the saved date of birth gets them filled in.
	action, values := offer.Pressing("Use my saved details")
	values.Set("saved_dob_day", "14")
	values.Set("saved_dob_month", "02")
	values.Set("saved_dob_year", "1983")
	form := h.post(action, values).WantH1("Your details")
	for label, want := range map[string]string{
		"First name": "Zephyrine", "Last name": "Quillfeather", "Day": "14", "Month": "2", "Year": "1983",
		"Email address": "zq.test@example.com", "Mobile number": "0499111222",
	} {
		if got := form.Labelled(label).AttrOr("value", ""); got != want {
			t.Errorf("%s filled in as %q, want %q", label, got, want)
		}
	}
	if _, checked := form.Labelled("I agree to the clinic's privacy policy").Attr("checked"); checked {
		t.Error("consent was given for the patient")
	}
	if got := form.Labelled("Note to the clinic (optional)").Text(); got != "" {
		t.Errorf("note kept from the last booking: %q", got)
	}
	if !strings.Contains(form.Text(), "from your last booking on this device") {
		t.Error("no notice that details were filled in")
	}
	if strings.Contains(form.Text(), "Use my saved details") {
		t.Error("the offer is still shown after the details were filled in")
	}

	action, values = form.Form()
	values.Set("consent", "yes")
	review := h.post(action, values).WantH1("Check your booking")
	if !strings.Contains(review.Text(), "Zephyrine Quillfeather") || !strings.Contains(review.Text(), "Short Review") {
		t.Errorf("review after using saved details:\n%s", review.Text())
	}
	h.assertPrivate(newPatient)
}

func TestForgetSavedDetailsClearsTheCookie(t *testing.T) {
	h := newHarness(t)
	h.withTLSAndJar()
	h.confirm(h.toReview(newPatient, "Priya Nandakumar")).WantH1("Booking confirmed")
	if h.sessionCookie() == nil {
		t.Fatal("no session cookie kept")
	}

	forgot := h.post(h.secondDetailsPage().Pressing("Forget them")).WantH1("Your details")
	setCookie := forgot.Header.Get("Set-Cookie")
	for _, want := range []string{"portal=", "Max-Age=0", "Secure", "SameSite=None", "Partitioned"} {
		if !strings.Contains(setCookie, want) {
			t.Errorf("Set-Cookie %q lacks %s", setCookie, want)
		}
	}
	if h.sessionCookie() != nil {
		t.Error("the browser still keeps the session cookie")
	}
	if !strings.Contains(forgot.Text(), "removed the saved details from this device") {
		t.Errorf("no notice that the details were forgotten:\n%s", forgot.Text())
	}
	assertShowsNoSavedDetail(t, forgot)

	again := h.secondDetailsPage()
	if strings.Contains(again.Text(), "Zephyrine") || strings.Contains(again.Text(), "Use my saved details") {
		t.Errorf("details offered after they were forgotten:\n%s", again.Text())
	}
	assertShowsNoSavedDetail(t, again)
}

func TestNoSavedDetailsWithoutACookie(t *testing.T) {
	h := newHarness(t)
	h.confirm(h.toReview(newPatient, "Priya Nandakumar")).WantH1("Booking confirmed")
	details := h.secondDetailsPage()
	if strings.Contains(details.Text(), "Use my saved details") {
		t.Errorf("details offered with no cookie:\n%s", details.Text())
	}
	assertShowsNoSavedDetail(t, details)

	// A form asking for saved details that are not there asks for them.
	action, values := details.Form()
	values.Set("saved", "use")
	p := h.post(action, values).WantH1("Your details")
	if !strings.Contains(p.Text(), "no longer on this device") {
		t.Errorf("no notice that nothing is saved:\n%s", p.Text())
	}
	assertShowsNoSavedDetail(t, p)
}

// secondDetailsPage walks to the details form for another appointment.
func (h *harness) secondDetailsPage() *page {
	h.t.Helper()
	times := h.toTimes("Harbourside Physio Surry Hills", "Short Review", "Tom Whitfield")
	slot, _ := times.FirstSlot()
	return h.get(slot).WantH1("Your details")
}

// sessionCookie is the portal's session cookie as the client keeps it.
func (h *harness) sessionCookie() *http.Cookie {
	for _, c := range h.http.Jar.Cookies(mustURL(h.portal.URL)) {
		if c.Name == "portal" {
			return c
		}
	}
	return nil
}

// assertShowsNoSavedDetail fails if the page holds any of newPatient's
// details beyond the first name, or fills in a field.
func assertShowsNoSavedDetail(t *testing.T, p *page) {
	t.Helper()
	for _, secret := range []string{"Quillfeather", "zq.test@example.com", "0499111222", "0499 111 222", "1983", "Left knee"} {
		if strings.Contains(p.Body, secret) {
			t.Errorf("%s shows %q", p.URL, secret)
		}
	}
	for _, label := range []string{"First name", "Last name", "Day", "Month", "Year", "Email address", "Mobile number"} {
		if got := p.Labelled(label).AttrOr("value", ""); got != "" {
			t.Errorf("%s: %s filled in as %q", p.URL, label, got)
		}
	}
	if _, checked := p.Labelled("I agree to the clinic's privacy policy").Attr("checked"); checked {
		t.Errorf("%s: consent given for the patient", p.URL)
	}
}

func TestSessionCookieAttributes(t *testing.T) {
	h := newHarness(t)
	review := h.toReview(newPatient, "Priya Nandakumar")
	action, form := review.Form()
	req, _ := http.NewRequest(http.MethodPost, h.abs(action), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	p := h.do(req)
	setCookie := p.Header.Get("Set-Cookie")
	// Twelve hours: a second booking the same day, not overnight on a
	// shared device.
	for _, want := range []string{"portal=", "HttpOnly", "Secure", "SameSite=None", "Partitioned", "Max-Age=43200"} {
		if !strings.Contains(setCookie, want) {
			t.Errorf("Set-Cookie %q lacks %s", setCookie, want)
		}
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// TestForgetSavedDetailsWhileCoreplusIsDown: "Forget them" needs only the
// session, so the cookie goes even when coreplus is down and nothing is
// cached.
func TestForgetSavedDetailsWhileCoreplusIsDown(t *testing.T) {
	h := newHarness(t)
	h.withTLSAndJar()
	h.confirm(h.toReview(newPatient, "Priya Nandakumar")).WantH1("Booking confirmed")
	action, form := h.secondDetailsPage().Pressing("Forget them")
	jar := h.http.Jar
	h.restart() // every cache cold
	h.withTLSAndJar()
	h.http.Jar = jar
	h.sb.SetFaults(sandbox.Faults{ErrorRate: 1})

	req, _ := http.NewRequest(http.MethodPost, h.abs(action), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	forgot := h.do(req)
	if forgot.Status != http.StatusSeeOther || !strings.Contains(forgot.Header.Get("Location"), "forgot=1") {
		t.Errorf("forget while coreplus is down: status %d, Location %q; want 303 back to the details page", forgot.Status, forgot.Header.Get("Location"))
	}
	if setCookie := forgot.Header.Get("Set-Cookie"); !strings.Contains(setCookie, "Max-Age=0") {
		t.Errorf("Set-Cookie %q does not clear the cookie", setCookie)
	}
	if h.sessionCookie() != nil {
		t.Error("the browser still keeps the session cookie")
	}

	// Once coreplus answers, the page says so.
	h.sb.SetFaults(sandbox.Faults{})
	back := h.get(forgot.Header.Get("Location")).WantH1("Your details")
	if !strings.Contains(back.Text(), "removed the saved details from this device") {
		t.Errorf("no notice that the details were forgotten:\n%s", back.Text())
	}
	assertShowsNoSavedDetail(t, back)
}

// TestSavedDetailsNeedTheirDateOfBirth: on a shared device, someone who
// does not know the saved date of birth gets nothing filled in, and the
// saved details are removed; asking without one asks for it.
func TestSavedDetailsNeedTheirDateOfBirth(t *testing.T) {
	h := newHarness(t)
	h.withTLSAndJar()
	h.confirm(h.toReview(newPatient, "Priya Nandakumar")).WantH1("Booking confirmed")

	offer := h.secondDetailsPage()
	asked := h.post(offer.Pressing("Use my saved details")).WantH1("Your details")
	if !strings.Contains(asked.Text(), "Enter your date of birth to use the saved details") || h.sessionCookie() == nil {
		t.Errorf("no date of birth: want it asked for and the details kept:\n%s", asked.Text())
	}
	assertShowsNoSavedDetail(t, asked)

	action, values := asked.Pressing("Use my saved details")
	values.Set("saved_dob_day", "15")
	values.Set("saved_dob_month", "2")
	values.Set("saved_dob_year", "1983")
	refused := h.post(action, values).WantH1("Your details")
	if !strings.Contains(refused.Text(), "Those details don't match, so we've removed them from this device.") {
		t.Errorf("no notice of the mismatch:\n%s", refused.Text())
	}
	assertShowsNoSavedDetail(t, refused)
	if h.sessionCookie() != nil {
		t.Error("the browser still keeps the session cookie after a wrong date of birth")
	}
	if again := h.secondDetailsPage(); strings.Contains(again.Text(), "Use my saved details") {
		t.Errorf("details offered again after a wrong date of birth:\n%s", again.Text())
	}
}

// freeWeek is coreplus with nothing free from 7 to 13 December 2026: a
// practice closed for a week.
type freeWeek struct{ booking.Coreplus }

func (f freeWeek) FindAvailability(ctx context.Context, q coreplus.SlotQuery) ([]coreplus.Slot, error) {
	slots, err := f.Coreplus.FindAvailability(ctx, q)
	var open []coreplus.Slot
	for _, sl := range slots {
		if d := sl.Start.In(sydney).Format(time.DateOnly); d < "2026-12-07" || d > "2026-12-13" {
			open = append(open, sl)
		}
	}
	return open, err
}

// TestNextAvailableOnlyWhenNoTimesAreShown: a week with no free time says
// so and offers the next available time, which opens on the next free day;
// a week with times on screen offers no such link.
func TestNextAvailableOnlyWhenNoTimesAreShown(t *testing.T) {
	h := newHarnessSetup(t, harnessSetup{upstream: func(c booking.Coreplus) booking.Coreplus { return freeWeek{c} }})
	p := h.toTimes("Harbourside Physio Surry Hills", "Standard Consultation", "Priya Nandakumar")
	closed := h.get(p.Link("Later")).WantH1("Choose a time")
	if !strings.Contains(closed.Text(), "There are no free times this week.") || closed.Doc.Find(".strip a[href]").Length() != 0 || closed.Doc.Find("ul.slots a").Length() != 0 {
		t.Errorf("the closed week:\n%s", closed.Text())
	}
	next := h.get(closed.Link("Next available time")).WantH1("Choose a time")
	if got := shownDay(t, next).Find("h2 time").AttrOr("datetime", ""); got != "2026-12-14" {
		t.Errorf("next available time opens on %s, want Monday 14 December", got)
	}
	if next.Doc.Find("a:contains('Next available time')").Length() != 0 {
		t.Error("times are on screen and next available time is still offered")
	}
}
