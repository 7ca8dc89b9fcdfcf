package web

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/clinic-booking/portal/internal/clinics"
	"github.com/clinic-booking/portal/internal/clinics/clinicscheck"
	"github.com/clinic-booking/portal/views"
)

// ClinicChecker runs `portal check` for one clinic, stored or configured
// by environment, disabled ones too (*clinicscheck.Checker). It goes
// through the running portal's upstream budget and is bounded in time;
// clinics.ErrNotFound when there is no such clinic.
type ClinicChecker interface {
	Check(ctx context.Context, slug string) (clinicscheck.Report, error)
}

var _ ClinicChecker = (*clinicscheck.Checker)(nil)

// offerCheck gives an operator's clinic row its Check button, when the
// portal can check.
func (s *Server) offerCheck(cl *views.ConsoleClinic) {
	if s.console.Checker == nil {
		return
	}
	cl.Check = "/console/clinics/" + url.PathEscape(cl.Slug) + "/check"
	cl.CheckLabel = "Check " + cl.Name + " with coreplus"
}

// checkClinic runs the check for an operator and shows the clinics page
// with its result above the list; anyone else gets the console's 404.
// The result is not kept: pressing Check again asks coreplus again.
func (s *Server) checkClinic(c echo.Context) error {
	if !staffFrom(c).Operator || s.console.Checker == nil {
		return s.consoleNotFound(c)
	}
	slug := c.Param("slug")
	report, err := s.console.Checker.Check(c.Request().Context(), slug)
	switch {
	case errors.Is(err, clinics.ErrNotFound):
		return s.consoleNotFound(c)
	case err != nil:
		return fmt.Errorf("check clinic: %w", err)
	}
	outcome := "ok"
	if f := report.Failure; f != nil {
		outcome = string(f.Kind) + " listing " + f.List
	} else if !report.Ok() {
		outcome = "ids missing from coreplus"
	}
	s.log.Info("operator checked a clinic with coreplus", "request_id", requestIDFrom(c), "clinic", slug, "outcome", outcome)
	check := checkWords(report)
	m := views.ConsoleClinicsPage{ConsolePage: s.consolePage(c, nil, "Clinics", ""), SignOutEverywhere: true, Check: &check}
	return s.operatorClinics(c, m)
}

// checkWords says what a check found, or what failed and what to do, for
// the operator: no internal error text, and the token only masked.
func checkWords(r clinicscheck.Report) views.ClinicCheck {
	w := views.ClinicCheck{
		OK:    r.Ok(),
		Asked: fmt.Sprintf("Asked coreplus just now for the clinic's locations, practitioners and services, with the portal's consumer credentials and the clinic's access token %s.", r.Token),
	}
	for _, l := range r.Lists {
		line := fmt.Sprintf("%s found, ", count(l.Found, l.Name))
		if l.Offered > 0 {
			line += fmt.Sprintf("%d offered online", l.Offered)
		} else {
			line += "all offered online"
		}
		w.Found = append(w.Found, line)
	}
	missing := r.Missing()
	switch f := r.Failure; {
	case f != nil:
		w.Heading = r.Name + ": " + failureHeading(f)
		w.Problems = append(w.Problems, failureWords(f, r))
	case len(missing) > 0:
		w.Heading = fmt.Sprintf("%s: the credentials work, but %s offered online %s not in coreplus", r.Name, count(len(missing), "id"), map[bool]string{true: "is", false: "are"}[len(missing) == 1])
		for _, m := range missing {
			fix := fmt.Sprintf("Choose the %s offered again under the clinic's Settings (or portal clinic update %s --%s).", m.List, r.Slug, m.List)
			if r.Environment {
				fix = "The clinic is configured by the portal's environment: change its list where that is set."
			}
			w.Problems = append(w.Problems, views.CheckProblem{
				What: fmt.Sprintf("The clinic offers %s %q online, which coreplus does not have, so patients are not offered it.", strings.TrimSuffix(m.List, "s"), m.ID),
				ToDo: fix,
			})
		}
	default:
		w.Heading = r.Name + ": the credentials work"
	}
	if !r.Enabled {
		w.Notes = append(w.Notes, r.Name+" is disabled: patients can't book it until it is enabled (Enable, below).")
	}
	return w
}

// count is "1 location" or "2 locations".
func count(n int, plural string) string {
	if n == 1 {
		return "1 " + strings.TrimSuffix(plural, "s")
	}
	if !strings.HasSuffix(plural, "s") {
		plural += "s"
	}
	return fmt.Sprintf("%d %s", n, plural)
}

func failureHeading(f *clinicscheck.Failure) string {
	switch f.Kind {
	case clinicscheck.InvalidCredentials:
		return "coreplus refused the credentials"
	case clinicscheck.RateLimited:
		return "too many requests to coreplus just now"
	case clinicscheck.Unreachable:
		return "coreplus could not be reached"
	}
	return "coreplus refused the check"
}

// failureWords says which list failed, how, and what to do.
func failureWords(f *clinicscheck.Failure, r clinicscheck.Report) views.CheckProblem {
	return views.CheckProblem{What: failureWhat(f), ToDo: failureToDo(f, r)}
}

func failureWhat(f *clinicscheck.Failure) string {
	status := ""
	if f.Status != 0 {
		status = fmt.Sprintf(" (HTTP %d)", f.Status)
	}
	return fmt.Sprintf("Listing %s failed: %s%s.", f.List, f.Kind, status)
}

func failureToDo(f *clinicscheck.Failure, r clinicscheck.Report) string {
	switch {
	case f.Kind == clinicscheck.InvalidCredentials:
		replace := "replace its access token (portal clinic update " + r.Slug + " --access-token-file -)"
		if r.Environment {
			replace = "replace COREPLUS_ACCESS_TOKEN where the portal's environment is set"
		}
		return "coreplus rejected the portal's consumer id or secret, or this clinic's access token. If every clinic fails this way, check COREPLUS_CONSUMER_ID and COREPLUS_CONSUMER_SECRET; if only this one does, ask the clinic to check in coreplus that the portal's add-on is still granted, and " + replace + "."
	case f.Kind == clinicscheck.RateLimited && f.Status == 0:
		return "Patients' requests used this portal's share of coreplus's 10 requests a second for as long as the check could wait. Try again in a minute."
	case f.Kind == clinicscheck.RateLimited:
		return "coreplus allows 10 requests a second per consumer, shared by every portal running; another process may be using them. Try again in a minute."
	case f.Kind == clinicscheck.Unreachable:
		return "No usable answer came from coreplus in the time the check allows. Check COREPLUS_BASE_URL and this server's network; if coreplus itself is down, patients can leave a booking request meanwhile. Try again in a few minutes."
	}
	cmd := "portal check " + r.Slug
	if r.Environment {
		cmd = "portal check"
	}
	return "Try again; if it keeps failing, run " + cmd + " on the server, which prints coreplus's answer in full."
}
