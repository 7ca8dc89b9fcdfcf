package booking

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/clinic-booking/portal/internal/coreplus"
)

// Fuzz targets for every form and query the portal accepts, at the level
// of the code that reads them: none may panic, and what they accept must
// be within coreplus's limits, and be text a person can read (see
// unreadableIn).

// unreadableIn says what is wrong with accepted text that is not valid
// UTF-8, not in NFC, or holds U+FFFD, or a control or format character
// other than those in keep; "" if nothing.
// keepIn is what each accepted field may hold of the controls and format
// characters: names and notes their joiners, a note its tabs and line ends.
var keepIn = map[string]string{
	"first name": "\u200c\u200d", "last name": "\u200c\u200d", "note": "\t\n\u200c\u200d",
}

func unreadableIn(s, keep string) string {
	switch {
	case !utf8.ValidString(s):
		return "not UTF-8"
	case !norm.NFC.IsNormalString(s):
		return "not NFC"
	}
	for _, r := range s {
		if r == utf8.RuneError || (unicode.In(r, unicode.Cf, unicode.Cc) && !strings.ContainsRune(keep, r)) {
			return "holds " + fmt.Sprintf("%U", r)
		}
	}
	return ""
}

func FuzzDetailsForm(f *testing.F) {
	f.Add("Zephyrine", "Quillfeather", "14", "2", "1983", "zq@example.com", "0499 111 222", "Left knee", true)
	f.Add("", "", "", "", "", "", "", "", false)
	f.Add("é"+strings.Repeat("a", 60), "<script>", "31", "2", "2000", "a@b", "+61 412 345 678", strings.Repeat("ü", 301), true)
	f.Add("Jo", "O'Neil", "29", "2", "2024", " A@B.CO ", "(04) 1234-5678", "\x00\xff", true)
	f.Add("\xff\xfeZed", "Quill\u200b", "14", "2", "1983", "zed\u202e@example.com", "\u202a0412 345 678\u202c", "knee\u0085", true)
	f.Add("Jose\u0301", "Nguye\u0302\u0303n", "14", "2", "1983", "jose\u0301@example.com", "0412 345 678", "Jose\u0301\r\n\tknee", true)
	today := time.Date(2026, 11, 30, 9, 0, 0, 0, sydney)
	f.Fuzz(func(t *testing.T, first, last, day, month, year, email, mobile, note string, consent bool) {
		form := DetailsForm{FirstName: first, LastName: last, DOBDay: day, DOBMonth: month, DOBYear: year,
			Email: email, Mobile: mobile, Note: note, Consent: consent}
		d, errs := form.Validate(today)
		if len(errs) > 0 {
			for _, e := range errs {
				if e.Field == "" || e.Message == "" {
					t.Fatalf("an error with no field or message: %+v", e)
				}
			}
			return
		}
		switch {
		case d.FirstName == "" || utf8.RuneCountInString(d.FirstName) > MaxNameLength,
			d.LastName == "" || utf8.RuneCountInString(d.LastName) > MaxNameLength:
			t.Fatalf("accepted name %q %q", d.FirstName, d.LastName)
		case utf8.RuneCountInString(d.Email) > MaxEmailLength || !strings.Contains(d.Email, "@"):
			t.Fatalf("accepted email %q", d.Email)
		case len(d.Mobile) != 10 || !strings.HasPrefix(d.Mobile, "04"):
			t.Fatalf("accepted mobile %q", d.Mobile)
		case utf8.RuneCountInString(d.Note) > MaxPatientNoteLength:
			t.Fatalf("accepted a note of %d characters", utf8.RuneCountInString(d.Note))
		case !d.DateOfBirth.Before(today) || !consent:
			t.Fatalf("accepted date of birth %v, consent %v", d.DateOfBirth, consent)
		}
		for what, v := range map[string]string{"first name": d.FirstName, "last name": d.LastName, "email": d.Email, "mobile": d.Mobile} {
			if bad := unreadableIn(v, keepIn[what]); bad != "" {
				t.Fatalf("accepted %s %+q: %s", what, v, bad)
			}
		}
		if bad := unreadableIn(d.Note, keepIn["note"]); bad != "" {
			t.Fatalf("accepted note %+q: %s", d.Note, bad)
		}
	})
}

func FuzzRequestForm(f *testing.F) {
	f.Add("Ada", "Lovelace", "ada@example.com", "", "mon,sat", "morning", "call after 3", "loc-1", "type-1", "any")
	f.Add("", "", "", "", "", "", "", "", "", "")
	f.Add("A", "B", "", "0412 345 678", "sun,mon,mon", "night", strings.Repeat("x", 400), "../../etc", "' OR 1=1", "a b")
	f.Add("\xff\xfeZed", "Quill\u00ad", "zed\u2066@example.com", "\u200e0412 345 678", "mon", "", "knee\x1b", "", "", "")
	f.Add("Ana-Mari\u0301a", "李", "", "0412345678", "", "", "Jose\u0301\r\n", "", "", "")
	f.Fuzz(func(t *testing.T, first, last, email, mobile, days, times, note, loc, svc, prac string) {
		form := RequestForm{FirstName: first, LastName: last, Email: email, Mobile: mobile,
			Days: strings.Split(days, ","), Times: strings.Split(times, ","), Note: note,
			LocationID: loc, ServiceID: svc, PractitionerID: prac}
		r, errs := form.Validate()
		if len(errs) > 0 {
			return
		}
		if r.FirstName == "" || r.LastName == "" || (r.Email == "" && r.Mobile == "") ||
			utf8.RuneCountInString(r.Note) > MaxNoteLength || utf8.RuneCountInString(r.Email) > MaxEmailLength {
			t.Fatalf("accepted %+v", r)
		}
		for what, v := range map[string]string{"first name": r.FirstName, "last name": r.LastName, "email": r.Email, "mobile": r.Mobile} {
			if bad := unreadableIn(v, keepIn[what]); bad != "" {
				t.Fatalf("accepted %s %+q: %s", what, v, bad)
			}
		}
		if bad := unreadableIn(r.Note, keepIn["note"]); bad != "" {
			t.Fatalf("accepted note %+q: %s", r.Note, bad)
		}
		for _, d := range r.Days {
			if !slices.Contains(RequestDays, d) {
				t.Fatalf("accepted day %q", d)
			}
		}
		for _, tm := range r.Times {
			if !slices.Contains(RequestTimes, tm) {
				t.Fatalf("accepted time %q", tm)
			}
		}
		for _, id := range []string{r.LocationID, r.ServiceID, r.PractitionerID} {
			if id != "" && !idPattern.MatchString(id) {
				t.Fatalf("kept id %q", id)
			}
		}
	})
}

// fuzzRefAPI answers the reference data Resolve reads.
type fuzzRefAPI struct{ Coreplus }

func (fuzzRefAPI) ListLocations(context.Context) ([]coreplus.Location, error) {
	return []coreplus.Location{
		{ID: "syd", Name: "Sydney", TimeZoneName: "Australia/Sydney"},
		{ID: "bne", Name: "Brisbane", TimeZoneName: "Australia/Brisbane"},
	}, nil
}

func (fuzzRefAPI) ListPractitioners(context.Context) ([]coreplus.Practitioner, error) {
	return []coreplus.Practitioner{{ID: "tom", FirstName: "Tom"}, {ID: "mei", FirstName: "Mei"}}, nil
}

func (fuzzRefAPI) ListAppointmentTypes(context.Context) ([]coreplus.AppointmentType, error) {
	return []coreplus.AppointmentType{{ID: "std", Description: "Standard", DurationMinutes: 30}}, nil
}

// FuzzResolveChoice reads the choices every step's query (and every form's
// hidden fields) carries.
func FuzzResolveChoice(f *testing.F) {
	f.Add("syd", "std", "tom", "2026-12-01", "2026-12-01T09:00:00+11:00", "tom", false)
	f.Add("bne", "std", "any", "", "2026-12-01T09:00:00+10:00", "mei", true)
	f.Add("", "", "", "2026-02-30", "yesterday", "", false)
	f.Add("syd", "std", "tom", "", "2026-12-01T09:00:00+11:00", "mei", false)
	svc := NewService(Clinic{Slug: "c", Practitioners: map[string]PractitionerProfile{"mei": {Services: []string{"other"}}}}, fuzzRefAPI{}, nil, nil)
	f.Fuzz(func(t *testing.T, loc, service, prac, week, slot, with string, fromWeek bool) {
		sel, err := svc.Resolve(context.Background(), Choice{LocationID: loc, ServiceID: service, PractitionerID: prac,
			Week: week, FromWeek: fromWeek, Slot: slot, With: with})
		if err != nil {
			var be *Error
			if !errors.As(err, &be) || (be.Code != CodeInvalid && be.Code != CodeNotFound) || be.Message == "" {
				t.Fatalf("error %v is not a patient-safe invalid choice", err)
			}
			return
		}
		if sel.Location != nil && loc != "" && sel.Location.ID != loc {
			t.Fatalf("asked for location %q, got %q", loc, sel.Location.ID)
		}
		if sel.Slot != nil && (sel.Location == nil || sel.Service == nil || !sel.PractitionerChosen() ||
			!sel.Slot.End.Equal(sel.Slot.Start.Add(30*time.Minute))) {
			t.Fatalf("a slot without its choices: %+v", sel)
		}
	})
}
