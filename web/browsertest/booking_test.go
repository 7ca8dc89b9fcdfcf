//go:build browser

package browsertest

import (
	"context"
	"errors"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"
	"golang.org/x/time/rate"

	"github.com/clinic-booking/portal/internal/coreplus"
)

// patient is what a patient types into the details form.
type patient struct {
	firstName, lastName string
	dateOfBirth         time.Time
	email, mobile, note string
}

// choices are what the patient picks on the way to the details form, by
// the text the pages show.
type choices struct {
	location     string // a location's name
	service      string // an appointment type's name
	practitioner string // a practitioner's name; "" picks "first available"
	// date, when set ("2006-01-02"), opens the time step on that day
	// rather than the first with free times.
	date string
}

// booking is what the flow produced.
type booking struct {
	reference string     // the coreplus reference number shown to the patient
	query     url.Values // the choices the flow carried in its URLs
}

func TestPatientBooksAnAppointment(t *testing.T) {
	start := time.Now()
	b := newBrowser(t, desktop)
	p := patient{
		firstName: "Olive", lastName: "Browser-Test", dateOfBirth: time.Date(1961, time.August, 14, 0, 0, 0, 0, time.UTC),
		email: "olive.browser-test@example.com", mobile: "0412 345 678", note: "Left knee, since a fall in March.",
	}
	got := bookAppointment(b, choices{
		location:     "Harbourside Physio Surry Hills",
		service:      "Initial",
		practitioner: "", // first available
	}, p)
	assertCookiesAsDesigned(b)
	assertBookedInCoreplus(t, got, p)
	t.Logf("booked %s in %v", got.reference, time.Since(start).Round(time.Millisecond))
}

// TestBookingWorksWithCookiesDisabled books with every cookie blocked, as
// Safari and iOS treat a portal inside a clinic's iframe: the flow must
// carry its state in the pages, never in a cookie.
func TestBookingWorksWithCookiesDisabled(t *testing.T) {
	start := time.Now()
	b := newBrowser(t, browserConfig{width: 320, height: 640, mobile: true, blockCookies: true})

	// Prove the browser really refuses cookies before trusting the result.
	b.open(suite.portalURL + "/")
	stuck, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](
		`document.cookie = "probe=1; path=/; SameSite=Lax"; document.cookie`))
	if err != nil {
		t.Fatal(err)
	}
	if stuck != "" {
		t.Fatalf("cookies are not blocked: document.cookie kept %q", stuck)
	}
	setCookies := watchSetCookie(b)

	p := patient{
		firstName: "Ned", lastName: "No-Cookies", dateOfBirth: time.Date(1948, time.February, 29, 0, 0, 0, 0, time.UTC),
		email: "ned.no-cookies@example.com", mobile: "0498 765 432", note: "",
	}
	got := bookAppointment(b, choices{
		location:     "Riverside Physio South Brisbane",
		service:      "Standard",
		practitioner: "Liam O'Connor", // a named practitioner, and a quote in the name
	}, p)

	forPortal, err := chromedp.Call(b.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{suite.portalURL + "/"}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := chromedp.Call(b.ctx, storage.GetCookies, storage.GetCookiesParams{})
	if err != nil {
		t.Fatal(err)
	}
	if len(forPortal.Cookies)+len(res.Cookies) > 0 {
		res.Cookies = append(res.Cookies, forPortal.Cookies...)
		var names []string
		for _, c := range res.Cookies {
			names = append(names, c.Name+" ("+c.Domain+")")
		}
		t.Fatalf("the browser stored cookies although all were blocked: %v", names)
	}
	t.Logf("the portal sent %d Set-Cookie headers; the browser stored no cookie", setCookies())

	assertBookedInCoreplus(t, got, p)
	t.Logf("booked %s with cookies blocked in %v", got.reference, time.Since(start).Round(time.Millisecond))
}

// bookAppointment goes through the whole flow as a patient would, from the
// portal's address to the confirmation page, and returns what it shows.
func bookAppointment(b *browser, c choices, p patient) booking {
	b.t.Helper()
	return bookAppointmentFrom(b, c, p, func() { b.open(suite.portalURL + "/") }, nil)
}

// bookAppointmentFrom is bookAppointment with start opening the location
// step (or finding it open), and after, if not nil, called after each step
// with its name.
func bookAppointmentFrom(b *browser, c choices, p patient, start func(), after func(step string)) booking {
	b.t.Helper()
	out := booking{query: url.Values{}}
	step := func(name string, f func()) {
		b.t.Helper()
		began := time.Now()
		f()
		b.screenshot(name)
		b.checkPage()
		here := b.url()
		// Personal details travel only in POST bodies, never in a URL.
		for _, secret := range []string{p.lastName, p.email, url.QueryEscape(p.email), strings.ReplaceAll(p.mobile, " ", "")} {
			if strings.Contains(here, secret) {
				b.fail("a personal detail (%q) is in the page's URL %s", secret, here)
			}
		}
		if u, err := url.Parse(here); err == nil {
			for k, v := range u.Query() {
				if len(v) > 0 && v[0] != "" {
					out.query.Set(k, v[0])
				}
			}
		}
		b.t.Logf("%-13s %7v  %q  %s", name, time.Since(began).Round(time.Millisecond), b.heading(), here)
		if after != nil {
			after(name)
		}
	}

	step("location", func() {
		start()
		b.expectHeading("Where would you like to be seen?")
	})
	step("service", func() {
		b.follow(c.location)
		b.expectHeading("What would you like to book?")
	})
	step("practitioner", func() {
		b.follow(c.service)
		b.expectHeading("Who would you like to see?")
	})
	step("time", func() {
		if c.practitioner == "" {
			b.follow("First available practitioner")
		} else {
			b.follow(c.practitioner)
		}
		b.expectHeading("Choose a time")
	})
	var slot string
	step("details", func() {
		if c.date != "" {
			b.open(b.url() + "&date=" + c.date)
			b.expectHeading("Choose a time")
		}
		var link string
		link, slot = b.firstTime()
		b.navigate("pick the time "+quote(slot), chromedp.Click(link))
		b.expectHeading("Your details")
	})
	step("review", func() {
		b.fill("First name", p.firstName)
		b.fill("Last name", p.lastName)
		b.fillInGroup("Date of birth", "Day", strconv.Itoa(p.dateOfBirth.Day()))
		b.fillInGroup("Date of birth", "Month", strconv.Itoa(int(p.dateOfBirth.Month())))
		b.fillInGroup("Date of birth", "Year", strconv.Itoa(p.dateOfBirth.Year()))
		b.fill("Email address", p.email)
		b.fill("Mobile number", p.mobile)
		if p.note != "" {
			b.fill("Note to the clinic (optional)", p.note)
		}
		b.check("I agree to the clinic's privacy policy")
		b.screenshot("details-filled-in")
		b.press("Continue")
		b.expectHeading("Check your booking")
		b.expectText("the review page", p.firstName+" "+p.lastName, p.email, p.mobile, slotTime(slot), slotWith(slot))
		b.expectDistinctLinks("Change ")
	})
	step("confirmation", func() {
		b.press("Confirm booking")
		b.expectHeading("Booking confirmed")
		b.expectText("the confirmation page", slotTime(slot), slotWith(slot))
	})
	m := referencePattern.FindStringSubmatch(b.text())
	if m == nil {
		b.fail("the confirmation page shows no reference number")
	}
	out.reference = m[1]
	b.t.Logf("picked %q; reference %s", slot, out.reference)
	return out
}

// slotTime and slotWith read a time's accessible name, such as "9:00 am,
// Thursday 3 December, with Priya Nandakumar".
func slotTime(name string) string { t, _, _ := strings.Cut(name, ","); return t }

func slotWith(name string) string {
	if _, with, ok := strings.Cut(name, ", with "); ok {
		return with
	}
	return ""
}

var referencePattern = regexp.MustCompile(`reference number is\s+(\S+)`)

// assertCookiesAsDesigned checks every cookie the portal left in a browser
// that accepts cookies: HttpOnly, Secure, SameSite=None and Partitioned
// (CHIPS), so that inside a clinic's iframe it is either kept in that
// site's partition or dropped, and never readable by script.
func assertCookiesAsDesigned(b *browser) {
	b.t.Helper()
	res, err := chromedp.Call(b.ctx, storage.GetCookies, storage.GetCookiesParams{})
	if err != nil {
		b.t.Fatal(err)
	}
	for _, c := range res.Cookies {
		if !c.HTTPOnly || !c.Secure || c.SameSite != network.CookieSameSiteNone || c.PartitionKey == nil {
			b.t.Errorf("cookie %q: HttpOnly %v, Secure %v, SameSite %q, partitioned %v; want HttpOnly, Secure, SameSite=None, Partitioned",
				c.Name, c.HTTPOnly, c.Secure, c.SameSite, c.PartitionKey != nil)
		}
	}
}

// watchSetCookie counts the Set-Cookie headers the browser receives from
// now on, whether it keeps the cookies or not.
func watchSetCookie(b *browser) func() int64 {
	var n atomic.Int64
	events := chromedp.Events(b.ctx, network.ResponseReceivedExtraInfo)
	go func() {
		for ev, err := range events {
			if err != nil {
				return
			}
			for k := range ev.Headers {
				if strings.EqualFold(k, "Set-Cookie") {
					n.Add(1)
				}
			}
		}
	}()
	return n.Load
}

// assertBookedInCoreplus asks coreplus (the sandbox), through the portal's
// own signed API client, for the appointments of the next 60 days, and
// fails unless one carries the reference number the patient was shown, at
// the time, place and with the practitioner chosen, for a client record
// with the patient's details.
func assertBookedInCoreplus(t *testing.T, got booking, p patient) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	api := newCoreplusAPI(t)
	var locs []coreplus.Location
	err := retryRateLimited(ctx, func() (err error) { locs, err = api.ListLocations(ctx); return err })
	if err != nil || len(locs) == 0 {
		t.Fatalf("list locations in coreplus: %v (%d)", err, len(locs))
	}
	zone := locs[0].TimezoneID
	for _, l := range locs {
		if l.ID == got.query.Get("location") {
			zone = l.TimezoneID
		}
	}

	// coreplus answers at most 31 days at a time.
	from := time.Now().AddDate(0, 0, -1)
	until := time.Now().AddDate(0, 0, 61)
	var seen int
	for day := from; !day.After(until); day = day.AddDate(0, 0, 31) {
		end := day.AddDate(0, 0, 30)
		q := coreplus.AppointmentQuery{StartDate: day.Format(time.DateOnly), EndDate: end.Format(time.DateOnly), TimezoneID: zone}
		var apps []coreplus.Appointment
		err := retryRateLimited(ctx, func() (err error) { apps, err = api.ListAppointments(ctx, q); return err })
		if err != nil {
			t.Fatalf("list appointments %s to %s: %v", q.StartDate, q.EndDate, err)
		}
		seen += len(apps)
		for _, a := range apps {
			if a.ReferenceNumber != got.reference {
				continue
			}
			if a.Cancelled {
				t.Fatalf("appointment %s is in coreplus but cancelled: %+v", got.reference, a)
			}
			practitioner := got.query.Get("practitioner")
			if with := got.query.Get("with"); with != "" {
				practitioner = with // "first available": whose time was picked
			}
			for what, ids := range map[string][2]string{
				"location":     {got.query.Get("location"), a.LocationID},
				"service":      {got.query.Get("type"), a.AppointmentTypeID},
				"practitioner": {practitioner, a.PractitionerID},
			} {
				if !strings.EqualFold(ids[0], ids[1]) {
					t.Errorf("appointment %s: the patient chose %s %q, coreplus has %q", got.reference, what, ids[0], ids[1])
				}
			}
			if slot, err := time.Parse(time.RFC3339, got.query.Get("slot")); err != nil {
				t.Errorf("the flow's slot %q is not an RFC 3339 time: %v", got.query.Get("slot"), err)
			} else if !slot.Equal(a.Start) {
				t.Errorf("appointment %s starts at %v in coreplus, the patient picked %v", got.reference, a.Start, slot)
			}
			if len(a.ClientIDs) != 1 {
				t.Fatalf("appointment %s has clients %v, want the one patient", got.reference, a.ClientIDs)
			}
			var client coreplus.Client
			err := retryRateLimited(ctx, func() (err error) { client, err = api.GetClient(ctx, a.ClientIDs[0]); return err })
			if err != nil {
				t.Fatalf("get the appointment's client %s: %v", a.ClientIDs[0], err)
			}
			assertClientIs(t, client, p)
			t.Logf("coreplus has appointment %s: %s at location %s with practitioner %s for client %s %s",
				a.ReferenceNumber, a.Start.Format(time.RFC3339), a.LocationID, a.PractitionerID, client.FirstName, client.LastName)
			return
		}
	}
	t.Fatalf("coreplus has no appointment with reference %q among the %d of the next 60 days", got.reference, seen)
}

// newCoreplusAPI is the portal's signed API client, on the sandbox.
func newCoreplusAPI(t *testing.T) *coreplus.API {
	t.Helper()
	api, err := coreplus.New(coreplus.Config{
		BaseURL:        suite.coreplusURL,
		ConsumerID:     demoConsumerID,
		ConsumerSecret: demoConsumerSecret,
		AccessToken:    demoAccessToken,
		// The portal shares the consumer's 10 requests a second.
		Limiter: rate.NewLimiter(rate.Every(250*time.Millisecond), 1),
	})
	if err != nil {
		t.Fatal(err)
	}
	return api
}

// assertClientIs compares a coreplus client record with what the patient
// typed; the mobile only by its digits, as the portal may normalise it.
func assertClientIs(t *testing.T, c coreplus.Client, p patient) {
	t.Helper()
	digits := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, s)
	}
	dob := coreplus.Date{Year: p.dateOfBirth.Year(), Month: p.dateOfBirth.Month(), Day: p.dateOfBirth.Day()}
	switch {
	case c.FirstName != p.firstName || c.LastName != p.lastName:
		t.Errorf("the booking's client is %q %q, the patient typed %q %q", c.FirstName, c.LastName, p.firstName, p.lastName)
	case c.DateOfBirth == nil || *c.DateOfBirth != dob:
		t.Errorf("the booking's client was born %+v, the patient typed %+v", c.DateOfBirth, dob)
	case !strings.EqualFold(c.Email, p.email):
		t.Errorf("the booking's client has email %q, the patient typed %q", c.Email, p.email)
	case !strings.HasSuffix(digits(c.Mobile), strings.TrimPrefix(digits(p.mobile), "0")):
		t.Errorf("the booking's client has mobile %q, the patient typed %q", c.Mobile, p.mobile)
	}
}

// retryRateLimited calls f again, after coreplus's Retry-After, while
// coreplus says the consumer's budget (shared with the portal) is spent.
func retryRateLimited(ctx context.Context, f func() error) error {
	for {
		err := f()
		var ce *coreplus.Error
		if !errors.As(err, &ce) || !errors.Is(err, coreplus.ErrRateLimited) {
			return err
		}
		wait := max(ce.RetryAfter, time.Second)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}
