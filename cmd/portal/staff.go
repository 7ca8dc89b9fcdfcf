package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"text/tabwriter"

	"github.com/clinic-booking/portal/internal/clinics"
	"github.com/clinic-booking/portal/internal/staff"
	"github.com/clinic-booking/portal/internal/staff/staffstore"
	"github.com/clinic-booking/portal/internal/store"
)

// staffCommand runs `portal staff <add|list|remove>`: the console's
// accounts. Email addresses are printed here (the operator typed them) but
// never logged.
func staffCommand(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	return dispatch("staff: ", args, staffUsage(), stdout, []subcommand{
		{"add", func(args []string) error { return staffAdd(ctx, args, getenv, stdout) }},
		{"list", func(args []string) error { return staffList(ctx, args, getenv, stdout) }},
		{"remove", func(args []string) error { return staffRemove(ctx, args, getenv, stdout) }},
	})
}

// staffUsage is the part of the usage about `portal staff`.
func staffUsage() string {
	var b strings.Builder
	b.WriteString("portal staff manages who may sign in to the staff console (/console/).\n\n")
	for line := range strings.Lines(usage) {
		if strings.HasPrefix(line, "  portal staff ") {
			b.WriteString(line)
		}
	}
	return b.String()
}

// openAccounts opens the database (migrating it) and the accounts in it.
func openAccounts(ctx context.Context, getenv func(string) string) (*staff.Accounts, *store.Store, error) {
	db, _, err := openStore(ctx, getenv)
	if err != nil {
		return nil, nil, err
	}
	return staff.New(staffstore.New(db), nil), db, nil
}

func staffAdd(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := newFlags("staff add", "--clinic SLUG --email ADDRESS [--role admin|staff] | --operator --email ADDRESS",
		"Gives someone access to a clinic's console (or, with --operator, to every clinic's) and prints a first sign-in link, good once for 15 minutes.", stdout)
	clinic := fs.String("clinic", "", "the clinic's slug")
	email := fs.String("email", "", "the person's email address, which they sign in with")
	roleFlag := fs.String("role", "staff", "admin (may also change the clinic's settings and staff) or staff")
	operator := fs.Bool("operator", false, "an operator of the portal: every clinic, as admin")
	rest, err := fs.parse(args)
	if err != nil {
		return fmt.Errorf("staff add: %w", err)
	}
	if len(rest) > 0 {
		return fmt.Errorf("staff add: unexpected argument %q: flags take the form --email value (portal staff add -h lists them)", rest[0])
	}
	role, err := staff.ParseRole(*roleFlag)
	switch {
	case *email == "":
		return errors.New("staff add: missing --email: for example portal staff add --clinic northside-physio --email reception@northside.example")
	case *operator && *clinic != "":
		return errors.New("staff add: --operator and --clinic are both given: an operator sees every clinic, so give one of them")
	case !*operator && *clinic == "":
		return errors.New("staff add: missing --clinic (or --operator for every clinic): for example portal staff add --clinic northside-physio --email reception@northside.example")
	case err != nil:
		return fmt.Errorf("staff add: --role is %q: expected admin or staff", *roleFlag)
	}
	if _, err := staff.NormaliseEmail(*email); err != nil {
		return fmt.Errorf("staff add: --email is %q: expected one email address, such as reception@northside.example", *email)
	}
	accounts, db, err := openAccounts(ctx, getenv)
	if err != nil {
		return err
	}
	defer db.Close()
	if !*operator {
		if err := knownClinic(ctx, db, getenv, *clinic); err != nil {
			return fmt.Errorf("staff add: %w", err)
		}
	}
	before, err := accessIn(ctx, accounts, *email, *clinic)
	if err != nil {
		return fmt.Errorf("staff add: %w", err)
	}
	acc, err := accounts.Add(ctx, *email, *clinic, role, *operator)
	if err != nil {
		return fmt.Errorf("staff add: %w", err)
	}
	token, err := accounts.LinkForAccount(ctx, acc.ID)
	if err != nil {
		return fmt.Errorf("staff add: sign-in link: %w", err)
	}
	if *operator {
		fmt.Fprintf(stdout, "%s is an operator: every clinic, as admin\n", acc.Email)
	} else {
		fmt.Fprintf(stdout, "%s is %s of clinic %s\n", acc.Email, role, *clinic)
	}
	base, guessed := consoleBase(getenv)
	fmt.Fprintf(stdout, "first sign-in link, good once for 15 minutes (later, they sign in at %s/console/sign-in with their email):\n  %s/console/sign-in/%s\n",
		base, base, token)
	if guessed {
		fmt.Fprintf(stdout, "(PUBLIC_URL is not set, so the link assumes the portal is at %s)\n", base)
	}
	// Audited last, after the link is printed: the access is given by
	// then, and a failure here must not keep the link from the operator.
	if after := staff.DescribeAccess(acc.Email, role); !*operator && before != after {
		if err := auditStaff(ctx, db, *clinic, before, after); err != nil {
			return fmt.Errorf("staff add: %s has access, but the Audit page does not show it: %w", acc.Email, err)
		}
	}
	return nil
}

// knownClinic checks that slug is a clinic the portal serves: one in the
// database, or the one configured by environment.
func knownClinic(ctx context.Context, db *store.Store, getenv func(string) string, slug string) error {
	envSlug := getenv("CLINIC_SLUG")
	if envSlug == "" && getenv("COREPLUS_ACCESS_TOKEN") != "" {
		envSlug = "clinic" // loadEnvClinic's default
	}
	if slug == envSlug {
		return nil
	}
	switch _, err := db.GetClinic(ctx, slug); {
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("--clinic is %q: there is no such clinic (portal clinic list shows them)", slug)
	case err != nil:
		return err
	}
	return nil
}

// consoleBase is the portal's address for sign-in links: PUBLIC_URL, or the
// address the portal listens on by default (and guessed reports so).
func consoleBase(getenv func(string) string) (base string, guessed bool) {
	if u := strings.TrimRight(getenv("PUBLIC_URL"), "/"); u != "" {
		return u, false
	}
	return "http://" + net.JoinHostPort(firstNonEmpty(getenv("HOST"), "127.0.0.1"), firstNonEmpty(getenv("PORT"), "8080")), true
}

func staffList(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := newFlags("staff list", "[--clinic SLUG]", "Lists who may sign in to the console, and where.", stdout)
	clinic := fs.String("clinic", "", "only the people who see this clinic (operators included)")
	rest, err := fs.parse(args)
	if err != nil {
		return fmt.Errorf("staff list: %w", err)
	}
	if len(rest) > 0 {
		return fmt.Errorf("staff list: unexpected argument %q: use --clinic SLUG", rest[0])
	}
	accounts, db, err := openAccounts(ctx, getenv)
	if err != nil {
		return err
	}
	defer db.Close()
	all, err := accounts.List(ctx)
	if err != nil {
		return fmt.Errorf("staff list: %w", err)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "EMAIL\tACCESS")
	n := 0
	for _, a := range all {
		if *clinic != "" && !a.Sees(*clinic) {
			continue
		}
		n++
		var access []string
		if a.Operator {
			access = append(access, "operator (every clinic)")
		}
		for _, c := range a.ClinicSlugs() {
			access = append(access, c+": "+string(a.Clinics[c]))
		}
		fmt.Fprintf(tw, "%s\t%s\n", a.Email, strings.Join(access, ", "))
	}
	if n == 0 {
		fmt.Fprintln(stdout, "no staff yet: add someone with portal staff add --clinic SLUG --email ADDRESS")
		return nil
	}
	return tw.Flush()
}

func staffRemove(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := newFlags("staff remove", "--email ADDRESS [--clinic SLUG]",
		"Takes someone out of one clinic, or with no --clinic removes their account; their sessions end at their next page.", stdout)
	clinic := fs.String("clinic", "", "only this clinic")
	email := fs.String("email", "", "the person's email address")
	rest, err := fs.parse(args)
	if err != nil {
		return fmt.Errorf("staff remove: %w", err)
	}
	if len(rest) > 0 {
		return fmt.Errorf("staff remove: unexpected argument %q: use --email ADDRESS", rest[0])
	}
	if *email == "" {
		return errors.New("staff remove: missing --email: for example portal staff remove --email reception@northside.example")
	}
	accounts, db, err := openAccounts(ctx, getenv)
	if err != nil {
		return err
	}
	defer db.Close()
	// What the person had, for the audit of each clinic they leave.
	had, err := accountByEmail(ctx, accounts, *email)
	if err != nil {
		return fmt.Errorf("staff remove: %w", err)
	}
	ok, err := accounts.Remove(ctx, *email, *clinic)
	if err == nil && ok {
		for _, c := range had.ClinicSlugs() {
			if *clinic == "" || c == *clinic {
				if err := auditStaff(ctx, db, c, staff.DescribeAccess(had.Email, had.Clinics[c]), ""); err != nil {
					return fmt.Errorf("staff remove: %w", err)
				}
			}
		}
	}
	switch {
	case errors.Is(err, staff.ErrBadEmail):
		return fmt.Errorf("staff remove: --email is %q: expected one email address", *email)
	case err != nil:
		return fmt.Errorf("staff remove: %w", err)
	case !ok && *clinic != "":
		return fmt.Errorf("staff remove: %s is not staff of clinic %s (portal staff list shows who is)", *email, *clinic)
	case !ok:
		return fmt.Errorf("staff remove: there is no account for %s (portal staff list shows them)", *email)
	case *clinic != "":
		fmt.Fprintf(stdout, "removed %s from clinic %s\n", *email, *clinic)
	default:
		fmt.Fprintf(stdout, "removed %s: they can no longer sign in, and their sessions have ended\n", *email)
	}
	// The console refuses to remove a clinic's last admin; the command
	// line is the operator's, who may mean it, so it says so instead.
	if all, err := accounts.List(ctx); err == nil {
		for _, c := range had.ClinicSlugs() {
			if (*clinic == "" || c == *clinic) && had.Clinics[c] == staff.RoleAdmin && !hasAdmin(all, c) {
				fmt.Fprintf(stdout, "note: clinic %s has no admin now, so no one can invite its staff from the console; portal staff add --clinic %s --email ADDRESS --role admin gives it one\n", c, c)
			}
		}
	}
	return nil
}

// hasAdmin reports whether any of accounts is an admin of clinic (an
// operator is everywhere, but not the clinic's own).
func hasAdmin(accounts []staff.Account, clinic string) bool {
	for _, a := range accounts {
		if a.Clinics[clinic] == staff.RoleAdmin {
			return true
		}
	}
	return false
}

// accessIn is what the audit says email had in clinic before a change: ""
// for no access (or an operator, or no clinic).
func accessIn(ctx context.Context, accounts *staff.Accounts, email, clinic string) (string, error) {
	acc, err := accountByEmail(ctx, accounts, email)
	if err != nil || clinic == "" {
		return "", err
	}
	if role, ok := acc.Clinics[clinic]; ok {
		return staff.DescribeAccess(acc.Email, role), nil
	}
	return "", nil
}

// accountByEmail is the account of email; the zero Account when there is
// none (or email is not an address: the command says so after).
func accountByEmail(ctx context.Context, accounts *staff.Accounts, email string) (staff.Account, error) {
	acc, err := accounts.ByEmail(ctx, email)
	if errors.Is(err, staff.ErrNoAccount) {
		return staff.Account{}, nil
	}
	return acc, err
}

// auditStaff records a change to clinic's staff made by the command line.
func auditStaff(ctx context.Context, db *store.Store, clinic, before, after string) error {
	return db.AuditStaffChange(ctx, clinic, store.AuditEntry{
		Actor: clinics.ActorCommandLine, Setting: staff.AuditSetting, OldValue: before, NewValue: after,
	})
}
