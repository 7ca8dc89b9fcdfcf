package clinics

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/internal/store"
	"github.com/clinic-booking/portal/internal/store/storetest"
)

const (
	keyA = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	keyB = "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff000102030405060708090a0b0c0d0e0f"
	// token looks like a coreplus access token and appears nowhere else.
	token = "8d3f6a1e-2b7c-4e9a-b5d0-c4e1f7a29b63"
)

func mustKeys(t *testing.T, list string) *Keyring {
	t.Helper()
	k, err := ParseKeyring(list)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestKeyringSealsOpensAndRotates(t *testing.T) {
	old := mustKeys(t, keyA)
	sealed, err := old.Seal("northside", token)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, token) {
		t.Fatal("the sealed token contains the token")
	}
	again, _ := old.Seal("northside", token)
	if again == sealed {
		t.Error("sealing twice gave the same text: the nonce is not random")
	}

	// The new key first, the old one kept: old tokens open, new ones use the new key.
	rotated := mustKeys(t, keyB+", "+base64.StdEncoding.EncodeToString(mustHex(keyA)))
	if got, err := rotated.Open("northside", sealed); err != nil || got != token {
		t.Fatalf("Open with the old key second = %q, %v", got, err)
	}
	resealed, _ := rotated.Seal("northside", token)
	if id, _ := SealedKeyID(resealed); id != rotated.SealingKeyID() || id == old.SealingKeyID() {
		t.Errorf("re-sealed with key %s, want the first key %s", id, rotated.SealingKeyID())
	}

	// The wrong key: refused, never garbage.
	if _, err := mustKeys(t, keyB).Open("northside", sealed); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("Open with another key = %v, want ErrUnknownKey", err)
	}
	// The right key on another clinic's row, or a flipped bit: refused.
	if _, err := old.Open("southside", sealed); !errors.Is(err, ErrCannotOpen) {
		t.Errorf("Open for another slug = %v, want ErrCannotOpen", err)
	}
	raw := []byte(sealed)
	raw[len(raw)-3] ^= 1
	if _, err := old.Open("northside", string(raw)); !errors.Is(err, ErrCannotOpen) {
		t.Errorf("Open of a tampered token = %v, want ErrCannotOpen", err)
	}
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func TestParseKeyringErrorsNameThePositionNotTheKey(t *testing.T) {
	for list, want := range map[string]string{
		"":                    "holds no key",
		"abcd":                "key 1 decodes to 2 bytes: expected exactly 32",
		keyA + ",not-a-key!!": "key 2 is neither hex nor base64",
		keyA + "," + keyA:     "key 2 is listed twice",
		keyA + "00":           "key 1 decodes to 33 bytes",
	} {
		_, err := ParseKeyring(list)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseKeyring(%.10q…) = %v, want %q", list, err, want)
		}
		if err != nil && list != "" && strings.Contains(err.Error(), list) {
			t.Errorf("error repeats the key: %v", err)
		}
	}
}

func TestTokenIsMaskedWhenPrinted(t *testing.T) {
	rec := Record{Slug: "northside", AccessToken: Token(token)}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("clinic", "token", rec.AccessToken, "record", rec)
	for _, s := range []string{fmt.Sprint(rec.AccessToken), fmt.Sprintf("%v %+v %#v %s", rec, rec, rec, rec.AccessToken), logs.String()} {
		if strings.Contains(s, token) || strings.Contains(s, token[:8]) {
			t.Errorf("token shown: %s", s)
		}
	}
	if got := rec.AccessToken.String(); got != "••••9b63" {
		t.Errorf("masked %q", got)
	}
}

func testRecord(slug string) Record {
	r := NewRecord()
	r.Slug, r.Name, r.AccessToken = slug, "Northside Physio", Token(token)
	r.FrameOrigins = []string{"https://northside.example/"}
	r.Theme = booking.Theme{BrandColour: "#0b5cad", LogoURL: "https://northside.example/logo.png"}
	r.CancellationCutoff = 24 * time.Hour
	r.Locations = []string{"loc-1"}
	r.Addresses = map[string]string{"loc-1": "12 Crown St, Surry Hills NSW 2010"}
	r.PractitionerProfiles = map[string]booking.PractitionerProfile{"p-1": {Description: "Sports physiotherapist", Services: []string{"svc-1"}}}
	r.ServiceDescriptions = map[string]string{"svc-1": "A first visit: assessment, treatment and a plan"}
	r.LocationDirections = map[string]string{"loc-1": "Level 2, lift beside the pharmacy"}
	r.CancellationPolicy = "Please give 24 hours' notice.\nLate cancellations may be charged."
	r.NotificationEmail = "bookings@northside.example"
	r.DraftTTL = 90 * time.Minute
	return r
}

func TestRepoRoundTripOnEachDatabase(t *testing.T) {
	storetest.ForEachDatabase(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		s, err := store.Open(ctx, databaseURL)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		repo := NewRepo(s, mustKeys(t, keyA))
		if err := repo.Add(ctx, testRecord("northside")); err != nil {
			t.Fatal(err)
		}
		got, err := repo.Get(ctx, "northside")
		if err != nil {
			t.Fatal(err)
		}
		if got.AccessToken.Reveal() != token || got.FrameOrigins[0] != "https://northside.example" || got.Revision != 1 {
			t.Errorf("round trip: origins %v revision %d token ok %v", got.FrameOrigins, got.Revision, got.AccessToken.Reveal() == token)
		}
		bc := got.Booking()
		if bc.BookingWindowDays != 60 || bc.CancellationCutoff != 24*time.Hour || bc.Theme.BrandColour != "#0b5cad" || bc.Locations[0] != "loc-1" {
			t.Errorf("booking clinic %+v", bc)
		}
		if bc.Addresses["loc-1"] != "12 Crown St, Surry Hills NSW 2010" || bc.Practitioners["p-1"].Description != "Sports physiotherapist" ||
			bc.Practitioners["p-1"].Services[0] != "svc-1" || bc.DraftTTL != 90*time.Minute {
			t.Errorf("addresses, practitioner profiles or draft lifetime lost on the round trip: %+v", bc)
		}
		if bc.ServiceDescriptions["svc-1"] != "A first visit: assessment, treatment and a plan" ||
			bc.LocationDirections["loc-1"] != "Level 2, lift beside the pharmacy" ||
			bc.CancellationPolicy != "Please give 24 hours' notice.\nLate cancellations may be charged." ||
			bc.NotificationEmail != "bookings@northside.example" {
			t.Errorf("service descriptions, directions, policy or notification email lost on the round trip: %+v", bc)
		}

		// Rotation: a new first key; rotate-keys re-seals every token with it.
		rotated := NewRepo(s, mustKeys(t, keyB+","+keyA))
		if n, err := rotated.RotateKeys(ctx); err != nil || n != 1 {
			t.Fatalf("RotateKeys = %d, %v", n, err)
		}
		if n, _ := rotated.RotateKeys(ctx); n != 0 {
			t.Errorf("a second RotateKeys re-sealed %d", n)
		}
		if _, err := NewRepo(s, mustKeys(t, keyB)).Get(ctx, "northside"); err != nil {
			t.Errorf("after rotation the new key alone cannot open: %v", err)
		}
		if _, err := repo.Get(ctx, "northside"); !errors.Is(err, ErrUnknownKey) {
			t.Errorf("after rotation the old key alone = %v, want ErrUnknownKey", err)
		}
		if err := NewRepo(s, nil).Add(ctx, testRecord("southside")); !errors.Is(err, ErrNoKeys) {
			t.Errorf("Add without keys = %v, want ErrNoKeys", err)
		}
	})
}

// TestAccessTokenIsNotInTheDatabaseFile reads every byte SQLite wrote (the
// database and its write-ahead log) and looks for the token.
func TestAccessTokenIsNotInTheDatabaseFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := store.Open(ctx, "sqlite:"+filepath.Join(dir, "portal.db"))
	if err != nil {
		t.Fatal(err)
	}
	repo := NewRepo(s, mustKeys(t, keyA))
	if err := repo.Add(ctx, testRecord("northside")); err != nil {
		t.Fatal(err)
	}
	rec, _ := repo.Get(ctx, "northside")
	rec.Phone = "02 9000 0000"
	if err := repo.Update(ctx, rec); err != nil {
		t.Fatal(err)
	}
	scan := func(when string) {
		files, _ := filepath.Glob(filepath.Join(dir, "portal.db*"))
		if len(files) == 0 {
			t.Fatal("no database file")
		}
		var found bool
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			found = found || bytes.Contains(b, []byte("Northside Physio"))
			for _, needle := range []string{token, strings.ToUpper(token), base64.StdEncoding.EncodeToString([]byte(token)), hex.EncodeToString([]byte(token))} {
				if bytes.Contains(b, []byte(needle)) {
					t.Errorf("%s: %s holds the access token in the clear", when, filepath.Base(f))
				}
			}
		}
		if !found {
			t.Fatalf("%s: the clinic's name is in no file, so the scan proves nothing", when)
		}
	}
	scan("open")
	s.Close()
	scan("closed")

	// Without the key, or with another, the token does not come out.
	s, err = store.Open(ctx, "sqlite:"+filepath.Join(dir, "portal.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := NewRepo(s, nil).Get(ctx, "northside"); !errors.Is(err, ErrNoKeys) {
		t.Errorf("Get without keys = %v", err)
	}
	if _, err := NewRepo(s, mustKeys(t, keyB)).Get(ctx, "northside"); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("Get with the wrong key = %v, want ErrUnknownKey", err)
	}
	if got, err := NewRepo(s, mustKeys(t, keyA)).Get(ctx, "northside"); err != nil || got.AccessToken.Reveal() != token {
		t.Errorf("Get with the key = %v", err)
	}
}

func TestValidateNamesEachBadField(t *testing.T) {
	r := testRecord("Bad Slug")
	r.Name = ""
	r.AccessToken = "secret-tok en"
	r.FrameOrigins = []string{"ftp://x.example"}
	r.Theme = booking.Theme{BrandColour: "blue", LogoURL: "http://insecure.example/logo.png"}
	r.MinNotice = -time.Hour
	r.WindowDays = 0
	r.CancellationCutoff = 1000 * time.Hour
	r.Services = []string{"a b"}
	r.DraftTTL = 5 * time.Minute
	r.Addresses = map[string]string{"loc 1": "12 Crown St"}
	r.PractitionerProfiles = map[string]booking.PractitionerProfile{"p-1": {Services: []string{"svc 1"}}}
	r.ServiceDescriptions = map[string]string{"svc-1": "One line\nand another"}
	r.LocationDirections = map[string]string{"loc-1": strings.Repeat("Turn left. ", 30)}
	r.CancellationPolicy = "Bell\a"
	r.NotificationEmail = "Front Desk <desk@northside.example>"
	err := r.Validate()
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("Validate = %v", err)
	}
	got := map[string]bool{}
	for _, p := range ps {
		got[p.Field] = true
	}
	for _, f := range []string{"slug", "name", "access-token", "frame-origins", "brand-colour", "logo-url", "min-notice", "window-days", "cancellation-cutoff", "services", "draft-ttl", "addresses", "practitioner-profiles",
		"service-descriptions", "location-directions", "cancellation-policy", "notification-email"} {
		if !got[f] {
			t.Errorf("no problem reported for --%s in %v", f, err)
		}
	}
	if strings.Contains(err.Error(), "tok en") {
		t.Error("the error repeats the access token")
	}
	for _, want := range []string{
		`--service-descriptions for "svc-1" has a line break or control character: expected one line of plain text`,
		`--location-directions for "loc-1" is 330 characters: expected at most 200`,
		`--cancellation-policy has a control character`,
		`--notification-email is "Front Desk <desk@northside.example>": expected one email address`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate lacks %q:\n%v", want, err)
		}
	}
	if err := testRecord("healthz").Validate(); err == nil {
		t.Error("a reserved slug is accepted")
	}
	if err := testRecord("console").Validate(); err == nil {
		t.Error("the staff console's slug is accepted for a clinic")
	}
	if err := testRecord("northside").Validate(); err != nil {
		t.Errorf("a good record: %v", err)
	}
}

// TestValidateClinicTexts: what a clinic tells patients is plain text of a
// sensible length; the notification address is exactly one address.
func TestValidateClinicTexts(t *testing.T) {
	for _, tc := range []struct {
		name  string
		set   func(*Record)
		field string // "" when valid
	}{
		{"no texts", func(r *Record) {
			r.ServiceDescriptions, r.LocationDirections, r.CancellationPolicy, r.NotificationEmail = nil, nil, "", ""
		}, ""},
		{"description at the limit", func(r *Record) { r.ServiceDescriptions = map[string]string{"svc-1": strings.Repeat("é", 160)} }, ""},
		{"description too long", func(r *Record) { r.ServiceDescriptions = map[string]string{"svc-1": strings.Repeat("é", 161)} }, "service-descriptions"},
		{"empty description", func(r *Record) { r.ServiceDescriptions = map[string]string{"svc-1": "  "} }, "service-descriptions"},
		{"description for a bad id", func(r *Record) { r.ServiceDescriptions = map[string]string{"svc 1": "Pilates"} }, "service-descriptions"},
		{"tab in directions", func(r *Record) { r.LocationDirections = map[string]string{"loc-1": "Level 2\tlift"} }, "location-directions"},
		{"line separator in directions", func(r *Record) { r.LocationDirections = map[string]string{"loc-1": "Level 2\u2028lift"} }, "location-directions"},
		{"policy in paragraphs", func(r *Record) { r.CancellationPolicy = "One.\n\nTwo." }, ""},
		{"policy with a carriage return", func(r *Record) { r.CancellationPolicy = "One.\r\nTwo." }, "cancellation-policy"},
		{"policy too long", func(r *Record) { r.CancellationPolicy = strings.Repeat("x", 1001) }, "cancellation-policy"},
		{"two addresses", func(r *Record) { r.NotificationEmail = "a@northside.example, b@northside.example" }, "notification-email"},
		{"no domain", func(r *Record) { r.NotificationEmail = "bookings@localhost" }, "notification-email"},
		{"not an address", func(r *Record) { r.NotificationEmail = "bookings" }, "notification-email"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := testRecord("northside")
			tc.set(&r)
			err := r.Validate()
			var ps Problems
			errors.As(err, &ps)
			switch {
			case tc.field == "" && err != nil:
				t.Errorf("Validate = %v, want no problem", err)
			case tc.field != "" && (len(ps) != 1 || ps[0].Field != tc.field):
				t.Errorf("Validate = %v, want one problem with --%s", err, tc.field)
			}
		})
	}
}

// TestOrigin: the one check of frame origins, for configuration and clinic
// records alike. What it returns goes into a CSP header.
func TestOrigin(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"https://www.example.com", "https://www.example.com", true},
		{"https://WWW.Example.COM/", "https://www.example.com", true},
		{"HTTPS://example.com", "https://example.com", true},
		{" https://example.com ", "https://example.com", true},
		{"https://example.com:443", "https://example.com", true},
		{"http://example.com:80", "http://example.com", true},
		{"https://example.com:8443", "https://example.com:8443", true},
		{"http://example.com:443", "http://example.com:443", true},
		{"https://example.com:80", "https://example.com:80", true},
		{"http://localhost:3000", "http://localhost:3000", true},
		{"https://xn--bcher-kva.example", "https://xn--bcher-kva.example", true},
		{"https://example.com;script-src *", "", false},
		{"https://example.com%3Bscript-src", "", false},
		{"https://exa mple.com", "", false},
		{"https://example.com'", "", false},
		{"https://[::1]:8080", "", false},
		{"https://example.com:", "", false},
		{"https://example.com:0", "", false},
		{"https://example.com:99999", "", false},
		{"https://example.com:x", "", false},
		{"https://example..com", "", false},
		{"https://.example.com", "", false},
		{"https://example.com/path", "", false},
		{"https://example.com/?q", "", false},
		{"https://example.com#top", "", false},
		{"https://user@example.com", "", false},
		{"ftp://example.com", "", false},
		{"example.com", "", false},
		{"https://", "", false},
		{"*", "", false},
		{"https://bücher.example", "", false},
		// A CSP wildcard for any subdomain.
		{"https://*.example.com", "https://*.example.com", true},
		{"https://*.Example.COM:443", "https://*.example.com", true},
		{"http://*.example.com:8080", "http://*.example.com:8080", true},
		{"https://*.", "", false},
		{"https://*", "", false},
		{"https://**.example.com", "", false},
		{"https://*.*.example.com", "", false},
		{"https://www.*.example.com", "", false},
		{"https://*example.com", "", false},
		{"https://*..example.com", "", false},
		{"https://*.example.com;script-src *", "", false},
	} {
		got, ok := Origin(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Origin(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// TestSetEnabledOnEachDatabase: disabling and enabling changes only
// Enabled (the token stays sealed as it was, so no keys are needed),
// says when nothing changed, and names a missing clinic ErrNotFound.
func TestSetEnabledOnEachDatabase(t *testing.T) {
	storetest.ForEachDatabase(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		s, err := store.Open(ctx, databaseURL)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if err := NewRepo(s, mustKeys(t, keyA)).Add(ctx, testRecord("northside")); err != nil {
			t.Fatal(err)
		}
		keyless := NewRepo(s, nil)
		for _, step := range []struct{ enabled, changed bool }{{false, true}, {false, false}, {true, true}} {
			changed, err := keyless.SetEnabled(ctx, "northside", step.enabled)
			if err != nil || changed != step.changed {
				t.Fatalf("SetEnabled(%v): changed %v, %v; want changed %v", step.enabled, changed, err, step.changed)
			}
			got, err := NewRepo(s, mustKeys(t, keyA)).Get(ctx, "northside")
			if err != nil || got.Enabled != step.enabled || got.AccessToken.Reveal() != token || got.Name != "Northside Physio" {
				t.Fatalf("after SetEnabled(%v): enabled %v, token ok %v, %v", step.enabled, got.Enabled, got.AccessToken.Reveal() == token, err)
			}
		}
		if _, err := keyless.SetEnabled(ctx, "nowhere", false); !errors.Is(err, ErrNotFound) {
			t.Errorf("a missing clinic: %v", err)
		}
	})
}
