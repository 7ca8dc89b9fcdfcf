package coreplus

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// parseJWT decodes and verifies a compact HS256 token without golang-jwt, so
// a bug shared by our signer and that library cannot hide here.
func parseJWT(t *testing.T, token, secret string) (header map[string]any, claims map[string]any) {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts, want 3", len(parts))
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(parts[0] + "." + parts[1]))
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatalf("signature is not base64url: %v", err)
	}
	if !hmac.Equal(sig, mac.Sum(nil)) {
		t.Fatal("signature does not verify with the raw consumer secret")
	}
	decode := func(s string) map[string]any {
		raw, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatalf("segment is not base64url: %v", err)
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("segment is not a JSON object: %v", err)
		}
		return m
	}
	return decode(parts[0]), decode(parts[1])
}

func claimInt(t *testing.T, claims map[string]any, name string) int64 {
	t.Helper()
	n, ok := claims[name].(json.Number)
	if !ok {
		t.Fatalf("claim %s = %#v, want an integer", name, claims[name])
	}
	v, err := n.Int64()
	if err != nil {
		t.Fatalf("claim %s = %s, want an integer", name, n)
	}
	return v
}

// tokenOf takes the token out of an Authorization header.
func tokenOf(t *testing.T, auth string) string {
	t.Helper()
	tok, ok := strings.CutPrefix(auth, "JwToken ")
	if !ok || tok == "" || strings.Contains(tok, " ") {
		t.Fatalf("Authorization %q, want \"JwToken <token>\"", auth)
	}
	return tok
}

type captured struct {
	method, absURL, auth string
}

func TestToken(t *testing.T) {
	var mu sync.Mutex
	var reqs []captured
	clock := time.Date(2025, 3, 4, 0, 0, 0, 500_000_000, time.UTC)
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	api, _ := newTestAPI(t, func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		mu.Lock()
		reqs = append(reqs, captured{r.Method, "http://" + r.Host + r.RequestURI, r.Header.Get("Authorization")})
		mu.Unlock()
		switch r.Method {
		case http.MethodPost:
			io.WriteString(w, `{}`)
		default:
			io.WriteString(w, `{"timeslots":[]}`)
		}
	}, func(c *Config) {
		c.Now = now
		c.Issuer = "https://book.example-clinic.com.au"
	})
	ctx := context.Background()
	q := SlotQuery{StartDate: "2025-03-04", EndDate: "2025-03-10", TimezoneID: "e7c4da7d-0aa9-451a-bddc-50925076f14b",
		PractitionerIDs: []string{"P 1", "P/2"}, AppointmentTypeID: "T+1"}
	if _, err := api.FindAvailability(ctx, q); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	clock = clock.Add(2 * time.Second)
	mu.Unlock()
	if _, err := api.FindAvailability(ctx, q); err != nil {
		t.Fatal(err)
	}
	if err := api.CancelAppointment(ctx, "A 1/2"); err != nil {
		t.Fatal(err)
	}
	if len(reqs) != 3 {
		t.Fatalf("server saw %d requests, want 3", len(reqs))
	}

	for i, r := range reqs {
		header, claims := parseJWT(t, tokenOf(t, r.auth), testSecret)
		if header["alg"] != "HS256" || header["typ"] != "JWT" || len(header) != 2 {
			t.Errorf("request %d header %v, want alg HS256 and typ JWT", i, header)
		}
		if claims["url"] != r.absURL {
			t.Errorf("request %d url claim\n %v\nwant what the server received\n %v", i, claims["url"], r.absURL)
		}
		if claims["httpMethod"] != r.method {
			t.Errorf("request %d httpMethod %v, want %s", i, claims["httpMethod"], r.method)
		}
		nbf, exp := claimInt(t, claims, "nbf"), claimInt(t, claims, "exp")
		if exp != nbf+60 {
			t.Errorf("request %d exp %d, want nbf+60 = %d", i, exp, nbf+60)
		}
		wantNbf := time.Date(2025, 3, 4, 0, 0, 0, 0, time.UTC).Unix()
		if i > 0 {
			wantNbf += 2
		}
		if nbf != wantNbf {
			t.Errorf("request %d nbf %d, want %d", i, nbf, wantNbf)
		}
		for name, want := range map[string]string{
			"consumerId":  testConsumerID,
			"accessToken": testAccessToken,
			"iss":         "https://book.example-clinic.com.au",
			"aud":         DefaultAudience,
		} {
			if claims[name] != want {
				t.Errorf("request %d claim %s = %v, want %q", i, name, claims[name], want)
			}
		}
		if len(claims) != 8 {
			t.Errorf("request %d has %d claims, want exactly 8: %v", i, len(claims), claims)
		}
	}
	if reqs[0].auth == reqs[1].auth {
		t.Error("two requests a moment apart carried the same token")
	}
	if !strings.Contains(reqs[0].absURL, "practitionerId=P+1&practitionerId=P%2F2") {
		t.Errorf("repeated practitionerId not sent in order: %s", reqs[0].absURL)
	}
	if !strings.HasSuffix(reqs[2].absURL, "/Appointment/A%201%2F2") {
		t.Errorf("id not path-escaped: %s", reqs[2].absURL)
	}
}

// A retry resends the same *http.Request through the transport; the signer
// must mint a new token bound to the moment of that attempt.
func TestSignerSignsEachAttempt(t *testing.T) {
	var auths []string
	base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		auths = append(auths, r.Header.Get("Authorization"))
		return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("{}")), Request: r}, nil
	})
	clock := time.Unix(1741046400, 0)
	s := &signer{base: base, consumerID: "c", secret: []byte(testSecret), accessToken: "a",
		issuer: DefaultIssuer, audience: DefaultAudience, now: func() time.Time { return clock }}
	req, _ := http.NewRequest(http.MethodPost, "https://api.example/API/Core/v2.1/Appointment/", strings.NewReader(`{}`))
	for range 2 {
		resp, err := s.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		clock = clock.Add(time.Second)
	}
	if req.Header.Get("Authorization") != "" {
		t.Error("signer changed the caller's request")
	}
	if auths[0] == auths[1] {
		t.Error("retry reused the token")
	}
	for _, a := range auths {
		_, claims := parseJWT(t, tokenOf(t, a), testSecret)
		if claims["httpMethod"] != "POST" || claims["url"] != "https://api.example/API/Core/v2.1/Appointment/" {
			t.Errorf("claims %v", claims)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
