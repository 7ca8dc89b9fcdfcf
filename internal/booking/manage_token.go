package booking

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

// ManageTokens makes and checks the token in a patient's "manage your
// booking" link, /{clinic}/manage/{token}. The token is the booking's draft
// id (128 random bits, no personal detail) and a MAC over the clinic and
// that id, so any replica can check it without a lookup and a token of one
// clinic opens nothing at another. It carries no expiry: the link stops
// working once the appointment it points at has ended, which the manage
// page reads from the booking, so a moved appointment keeps its link.
type ManageTokens struct{ key []byte }

// NewManageTokens derives the link key from the portal's secret key
// (PORTAL_SECRET_KEY), apart from the key that signs draft ids, so a signed
// draft field is never a manage token nor the other way round.
func NewManageTokens(secret []byte) ManageTokens {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("portal manage link v1"))
	return ManageTokens{key: m.Sum(nil)}
}

func (t ManageTokens) mac(clinic, draftID string) string {
	m := hmac.New(sha256.New, t.key)
	m.Write([]byte(clinic))
	m.Write([]byte{0})
	m.Write([]byte(draftID))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// Token returns the manage token of the booking made from draftID at clinic:
// "<draft id>.<mac>", safe in a URL path.
func (t ManageTokens) Token(clinic, draftID string) string {
	return draftID + "." + t.mac(clinic, draftID)
}

// DraftID returns the draft id in token, or false when token was not made
// by Token for this clinic with this key.
func (t ManageTokens) DraftID(clinic, token string) (string, bool) {
	id, mac, ok := strings.Cut(token, ".")
	if !ok || id == "" || len(id) > 64 || len(mac) > 64 {
		return "", false
	}
	return id, hmac.Equal([]byte(mac), []byte(t.mac(clinic, id)))
}
