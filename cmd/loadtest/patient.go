package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/clinic-booking/portal/internal/pagetest"
)

// drive runs o.patients patients against the portals until o.duration has
// passed, patient i on portal i mod N. A booking patient checks that the
// time it booked leaves the next portal's pages (the same one when there is
// one).
func drive(ctx context.Context, o options, portals []*portal, rec *recorder) {
	ctx, cancel := context.WithTimeout(ctx, o.duration)
	defer cancel()
	transport := &http.Transport{MaxIdleConns: 2 * o.patients, MaxIdleConnsPerHost: 2 * o.patients, IdleConnTimeout: 90 * time.Second}
	defer transport.CloseIdleConnections()
	var wg sync.WaitGroup
	for i := range o.patients {
		p := &patient{
			id:    i,
			home:  portals[i%len(portals)],
			other: portals[(i+1)%len(portals)],
			books: o.bookEvery > 0 && i%o.bookEvery == 0,
			weeks: o.weeks,
			think: o.think,
			rng:   rand.New(rand.NewPCG(uint64(o.seed), uint64(i))),
			rec:   rec,
			http: &http.Client{
				Transport: transport,
				// Redirects are followed by hand so that each hop is timed
				// and counted as the request it is.
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			},
		}
		wg.Go(func() { p.run(ctx) })
	}
	wg.Wait()
	rec.wait() // the checks of booked times still polling
}

// patient is one simulated person at a browser: it follows links and
// submits forms found in the pages, pausing to read each one.
type patient struct {
	id          int
	home, other *portal
	books       bool
	weeks       int
	think       time.Duration
	rng         *rand.Rand
	rec         *recorder
	http        *http.Client

	visit int
	addr  string // X-Forwarded-For of this visit: each visit is a new person
}

func (p *patient) run(ctx context.Context) {
	for ctx.Err() == nil {
		p.visit++
		p.addr = fmt.Sprintf("10.%d.%d.%d", p.id/250, p.id%250, p.visit%250+1)
		if err := p.browse(ctx); err != nil && ctx.Err() == nil {
			p.rec.flowError(err)
			p.pause(ctx) // a page without a way on: start again, as a person would
		}
	}
}

// browse walks one visit: from the clinic's first page to a time page,
// through some weeks, and for a booking patient through details, review
// and confirm.
func (p *patient) browse(ctx context.Context) error {
	pg, err := p.get(ctx, p.home, "/"+p.home.slug)
	if err != nil {
		return err
	}
	for !isTimePage(pg.url) {
		next := deeperLinks(pg)
		if len(next) == 0 {
			return fmt.Errorf("no way on from the %s page", pageKind(http.MethodGet, pg.url))
		}
		p.pause(ctx)
		if pg, err = p.get(ctx, p.home, next[p.rng.IntN(len(next))]); err != nil {
			return err
		}
	}
	p.rec.sawTimes(pg)
	for range p.rng.IntN(p.weeks) {
		later := laterWeek(pg)
		if later == "" {
			break
		}
		p.pause(ctx)
		if pg, err = p.get(ctx, p.home, later); err != nil {
			return err
		}
		p.rec.sawTimes(pg)
	}
	p.pause(ctx)
	if p.books {
		return p.book(ctx, pg)
	}
	return nil
}

// book picks one of the times on pg and books it with made-up details.
func (p *patient) book(ctx context.Context, times *page) error {
	slots := times.doc.Find(`a[href*="slot="]`)
	if slots.Length() == 0 {
		return nil // an empty week: this patient leaves
	}
	href := slots.Eq(p.rng.IntN(slots.Length())).AttrOr("href", "")
	chosen := slotOf(href)
	pg, err := p.get(ctx, p.home, href)
	if err != nil {
		return err
	}
	action, form, ok := lastPostForm(pg)
	if !ok {
		return errors.New("no form on the details page")
	}
	p.fillDetails(form)
	p.pause(ctx)
	if pg, err = p.post(ctx, p.home, action, form); err != nil {
		return err
	}
	if action, form, ok = lastPostForm(pg); !ok {
		return errors.New("no form on the review page")
	}
	p.pause(ctx)
	sent := time.Now()
	pg, err = p.post(ctx, p.home, action, form)
	took := time.Since(sent)
	if pg == nil {
		return err // no answer at all: counted with the requests
	}
	booked := err == nil && strings.Contains(pg.url.Path, "/booking/")
	p.rec.confirmed(took, booked, pg.status)
	if err != nil {
		return err
	}
	if booked {
		// Watched by a copy of this visit's person: the patient goes on to
		// its next visit, a new address, meanwhile.
		watcher := &patient{id: p.id, home: p.home, other: p.other, rec: p.rec, http: p.http, visit: p.visit, addr: p.addr}
		p.rec.watch(func() { watcher.watchGone(ctx, times.url, chosen, time.Now()) })
	}
	return nil
}

// watchGone polls the time page the patient booked from, on the other
// portal, until the booked time is no longer offered, and records how long
// that took after the confirmation was shown.
func (p *patient) watchGone(ctx context.Context, timesURL *url.URL, chosen string, booked time.Time) {
	if ctx.Err() != nil {
		return // booked as the load ended: nothing to watch it against
	}
	for {
		pg, err := p.fetch(ctx, p.other, http.MethodGet, timesURL.RequestURI(), nil, "recheck")
		if err == nil && pg.doc != nil && !offers(pg, chosen) {
			p.rec.gone(time.Since(booked), false)
			return
		}
		select {
		case <-ctx.Done():
			p.rec.gone(time.Since(booked), true)
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// fillDetails types made-up details into the details form. They are never
// printed or logged.
func (p *patient) fillDetails(form url.Values) {
	first := []string{"Ada", "Bram", "Cleo", "Dov", "Esme", "Finn", "Gus", "Hana"}
	last := []string{"Loadwell", "Testerby", "Benchley", "Probert", "Simmonds"}
	n := p.rng.IntN(1_000_000)
	form.Set("first_name", first[p.rng.IntN(len(first))])
	form.Set("last_name", last[p.rng.IntN(len(last))]+"-"+letters(n))
	form.Set("dob_day", fmt.Sprint(1+p.rng.IntN(28)))
	form.Set("dob_month", fmt.Sprint(1+p.rng.IntN(12)))
	form.Set("dob_year", fmt.Sprint(1950+p.rng.IntN(55)))
	form.Set("email", fmt.Sprintf("load%d@example.com", n))
	form.Set("mobile", fmt.Sprintf("04%08d", p.rng.IntN(100_000_000)))
	form.Set("consent", "yes")
}

func (p *patient) pause(ctx context.Context) {
	if p.think <= 0 {
		return
	}
	d := p.think/2 + time.Duration(p.rng.Int64N(int64(p.think)+1))
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// page is one answer the patient ended up on.
type page struct {
	url    *url.URL
	status int
	doc    *goquery.Document
}

// get fetches u from pt and follows its redirects, as a browser does.
func (p *patient) get(ctx context.Context, pt *portal, u string) (*page, error) {
	return p.fetch(ctx, pt, http.MethodGet, u, nil, "")
}

// post submits form to action as the portal's own page would, and follows
// the answer's redirects.
func (p *patient) post(ctx context.Context, pt *portal, action string, form url.Values) (*page, error) {
	return p.fetch(ctx, pt, http.MethodPost, action, form, "")
}

// fetch sends one request and follows redirects, each hop timed as a page
// of its own kind (or of kind, when given).
//
// Once the load is over (ctx is done) it starts no new page, but a request
// already sent, and its redirects, run to the end: a slow answer cut off
// would drop out of the figures, the slowest first.
func (p *patient) fetch(ctx context.Context, pt *portal, method, u string, form url.Values, kind string) (*page, error) {
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	for range 10 {
		target, err := url.Parse(u)
		if err != nil {
			return nil, fmt.Errorf("a link that is no URL: %w", err)
		}
		target = mustParse(pt.base + "/").ResolveReference(target)
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequestWithContext(ctx, method, target.String(), body)
		if err != nil {
			return nil, err
		}
		req.Header.Set("X-Forwarded-For", p.addr)
		req.Header.Set("User-Agent", "portal-loadtest")
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", pt.base)
			req.Header.Set("Sec-Fetch-Site", "same-origin")
		}
		k := kind
		if k == "" {
			k = pageKind(method, target)
		}
		start := time.Now()
		resp, err := p.http.Do(req)
		if err != nil {
			p.rec.request(k, time.Since(start), 0)
			return nil, err
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		took := time.Since(start)
		if err != nil {
			p.rec.request(k, took, 0)
			return nil, err
		}
		p.rec.request(k, took, resp.StatusCode)
		if loc := resp.Header.Get("Location"); resp.StatusCode >= 300 && resp.StatusCode < 400 && loc != "" {
			method, u, form = http.MethodGet, target.ResolveReference(mustParse(loc)).RequestURI(), nil
			continue
		}
		pg := &page{url: target, status: resp.StatusCode}
		if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			if pg.doc, err = goquery.NewDocumentFromReader(bytes.NewReader(b)); err != nil {
				return nil, err
			}
		}
		if resp.StatusCode >= 400 {
			return pg, fmt.Errorf("%s page answered %d%s", k, resp.StatusCode, problems(pg))
		}
		if pg.doc == nil {
			return pg, fmt.Errorf("%s %s page is not HTML", method, k)
		}
		return pg, nil
	}
	return nil, errors.New("too many redirects")
}

func mustParse(u string) *url.URL {
	parsed, err := url.Parse(u)
	if err != nil {
		return &url.URL{}
	}
	return parsed
}

// The flow's choices, in the order the steps make them. Only their names
// are assumed (they are the portal's contract for deep links); the links
// themselves come from the pages.
var choiceKeys = []string{"location", "type", "practitioner"}

// depth is how many of the flow's choices u has made.
func depth(u *url.URL) int {
	n := 0
	for _, k := range choiceKeys {
		if u.Query().Get(k) != "" {
			n++
		}
	}
	return n
}

// isTimePage reports whether u shows free times: every choice made, no time yet.
func isTimePage(u *url.URL) bool {
	return depth(u) == len(choiceKeys) && u.Query().Get("slot") == "" && !strings.Contains(u.Path, "/book/")
}

// pageKind names what a request is for, to group its latency.
func pageKind(method string, u *url.URL) string {
	q := u.Query()
	switch {
	case method == http.MethodPost && strings.HasSuffix(u.Path, "/confirm"):
		return "confirm POST"
	case method == http.MethodPost:
		return "details POST"
	case strings.HasSuffix(u.Path, "/book/details"):
		return "details"
	case strings.HasSuffix(u.Path, "/book/review"):
		return "review"
	case strings.Contains(u.Path, "/booking/"):
		return "confirmation"
	case q.Get("slot") != "":
		return "time picked"
	}
	return [...]string{"first", "service", "practitioner", "time"}[depth(u)]
}

// deeperLinks are the links on pg that make one more choice of the flow.
func deeperLinks(pg *page) []string {
	d := depth(pg.url)
	var out []string
	pg.doc.Find("a[href]").Each(func(_ int, s *goquery.Selection) {
		href := s.AttrOr("href", "")
		u, err := pg.url.Parse(href)
		if err != nil || u.Host != pg.url.Host || u.Query().Get("slot") != "" {
			return
		}
		if depth(u) > d {
			out = append(out, href)
		}
	})
	return out
}

// laterWeek is the link on a time page to the next week of the same
// choices: the strip's "Later" link (a.next), or, on a page without one,
// of the links to another date, the nearest one after this week.
func laterWeek(pg *page) string {
	if next := pg.doc.Find("a.next[href]").First(); next.Length() > 0 {
		return next.AttrOr("href", "")
	}
	this := weekOf(pg)
	best, bestWeek := "", ""
	pg.doc.Find("a[href]").Each(func(_ int, s *goquery.Selection) {
		href := s.AttrOr("href", "")
		u, err := pg.url.Parse(href)
		if err != nil || u.Host != pg.url.Host || !isTimePage(u) || !sameChoices(u, pg.url) {
			return
		}
		w := u.Query().Get("date")
		if w > this && (best == "" || w < bestWeek) {
			best, bestWeek = href, w
		}
	})
	return best
}

func sameChoices(a, b *url.URL) bool {
	for _, k := range choiceKeys {
		if a.Query().Get(k) != b.Query().Get(k) {
			return false
		}
	}
	return true
}

// weekOf is the week a time page shows: the first day of its strip (a
// week before its "Later" link, or after its "Earlier" one), else the date
// its first time link carries, or the one it was asked for.
func weekOf(pg *page) string {
	for sel, days := range map[string]int{"a.next[href]": -7, "a.prev[href]": 7} {
		if a := pg.doc.Find(sel).First(); a.Length() > 0 {
			if u, err := pg.url.Parse(a.AttrOr("href", "")); err == nil {
				if d, err := time.Parse("2006-01-02", u.Query().Get("date")); err == nil {
					return d.AddDate(0, 0, days).Format("2006-01-02")
				}
			}
		}
	}
	if s := pg.doc.Find(`a[href*="slot="]`).First(); s.Length() > 0 {
		if u, err := pg.url.Parse(s.AttrOr("href", "")); err == nil && u.Query().Get("date") != "" {
			return u.Query().Get("date")
		}
	}
	return pg.url.Query().Get("date")
}

// slotOf names the time a time link picks: its start and practitioner.
func slotOf(href string) string {
	u := mustParse(href)
	return u.Query().Get("slot") + " with " + u.Query().Get("with")
}

// offers reports whether a time page still offers the time chosen.
func offers(pg *page, chosen string) bool {
	found := false
	pg.doc.Find(`a[href*="slot="]`).EachWithBreak(func(_ int, s *goquery.Selection) bool {
		found = slotOf(s.AttrOr("href", "")) == chosen
		return !found
	})
	return found
}

// lastPostForm is what the page's last POST form sends as it stands (the
// details page may show a "use my saved details" form before the main one).
func lastPostForm(pg *page) (string, url.Values, bool) {
	if pg.doc == nil {
		return "", nil, false
	}
	f := pg.doc.Find("form").FilterFunction(func(_ int, s *goquery.Selection) bool {
		return strings.EqualFold(s.AttrOr("method", ""), http.MethodPost)
	}).Last()
	if f.Length() == 0 {
		return "", nil, false
	}
	action, v := pagetest.FormValues(f)
	if action == "" {
		action = pg.url.RequestURI()
	}
	return action, v, true
}

// problems lists what a form page says is wrong (the error summary's
// messages name fields, never their values), to explain a refused form.
func problems(pg *page) string {
	if pg.doc == nil {
		return ""
	}
	var msgs []string
	pg.doc.Find(".error-summary li").Each(func(_ int, s *goquery.Selection) {
		msgs = append(msgs, strings.Join(strings.Fields(s.Text()), " "))
	})
	if len(msgs) == 0 {
		return ""
	}
	return ": " + strings.Join(msgs, "; ")
}

// letters spells n in lower-case letters: names may hold no digits.
func letters(n int) string {
	b := []byte{byte('A' + n%26)}
	for n /= 26; n > 0; n /= 26 {
		b = append(b, byte('a'+n%26))
	}
	return string(b)
}
