package web_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/time/rate"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/internal/booking/bookingstore"
	"github.com/clinic-booking/portal/internal/coreplus"
	"github.com/clinic-booking/portal/internal/coreplus/sandbox"
	"github.com/clinic-booking/portal/internal/pagetest"
	"github.com/clinic-booking/portal/internal/store"
	"github.com/clinic-booking/portal/web"
)

var sydney = mustZone("Australia/Sydney")

func mustZone(name string) *time.Location {
	z, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return z
}

// summerMonday is early on a Monday in Sydney's daylight-saving time.
var summerMonday = time.Date(2026, 11, 30, 6, 0, 0, 0, sydney)

// harness is the whole portal over real HTTP: the router, an in-process
// coreplus sandbox, and a SQLite store in a temporary folder, all on one
// fixed clock.
type harness struct {
	t       *testing.T
	now     time.Time
	sb      *sandbox.Server
	api     *coreplus.API
	portal  *httptest.Server
	handler http.Handler
	http    *http.Client // no cookie jar; redirects are followed by hand
	logs    *pagetest.SyncBuffer
	seen    []string // every URL the patient was sent to or shown
	db      *store.Store
	dbPath  string // the SQLite file behind db
	dir     *booking.Directory
	fake    *fakeClinic // set by newPageHarness instead of sb, db and dir
	start   func()      // builds the service and the portal over sb and db
	// skew moves the store's clock, and the sweepers', ahead of the wall
	// clock (see advance), so that minutes of settling run in a moment.
	skew atomic.Int64
}

// advance moves the store's and the sweepers' clocks d ahead.
func (h *harness) advance(d time.Duration) { h.skew.Add(int64(d)) }

// storeNow is the store's clock: the wall clock, skewed by advance.
func (h *harness) storeNow() time.Time { return time.Now().Add(time.Duration(h.skew.Load())) }

// restart stops the portal and starts it again over the same sandbox and
// database: every cache is cold, as after a deploy. The portal's address
// changes; links seen so far are relative and still work.
func (h *harness) restart() {
	h.portal.Close()
	h.start()
}

type harnessOption func(*booking.Clinic)

func newHarness(t *testing.T, opts ...harnessOption) *harness {
	t.Helper()
	return newHarnessSetup(t, harnessSetup{}, opts...)
}

// harnessSetup changes the harness's coreplus client, sandbox or web
// configuration before they are built.
type harnessSetup struct {
	sandbox func(*sandbox.Config)
	api     func(*coreplus.Config)
	web     func(*web.Config)
	// upstream and store wrap what the booking service is given.
	upstream func(booking.Coreplus) booking.Coreplus
	store    func(booking.Store) booking.Store
	// observer is told what the booking service does, for metrics.
	observer booking.Observer
}

func newHarnessSetup(t *testing.T, setup harnessSetup, opts ...harnessOption) *harness {
	t.Helper()
	h := &harness{t: t, now: summerMonday, logs: &pagetest.SyncBuffer{}}
	clock := func() time.Time { return h.now }
	sbCfg := sandbox.Config{Now: clock, RateLimit: -1}
	if setup.sandbox != nil {
		setup.sandbox(&sbCfg)
	}
	h.sb = sandbox.New(sbCfg)
	sbSrv := httptest.NewServer(h.sb)
	t.Cleanup(sbSrv.Close)

	apiCfg := coreplus.Config{
		BaseURL: sbSrv.URL + "/API/Core/v2.1/", ConsumerID: sandbox.DemoConsumerID,
		ConsumerSecret: sandbox.DemoConsumerSecret, AccessToken: sandbox.DemoAccessToken,
		Now: clock, Timeout: 5 * time.Second,
		// These tests are about the flow, not the upstream budget.
		Limiter: rate.NewLimiter(rate.Inf, 0),
		OnCall: func(ctx context.Context, i coreplus.CallInfo) {
			if !i.NotTried {
				web.CountUpstream(ctx, i.Wait+i.Duration)
			}
		},
	}
	if setup.api != nil {
		setup.api(&apiCfg)
	}
	api, err := coreplus.New(apiCfg)
	if err != nil {
		t.Fatal(err)
	}
	h.api = api

	h.dbPath = filepath.Join(t.TempDir(), "portal.db")
	db, err := store.Open(context.Background(), "sqlite:"+h.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetClock(h.storeNow)
	h.db = db

	clinic := testClinic(opts...)
	logger := h.newLogger()
	h.start = func() {
		var up booking.Coreplus = api
		if setup.upstream != nil {
			up = setup.upstream(up)
		}
		var st booking.Store = bookingstore.New(db)
		if setup.store != nil {
			st = setup.store(st)
		}
		svc := booking.NewService(clinic, up, st, clock)
		svc.SetLogger(logger)
		svc.SetObserver(setup.observer)
		h.dir = booking.NewDirectory(svc)
		h.serve(web.ServiceDirectory(h.dir), logger, db.Ping, setup.web)
	}
	h.start()
	return h
}

// newLogger logs to h.logs, for assertPrivate and the tests that read logs.
func (h *harness) newLogger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// serve starts the portal over clinics, its configuration changed by
// configure when set.
func (h *harness) serve(clinics web.Clinics, logger *slog.Logger, ready func(context.Context) error, configure func(*web.Config)) {
	h.t.Helper()
	webCfg := web.Config{
		Clinics: clinics, Logger: logger, Ready: ready,
		SecretKey: bytes.Repeat([]byte{7}, 32),
	}
	if configure != nil {
		configure(&webCfg)
	}
	handler, err := web.New(webCfg)
	if err != nil {
		h.t.Fatal(err)
	}
	h.handler = handler
	h.portal = httptest.NewServer(handler)
	h.t.Cleanup(h.portal.Close)
	if h.http == nil { // a restart keeps the client, and any cookies it holds
		h.http = &http.Client{
			Timeout:       20 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
}

// testClinic is the clinic the harnesses serve, changed by opts.
func testClinic(opts ...harnessOption) booking.Clinic {
	clinic := booking.Clinic{
		Slug: "demo", Name: "Harbourside Physio (test)", Phone: "07 3000 0000",
		PrivacyURL:     "https://example.com/privacy",
		EmailReminders: true, SMSReminders: true,
		FrameOrigins: []string{"https://www.example-clinic.com.au"},
		Addresses: map[string]string{
			sandbox.LocationSydneyID:   "112 Crown Street, Surry Hills NSW 2010",
			sandbox.LocationBrisbaneID: "40 Grey Street, South Brisbane QLD 4101",
		},
		Practitioners: map[string]booking.PractitionerProfile{
			sandbox.PractitionerPriyaID: {Description: "Sports injuries and running"},
		},
	}
	for _, o := range opts {
		o(&clinic)
	}
	return clinic
}

// page is one answer of the portal, read as a person reads it.
type page = pagetest.Page

// do sends req and notes every URL the answer sends the patient to or shows.
func (h *harness) do(req *http.Request) *page {
	h.t.Helper()
	resp, err := h.http.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	p := pagetest.Read(h.t, req.URL.String(), resp)
	if p.Doc != nil {
		p.Doc.Find("a[href]").Each(func(_ int, s *goquery.Selection) { h.seen = append(h.seen, s.AttrOr("href", "")) })
		p.Doc.Find("form[action]").Each(func(_ int, s *goquery.Selection) { h.seen = append(h.seen, s.AttrOr("action", "")) })
	}
	if loc := resp.Header.Get("Location"); loc != "" {
		h.seen = append(h.seen, loc)
	}
	return p
}

func (h *harness) abs(u string) string {
	if strings.HasPrefix(u, "http") {
		return u
	}
	return h.portal.URL + u
}

// get fetches u and follows redirects, as a browser does, and a busy
// page's Refresh (a "we're confirming" page's it leaves to the test).
func (h *harness) get(u string) *page {
	h.t.Helper()
	for range 10 {
		req, _ := http.NewRequest(http.MethodGet, h.abs(u), nil)
		p := h.do(req)
		if secs, err := strconv.Atoi(p.Header.Get("Refresh")); err == nil && p.Status == http.StatusServiceUnavailable {
			time.Sleep(time.Duration(secs) * time.Second)
			continue
		}
		if p.Status < 300 || p.Status > 399 {
			return p
		}
		u = p.Header.Get("Location")
	}
	h.t.Fatalf("too many redirects from %s", u)
	return nil
}

// post sends a form as the portal's own page would, and follows redirects.
func (h *harness) post(action string, form url.Values) *page {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, h.abs(action), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", h.portal.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	p := h.do(req)
	if p.Status >= 300 && p.Status <= 399 {
		return h.get(p.Header.Get("Location"))
	}
	return p
}

// patient is what a test patient types.
type patient struct {
	First, Last, Day, Month, Year, Email, Mobile, Note string
	Consent                                            bool
}

var newPatient = patient{
	First: "Zephyrine", Last: "Quillfeather", Day: "14", Month: "2", Year: "1983",
	Email: "zq.test@example.com", Mobile: "0499 111 222", Note: "Left knee, worse on stairs", Consent: true,
}

func (pt patient) fill(v url.Values) url.Values {
	v.Set("first_name", pt.First)
	v.Set("last_name", pt.Last)
	v.Set("dob_day", pt.Day)
	v.Set("dob_month", pt.Month)
	v.Set("dob_year", pt.Year)
	v.Set("email", pt.Email)
	v.Set("mobile", pt.Mobile)
	v.Set("note", pt.Note)
	v.Del("consent")
	if pt.Consent {
		v.Set("consent", "yes")
	}
	return v
}

// toTimes walks from the clinic's first page to the time step.
func (h *harness) toTimes(location, service, practitioner string) *page {
	h.t.Helper()
	p := h.get("/demo").WantH1("Where would you like to be seen?")
	p = h.get(p.Link(location)).WantH1("What would you like to book?")
	p = h.get(p.Link(service)).WantH1("Who would you like to see?")
	return h.get(p.Link(practitioner)).WantH1("Choose a time")
}

// toReview walks to the review page with the first free time.
func (h *harness) toReview(pt patient, practitioner string) *page {
	h.t.Helper()
	times := h.toTimes("Harbourside Physio Surry Hills", "Standard Consultation", practitioner)
	slot, _ := times.FirstSlot()
	details := h.get(slot).WantH1("Your details")
	action, form := details.Form()
	return h.post(action, pt.fill(form)).WantH1("Check your booking")
}

// confirm presses "Confirm booking" on a review page.
func (h *harness) confirm(review *page) *page {
	h.t.Helper()
	action, form := review.Form()
	return h.post(action, form)
}

// bookedBy finds the sandbox appointments made through the portal.
func (h *harness) portalAppointments() []sandbox.Appointment {
	var out []sandbox.Appointment
	for _, a := range h.sb.Appointments() {
		if strings.Contains(a.Notes, "Booked online") && a.Status == "Booked" {
			out = append(out, a)
		}
	}
	return out
}

// assertPrivate fails if a personal detail appears in any URL seen or in
// the logs.
func (h *harness) assertPrivate(pt patient) {
	h.t.Helper()
	secrets := []string{pt.First, pt.Last, pt.Email, strings.ReplaceAll(pt.Mobile, " ", ""), pt.Mobile, url.QueryEscape(pt.Email), url.QueryEscape(pt.Mobile)}
	if pt.Note != "" {
		secrets = append(secrets, pt.Note, url.QueryEscape(pt.Note))
	}
	for _, u := range h.seen {
		for _, s := range secrets {
			if s != "" && strings.Contains(strings.ToLower(u), strings.ToLower(s)) {
				h.t.Errorf("personal detail %q in URL %s", s, u)
			}
		}
	}
	logs := h.logs.String()
	for _, s := range secrets {
		if s != "" && strings.Contains(logs, s) {
			h.t.Errorf("personal detail %q in the logs:\n%s", s, logs)
		}
	}
}

// newHarnessAt is newHarness with the clock (and the sandbox's seeded
// diary) at now.
func newHarnessAt(t *testing.T, now time.Time, opts ...harnessOption) *harness {
	saved := summerMonday
	summerMonday = now
	defer func() { summerMonday = saved }()
	return newHarness(t, opts...)
}

// withTLSAndJar serves the portal over HTTPS to a client that keeps
// cookies, as a browser that allows them does.
func (h *harness) withTLSAndJar() {
	h.portal.Close()
	h.portal = httptest.NewTLSServer(h.handler)
	h.t.Cleanup(h.portal.Close)
	jar, _ := cookiejar.New(nil)
	h.http = h.portal.Client()
	h.http.Jar = jar
	h.http.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
}
