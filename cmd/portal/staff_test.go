package main

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/clinic-booking/portal/internal/coreplus/sandbox"
	"github.com/clinic-booking/portal/internal/staff"
	"github.com/clinic-booking/portal/internal/staff/staffstore"
	"github.com/clinic-booking/portal/internal/store"
)

var signInLink = regexp.MustCompile(`https?://\S+/console/sign-in/([A-Za-z0-9_-]{43})`)

func TestStaffCommandsHappyPath(t *testing.T) {
	o := newOperator(t)
	o.env["PUBLIC_URL"] = "https://book.example.com/"
	o.must(sandbox.DemoAccessToken+"\n", "clinic", "add", "--slug", "northside", "--name", "Northside Physio", "--access-token-file", "-")
	o.must(sandbox.DemoAccessToken+"\n", "clinic", "add", "--slug", "southside", "--name", "Southside Podiatry", "--access-token-file", "-")

	out := o.must("", "staff", "add", "--clinic", "northside", "--email", " Reception@Northside.Example ", "--role", "admin")
	if !strings.Contains(out, "reception@northside.example is admin of clinic northside") {
		t.Errorf("add said: %s", out)
	}
	m := signInLink.FindStringSubmatch(out)
	if m == nil || !strings.HasPrefix(m[0], "https://book.example.com/console/sign-in/") {
		t.Fatalf("add printed no sign-in link on PUBLIC_URL:\n%s", out)
	}
	o.must("", "staff", "add", "--clinic", "southside", "--email", "reception@northside.example")
	out = o.must("", "staff", "add", "--operator", "--email", "ops@host.example")
	if !strings.Contains(out, "ops@host.example is an operator") || signInLink.FindString(out) == "" {
		t.Errorf("add --operator said: %s", out)
	}

	// The printed link signs in once.
	ctx := context.Background()
	db, err := store.Open(ctx, o.env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	acc, err := staff.New(staffstore.New(db), nil).UseLink(ctx, m[1])
	db.Close()
	if err != nil || acc.Email != "reception@northside.example" {
		t.Fatalf("the printed link: %+v, %v", acc, err)
	}

	out = o.must("", "staff", "list")
	for _, want := range []string{"ops@host.example", "operator (every clinic)", "northside: admin, southside: staff"} {
		if !strings.Contains(out, want) {
			t.Errorf("list lacks %q:\n%s", want, out)
		}
	}
	if out = o.must("", "staff", "list", "--clinic", "southside"); !strings.Contains(out, "reception@") || !strings.Contains(out, "ops@") {
		t.Errorf("list --clinic southside:\n%s", out)
	}

	if out = o.must("", "staff", "remove", "--email", "reception@northside.example", "--clinic", "northside"); !strings.Contains(out, "removed reception@northside.example from clinic northside") {
		t.Errorf("remove --clinic said: %s", out)
	}
	if out = o.must("", "staff", "list", "--clinic", "northside"); strings.Contains(out, "reception@") {
		t.Errorf("removed from northside, still listed:\n%s", out)
	}
	o.must("", "staff", "remove", "--email", "reception@northside.example")
	if out = o.must("", "staff", "list"); strings.Contains(out, "reception@") {
		t.Errorf("removed account still listed:\n%s", out)
	}
}

// The command line's changes to a clinic's staff are on its Audit page as
// the console's are, by "command line"; a change that changes nothing is
// not.
func TestStaffCommandsAreAudited(t *testing.T) {
	o := newOperator(t)
	o.must(sandbox.DemoAccessToken+"\n", "clinic", "add", "--slug", "northside", "--name", "Northside Physio", "--access-token-file", "-")
	o.must("", "staff", "add", "--clinic", "northside", "--email", "Reception@Northside.Example")
	o.must("", "staff", "add", "--clinic", "northside", "--email", "reception@northside.example") // the same again
	o.must("", "staff", "add", "--clinic", "northside", "--email", "reception@northside.example", "--role", "admin")
	o.must("", "staff", "add", "--operator", "--email", "ops@host.example")
	out := o.must("", "staff", "remove", "--email", "reception@northside.example")
	if !strings.Contains(out, "note: clinic northside has no admin now") {
		t.Errorf("removing the last admin said: %s", out)
	}

	ctx := context.Background()
	db, err := store.Open(ctx, o.env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.ClinicAudit(ctx, "northside", 50)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		if r.Setting == staff.AuditSetting {
			got = append(got, r.Actor+": "+r.OldValue+" -> "+r.NewValue)
		}
	}
	want := []string{ // newest first
		"command line: reception@northside.example (admin) -> ",
		"command line: reception@northside.example (staff) -> reception@northside.example (admin)",
		"command line:  -> reception@northside.example (staff)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("the audit of northside's staff:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestStaffCommandsSayWhatIsWrong(t *testing.T) {
	o := newOperator(t)
	o.must(sandbox.DemoAccessToken+"\n", "clinic", "add", "--slug", "northside", "--name", "Northside Physio", "--access-token-file", "-")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"staff", "add", "--clinic", "northside"}, "missing --email"},
		{[]string{"staff", "add", "--email", "a@b.example"}, "missing --clinic (or --operator"},
		{[]string{"staff", "add", "--operator", "--clinic", "northside", "--email", "a@b.example"}, "--operator and --clinic are both given"},
		{[]string{"staff", "add", "--clinic", "northside", "--email", "a@b.example", "--role", "boss"}, `--role is "boss": expected admin or staff`},
		{[]string{"staff", "add", "--clinic", "northside", "--email", "not an address"}, "expected one email address"},
		{[]string{"staff", "add", "--clinic", "nowhere", "--email", "a@b.example"}, `--clinic is "nowhere": there is no such clinic`},
		{[]string{"staff", "remove", "--email", "nobody@b.example"}, "there is no account for nobody@b.example"},
		{[]string{"staff", "remove"}, "missing --email"},
		{[]string{"staff", "fire"}, `unknown command "fire"`},
	} {
		out, err := o.run("", c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("portal %s: err = %v, want it to say %q (out: %s)", strings.Join(c.args, " "), err, c.want, out)
		}
	}
	// The clinic configured by environment is a clinic too.
	o.env["CLINIC_SLUG"] = "envclinic"
	out := o.must("", "staff", "add", "--clinic", "envclinic", "--email", "a@b.example")
	if !strings.Contains(out, "PUBLIC_URL is not set") || !strings.Contains(out, "http://127.0.0.1:8080/console/sign-in/") {
		t.Errorf("without PUBLIC_URL, add said: %s", out)
	}
}
