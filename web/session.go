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
// patient's details are offered again for a second booking. Nothing in the
// flow needs it.
const (
	sessionName   = "portal"
	sessionMaxAge = 24 * time.Hour
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
		MaxAge:      int(sessionMaxAge / time.Second),
		Secure:      true,
		HttpOnly:    true,
		SameSite:    http.SameSiteNoneMode,
		Partitioned: true,
	}
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
