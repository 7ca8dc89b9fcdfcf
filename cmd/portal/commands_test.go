package main

import (
	"strings"
	"testing"
)

// TestEveryCommandPrintsHelp: -h (or help) on every command prints its help
// and succeeds, so `portal ... -h` exits 0; nothing else runs.
func TestEveryCommandPrintsHelp(t *testing.T) {
	o := newOperator(t)
	o.env["PORTAL_TOKEN_KEYS"] = "not a key" // any command that went on would fail
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-h"}, "portal clinic add --slug S"},
		{[]string{"--help"}, "portal clinic add --slug S"},
		{[]string{"help"}, "portal clinic add --slug S"},
		{[]string{"serve", "-h"}, "usage: portal serve"},
		{[]string{"serve", "--help"}, "-demo"},
		{[]string{"clinic", "-h"}, "portal clinic rotate-keys"},
		{[]string{"clinic", "help"}, "portal clinic update S"},
		{[]string{"clinic", "add", "-h"}, "-access-token-file"},
		{[]string{"clinic", "add", "--slug", "x", "-h"}, "usage: portal clinic add"},
		{[]string{"clinic", "update", "-h"}, "-window-days"},
		{[]string{"clinic", "update", "northside", "--help"}, "usage: portal clinic update"},
		{[]string{"clinic", "list", "-h"}, "usage: portal clinic list"},
		{[]string{"clinic", "show", "-h"}, "usage: portal clinic show"},
		{[]string{"clinic", "disable", "-h"}, "usage: portal clinic disable"},
		{[]string{"clinic", "enable", "-h"}, "usage: portal clinic enable"},
		{[]string{"clinic", "rotate-keys", "-h"}, "usage: portal clinic rotate-keys"},
		{[]string{"check", "-h"}, "usage: portal check"},
		{[]string{"migrate", "-h"}, "usage: portal migrate"},
		{[]string{"requests", "-h"}, "usage: portal requests"},
		{[]string{"requests", "northside", "-help"}, "-done ID"},
	} {
		out, err := o.run("", tc.args...)
		if err != nil {
			t.Errorf("portal %s: %v; want help and success", strings.Join(tc.args, " "), err)
			continue
		}
		if !strings.Contains(out, tc.want) {
			t.Errorf("portal %s printed:\n%s\nwant it to contain %q", strings.Join(tc.args, " "), out, tc.want)
		}
	}
	// A mistake gets the error alone, not the help as well.
	if out, err := o.run("", "clinic", "add", "--colour", "red"); err == nil || out != "" {
		t.Errorf("an unknown flag: %v, printed %q; want an error and nothing printed", err, out)
	}
}
