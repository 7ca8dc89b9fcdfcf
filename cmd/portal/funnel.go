package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/clinic-booking/portal/internal/funnel"
	"github.com/clinic-booking/portal/internal/funnel/funnelstore"
)

// funnelCommand runs `portal funnel --clinic SLUG [--days N]`: how many
// patients reached each step of the clinic's booking flow on each of the
// last N days (7 by default), the totals, and where they left. The same
// figures feed the console's Funnel page (funnel.ReadReport).
func funnelCommand(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := newFlags("funnel", "--clinic SLUG [--days 7|30]",
		"Prints how many patients reached each step of the clinic's booking flow on each of the\n"+
			"last days (today included, in the clinic's time zone), with the totals and where they left:\n"+
			"how many reached a step but not the next. A patient is counted once a day per step, by a\n"+
			"salted hash of their address and browser that is deleted after the day; nothing else is kept.", stdout)
	slug := fs.String("clinic", "", "the clinic's `slug`")
	days := fs.Int("days", 7, "how many `days`, today included (1 to 400; the console shows 7 and 30)")
	positional, err := fs.parse(args)
	if err != nil {
		return fmt.Errorf("funnel: %w", err)
	}
	if len(positional) > 0 {
		return fmt.Errorf("funnel: unexpected argument %q: name the clinic with --clinic, such as: portal funnel --clinic %s", positional[0], positional[0])
	}
	if strings.TrimSpace(*slug) == "" {
		return errors.New("funnel: expected --clinic, such as: portal funnel --clinic northside-physio")
	}
	if keep := int(funnel.KeepCounts / (24 * time.Hour)); *days < 1 || *days > keep {
		return fmt.Errorf("funnel: --days %d: give 1 to %d (counts are kept %d days)", *days, keep, keep)
	}
	db, _, err := openStore(ctx, getenv)
	if err != nil {
		return fmt.Errorf("funnel: %w", err)
	}
	defer db.Close()
	rep, err := funnel.ReadReport(ctx, funnelstore.New(db), *slug, *days, time.Now())
	if err != nil {
		return fmt.Errorf("funnel: %w", err)
	}
	return writeFunnel(stdout, rep)
}

// writeFunnel prints rep as a table, a day a row, oldest first.
func writeFunnel(w io.Writer, rep funnel.Report) error {
	period := fmt.Sprintf("the last %d days", len(rep.Days))
	if len(rep.Days) == 1 {
		period = "today"
	}
	fmt.Fprintf(w, "Booking funnel of clinic %s, %s (%s to %s, days in %s): patients who reached each step\n\n",
		rep.Clinic, period, rep.Days[0].Date, rep.Days[len(rep.Days)-1].Date, rep.Zone)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	header := []string{"DAY"}
	for _, s := range funnel.Steps {
		header = append(header, strings.ToUpper(string(s)))
	}
	fmt.Fprintln(tw, strings.Join(header, "\t")+"\t")
	row := func(label string, value func(funnel.Step) string) {
		cells := []string{label}
		for _, s := range funnel.Steps {
			cells = append(cells, value(s))
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	for _, d := range rep.Days {
		row(d.Date, func(s funnel.Step) string { return fmt.Sprint(d.Reached[s]) })
	}
	row("total", func(s funnel.Step) string { return fmt.Sprint(rep.Total.Reached[s]) })
	row("left here", func(s funnel.Step) string {
		if s == funnel.Booked || s == funnel.Request {
			return "-"
		}
		return fmt.Sprint(rep.Total.Left(s))
	})
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprint(w, "\n\"left here\": reached the step but not the next, over the period. REQUEST: booking requests\n"+
		"left while online booking was unavailable. A patient who comes back on another day counts on each.\n")
	return err
}
