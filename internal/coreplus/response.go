package coreplus

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// maxReason keeps an error readable when coreplus answers with a whole page.
const maxReason = 300

// statusError turns a non-2xx answer into an *Error.
func (a *API) statusError(c call, resp *http.Response, body []byte, scrub func(string) string) *Error {
	status := resp.StatusCode
	reason := reasonText(body)
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden || mentionsInvalidToken(reason):
		return &Error{Kind: ErrInvalidCredentials, Op: c.op(), Status: status, Reason: scrub(reason)}
	case status == http.StatusTooManyRequests:
		return &Error{Kind: ErrRateLimited, Op: c.op(), Status: status, Reason: scrub(reason),
			RetryAfter: retryAfter(resp.Header.Get("Retry-After"), a.now())}
	case status == http.StatusNotFound:
		return &Error{Kind: ErrNotFound, Op: c.op(), Status: status, Reason: scrub(reason)}
	case status >= 500:
		// A POST may have been stored before the server failed.
		return &Error{Kind: ErrUnavailable, Op: c.op(), Status: status, Reason: scrub(reason),
			Sent: c.method == http.MethodPost}
	case status >= 300 && status < 400:
		return &Error{Kind: ErrRejected, Op: c.op(), Status: status,
			Reason: "coreplus answered with a redirect; check Config.BaseURL (scheme, host and version)"}
	default:
		return failureError(c, status, reason, scrub)
	}
}

// failureError classifies a refusal by its text: coreplus's "result" reason
// says more than its status code, which may be 200.
func failureError(c call, status int, reason string, scrub func(string) string) *Error {
	e := &Error{Kind: ErrRejected, Op: c.op(), Status: status, Reason: scrub(reason)}
	lower := strings.ToLower(reason)
	switch {
	case mentionsInvalidToken(reason):
		e.Kind = ErrInvalidCredentials
	case c.method == http.MethodGet && (strings.Contains(lower, "not found") || strings.Contains(lower, "does not exist")):
		e.Kind = ErrNotFound
	}
	return e
}

func mentionsInvalidToken(reason string) bool {
	return strings.Contains(strings.ToLower(reason), "invalid token")
}

// slotTaken reports a booking refusal that means "pick another time".
func slotTaken(reason string) bool {
	lower := strings.ToLower(reason)
	for _, p := range []string{"not available", "no longer available", "unavailable", "already booked", "clash", "overlap"} {
		if strings.Contains(lower, p) {
			return true
		}
	}
	return false
}

// reasonText finds coreplus's explanation in an error body: the "result"
// reasons, an ASP.NET-style "message", or short plain text.
func reasonText(body []byte) string {
	var v struct {
		Result           results     `json:"result"`
		StatusMessages   results     `json:"statusMessages"`
		Message          looseString `json:"message"`
		Error            looseString `json:"error"`
		ErrorDescription looseString `json:"error_description"`
		Title            looseString `json:"title"`
	}
	trimmed := strings.TrimSpace(string(body))
	if trimmed == "" {
		return ""
	}
	if json.Unmarshal(body, &v) == nil {
		if r := v.Result.reason(); r != "" {
			return r
		}
		if r := v.StatusMessages.reason(); r != "" {
			return r
		}
		return strings.TrimSpace(firstNonEmpty(string(v.ErrorDescription), string(v.Message), string(v.Error), string(v.Title)))
	}
	var s string
	if json.Unmarshal(body, &s) == nil {
		return strings.TrimSpace(s)
	}
	if strings.HasPrefix(trimmed, "<") || !utf8.ValidString(trimmed) {
		return "" // an HTML error page or binary says nothing useful
	}
	return trimmed
}

// jwtLike matches a compact JWT, in case coreplus echoes the token it refused.
var jwtLike = regexp.MustCompile(`eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*`)

// scrubber returns a function that removes from coreplus's text anything the
// request carried that must not reach a log: credentials, the token, the
// query (names, dates of birth, phone numbers) and the body's values.
func (a *API) scrubber(u *url.URL, body any) func(string) string {
	var secret []string
	for _, s := range a.secrets {
		if s != "" {
			secret = append(secret, s)
		}
	}
	if u.RawQuery != "" {
		secret = append(secret, u.RawQuery, "?"+u.RawQuery)
		for _, vals := range u.Query() {
			for _, v := range vals {
				secret = append(secret, v, url.QueryEscape(v), url.PathEscape(v))
			}
		}
	}
	if body != nil {
		if raw, err := json.Marshal(body); err == nil {
			var tree any
			if json.Unmarshal(raw, &tree) == nil {
				secret = appendStrings(secret, tree)
			}
		}
	}
	// Longest first, so a value is never half-replaced by a shorter one inside it.
	sort.Slice(secret, func(i, j int) bool { return len(secret[i]) > len(secret[j]) })
	return func(s string) string {
		s = jwtLike.ReplaceAllString(s, "[token]")
		for _, v := range secret {
			if len(v) >= 3 {
				s = strings.ReplaceAll(s, v, "[redacted]")
			}
		}
		if len(s) > maxReason {
			cut := maxReason
			for cut > 0 && !utf8.RuneStart(s[cut]) {
				cut--
			}
			s = s[:cut] + "…"
		}
		return s
	}
}

// appendStrings collects the string leaves of decoded JSON.
func appendStrings(dst []string, v any) []string {
	switch t := v.(type) {
	case string:
		return append(dst, t)
	case []any:
		for _, x := range t {
			dst = appendStrings(dst, x)
		}
	case map[string]any:
		for _, x := range t {
			dst = appendStrings(dst, x)
		}
	}
	return dst
}

// retryAfter reads a Retry-After header given in seconds or as an HTTP date.
func retryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(h, 64); err == nil {
		if secs <= 0 || secs > 24*3600 {
			return 0
		}
		return time.Duration(secs * float64(time.Second))
	}
	if t, err := http.ParseTime(h); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}
