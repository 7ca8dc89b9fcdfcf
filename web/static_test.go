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
	p := h.get("/demo").wantH1("Where would you like to be seen?")
	icon := p.doc.Find(`head link[rel="icon"]`).AttrOr("href", "")
	if !strings.HasPrefix(icon, "/static/") {
		t.Fatalf("page links icon %q", icon)
	}
	svg := h.get(icon)
	if svg.status != http.StatusOK || !strings.HasPrefix(svg.header.Get("Content-Type"), "image/svg+xml") || !strings.Contains(svg.body, "<svg") {
		t.Fatalf("%s: %d %q", icon, svg.status, svg.header.Get("Content-Type"))
	}

	req, _ := http.NewRequest(http.MethodGet, h.abs("/favicon.ico"), nil)
	r := h.do(req)
	if r.status != http.StatusFound || r.header.Get("Location") != icon {
		t.Fatalf("/favicon.ico: %d to %q, want the icon the pages link, %q", r.status, r.header.Get("Location"), icon)
	}
	if cc := r.header.Get("Cache-Control"); !strings.HasPrefix(cc, "public") {
		t.Errorf("/favicon.ico Cache-Control %q", cc)
	}
}
