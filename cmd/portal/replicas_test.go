package main

import (
	"context"
	"io"
	"net"
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
	"github.com/clinic-booking/portal/internal/mail"
	"github.com/clinic-booking/portal/internal/mail/mailtest"
	"github.com/clinic-booking/portal/internal/pagetest"
	"github.com/clinic-booking/portal/internal/store"
	"github.com/clinic-booking/portal/internal/store/storetest"
)

// TestTwoReplicasOnePostgresBookOnce builds the portal and the coreplus
// sandbox, starts one sandbox and two portal processes on one PostgreSQL
// database, adds the clinic with `portal clinic add`, and drives one
// patient's booking with its steps alternating between the two portals, as
// a load balancer with no session affinity would. The booking must complete
// once: one confirmation, one appointment in coreplus, even when the confirm
// is sent again to the other replica.
//
// It needs TEST_DATABASE_URL (a PostgreSQL server); .ci/run sets it.
func TestTwoReplicasOnePostgresBookOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts processes; skipped with -short")
	}
	databaseURL := storetest.FreshPostgresSchema(t) // skips without TEST_DATABASE_URL

	bin := t.TempDir()
	for _, cmd := range []string{"portal", "coreplus-sandbox"} {
		build := exec.Command("go", "build", "-o", filepath.Join(bin, cmd), "github.com/clinic-booking/portal/cmd/"+cmd)
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", cmd, err, out)
		}
	}

	// The sandbox's own 10 requests a second would make two busy portals
	// meet 429s; this test is about shared state, not the rate limit.
	sandboxAddr := freeAddr(t)
	startProcess(t, "sandbox", filepath.Join(bin, "coreplus-sandbox"), nil, "", "--addr", sandboxAddr, "--rate-limit", "-1")
	coreplusURL := "http://" + sandboxAddr + "/API/Core/v2.1/"
	waitForTCP(t, sandboxAddr)

	// Both replicas send mail, to one SMTP server: the confirmation must
	// arrive once.
	smtp := mailtest.Start(t)
	env := []string{
		"SMTP_URL=" + smtp.URL(),
		"MAIL_FROM=Harbourside Physio <bookings@example-clinic.com.au>",
		"PUBLIC_URL=http://book.example-clinic.test",
		"DATABASE_URL=" + databaseURL,
		"PORTAL_SECRET_KEY=" + strings.Repeat("5e", 32),
		"PORTAL_TOKEN_KEYS=" + testKeyA,
		"COREPLUS_BASE_URL=" + coreplusURL,
		"COREPLUS_CONSUMER_ID=" + sandbox.DemoConsumerID,
		"COREPLUS_CONSUMER_SECRET=" + sandbox.DemoConsumerSecret,
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
	}
	add := exec.Command(filepath.Join(bin, "portal"), "clinic", "add", "--slug", "harbourside", "--name", "Harbourside Physio",
		"--access-token-file", "-", "--phone", "07 3000 0000", "--cancellation-cutoff", "1h")
	add.Env = env
	add.Stdin = strings.NewReader(sandbox.DemoAccessToken + "\n")
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("portal clinic add: %v\n%s", err, out)
	}

	a := startPortal(t, "A", filepath.Join(bin, "portal"), env)
	b := startPortal(t, "B", filepath.Join(bin, "portal"), env)
	if a.base == b.base {
		t.Fatal("both portals serve on one address")
	}
	t.Logf("portal A %s, portal B %s, sandbox %s", a.base, b.base, coreplusURL)

	// GET steps alternate B, A, B, A, B; then POST details to A, review
	// from B, confirm to A, confirmation from B.
	p := b.get(t, "/harbourside")
	p = a.get(t, p.Link("Harbourside Physio Surry Hills"))
	p = b.get(t, p.Link("Standard Consultation"))
	p = a.get(t, p.Link("First available practitioner"))
	slot, _ := p.FirstSlot()
	p = b.get(t, slot).WantH1("Your details")

	action, form := p.Form()
	form.Set("first_name", "Oriel")
	form.Set("last_name", "Replicaworth")
	form.Set("dob_day", "9")
	form.Set("dob_month", "11")
	form.Set("dob_year", "1961")
	form.Set("email", "oriel.r@example.com")
	form.Set("mobile", "0499 333 444")
	form.Set("consent", "yes")
	review := b.get(t, a.post(t, action, form)).WantH1("Check your booking")
	if !strings.Contains(review.Text(), "Oriel Replicaworth") {
		t.Fatalf("review from B does not show the details posted to A:\n%s", review.Text())
	}

	action, form = review.Form()
	confirmation := b.get(t, a.post(t, action, form))
	ref := strings.TrimSpace(confirmation.Doc.Find(".reference").First().Text())
	if ref == "" || !strings.Contains(confirmation.Text(), "Your reference number is "+ref) {
		t.Fatalf("confirmation from B shows no reference number:\n%s", confirmation.Text())
	}

	// The patient presses Confirm again (a double tap, a retry) and the
	// load balancer sends it to B this time: still one booking.
	again := a.get(t, b.post(t, action, form))
	if !strings.Contains(again.Text(), "Your reference number is "+ref) {
		t.Errorf("a repeated confirm on the other replica did not lead to the same booking %s:\n%s", ref, again.Text())
	}

	api, err := coreplus.New(coreplus.Config{
		BaseURL: coreplusURL, ConsumerID: sandbox.DemoConsumerID,
		ConsumerSecret: sandbox.DemoConsumerSecret, AccessToken: sandbox.DemoAccessToken,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	locs, err := api.ListLocations(ctx)
	if err != nil || len(locs) == 0 {
		t.Fatalf("list locations: %v", err)
	}
	// Every appointment in the next 60 days, at most 31 days a request.
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
	var booked []coreplus.Appointment
	for _, ap := range all {
		if ap.ReferenceNumber == ref && !ap.Cancelled {
			booked = append(booked, ap)
		}
	}
	if len(booked) != 1 || len(booked[0].ClientIDs) != 1 {
		t.Fatalf("coreplus holds %d appointment(s) with reference %s; want exactly one, for one client", len(booked), ref)
	}
	patient := booked[0].ClientIDs[0]
	var forPatient int
	for _, ap := range all {
		for _, c := range ap.ClientIDs {
			if c == patient && !ap.Cancelled {
				forPatient++
			}
		}
	}
	if forPatient != 1 {
		t.Errorf("coreplus holds %d appointments for the patient; want exactly one", forPatient)
	}

	// The confirmation: queued once, sent by one replica, and gone from
	// the outbox. Both replicas' workers poll the one PostgreSQL outbox.
	got := smtp.Wait(1, 60*time.Second)
	if len(got) != 1 || len(got[0].To) != 1 || got[0].To[0] != "oriel.r@example.com" {
		t.Fatalf("SMTP server received %d messages, want 1 to the patient", len(got))
	}
	db, err := store.Open(ctx, databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	outboxDrained := func() {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
			left, err := db.ListOutbox(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(left) == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d message(s) still in the outbox", len(left))
			}
		}
	}
	outboxDrained()
	// Another poll of each replica finds nothing more to send.
	time.Sleep(2 * mail.DefaultPoll)
	if n := len(smtp.Messages()); n != 1 {
		t.Errorf("SMTP server received %d messages, want exactly 1", n)
	}
	if !strings.Contains(string(got[0].Data), ref) {
		t.Errorf("the confirmation does not name reference %s", ref)
	}
	for _, r := range []*replica{a, b} {
		for _, s := range []string{"oriel.r@example.com", "Oriel", "Replicaworth", "0499 333 444"} {
			if strings.Contains(r.logs.String(), s) {
				t.Errorf("replica %s logged the personal detail %q", r.name, s)
			}
		}
	}
	if sent := strings.Count(a.logs.String()+b.logs.String(), `"msg":"mail sent"`); sent != 1 {
		t.Errorf("the replicas logged %d sends, want 1", sent)
	}

	// The patient moves the booking, pressing "Move my booking" twice at
	// once, each press reaching another replica; then cancels it the same
	// way. coreplus moves it once and cancels it once.
	manage := confirmation.Link("Change or cancel this booking")
	times := a.get(t, b.get(t, manage).WantH1("Your booking").Link("Choose another time")).WantH1("Choose a new time")
	later := times.Doc.Find("ul.slots a").Last().AttrOr("href", "")
	action, form = b.get(t, later).WantH1("Check your new time").Form()
	newStart, err := time.Parse(time.RFC3339, form.Get("slot"))
	if err != nil {
		t.Fatalf("the move's slot %q: %v", form.Get("slot"), err)
	}
	bothAtOnce := func(what, want string) {
		t.Helper()
		var wg sync.WaitGroup
		for i, r := range []*replica{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				status, loc, _ := r.postFrom(t, addrOf(i), action, form)
				if status != http.StatusSeeOther || !strings.Contains(loc, want) {
					t.Errorf("%s on %s: %d %s, want a redirect to %s", what, r.name, status, loc, want)
				}
			}()
		}
		wg.Wait()
	}
	bothAtOnce("move", "done=moved")
	a.get(t, manage).WantH1("Your booking")
	draftID, _, _ := strings.Cut(strings.TrimPrefix(manage, "/harbourside/manage/"), ".")
	rec, err := db.GetBookingByDraft(ctx, draftID)
	if err != nil || !rec.Start.Equal(newStart) || rec.Sequence != 1 || rec.ChangeState != "" {
		t.Fatalf("record after two presses of a move on two replicas: %+v, %v; want moved once", rec, err)
	}
	moved, err := api.GetAppointment(ctx, booked[0].ID)
	if err != nil || !moved.Start.Equal(newStart) || moved.Cancelled {
		t.Fatalf("coreplus after the move: %+v, %v", moved, err)
	}

	// The patient reads the "moved" email before cancelling: one still
	// unsent when the booking is cancelled is dropped, the cancel's email
	// replacing it.
	if got := smtp.Wait(2, 60*time.Second); len(got) != 2 {
		t.Fatalf("SMTP server received %d messages after the move, want 2 (confirmed, moved)", len(got))
	}

	action, form = b.get(t, manage+"/cancel").WantH1("Cancel this booking?").Form()
	bothAtOnce("cancel", "done=cancelled")
	b.get(t, manage).WantH1("This booking is cancelled")
	if cancelled, err := api.GetAppointment(ctx, booked[0].ID); err != nil || !cancelled.Cancelled {
		t.Fatalf("coreplus after the cancel: %+v, %v", cancelled, err)
	}
	if rec, err := db.GetBookingByDraft(ctx, draftID); err != nil || rec.Status != "cancelled" {
		t.Fatalf("record after the cancel: %+v, %v", rec, err)
	}

	// One "moved" and one "cancelled" email, each queued by the one press
	// that recorded its change and sent by one replica: 3 in all.
	smtp.Wait(3, 60*time.Second)
	outboxDrained()
	time.Sleep(2 * mail.DefaultPoll)
	if got = smtp.Messages(); len(got) != 3 {
		t.Fatalf("SMTP server received %d messages in all, want 3 (confirmed, moved, cancelled)", len(got))
	}
	// The two changes may be queued in one second, and sent in either order.
	kinds := map[string]int{}
	for i, m := range got {
		if len(m.To) != 1 || m.To[0] != "oriel.r@example.com" {
			t.Errorf("message %d not to the patient alone: %v", i, m.To)
		}
		for _, h := range []string{"Your booking is confirmed", "Your booking has moved", "Your booking is cancelled"} {
			if strings.Contains(string(m.Data), h) {
				kinds[h]++
			}
		}
		if !strings.Contains(string(m.Data), "text/calendar") { // its content: web's TestMovedAndCancelledEmailsArriveOnceOverSMTP
			t.Errorf("message %d has no calendar file", i)
		}
	}
	if len(kinds) != 3 || kinds["Your booking has moved"] != 1 || kinds["Your booking is cancelled"] != 1 {
		t.Errorf("the emails sent: %v; want one each of confirmed, moved and cancelled", kinds)
	}
	if sent := strings.Count(a.logs.String()+b.logs.String(), `"msg":"mail sent"`); sent != 3 {
		t.Errorf("the replicas logged %d sends, want 3", sent)
	}
	for _, r := range []*replica{a, b} {
		for _, s := range []string{"oriel.r@example.com", "Oriel", "Replicaworth", "0499 333 444"} {
			if strings.Contains(r.logs.String(), s) {
				t.Errorf("replica %s logged the personal detail %q", r.name, s)
			}
		}
	}
}

// replica is one running portal process.
type replica struct {
	name string
	base string
	http *http.Client
	logs *pagetest.SyncBuffer // what it wrote to stdout after its serving line
}

func startPortal(t *testing.T, name, bin string, env []string) *replica {
	t.Helper()
	out := startProcess(t, name, bin, env, "", "serve", "-addr", "127.0.0.1:0")
	base := waitForServing(t, out)
	logs := &pagetest.SyncBuffer{}
	go func() { _, _ = io.Copy(logs, out) }()
	return &replica{name: name, base: base, logs: logs, http: &http.Client{
		Timeout: 30 * time.Second,
		// No cookie jar, and redirects are followed by hand, on the other replica.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// startProcess starts bin and stops it when the test ends; it returns the
// process's standard output. Its standard error goes to the test log on failure.
func startProcess(t *testing.T, name, bin string, env []string, stdin string, args ...string) io.Reader {
	t.Helper()
	cmd := exec.Command(bin, args...)
	if env != nil {
		cmd.Env = env
	}
	cmd.Stdin = strings.NewReader(stdin)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr pagetest.SyncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() && stderr.Len() > 0 {
			t.Logf("%s stderr:\n%s", name, stderr.String())
		}
	})
	return stdout
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitForTCP(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing listens on %s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (r *replica) abs(u string) string {
	if strings.HasPrefix(u, "http") {
		// A link or redirect from the other replica: same path, this replica.
		parsed, err := url.Parse(u)
		if err == nil {
			return r.base + parsed.RequestURI()
		}
	}
	return r.base + u
}

// get fetches u from this replica and follows redirects on it.
func (r *replica) get(t *testing.T, u string) *pagetest.Page {
	t.Helper()
	for range 10 {
		resp, err := r.http.Get(r.abs(u))
		if err != nil {
			t.Fatalf("%s GET %s: %v", r.name, u, err)
		}
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			resp.Body.Close()
			u = resp.Header.Get("Location")
			continue
		}
		p := pagetest.Read(t, r.name+" "+u, resp)
		if p.Status != http.StatusOK {
			t.Fatalf("%s: status %d\n%s", p.URL, p.Status, p.Text())
		}
		return p
	}
	t.Fatalf("%s: too many redirects", u)
	return nil
}

// post sends a form as the portal's own page would and returns where the
// answer redirects to, for the other replica to follow.
func (r *replica) post(t *testing.T, action string, form url.Values) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, r.abs(action), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", r.base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := r.http.Do(req)
	if err != nil {
		t.Fatalf("%s POST %s: %v", r.name, action, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode < 300 || resp.StatusCode > 399 || loc == "" {
		t.Fatalf("%s POST %s: status %d, no redirect:\n%.2000s", r.name, action, resp.StatusCode, body)
	}
	return loc
}
