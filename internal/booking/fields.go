package booking

import (
	"net/mail"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
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

// checkName normalises a typed name and gives the message for a bad one,
// or "".
func checkName(label, lowerLabel, typed string) (name, problem string) {
	clean, ok := typedLine(typed)
	if !ok {
		return "", unreadableProblem(lowerLabel)
	}
	name = collapseSpaces(clean)
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		return name, "Enter your " + lowerLabel
	case n > MaxNameLength:
		return name, label + " must be " + strconv.Itoa(MaxNameLength) + " characters or fewer"
	case !printable(name):
		return name, label + " must only include letters, spaces, hyphens and apostrophes"
	}
	return name, ""
}

// checkEmail normalises a typed email address and gives the message for
// one that is unreadable, too long or not an address, or "". An address
// that is only spaces comes back as "" with no message: whether one is
// needed is the form's to say.
func checkEmail(typed string) (email, problem string) {
	clean, ok := typedLine(typed)
	if !ok || strings.ContainsAny(clean, string([]rune{zeroWidthNonJoiner, zeroWidthJoiner})) {
		return "", unreadableProblem("email address")
	}
	email = strings.TrimSpace(clean)
	switch {
	case email == "":
		return "", ""
	case utf8.RuneCountInString(email) > MaxEmailLength:
		return email, "Email address must be " + strconv.Itoa(MaxEmailLength) + " characters or fewer"
	case !validEmail(email):
		return email, "Enter an email address in the correct format, like name@example.com"
	}
	return email, ""
}

// parseMobile normalises a typed mobile number, or gives the message for
// one that is not an Australian mobile. Format characters are dropped
// rather than refused (see NormaliseMobile).
func parseMobile(typed string) (mobile, problem string) {
	if _, ok := typedLine(strings.Map(dropFormat, typed)); !ok {
		return "", unreadableProblem("mobile number")
	}
	if m, ok := NormaliseMobile(typed); ok {
		return m, ""
	}
	return "", "Enter an Australian mobile number, like 0412 345 678"
}

// checkNote normalises a typed note (see NormaliseNote; in NFC, tabs and
// line ends kept) and gives the message for one that is unreadable or
// longer than limit, or "".
func checkNote(typed string, limit int) (note, problem string) {
	clean, ok := typedText(typed, unreadable)
	if !ok {
		return "", unreadableProblem("note")
	}
	note = NormaliseNote(clean)
	if utf8.RuneCountInString(note) > limit {
		return note, "Your note must be " + strconv.Itoa(limit) + " characters or fewer"
	}
	return note, ""
}

// unreadableProblem is the message for a field holding a character that
// typedText refuses. It never quotes the character: it may be invisible,
// or bytes that are not text at all.
func unreadableProblem(lowerLabel string) string {
	return "Type your " + lowerLabel + " again: it has an invisible or unreadable character we can't use"
}

// typedText checks a field as typed and returns it in Unicode NFC, so that
// "José" is the same name in coreplus however the patient's keyboard spelt
// it. ok is false when the text is not valid UTF-8 or holds a rune that
// refused is true of.
func typedText(s string, refused func(rune) bool) (string, bool) {
	if !utf8.ValidString(s) || strings.ContainsFunc(s, refused) {
		return "", false
	}
	return norm.NFC.String(s), true
}

// typedLine is typedText for a one-line field: a name, an email address or
// a mobile number.
func typedLine(s string) (string, bool) { return typedText(s, unreadableInLine) }

// unreadable reports whether r is a character no field takes, because
// nobody can see it or it is not text: U+FFFD (what a browser or Go makes
// of bytes that are not UTF-8), a control character, a format character
// (zero-width spaces and joiners, bidi overrides and isolates, byte order
// mark, soft hyphen), a private-use character (shown as a box anywhere but
// the patient's device) or a noncharacter. Tab and line ends are typed
// whitespace: a name collapses them, a note keeps them. The zero-width
// joiner and non-joiner are spelling, not noise: Persian and Indic names
// are typed with them, and emoji in a note are joined by them, so only an
// email address refuses them.
func unreadable(r rune) bool {
	switch r {
	case '\t', '\n', '\r', zeroWidthNonJoiner, zeroWidthJoiner:
		return false
	case utf8.RuneError:
		return true
	}
	return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co, unicode.Noncharacter_Code_Point)
}

// unreadableInLine also refuses code points that Unicode (as of Go's
// tables) has not assigned, which no name, address or number holds. A
// note may have them: a phone may offer emoji newer than the tables.
func unreadableInLine(r rune) bool { return unreadable(r) || unassigned(r) }

// unassigned reports whether r is in no general category. (Go's unicode.C
// holds the unassigned code points too, so its parts are named here.)
func unassigned(r rune) bool {
	return !unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z,
		unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs)
}

// The joiners a name or a note may hold (see unreadable).
const (
	zeroWidthNonJoiner = '\u200C'
	zeroWidthJoiner    = '\u200D'
)

// dropFormat maps format characters (see unreadable) to nothing.
func dropFormat(r rune) rune {
	if unicode.Is(unicode.Cf, r) {
		return -1
	}
	return r
}

// NormaliseMobile turns an Australian mobile number in any common form
// ("0412 345 678", "+61 412 345 678", "61-412-345-678", "(04) 1234 5678")
// into "0412345678". ok is false for anything else. Format characters
// are dropped: a number copied from a phone's contacts or a chat often
// comes wrapped in invisible bidi marks, and only digits are kept anyway.
func NormaliseMobile(s string) (string, bool) {
	var b strings.Builder
	for i, r := range strings.TrimSpace(strings.Map(dropFormat, s)) {
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
	return at > 0 && strings.Contains(domain, ".") && !strings.HasSuffix(domain, ".") && !strings.ContainsAny(s, " \t") &&
		!strings.ContainsFunc(s, notPrintable)
}

// notPrintable catches what TrimSpace leaves inside an address that
// unreadable lets through: spaces other than ' ', such as a no-break space.
func notPrintable(r rune) bool { return !unicode.IsPrint(r) }

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
		if r == zeroWidthNonJoiner || r == zeroWidthJoiner {
			continue // spelling, though not printed (see unreadable)
		}
		if !unicode.IsPrint(r) || strings.ContainsRune("<>{}[]@#$%^*=_|\\/~`\"", r) || unicode.IsDigit(r) {
			return false
		}
	}
	return true
}
