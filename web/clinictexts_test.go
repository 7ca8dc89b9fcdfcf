package web_test

import (
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/internal/coreplus/sandbox"
)

// withClinicTexts gives the test clinic what a clinic tells patients beyond
// coreplus: lines about two services, directions to one location and a
// cancellation policy of two paragraphs.
func withClinicTexts(c *booking.Clinic) {
	c.ServiceDescriptions = map[string]string{
		sandbox.AppointmentTypeInitialID:  "Your first visit: assessment, treatment and a plan",
		sandbox.AppointmentTypeStandardID: "A follow-up visit for a problem we are treating",
	}
	c.LocationDirections = map[string]string{sandbox.LocationSydneyID: "Level 1, above the pharmacy: the lift is on Crown Street"}
	c.CancellationPolicy = "Please give 24 hours' notice if you need to cancel.\nLate cancellations may be charged."
}

// card is one choice's card as a patient sees it.
type card struct {
	name, title, aside string
	lines              []string
}

// cards reads the choice cards of a step, each link's text as its name.
func cards(p *page) map[string]card {
	out := map[string]card{}
	p.Doc.Find("ul.choices a").Each(func(_ int, a *goquery.Selection) {
		c := card{
			name:  strings.Join(strings.Fields(a.Text()), " "),
			title: strings.TrimSpace(a.Find(".card-title").Text()),
			aside: strings.TrimSpace(a.Find(".card-aside").Text()),
		}
		a.Find(".meta").Each(func(_ int, m *goquery.Selection) { c.lines = append(c.lines, strings.TrimSpace(m.Text())) })
		out[c.title] = c
	})
	return out
}

// TestChoiceCardsTellServicesAndPractitionersApart: each service's card has
// its name, its length beside it and the clinic's line under it when there
// is one; practitioners' cards are built the same way; each card's text
// (its link's accessible name) begins with the name.
func TestChoiceCardsTellServicesAndPractitionersApart(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withClinicTexts)
	locs := h.get("/demo").WantH1("Where would you like to be seen?")
	svcs := h.get(locs.Link("Harbourside Physio Surry Hills")).WantH1("What would you like to book?")
	got := cards(svcs)
	for _, want := range []card{
		{title: "Initial Physiotherapy Assessment", aside: "1 hour", lines: []string{"Your first visit: assessment, treatment and a plan"}},
		{title: "Standard Consultation", aside: "30 min", lines: []string{"A follow-up visit for a problem we are treating"}},
		{title: "Extended Consultation", aside: "45 min"},
		{title: "Short Review", aside: "15 min"},
	} {
		c, ok := got[want.title]
		switch {
		case !ok:
			t.Errorf("no card for %q: %+v", want.title, got)
		case c.aside != want.aside || strings.Join(c.lines, "|") != strings.Join(want.lines, "|"):
			t.Errorf("card %q: length %q, lines %q; want %q, %q", want.title, c.aside, c.lines, want.aside, want.lines)
		case !strings.HasPrefix(c.name, want.title+" "+want.aside):
			t.Errorf("card %q is read as %q: want its name, then its length", want.title, c.name)
		}
	}

	pracs := cards(h.get(svcs.Link("Standard Consultation")).WantH1("Who would you like to see?"))
	for title, line := range map[string]string{
		"First available practitioner": "See the earliest times with anyone who offers this service",
		"Priya Nandakumar":             "Sports injuries and running",
		"Tom Whitfield":                "",
	} {
		c, ok := pracs[title]
		if !ok {
			t.Errorf("no practitioner card for %q: %+v", title, pracs)
			continue
		}
		if strings.Join(c.lines, "") != line || c.aside != "" || !strings.HasPrefix(c.name, title) {
			t.Errorf("practitioner card %q: %+v, want the line %q", title, c, line)
		}
	}
}

// TestAddressDirectionsAndPolicyFollowTheBooking: the location step shows
// each location's address and directions; the review and the confirmation
// show them for the chosen location, and the clinic's cancellation policy.
func TestAddressDirectionsAndPolicyFollowTheBooking(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withClinicTexts)
	locs := cards(h.get("/demo").WantH1("Where would you like to be seen?"))
	if got := locs["Harbourside Physio Surry Hills"].lines; len(got) != 3 || got[0] != "112 Crown Street, Surry Hills NSW 2010" ||
		got[1] != "Level 1, above the pharmacy: the lift is on Crown Street" || !strings.HasPrefix(got[2], "Times shown in Sydney time") {
		t.Errorf("Surry Hills card lines %q: want address, directions, zone", got)
	}
	if got := locs["Riverside Physio South Brisbane"].lines; len(got) != 2 || got[0] != "40 Grey Street, South Brisbane QLD 4101" {
		t.Errorf("Brisbane card lines %q: want address and zone, no directions", got)
	}

	wantPlace := func(step string, p *page) {
		t.Helper()
		var where *goquery.Selection
		p.Doc.Find(".summary-row").Each(func(_ int, r *goquery.Selection) {
			if strings.TrimSpace(r.Find("dt").Text()) == "Location" {
				where = r.Find("dd").First()
			}
		})
		if where == nil {
			t.Fatalf("%s has no Location row:\n%s", step, p.Text())
		}
		var lines []string
		where.Find(".meta").Each(func(_ int, m *goquery.Selection) { lines = append(lines, strings.TrimSpace(m.Text())) })
		if strings.Join(lines, "|") != "112 Crown Street, Surry Hills NSW 2010|Level 1, above the pharmacy: the lift is on Crown Street" {
			t.Errorf("%s: the location's lines are %q, want its address then its directions", step, lines)
		}
	}
	wantPolicy := func(step, heading string, p *page) {
		t.Helper()
		h := p.Doc.Find(heading).FilterFunction(func(_ int, s *goquery.Selection) bool { return s.Text() == "Cancellation policy" })
		if h.Length() != 1 {
			t.Fatalf("%s has no %s headed Cancellation policy:\n%s", step, heading, p.Text())
		}
		paras := h.NextAll().Filter("p")
		if paras.Length() < 2 || paras.Eq(0).Text() != "Please give 24 hours' notice if you need to cancel." || paras.Eq(1).Text() != "Late cancellations may be charged." {
			t.Errorf("%s: the policy reads %q, want its two paragraphs under the heading", step, paras.Text())
		}
	}

	review := h.toReview(newPatient, "Tom Whitfield")
	wantPlace("review", review)
	wantPolicy("review", "h2", review)
	done := h.confirm(review).WantH1("Booking confirmed")
	wantPlace("confirmation", done)
	wantPolicy("confirmation", "h3", done)
}

// TestNoPolicyNoHeading: a clinic with no policy shows no empty section.
func TestNoPolicyNoHeading(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	review := h.toReview(newPatient, "Tom Whitfield")
	if strings.Contains(review.Text(), "Cancellation policy") {
		t.Errorf("review shows a policy the clinic does not have:\n%s", review.Text())
	}
	if done := h.confirm(review).WantH1("Booking confirmed"); strings.Contains(done.Text(), "Cancellation policy") {
		t.Errorf("confirmation shows a policy the clinic does not have:\n%s", done.Text())
	}
}
