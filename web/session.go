package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"net/http"
	"time"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"github.com/clinic-booking/portal/internal/booking"
)

// The session is a convenience only: where the browser keeps the cookie, a
// patient's details are offered again for a second booking, filled in only
// when the patient asks (the device may be shared). Nothing in the flow
// needs it. Twelve hours covers booking again the same day without keeping
// the details overnight on a waiting-room tablet.
const (
	sessionName   = "portal"
	sessionMaxAge = 12 * time.Hour
)

func newSessionStore(secret []byte) *sessions.CookieStore {
	derive := func(label string) []byte {
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(label))
		return m.Sum(nil)
	}
	// Signed and encrypted: the cookie holds personal details.
	st := sessions.NewCookieStore(derive("session hash v1"), derive("session block v1"))
	st.Options = &sessions.Options{
		Path:        "/",
		Secure:      true,
		HttpOnly:    true,
		SameSite:    http.SameSiteNoneMode,
		Partitioned: true,
	}
	// MaxAge sets the cookie's lifetime and also makes the decoder refuse a
	// cookie signed longer ago (the default is 30 days), so a copied
	// cookie is no good after the browser's would have expired.
	st.MaxAge(int(sessionMaxAge / time.Second))
	return st
}

// rememberDetails keeps the patient's details (not the note) for next time.
func (s *Server) rememberDetails(c echo.Context, slug string, d booking.Details) {
	sess, _ := s.sessions.Get(c.Request(), sessionName)
	sess.Values["clinic"] = slug
	sess.Values["first"] = d.FirstName
	sess.Values["last"] = d.LastName
	sess.Values["dob"] = d.DateOfBirth.Format("2006-01-02")
	sess.Values["email"] = d.Email
	sess.Values["mobile"] = d.Mobile
	if err := sess.Save(c.Request(), c.Response()); err != nil {
		s.log.Warn("save session", "request_id", requestIDFrom(c), "err", err)
	}
}

// rememberedDetails returns details kept by rememberDetails for this clinic.
func (s *Server) rememberedDetails(c echo.Context, slug string) (booking.Details, bool) {
	sess, err := s.sessions.Get(c.Request(), sessionName)
	if err != nil || sess.IsNew || sess.Values["clinic"] != slug {
		return booking.Details{}, false
	}
	str := func(k string) string { v, _ := sess.Values[k].(string); return v }
	d := booking.Details{FirstName: str("first"), LastName: str("last"), Email: str("email"), Mobile: str("mobile")}
	if t, err := time.Parse("2006-01-02", str("dob")); err == nil {
		d.DateOfBirth = t
	}
	return d, d.FirstName != ""
}

// forgetDetails removes the kept details from this browser: the cookie is
// sent back expired, with the same attributes so that a partitioned cookie
// is the one removed.
func (s *Server) forgetDetails(c echo.Context) {
	sess, _ := s.sessions.Get(c.Request(), sessionName)
	clear(sess.Values)
	sess.Options.MaxAge = -1
	if err := sess.Save(c.Request(), c.Response()); err != nil {
		s.log.Warn("clear session", "request_id", requestIDFrom(c), "err", err)
	}
}
