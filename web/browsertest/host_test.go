//go:build browser

package browsertest

import (
	"fmt"
	"html"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/PuerkitoBio/goquery"
)

// hostSites are two websites of the test's own, on ports of 127.0.0.1: the
// clinic's (on its framing allowlist) and a stranger's (not on it). Each
// serves a page with the loader snippet (/loader.html) and one with the
// plain iframe snippet (/plain.html), both exactly as the portal's staff
// page /{clinic}/embed-code gives them. The page records the events the
// loader re-dispatches in window.__events and keeps a window.dataLayer.
type hostSites struct {
	servers []*http.Server
}

// startHostSites listens for both sites and sets suite.hostURL and
// suite.strangerURL; the snippets are fetched from the portal on first
// use, once it runs.
func startHostSites() (*hostSites, error) {
	hs := &hostSites{}
	var snip snippets
	for _, u := range []*string{&suite.hostURL, &suite.strangerURL} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			hs.Close()
			return nil, err
		}
		*u = "http://" + ln.Addr().String()
		srv := &http.Server{Handler: hostSite(&snip), ReadHeaderTimeout: 10 * time.Second}
		hs.servers = append(hs.servers, srv)
		go func() { _ = srv.Serve(ln) }()
	}
	return hs, nil
}

func (hs *hostSites) Close() {
	for _, s := range hs.servers {
		_ = s.Close()
	}
}

// snippets are the two snippets of the portal's staff page, as a clinic's
// staff would copy them: from the portal reached as embedURL.
type snippets struct {
	once           sync.Once
	loader, iframe string
	err            error
}

func (s *snippets) get() (loader, iframe string, err error) {
	s.once.Do(func() {
		resp, err := http.Get(suite.embedURL + "/" + clinicSlug + "/embed-code")
		if err != nil {
			s.err = err
			return
		}
		defer resp.Body.Close()
		// Read as staff read it: the text of each snippet shown.
		doc, err := goquery.NewDocumentFromReader(resp.Body)
		if err != nil {
			s.err = err
			return
		}
		var found []string
		doc.Find("pre.snippet code").Each(func(_ int, c *goquery.Selection) { found = append(found, c.Text()) })
		for _, f := range found {
			switch {
			case strings.HasPrefix(f, "<script") && !strings.Contains(f, "data-location") && s.loader == "":
				s.loader = f
			case strings.HasPrefix(f, "<iframe") && s.iframe == "":
				s.iframe = f
			}
		}
		if s.loader == "" || s.iframe == "" {
			s.err = fmt.Errorf("the embed-code page (%d) has no loader or iframe snippet: %q", resp.StatusCode, found)
		}
	})
	return s.loader, s.iframe, s.err
}

// hostPage is a clinic's web page with a snippet pasted into it.
const hostPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>A clinic's website</title>
<style>body { font-family: sans-serif; margin: 0 2rem; } header { height: 120px; }</style>
<script>
window.__events = [];
window.dataLayer = [];
["step-viewed", "slot-selected", "booking-confirmed"].forEach(function (name) {
  document.addEventListener("booking-portal:" + name, function (e) {
    window.__events.push(Object.assign({name: name, container: e.target.className}, e.detail));
  });
});
</script></head>
<body><header><h1>Our clinic</h1><p>Book your appointment below.</p></header>
%s
<footer><p>The clinic's footer</p></footer>
</body></html>`

func hostSite(snip *snippets) http.Handler {
	mux := http.NewServeMux()
	serve := func(pick func(loader, iframe string) string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			loader, iframe, err := snip.get()
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, hostPage, pick(loader, iframe))
		}
	}
	mux.HandleFunc("GET /loader.html", serve(func(loader, _ string) string { return loader }))
	mux.HandleFunc("GET /plain.html", serve(func(_, iframe string) string { return iframe }))
	// Any page of the portal in a frame: /frame.html?src=URL.
	mux.HandleFunc("GET /frame.html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, hostPage, `<iframe title="Book an appointment" style="display:block;width:100%;height:1200px;border:0" src="`+
			html.EscapeString(r.URL.Query().Get("src"))+`"></iframe>`)
	})
	return mux
}
