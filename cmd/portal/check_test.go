package main

import (
	"strings"
	"testing"

	"github.com/clinic-booking/portal/internal/coreplus/sandbox"
)

// TestCheckPrintsExactlyWhatItFound pins `portal check`'s whole output
// and exit, line for line, as it was before the check moved to
// internal/clinics/clinicscheck: scripts and runbooks read it.
func TestCheckPrintsExactlyWhatItFound(t *testing.T) {
	o := newOperator(t)
	base := startSandbox(t)
	o.useCoreplus(base)
	o.must(sandbox.DemoAccessToken, "clinic", "add", "--slug", "good", "--name", "Good Physio", "--access-token-file", "-",
		"--locations", sandbox.LocationSydneyID, "--services", sandbox.AppointmentTypeInitialID+","+sandbox.AppointmentTypeStandardID)
	o.must(sandbox.DemoAccessToken, "clinic", "add", "--slug", "stale", "--name", "Stale Physio", "--access-token-file", "-",
		"--locations", sandbox.LocationSydneyID+",loc-gone", "--services", "svc-gone")
	o.must("", "clinic", "disable", "stale")
	host := strings.TrimSuffix(base, "/")

	out := o.must("", "check", "good")
	want := "checking clinic good (Good Physio) at " + host + "/ with consumer demo-portal and access token ••••7a10\n" +
		"ok: 2 locations found, 1 offered online\n" +
		"ok: 6 practitioners found\n" +
		"ok: 4 services found, 2 offered online\n" +
		"clinic good: the credentials work\n"
	if out != want {
		t.Errorf("check good printed:\n%s\nwant:\n%s", out, want)
	}

	// A disabled clinic is checked, and the ids coreplus lacks are named
	// after the counts; the exit is a failure.
	out, err := o.run("", "check", "stale")
	want = "checking clinic stale (Stale Physio) at " + host + "/ with consumer demo-portal and access token ••••7a10\n" +
		"note: the clinic is disabled, so patients cannot book it until: portal clinic enable stale\n" +
		"ok: 2 locations found, 2 offered online\n" +
		"ok: 6 practitioners found\n" +
		"ok: 4 services found, 1 offered online\n" +
		"warning: --locations lists \"loc-gone\", which coreplus does not have\n" +
		"warning: --services lists \"svc-gone\", which coreplus does not have\n"
	if out != want || err == nil || err.Error() != "check stale: the credentials work, but 2 configured id(s) are not in coreplus" {
		t.Errorf("check stale printed:\n%s\nwant:\n%s\nerror: %v", out, want, err)
	}
}
