package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/clinic-booking/portal/internal/coreplus/sandbox"
	"github.com/clinic-booking/portal/internal/staff"
	"github.com/clinic-booking/portal/internal/store"
)

// leaveRequest has newPatient leave a booking request as a patient does:
// coreplus fails at confirm, and the request form comes prefilled.
func (ch *consoleHarness) leaveRequest() {
	ch.t.Helper()
	review := ch.toReview(newPatient, "Tom Whitfield")
	ch.sb.SetFaults(sandbox.Faults{ErrorRate: 1})
	link := ch.confirm(review).WantH1("Online booking isn't available right now").Link("Leave a booking request")
	action, form := ch.get(link).WantH1("Leave a booking request").Form()
	form.Add("days", "mon")
	form.Add("days", "thu")
	form.Add("times", "evening")
	ch.post(action, form).WantH1("Request received")
	ch.sb.SetFaults(sandbox.Faults{})
}

// requestCards are the requests listed under a section's heading id.
func requestCards(p *page, section string) []string {
	var out []string
	p.Doc.Find("section[aria-labelledby=" + section + "] article").Each(func(_ int, s *goquery.Selection) {
		out = append(out, strings.Join(strings.Fields(s.Text()), " "))
	})
	return out
}

func TestConsoleRequestsListsAndMarksContacted(t *testing.T) {
	ch := newConsoleHarness(t)
	ch.addStaff("jo@demo.example", "demo", staff.RoleStaff, false)
	ch.addStaff("sam@demo.example", "demo", staff.RoleStaff, false)
	ctx := t.Context()
	// An older request, with no choices made, and one of the other clinic.
	older := store.Request{ID: "0ld0000000000000000000000000000a", Clinic: "demo", Status: "new", CreatedAt: time.Now().Add(-3 * 24 * time.Hour),
		Details: store.RequestDetails{FirstName: "Ada", LastName: "Oldfield", Mobile: "0411222333"}}
	otherClinic := store.Request{ID: "07e0000000000000000000000000000b", Clinic: "other", Status: "new",
		Details: store.RequestDetails{FirstName: "Otto", LastName: "Elsewhere", Email: "otto@example.com"}}
	for _, r := range []store.Request{older, otherClinic} {
		if err := ch.db.CreateRequest(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	ch.leaveRequest()

	jo := ch.signIn("jo@demo.example")
	p, _ := ch.send("GET", "/console/demo/requests", jo, nil)
	p.WantH1("Booking requests")
	if cur := p.Doc.Find(`nav a[aria-current="page"]`); cur.Text() != "Requests" || cur.AttrOr("href", "") != "/console/demo/requests" {
		t.Errorf("the navigation's current page is %q", cur.Text())
	}
	waiting := requestCards(p, "to-contact")
	if len(waiting) != 2 {
		t.Fatalf("%d requests to contact, want 2:\n%s", len(waiting), p.Text())
	}
	// Newest first, with the names of the choices, the preferences in
	// words and the contact details staff call back on.
	for _, want := range []string{"Zephyrine Quillfeather", newPatient.Email, "0499 111 222", "Standard Consultation", "Tom Whitfield",
		"Harbourside Physio Surry Hills", "Monday, Thursday", "Evening (after 5 pm)", newPatient.Note} {
		if !strings.Contains(waiting[0], want) {
			t.Errorf("the newest request %q lacks %q", waiting[0], want)
		}
	}
	for _, want := range []string{"Ada Oldfield", "0411 222 333", "Not chosen", "Any day", "Any time",
		older.CreatedAt.In(sydney).Format("Mon 2 Jan, 3:04 pm")} {
		if !strings.Contains(waiting[1], want) {
			t.Errorf("the older request %q lacks %q", waiting[1], want)
		}
	}
	if strings.Contains(p.Body, "Otto") {
		t.Error("the other clinic's request is listed")
	}
	if got := requestCards(p, "contacted"); len(got) != 0 {
		t.Errorf("contacted: %q", got)
	}

	// Mark the patient's request contacted; it moves apart, with who and
	// when.
	action, form := p.Pressing("Mark Zephyrine Quillfeather contacted")
	if strings.Contains(action, "Zephyrine") || strings.Contains(action, "@") {
		t.Errorf("the mark address carries personal details: %s", action)
	}
	res, _ := ch.send("POST", action, jo, form)
	if res.Status != http.StatusSeeOther || res.Header.Get("Location") != "/console/demo/requests?done=contacted" {
		t.Fatalf("marking: %d, Location %q", res.Status, res.Header.Get("Location"))
	}
	p, _ = ch.send("GET", res.Header.Get("Location"), jo, nil)
	if got := requestCards(p, "to-contact"); len(got) != 1 || !strings.Contains(got[0], "Ada Oldfield") {
		t.Errorf("to contact after marking: %q", got)
	}
	contacted := requestCards(p, "contacted")
	when := ch.now.In(sydney).Format("Mon 2 Jan, 3:04 pm")
	if len(contacted) != 1 || !strings.Contains(contacted[0], "Zephyrine Quillfeather") ||
		!strings.Contains(contacted[0], "Marked contacted by jo@demo.example on "+when) {
		t.Errorf("contacted after marking: %q", contacted)
	}
	if !strings.Contains(p.Text(), "Marked contacted.") {
		t.Error("no notice that the request was marked")
	}

	// Marking again (a second press, or a colleague with the page still
	// open) changes nothing: the first marker is kept.
	sam := ch.signIn("sam@demo.example")
	res, _ = ch.send("POST", action, sam, url.Values{})
	if res.Status != http.StatusSeeOther || res.Header.Get("Location") != "/console/demo/requests?done=already" {
		t.Fatalf("marking again: %d, Location %q", res.Status, res.Header.Get("Location"))
	}
	p, _ = ch.send("GET", res.Header.Get("Location"), sam, nil)
	if got := requestCards(p, "contacted"); len(got) != 1 || !strings.Contains(got[0], "by jo@demo.example") {
		t.Errorf("contacted after marking twice: %q", got)
	}
	if !strings.Contains(p.Text(), "already marked contacted") {
		t.Error("no notice that the request was already marked")
	}
	list, err := ch.db.ListRequests(ctx, "demo", time.Now())
	if err != nil || len(list) != 2 || list[0].Status != "contacted" || list[0].ContactedBy != "jo@demo.example" {
		t.Errorf("stored: %+v, %v", list, err)
	}

	// The other clinic's staff cannot mark it (nor see that it exists).
	ch.addStaff("kim@other.example", "other", staff.RoleStaff, false)
	kim := ch.signIn("kim@other.example")
	if res, _ := ch.send("POST", "/console/other/requests/"+older.ID+"/contacted", kim, url.Values{}); res.Status != http.StatusNotFound {
		t.Errorf("marking another clinic's request through one's own: %d", res.Status)
	}
	if list, _ := ch.db.ListRequests(ctx, "demo", time.Now()); list[1].Status != "new" {
		t.Error("another clinic's staff marked the request")
	}

	// No personal detail of the patient went into a log or a URL.
	ch.assertPrivate(newPatient)
	for _, s := range []string{"Ada", "Oldfield", "0411222333"} {
		if strings.Contains(ch.logs.String(), s) {
			t.Errorf("%q in the logs", s)
		}
	}
	if !strings.Contains(ch.logs.String(), `"msg":"booking request marked contacted"`) {
		t.Error("marking is not logged")
	}
}

// TestConsoleRequestsWhileCoreplusIsDown: the page is the portal's own
// records; without coreplus's names it shows the ids and says why.
func TestConsoleRequestsWhileCoreplusIsDown(t *testing.T) {
	ch := newConsoleHarness(t)
	ch.addStaff("jo@demo.example", "demo", staff.RoleStaff, false)
	r := store.Request{ID: "d0000000000000000000000000000001", Clinic: "demo", Status: "new", LocationID: sandbox.LocationSydneyID,
		AppointmentTypeID: sandbox.AppointmentTypeStandardID, Details: store.RequestDetails{FirstName: "Ada", LastName: "Oldfield", Email: "ada@example.com"}}
	if err := ch.db.CreateRequest(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	ch.sb.SetFaults(sandbox.Faults{ErrorRate: 1})
	p, _ := ch.send("GET", "/console/demo/requests", ch.signIn("jo@demo.example"), nil)
	p.WantH1("Booking requests")
	if !strings.Contains(p.Text(), "coreplus isn't answering") {
		t.Error("the page does not say the names could not be read")
	}
	got := requestCards(p, "to-contact")
	if len(got) != 1 || !strings.Contains(got[0], "Ada Oldfield") || !strings.Contains(got[0], "ada@example.com") {
		t.Fatalf("requests: %q", got)
	}
	if !strings.Contains(got[0], sandbox.AppointmentTypeStandardID) && !strings.Contains(got[0], "Standard Consultation") {
		t.Errorf("the service is neither named nor given by id: %q", got[0])
	}
}
