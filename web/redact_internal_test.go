package web

import "testing"

// TestRedactPathCutsAtTheFirstSecret: a path holding a manage token, a
// signed draft id or a sign-in token keeps none of them, whichever comes
// first.
func TestRedactPathCutsAtTheFirstSecret(t *testing.T) {
	for in, want := range map[string]string{
		"/c/manage/tok.mac/booking/x":        "/c/manage/:token",
		"/c/booking/id.mac/manage/tok":       "/c/booking/:ref",
		"/console/sign-in/abc/manage/x":      "/console/sign-in/:token",
		"/c/manage/tok.mac/reschedule?day=1": "/c/manage/:token",
		"/c/book?location=1":                 "/c/book?location=1",
	} {
		if got := redactPath(in); got != want {
			t.Errorf("redactPath(%q) = %q, want %q", in, got, want)
		}
	}
}
