package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// The command line is parsed with the standard library's flag package and
// the small dispatcher below: a handful of commands does not need a CLI
// library, and every command then takes its flags, and -h, the same way.

const usage = `portal serves the patient booking portal.

  portal [serve] [-demo] [-addr HOST:PORT] [-data DIR]   serve (the default)
  portal clinic add --slug S --name N --access-token-file PATH|- [flags]
  portal clinic list
  portal clinic show S
  portal clinic update S [flags]                          only the flags given change
  portal clinic disable S | enable S
  portal clinic rotate-keys                               re-seal every token with the first key
  portal check [S]                                        test a clinic's credentials against coreplus
  portal migrate                                          bring the database schema up to date
  portal requests S [--all] [--json]                      booking requests patients left for clinic S not yet contacted, newest first
  portal requests S --done ID                             mark one contacted (ID as listed)
  portal funnel --clinic S [--days 7|30]                  patients who reached each step of the booking flow, by day
  portal staff add --clinic S --email E [--role admin|staff]  give someone a clinic's console; prints a first sign-in link
  portal staff add --operator --email E                   an operator: every clinic's console
  portal staff list [--clinic S]                          who may sign in to the console
  portal staff remove --email E [--clinic S]              take someone out of a clinic, or remove their account

"portal clinic add -h" lists the clinic flags. Configuration comes from the
environment (DATABASE_URL, PORTAL_TOKEN_KEYS, COREPLUS_*): see README.md.
`

// runCommand is run with stdin, for tests.
func runCommand(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 || (strings.HasPrefix(args[0], "-") && !isHelp(args[0])) {
		return helpShown(serve(ctx, args, getenv, stdout))
	}
	return helpShown(dispatch("", args, usage, stdout, []subcommand{
		{"serve", func(args []string) error { return serve(ctx, args, getenv, stdout) }},
		{"clinic", func(args []string) error { return clinicCommand(ctx, args, getenv, stdin, stdout) }},
		{"check", func(args []string) error { return checkCommand(ctx, args, getenv, stdout) }},
		{"migrate", func(args []string) error { return migrateCommand(ctx, args, getenv, stdout) }},
		{"requests", func(args []string) error { return requestsCommand(ctx, args, getenv, stdout) }},
		{"funnel", func(args []string) error { return funnelCommand(ctx, args, getenv, stdout) }},
		{"staff", func(args []string) error { return staffCommand(ctx, args, getenv, stdout) }},
	}))
}

// helpShown makes a request for help, which has been answered, a success.
func helpShown(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

// subcommand is one word of a command line and what runs the rest of it.
type subcommand struct {
	name string
	run  func(args []string) error
}

// dispatch runs the subcommand args[0] names, after prefix (such as
// "clinic "), or prints help for -h, --help or help.
func dispatch(prefix string, args []string, help string, stdout io.Writer, subs []subcommand) error {
	names := make([]string, 0, len(subs)+1)
	for _, s := range subs {
		names = append(names, s.name)
	}
	names = append(names, "help")
	expected := strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
	if len(args) == 0 {
		return fmt.Errorf("%sexpected a command: %s (portal help)", prefix, expected)
	}
	if isHelp(args[0]) || args[0] == "help" {
		fmt.Fprint(stdout, help)
		return nil
	}
	for _, s := range subs {
		if s.name == args[0] {
			return s.run(args[1:])
		}
	}
	return fmt.Errorf("%sunknown command %q: expected %s", prefix, args[0], expected)
}

func isHelp(arg string) bool { return arg == "-h" || arg == "-help" || arg == "--help" }

// commandFlags is a command's flag set and its help.
type commandFlags struct {
	*flag.FlagSet
	printHelp func()
}

// newFlags is a command's flag set. -h prints the usage line, what the
// command does and its flags to stdout; parse errors are returned, not
// printed, for the caller to report once.
func newFlags(name, synopsis, about string, stdout io.Writer) *commandFlags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {} // the flag package calls it on errors too
	printHelp := func() {
		fmt.Fprintf(stdout, "usage: portal %s %s\n\n%s\n", name, synopsis, about)
		hasFlags := false
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprintln(stdout, "\nflags:")
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			fs.SetOutput(io.Discard)
		}
	}
	return &commandFlags{FlagSet: fs, printHelp: printHelp}
}

// parse parses flags wherever they stand among args, as in
// `portal clinic update northside --phone 1`, and returns the other
// arguments in order. For -h it prints the help and returns flag.ErrHelp.
func (fs *commandFlags) parse(args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
			fs.printHelp()
			return nil, err
		} else if err != nil {
			unknown := ""
			if strings.HasPrefix(err.Error(), "flag provided but not defined") {
				unknown = "unknown flag: "
			}
			return nil, fmt.Errorf("%s%v (portal %s -h lists the flags)", unknown, err, fs.Name())
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// clinicUsage is the part of the usage about `portal clinic`.
func clinicUsage() string {
	var b strings.Builder
	b.WriteString("portal clinic manages the clinics the portal serves besides the one configured by environment.\n\n")
	for line := range strings.Lines(usage) {
		if strings.HasPrefix(line, "  portal clinic ") {
			b.WriteString(line)
		}
	}
	b.WriteString("\n\"portal clinic add -h\" lists the clinic flags.\n")
	return b.String()
}
