package sandbox

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// fakeClock is the sandbox's and the signer's clock in tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var sydney, brisbane = mustZone("Australia/Sydney"), mustZone("Australia/Brisbane")

func mustZone(name string) *time.Location {
	z, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return z
}

// testStart is a Monday morning in Sydney, before any roster opens.
var testStart = time.Date(2025, 3, 3, 6, 0, 0, 0, sydney)

type env struct {
	t     *testing.T
	srv   *Server
	ts    *httptest.Server
	clock *fakeClock
}

// newEnv serves a sandbox over real HTTP. Unless cfg says otherwise the clock
// is fake (testStart) and the rate limit is off, so tests can be fast.
func newEnv(t *testing.T, cfg Config) *env {
	t.Helper()
	return newEnvAt(t, testStart, cfg)
}

// newEnvAt is newEnv with the fake clock starting at now.
func newEnvAt(t *testing.T, now time.Time, cfg Config) *env {
	t.Helper()
	clock := &fakeClock{t: now}
	if cfg.Now == nil {
		cfg.Now = clock.Now
	}
	if cfg.RateLimit == 0 {
		cfg.RateLimit = -1
	}
	srv := New(cfg)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &env{t: t, srv: srv, ts: ts, clock: clock}
}

// clearDiary empties the diary so a test can expect exact slots.
func (e *env) clearDiary() {
	e.srv.mu.Lock()
	defer e.srv.mu.Unlock()
	e.srv.appointments = nil
}

// claims returns the eight claims of a correct token for method and rawURL.
func (e *env) claims(method, rawURL string) jwt.MapClaims {
	now := e.clock.Now().Unix()
	return jwt.MapClaims{
		"iss": "https://portal.example-clinic.com.au", "aud": "https://coreplus.com.au",
		"nbf": now, "exp": now + 60,
		"consumerId": DemoConsumerID, "accessToken": DemoAccessToken,
		"url": rawURL, "httpMethod": method,
	}
}

func signHS256(t *testing.T, claims jwt.MapClaims, secret string) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// url builds the request URL under v2.1.
func (e *env) url(path string, q url.Values) string {
	u := e.ts.URL + "/API/Core/v2.1/" + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// newRequest builds a correctly signed request.
func (e *env) newRequest(method, rawURL string, body any) *http.Request {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, rawURL, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "JwToken "+signHS256(e.t, e.claims(method, rawURL), DemoConsumerSecret))
	return req
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (e *env) send(req *http.Request) response {
	e.t.Helper()
	resp, err := e.ts.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

func (e *env) get(path string, q url.Values) response {
	e.t.Helper()
	return e.send(e.newRequest(http.MethodGet, e.url(path, q), nil))
}

func (e *env) post(path string, body any) response {
	e.t.Helper()
	return e.send(e.newRequest(http.MethodPost, e.url(path, nil), body))
}

// decode unmarshals the body, failing the test on a non-200 status.
func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d, body %s", r.status, r.body)
	}
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// reasons returns the reasons of a {"result":[...]} body.
func (r response) reasons() []string {
	var body struct {
		Result []struct {
			Severity int    `json:"severity"`
			Reason   string `json:"reason"`
		} `json:"result"`
	}
	_ = json.Unmarshal(r.body, &body)
	var out []string
	for _, x := range body.Result {
		out = append(out, x.Reason)
	}
	return out
}

func (r response) hasReason(sub string) bool {
	for _, x := range r.reasons() {
		if strings.Contains(x, sub) {
			return true
		}
	}
	return false
}

type slotWire struct {
	StartDateTime  string `json:"startDateTime"`
	EndDateTime    string `json:"endDateTime"`
	LocationID     string `json:"locationId"`
	PractitionerID string `json:"practitionerId"`
}

type pagingWire struct {
	TotalRows  int `json:"totalRows"`
	PageNumber int `json:"pageNumber"`
	PageSize   int `json:"pageSize"`
}

// slots asks for availability with pageSize 100 and returns every page.
func (e *env) slots(q url.Values) []slotWire {
	e.t.Helper()
	var all []slotWire
	for page := 1; ; page++ {
		q.Set("pageSize", "100")
		q.Set("pageNumber", itoa(page))
		var body struct {
			Timeslots      []slotWire `json:"timeslots"`
			Paging         pagingWire `json:"paging"`
			StatusMessages []any      `json:"statusMessages"`
		}
		e.get("AvailabilitySlot/", q).decode(e.t, &body)
		if body.StatusMessages == nil {
			e.t.Fatal("statusMessages missing")
		}
		all = append(all, body.Timeslots...)
		if page*100 >= body.Paging.TotalRows {
			return all
		}
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func parseSlotTime(t *testing.T, v string) time.Time {
	t.Helper()
	tm, err := time.Parse(slotLayout, v)
	if err != nil {
		t.Fatalf("slot time %q: %v", v, err)
	}
	return tm
}

type appointmentWire struct {
	AppointmentID              string `json:"appointmentId"`
	AppointmentReferenceNumber string `json:"appointmentReferenceNumber"`
	Status                     string `json:"status"`
	Practitioner               struct {
		PractitionerID string `json:"practitionerId"`
		FirstName      string `json:"firstName"`
		LastName       string `json:"lastName"`
	} `json:"practitioner"`
	Subject           string `json:"subject"`
	Notes             string `json:"notes"`
	LocationID        string `json:"locationId"`
	AppointmentTypeID string `json:"appointmentTypeId"`
	StartDateTime     string `json:"startDateTime"`
	EndDateTime       string `json:"endDateTime"`
	Clients           []struct {
		ClientID string `json:"clientId"`
	} `json:"clients"`
}

// booking is a valid POST Appointment body for the given time.
func booking(prac, loc, typ, client string, start time.Time, minutes int) map[string]any {
	body := map[string]any{
		"startDateTime": start.Format(time.RFC3339),
		"endDateTime":   start.Add(time.Duration(minutes) * time.Minute).Format(time.RFC3339),
		"practitioner":  map[string]any{"practitionerId": prac},
		"locationId":    loc,
		"clients":       []map[string]any{{"clientId": client}},
	}
	if typ != "" {
		body["appointmentTypeId"] = typ
	}
	return body
}

func copyBody(dst io.Writer, resp *http.Response) (int64, error) { return io.Copy(dst, resp.Body) }

func jsonOK(b []byte, v any) bool { return json.Unmarshal(b, v) == nil }
