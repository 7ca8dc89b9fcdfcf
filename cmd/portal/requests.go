package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/internal/booking/bookingstore"
)

// requestsCommand runs `portal requests <clinic> [--all] [--json]`: the
// booking requests patients left while online booking was unavailable,
// newest first, for staff to call back; those marked contacted only with
// --all. `portal requests <clinic> --done ID` marks one contacted. It runs
// on the operator's machine and shows the patients' contact details, which
// is its purpose; it never logs them.
func requestsCommand(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	const needID = "requests: --done needs a request id, such as: portal requests northside-physio --done 3f2a9c1e"
	fs := newFlags("requests", "<clinic slug> [--all] [--json]  |  <clinic slug> --done ID",
		"Lists the booking requests patients left for the clinic in the last 30 days that no one has\n"+
			"contacted yet, newest first; --all lists the contacted ones too. --done ID marks one as\n"+
			"contacted: ID is the request's id as listed (its first 8 characters are enough).", stdout)
	all := fs.Bool("all", false, "list the requests marked contacted too")
	asJSON := fs.Bool("json", false, "list as JSON")
	var done countedString
	fs.Var(&done, "done", "mark the request with this `ID` (as listed) contacted")
	if n := len(args); n > 0 && (args[n-1] == "--done" || args[n-1] == "-done") {
		return errors.New(needID) // rather than the flag package's "needs an argument"
	}
	positional, err := fs.parse(args)
	if err != nil {
		return fmt.Errorf("requests: %w", err)
	}
	if done.given > 1 {
		return errors.New("requests: --done takes one request id at a time")
	}
	var slug string
	switch len(positional) {
	case 0:
	case 1:
		slug = positional[0]
	default:
		return fmt.Errorf("requests: unexpected argument %q: expected one clinic slug", positional[1])
	}
	doneGiven := done.given > 0
	id := strings.ToLower(strings.TrimSpace(done.value))
	var listFlags []string // --all, --json: for a listing, not for --done
	fs.Visit(func(f *flag.Flag) {
		if f.Name != "done" {
			listFlags = append(listFlags, "--"+f.Name)
		}
	})
	if slug == "" {
		return errors.New("requests: expected a clinic slug, such as: portal requests northside-physio")
	}
	if doneGiven && (id == "" || strings.HasPrefix(id, "-")) {
		return errors.New(needID)
	}
	if doneGiven && len(listFlags) > 0 {
		return fmt.Errorf("requests: --done marks a request and lists nothing: it cannot go with %s", listFlags[0])
	}
	db, _, err := openStore(ctx, getenv)
	if err != nil {
		return fmt.Errorf("requests: %w", err)
	}
	defer db.Close()
	requests := bookingstore.New(db)
	if doneGiven {
		return markContacted(ctx, requests, slug, id, stdout)
	}
	list, err := requests.ListRequests(ctx, slug, time.Now())
	if err != nil {
		return fmt.Errorf("requests: %w", err)
	}
	shown := list
	if !*all {
		shown = slices.DeleteFunc(slices.Clone(list), func(r booking.Request) bool { return r.Status != booking.RequestNew })
	}
	if *asJSON {
		return writeRequestsJSON(stdout, shown)
	}
	if len(shown) == 0 {
		if handled := len(list); handled > 0 {
			fmt.Fprintf(stdout, "no new booking requests for clinic %s: %d in the last 30 days, all marked contacted (--all lists them)\n", slug, handled)
			return nil
		}
		fmt.Fprintf(stdout, "no booking requests for clinic %s in the last 30 days\n", slug)
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tRECEIVED\tNAME\tEMAIL\tMOBILE\tDAYS\tTIMES\tCHOSE (location/service/practitioner)\tSTATUS\tNOTE")
	for _, r := range shown {
		chose := strings.Join([]string{orDash(r.LocationID), orDash(r.ServiceID), orDash(r.PractitionerID)}, "/")
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			shortID(r.ID), r.CreatedAt.Local().Format("2006-01-02 15:04"), oneLine(r.FirstName+" "+r.LastName), orDash(r.Email), orDash(spaced(r.Mobile)),
			anyIfEmpty(r.Days), anyIfEmpty(r.Times), chose, r.Status, oneLine(r.Note))
	}
	return tw.Flush()
}

// markContacted marks one request contacted and says which, or says in
// the operator's terms why it marked none.
func markContacted(ctx context.Context, requests booking.RequestStore, slug, id string, stdout io.Writer) error {
	r, err := booking.MarkRequestContacted(ctx, requests, slug, id, "the command line", time.Now())
	name := oneLine(r.FirstName + " " + r.LastName)
	var ambiguous *booking.AmbiguousRequestIDError
	switch {
	case errors.Is(err, booking.ErrRequestIDTooShort):
		return fmt.Errorf("requests: --done %q is too short: give at least the %d characters of the ID column of portal requests %s", id, booking.RequestIDShown, slug)
	case errors.Is(err, booking.ErrNoSuchRequest):
		return fmt.Errorf("requests: clinic %s has no booking request %s in the last 30 days (portal requests %s --all lists them)", slug, id, slug)
	case errors.As(err, &ambiguous):
		return fmt.Errorf("requests: %s is the start of %d requests' ids: give more of it", id, ambiguous.Matches)
	case errors.Is(err, booking.ErrAlreadyContacted):
		return fmt.Errorf("requests: request %s (%s) is already marked contacted", shortID(r.ID), name)
	case errors.Is(err, booking.ErrRequestChanged):
		return fmt.Errorf("requests: request %s (%s) changed meanwhile: someone else marked it, or it expired", shortID(r.ID), name)
	case err != nil:
		return fmt.Errorf("requests: %w", err)
	}
	fmt.Fprintf(stdout, "marked request %s (%s) contacted\n", shortID(r.ID), name)
	return nil
}

// countedString is a string flag that counts how often it was given.
type countedString struct {
	value string
	given int
}

func (c *countedString) String() string { return c.value }

func (c *countedString) Set(v string) error {
	c.value = v
	c.given++
	return nil
}

func shortID(id string) string {
	if len(id) > booking.RequestIDShown {
		return id[:booking.RequestIDShown]
	}
	return id
}

type requestJSON struct {
	ID             string                `json:"id"`
	Received       time.Time             `json:"received"`
	Status         booking.RequestStatus `json:"status"`
	FirstName      string                `json:"first_name"`
	LastName       string                `json:"last_name"`
	Email          string                `json:"email,omitempty"`
	Mobile         string                `json:"mobile,omitempty"`
	Days           []string              `json:"days"`
	Times          []string              `json:"times"`
	LocationID     string                `json:"location_id,omitempty"`
	ServiceID      string                `json:"service_id,omitempty"`
	PractitionerID string                `json:"practitioner_id,omitempty"`
	Note           string                `json:"note,omitempty"`
}

func writeRequestsJSON(w io.Writer, list []booking.Request) error {
	out := make([]requestJSON, 0, len(list))
	for _, r := range list {
		out = append(out, requestJSON{
			ID: r.ID, Received: r.CreatedAt, Status: r.Status,
			FirstName: r.FirstName, LastName: r.LastName, Email: r.Email, Mobile: r.Mobile,
			Days: nonNil(r.Days), Times: nonNil(r.Times),
			LocationID: r.LocationID, ServiceID: r.ServiceID, PractitionerID: r.PractitionerID, Note: r.Note,
		})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func anyIfEmpty(l []string) string {
	if len(l) == 0 {
		return "any"
	}
	return strings.Join(l, ",")
}

// oneLine keeps a table row on one line whatever the patient typed.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// spaced shows 0412345678 as 0412 345 678.
func spaced(m string) string {
	if len(m) != 10 {
		return m
	}
	return m[:4] + " " + m[4:7] + " " + m[7:]
}
