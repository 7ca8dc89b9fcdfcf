package coreplus

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

const (
	testConsumerID  = "portal-test"
	testSecret      = "s3cr3t-Consumer-Secret/+=="
	testAccessToken = "0b8f3c1e-7d2a-4e6b-9f15-3a6c8e2d4b70"
)

var brisbane = time.FixedZone("AEST", 10*3600)

// newTestAPI starts h on a test server and returns a client for it.
func newTestAPI(t *testing.T, h http.HandlerFunc, tweak ...func(*Config)) (*API, *httptest.Server) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	cfg := Config{
		BaseURL:        srv.URL + "/API/Core/v2.1/",
		ConsumerID:     testConsumerID,
		ConsumerSecret: testSecret,
		AccessToken:    testAccessToken,
		Timeout:        5 * time.Second,
	}
	for _, f := range tweak {
		f(&cfg)
	}
	api, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return api, srv
}

// seen is one request as the fake server received it.
type seen struct {
	method, path string
	query        url.Values
	auth, ctype  string
	body         string
}

func record(r *http.Request) seen {
	b, _ := io.ReadAll(r.Body)
	return seen{
		method: r.Method, path: r.URL.Path, query: r.URL.Query(),
		auth: r.Header.Get("Authorization"), ctype: r.Header.Get("Content-Type"),
		body: string(b),
	}
}

func jsonEqual(t *testing.T, got, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("body %q is not JSON: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want %q is not JSON: %v", want, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("body\n got %s\nwant %s", got, want)
	}
}

func TestCalls(t *testing.T) {
	dob := Date{1988, time.November, 20}
	tests := []struct {
		name string
		// reply answers request n (0-based) of the call.
		reply func(n int, r *http.Request) (int, string)
		run   func(ctx context.Context, a *API) (any, error)
		want  []seen // method, path, query and body of each request
		check func(t *testing.T, got any)
	}{
		{
			name: "ListLocations",
			reply: func(int, *http.Request) (int, string) {
				return 200, `{"locations":[{"locationId":"L1","name":"Northside","timeZone":{"tzName":"Australia\\Brisbane","timezoneId":"TZ1"},
					"address":{"streetAddress":"4 Wattle Lane","suburb":"Ashgrove","state":"QLD","postcode":"4060"},"phone":"07 3000 0000"}],
					"paging":{"totalRows":1,"pageNumber":1,"pageSize":100},"statusMessages":[]}`
			},
			run: func(ctx context.Context, a *API) (any, error) { return a.ListLocations(ctx) },
			want: []seen{{method: "GET", path: "/API/Core/v2.1/Location/",
				query: url.Values{"pageNumber": {"1"}, "pageSize": {"100"}}}},
			check: func(t *testing.T, got any) {
				want := []Location{{ID: "L1", Name: "Northside", TimeZoneName: "Australia/Brisbane", TimezoneID: "TZ1",
					Address: "4 Wattle Lane, Ashgrove, QLD 4060", Phone: "07 3000 0000"}}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("got %+v, want %+v", got, want)
				}
			},
		},
		{
			name: "ListPractitioners without paging reads one page",
			reply: func(int, *http.Request) (int, string) {
				return 200, `{"practitioners":[{"practitionerId":"P1","firstName":"Priya","lastName":"Nandakumar","unknown":{"x":1}}]}`
			},
			run: func(ctx context.Context, a *API) (any, error) { return a.ListPractitioners(ctx) },
			want: []seen{{method: "GET", path: "/API/Core/v2.1/Practitioner/",
				query: url.Values{"pageNumber": {"1"}, "pageSize": {"100"}}}},
			check: func(t *testing.T, got any) {
				want := []Practitioner{{ID: "P1", FirstName: "Priya", LastName: "Nandakumar"}}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("got %+v, want %+v", got, want)
				}
			},
		},
		{
			name: "ListAppointmentTypes with loose durations",
			reply: func(int, *http.Request) (int, string) {
				return 200, `{"AppointmentTypes":[{"appointmentTypeId":"T1","description":"Initial","durationMinutes":"45"},
					{"appointmentTypeId":"T2","description":"Review","durationMinutes":15.0},
					{"appointmentTypeId":"T3","description":"Other","durationMinutes":null}]}`
			},
			run: func(ctx context.Context, a *API) (any, error) { return a.ListAppointmentTypes(ctx) },
			want: []seen{{method: "GET", path: "/API/Core/v2.1/AppointmentType/",
				query: url.Values{"pageNumber": {"1"}, "pageSize": {"100"}}}},
			check: func(t *testing.T, got any) {
				want := []AppointmentType{{"T1", "Initial", 45}, {"T2", "Review", 15}, {"T3", "Other", 0}}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("got %+v, want %+v", got, want)
				}
			},
		},
		{
			name: "FindAvailability reads every page",
			reply: func(n int, r *http.Request) (int, string) {
				if n == 0 {
					return 200, `{"timeslots":[{"startDateTime":"2025-03-04T09:00:00+10:00","endDateTime":"2025-03-04T09:45:00+10:00","locationId":"L1","practitionerId":"P1"}],
						"paging":{"totalRows":"150","pageNumber":1,"pageSize":100}}`
				}
				return 200, `{"timeslots":[{"startDateTime":"2025-03-05T09:00:00 +1000","endDateTime":"2025-03-05T09:45:00 +10:00","locationId":"L1","practitioner":{"practitionerId":"P2"}}],
					"paging":{"totalRows":150,"pageNumber":2,"pageSize":100}}`
			},
			run: func(ctx context.Context, a *API) (any, error) {
				return a.FindAvailability(ctx, SlotQuery{StartDate: "2025-03-04", EndDate: "2025-03-10", TimezoneID: "TZ 1&2",
					PractitionerIDs: []string{"P1", "P2"}, LocationIDs: []string{"L1"}, AppointmentTypeID: "T1"})
			},
			want: []seen{
				{method: "GET", path: "/API/Core/v2.1/AvailabilitySlot/", query: url.Values{
					"startDate": {"2025-03-04"}, "endDate": {"2025-03-10"}, "timezoneId": {"TZ 1&2"},
					"practitionerId": {"P1", "P2"}, "locationId": {"L1"}, "appointmentTypeId": {"T1"},
					"pageNumber": {"1"}, "pageSize": {"100"}}},
				{method: "GET", path: "/API/Core/v2.1/AvailabilitySlot/", query: url.Values{
					"startDate": {"2025-03-04"}, "endDate": {"2025-03-10"}, "timezoneId": {"TZ 1&2"},
					"practitionerId": {"P1", "P2"}, "locationId": {"L1"}, "appointmentTypeId": {"T1"},
					"pageNumber": {"2"}, "pageSize": {"100"}}},
			},
			check: func(t *testing.T, got any) {
				slots := got.([]Slot)
				if len(slots) != 2 {
					t.Fatalf("got %d slots, want 2", len(slots))
				}
				want0 := time.Date(2025, 3, 4, 9, 0, 0, 0, brisbane)
				if !slots[0].Start.Equal(want0) || slots[0].End.Sub(slots[0].Start) != 45*time.Minute {
					t.Errorf("slot 0 = %v..%v", slots[0].Start, slots[0].End)
				}
				if _, off := slots[1].Start.Zone(); off != 10*3600 {
					t.Errorf("slot 1 offset %d, want +10:00", off)
				}
				if slots[0].PractitionerID != "P1" || slots[1].PractitionerID != "P2" || slots[1].LocationID != "L1" {
					t.Errorf("ids: %+v", slots)
				}
			},
		},
		{
			name: "SearchClients sends filters and reads every page",
			reply: func(n int, r *http.Request) (int, string) {
				if n == 0 {
					return 200, `{"clients":[{"clientId":"C1","firstName":"Joanna","lastName":"Varga","dateOfBirth":"1988-11-20T00:00:00","gender":"Female"}],
						"paging":{"totalRows":2,"pageNumber":1,"pageSize":1}}`
				}
				return 200, `{"clients":[{"clientId":"C2","firstName":"Jo","lastName":"Varga","dateOfBirth":null}],
					"paging":{"totalRows":2,"pageNumber":2,"pageSize":1}}`
			},
			run: func(ctx context.Context, a *API) (any, error) {
				return a.SearchClients(ctx, ClientSearch{Name: "Jo Varga", DateOfBirth: &dob, Mobile: "0412 000 111"})
			},
			want: []seen{
				{method: "GET", path: "/API/Core/v2.1/Client/", query: url.Values{"name": {"Jo Varga"}, "dateOfBirth": {"1988-11-20"},
					"mobile": {"0412 000 111"}, "pageNumber": {"1"}, "pageSize": {"100"}}},
				{method: "GET", path: "/API/Core/v2.1/Client/", query: url.Values{"name": {"Jo Varga"}, "dateOfBirth": {"1988-11-20"},
					"mobile": {"0412 000 111"}, "pageNumber": {"2"}, "pageSize": {"100"}}},
			},
			check: func(t *testing.T, got any) {
				cs := got.([]Client)
				if len(cs) != 2 || cs[0].ID != "C1" || cs[1].ID != "C2" {
					t.Fatalf("got %+v", cs)
				}
				if cs[0].DateOfBirth == nil || *cs[0].DateOfBirth != dob || cs[1].DateOfBirth != nil {
					t.Errorf("dates of birth: %v, %v", cs[0].DateOfBirth, cs[1].DateOfBirth)
				}
			},
		},
		{
			name: "GetClient top-level record",
			reply: func(int, *http.Request) (int, string) {
				return 200, `{"clientId":"C1","firstName":"Joanna","lastName":"Varga","dateOfBirth":"1988-11-20T00:00:00",
					"phoneNumberMobile":"0412000111","email":"jo@example.com","addressResidential":{"suburb":"Paddington QLD"}}`
			},
			run:  func(ctx context.Context, a *API) (any, error) { return a.GetClient(ctx, "C1/x y") },
			want: []seen{{method: "GET", path: "/API/Core/v2.1/Client/C1/x y", query: url.Values{}}},
			check: func(t *testing.T, got any) {
				c := got.(Client)
				if c.ID != "C1" || c.Mobile != "0412000111" || c.Email != "jo@example.com" || c.DateOfBirth == nil {
					t.Errorf("got %+v", c)
				}
			},
		},
		{
			name: "GetClient wrapped record",
			reply: func(int, *http.Request) (int, string) {
				return 200, `{"client":{"ClientId":"C1","FirstName":"Joanna","PhoneNumberMobile":"0412000111","Email":"jo@example.com"}}`
			},
			run:  func(ctx context.Context, a *API) (any, error) { return a.GetClient(ctx, "C1") },
			want: []seen{{method: "GET", path: "/API/Core/v2.1/Client/C1", query: url.Values{}}},
			check: func(t *testing.T, got any) {
				c := got.(Client)
				if c.ID != "C1" || c.FirstName != "Joanna" || c.Mobile != "0412000111" || c.Email != "jo@example.com" {
					t.Errorf("got %+v", c)
				}
			},
		},
		{
			name:  "CreateClient",
			reply: func(int, *http.Request) (int, string) { return 200, `{"client":{"clientId":"C9"}}` },
			run: func(ctx context.Context, a *API) (any, error) {
				return a.CreateClient(ctx, NewClient{FirstName: "Joanna", LastName: "Varga", DateOfBirth: dob,
					Email: "jo@example.com", Mobile: "0412000111", ExternalID: "draft-1", Notes: "Booked online"})
			},
			want: []seen{{method: "POST", path: "/API/Core/v2.1/Client/", query: url.Values{},
				body: `{"firstName":"Joanna","lastName":"Varga","dateOfBirth":"1988-11-20","email":"jo@example.com",
					"phoneNumberMobile":"0412000111","ExternalId":"draft-1","notes1":"Booked online"}`}},
			check: func(t *testing.T, got any) {
				if got != "C9" {
					t.Errorf("got %v, want C9", got)
				}
			},
		},
		{
			name: "CreateAppointment",
			reply: func(int, *http.Request) (int, string) {
				return 200, `{"appointment":{"appointmentId":"A1","appointmentReferenceNumber":7712093,"status":"Booked",
					"practitioner":{"practitionerId":"P1"},"locationId":"L1","appointmentTypeId":"T1",
					"startDateTime":"2025-03-04T09:00:00 +10:00","endDateTime":"2025-03-04T09:45:00 +10:00",
					"clients":[{"clientId":"C1"}],"notifyPractitioner":"false"}}`
			},
			run: func(ctx context.Context, a *API) (any, error) {
				start := time.Date(2025, 3, 4, 9, 0, 0, 0, brisbane)
				return a.CreateAppointment(ctx, NewAppointment{Start: start, End: start.Add(45 * time.Minute),
					PractitionerID: "P1", LocationID: "L1", AppointmentTypeID: "T1", ClientID: "C1",
					Notes: "Booked via online portal", EmailReminder: true, SMSReminder: true})
			},
			want: []seen{{method: "POST", path: "/API/Core/v2.1/Appointment/", query: url.Values{},
				body: `{"startDateTime":"2025-03-04T09:00:00+10:00","endDateTime":"2025-03-04T09:45:00+10:00",
					"practitioner":{"practitionerId":"P1"},"locationId":"L1","appointmentTypeId":"T1",
					"clients":[{"clientId":"C1"}],"notes":"Booked via online portal",
					"isEmailReminderRequired":true,"isSmsReminderRequired":true,"notifyPractitioner":false}`}},
			check: func(t *testing.T, got any) {
				a := got.(Appointment)
				start := time.Date(2025, 3, 4, 9, 0, 0, 0, brisbane)
				if a.ID != "A1" || a.ReferenceNumber != "7712093" || a.PractitionerID != "P1" || !a.Start.Equal(start) ||
					!a.End.Equal(start.Add(45*time.Minute)) || !reflect.DeepEqual(a.ClientIDs, []string{"C1"}) || a.Cancelled {
					t.Errorf("got %+v", a)
				}
			},
		},
		{
			name: "GetAppointment",
			reply: func(int, *http.Request) (int, string) {
				return 200, `{"appointment":{"appointmentId":"A1","status":"Cancelled","practitioner":{"practitionerId":"P1"},
					"startDateTime":"2025-03-04T09:00:00 +10:00","endDateTime":"2025-03-04T09:45:00 +10:00","clients":[{"clientId":"C1"}]}}`
			},
			run:  func(ctx context.Context, a *API) (any, error) { return a.GetAppointment(ctx, "A1") },
			want: []seen{{method: "GET", path: "/API/Core/v2.1/Appointment/A1", query: url.Values{}}},
			check: func(t *testing.T, got any) {
				a := got.(Appointment)
				if a.ID != "A1" || !a.Cancelled || a.Status != "Cancelled" {
					t.Errorf("got %+v", a)
				}
			},
		},
		{
			name: "ListAppointments filters by client on our side",
			reply: func(int, *http.Request) (int, string) {
				return 200, `{"appointments":[
					{"appointmentId":"A1","clients":[{"clientId":"C1"}],"startDateTime":"2025-03-04T09:00:00 +10:00","endDateTime":"2025-03-04T09:45:00 +10:00"},
					{"appointmentId":"A2","clients":[{"clientId":"C2"}],"startDateTime":"2025-03-04T10:00:00 +10:00","endDateTime":"2025-03-04T10:45:00 +10:00"}],
					"paging":{"totalRows":2,"pageNumber":1,"pageSize":100}}`
			},
			run: func(ctx context.Context, a *API) (any, error) {
				return a.ListAppointments(ctx, AppointmentQuery{StartDate: "2025-03-01", EndDate: "2025-03-31", TimezoneID: "TZ1", ClientID: "c1"})
			},
			want: []seen{{method: "GET", path: "/API/Core/v2.1/Appointment/", query: url.Values{"startDate": {"2025-03-01"},
				"endDate": {"2025-03-31"}, "timezoneId": {"TZ1"}, "clientId": {"c1"}, "pageNumber": {"1"}, "pageSize": {"100"}}}},
			check: func(t *testing.T, got any) {
				as := got.([]Appointment)
				if len(as) != 1 || as[0].ID != "A1" {
					t.Errorf("got %+v", as)
				}
			},
		},
		{
			name: "UpdateAppointment moves in place",
			reply: func(int, *http.Request) (int, string) {
				return 200, `{"appointment":{"appointmentId":"A1","status":"Booked","practitioner":{"practitionerId":"P2"},
					"startDateTime":"2025-03-05T11:00:00 +10:00","endDateTime":"2025-03-05T11:45:00 +10:00","clients":[{"clientId":"C1"}]}}`
			},
			run: func(ctx context.Context, a *API) (any, error) {
				start := time.Date(2025, 3, 5, 11, 0, 0, 0, time.FixedZone("", 10*3600))
				return a.UpdateAppointment(ctx, "A1", AppointmentMove{Start: start, End: start.Add(45 * time.Minute), PractitionerID: "P2", Notes: "Moved by patient"})
			},
			want: []seen{{method: "POST", path: "/API/Core/v2.1/Appointment/A1", query: url.Values{},
				body: `{"startDateTime":"2025-03-05T11:00:00+10:00","endDateTime":"2025-03-05T11:45:00+10:00","practitioner":{"practitionerId":"P2"},"notes":"Moved by patient","notifyPractitioner":false}`}},
			check: func(t *testing.T, got any) {
				a := got.(Appointment)
				if a.ID != "A1" || a.PractitionerID != "P2" || a.Start.Hour() != 11 || a.Cancelled {
					t.Errorf("got %+v", a)
				}
			},
		},
		{
			name:  "CancelAppointment",
			reply: func(int, *http.Request) (int, string) { return 200, `{}` },
			run:   func(ctx context.Context, a *API) (any, error) { return nil, a.CancelAppointment(ctx, "A1") },
			want: []seen{{method: "POST", path: "/API/Core/v2.1/Appointment/A1", query: url.Values{},
				body: `{"deleted":true}`}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var got []seen
			api, _ := newTestAPI(t, func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				n := len(got)
				got = append(got, record(r))
				mu.Unlock()
				status, body := tt.reply(n, r)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(status)
				io.WriteString(w, body)
			})
			res, err := tt.run(context.Background(), api)
			if err != nil {
				t.Fatalf("error: %v", err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("server saw %d requests, want %d", len(got), len(tt.want))
			}
			for i, w := range tt.want {
				g := got[i]
				if g.method != w.method || g.path != w.path {
					t.Errorf("request %d: %s %s, want %s %s", i, g.method, g.path, w.method, w.path)
				}
				if !reflect.DeepEqual(g.query, w.query) {
					t.Errorf("request %d query %v, want %v", i, g.query, w.query)
				}
				if !strings.HasPrefix(g.auth, "JwToken ") || strings.Count(g.auth, " ") != 1 || len(g.auth) < 20 {
					t.Errorf("request %d Authorization %q, want \"JwToken <token>\"", i, g.auth)
				}
				if g.ctype != "application/json" {
					t.Errorf("request %d Content-Type %q", i, g.ctype)
				}
				if w.body == "" {
					if g.body != "" {
						t.Errorf("request %d has body %q, want none", i, g.body)
					}
				} else {
					jsonEqual(t, g.body, w.body)
				}
			}
			if tt.check != nil {
				tt.check(t, res)
			}
		})
	}
}

// assertClean fails if err's text carries a credential or anything from the
// request that identifies a patient.
func assertClean(t *testing.T, err error, private ...string) {
	t.Helper()
	msg := err.Error()
	for _, s := range append([]string{testSecret, testAccessToken, "eyJ"}, private...) {
		if s != "" && strings.Contains(msg, s) {
			t.Errorf("error %q contains %q", msg, s)
		}
	}
}

func TestErrors(t *testing.T) {
	dob := Date{1988, time.November, 20}
	search := func(ctx context.Context, a *API) error {
		_, err := a.SearchClients(ctx, ClientSearch{Name: "Joanna Varga", DateOfBirth: &dob, Mobile: "0412000111"})
		return err
	}
	book := func(ctx context.Context, a *API) error {
		start := time.Date(2025, 3, 4, 9, 0, 0, 0, brisbane)
		_, err := a.CreateAppointment(ctx, NewAppointment{Start: start, End: start.Add(time.Hour),
			PractitionerID: "P1", LocationID: "L1", ClientID: "C1", Notes: "Knee pain since Tuesday"})
		return err
	}
	newClient := func(ctx context.Context, a *API) error {
		_, err := a.CreateClient(ctx, NewClient{FirstName: "Joanna", LastName: "Varga", DateOfBirth: dob, Mobile: "0412000111"})
		return err
	}
	private := []string{"Joanna", "Varga", "1988-11-20", "0412000111", "Knee pain", "name=", "mobile", "?"}

	tests := []struct {
		name    string
		handler http.HandlerFunc
		timeout time.Duration
		run     func(context.Context, *API) error
		kind    error
		status  int
		sent    bool
		check   func(t *testing.T, e *Error)
	}{
		{
			name: "401 invalid token",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(401)
				io.WriteString(w, `{"result":[{"severity":2,"reason":"Invalid token: accessToken `+testAccessToken+` not recognised"}]}`)
			},
			run: search, kind: ErrInvalidCredentials, status: 401,
			check: func(t *testing.T, e *Error) {
				if !strings.HasPrefix(e.Reason, "Invalid token") {
					t.Errorf("reason %q", e.Reason)
				}
			},
		},
		{
			name: "403",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(403)
			},
			run: search, kind: ErrInvalidCredentials, status: 403,
		},
		{
			name: "invalid token with status 400 and plain text",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(400)
				io.WriteString(w, "Invalid token")
			},
			run: search, kind: ErrInvalidCredentials, status: 400,
		},
		{
			name: "429 with Retry-After seconds",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", "2")
				w.WriteHeader(429)
			},
			run: search, kind: ErrRateLimited, status: 429,
			check: func(t *testing.T, e *Error) {
				if e.RetryAfter != 2*time.Second {
					t.Errorf("RetryAfter %v, want 2s", e.RetryAfter)
				}
			},
		},
		{
			name: "429 with Retry-After date",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", time.Now().Add(90*time.Second).UTC().Format(http.TimeFormat))
				w.WriteHeader(429)
			},
			run: search, kind: ErrRateLimited, status: 429,
			check: func(t *testing.T, e *Error) {
				if e.RetryAfter < 80*time.Second || e.RetryAfter > 91*time.Second {
					t.Errorf("RetryAfter %v, want about 90s", e.RetryAfter)
				}
			},
		},
		{
			name: "404",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(404)
				io.WriteString(w, `{"Message":"No HTTP resource was found that matches the request URI '`+r.URL.String()+`'."}`)
			},
			run: search, kind: ErrNotFound, status: 404,
		},
		{
			name: "not found with 200 on a GET",
			handler: func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, `{"result":[{"severity":2,"reason":"Client not found"}]}`)
			},
			run:  func(ctx context.Context, a *API) error { _, err := a.GetClient(ctx, "C1"); return err },
			kind: ErrNotFound, status: 200,
		},
		{
			name: "500 on a GET",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(500)
				io.WriteString(w, "<html><body>Server Error</body></html>")
			},
			run: search, kind: ErrUnavailable, status: 500,
		},
		{
			name: "503 on a POST is an unknown outcome",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(503)
			},
			run: book, kind: ErrUnavailable, status: 503, sent: true,
		},
		{
			name: "conflict with 200",
			handler: func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, `{"result":[{"severity":2,"reason":"The selected time is not available for booking an appointment"}]}`)
			},
			run: book, kind: ErrSlotUnavailable, status: 200,
			check: func(t *testing.T, e *Error) {
				if !strings.Contains(e.Reason, "not available") {
					t.Errorf("reason %q", e.Reason)
				}
			},
		},
		{
			name: "conflict with 400",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(400)
				io.WriteString(w, `{"result":{"severity":"2","reason":"The selected time is not available for booking an appointment"}}`)
			},
			run: book, kind: ErrSlotUnavailable, status: 400,
		},
		{
			name: "validation failure echoing the body",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(400)
				io.WriteString(w, `{"result":[{"severity":2,"reason":"phoneNumberMobile '0412000111' for Joanna Varga is invalid"}]}`)
			},
			run: newClient, kind: ErrRejected, status: 400,
			check: func(t *testing.T, e *Error) {
				if !strings.Contains(e.Reason, "phoneNumberMobile") {
					t.Errorf("reason %q lost the field name", e.Reason)
				}
			},
		},
		{
			name: "malformed JSON with 200",
			handler: func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, `{"clients":[{"clientId":"C1","firstName":`)
			},
			run: search, kind: ErrUnavailable, status: 200,
		},
		{
			name: "booking answer with neither appointment nor result",
			handler: func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, `{}`)
			},
			run: book, kind: ErrUnavailable, status: 200, sent: true,
		},
		{
			name: "dropped connection on a POST",
			handler: func(w http.ResponseWriter, r *http.Request) {
				io.ReadAll(r.Body)
				conn, _, err := w.(http.Hijacker).Hijack()
				if err != nil {
					panic(err)
				}
				conn.Close()
			},
			run: book, kind: ErrUnavailable, sent: true,
		},
		{
			name: "dropped connection on a GET",
			handler: func(w http.ResponseWriter, r *http.Request) {
				conn, _, _ := w.(http.Hijacker).Hijack()
				conn.Close()
			},
			run: search, kind: ErrUnavailable,
		},
		{
			name: "timeout",
			handler: func(w http.ResponseWriter, r *http.Request) {
				io.ReadAll(r.Body) // the server notices a closed connection only once the body is read
				select {
				case <-r.Context().Done():
				case <-time.After(5 * time.Second):
				}
			},
			timeout: 50 * time.Millisecond,
			run:     book, kind: ErrUnavailable, sent: true,
			check: func(t *testing.T, e *Error) {
				if !errors.Is(e, context.DeadlineExceeded) {
					t.Errorf("cause %v, want context.DeadlineExceeded", e.Cause)
				}
			},
		},
		{
			name: "redirect is not followed",
			handler: func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "https://elsewhere.invalid/?name=Joanna", http.StatusFound)
			},
			run: search, kind: ErrRejected, status: 302,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api, _ := newTestAPI(t, tt.handler, func(c *Config) {
				// Each case is about how one answer is read; retries have
				// their own tests in resilience_test.go.
				c.MaxAttempts = 1
				if tt.timeout != 0 {
					c.Timeout = tt.timeout
				}
			})
			err := tt.run(context.Background(), api)
			if !errors.Is(err, tt.kind) {
				t.Fatalf("error %v, want %v", err, tt.kind)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not *Error", err)
			}
			if e.Status != tt.status {
				t.Errorf("Status %d, want %d", e.Status, tt.status)
			}
			if e.Sent != tt.sent {
				t.Errorf("Sent %v, want %v", e.Sent, tt.sent)
			}
			if e.Op == "" || strings.Contains(e.Op, "?") {
				t.Errorf("Op %q", e.Op)
			}
			assertClean(t, err, private...)
			if tt.check != nil {
				tt.check(t, e)
			}
		})
	}
}

func TestConnectionRefusedIsNotSent(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL + "/API/Core/v2.1/"
	srv.Close() // nothing listens there now
	api, err := New(Config{BaseURL: base, ConsumerID: testConsumerID, ConsumerSecret: testSecret, AccessToken: testAccessToken})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2025, 3, 4, 9, 0, 0, 0, brisbane)
	_, err = api.CreateAppointment(context.Background(), NewAppointment{Start: start, End: start.Add(time.Hour),
		PractitionerID: "P1", LocationID: "L1", ClientID: "C1"})
	var e *Error
	if !errors.As(err, &e) || e.Kind != ErrUnavailable || e.Sent {
		t.Fatalf("got %#v, want ErrUnavailable with Sent=false", err)
	}
	assertClean(t, err)
}

func TestCancelledContextIsNotSent(t *testing.T) {
	api, _ := newTestAPI(t, func(w http.ResponseWriter, r *http.Request) { t.Error("request reached the server") })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := api.CancelAppointment(ctx, "A1")
	var e *Error
	if !errors.As(err, &e) || e.Kind != ErrUnavailable || e.Sent || !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want ErrUnavailable, Sent=false, context.Canceled", err)
	}
}

func TestLimiterIsWaitedOn(t *testing.T) {
	var n int
	var mu sync.Mutex
	api, _ := newTestAPI(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		mu.Unlock()
		io.WriteString(w, `{"locations":[]}`)
	}, func(c *Config) {
		c.Limiter = rate.NewLimiter(rate.Every(time.Hour), 1)
		c.Timeout = 100 * time.Millisecond
	})
	if _, err := api.ListLocations(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, err := api.ListLocations(context.Background())
	if !errors.Is(err, ErrRateLimited) {
		t.Fatalf("second call: %v, want ErrRateLimited from the local budget", err)
	}
	if n != 1 {
		t.Errorf("server saw %d requests, want 1", n)
	}
}

func TestLocalValidation(t *testing.T) {
	api, _ := newTestAPI(t, func(w http.ResponseWriter, r *http.Request) { t.Error("request reached the server") })
	ctx := context.Background()
	_, err1 := api.FindAvailability(ctx, SlotQuery{StartDate: "04/03/2025", EndDate: "2025-03-10", TimezoneID: "TZ"})
	_, err2 := api.CreateClient(ctx, NewClient{FirstName: "Jo"})
	_, err3 := api.CreateAppointment(ctx, NewAppointment{})
	_, err4 := api.GetClient(ctx, "")
	_, err5 := api.ListAppointments(ctx, AppointmentQuery{StartDate: "2025-03-10", EndDate: "2025-03-01", TimezoneID: "TZ"})
	for i, err := range []error{err1, err2, err3, err5} {
		if !errors.Is(err, ErrRejected) {
			t.Errorf("case %d: %v, want ErrRejected", i+1, err)
		}
	}
	if !errors.Is(err4, ErrNotFound) {
		t.Errorf("empty id: %v, want ErrNotFound", err4)
	}
}

func TestNewValidatesConfig(t *testing.T) {
	good := Config{BaseURL: "https://sandbox.coreplus.com.au/API/Core/v2.1/", ConsumerID: "c", ConsumerSecret: testSecret, AccessToken: testAccessToken}
	tests := []struct {
		name  string
		tweak func(*Config)
		want  string // a word the message must contain
	}{
		{"no base URL", func(c *Config) { c.BaseURL = "" }, "BaseURL"},
		{"relative base URL", func(c *Config) { c.BaseURL = "/API/Core/v2.1/" }, "BaseURL"},
		{"ftp base URL", func(c *Config) { c.BaseURL = "ftp://x/API/" }, "BaseURL"},
		{"query in base URL", func(c *Config) { c.BaseURL = "https://x/API/?a=b" }, "BaseURL"},
		{"no consumer id", func(c *Config) { c.ConsumerID = "" }, "ConsumerID"},
		{"long consumer id", func(c *Config) { c.ConsumerID = strings.Repeat("x", 51) }, "ConsumerID"},
		{"no secret", func(c *Config) { c.ConsumerSecret = "" }, "ConsumerSecret"},
		{"spaced secret", func(c *Config) { c.ConsumerSecret = " " + testSecret }, "ConsumerSecret"},
		{"no access token", func(c *Config) { c.AccessToken = "" }, "AccessToken"},
		{"spaced access token", func(c *Config) { c.AccessToken = testAccessToken + "\n" }, "AccessToken"},
		{"bad issuer", func(c *Config) { c.Issuer = "portal" }, "Issuer"},
		{"bad audience", func(c *Config) { c.Audience = "coreplus" }, "Audience"},
		{"negative timeout", func(c *Config) { c.Timeout = -time.Second }, "Timeout"},
		{"negative call timeout", func(c *Config) { c.CallTimeout = -time.Second }, "CallTimeout"},
		{"negative attempts", func(c *Config) { c.MaxAttempts = -1 }, "MaxAttempts"},
		{"negative breaker open", func(c *Config) { c.BreakerOpen = -time.Second }, "BreakerOpen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good
			tt.tweak(&cfg)
			_, err := New(cfg)
			if err == nil {
				t.Fatal("New accepted the config")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not name %s", err, tt.want)
			}
			assertClean(t, err)
		})
	}
	api, err := New(good)
	if err != nil {
		t.Fatalf("good config: %v", err)
	}
	if api.timeout != DefaultTimeout {
		t.Errorf("timeout %v, want %v", api.timeout, DefaultTimeout)
	}
	if api.callTimeout != DefaultCallTimeout || api.maxAttempts != DefaultMaxAttempts || api.breaker == nil {
		t.Errorf("call timeout %v, attempts %d, breaker %v: want the defaults", api.callTimeout, api.maxAttempts, api.breaker)
	}
	if _, ok := api.limiter.(*WindowLimiter); !ok {
		t.Errorf("limiter %T, want a *WindowLimiter by default", api.limiter)
	}
	noSlash := good
	noSlash.BaseURL = "https://sandbox.coreplus.com.au/API/Core/v2.1"
	if api, err := New(noSlash); err != nil || api.base.String() != good.BaseURL {
		t.Errorf("base URL without a slash: %v %v", api, err)
	}
}

func TestNewDoesNotChangeCallersHTTPClient(t *testing.T) {
	hc := &http.Client{Timeout: time.Minute}
	_, err := New(Config{BaseURL: "https://x/API/Core/v2.1/", ConsumerID: "c", ConsumerSecret: "s", AccessToken: "t", HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	if hc.Transport != nil || hc.CheckRedirect != nil {
		t.Error("New changed the caller's http.Client")
	}
}
