package booking

import (
	"net/mail"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits coreplus enforces on a client and an appointment.
const (
	MaxNameLength  = 50
	MaxEmailLength = 50
	MaxNoteLength  = 300
	// MaxPatientNoteLength leaves room in coreplus's notes for the
	// "Booked online (ref …)" marker the portal adds on its own line.
	MaxPatientNoteLength = 270
)

// The marker must always fit beside the longest note a patient may write.
var _ = [MaxNoteLength - (MaxPatientNoteLength + 1 + markerLength)]struct{}{}

// Details are a patient's checked, normalised personal details.
type Details struct {
	FirstName   string
	LastName    string
	DateOfBirth time.Time // a calendar date; midnight UTC
	Email       string
	Mobile      string // "04XXXXXXXX"
	Note        string
	Consent     bool
}

// DetailsForm is what the patient typed, kept as typed so a form with a
// problem comes back exactly as it was sent.
type DetailsForm struct {
	FirstName string
	LastName  string
	DOBDay    string
	DOBMonth  string
	DOBYear   string
	Email     string
	Mobile    string
	Note      string
	Consent   bool
}

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

// Validate checks the form against coreplus's limits, with today as the
// patient's current date. It returns the normalised details, or every
// problem found, in the order of the form.
func (f DetailsForm) Validate(today time.Time) (Details, []FieldError) {
	var errs []FieldError
	bad := func(field, msg string) { errs = append(errs, FieldError{Field: field, Message: msg}) }
	d := Details{Note: NormaliseNote(f.Note), Consent: f.Consent}

	d.FirstName = collapseSpaces(f.FirstName)
	switch n := utf8.RuneCountInString(d.FirstName); {
	case n == 0:
		bad(FieldFirstName, "Enter your first name")
	case n > MaxNameLength:
		bad(FieldFirstName, "First name must be 50 characters or fewer")
	case !printable(d.FirstName):
		bad(FieldFirstName, "First name must only include letters, spaces, hyphens and apostrophes")
	}
	d.LastName = collapseSpaces(f.LastName)
	switch n := utf8.RuneCountInString(d.LastName); {
	case n == 0:
		bad(FieldLastName, "Enter your last name")
	case n > MaxNameLength:
		bad(FieldLastName, "Last name must be 50 characters or fewer")
	case !printable(d.LastName):
		bad(FieldLastName, "Last name must only include letters, spaces, hyphens and apostrophes")
	}

	dob, msg := ParseDateOfBirth(f.DOBDay, f.DOBMonth, f.DOBYear, today)
	if msg != "" {
		bad(FieldDOB, msg)
	}
	d.DateOfBirth = dob

	d.Email = strings.TrimSpace(f.Email)
	switch {
	case d.Email == "":
		bad(FieldEmail, "Enter your email address")
	case utf8.RuneCountInString(d.Email) > MaxEmailLength:
		bad(FieldEmail, "Email address must be 50 characters or fewer")
	case !validEmail(d.Email):
		bad(FieldEmail, "Enter an email address in the correct format, like name@example.com")
	}

	if strings.TrimSpace(f.Mobile) == "" {
		bad(FieldMobile, "Enter your mobile number")
	} else if m, ok := NormaliseMobile(f.Mobile); ok {
		d.Mobile = m
	} else {
		bad(FieldMobile, "Enter an Australian mobile number, like 0412 345 678")
	}

	if utf8.RuneCountInString(d.Note) > MaxPatientNoteLength {
		bad(FieldNote, "Your note must be "+strconv.Itoa(MaxPatientNoteLength)+" characters or fewer")
	}
	if !f.Consent {
		bad(FieldConsent, "Confirm that you agree to the privacy policy")
	}
	if len(errs) > 0 {
		return Details{}, errs
	}
	return d, nil
}

// ParseDateOfBirth reads a date of birth typed as day, month and year. It
// returns the date and "" or a message for the patient.
func ParseDateOfBirth(day, month, year string, today time.Time) (time.Time, string) {
	day, month, year = strings.TrimSpace(day), strings.TrimSpace(month), strings.TrimSpace(year)
	if day == "" && month == "" && year == "" {
		return time.Time{}, "Enter your date of birth"
	}
	d, err1 := strconv.Atoi(day)
	m, err2 := strconv.Atoi(month)
	y, err3 := strconv.Atoi(year)
	if err1 != nil || err2 != nil || err3 != nil || len(year) != 4 || m < 1 || m > 12 || d < 1 || d > 31 {
		return time.Time{}, "Enter a real date of birth"
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d || y < 1900 {
		return time.Time{}, "Enter a real date of birth"
	}
	todayDate := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, time.UTC)
	if !t.Before(todayDate) {
		return time.Time{}, "Date of birth must be in the past"
	}
	return t, ""
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

// Form turns saved details back into a form, to show them again.
func (d Details) Form() DetailsForm {
	f := DetailsForm{FirstName: d.FirstName, LastName: d.LastName, Email: d.Email, Mobile: d.Mobile, Note: d.Note, Consent: d.Consent}
	if !d.DateOfBirth.IsZero() {
		f.DOBDay = strconv.Itoa(d.DateOfBirth.Day())
		f.DOBMonth = strconv.Itoa(int(d.DateOfBirth.Month()))
		f.DOBYear = strconv.Itoa(d.DateOfBirth.Year())
	}
	return f
}
