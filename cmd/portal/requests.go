package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/clinic-booking/portal/internal/store"
)

// requestsCommand runs `portal requests <clinic> [--json]`: the booking
// requests patients left while online booking was unavailable, newest
// first, for staff to call back. It runs on the operator's machine and shows
// the patients' contact details, which is its purpose; it never logs them.
func requestsCommand(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	var (
		slug   string
		asJSON bool
	)
	for _, a := range args {
		switch {
		case a == "--json" || a == "-json":
			asJSON = true
		case a == "-h" || a == "--help" || a == "-help":
			fmt.Fprintln(stdout, "usage: portal requests <clinic slug> [--json]\n\nLists the booking requests patients left for the clinic in the last 30 days, newest first.")
			return nil
		case strings.HasPrefix(a, "-"):
			return fmt.Errorf("requests: unknown flag %q: expected --json", a)
		case slug != "":
			return fmt.Errorf("requests: unexpected argument %q: expected one clinic slug", a)
		default:
			slug = a
		}
	}
	if slug == "" {
		return errors.New("requests: expected a clinic slug, such as: portal requests northside-physio")
	}
	env, err := loadOperatorEnv(getenv)
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, env.DatabaseURL)
	if err != nil {
		return fmt.Errorf("requests: open database: %w", err)
	}
	defer db.Close()
	list, err := db.ListRequests(ctx, slug, time.Now())
	if err != nil {
		return fmt.Errorf("requests: %w", err)
	}
	if asJSON {
		return writeRequestsJSON(stdout, list)
	}
	if len(list) == 0 {
		fmt.Fprintf(stdout, "no booking requests for clinic %s in the last 30 days\n", slug)
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RECEIVED\tNAME\tEMAIL\tMOBILE\tDAYS\tTIMES\tCHOSE (location/service/practitioner)\tSTATUS\tNOTE")
	for _, r := range list {
		d := r.Details
		chose := strings.Join([]string{orDash(r.LocationID), orDash(r.AppointmentTypeID), orDash(r.PractitionerID)}, "/")
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			r.CreatedAt.Local().Format("2006-01-02 15:04"), oneLine(d.FirstName+" "+d.LastName), orDash(d.Email), orDash(spaced(d.Mobile)),
			anyIfEmpty(r.Days), anyIfEmpty(r.Times), chose, r.Status, oneLine(d.Note))
	}
	return tw.Flush()
}

type requestJSON struct {
	ID             string    `json:"id"`
	Received       time.Time `json:"received"`
	Status         string    `json:"status"`
	FirstName      string    `json:"first_name"`
	LastName       string    `json:"last_name"`
	Email          string    `json:"email,omitempty"`
	Mobile         string    `json:"mobile,omitempty"`
	Days           []string  `json:"days"`
	Times          []string  `json:"times"`
	LocationID     string    `json:"location_id,omitempty"`
	ServiceID      string    `json:"service_id,omitempty"`
	PractitionerID string    `json:"practitioner_id,omitempty"`
	Note           string    `json:"note,omitempty"`
}

func writeRequestsJSON(w io.Writer, list []store.Request) error {
	out := make([]requestJSON, 0, len(list))
	for _, r := range list {
		out = append(out, requestJSON{
			ID: r.ID, Received: r.CreatedAt, Status: r.Status,
			FirstName: r.Details.FirstName, LastName: r.Details.LastName, Email: r.Details.Email, Mobile: r.Details.Mobile,
			Days: nonNil(r.Days), Times: nonNil(r.Times),
			LocationID: r.LocationID, ServiceID: r.AppointmentTypeID, PractitionerID: r.PractitionerID, Note: r.Details.Note,
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
