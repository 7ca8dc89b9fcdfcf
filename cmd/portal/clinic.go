package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/internal/clinics"
	"github.com/clinic-booking/portal/internal/store"
)

// operatorEnv is what the operator's commands read from the environment:
// where the database is and the token keys.
type operatorEnv struct {
	DatabaseURL string
	Keys        *clinics.Keyring
}

func loadOperatorEnv(getenv func(string) string) (operatorEnv, error) {
	var problems []string
	bad := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	e := operatorEnv{
		DatabaseURL: databaseURL(getenv, firstNonEmpty(getenv("DATA_DIR"), "data")),
		Keys:        tokenKeys(getenv, bad),
	}
	if len(problems) > 0 {
		return e, errors.New("configuration: " + strings.Join(problems, "; "))
	}
	return e, nil
}

// openStore opens the database the operator's environment names,
// migrating it.
func openStore(ctx context.Context, getenv func(string) string) (*store.Store, operatorEnv, error) {
	env, err := loadOperatorEnv(getenv)
	if err != nil {
		return nil, env, err
	}
	db, err := store.Open(ctx, env.DatabaseURL)
	if err != nil {
		return nil, env, fmt.Errorf("open database: %w", err)
	}
	return db, env, nil
}

// openRepo opens the database (migrating it) and the clinic records in it.
func openRepo(ctx context.Context, getenv func(string) string) (*clinics.Repo, *store.Store, operatorEnv, error) {
	db, env, err := openStore(ctx, getenv)
	if err != nil {
		return nil, nil, env, err
	}
	return clinics.NewRepo(db, env.Keys), db, env, nil
}

// clinicCommand runs `portal clinic <add|list|show|update|disable|enable|rotate-keys>`.
func clinicCommand(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout io.Writer) error {
	// oneSlug runs a command that takes one clinic slug and no flags.
	oneSlug := func(cmd, about string, run func(slug string) error) func([]string) error {
		return func(args []string) error {
			slugs, err := newFlags("clinic "+cmd, "<clinic slug>", about, stdout).parse(args)
			if err != nil {
				return fmt.Errorf("clinic %s: %w", cmd, err)
			}
			if len(slugs) != 1 {
				return fmt.Errorf("clinic %s: expected one clinic slug, such as: portal clinic %s northside-physio", cmd, cmd)
			}
			return run(slugs[0])
		}
	}
	// noArgs runs a command that takes no argument and no flag.
	noArgs := func(cmd, about string, run func() error) func([]string) error {
		return func(args []string) error {
			rest, err := newFlags("clinic "+cmd, "", about, stdout).parse(args)
			if err != nil {
				return fmt.Errorf("clinic %s: %w", cmd, err)
			}
			if len(rest) > 0 {
				return fmt.Errorf("clinic %s: unexpected argument %q: it takes none", cmd, rest[0])
			}
			return run()
		}
	}
	return dispatch("clinic: ", args, clinicUsage(), stdout, []subcommand{
		{"add", func(args []string) error { return clinicAdd(ctx, args, getenv, stdin, stdout) }},
		{"list", noArgs("list", "Lists every stored clinic, enabled or not.", func() error { return clinicList(ctx, getenv, stdout) })},
		{"show", oneSlug("show", "Shows a stored clinic's settings; the access token only masked.", func(slug string) error {
			return clinicShow(ctx, slug, getenv, stdout)
		})},
		{"update", func(args []string) error { return clinicUpdate(ctx, args, getenv, stdin, stdout) }},
		{"disable", oneSlug("disable", "Stops serving a stored clinic; its settings are kept.", func(slug string) error {
			return clinicSetEnabled(ctx, slug, false, getenv, stdout)
		})},
		{"enable", oneSlug("enable", "Serves a disabled clinic again.", func(slug string) error {
			return clinicSetEnabled(ctx, slug, true, getenv, stdout)
		})},
		{"rotate-keys", noArgs("rotate-keys", "Re-seals every access token with the first key of PORTAL_TOKEN_KEYS.", func() error {
			return clinicRotateKeys(ctx, getenv, stdout)
		})},
	})
}

// clinicRotateKeys re-seals every token sealed with another key than the first.
func clinicRotateKeys(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	repo, db, _, err := openRepo(ctx, getenv)
	if err != nil {
		return err
	}
	defer db.Close()
	n, err := repo.RotateKeys(ctx)
	if err != nil {
		return fmt.Errorf("clinic rotate-keys: %w", err)
	}
	fmt.Fprintf(stdout, "re-sealed %d access token(s) with the first key of PORTAL_TOKEN_KEYS\n", n)
	return nil
}

// clinicFlags are the settings flags shared by add and update.
type clinicFlags struct {
	fs          *commandFlags
	slug        *string
	tokenFile   *string
	set         map[string]bool
	apply       []func(*clinics.Record) error
	accessToken *string
}

func newClinicFlags(name, synopsis, about string, withSlug bool, stdout io.Writer) *clinicFlags {
	f := &clinicFlags{fs: newFlags("clinic "+name, synopsis, about, stdout), set: map[string]bool{}}
	if withSlug {
		f.slug = f.fs.String("slug", "", "the clinic's URL name: lower-case letters, digits and hyphens (required)")
	}
	str := func(flagName, usage string, into func(*clinics.Record, string)) {
		v := f.fs.String(flagName, "", usage)
		f.apply = append(f.apply, func(r *clinics.Record) error {
			if f.set[flagName] {
				into(r, strings.TrimSpace(*v))
			}
			return nil
		})
	}
	list := func(flagName, usage string, into func(*clinics.Record, []string)) {
		str(flagName, usage, func(r *clinics.Record, s string) {
			into(r, splitList(s))
		})
	}
	// parsed is a flag whose value parse reads into the record, or rejects
	// with what was expected.
	parsed := func(flagName, usage, expected string, parse func(*clinics.Record, string) error) {
		v := f.fs.String(flagName, "", usage)
		f.apply = append(f.apply, func(r *clinics.Record) error {
			if !f.set[flagName] {
				return nil
			}
			if err := parse(r, strings.TrimSpace(*v)); err != nil {
				return fmt.Errorf("--%s is %q: expected %s", flagName, *v, expected)
			}
			return nil
		})
	}
	duration := func(flagName, usage string, into func(*clinics.Record, time.Duration)) {
		parsed(flagName, usage, "a duration such as 2h, 90m or 0", func(r *clinics.Record, s string) error {
			d, err := time.ParseDuration(s)
			if err == nil {
				into(r, d)
			}
			return err
		})
	}
	boolean := func(flagName, usage string, into func(*clinics.Record, bool)) {
		parsed(flagName, usage, "true or false", func(r *clinics.Record, s string) error {
			b, err := strconv.ParseBool(s)
			if err == nil {
				into(r, b)
			}
			return err
		})
	}

	str("name", "the clinic's name as patients know it", func(r *clinics.Record, s string) { r.Name = s })
	str("phone", "the clinic's phone number, shown to patients", func(r *clinics.Record, s string) { r.Phone = s })
	str("privacy-url", "the clinic's privacy policy, which patients consent to", func(r *clinics.Record, s string) { r.PrivacyURL = s })
	f.accessToken = f.fs.String("access-token", "", "the clinic's coreplus access token (visible in shell history and ps: prefer --access-token-file)")
	f.tokenFile = f.fs.String("access-token-file", "", "read the access token from this file, or from standard input when -")
	list("frame-origins", "sites allowed to embed the portal, comma-separated origins such as https://www.example-clinic.com.au", func(r *clinics.Record, l []string) { r.FrameOrigins = l })
	duration("min-notice", "shortest notice for a booking (default 2h)", func(r *clinics.Record, d time.Duration) { r.MinNotice = d })
	parsed("window-days", "how many days ahead patients may book (default 60)", "a whole number of days from 1 to 730", func(r *clinics.Record, s string) error {
		n, err := strconv.Atoi(s)
		if err == nil {
			r.WindowDays = n
		}
		return err
	})
	boolean("email-reminders", "ask coreplus to send email reminders (default true)", func(r *clinics.Record, b bool) { r.EmailReminders = b })
	boolean("sms-reminders", "ask coreplus to send SMS reminders (default true)", func(r *clinics.Record, b bool) { r.SMSReminders = b })
	duration("cancellation-cutoff", "how long before the start a patient may still cancel or move a booking online (default 24h); 0 offers neither online", func(r *clinics.Record, d time.Duration) { r.CancellationCutoff = d })
	list("locations", "coreplus location ids offered online, comma-separated; empty offers all", func(r *clinics.Record, l []string) { r.Locations = l })
	list("practitioners", "coreplus practitioner ids offered online, comma-separated; empty offers all", func(r *clinics.Record, l []string) { r.Practitioners = l })
	list("services", "coreplus appointment type ids offered online, comma-separated; empty offers all", func(r *clinics.Record, l []string) { r.Services = l })
	str("brand-colour", "the clinic's colour as hex, such as #0b5cad", func(r *clinics.Record, s string) { r.Theme.BrandColour = s })
	str("logo-url", "an https URL of the clinic's logo", func(r *clinics.Record, s string) { r.Theme.LogoURL = s })
	duration("draft-ttl", "how long a patient's typed details are kept if no booking is made (default 2h)", func(r *clinics.Record, d time.Duration) { r.DraftTTL = d })
	parsed("addresses", "each location's street address by coreplus location id, as JSON; {} for none",
		`JSON such as {"<location id>": "12 Crown St, Surry Hills NSW 2010"}`, func(r *clinics.Record, s string) error {
			var m map[string]string // replaces, never merges into, what is stored
			err := json.Unmarshal([]byte(s), &m)
			if err == nil {
				r.Addresses = m
			}
			return err
		})
	textMap := func(flagName, usage, example string, into func(*clinics.Record, map[string]string)) {
		parsed(flagName, usage, "JSON such as "+example, func(r *clinics.Record, s string) error {
			var m map[string]string // replaces, never merges into, what is stored
			err := json.Unmarshal([]byte(s), &m)
			if err == nil {
				into(r, m)
			}
			return err
		})
	}
	textMap("location-directions", "one line of directions for each location (entrance, parking), by coreplus location id, as JSON; {} for none",
		`{"<location id>": "Level 2: the lift is beside the pharmacy"}`, func(r *clinics.Record, m map[string]string) { r.LocationDirections = m })
	textMap("service-descriptions", "one line about each service, by coreplus appointment type id, as JSON; {} for none",
		`{"<appointment type id>": "Assessment, treatment and a plan for your first visit"}`, func(r *clinics.Record, m map[string]string) { r.ServiceDescriptions = m })
	str("cancellation-policy", "the clinic's cancellation policy, shown before and after booking; empty for none", func(r *clinics.Record, s string) { r.CancellationPolicy = s })
	str("notification-email", "the one address the clinic's staff are told of bookings at; empty for none", func(r *clinics.Record, s string) { r.NotificationEmail = s })
	parsed("practitioner-profiles", "what patients read about each practitioner, by coreplus practitioner id, as JSON; {} for none",
		`JSON such as {"<practitioner id>": {"description": "Sports physiotherapist", "services": ["<appointment type id>"]}}`, func(r *clinics.Record, s string) error {
			var m map[string]booking.PractitionerProfile
			err := json.Unmarshal([]byte(s), &m)
			if err == nil {
				r.PractitionerProfiles = m
			}
			return err
		})
	return f
}

// parse reads the flags and returns the other arguments; a request for
// help prints them and reports flag.ErrHelp.
func (f *clinicFlags) parse(args []string) ([]string, error) {
	rest, err := f.fs.parse(args)
	if err != nil {
		return nil, err
	}
	f.fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
	return rest, nil
}

// applyTo sets every flag given on r, reporting every bad value at once.
func (f *clinicFlags) applyTo(r *clinics.Record, stdin io.Reader) error {
	var problems []string
	for _, apply := range f.apply {
		if err := apply(r); err != nil {
			problems = append(problems, err.Error())
		}
	}
	switch {
	case f.set["access-token"] && f.set["access-token-file"]:
		problems = append(problems, "--access-token and --access-token-file are both given: expected one of them")
	case f.set["access-token"]:
		r.AccessToken = clinics.Token(strings.TrimSpace(*f.accessToken))
	case f.set["access-token-file"]:
		tok, err := readTokenFile(*f.tokenFile, stdin)
		if err != nil {
			problems = append(problems, err.Error())
		}
		r.AccessToken = clinics.Token(tok)
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// readTokenFile reads a token from a file or, for "-", from stdin; surrounding
// white space (a trailing newline) is dropped.
func readTokenFile(path string, stdin io.Reader) (string, error) {
	var (
		b   []byte
		err error
	)
	if path == "-" {
		b, err = io.ReadAll(io.LimitReader(stdin, 4096))
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return "", fmt.Errorf("--access-token-file %q cannot be read: %v", path, err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("--access-token-file %q is empty: expected the access token on one line", path)
	}
	return tok, nil
}

func clinicAdd(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout io.Writer) error {
	f := newClinicFlags("add", "--slug S --name N --access-token-file PATH|- [flags]",
		"Adds a clinic; running portals serve it within their refresh interval.", true, stdout)
	rest, err := f.parse(args)
	if err != nil {
		return fmt.Errorf("clinic add: %w", err)
	}
	if len(rest) > 0 {
		return fmt.Errorf("clinic add: unexpected argument %q: flags take the form --name value (portal clinic add -h lists them)", rest[0])
	}
	var missing []string
	for _, name := range []string{"slug", "name"} {
		if !f.set[name] {
			missing = append(missing, "--"+name)
		}
	}
	if !f.set["access-token"] && !f.set["access-token-file"] {
		missing = append(missing, "--access-token-file (or --access-token)")
	}
	if len(missing) > 0 {
		return fmt.Errorf("clinic add: missing %s: for example portal clinic add --slug northside-physio --name 'Northside Physio' --access-token-file -", strings.Join(missing, ", "))
	}
	rec := clinics.NewRecord()
	rec.Slug = strings.TrimSpace(*f.slug)
	if err := f.applyTo(&rec, stdin); err != nil {
		return fmt.Errorf("clinic add: %w", err)
	}
	if err := rec.Validate(); err != nil {
		return fmt.Errorf("clinic add: %w", err)
	}
	repo, db, _, err := openRepo(ctx, getenv)
	if err != nil {
		return err
	}
	defer db.Close()
	switch err := repo.Add(ctx, rec); {
	case errors.Is(err, clinics.ErrDuplicate):
		return fmt.Errorf("clinic add: --slug %q is taken by another clinic: choose another, or change that one with portal clinic update %s", rec.Slug, rec.Slug)
	case err != nil:
		return fmt.Errorf("clinic add: %w", err)
	}
	fmt.Fprintf(stdout, "added clinic %s (%s), access token %s; running portals serve it within their refresh interval\n", rec.Slug, rec.Name, rec.AccessToken)
	return nil
}

func clinicUpdate(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout io.Writer) error {
	f := newClinicFlags("update", "<clinic slug> [flags]", "Changes the settings whose flags are given; the others stay as they are.", false, stdout)
	rest, err := f.parse(args)
	if err != nil {
		return fmt.Errorf("clinic update: %w", err)
	}
	switch {
	case len(rest) == 0:
		return errors.New("clinic update: expected the clinic's slug first, then the flags to change: portal clinic update northside-physio --phone '02 9000 0000'")
	case len(rest) > 1:
		return fmt.Errorf("clinic update: unexpected argument %q: flags take the form --name value (portal clinic update -h lists them)", rest[1])
	}
	slug := rest[0]
	if len(f.set) == 0 {
		return errors.New("clinic update: no flag given: name the settings to change (portal clinic update -h lists them)")
	}
	repo, db, _, err := openRepo(ctx, getenv)
	if err != nil {
		return err
	}
	defer db.Close()
	rec, err := repo.Get(ctx, slug)
	if errors.Is(err, clinics.ErrNotFound) {
		return fmt.Errorf("clinic update: there is no clinic %q (portal clinic list shows them)", slug)
	} else if err != nil {
		return fmt.Errorf("clinic update: %w", err)
	}
	if err := f.applyTo(&rec, stdin); err != nil {
		return fmt.Errorf("clinic update: %w", err)
	}
	switch err := repo.UpdateBy(ctx, rec, clinics.ActorCommandLine); {
	case errors.Is(err, clinics.ErrChanged):
		return fmt.Errorf("clinic update: clinic %s was changed by someone else while this ran; nothing was saved: run the command again", slug)
	case err != nil:
		return fmt.Errorf("clinic update: %w", err)
	}
	var changed []string
	f.fs.Visit(func(fl *flag.Flag) { changed = append(changed, "--"+fl.Name) })
	fmt.Fprintf(stdout, "updated clinic %s: %s; running portals pick it up within their refresh interval\n", slug, strings.Join(changed, ", "))
	return nil
}

func clinicSetEnabled(ctx context.Context, slug string, enabled bool, getenv func(string) string, stdout io.Writer) error {
	repo, db, _, err := openRepo(ctx, getenv)
	if err != nil {
		return err
	}
	defer db.Close()
	verb := map[bool]string{true: "enable", false: "disable"}[enabled]
	changed, err := repo.SetEnabled(ctx, slug, enabled)
	switch {
	case errors.Is(err, clinics.ErrNotFound):
		return fmt.Errorf("clinic %s: there is no clinic %q (portal clinic list shows them)", verb, slug)
	case err != nil:
		return fmt.Errorf("clinic %s: %w", verb, err)
	case !changed:
		fmt.Fprintf(stdout, "clinic %s is already %sd\n", slug, verb)
	default:
		fmt.Fprintf(stdout, "%sd clinic %s; running portals follow within their refresh interval\n", verb, slug)
	}
	return nil
}

func clinicList(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	repo, db, _, err := openRepo(ctx, getenv)
	if err != nil {
		return err
	}
	defer db.Close()
	all, err := repo.List(ctx)
	if err != nil {
		return fmt.Errorf("clinic list: %w", err)
	}
	if len(all) == 0 {
		fmt.Fprintln(stdout, "no clinics yet: add one with portal clinic add")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SLUG\tSTATUS\tNAME\tTOKEN KEY\tUPDATED")
	for _, c := range all {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.Slug, status(c.Enabled), c.Name, c.SealedKeyID, c.UpdatedAt.Format(time.RFC3339))
	}
	return tw.Flush()
}

func status(enabled bool) string {
	if enabled {
		return "enabled"
	}
	return "disabled"
}

func clinicShow(ctx context.Context, slug string, getenv func(string) string, stdout io.Writer) error {
	repo, db, env, err := openRepo(ctx, getenv)
	if err != nil {
		return err
	}
	defer db.Close()
	all, err := repo.List(ctx)
	if err != nil {
		return fmt.Errorf("clinic show: %w", err)
	}
	var c *clinics.Sealed
	for i := range all {
		if all[i].Slug == slug {
			c = &all[i]
		}
	}
	if c == nil {
		return fmt.Errorf("clinic show: there is no clinic %q (portal clinic list shows them)", slug)
	}
	token := "sealed; set PORTAL_TOKEN_KEYS to see its last characters"
	if env.Keys != nil {
		if rec, err := repo.Get(ctx, slug); err != nil {
			token = "CANNOT BE OPENED: " + err.Error()
		} else {
			token = rec.AccessToken.String()
		}
	}
	orNone := func(s string) string {
		if s == "" {
			return "(none)"
		}
		return s
	}
	all0 := func(l []string) string {
		if len(l) == 0 {
			return "all"
		}
		return strings.Join(l, ", ")
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	for _, row := range [][2]string{
		{"slug", c.Slug},
		{"name", c.Name},
		{"status", status(c.Enabled)},
		{"phone", orNone(c.Phone)},
		{"privacy url", orNone(c.PrivacyURL)},
		{"access token", token + " (key " + c.SealedKeyID + ")"},
		{"frame origins", orNone(strings.Join(c.FrameOrigins, ", "))},
		{"brand colour", orNone(c.Theme.BrandColour)},
		{"logo url", orNone(c.Theme.LogoURL)},
		{"min notice", c.MinNotice.String()},
		{"window", strconv.Itoa(c.WindowDays) + " days"},
		{"email reminders", strconv.FormatBool(c.EmailReminders)},
		{"sms reminders", strconv.FormatBool(c.SMSReminders)},
		{"cancellation cutoff", c.CancellationCutoff.String()},
		{"locations", all0(c.Locations)},
		{"practitioners", all0(c.Practitioners)},
		{"services", all0(c.Services)},
		{"addresses", orNone(addressesLine(c.Addresses))},
		{"directions", orNone(addressesLine(c.LocationDirections))},
		{"service info", orNone(addressesLine(c.ServiceDescriptions))},
		{"practitioner info", orNone(profilesLine(c.PractitionerProfiles))},
		{"cancellation policy", orNone(strings.ReplaceAll(c.CancellationPolicy, "\n", " / "))},
		{"notification email", orNone(c.NotificationEmail)},
		{"draft ttl", c.DraftTTL.String()},
		{"revision", strconv.FormatInt(c.Revision, 10)},
		{"updated", c.UpdatedAt.Format(time.RFC3339)},
	} {
		fmt.Fprintf(tw, "%s:\t%s\n", row[0], row[1])
	}
	return tw.Flush()
}

// addressesLine shows a text for each id (an address, directions, a
// description) on one line, by id.
func addressesLine(addresses map[string]string) string {
	var parts []string
	for _, id := range slices.Sorted(maps.Keys(addresses)) {
		parts = append(parts, id+": "+addresses[id])
	}
	return strings.Join(parts, "; ")
}

// profilesLine shows what patients read about each practitioner on one line, by id.
func profilesLine(profiles map[string]booking.PractitionerProfile) string {
	var parts []string
	for _, id := range slices.Sorted(maps.Keys(profiles)) {
		p := profiles[id]
		part := id + ": " + p.Description
		if len(p.Services) > 0 {
			part += " (services " + strings.Join(p.Services, ", ") + ")"
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, "; ")
}

// migrateCommand brings the database schema up to date and says where it is.
func migrateCommand(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	rest, err := newFlags("migrate", "", "Brings the database schema up to date (DATABASE_URL names the database) and says its version.", stdout).parse(args)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if len(rest) > 0 {
		return fmt.Errorf("migrate: unexpected argument %q: it takes none (DATABASE_URL names the database)", rest[0])
	}
	db, _, err := openStore(ctx, getenv)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer db.Close()
	v, err := db.SchemaVersion(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	fmt.Fprintf(stdout, "%s database is at schema version %d\n", db.Dialect(), v)
	return nil
}
