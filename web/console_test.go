package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/internal/booking/bookingstore"
	"github.com/clinic-booking/portal/internal/clinics"
	"github.com/clinic-booking/portal/internal/coreplus/sandbox"
	"github.com/clinic-booking/portal/internal/funnel/funnelstore"
	"github.com/clinic-booking/portal/internal/staff"
	"github.com/clinic-booking/portal/internal/staff/staffstore"
	"github.com/clinic-booking/portal/internal/store"
	"github.com/clinic-booking/portal/web"
)

// consoleHarness is the portal with its staff console, serving two
// clinics ("demo" and "other") over one sandbox and one SQLite store, with
// a mailbox in place of the outbox and clocks the tests move.
type consoleHarness struct {
	*harness
	accounts *staff.Accounts
	mailbox  *mailbox
	// repo holds "demo" as `portal clinic add` stores it, for Settings
	// and Audit; "other" is configured as by environment.
	repo *clinics.Repo
	// linkSkew moves the sign-in links' clock, sessionSkew the sessions'.
	linkSkew, sessionSkew time.Duration
	mu                    sync.Mutex
}

// mailbox keeps the sign-in links the console sends, by address.
type mailbox struct {
	mu    sync.Mutex
	links map[string][]string
	// invitedTo is the clinic each address was last invited to.
	invitedTo map[string]string
}

func (m *mailbox) SendSignInLink(_ context.Context, email, link string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.links[email] = append(m.links[email], link)
	return nil
}

// SendInvite keeps an invitation's link with the address's sign-in links,
// and which clinic it was to.
func (m *mailbox) SendInvite(ctx context.Context, clinic, email, link string) error {
	m.mu.Lock()
	if m.invitedTo == nil {
		m.invitedTo = map[string]string{}
	}
	m.invitedTo[email] = clinic
	m.mu.Unlock()
	return m.SendSignInLink(ctx, email, link)
}

func (m *mailbox) last(email string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	l := m.links[email]
	if len(l) == 0 {
		return ""
	}
	return l[len(l)-1]
}

func (m *mailbox) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, l := range m.links {
		n += len(l)
	}
	return n
}

// newConsoleHarness serves the console; configure changes the web
// configuration (such as the console's Mailer) before it starts.
func newConsoleHarness(t *testing.T, configure ...func(*web.Config)) *consoleHarness {
	t.Helper()
	ch := &consoleHarness{harness: newHarness(t), mailbox: &mailbox{links: map[string][]string{}}}
	h := ch.harness
	clock := func() time.Time { return h.now }
	ch.accounts = staff.New(staffstore.New(h.db), func() time.Time {
		ch.mu.Lock()
		defer ch.mu.Unlock()
		return time.Now().Add(ch.linkSkew)
	})
	demo, _ := h.dir.Clinic(context.Background(), "demo")
	keys, err := clinics.ParseKeyring("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
	if err != nil {
		t.Fatal(err)
	}
	ch.repo = clinics.NewRepo(h.db, keys)
	if err := ch.repo.Add(context.Background(), storedRecord(demo.Clinic())); err != nil {
		t.Fatal(err)
	}
	other := testClinic(func(c *booking.Clinic) { c.Slug, c.Name = "other", "Otherside Podiatry (test)" })
	h.dir = booking.NewDirectory(demo, booking.NewService(other, h.api, bookingstore.New(h.db), clock))
	h.portal.Close()
	h.serve(web.ServiceDirectory(h.dir), h.newLogger(), h.db.Ping, func(c *web.Config) {
		c.Console = web.ConsoleConfig{
			Accounts: ch.accounts, Mailer: ch.mailbox, Bookings: bookingstore.New(h.db), Requests: bookingstore.New(h.db),
			Funnel:      funnelstore.New(h.db),
			ClinicSlugs: h.dir.Slugs,
			Settings:    ch.repo,
			Team:        staff.NewTeam(staffstore.New(h.db), ch.accounts),
			Now: func() time.Time {
				ch.mu.Lock()
				defer ch.mu.Unlock()
				return h.now.Add(ch.sessionSkew)
			},
		}
		for _, f := range configure {
			f(c)
		}
	})
	return ch
}

// addStaff adds an account as `portal staff add` does.
func (ch *consoleHarness) addStaff(email, clinic string, role staff.Role, operator bool) staff.Account {
	ch.t.Helper()
	acc, err := ch.accounts.Add(context.Background(), email, clinic, role, operator)
	if err != nil {
		ch.t.Fatal(err)
	}
	return acc
}

// send makes a request with the cookie (none when ""), as the portal's own
// page would send a form, and returns the answer and the console cookie it
// set ("" when none; "-" when it was removed).
func (ch *consoleHarness) send(method, path, cookie string, form url.Values) (*page, string) {
	ch.t.Helper()
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req, _ := http.NewRequest(method, ch.abs(path), body)
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", ch.portal.URL)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: "__Host-portal-console", Value: cookie})
	}
	p := ch.do(req)
	if method == http.MethodPost && path == "/console/sign-in" {
		// The link is issued after the answer: wait for it, as a person
		// waits for the email.
		ch.handler.(*web.Server).WaitForSignInLinks()
	}
	set := ""
	for _, c := range (&http.Response{Header: p.Header}).Cookies() {
		if c.Name == "__Host-portal-console" {
			set = c.Value
			if c.MaxAge < 0 || c.Value == "" {
				set = "-"
			}
		}
	}
	return p, set
}

// signIn asks for a link for email, opens it and presses Sign in; it
// returns the session cookie.
func (ch *consoleHarness) signIn(email string) string {
	ch.t.Helper()
	ch.send(http.MethodPost, "/console/sign-in", "", url.Values{"email": {email}})
	link := ch.mailbox.last(email)
	if link == "" {
		ch.t.Fatalf("no sign-in link was sent to %s", email)
	}
	return ch.useLink(link, "")
}

// useLink opens link and presses its button with cookie, returning the new
// session cookie.
func (ch *consoleHarness) useLink(link, cookie string) string {
	ch.t.Helper()
	u, _ := url.Parse(link)
	p, _ := ch.send(http.MethodGet, u.Path, cookie, nil)
	p.WantH1("Sign in to the staff console")
	action, form := p.Pressing("Sign in")
	p, set := ch.send(http.MethodPost, action, cookie, form)
	if p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/console" || set == "" || set == "-" {
		ch.t.Fatalf("pressing Sign in: status %d, location %q, cookie set %v", p.Status, p.Header.Get("Location"), set != "")
	}
	return set
}

func TestConsoleAuthorizationMatrix(t *testing.T) {
	ch := newConsoleHarness(t)
	demoStaff := ch.addStaff("staff@demo.example", "demo", staff.RoleStaff, false)
	ch.addStaff("admin@demo.example", "demo", staff.RoleAdmin, false)
	otherStaff := ch.addStaff("staff@other.example", "other", staff.RoleStaff, false)
	ch.addStaff("ops@host.example", "", "", true)
	who := map[string]string{
		"anonymous":           "",
		"staff of the clinic": ch.signIn("staff@demo.example"),
		"admin of the clinic": ch.signIn("admin@demo.example"),
		"staff of another":    ch.signIn("staff@other.example"),
		"operator":            ch.signIn("ops@host.example"),
		"forged cookie":       "MTc5NjY3ODMyMXxuNVZvenpxZFpw",
	}
	// A request of demo's, for marking contacted: whoever may mark it is
	// sent back to Requests (the first marks it, the rest hear it was).
	demoRequest := store.Request{ID: "a1b2c3d4e5f60718293a4b5c6d7e8f90", Clinic: "demo", Status: "new", Details: store.RequestDetails{FirstName: "Ada"}}
	if err := ch.db.CreateRequest(context.Background(), demoRequest); err != nil {
		t.Fatal(err)
	}
	const (
		toSignIn = "sign-in"
		ok       = "200"
		notFound = "404"
		home     = "home"
		marked   = "marked"
	)
	for _, route := range []struct {
		method, path string
		want         map[string]string // by who; anyone signed in not named gets signedIn
		signedIn     string
	}{
		{"GET", "/console", map[string]string{}, home},
		{"GET", "/console/", map[string]string{}, home},
		{"GET", "/console/clinics", map[string]string{}, ok},
		{"GET", "/console/demo/today", map[string]string{"staff of another": notFound}, ok},
		{"GET", "/console/other/today", map[string]string{"staff of the clinic": notFound, "admin of the clinic": notFound}, ok},
		{"GET", "/console/demo/requests", map[string]string{"staff of another": notFound}, ok},
		{"GET", "/console/other/requests", map[string]string{"staff of the clinic": notFound, "admin of the clinic": notFound}, ok},
		{"POST", "/console/demo/requests/" + demoRequest.ID + "/contacted", map[string]string{"staff of another": notFound}, marked},
		{"POST", "/console/other/requests/" + demoRequest.ID + "/contacted", map[string]string{}, notFound},
		{"POST", "/console/demo/requests/a1b2c3d/contacted", map[string]string{}, notFound}, // too little of an id
		{"GET", "/console/demo/requests/" + demoRequest.ID + "/contacted", map[string]string{}, notFound},
		// Settings: the clinic's admins and operators; its staff get the
		// same 404 as staff of another clinic. "other" is configured by
		// environment: its page says so, for the operator.
		{"GET", "/console/demo/settings", map[string]string{"staff of the clinic": notFound, "staff of another": notFound}, ok},
		{"GET", "/console/demo/settings/preview?brand-colour=%23aa3300", map[string]string{"staff of the clinic": notFound, "staff of another": notFound}, ok},
		{"POST", "/console/demo/settings", map[string]string{"staff of the clinic": notFound, "staff of another": notFound}, "Unprocessable Entity"},
		{"GET", "/console/other/settings", map[string]string{"staff of the clinic": notFound, "admin of the clinic": notFound, "staff of another": notFound}, ok},
		{"POST", "/console/other/settings", map[string]string{"staff of the clinic": notFound, "admin of the clinic": notFound, "staff of another": notFound}, ok},
		// Audit: everyone of the clinic.
		{"GET", "/console/demo/audit", map[string]string{"staff of another": notFound}, ok},
		{"GET", "/console/other/audit", map[string]string{"staff of the clinic": notFound, "admin of the clinic": notFound}, ok},
		{"GET", "/console/demo/embed", map[string]string{"staff of another": notFound}, ok},
		{"GET", "/console/other/embed", map[string]string{"staff of the clinic": notFound, "admin of the clinic": notFound}, ok},
		{"GET", "/console/demo/funnel", map[string]string{"staff of another": notFound}, ok},
		{"GET", "/console/demo/funnel?days=30", map[string]string{"staff of another": notFound}, ok},
		{"GET", "/console/other/funnel", map[string]string{"staff of the clinic": notFound, "admin of the clinic": notFound}, ok},
		// Staff: the clinic's admins and operators; the POSTs too. The
		// remove page of someone not of the clinic is not there; a POST
		// that would remove is sent for no one (it would change who the
		// others are), so it is the 404 of an id that is not a member.
		{"GET", "/console/demo/staff", map[string]string{"staff of the clinic": notFound, "staff of another": notFound}, ok},
		{"POST", "/console/demo/staff", map[string]string{"staff of the clinic": notFound, "staff of another": notFound}, "Unprocessable Entity"},
		{"GET", "/console/other/staff", map[string]string{"staff of the clinic": notFound, "admin of the clinic": notFound, "staff of another": notFound}, ok},
		{"POST", "/console/other/staff", map[string]string{"staff of the clinic": notFound, "admin of the clinic": notFound, "staff of another": notFound}, "Unprocessable Entity"},
		{"GET", "/console/demo/staff/" + demoStaff.ID + "/remove", map[string]string{"staff of the clinic": notFound, "staff of another": notFound}, ok},
		{"GET", "/console/demo/staff/" + otherStaff.ID + "/remove", map[string]string{}, notFound},
		{"GET", "/console/other/staff/" + demoStaff.ID + "/remove", map[string]string{}, notFound},
		{"POST", "/console/demo/staff/" + otherStaff.ID + "/remove", map[string]string{}, notFound},
		{"POST", "/console/other/staff/" + demoStaff.ID + "/remove", map[string]string{}, notFound},
		{"GET", "/console/demo", map[string]string{}, notFound},
		{"GET", "/console/demo/no-such-page", map[string]string{}, notFound},
		{"GET", "/console/no-such-clinic/today", map[string]string{}, notFound},
		{"GET", "/console/no-such-page", map[string]string{}, notFound},
	} {
		for person, cookie := range who {
			want := route.signedIn
			if w, ok := route.want[person]; ok {
				want = w
			}
			if person == "anonymous" || person == "forged cookie" {
				want = toSignIn
			}
			var form url.Values
			if route.method == "POST" {
				form = url.Values{}
			}
			p, _ := ch.send(route.method, route.path, cookie, form)
			got := ""
			switch loc := p.Header.Get("Location"); {
			case p.Status == http.StatusSeeOther && loc == "/console/sign-in":
				got = toSignIn
			case p.Status == http.StatusSeeOther && (loc == "/console/clinics" || strings.HasSuffix(loc, "/today")):
				got = home
			case p.Status == http.StatusSeeOther && strings.HasPrefix(loc, "/console/demo/requests?done="):
				got = marked
			default:
				got = http.StatusText(p.Status)
				if p.Status == 200 {
					got = ok
				} else if p.Status == 404 {
					got = notFound
				}
			}
			if got != want {
				t.Errorf("%s %s as %s: %s (status %d, Location %q), want %s", route.method, route.path, person, got, p.Status, p.Header.Get("Location"), want)
			}
			if p.Status == 404 && strings.Contains(p.Body, "Otherside") && person != "operator" && person != "staff of another" {
				t.Errorf("%s as %s: the 404 names the other clinic", route.path, person)
			}
			for h, v := range map[string]string{"X-Frame-Options": "DENY", "Cache-Control": "no-store"} {
				if p.Header.Get(h) != v {
					t.Errorf("%s %s as %s: %s is %q, want %q", route.method, route.path, person, h, p.Header.Get(h), v)
				}
			}
			if csp := p.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
				t.Errorf("%s %s as %s: CSP %q", route.method, route.path, person, csp)
			}
		}
	}

	// Where home leads, and what the clinics list shows each.
	for person, want := range map[string]string{
		"staff of the clinic": "/console/demo/today", "staff of another": "/console/other/today", "operator": "/console/clinics",
	} {
		if p, _ := ch.send("GET", "/console", who[person], nil); p.Header.Get("Location") != want {
			t.Errorf("/console as %s leads to %q, want %q", person, p.Header.Get("Location"), want)
		}
	}
	for person, want := range map[string][]string{
		"staff of the clinic": {"Harbourside Physio (test)"},
		"operator":            {"Harbourside Physio (test)", "Otherside Podiatry (test)"},
	} {
		p, _ := ch.send("GET", "/console/clinics", who[person], nil)
		var got []string
		p.Doc.Find("main ul.choices a").Each(func(_ int, s *goquery.Selection) {
			got = append(got, strings.TrimSpace(s.Clone().Children().Remove().End().Text()))
		})
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("clinics as %s: %q, want %q", person, got, want)
		}
	}

	// The navigation links to the list of clinics only for those with
	// more than one.
	for person, want := range map[string]int{"operator": 1, "staff of the clinic": 0} {
		p, _ := ch.send("GET", "/console/demo/today", who[person], nil)
		if n := p.Doc.Find(`nav a[href="/console/clinics"]`).Length(); n != want {
			t.Errorf("Today as %s has %d links to all clinics, want %d", person, n, want)
		}
		if p.Doc.Find(`nav a[aria-current="page"]`).Text() != "Today" || p.Doc.Find(`nav a[href="/console/demo/requests"]`).Length() != 1 {
			t.Errorf("Today as %s: the navigation does not mark Today current", person)
		}
		// Settings only for those who may change them; Audit for all.
		links := map[string]string{"operator": "All clinics|Today|Requests|Settings|Embed|Funnel|Audit|Staff", "staff of the clinic": "Today|Requests|Embed|Funnel|Audit"}[person]
		var got []string
		p.Doc.Find(`nav a`).Each(func(_ int, s *goquery.Selection) { got = append(got, s.Text()) })
		if strings.Join(got, "|") != links {
			t.Errorf("Today as %s: navigation links %q, want only the pages that exist for them: %s", person, got, links)
		}
	}

	// Sign out everywhere: anonymous is sent to sign in; the signed-in
	// are signed out (last, as it ends their sessions).
	if p, _ := ch.send("POST", "/console/sign-out-everywhere", "", url.Values{}); p.Header.Get("Location") != "/console/sign-in" {
		t.Errorf("sign out everywhere, anonymous: Location %q", p.Header.Get("Location"))
	}
	for person, cookie := range who {
		if cookie == "" || person == "forged cookie" {
			continue
		}
		p, _ := ch.send("POST", "/console/sign-out-everywhere", cookie, url.Values{})
		if p.Header.Get("Location") != "/console/sign-in?done=everywhere" || p.Header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("sign out everywhere as %s: Location %q", person, p.Header.Get("Location"))
		}
		if p, _ := ch.send("GET", "/console/clinics", cookie, nil); p.Header.Get("Location") != "/console/sign-in" {
			t.Errorf("after sign out everywhere, %s is still signed in", person)
		}
	}
}

func TestConsoleSignInNeverSaysWhetherAnAddressHasAnAccount(t *testing.T) {
	ch := newConsoleHarness(t)
	ch.addStaff("jo@demo.example", "demo", staff.RoleStaff, false)

	known, _ := ch.send("POST", "/console/sign-in", "", url.Values{"email": {"Jo@Demo.example"}})
	unknown, _ := ch.send("POST", "/console/sign-in", "", url.Values{"email": {"nobody@demo.example"}})
	if known.Status != 200 || unknown.Status != 200 || known.Text() != unknown.Text() {
		t.Errorf("known address: %d %q\nunknown address: %d %q", known.Status, known.Text(), unknown.Status, unknown.Text())
	}
	if !strings.Contains(known.Text(), "If that address has a staff console account, a sign-in link is on its way") {
		t.Errorf("the answer: %s", known.Text())
	}
	if ch.mailbox.last("jo@demo.example") == "" || ch.mailbox.count() != 1 {
		t.Errorf("mailbox: %v, want one link, to jo@demo.example", ch.mailbox.links)
	}

	// A mistyped address comes back with its problem next to it, as typed.
	bad, _ := ch.send("POST", "/console/sign-in", "", url.Values{"email": {"jo at demo"}})
	if bad.Status != http.StatusUnprocessableEntity {
		t.Errorf("bad address: status %d", bad.Status)
	}
	field := bad.Labelled("Email address")
	if v, _ := field.Attr("value"); v != "jo at demo" {
		t.Errorf("the field holds %q, want what was typed", v)
	}
	if msg := bad.Doc.Find("#email-error").Text(); !strings.Contains(msg, "Enter your email address in the format name@example.com") {
		t.Errorf("error next to the field: %q", msg)
	}
	if bad.Doc.Find(".error-summary a[href='#email']").Length() != 1 {
		t.Error("no error summary linking to the field")
	}

	// Per address: three links, then a wait, whether or not it has an
	// account; the answer says so without telling which.
	for _, addr := range []string{"jo@demo.example", "nobody@demo.example"} {
		var last *page
		for range 3 {
			last, _ = ch.send("POST", "/console/sign-in", "", url.Values{"email": {addr}})
		}
		if last.Status != http.StatusTooManyRequests || !strings.Contains(last.Text(), "Too many sign-in links") {
			t.Errorf("%s, 4th link: status %d %s", addr, last.Status, last.Text())
		}
	}
	logs := ch.logs.String()
	for _, secret := range []string{"jo@demo.example", "nobody@demo.example", "/console/sign-in/"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the logs hold %q", secret)
		}
	}
}

func TestConsoleSignInPerConnectionLimit(t *testing.T) {
	ch := newConsoleHarness(t)
	statuses := []int{}
	for i := range 11 {
		p, _ := ch.send("POST", "/console/sign-in", "", url.Values{"email": {"person" + string(rune('a'+i)) + "@demo.example"}})
		statuses = append(statuses, p.Status)
	}
	if statuses[9] != 200 || statuses[10] != http.StatusTooManyRequests {
		t.Errorf("statuses of 11 requests from one connection: %v, want the 11th refused", statuses)
	}
}

func TestConsoleSignInLinks(t *testing.T) {
	ch := newConsoleHarness(t)
	acc := ch.addStaff("jo@demo.example", "demo", staff.RoleStaff, false)
	ctx := context.Background()
	path := func(token string) string { return "/console/sign-in/" + token }

	// Opening a link (as a mail scanner does) uses nothing up.
	token, _ := ch.accounts.LinkForAccount(ctx, acc.ID)
	for range 2 {
		p, set := ch.send("GET", path(token), "", nil)
		p.WantH1("Sign in to the staff console")
		if set != "" {
			t.Error("opening the link set a cookie")
		}
	}
	cookie := ch.useLink("http://x"+path(token), "")
	if p, _ := ch.send("GET", "/console/demo/today", cookie, nil); p.Status != 200 {
		t.Fatalf("signed in, Today: status %d", p.Status)
	}

	// Used: refused, on GET and on POST.
	p, _ := ch.send("GET", path(token), "", nil)
	p.WantH1("This sign-in link can't be used")
	if p.Status != http.StatusNotFound {
		t.Errorf("used link: status %d", p.Status)
	}
	p, set := ch.send("POST", path(token), "", url.Values{})
	if p.Status != http.StatusNotFound || set != "" {
		t.Errorf("used link pressed again: status %d, cookie set %v", p.Status, set != "")
	}

	// Expired: 15 minutes after it was made.
	late, _ := ch.accounts.LinkForAccount(ctx, acc.ID)
	ch.mu.Lock()
	ch.linkSkew = staff.LinkTTL
	ch.mu.Unlock()
	if p, set := ch.send("POST", path(late), "", url.Values{}); p.Status != http.StatusNotFound || set != "" {
		t.Errorf("expired link: status %d, cookie set %v", p.Status, set != "")
	}
	ch.mu.Lock()
	ch.linkSkew = 0
	ch.mu.Unlock()

	// Forged: well formed but never issued, cut short, or altered.
	good, _ := ch.accounts.LinkForAccount(ctx, acc.ID)
	altered := []byte(good)
	altered[5] ^= 1
	for _, forged := range []string{"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", good[:20], string(altered), "..%2F..%2Fclinics"} {
		p, set := ch.send("POST", path(forged), "", url.Values{})
		if p.Status != http.StatusNotFound || set != "" {
			t.Errorf("forged link %q: status %d, cookie set %v", forged, p.Status, set != "")
		}
	}
	// A link mangled past its route is not logged either.
	ch.send("GET", path(good)+"/extra", "", nil)
	ch.send("GET", path(good)+"%2F", "", nil)
	if strings.Contains(ch.logs.String(), good) {
		t.Error("the logs hold a sign-in link's token")
	}

	// The good one still works after all that.
	ch.useLink("http://x"+path(good), "")

	// A link is not signed in with from another site.
	other, _ := ch.accounts.LinkForAccount(ctx, acc.ID)
	req, _ := http.NewRequest("POST", ch.abs(path(other)), strings.NewReader(""))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.Header.Set("Origin", "https://evil.example")
	if p := ch.do(req); p.Status != http.StatusForbidden {
		t.Errorf("cross-site sign-in: status %d", p.Status)
	}
	if ok, _ := ch.accounts.LinkUsable(ctx, other); !ok {
		t.Error("the refused cross-site post used the link up")
	}
}

func TestConsoleSessionIsNewAtSignIn(t *testing.T) {
	ch := newConsoleHarness(t)
	ch.addStaff("attacker@demo.example", "demo", staff.RoleStaff, false)
	victim := ch.addStaff("victim@other.example", "other", staff.RoleAdmin, false)

	// The attacker's own session cookie, planted in the victim's browser,
	// and a made-up one: after the victim signs in, neither is the
	// victim's session.
	planted := ch.signIn("attacker@demo.example")
	for _, before := range []string{planted, "made-up-session-value"} {
		token, _ := ch.accounts.LinkForAccount(context.Background(), victim.ID)
		after := ch.useLink("http://x/console/sign-in/"+token, before)
		if after == before {
			t.Fatal("sign-in kept the cookie the browser had")
		}
		if p, _ := ch.send("GET", "/console/other/today", after, nil); p.Status != 200 || !strings.Contains(p.Text(), "victim@other.example") {
			t.Errorf("the new cookie: status %d", p.Status)
		}
		p, _ := ch.send("GET", "/console/other/today", before, nil)
		if p.Status == 200 {
			t.Errorf("the cookie from before sign-in (%.10s…) opens the victim's clinic", before)
		}
	}
	if p, _ := ch.send("GET", "/console/demo/today", planted, nil); !strings.Contains(p.Text(), "attacker@demo.example") {
		t.Error("the attacker's own session changed identity")
	}
}

func TestConsoleSignOutAndSignOutEverywhere(t *testing.T) {
	ch := newConsoleHarness(t)
	ch.addStaff("jo@demo.example", "demo", staff.RoleAdmin, false)
	laptop, desk, tablet := ch.signIn("jo@demo.example"), ch.signIn("jo@demo.example"), ch.signIn("jo@demo.example")

	p, set := ch.send("POST", "/console/sign-out", desk, url.Values{})
	if p.Header.Get("Location") != "/console/sign-in?done=signed-out" || set != "-" {
		t.Errorf("sign out: Location %q, cookie removed %v", p.Header.Get("Location"), set == "-")
	}
	if p, _ := ch.send("GET", "/console/sign-in?done=signed-out", "", nil); !strings.Contains(p.Text(), "You have signed out.") {
		t.Errorf("after sign out: %s", p.Text())
	}
	if p, _ := ch.send("GET", "/console/demo/today", laptop, nil); p.Status != 200 {
		t.Errorf("signing out on one device ended another: %d", p.Status)
	}

	p, set = ch.send("POST", "/console/sign-out-everywhere", laptop, url.Values{})
	if p.Header.Get("Location") != "/console/sign-in?done=everywhere" || set != "-" {
		t.Errorf("sign out everywhere: Location %q, cookie removed %v", p.Header.Get("Location"), set == "-")
	}
	for name, cookie := range map[string]string{"this device": laptop, "another device": tablet} {
		if p, _ := ch.send("GET", "/console/demo/today", cookie, nil); p.Header.Get("Location") != "/console/sign-in" {
			t.Errorf("after sign out everywhere, %s: status %d", name, p.Status)
		}
	}
	// Signing in again works, in the new epoch (by a link straight from
	// the accounts: the address has had its three links from the page).
	token, _ := ch.accounts.LinkFor(context.Background(), "jo@demo.example")
	if p, _ := ch.send("GET", "/console/demo/today", ch.useLink("http://x/console/sign-in/"+token, ""), nil); p.Status != 200 {
		t.Errorf("signing in again: %d", p.Status)
	}
}

func TestConsoleSessionTimeouts(t *testing.T) {
	ch := newConsoleHarness(t)
	ch.addStaff("jo@demo.example", "demo", staff.RoleStaff, false)
	move := func(d time.Duration) {
		ch.mu.Lock()
		ch.sessionSkew += d
		ch.mu.Unlock()
	}
	today := func(cookie string) (int, string) {
		p, set := ch.send("GET", "/console/demo/today", cookie, nil)
		if set != "" && set != "-" {
			cookie = set
		}
		return p.Status, cookie
	}

	// Idle: 12 hours without a page.
	idle := ch.signIn("jo@demo.example")
	move(12*time.Hour - time.Minute)
	if st, _ := today(idle); st != 200 {
		t.Errorf("idle just under 12 h: %d", st)
	}
	move(12 * time.Hour)
	if st, _ := today(idle); st != http.StatusSeeOther {
		t.Errorf("idle 12 h: %d, want a redirect to sign in", st)
	}

	// Absolute: used every 6 hours, it still ends 7 days after sign-in.
	busy := ch.signIn("jo@demo.example")
	var st int
	for range 27 { // 6.75 days
		move(6 * time.Hour)
		if st, busy = today(busy); st != 200 {
			t.Fatalf("a session in use ended early: %d", st)
		}
	}
	move(6 * time.Hour)
	if st, _ = today(busy); st != http.StatusSeeOther {
		t.Errorf("7 days after sign-in: %d, want a redirect to sign in", st)
	}

	// A removed account's sessions end at once.
	gone := ch.signIn("jo@demo.example")
	if _, err := ch.accounts.Remove(context.Background(), "jo@demo.example", ""); err != nil {
		t.Fatal(err)
	}
	if st, _ = today(gone); st != http.StatusSeeOther {
		t.Errorf("removed account: %d", st)
	}
}

func TestConsoleTodayShowsABookingMadeByAPatient(t *testing.T) {
	ch := newConsoleHarness(t)
	ch.addStaff("jo@demo.example", "demo", staff.RoleStaff, false)
	ch.confirm(ch.toReview(newPatient, "Priya Nandakumar")).WantH1("Booking confirmed")
	apps := ch.portalAppointments()
	if len(apps) != 1 || apps[0].ReferenceNumber == "" {
		t.Fatalf("appointments in coreplus: %+v", apps)
	}
	cookie := ch.signIn("jo@demo.example")
	p, _ := ch.send("GET", "/console/demo/today", cookie, nil)
	p.WantH1("Today")
	row := p.Doc.Find("table.console-table tbody tr")
	if row.Length() != 1 {
		t.Fatalf("%d bookings listed, want 1:\n%s", row.Length(), p.Text())
	}
	text := strings.Join(strings.Fields(row.Text()), " ")
	start := apps[0].Start.In(sydney).Format("3:04 pm")
	for _, want := range []string{start, apps[0].ReferenceNumber, "Standard Consultation", "Priya Nandakumar", "Harbourside Physio Surry Hills", "Booked"} {
		if !strings.Contains(text, want) {
			t.Errorf("the booking's row %q lacks %q", text, want)
		}
	}
	caption := p.Doc.Find("table.console-table caption").Text()
	if want := apps[0].Start.In(sydney).Format("Monday 2 January"); caption != want {
		t.Errorf("the day's heading is %q, want %q", caption, want)
	}
	if !strings.Contains(p.Text(), "Nothing: every booking sent to coreplus has a known outcome.") {
		t.Error("Today lists something unsettled")
	}
	if strings.Contains(text, "moved") {
		t.Errorf("a booking never moved is shown moved: %q", text)
	}
	// The patient's details are not on the page.
	for _, secret := range []string{newPatient.First, newPatient.Last, newPatient.Email} {
		if strings.Contains(p.Body, secret) {
			t.Errorf("Today shows %q", secret)
		}
	}
	// Staff of the other clinic see none of it.
	ch.addStaff("sam@other.example", "other", staff.RoleStaff, false)
	if p, _ := ch.send("GET", "/console/other/today", ch.signIn("sam@other.example"), nil); p.Doc.Find("table.console-table tbody tr").Length() != 0 {
		t.Error("the other clinic's Today lists the booking")
	}
}

// fakeHealth is what a server has seen of coreplus, for Today.
type fakeHealth map[string]web.UpstreamHealth

func (f fakeHealth) UpstreamHealth(clinic string) (web.UpstreamHealth, bool) {
	h, ok := f[clinic]
	return h, ok
}

func TestConsoleTodayShowsWhatIsUnsettledAndHowCoreplusAnswers(t *testing.T) {
	ch := newConsoleHarness(t)
	now := ch.now
	h := ch.harness
	h.portal.Close()
	h.serve(web.ServiceDirectory(h.dir), h.newLogger(), h.db.Ping, func(c *web.Config) {
		c.Console = web.ConsoleConfig{
			Accounts: ch.accounts, Mailer: ch.mailbox, Bookings: bookingstore.New(h.db), Requests: bookingstore.New(h.db), ClinicSlugs: h.dir.Slugs,
			Now: func() time.Time { return now },
			Health: fakeHealth{"demo": {
				Since: now.Add(-2 * time.Hour), LastGood: now.Add(-10 * time.Minute), LastFailure: now.Add(-3 * time.Minute),
				LastFailureKind: "not answering", Window: time.Hour, Calls: 40, Failures: 6, Refused: 2, RateLimited: 1,
				Waits: 3, LongestWait: 1200 * time.Millisecond,
			}},
		}
	})
	ch.addStaff("jo@demo.example", "demo", staff.RoleStaff, false)
	start := time.Date(2026, 12, 1, 10, 30, 0, 0, sydney)
	if err := h.db.ClaimBooking(context.Background(), store.Booking{
		DraftID: "d0000000000000000000000000000001", Clinic: "demo", PractitionerID: sandbox.PractitionerPriyaID,
		LocationID: sandbox.LocationSydneyID, AppointmentTypeID: sandbox.AppointmentTypeStandardID,
		Start: start, End: start.Add(30 * time.Minute),
	}, string(booking.RecordUnknown)); err != nil {
		t.Fatal(err)
	}

	p, _ := ch.send("GET", "/console/demo/today", ch.signIn("jo@demo.example"), nil)
	p.WantH1("Today")
	unsettled := strings.Join(strings.Fields(p.Doc.Find("section[aria-labelledby=unsettled]").Text()), " ")
	for _, want := range []string{"Tue 1 Dec, 10:30 am", "Standard Consultation with Priya Nandakumar at Harbourside Physio Surry Hills", "Confirming: coreplus didn't answer", "if coreplus has no record of it, the portal sends it once more"} {
		if !strings.Contains(unsettled, want) {
			t.Errorf("the unsettled section %q lacks %q", unsettled, want)
		}
	}
	health := strings.Join(strings.Fields(p.Doc.Find("section[aria-labelledby=health]").Text()), " ")
	for _, want := range []string{"coreplus's last answer to this server was a failure (not answering)", "Last good answer 10 minutes ago",
		"Last failure 3 minutes ago (not answering)", "Calls in the last hour 40, of which 6 failed", "(429) 1 in the last hour",
		"Not sent while coreplus was failing 2 in the last hour", "3 calls, the longest 1.2s", "each sees its own calls"} {
		// dt and dd run together in the text: compare without spaces.
		if nospace := func(s string) string { return strings.Join(strings.Fields(s), "") }; !strings.Contains(nospace(health), nospace(want)) {
			t.Errorf("the coreplus section %q lacks %q", health, want)
		}
	}
	// The other clinic's page knows nothing of it.
	ch.addStaff("sam@other.example", "other", staff.RoleStaff, false)
	p, _ = ch.send("GET", "/console/other/today", ch.signIn("sam@other.example"), nil)
	if text := p.Text(); !strings.Contains(text, "Nothing: every booking sent to coreplus has a known outcome.") || !strings.Contains(text, "has not called coreplus for this clinic") {
		t.Errorf("the other clinic's Today: %s", text)
	}
}

// TestConsoleAccountWithNoClinicLeftHasNoConsole: taken out of its last
// clinic by the command line (which keeps the account), an account's open
// session is sent to sign-in, and asking for a link sends none, as for an
// address with no account.
func TestConsoleAccountWithNoClinicLeftHasNoConsole(t *testing.T) {
	ch := newConsoleHarness(t)
	ch.addStaff("jo@demo.example", "demo", staff.RoleStaff, false)
	cookie := ch.signIn("jo@demo.example")
	if p, _ := ch.send(http.MethodGet, "/console", cookie, nil); p.Status != http.StatusOK && p.Status != http.StatusSeeOther {
		t.Fatalf("the console before: %d", p.Status)
	}
	if ok, err := ch.accounts.Remove(context.Background(), "jo@demo.example", "demo"); err != nil || !ok {
		t.Fatalf("remove from demo: %v, %v", ok, err)
	}
	for _, path := range []string{"/console", "/console/clinics"} {
		if p, _ := ch.send(http.MethodGet, path, cookie, nil); p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/console/sign-in" {
			t.Errorf("%s with no clinic left: %d to %q, want sign-in", path, p.Status, p.Header.Get("Location"))
		}
	}
	before := ch.mailbox.count()
	ch.send(http.MethodPost, "/console/sign-in", "", url.Values{"email": {"jo@demo.example"}})
	if n := ch.mailbox.count(); n != before {
		t.Errorf("%d links sent to an account with no clinic left", n-before)
	}
}
