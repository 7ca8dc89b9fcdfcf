package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

// draftSigner signs draft ids so that a URL or hidden field carrying one
// can be neither guessed nor forged.
type draftSigner struct{ key []byte }

func newDraftSigner(secret []byte) draftSigner {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("portal draft id v1"))
	return draftSigner{key: m.Sum(nil)}
}

func (s draftSigner) mac(id string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(id))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// sign returns "id.mac".
func (s draftSigner) sign(id string) string { return id + "." + s.mac(id) }

// verify returns the draft id in token, or false when the token was not
// made by sign with this key.
func (s draftSigner) verify(token string) (string, bool) {
	id, mac, ok := strings.Cut(token, ".")
	if !ok || id == "" || len(id) > 64 {
		return "", false
	}
	return id, hmac.Equal([]byte(mac), []byte(s.mac(id)))
}
