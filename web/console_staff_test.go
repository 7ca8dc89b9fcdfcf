package web_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/internal/booking/bookingstore"
	"github.com/clinic-booking/portal/internal/clinics"
	"github.com/clinic-booking/portal/internal/coreplus/sandbox"
	"github.com/clinic-booking/portal/internal/staff"
	"github.com/clinic-booking/portal/web"
)

// staffRows reads the Staff page's table: "email | role | added | button".
func staffRows(p *page) []string {
	var out []string
	p.Doc.Find("main table tbody tr").Each(func(_ int, r *goquery.Selection) {
		var cells []string
		r.Find("td").Each(func(_ int, c *goquery.Selection) { cells = append(cells, strings.Join(strings.Fields(c.Text()), " ")) })
		out = append(out, strings.Join(cells, " | "))
	})
	return out
}

// TestConsoleStaffInviteAndRemove: an admin invites by email (a bad
// address or role comes back beside its field with the input kept; an
// address that already has access says so) and the invited person signs
// in through the emailed link; removing asks first, ends the removed
// person's session at their next request, and refuses the admin's own
// access and the clinic's last admin. Each change is on the Audit page;
// no address is in a URL or the logs; a cross-site post changes nothing.
func TestConsoleStaffInviteAndRemove(t *testing.T) {
	ch := newConsoleHarness(t)
	admin := ch.addStaff("admin@demo.example", "demo", staff.RoleAdmin, false)
	otherStaff := ch.addStaff("staff@other.example", "other", staff.RoleStaff, false)
	ch.addStaff("ops@host.example", "", "", true)
	cookie := ch.signIn("admin@demo.example")

	p, _ := ch.send(http.MethodGet, "/console/demo/staff", cookie, nil)
	p.WantH1("Staff")
	if got := p.Doc.Find(`nav a[aria-current="page"]`).Text(); got != "Staff" {
		t.Errorf("the navigation marks %q current", got)
	}
	if got := staffRows(p); len(got) != 1 || !strings.HasPrefix(got[0], "admin@demo.example (you) | Admin | ") || !strings.HasSuffix(got[0], " | ") {
		t.Errorf("the list before inviting: %q (the admin is offered no Remove)", got)
	}

	// A bad address and no role: each beside its field, input kept.
	action, form := p.Pressing("Invite")
	form.Set("email", "reception at demo")
	form.Del("role")
	p, _ = ch.send(http.MethodPost, action, cookie, form)
	if p.Status != http.StatusUnprocessableEntity {
		t.Fatalf("a bad address: %d", p.Status)
	}
	if got := p.Doc.Find("#invite-email-error").Text(); !strings.Contains(got, "Enter their email address in the format name@example.com") {
		t.Errorf("the address's message: %q", got)
	}
	if got := p.Doc.Find("#invite-role-staff-error").Text(); !strings.Contains(got, "Choose whether they are an admin or staff") {
		t.Errorf("the role's message: %q", got)
	}
	if p.Doc.Find("#invite-email").AttrOr("value", "") != "reception at demo" || p.Doc.Find("#invite-email").AttrOr("aria-invalid", "") != "true" {
		t.Error("the address typed was lost or not marked invalid")
	}
	if p.Doc.Find(".error-summary a[href='#invite-email']").Length() != 1 || !strings.HasPrefix(p.Doc.Find("title").Text(), "Error: ") {
		t.Error("no error summary linking to the address, or no Error: in the title")
	}
	if n := ch.mailbox.count(); n != 1 { // the admin's own sign-in link
		t.Errorf("%d links sent after a bad invite", n)
	}

	// A good one, as staff: a link is emailed and signs them in.
	form.Set("email", " Reception@Demo.example ")
	form.Set("role", "staff")
	p, _ = ch.send(http.MethodPost, action, cookie, form)
	if p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/console/demo/staff?done=invited" {
		t.Fatalf("inviting: %d to %q\n%s", p.Status, p.Header.Get("Location"), p.Text())
	}
	p, _ = ch.send(http.MethodGet, p.Header.Get("Location"), cookie, nil)
	if got := p.Doc.Find("main .notice").Text(); !strings.Contains(got, "Invited. A sign-in link was emailed to them") {
		t.Errorf("after inviting: %q", got)
	}
	rows := staffRows(p)
	if len(rows) != 2 || !strings.HasPrefix(rows[1], "reception@demo.example | Staff | ") || !strings.HasSuffix(rows[1], " | Remove") {
		t.Errorf("the list after inviting: %q", rows)
	}
	link := ch.mailbox.last("reception@demo.example")
	if !strings.HasPrefix(link, ch.portal.URL+"/console/sign-in/") || ch.mailbox.invitedTo["reception@demo.example"] != "demo" {
		t.Fatalf("the invite's link: %q, to clinic %q", link, ch.mailbox.invitedTo["reception@demo.example"])
	}
	reception := ch.useLink(link, "")
	if p, _ := ch.send(http.MethodGet, "/console/demo/today", reception, nil); p.Status != http.StatusOK {
		t.Fatalf("the invited person's Today: %d", p.Status)
	}
	// As staff, not admin: no Staff page, no invite.
	for _, r := range []struct{ method, path string }{
		{http.MethodGet, "/console/demo/staff"}, {http.MethodPost, "/console/demo/staff"},
		{http.MethodGet, "/console/demo/staff/" + admin.ID + "/remove"}, {http.MethodPost, "/console/demo/staff/" + admin.ID + "/remove"},
	} {
		var f url.Values
		if r.method == http.MethodPost {
			f = url.Values{"email": {"mallory@demo.example"}, "role": {"admin"}}
		}
		if p, _ := ch.send(r.method, r.path, reception, f); p.Status != http.StatusNotFound {
			t.Errorf("%s %s as staff: %d", r.method, r.path, p.Status)
		}
	}
	if p, _ := ch.send(http.MethodGet, "/console/demo/today", reception, nil); p.Doc.Find(`nav a[href="/console/demo/staff"]`).Length() != 0 {
		t.Error("staff are offered the Staff page")
	}

	// Already there: a member (whatever role asked), or an operator.
	for _, email := range []string{"reception@demo.example", "ops@host.example"} {
		f := url.Values{"email": {email}, "role": {"admin"}}
		p, _ := ch.send(http.MethodPost, action, cookie, f)
		if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Doc.Find("#invite-email-error").Text(), "That address already has access to this clinic's console") {
			t.Errorf("inviting %s again: %d %q", email, p.Status, p.Doc.Find("#invite-email-error").Text())
		}
		if p.Doc.Find("#invite-email").AttrOr("value", "") != email || p.Doc.Find("#invite-role-admin").AttrOr("checked", "no") == "no" {
			t.Errorf("inviting %s again: the input was not kept", email)
		}
	}
	if p, _ := ch.send(http.MethodPost, action, cookie, url.Values{"email": {"x@demo.example"}, "role": {"owner"}}); p.Status != http.StatusUnprocessableEntity || p.Doc.Find("#invite-role-staff-error").Length() != 1 {
		t.Errorf("role owner: %d", p.Status)
	}
	// Someone of another clinic, as admin: they keep their other clinic.
	if p, _ := ch.send(http.MethodPost, action, cookie, url.Values{"email": {"staff@other.example"}, "role": {"admin"}}); p.Header.Get("Location") != "/console/demo/staff?done=invited" {
		t.Fatalf("inviting another clinic's staff: %d %q", p.Status, p.Header.Get("Location"))
	}
	if acc, _ := ch.accounts.Account(context.Background(), otherStaff.ID); acc.RoleIn("demo") != staff.RoleAdmin || acc.RoleIn("other") != staff.RoleStaff {
		t.Errorf("the other clinic's staff after the invite: %v", acc.Clinics)
	}

	// A cross-site post is refused and changes nothing.
	req, _ := http.NewRequest(http.MethodPost, ch.abs(action), strings.NewReader(url.Values{"email": {"mallory@evil.example"}, "role": {"admin"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.AddCookie(&http.Cookie{Name: "__Host-portal-console", Value: cookie})
	if p := ch.do(req); p.Status != http.StatusForbidden {
		t.Errorf("a cross-site invite: %d", p.Status)
	}
	if _, err := ch.accounts.LinkFor(context.Background(), "mallory@evil.example"); err == nil {
		t.Error("a cross-site post made an account")
	}

	// Removing asks first.
	p, _ = ch.send(http.MethodGet, "/console/demo/staff", cookie, nil)
	href := ""
	p.Doc.Find("main table a").Each(func(_ int, a *goquery.Selection) {
		if a.AttrOr("aria-label", "") == "Remove reception@demo.example" {
			href = a.AttrOr("href", "")
		}
	})
	if href == "" || strings.Contains(href, "reception") {
		t.Fatalf("Remove for reception leads to %q", href)
	}
	p, _ = ch.send(http.MethodGet, href, cookie, nil)
	p.WantH1("Remove reception@demo.example?")
	if p.Link("Cancel, keep them") != "/console/demo/staff" {
		t.Errorf("the confirm page's Cancel: %q", p.Link("Cancel, keep them"))
	}
	removeAction, removeForm := p.Pressing("Remove reception@demo.example")
	// Across sites: refused, nothing removed.
	req, _ = http.NewRequest(http.MethodPost, ch.abs(removeAction), strings.NewReader(""))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.AddCookie(&http.Cookie{Name: "__Host-portal-console", Value: cookie})
	if p := ch.do(req); p.Status != http.StatusForbidden {
		t.Errorf("a cross-site remove: %d", p.Status)
	}
	if p, _ := ch.send(http.MethodGet, "/console/demo/today", reception, nil); p.Status != http.StatusOK {
		t.Fatalf("reception after a cross-site remove: %d", p.Status)
	}
	p, _ = ch.send(http.MethodPost, removeAction, cookie, removeForm)
	if p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/console/demo/staff?done=removed" {
		t.Fatalf("removing: %d to %q", p.Status, p.Header.Get("Location"))
	}
	// Their session ends at their next request.
	if p, _ := ch.send(http.MethodGet, "/console/demo/today", reception, nil); p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/console/sign-in" {
		t.Errorf("the removed person's next request: %d to %q", p.Status, p.Header.Get("Location"))
	}
	p, _ = ch.send(http.MethodGet, "/console/demo/staff?done=removed", cookie, nil)
	if got := staffRows(p); len(got) != 2 || strings.Contains(strings.Join(got, " "), "reception") {
		t.Errorf("the list after removing: %q", got)
	}
	if p, _ := ch.send(http.MethodPost, removeAction, cookie, removeForm); p.Status != http.StatusNotFound {
		t.Errorf("removing again: %d", p.Status)
	}

	// Not oneself: no button, and the POST is refused.
	p, _ = ch.send(http.MethodGet, "/console/demo/staff/"+admin.ID+"/remove", cookie, nil)
	if !strings.Contains(p.Text(), "You can't remove your own access") || p.Doc.Find("main form").Length() != 0 {
		t.Errorf("the admin's own remove page: %q", p.Text())
	}
	p, _ = ch.send(http.MethodPost, "/console/demo/staff/"+admin.ID+"/remove", cookie, url.Values{})
	if p.Header.Get("Location") != "/console/demo/staff?problem=self" {
		t.Errorf("removing oneself: %d to %q", p.Status, p.Header.Get("Location"))
	}
	// The operator removes the other admin; then the last admin is refused.
	ops := ch.signIn("ops@host.example")
	if p, _ := ch.send(http.MethodPost, "/console/demo/staff/"+otherStaff.ID+"/remove", ops, url.Values{}); p.Header.Get("Location") != "/console/demo/staff?done=removed" {
		t.Fatalf("the operator removing an admin: %d %q", p.Status, p.Header.Get("Location"))
	}
	p, _ = ch.send(http.MethodGet, "/console/demo/staff/"+admin.ID+"/remove", ops, nil)
	if !strings.Contains(p.Text(), "the clinic's only admin") || p.Doc.Find("main form").Length() != 0 {
		t.Errorf("the last admin's remove page offers removing: %q", p.Text())
	}
	p, _ = ch.send(http.MethodPost, "/console/demo/staff/"+admin.ID+"/remove", ops, url.Values{})
	if p.Header.Get("Location") != "/console/demo/staff?problem=last-admin" {
		t.Fatalf("removing the last admin: %d to %q", p.Status, p.Header.Get("Location"))
	}
	p, _ = ch.send(http.MethodGet, p.Header.Get("Location"), ops, nil)
	if got := p.Doc.Find("main [role=alert]").Text(); !strings.Contains(got, "the clinic's only admin") {
		t.Errorf("the last admin's refusal: %q", got)
	}
	if p, _ := ch.send(http.MethodGet, "/console/demo/staff", cookie, nil); p.Status != http.StatusOK {
		t.Errorf("the last admin after the refusal: %d", p.Status)
	}
	// Another clinic's staff page: the remove of someone of demo is 404.
	if p, _ := ch.send(http.MethodPost, "/console/other/staff/"+admin.ID+"/remove", ops, url.Values{}); p.Status != http.StatusNotFound {
		t.Errorf("removing demo's admin from other: %d", p.Status)
	}

	// The Audit page lists each change, newest first.
	p, _ = ch.send(http.MethodGet, "/console/demo/audit", cookie, nil)
	audit := p.Doc.Find("main table").Text()
	for _, want := range []string{"Staff access", "reception@demo.example (staff)", "staff@other.example (admin)", "ops@host.example"} {
		if !strings.Contains(audit, want) {
			t.Errorf("the audit lacks %q:\n%s", want, audit)
		}
	}
	if n := p.Doc.Find("main table tbody tr").Length(); n != 4 {
		t.Errorf("the audit has %d rows, want 4 (two invites, two removals)", n)
	}
	// The clinic's other staff see the Audit page without them: whom the
	// admins invited and removed is theirs to know.
	ch.addStaff("front@demo.example", "demo", staff.RoleStaff, false)
	p, _ = ch.send(http.MethodGet, "/console/demo/audit", ch.signIn("front@demo.example"), nil)
	if p.Status != http.StatusOK || strings.Contains(p.Body, "Staff access") || strings.Contains(p.Body, "reception@demo.example") {
		t.Errorf("the audit as the clinic's staff: %d, shows the staff changes:\n%s", p.Status, p.Doc.Find("main").Text())
	}

	// No address in a URL seen or in the logs.
	for _, email := range []string{"reception@demo.example", "staff@other.example", "mallory", "admin@demo.example"} {
		for _, u := range ch.seen {
			if strings.Contains(strings.ToLower(u), email) {
				t.Errorf("%s in URL %s", email, u)
			}
		}
		if strings.Contains(strings.ToLower(ch.logs.String()), email) {
			t.Errorf("%s in the logs", email)
		}
	}
}

// lazyDirectory is the loading directory once the harness's database exists.
type lazyDirectory struct{ d **booking.Directory }

func (l lazyDirectory) Clinic(ctx context.Context, slug string) (web.ClinicService, bool) {
	return web.ServiceDirectory(*l.d).Clinic(ctx, slug)
}
func (l lazyDirectory) Default() (string, bool) { return (*l.d).Default() }

// TestOperatorAddsAClinicAndInvitesItsAdmin: the clinic the operator adds
// is served by this server at once (its refresh interval is an hour here),
// the "added" notice leads to its Staff page, and its admin, invited
// there, signs in to it.
func TestOperatorAddsAClinicAndInvitesItsAdmin(t *testing.T) {
	var (
		repo *clinics.Repo
		dir  *booking.Directory
	)
	ch := newConsoleHarness(t, func(c *web.Config) {
		c.Clinics = lazyDirectory{&dir}
		c.Console.ClinicRecords = lazyRecords{&repo}
		c.Console.ClinicSlugs = func(ctx context.Context) []string { return dir.Slugs(ctx) }
		c.Console.RefreshClinics = func(ctx context.Context) error { return dir.Refresh(ctx) }
	})
	repo = ch.repo // "demo", as the harness stored it, with its keys
	clock := func() time.Time { return ch.now }
	demo, _ := ch.dir.Clinic(context.Background(), "demo")
	build := func(c booking.Clinic, _ clinics.Token) (*booking.Service, error) {
		return booking.NewService(c, ch.api, bookingstore.New(ch.db), clock), nil
	}
	var err error
	dir, err = booking.NewLoadingDirectory(context.Background(), repo.Loader(build), time.Hour, nil, demo)
	if err != nil {
		t.Fatal(err)
	}
	ch.addStaff("ops@host.example", "", "", true)
	ops := ch.signIn("ops@host.example")

	p, _ := ch.send(http.MethodGet, "/console/clinics", ops, nil)
	action, form := p.Pressing("Add the clinic")
	form.Set("slug", "westside")
	form.Set("name", "Westside Physio")
	form.Set("access_token", sandbox.DemoAccessToken)
	p, _ = ch.send(http.MethodPost, action, ops, form)
	if p.Status != http.StatusSeeOther {
		t.Fatalf("adding: %d\n%s", p.Status, p.Text())
	}
	p, _ = ch.send(http.MethodGet, p.Header.Get("Location"), ops, nil)
	staffLink := p.Link("Invite its admin on its Staff page")
	if staffLink != "/console/westside/staff" {
		t.Fatalf("the added notice links to %q: %q", staffLink, p.Doc.Find("main .notice").Text())
	}
	p, _ = ch.send(http.MethodGet, staffLink, ops, nil)
	if p.Status != http.StatusOK {
		t.Fatalf("the new clinic's Staff page right after adding: %d", p.Status)
	}
	if !strings.Contains(p.Text(), "No one has access to this clinic yet") {
		t.Errorf("the new clinic's Staff page: %q", p.Text())
	}
	action, form = p.Pressing("Invite")
	form.Set("email", "owner@westside.example")
	form.Set("role", "admin")
	if p, _ := ch.send(http.MethodPost, action, ops, form); p.Header.Get("Location") != "/console/westside/staff?done=invited" {
		t.Fatalf("inviting the admin: %d %q", p.Status, p.Header.Get("Location"))
	}
	owner := ch.useLink(ch.mailbox.last("owner@westside.example"), "")
	if p, _ := ch.send(http.MethodGet, "/console", owner, nil); p.Header.Get("Location") != "/console/westside/today" {
		t.Errorf("the new admin's console leads to %q", p.Header.Get("Location"))
	}
	for _, path := range []string{"/console/westside/staff", "/console/westside/settings", "/console/westside/today"} {
		if p, _ := ch.send(http.MethodGet, path, owner, nil); p.Status != http.StatusOK {
			t.Errorf("%s as the new admin: %d", path, p.Status)
		}
	}
	if p, _ := ch.send(http.MethodGet, "/console/demo/today", owner, nil); p.Status != http.StatusNotFound {
		t.Errorf("demo as westside's admin: %d", p.Status)
	}
}

// refusingMailer fails to send to one address, as an outbox that cannot be
// written would.
type refusingMailer struct {
	web.SignInMailer
	refuse string
}

func (m refusingMailer) SendSignInLink(ctx context.Context, email, link string) error {
	if email == m.refuse {
		return errors.New("outbox unavailable")
	}
	return m.SignInMailer.SendSignInLink(ctx, email, link)
}

func (m refusingMailer) SendInvite(ctx context.Context, clinic, email, link string) error {
	if email == m.refuse {
		return errors.New("outbox unavailable")
	}
	return m.SignInMailer.SendInvite(ctx, clinic, email, link)
}

// TestConsoleStaffInviteWhoseEmailFails: the person is invited (they can
// ask the sign-in page for a link) and the page says the email was not
// sent, rather than an error page over a change that was made.
func TestConsoleStaffInviteWhoseEmailFails(t *testing.T) {
	ch := newConsoleHarness(t, func(c *web.Config) {
		c.Console.Mailer = refusingMailer{c.Console.Mailer, "late@demo.example"}
	})
	ch.addStaff("admin@demo.example", "demo", staff.RoleAdmin, false)
	cookie := ch.signIn("admin@demo.example")
	p, _ := ch.send(http.MethodPost, "/console/demo/staff", cookie, url.Values{"email": {"late@demo.example"}, "role": {"staff"}})
	if p.Header.Get("Location") != "/console/demo/staff?done=invited-unsent" {
		t.Fatalf("inviting with the outbox down: %d to %q", p.Status, p.Header.Get("Location"))
	}
	p, _ = ch.send(http.MethodGet, p.Header.Get("Location"), cookie, nil)
	if got := p.Doc.Find("main .notice").Text(); !strings.Contains(got, "the email with their sign-in link could not be sent") {
		t.Errorf("the notice: %q", got)
	}
	if rows := staffRows(p); len(rows) != 2 || !strings.HasPrefix(rows[1], "late@demo.example | Staff") {
		t.Errorf("the list: %q", rows)
	}
	if strings.Contains(ch.logs.String(), "late@demo.example") {
		t.Error("the address is in the logs")
	}
}
