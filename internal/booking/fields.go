package booking

import (
	"net/mail"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// FieldError is one problem with one field. Field is the id of the input
// to take the patient to.
type FieldError struct {
	Field   string
	Message string
}

// Form field ids, shared by the page and its error summary.
const (
	FieldFirstName = "first-name"
	FieldLastName  = "last-name"
	FieldDOB       = "dob-day"
	FieldEmail     = "email"
	FieldMobile    = "mobile"
	FieldNote      = "note"
	FieldConsent   = "consent"
)

// nameProblem is the message for a bad name, or "".
func nameProblem(label, lowerLabel, name string) string {
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		return "Enter your " + lowerLabel
	case n > MaxNameLength:
		return label + " must be " + strconv.Itoa(MaxNameLength) + " characters or fewer"
	case !printable(name):
		return label + " must only include letters, spaces, hyphens and apostrophes"
	}
	return ""
}

// emailProblem is the message for a typed email address that is too long
// or not an address, or "".
func emailProblem(email string) string {
	switch {
	case utf8.RuneCountInString(email) > MaxEmailLength:
		return "Email address must be " + strconv.Itoa(MaxEmailLength) + " characters or fewer"
	case !validEmail(email):
		return "Enter an email address in the correct format, like name@example.com"
	}
	return ""
}

// parseMobile normalises a typed mobile number, or gives the message for
// one that is not an Australian mobile.
func parseMobile(typed string) (mobile, problem string) {
	if m, ok := NormaliseMobile(typed); ok {
		return m, ""
	}
	return "", "Enter an Australian mobile number, like 0412 345 678"
}

// noteProblem is the message for a note longer than limit, or "".
func noteProblem(note string, limit int) string {
	if utf8.RuneCountInString(note) > limit {
		return "Your note must be " + strconv.Itoa(limit) + " characters or fewer"
	}
	return ""
}

// NormaliseMobile turns an Australian mobile number in any common form
// ("0412 345 678", "+61 412 345 678", "61-412-345-678", "(04) 1234 5678")
// into "0412345678". ok is false for anything else.
func NormaliseMobile(s string) (string, bool) {
	var b strings.Builder
	for i, r := range strings.TrimSpace(s) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')':
		case r == '+' && i == 0:
		default:
			return "", false
		}
	}
	d := b.String()
	switch {
	case len(d) == 11 && strings.HasPrefix(d, "614"):
		d = "0" + d[2:]
	case len(d) == 12 && strings.HasPrefix(d, "6104"):
		d = d[2:]
	}
	if len(d) != 10 || !strings.HasPrefix(d, "04") {
		return "", false
	}
	return d, true
}

// validEmail accepts a bare address with a dotted domain, as coreplus does.
func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	domain := s[at+1:]
	return at > 0 && strings.Contains(domain, ".") && !strings.HasSuffix(domain, ".") && !strings.ContainsAny(s, " \t")
}

// NormaliseNote trims a note and turns CRLF (what a browser sends for a
// textarea) and lone CR line ends into LF, so the notes sent are the notes
// coreplus keeps and the sweeper can compare them.
func NormaliseNote(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.TrimSpace(s)
}

func collapseSpaces(s string) string { return strings.Join(strings.Fields(s), " ") }

func printable(s string) bool {
	for _, r := range s {
		if !unicode.IsPrint(r) || strings.ContainsRune("<>{}[]@#$%^*=_|\\/~`\"", r) || unicode.IsDigit(r) {
			return false
		}
	}
	return true
}
