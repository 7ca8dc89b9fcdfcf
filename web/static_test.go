package web_test

import (
	"net/http"
	"strings"
	"testing"
)

// Browsers ask for an icon on every page load; a missing one fills the
// logs with 404s.
func TestEveryPageHasAnIconAndFaviconIcoFindsIt(t *testing.T) {
	h := newPageHarness(t, harnessSetup{})
	p := h.get("/demo").WantH1("Where would you like to be seen?")
	icon := p.Doc.Find(`head link[rel="icon"]`).AttrOr("href", "")
	if !strings.HasPrefix(icon, "/static/") {
		t.Fatalf("page links icon %q", icon)
	}
	svg := h.get(icon)
	if svg.Status != http.StatusOK || !strings.HasPrefix(svg.Header.Get("Content-Type"), "image/svg+xml") || !strings.Contains(svg.Body, "<svg") {
		t.Fatalf("%s: %d %q", icon, svg.Status, svg.Header.Get("Content-Type"))
	}

	req, _ := http.NewRequest(http.MethodGet, h.abs("/favicon.ico"), nil)
	r := h.do(req)
	if r.Status != http.StatusFound || r.Header.Get("Location") != icon {
		t.Fatalf("/favicon.ico: %d to %q, want the icon the pages link, %q", r.Status, r.Header.Get("Location"), icon)
	}
	if cc := r.Header.Get("Cache-Control"); !strings.HasPrefix(cc, "public") {
		t.Errorf("/favicon.ico Cache-Control %q", cc)
	}
}
