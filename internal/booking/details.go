package booking

import (
	"strconv"
	"strings"
	"time"
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

// Validate checks the form against coreplus's limits, with today as the
// patient's current date. It returns the normalised details, or every
// problem found, in the order of the form.
func (f DetailsForm) Validate(today time.Time) (Details, []FieldError) {
	var errs []FieldError
	bad := func(field, msg string) {
		if msg != "" {
			errs = append(errs, FieldError{Field: field, Message: msg})
		}
	}
	d := Details{Consent: f.Consent}
	var msg string

	d.FirstName, msg = checkName("First name", "first name", f.FirstName)
	bad(FieldFirstName, msg)
	d.LastName, msg = checkName("Last name", "last name", f.LastName)
	bad(FieldLastName, msg)

	d.DateOfBirth, msg = ParseDateOfBirth(f.DOBDay, f.DOBMonth, f.DOBYear, today)
	bad(FieldDOB, msg)

	d.Email, msg = checkEmail(f.Email)
	if d.Email == "" && msg == "" {
		msg = "Enter your email address"
	}
	bad(FieldEmail, msg)

	if strings.TrimSpace(f.Mobile) == "" {
		bad(FieldMobile, "Enter your mobile number")
	} else {
		d.Mobile, msg = parseMobile(f.Mobile)
		bad(FieldMobile, msg)
	}

	d.Note, msg = checkNote(f.Note, MaxPatientNoteLength)
	bad(FieldNote, msg)
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
