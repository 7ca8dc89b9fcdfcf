package main

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clinic-booking/portal/internal/coreplus"
	"github.com/clinic-booking/portal/internal/coreplus/sandbox"
	"github.com/clinic-booking/portal/internal/pagetest"
	"github.com/clinic-booking/portal/internal/store/storetest"
)

// TestFiftyPatientsTwoReplicasOneSlot starts one sandbox and two portal
// processes on one PostgreSQL database behind a simulated load balancer,
// gives 50 patients a draft each for the same time (their steps spread over
// both replicas), then has all 50 confirm at once, half to each replica.
// coreplus must end with exactly one appointment at that time, the other 49
// patients must be shown that the time was taken with other times, and no
// request may fail.
//
// It needs TEST_DATABASE_URL (a PostgreSQL server); .ci/run sets it.
func TestFiftyPatientsTwoReplicasOneSlot(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts processes; skipped with -short")
	}
	if os.Getenv("TEST_DATABASE_URL") == "" {
		t.Skip("TEST_DATABASE_URL is not set: this two-process race needs PostgreSQL (make postgres-test); web.TestFiftyPatientsOneSlot is its one-process SQLite variant")
	}
	databaseURL := storetest.FreshPostgresSchema(t)

	bin := t.TempDir()
	for _, cmd := range []string{"portal", "coreplus-sandbox"} {
		build := exec.Command("go", "build", "-o", filepath.Join(bin, cmd), "github.com/clinic-booking/portal/cmd/"+cmd)
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", cmd, err, out)
		}
	}
	// The race is about shared state; the sandbox's 10 a second would only
	// make two busy portals queue.
	sandboxAddr := freeAddr(t)
	startProcess(t, "sandbox", filepath.Join(bin, "coreplus-sandbox"), nil, "", "--addr", sandboxAddr, "--rate-limit", "-1")
	waitForTCP(t, sandboxAddr)

	env := []string{
		"DATABASE_URL=" + databaseURL,
		"PORTAL_SECRET_KEY=" + strings.Repeat("5e", 32),
		"PORTAL_TOKEN_KEYS=" + testKeyA,
		"COREPLUS_BASE_URL=http://" + sandboxAddr + "/API/Core/v2.1/",
		"COREPLUS_CONSUMER_ID=" + sandbox.DemoConsumerID,
		"COREPLUS_CONSUMER_SECRET=" + sandbox.DemoConsumerSecret,
		// The test is the load balancer: each patient has an address of its own.
		"TRUSTED_PROXIES=127.0.0.1",
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
	}
	add := exec.Command(filepath.Join(bin, "portal"), "clinic", "add", "--slug", "harbourside", "--name", "Harbourside Physio",
		"--access-token-file", "-", "--phone", "07 3000 0000")
	add.Env = env
	add.Stdin = strings.NewReader(sandbox.DemoAccessToken + "\n")
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("portal clinic add: %v\n%s", err, out)
	}
	replicas := []*replica{startPortal(t, "A", filepath.Join(bin, "portal"), env), startPortal(t, "B", filepath.Join(bin, "portal"), env)}

	p := replicas[0].get(t, "/harbourside")
	p = replicas[1].get(t, p.Link("Harbourside Physio Surry Hills"))
	p = replicas[0].get(t, p.Link("Standard Consultation"))
	p = replicas[1].get(t, p.Link("Priya Nandakumar"))
	slot, _ := p.FirstSlot()
	action, blank := replicas[0].get(t, slot).WantH1("Your details").Form()

	const patients = 50
	confirms := make([]url.Values, patients)
	var confirmAction string
	for i := range patients {
		form := url.Values{}
		for k, v := range blank {
			form[k] = append([]string(nil), v...)
		}
		form.Set("first_name", "Oriel")
		form.Set("last_name", "Racer-"+string(rune('a'+i%26))+string(rune('a'+i/26)))
		form.Set("dob_day", "9")
		form.Set("dob_month", "11")
		form.Set("dob_year", "1961")
		form.Set("email", fmt.Sprintf("racer.%d@example.com", i))
		form.Set("mobile", fmt.Sprintf("0499 333 %03d", i))
		form.Set("consent", "yes")
		r := replicas[i%2]
		status, loc, _ := r.postFrom(t, addrOf(i), action, form)
		if status != http.StatusSeeOther {
			t.Fatalf("patient %d details on %s: status %d", i, r.name, status)
		}
		confirmAction, confirms[i] = replicas[(i+1)%2].get(t, loc).WantH1("Check your booking").Form()
	}

	type answer struct {
		status int
		loc    string
		page   *pagetest.Page
	}
	answers := make([]answer, patients)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range patients {
		wg.Go(func() {
			<-start
			var a answer
			a.status, a.loc, a.page = replicas[i%2].postFrom(t, addrOf(i), confirmAction, confirms[i])
			answers[i] = a
		})
	}
	close(start)
	wg.Wait()

	booked, taken := 0, 0
	for i, a := range answers {
		switch {
		case a.status == http.StatusSeeOther && strings.Contains(a.loc, "/booking/"):
			booked++
			replicas[(i+1)%2].get(t, a.loc).WantH1("Booking confirmed")
		case a.status == http.StatusConflict && a.page != nil && a.page.Doc != nil:
			taken++
			if s := a.page.Doc.Find(".error-summary").Text(); !strings.Contains(s, "That time has just been taken") {
				t.Errorf("patient %d: 409 without saying the time was taken: %q", i, s)
			}
			if a.page.Doc.Find("section.taken ul.slots a").Length() == 0 {
				t.Errorf("patient %d: no other times offered", i)
			}
		default:
			t.Errorf("patient %d on %s: status %d, location %q", i, replicas[i%2].name, a.status, a.loc)
		}
	}
	if booked != 1 || taken != patients-1 {
		t.Errorf("%d booked and %d told the time was taken; want 1 and %d", booked, taken, patients-1)
	}
	// Every appointment at that time, as coreplus has it.
	var at []string
	start0 := p.Doc.Find("ul.slots a time").First().AttrOr("datetime", "")
	for _, ap := range listAllAppointments(t, "http://"+sandboxAddr+"/API/Core/v2.1/") {
		if ap.Start.Format(time.RFC3339) == start0 && ap.PractitionerID == sandbox.PractitionerPriyaID && !ap.Cancelled {
			at = append(at, ap.ID)
		}
	}
	if len(at) != 1 {
		t.Errorf("coreplus holds %d appointments with Priya at %s, want exactly 1", len(at), start0)
	}
}

func addrOf(i int) string { return fmt.Sprintf("198.51.100.%d", i+1) }

// postFrom sends a form from client address addr, through the test acting
// as a trusted load balancer, and returns the answer without following it.
func (r *replica) postFrom(t *testing.T, addr, action string, form url.Values) (int, string, *pagetest.Page) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, r.abs(action), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", r.base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("X-Forwarded-For", addr)
	resp, err := r.http.Do(req)
	if err != nil {
		t.Errorf("%s POST %s: %v", r.name, action, err)
		return 0, "", nil
	}
	p := pagetest.Read(t, r.name+" "+action, resp)
	return p.Status, p.Header.Get("Location"), p
}

// listAllAppointments asks coreplus for every appointment from yesterday to
// 60 days ahead, at most 31 days a request.
func listAllAppointments(t *testing.T, baseURL string) []coreplus.Appointment {
	t.Helper()
	api, err := coreplus.New(coreplus.Config{
		BaseURL: baseURL, ConsumerID: sandbox.DemoConsumerID,
		ConsumerSecret: sandbox.DemoConsumerSecret, AccessToken: sandbox.DemoAccessToken,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	locs, err := api.ListLocations(ctx)
	if err != nil || len(locs) == 0 {
		t.Fatalf("list locations: %v", err)
	}
	var all []coreplus.Appointment
	today := time.Now()
	for from := -1; from < 60; from += 31 {
		appts, err := api.ListAppointments(ctx, coreplus.AppointmentQuery{
			StartDate:  today.AddDate(0, 0, from).Format("2006-01-02"),
			EndDate:    today.AddDate(0, 0, from+30).Format("2006-01-02"),
			TimezoneID: locs[0].TimezoneID,
		})
		if err != nil {
			t.Fatalf("list appointments: %v", err)
		}
		all = append(all, appts...)
	}
	return all
}
