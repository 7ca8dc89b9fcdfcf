package coreplus

import (
	"fmt"
	"net/http"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// tokenLifetime is the doc's exp = nbf + 60 s.
const tokenLifetime = 60 * time.Second

// signer is an http.RoundTripper that signs each request just before it goes
// out, so every attempt (a retry or a page of a list) carries its own token
// bound to exactly the URL and method on the wire.
type signer struct {
	base        http.RoundTripper
	consumerID  string
	secret      []byte // used raw: coreplus secrets are not base64
	accessToken string
	issuer      string
	audience    string
	now         func() time.Time
}

func (s *signer) RoundTrip(req *http.Request) (*http.Response, error) {
	tok, err := s.token(req.Method, req.URL.String())
	if err != nil {
		// A RoundTripper must close the body even when it fails.
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	// RoundTrippers must not change the caller's request.
	out := req.Clone(req.Context())
	out.Header.Set("Authorization", "JwToken "+tok)
	out.Header.Set("Content-Type", "application/json")
	return s.base.RoundTrip(out)
}

// token mints the HS256 JWT for one request.
func (s *signer) token(method, absURL string) (string, error) {
	nbf := s.now().UTC().Truncate(time.Second)
	claims := jwt.MapClaims{
		"iss":         s.issuer,
		"aud":         s.audience,
		"nbf":         nbf.Unix(),
		"exp":         nbf.Add(tokenLifetime).Unix(),
		"consumerId":  s.consumerID,
		"accessToken": s.accessToken,
		"url":         absURL,
		"httpMethod":  method,
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(s.secret)
	if err != nil {
		// The error names no credential; SignedString only fails on a bad key type.
		return "", fmt.Errorf("sign request: %w", err)
	}
	return tok, nil
}
