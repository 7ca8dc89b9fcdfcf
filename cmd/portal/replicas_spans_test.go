package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/clinic-booking/portal/internal/coreplus/sandbox"
	"github.com/clinic-booking/portal/internal/pagetest"
	"github.com/clinic-booking/portal/internal/store/storetest"
)

// spanCounter is the coreplus sandbox, counting the free-time queries
// that fetch a location's span (no practitioner, no appointment type).
type spanCounter struct {
	sb *sandbox.Server
	mu sync.Mutex
	n  int
}

func (c *spanCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if strings.HasSuffix(r.URL.Path, "/AvailabilitySlot/") && !q.Has("practitionerId") && !q.Has("appointmentTypeId") {
		c.mu.Lock()
		c.n++
		c.mu.Unlock()
	}
	c.sb.ServeHTTP(w, r)
}

func (c *spanCounter) count() int { c.mu.Lock(); defer c.mu.Unlock(); return c.n }

// TestTwoReplicasOnePostgresFetchSpansOnce: two portal processes on one
// PostgreSQL database, each showing the same time pages at the same
// moment (every location and service, "first available", three weeks
// each), ask coreplus for free time half as often as two portals on
// databases of their own: one of them fetches each span (the lease), the
// other reads it from the database.
//
// It needs TEST_DATABASE_URL (a PostgreSQL server); .ci/run sets it.
func TestTwoReplicasOnePostgresFetchSpansOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts processes; skipped with -short")
	}
	if os.Getenv("TEST_DATABASE_URL") == "" {
		t.Skip("TEST_DATABASE_URL is not set: sharing fetched free time between replicas needs PostgreSQL (make postgres-test)")
	}
	bin := filepath.Join(t.TempDir(), "portal")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/clinic-booking/portal/cmd/portal").CombinedOutput(); err != nil {
		t.Fatalf("go build portal: %v\n%s", err, out)
	}

	// browse starts two portals, on one database or on one each, over a
	// sandbox of their own, browses, and returns the span queries and pages.
	browse := func(t *testing.T, oneDatabase bool) (spans, pages int) {
		counter := &spanCounter{sb: sandbox.New(sandbox.Config{RateLimit: -1})}
		srv := httptest.NewServer(counter)
		t.Cleanup(srv.Close)
		portal := func(name, databaseURL string, addClinic bool) *replica {
			env := []string{
				"DATABASE_URL=" + databaseURL,
				"PORTAL_SECRET_KEY=" + strings.Repeat("5e", 32),
				"PORTAL_TOKEN_KEYS=" + testKeyA,
				"COREPLUS_BASE_URL=" + srv.URL + "/API/Core/v2.1/",
				"COREPLUS_CONSUMER_ID=" + sandbox.DemoConsumerID,
				"COREPLUS_CONSUMER_SECRET=" + sandbox.DemoConsumerSecret,
				"PATH=" + os.Getenv("PATH"),
				"HOME=" + os.Getenv("HOME"),
			}
			if addClinic {
				add := exec.Command(bin, "clinic", "add", "--slug", "harbourside", "--name", "Harbourside Physio",
					"--access-token-file", "-", "--phone", "07 3000 0000")
				add.Env = env
				add.Stdin = strings.NewReader(sandbox.DemoAccessToken + "\n")
				if out, err := add.CombinedOutput(); err != nil {
					t.Fatalf("portal clinic add: %v\n%s", err, out)
				}
			}
			return startPortal(t, name, bin, env)
		}
		db := storetest.FreshPostgresSchema(t)
		a := portal("A", db, true)
		if !oneDatabase {
			db = storetest.FreshPostgresSchema(t)
		}
		b := portal("B", db, !oneDatabase)

		// Each page is shown by both at once, as to two patients a load
		// balancer sent apart.
		show := func(u string) *pagetest.Page {
			pages += 2
			status := make(chan string, 1)
			go func() {
				resp, err := b.http.Get(b.abs(u))
				if err != nil {
					status <- err.Error()
					return
				}
				resp.Body.Close()
				status <- resp.Status
			}()
			p := a.get(t, u)
			if s := <-status; s != "200 OK" {
				t.Fatalf("B %s: %s", u, s)
			}
			return p
		}
		var laters int
		home := show("/harbourside")
		for _, loc := range counter.sb.Locations() {
			services := show(home.Link(loc.Name))
			for _, st := range counter.sb.AppointmentTypes() {
				u, ok := linkTo(services, st.Description)
				if !ok {
					continue // not offered online
				}
				times := show(show(u).Link("First available practitioner"))
				for range 2 {
					if later, ok := linkTo(times, "Later week"); ok {
						times, laters = show(later), laters+1
					}
				}
			}
		}
		if laters == 0 {
			t.Fatal("no time page led to a later week")
		}
		return counter.count(), pages
	}

	var shared, apart, pages int
	t.Run("one database", func(t *testing.T) { shared, pages = browse(t, true) })
	t.Run("a database each", func(t *testing.T) { apart, _ = browse(t, false) })
	t.Logf("%d pages on two replicas: %d span queries on one database, %d on a database each", pages, shared, apart)
	if apart == 0 || 2*shared > apart+apart/5 {
		t.Errorf("two replicas on one database made %d span queries; two on a database each %d: want about half", shared, apart)
	}
}

// linkTo is the link whose text contains text, if the page has one.
func linkTo(p *pagetest.Page, text string) (string, bool) {
	var href string
	p.Doc.Find("a[href]").EachWithBreak(func(_ int, s *goquery.Selection) bool {
		if strings.Contains(strings.Join(strings.Fields(s.Text()), " "), text) {
			href = s.AttrOr("href", "")
			return false
		}
		return true
	})
	return href, href != ""
}
