package funnel

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Count is how many patients reached a step of a clinic's flow on a day.
type Count struct {
	Day      string
	Step     Step
	Patients int64
}

// Reader reads counts back; funnelstore adapts *store.Store to it.
type Reader interface {
	// Counts returns the counts of clinic's days from from to to, both
	// included; steps and days nobody reached may have no row.
	Counts(ctx context.Context, clinic, from, to string) ([]Count, error)
	// Zone returns the zone clinic's days are counted in, or ErrNoZone
	// before the clinic was first counted.
	Zone(ctx context.Context, clinic string) (string, error)
}

// ErrNoZone means a clinic has not been counted yet.
var ErrNoZone = errors.New("funnel: the clinic has no counts yet")

// Day is one day's counts.
type Day struct {
	Date    string // "2006-01-02", in the report's zone
	Reached map[Step]int64
}

// Left is how many patients left at step: reached it and not the next step
// of the flow. A patient who comes back another day to finish counts as
// leaving on the first, and a deep link from the clinic's site that starts
// past a step makes the next step's count larger; Left is never below 0.
// It is 0 for Booked and Request, which end the flow.
func (d Day) Left(step Step) int64 {
	for i, s := range Flow[:len(Flow)-1] {
		if s == step {
			return max(0, d.Reached[step]-d.Reached[Flow[i+1]])
		}
	}
	return 0
}

// Report is a clinic's funnel over a run of days, oldest first.
type Report struct {
	Clinic string
	// Zone names the zone of the days ("Australia/Sydney"); "UTC" for a
	// clinic not counted yet.
	Zone  string
	Days  []Day
	Total Day // the sums over Days; Date is empty
}

// ReadReport returns clinic's report for the last days days up to today
// (in the clinic's zone), today included: every day has a Day, with zeros
// where nobody came. The console's 7 and 30 days are ReadReport's.
func ReadReport(ctx context.Context, r Reader, clinic string, days int, now time.Time) (Report, error) {
	if days < 1 {
		return Report{}, fmt.Errorf("funnel report: want at least one day, got %d", days)
	}
	zone, zoneName, err := clinicZone(ctx, r, clinic)
	if err != nil {
		return Report{}, err
	}
	today := now.In(zone)
	first := time.Date(today.Year(), today.Month(), today.Day()-(days-1), 12, 0, 0, 0, zone)
	return readDays(ctx, r, clinic, zoneName, first, days)
}

// ReadRange returns clinic's report for the days from from to to, both
// included ("2006-01-02", the clinic's calendar days), at most KeepCounts
// of them.
func ReadRange(ctx context.Context, r Reader, clinic, from, to string) (Report, error) {
	first, err := time.Parse(time.DateOnly, from)
	if err != nil {
		return Report{}, fmt.Errorf("funnel report: from %q is not a date such as 2026-12-07", from)
	}
	last, err := time.Parse(time.DateOnly, to)
	if err != nil {
		return Report{}, fmt.Errorf("funnel report: to %q is not a date such as 2026-12-07", to)
	}
	days := int(last.Sub(first)/(24*time.Hour)) + 1
	if days < 1 || days > int(KeepCounts/(24*time.Hour)) {
		return Report{}, fmt.Errorf("funnel report: %s to %s is not 1 to %d days", from, to, int(KeepCounts/(24*time.Hour)))
	}
	_, zoneName, err := clinicZone(ctx, r, clinic)
	if err != nil {
		return Report{}, err
	}
	return readDays(ctx, r, clinic, zoneName, first.Add(12*time.Hour), days)
}

// clinicZone is the zone clinic's days are counted in, UTC before any.
func clinicZone(ctx context.Context, r Reader, clinic string) (*time.Location, string, error) {
	name, err := r.Zone(ctx, clinic)
	switch {
	case errors.Is(err, ErrNoZone):
		return time.UTC, "UTC", nil
	case err != nil:
		return nil, "", fmt.Errorf("funnel report of %s: %w", clinic, err)
	}
	zone, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC, "UTC", nil
	}
	return zone, name, nil
}

// readDays reads days days from first's calendar day (first is noon, so
// adding calendar days never crosses a daylight-saving change into the
// wrong day).
func readDays(ctx context.Context, r Reader, clinic, zoneName string, first time.Time, days int) (Report, error) {
	rep := Report{Clinic: clinic, Zone: zoneName, Total: Day{Reached: map[Step]int64{}}}
	index := map[string]int{}
	for i := range days {
		d := first.AddDate(0, 0, i).Format(time.DateOnly)
		index[d] = i
		rep.Days = append(rep.Days, Day{Date: d, Reached: map[Step]int64{}})
	}
	counts, err := r.Counts(ctx, clinic, rep.Days[0].Date, rep.Days[len(rep.Days)-1].Date)
	if err != nil {
		return Report{}, fmt.Errorf("funnel report of %s: %w", clinic, err)
	}
	for _, c := range counts {
		i, ok := index[c.Day]
		if !ok {
			continue
		}
		rep.Days[i].Reached[c.Step] += c.Patients
		rep.Total.Reached[c.Step] += c.Patients
	}
	return rep, nil
}
