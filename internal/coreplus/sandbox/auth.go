package sandbox

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"
)

// clockSkew is how far the token's nbf/exp may disagree with the sandbox clock.
const clockSkew = 30 * time.Second

// maxTokenLifetime is the longest exp - nbf accepted: the docs say exp = nbf + 60.
const maxTokenLifetime = 60

// Reasons given after "Invalid token: ". Tests assert each one.
const (
	reasonNoAuthHeader     = "missing Authorization header"
	reasonManyAuthHeaders  = "more than one Authorization header"
	reasonScheme           = "authorization scheme must be JwToken"
	reasonHeaderFormat     = "Authorization header must be \"JwToken\", exactly one space, then the token"
	reasonTokenFormat      = "token is not a compact JWT (three base64url parts)"
	reasonAlg              = "signing algorithm must be HS256"
	reasonSignature        = "signature does not verify with the consumer secret"
	reasonUnknownConsumer  = "unknown consumerId"
	reasonUnknownToken     = "unknown accessToken"
	reasonNotYetValid      = "token is not valid yet (nbf is in the future)"
	reasonExpired          = "token has expired (exp has passed)"
	reasonLifetime         = "token lifetime exp - nbf must be between 1 and 60 seconds"
	reasonURL              = "url claim does not match the requested URL"
	reasonMethod           = "httpMethod claim does not match the request method"
	reasonContentType      = "Content-Type must be application/json"
	reasonMissingClaimPref = "missing claim "
)

// requiredClaims are checked in this order, so the reason names the first gap.
var requiredClaims = []string{"iss", "aud", "nbf", "exp", "consumerId", "accessToken", "url", "httpMethod"}

// authenticate checks the request the way coreplus does and returns the
// consumer id, or a non-empty reason for the 401.
func (s *Server) authenticate(r *http.Request) (consumer, reason string) {
	values := r.Header.Values("Authorization")
	switch {
	case len(values) == 0 || values[0] == "":
		return "", reasonNoAuthHeader
	case len(values) > 1:
		return "", reasonManyAuthHeaders
	}
	scheme, token, _ := strings.Cut(values[0], " ")
	if scheme != "JwToken" {
		return "", reasonScheme
	}
	if token == "" || strings.ContainsAny(token, " \t") {
		return "", reasonHeaderFormat
	}

	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", reasonTokenFormat
	}
	var header struct {
		Alg string `json:"alg"`
	}
	if err := decodeSegment(parts[0], &header); err != nil {
		return "", reasonTokenFormat
	}
	if header.Alg != "HS256" {
		return "", reasonAlg
	}
	var claims map[string]any
	if err := decodeSegment(parts[1], &claims); err != nil {
		return "", reasonTokenFormat
	}

	// The consumer must be known before the signature can be checked with its secret.
	consumerID, reason := stringClaim(claims, "consumerId")
	if reason != "" {
		return "", reason
	}
	if consumerID != s.consumerID {
		return "", reasonUnknownConsumer
	}
	sig, err := base64.RawURLEncoding.Strict().DecodeString(parts[2])
	mac := hmac.New(sha256.New, []byte(s.consumerSecret))
	mac.Write([]byte(parts[0] + "." + parts[1]))
	if err != nil || !hmac.Equal(sig, mac.Sum(nil)) {
		return "", reasonSignature
	}

	for _, name := range requiredClaims {
		if v, ok := claims[name]; !ok || v == nil || v == "" {
			return "", reasonMissingClaimPref + name
		}
	}
	strs := map[string]string{}
	for _, name := range []string{"iss", "aud", "accessToken", "url", "httpMethod"} {
		v, reason := stringClaim(claims, name)
		if reason != "" {
			return "", reason
		}
		strs[name] = v
	}
	nbf, reason := unixClaim(claims, "nbf")
	if reason != "" {
		return "", reason
	}
	exp, reason := unixClaim(claims, "exp")
	if reason != "" {
		return "", reason
	}

	if strs["accessToken"] != s.accessToken {
		return "", reasonUnknownToken
	}
	now := s.now()
	if time.Unix(nbf, 0).After(now.Add(clockSkew)) {
		return "", reasonNotYetValid
	}
	if now.After(time.Unix(exp, 0).Add(clockSkew)) {
		return "", reasonExpired
	}
	if exp-nbf < 1 || exp-nbf > maxTokenLifetime {
		return "", reasonLifetime
	}
	if strs["url"] != requestURL(r) {
		return "", reasonURL
	}
	if strs["httpMethod"] != r.Method {
		return "", reasonMethod
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return "", reasonContentType
	}
	return consumerID, ""
}

// requestURL is the absolute URL the client must have signed.
func requestURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + r.URL.RequestURI()
}

// decodeSegment decodes one unpadded base64url JWT part as JSON, keeping
// numbers exact so fractional or huge nbf/exp values can be refused.
func decodeSegment(seg string, v any) error {
	raw, err := base64.RawURLEncoding.Strict().DecodeString(seg)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data")
	}
	return nil
}

func stringClaim(claims map[string]any, name string) (string, string) {
	v, ok := claims[name]
	if !ok || v == nil || v == "" {
		return "", reasonMissingClaimPref + name
	}
	s, ok := v.(string)
	if !ok {
		return "", "claim " + name + " must be a string"
	}
	return s, ""
}

// unixClaim reads nbf/exp, which must be whole UTC Unix seconds.
func unixClaim(claims map[string]any, name string) (int64, string) {
	n, ok := claims[name].(json.Number)
	if !ok {
		return 0, "claim " + name + " must be an integer Unix time in seconds"
	}
	v, err := n.Int64()
	if err != nil {
		return 0, "claim " + name + " must be an integer Unix time in seconds"
	}
	return v, ""
}
