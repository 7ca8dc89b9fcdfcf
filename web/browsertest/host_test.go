//go:build browser

package browsertest

import (
	"context"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/PuerkitoBio/goquery"
)

// hostSites are two websites of the test's own, on ports of 127.0.0.1: the
// clinic's (on its framing allowlist) and a stranger's (not on it). Each
// serves a page with the loader snippet (/loader.html) and one with the
// plain iframe snippet (/plain.html), both exactly as the console's Embed
// page (/console/{clinic}/embed) gives them. The page records the events the
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
		doc, err := staffEmbedPage()
		if err != nil {
			s.err = err
			return
		}
		// Read as staff read it: the text of each snippet shown.
		s.loader = doc.Find("pre#loader-snippet code").Text()
		s.iframe = doc.Find("pre#iframe-snippet code").Text()
		if !strings.HasPrefix(s.loader, "<script") || !strings.HasPrefix(s.iframe, "<iframe") {
			s.err = fmt.Errorf("the console's Embed page has no loader or iframe snippet: %q, %q", s.loader, s.iframe)
		}
	})
	return s.loader, s.iframe, s.err
}

// staffEmbedPage is the console's Embed page as the clinic's staff see it
// on the portal reached as embedURL: the operator adds them with `portal
// staff add`, they open the link it prints and press Sign in, then open
// Embed. The console cookie is Secure, which Go's cookie jar keeps from
// plain http, so it is carried by hand as a browser on loopback would.
func staffEmbedPage() (*goquery.Document, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, suite.portalBin, "staff", "add", "--clinic", clinicSlug, "--email", "snippets@harbourside.example")
	cmd.Env = append(cmd.Environ(), suite.portalEnv...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("portal staff add: %v\n%s", err, out)
	}
	link, err := url.Parse(printedLink.FindString(string(out)))
	if err != nil || link.Path == "" {
		return nil, fmt.Errorf("portal staff add printed no sign-in link:\n%s", out)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, suite.embedURL+link.Path, strings.NewReader(""))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", suite.embedURL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "__Host-portal-console" && c.Value != "" {
			session = c
		}
	}
	if session == nil {
		return nil, fmt.Errorf("pressing Sign in answered %d with no console cookie", resp.StatusCode)
	}
	req, _ = http.NewRequestWithContext(ctx, http.MethodGet, suite.embedURL+"/console/"+clinicSlug+"/embed", nil)
	req.AddCookie(&http.Cookie{Name: session.Name, Value: session.Value})
	resp, err = client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("the console's Embed page answered %d", resp.StatusCode)
	}
	return goquery.NewDocumentFromReader(resp.Body)
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
