package web

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/internal/booking/bookingstore"
	"github.com/clinic-booking/portal/internal/coreplus"
	"github.com/clinic-booking/portal/internal/store"
)

// FuzzDraftToken: the signed draft id every form and confirmation link
// carries. Only a token sign made verifies, and nothing panics.
func FuzzDraftToken(f *testing.F) {
	s := newDraftSigner(bytes.Repeat([]byte{7}, 32))
	f.Add(s.sign("0123456789abcdef0123456789abcdef"))
	f.Add("0123456789abcdef0123456789abcdef.")
	f.Add(".")
	f.Add(strings.Repeat("a", 65) + ".x")
	f.Fuzz(func(t *testing.T, token string) {
		id, ok := s.verify(token)
		if ok && token != s.sign(id) {
			t.Fatalf("%q verified as %q, which signs as %q", token, id, s.sign(id))
		}
	})
}

// offlineAPI is a coreplus with reference data and an empty diary that
// refuses every write, so the forms can be fuzzed fast and offline.
type offlineAPI struct{}

var errOffline = &coreplus.Error{Kind: coreplus.ErrUnavailable, Op: "POST /x/"}

func (offlineAPI) ListLocations(context.Context) ([]coreplus.Location, error) {
	return []coreplus.Location{{ID: "syd", Name: "Sydney", TimeZoneName: "Australia/Sydney", TimezoneID: "tz-syd"}}, nil
}
func (offlineAPI) ListPractitioners(context.Context) ([]coreplus.Practitioner, error) {
	return []coreplus.Practitioner{{ID: "tom", FirstName: "Tom"}}, nil
}
func (offlineAPI) ListAppointmentTypes(context.Context) ([]coreplus.AppointmentType, error) {
	return []coreplus.AppointmentType{{ID: "std", Description: "Standard", DurationMinutes: 30}}, nil
}
func (offlineAPI) FindAvailability(context.Context, coreplus.SlotQuery) ([]coreplus.Slot, error) {
	return nil, nil
}
func (offlineAPI) SearchClients(context.Context, coreplus.ClientSearch) ([]coreplus.Client, error) {
	return nil, errOffline
}
func (offlineAPI) GetClient(context.Context, string) (coreplus.Client, error) {
	return coreplus.Client{}, errOffline
}
func (offlineAPI) CreateClient(context.Context, coreplus.NewClient) (string, error) {
	return "", errOffline
}
func (offlineAPI) CreateAppointment(context.Context, coreplus.NewAppointment) (coreplus.Appointment, error) {
	return coreplus.Appointment{}, errOffline
}
func (offlineAPI) GetAppointment(context.Context, string) (coreplus.Appointment, error) {
	return coreplus.Appointment{}, errOffline
}
func (offlineAPI) UpdateAppointment(context.Context, string, coreplus.AppointmentMove) (coreplus.Appointment, error) {
	return coreplus.Appointment{}, errOffline
}
func (offlineAPI) CancelAppointment(context.Context, string) error { return errOffline }
func (offlineAPI) ListAppointments(context.Context, coreplus.AppointmentQuery) ([]coreplus.Appointment, error) {
	return nil, errOffline
}

// checkedStore is a booking store that notes any patient text it is asked
// to keep that is not valid UTF-8 in NFC, or holds U+FFFD, a control or a
// format character (a note may keep tabs and line ends).
type checkedStore struct {
	booking.Store
	mu  sync.Mutex
	bad []string
}

func (s *checkedStore) check(names, email, mobile, note string, more ...string) {
	for _, v := range append([]string{names}, more...) {
		s.note(v, "\u200c\u200d") // joiners are spelling in a name
	}
	s.note(email, "")
	s.note(mobile, "")
	s.note(note, "\t\n\u200c\u200d")
}

func (s *checkedStore) note(v, keep string) {
	ok := utf8.ValidString(v) && norm.NFC.IsNormalString(v) && !strings.ContainsFunc(v, func(r rune) bool {
		return r == utf8.RuneError || (unicode.In(r, unicode.Cf, unicode.Cc) && !strings.ContainsRune(keep, r))
	})
	if !ok {
		s.mu.Lock()
		s.bad = append(s.bad, fmt.Sprintf("%+q", v))
		s.mu.Unlock()
	}
}

func (s *checkedStore) takeBad() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	bad := s.bad
	s.bad = nil
	return bad
}

func (s *checkedStore) CreateDraft(ctx context.Context, d booking.Draft) error {
	s.check(d.Details.FirstName, d.Details.Email, d.Details.Mobile, d.Details.Note, d.Details.LastName)
	return s.Store.CreateDraft(ctx, d)
}

func (s *checkedStore) UpdateDraft(ctx context.Context, d booking.Draft) error {
	s.check(d.Details.FirstName, d.Details.Email, d.Details.Mobile, d.Details.Note, d.Details.LastName)
	return s.Store.UpdateDraft(ctx, d)
}

func (s *checkedStore) CreateRequest(ctx context.Context, r booking.Request, due ...booking.Message) error {
	s.check(r.FirstName, r.Email, r.Mobile, r.Note, r.LastName)
	return s.Store.CreateRequest(ctx, r, due...)
}

// FuzzFormPosts sends arbitrary bodies to every form the portal accepts
// (details, confirm, booking request) through the real router, in process:
// no panic, no 5xx other than the 503 of a coreplus that is down, and no
// unreadable text kept (see checkedStore).
func FuzzFormPosts(f *testing.F) {
	db, err := store.Open(context.Background(), "sqlite:"+filepath.Join(f.TempDir(), "fuzz.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	now := time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)
	kept := &checkedStore{Store: bookingstore.New(db)}
	svc := booking.NewService(booking.Clinic{Slug: "demo", Name: "Demo"}, offlineAPI{}, kept, func() time.Time { return now })
	srv, err := New(Config{Clinics: ServiceDirectory(booking.NewDirectory(svc)), Logger: slog.New(slog.DiscardHandler),
		SecretKey: bytes.Repeat([]byte{7}, 32), Limits: Limits{DraftsPerMinute: -1, ConfirmsPerMinute: -1, RequestsPerMinute: -1, RejectsPerMinute: -1}})
	if err != nil {
		f.Fatal(err)
	}
	token := srv.signer.sign("0123456789abcdef0123456789abcdef")
	choices := "location=syd&type=std&practitioner=tom&slot=2026-12-01T09%3A00%3A00%2B11%3A00&with=tom"
	f.Add(uint8(0), choices+"&first_name=Jo&last_name=Citizen&dob_day=1&dob_month=2&dob_year=1950&email=jo%40example.com&mobile=0412345678&consent=yes")
	f.Add(uint8(1), choices+"&draft="+url.QueryEscape(token))
	f.Add(uint8(2), "first_name=Jo&last_name=C&email=jo%40example.com&days=mon&days=sun&times=evening&location=syd")
	f.Add(uint8(2), "website=x&first_name=%ff")
	f.Add(uint8(1), "slot=%zz&draft=..")
	f.Add(uint8(2), "first_name=%FF%FEZed&last_name=Quill%C2%AD&email=zed%E2%80%8B%40example.com&note=knee%1B")
	f.Add(uint8(2), "first_name=Jose%CC%81&last_name=Nguye%CC%82%CC%83n&mobile=0412345678&note=a%0D%0A%09b")
	f.Add(uint8(2), "first_name=Zo%C3%AB&last_name=O%E2%80%99Brien&mobile=%E2%80%AA%2B61+412+345+678%E2%80%AC")
	paths := []string{"/demo/book/details", "/demo/book/confirm", "/demo/request"}
	f.Fuzz(func(t *testing.T, which uint8, body string) {
		req := httptest.NewRequest(http.MethodPost, paths[int(which)%len(paths)], strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code >= 500 && rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("POST %s %q: status %d", req.URL.Path, body, rec.Code)
		}
		if bad := kept.takeBad(); len(bad) > 0 {
			t.Fatalf("POST %s %q kept unreadable text %v", req.URL.Path, body, bad)
		}
	})
}
