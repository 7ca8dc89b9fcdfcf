package sandbox

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

func TestAuthRules(t *testing.T) {
	e := newEnv(t, Config{})
	q := url.Values{"startDate": {"2025-03-04"}, "endDate": {"2025-03-04"}, "timezoneId": {TimezoneSydneyID}}
	target := e.url("AvailabilitySlot/", q)
	now := e.clock.Now().Unix()

	// resign replaces the Authorization header with a token over edited claims.
	resign := func(edit func(c jwt.MapClaims)) func(*http.Request) {
		return func(r *http.Request) {
			c := e.claims(r.Method, r.URL.String())
			edit(c)
			r.Header.Set("Authorization", "JwToken "+signHS256(t, c, DemoConsumerSecret))
		}
	}
	withAlg := func(m jwt.SigningMethod, key any) func(*http.Request) {
		return func(r *http.Request) {
			tok, err := jwt.NewWithClaims(m, e.claims(r.Method, r.URL.String())).SignedString(key)
			if err != nil {
				t.Fatal(err)
			}
			r.Header.Set("Authorization", "JwToken "+tok)
		}
	}
	token := func(r *http.Request) string { return strings.TrimPrefix(r.Header.Get("Authorization"), "JwToken ") }

	tests := []struct {
		name   string
		edit   func(*http.Request)
		reason string // "" means the request must succeed
	}{
		{"correct", func(*http.Request) {}, ""},
		{"charset allowed", func(r *http.Request) { r.Header.Set("Content-Type", "application/json; charset=utf-8") }, ""},
		{"nbf within skew", resign(func(c jwt.MapClaims) { c["nbf"], c["exp"] = now+25, now+85 }), ""},
		{"exp within skew", resign(func(c jwt.MapClaims) { c["nbf"], c["exp"] = now-85, now-25 }), ""},
		{"missing header", func(r *http.Request) { r.Header.Del("Authorization") }, reasonNoAuthHeader},
		{"two headers", func(r *http.Request) { r.Header.Add("Authorization", r.Header.Get("Authorization")) }, reasonManyAuthHeaders},
		{"bearer scheme", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token(r)) }, reasonScheme},
		{"lower-case scheme", func(r *http.Request) { r.Header.Set("Authorization", "jwtoken "+token(r)) }, reasonScheme},
		{"no space", func(r *http.Request) { r.Header.Set("Authorization", "JwToken"+token(r)) }, reasonScheme},
		{"two spaces", func(r *http.Request) { r.Header.Set("Authorization", "JwToken  "+token(r)) }, reasonHeaderFormat},
		{"scheme only", func(r *http.Request) { r.Header.Set("Authorization", "JwToken ") }, reasonHeaderFormat},
		{"not a jwt", func(r *http.Request) { r.Header.Set("Authorization", "JwToken abc.def") }, reasonTokenFormat},
		{"alg none", withAlg(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType), reasonAlg},
		{"alg HS512", withAlg(jwt.SigningMethodHS512, []byte(DemoConsumerSecret)), reasonAlg},
		{"wrong secret", func(r *http.Request) {
			r.Header.Set("Authorization", "JwToken "+signHS256(t, e.claims(r.Method, r.URL.String()), "not-the-secret"))
		}, reasonSignature},
		{"secret in other case", func(r *http.Request) {
			r.Header.Set("Authorization", "JwToken "+signHS256(t, e.claims(r.Method, r.URL.String()), strings.ToUpper(DemoConsumerSecret)))
		}, reasonSignature},
		{"tampered payload", func(r *http.Request) {
			parts := strings.Split(token(r), ".")
			other := strings.Split(signHS256(t, e.claims("POST", r.URL.String()), DemoConsumerSecret), ".")
			r.Header.Set("Authorization", "JwToken "+parts[0]+"."+other[1]+"."+parts[2])
		}, reasonSignature},
		{"unknown consumer", resign(func(c jwt.MapClaims) { c["consumerId"] = "someone-else" }), reasonUnknownConsumer},
		{"unknown access token", resign(func(c jwt.MapClaims) { c["accessToken"] = "00f4203b-1901-4f8d-b9bd-90368d543049" }), reasonUnknownToken},
		{"nbf in future", resign(func(c jwt.MapClaims) { c["nbf"], c["exp"] = now+31, now+60 }), reasonNotYetValid},
		{"expired", resign(func(c jwt.MapClaims) { c["nbf"], c["exp"] = now-120, now-61 }), reasonExpired},
		{"lifetime over 60s", resign(func(c jwt.MapClaims) { c["exp"] = now + 61 }), reasonLifetime},
		{"exp before nbf", resign(func(c jwt.MapClaims) { c["exp"] = now - 1 }), reasonLifetime},
		{"nbf in milliseconds", resign(func(c jwt.MapClaims) { c["nbf"] = now * 1000 }), reasonNotYetValid},
		{"nbf as string", resign(func(c jwt.MapClaims) { c["nbf"] = "1741000000" }), "claim nbf must be an integer Unix time in seconds"},
		{"exp fractional", resign(func(c jwt.MapClaims) { c["exp"] = float64(now) + 60.5 }), "claim exp must be an integer Unix time in seconds"},
		{"url path only", resign(func(c jwt.MapClaims) { c["url"] = "/API/Core/v2.1/AvailabilitySlot/?" + q.Encode() }), reasonURL},
		{"url without query", resign(func(c jwt.MapClaims) { c["url"] = e.url("AvailabilitySlot/", nil) }), reasonURL},
		{"url https", resign(func(c jwt.MapClaims) { c["url"] = strings.Replace(target, "http://", "https://", 1) }), reasonURL},
		{"url other case", resign(func(c jwt.MapClaims) { c["url"] = strings.Replace(target, "AvailabilitySlot", "availabilityslot", 1) }), reasonURL},
		{"method mismatch", resign(func(c jwt.MapClaims) { c["httpMethod"] = "POST" }), reasonMethod},
		{"method lower case", resign(func(c jwt.MapClaims) { c["httpMethod"] = "get" }), reasonMethod},
		{"no content type", func(r *http.Request) { r.Header.Del("Content-Type") }, reasonContentType},
		{"text content type", func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") }, reasonContentType},
	}
	for _, claim := range requiredClaims {
		tests = append(tests, struct {
			name   string
			edit   func(*http.Request)
			reason string
		}{"missing " + claim, resign(func(c jwt.MapClaims) { delete(c, claim) }), "missing claim " + claim})
	}

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := e.newRequest(http.MethodGet, target, nil)
			tc.edit(req)
			resp := e.send(req)
			if tc.reason == "" {
				if resp.status != http.StatusOK {
					t.Fatalf("status %d, want 200; body %s", resp.status, resp.body)
				}
				return
			}
			if resp.status != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401; body %s", resp.status, resp.body)
			}
			if got, want := resp.reasons(), "Invalid token: "+tc.reason; len(got) != 1 || got[0] != want {
				t.Fatalf("reasons %q, want %q", got, want)
			}
		})
	}
	if got := e.srv.Stats().Rejected; got != len(tests)-4 {
		t.Errorf("Stats.Rejected = %d, want %d", got, len(tests)-4)
	}
}

func TestAuthCustomCredentials(t *testing.T) {
	e := newEnv(t, Config{ConsumerID: "clinic-a", ConsumerSecret: "s3cret", AccessToken: "tok-a"})
	req := e.newRequest(http.MethodGet, e.url("Location/", nil), nil)
	if resp := e.send(req); resp.status != http.StatusUnauthorized || !resp.hasReason(reasonUnknownConsumer) {
		t.Fatalf("demo credentials: status %d %s", resp.status, resp.body)
	}
	c := e.claims(http.MethodGet, e.url("Location/", nil))
	c["consumerId"], c["accessToken"] = "clinic-a", "tok-a"
	req.Header.Set("Authorization", "JwToken "+signHS256(t, c, "s3cret"))
	if resp := e.send(req); resp.status != http.StatusOK {
		t.Fatalf("custom credentials: status %d %s", resp.status, resp.body)
	}
}

// TestRoutingAfterAuth: every path, known or not, is authenticated first.
func TestRouting(t *testing.T) {
	e := newEnv(t, Config{})
	for _, path := range []string{"/API/Core/v2/location", "/api/core/V2.1/LOCATION/", "/API/Core/v2.1/Location"} {
		if resp := e.send(e.newRequest(http.MethodGet, e.ts.URL+path, nil)); resp.status != http.StatusOK {
			t.Errorf("%s: status %d", path, resp.status)
		}
	}
	if resp := e.send(e.newRequest(http.MethodGet, e.ts.URL+"/API/Core/v2.1/Nope/", nil)); resp.status != http.StatusNotFound || len(resp.reasons()) != 1 {
		t.Errorf("unknown resource: status %d %s", resp.status, resp.body)
	}
	if resp := e.send(e.newRequest(http.MethodGet, e.ts.URL+"/API/Core/v3/Location/", nil)); resp.status != http.StatusNotFound {
		t.Errorf("unknown version: status %d", resp.status)
	}
	if resp := e.send(e.newRequest(http.MethodPost, e.url("Location/", nil), map[string]any{})); resp.status != http.StatusMethodNotAllowed {
		t.Errorf("POST Location: status %d", resp.status)
	}
	req, _ := http.NewRequest(http.MethodGet, e.ts.URL+"/API/Core/v2.1/Nope/", nil)
	if resp := e.send(req); resp.status != http.StatusUnauthorized {
		t.Errorf("unsigned unknown path: status %d, want 401", resp.status)
	}
}
