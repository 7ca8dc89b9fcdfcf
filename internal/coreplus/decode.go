package coreplus

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Layouts coreplus uses. We always send timeLayout; responses vary (see ParseTime).
const (
	timeLayout = "2006-01-02T15:04:05Z07:00"
	dateLayout = "2006-01-02"
)

// Parse errors never repeat their input: it may be a date of birth.
var (
	errTimeFormat = errors.New("coreplus: time is not an ISO 8601 date-time with a UTC offset")
	errDateFormat = errors.New("coreplus: date is not YYYY-MM-DD (optionally followed by a time)")
)

// offsetLayouts are tried in order once spaces before the offset are gone;
// time.Parse accepts fractional seconds after the seconds on its own.
var offsetLayouts = []string{
	"2006-01-02T15:04:05Z07:00",
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04:05Z07",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04Z0700",
	"2006-01-02T15:04Z07",
}

// ParseTime reads a coreplus date-time. It accepts "2025-03-04T09:00:00+10:00",
// the appointment form with a space before the offset ("... +10:00"), "Z",
// "+1000"-style offsets, fractional seconds, a space instead of the "T", and
// times without seconds. The result keeps the offset it was written with.
// A time with no offset is refused: the zone it means cannot be known here.
func ParseTime(s string) (time.Time, error) {
	s = normalizeDateTime(s)
	if s == "" {
		return time.Time{}, errTimeFormat
	}
	for _, layout := range offsetLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errTimeFormat
}

// normalizeDateTime turns the variants coreplus sends into plain ISO 8601:
// "T" between date and time, and no spaces before the offset.
func normalizeDateTime(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 10 && s[10] == ' ' {
		s = s[:10] + "T" + strings.TrimLeft(s[10:], " ")
	}
	if len(s) <= 10 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:10])
	for i := 10; i < len(s); i++ {
		if s[i] == ' ' {
			j := i
			for j < len(s) && s[j] == ' ' {
				j++
			}
			if j < len(s) && (s[j] == '+' || s[j] == '-' || s[j] == 'Z') {
				i = j - 1
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// ParseDate reads a calendar date: "1988-11-20", "1988-11-20T00:00:00" (how
// coreplus returns a date of birth), or either with an offset. The date is
// taken as written; an offset never moves it to another day.
func ParseDate(s string) (Date, error) {
	s = normalizeDateTime(s)
	if len(s) < len(dateLayout) {
		return Date{}, errDateFormat
	}
	day, err := time.Parse(dateLayout, s[:len(dateLayout)])
	if err != nil {
		return Date{}, errDateFormat
	}
	if len(s) > len(dateLayout) && !localDateTime(s) {
		if _, err := ParseTime(s); err != nil {
			return Date{}, errDateFormat
		}
	}
	d := DateOf(day)
	if !d.Valid() {
		return Date{}, errDateFormat
	}
	return d, nil
}

// localDateTime reports a date-time with no offset, as in "1988-11-20T00:00:00".
func localDateTime(s string) bool {
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04"} {
		if _, err := time.Parse(layout, s); err == nil {
			return true
		}
	}
	return false
}

// DateOf is the calendar date of t in t's own location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}
}

// String formats d as "2006-01-02", the form coreplus expects; the zero Date is "".
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// IsZero reports whether d is unset.
func (d Date) IsZero() bool { return d == Date{} }

// Valid reports whether d names a real day in years 1 to 9999.
func (d Date) Valid() bool {
	if d.Year < 1 || d.Year > 9999 || d.Month < time.January || d.Month > time.December || d.Day < 1 {
		return false
	}
	return DateOf(d.In(time.UTC)) == d
}

// In is midnight at the start of d in loc.
func (d Date) In(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// Before reports whether d is an earlier day than e.
func (d Date) Before(e Date) bool {
	if d.Year != e.Year {
		return d.Year < e.Year
	}
	if d.Month != e.Month {
		return d.Month < e.Month
	}
	return d.Day < e.Day
}

// MarshalText writes d as "2006-01-02", so a Date works in JSON and forms.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText accepts whatever ParseDate does; empty text is the zero Date.
func (d *Date) UnmarshalText(b []byte) error {
	if len(bytes.TrimSpace(b)) == 0 {
		*d = Date{}
		return nil
	}
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// isNull reports a JSON null (or nothing at all), which loose types read as zero.
func isNull(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) == 0 || string(b) == "null"
}

// unquote returns the text of a JSON string, or the raw token when it is not one.
func unquote(b []byte) (string, bool, error) {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return "", true, err
		}
		return s, true, nil
	}
	return string(b), false, nil
}

// looseBool is a boolean coreplus may send as true, "true", "True", 1 or "1".
type looseBool bool

var errLooseBool = errors.New("coreplus: value is not a boolean")

func (v *looseBool) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		*v = false
		return nil
	}
	s, _, err := unquote(b)
	if err != nil {
		return errLooseBool
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1", "yes", "y":
		*v = true
	case "false", "0", "no", "n", "":
		*v = false
	default:
		return errLooseBool
	}
	return nil
}

// looseInt is an integer coreplus may send as 45, "45", "45.0" or null.
type looseInt int

var errLooseInt = errors.New("coreplus: value is not a whole number")

// maxExactFloat is the largest integer a float64 holds exactly.
const maxExactFloat = 1 << 53

func (v *looseInt) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		*v = 0
		return nil
	}
	s, quoted, err := unquote(b)
	if err != nil {
		return errLooseInt
	}
	s = strings.TrimSpace(s)
	if s == "" && quoted {
		*v = 0
		return nil
	}
	if n, err := strconv.ParseInt(s, 10, 0); err == nil {
		*v = looseInt(n)
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > maxExactFloat || math.IsInf(f, 0) {
		return errLooseInt
	}
	*v = looseInt(int(f))
	return nil
}

// looseString is text coreplus may send as a number or boolean ("7712093" or 7712093).
type looseString string

var errLooseString = errors.New("coreplus: value is not text")

func (v *looseString) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		*v = ""
		return nil
	}
	s, quoted, err := unquote(b)
	if err != nil {
		return errLooseString
	}
	if !quoted {
		switch {
		case s == "true" || s == "false":
		case json.Valid([]byte(s)) && (s[0] == '-' || (s[0] >= '0' && s[0] <= '9')):
		default:
			return errLooseString // objects and arrays are not text
		}
	}
	*v = looseString(s)
	return nil
}

// wireTime is a date-time as ParseTime reads it; empty or null is the zero time.
type wireTime time.Time

func (v *wireTime) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		*v = wireTime{}
		return nil
	}
	s, quoted, err := unquote(b)
	if err != nil || !quoted {
		return errTimeFormat
	}
	if strings.TrimSpace(s) == "" {
		*v = wireTime{}
		return nil
	}
	t, err := ParseTime(s)
	if err != nil {
		return err
	}
	*v = wireTime(t)
	return nil
}

// wireDate is a date as ParseDate reads it; empty or null is no date.
type wireDate struct{ d *Date }

func (v *wireDate) UnmarshalJSON(b []byte) error {
	v.d = nil
	if isNull(b) {
		return nil
	}
	s, quoted, err := unquote(b)
	if err != nil || !quoted {
		return errDateFormat
	}
	if strings.TrimSpace(s) == "" {
		return nil
	}
	d, err := ParseDate(s)
	if err != nil {
		return err
	}
	if d == (Date{Year: 1, Month: time.January, Day: 1}) {
		return nil // .NET's DateTime.MinValue: the field was never filled in
	}
	v.d = &d
	return nil
}
