package booking

import (
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

var fieldsToday = time.Date(2026, 11, 30, 9, 0, 0, 0, sydney)

func goodDetails() DetailsForm {
	return DetailsForm{FirstName: "Zed", LastName: "Quill", DOBDay: "14", DOBMonth: "2", DOBYear: "1983",
		Email: "zed@example.com", Mobile: "0412 345 678", Note: "Left knee", Consent: true}
}

func goodRequest() RequestForm {
	return RequestForm{FirstName: "Zed", LastName: "Quill", Email: "zed@example.com", Mobile: "0412 345 678", Note: "Left knee"}
}

// unreadableCases are the characters no typed field may pass to coreplus.
// format marks the Cf ones, which a mobile number drops instead.
var unreadableCases = []struct {
	name   string
	bad    string
	format bool
}{
	{"invalid UTF-8", "\xff\xfe", false},
	{"a lone continuation byte", "\x80", false},
	{"U+FFFD replacement character", "\uFFFD", false},
	{"U+200B zero-width space", "\u200B", true},
	{"U+202E right-to-left override", "\u202E", true},
	{"U+2066 left-to-right isolate", "\u2066", true},
	{"U+FEFF byte order mark", "\uFEFF", true},
	{"U+00AD soft hyphen", "\u00AD", true},
	{"NUL", "\x00", false},
	{"ESC, a C0 control", "\x1b", false},
	{"DEL", "\x7f", false},
	{"U+0085 next line, a C1 control", "\u0085", false},
	{"U+E000 private use", "\uE000", false},
	{"U+FFFE noncharacter", "\uFFFE", false},
}

// textFields are the typed text fields of both forms, each with the value
// a bad character goes into and the form with that value set.
var textFields = []struct {
	form, field, label string
	// in is a good value with the bad character in the middle and at the end.
	in        func(bad string) []string
	set       func(d *DetailsForm, r *RequestForm, v string)
	isRequest bool
}{
	{"details", FieldFirstName, "first name", around("Ze", "d"), func(d *DetailsForm, _ *RequestForm, v string) { d.FirstName = v }, false},
	{"details", FieldLastName, "last name", around("Qui", "ll"), func(d *DetailsForm, _ *RequestForm, v string) { d.LastName = v }, false},
	{"details", FieldEmail, "email address", around("zed", "@example.com"), func(d *DetailsForm, _ *RequestForm, v string) { d.Email = v }, false},
	{"details", FieldMobile, "mobile number", around("0412 ", "345 678"), func(d *DetailsForm, _ *RequestForm, v string) { d.Mobile = v }, false},
	{"details", FieldNote, "note", around("Left ", "knee"), func(d *DetailsForm, _ *RequestForm, v string) { d.Note = v }, false},
	{"request", FieldFirstName, "first name", around("Ze", "d"), func(_ *DetailsForm, r *RequestForm, v string) { r.FirstName = v }, true},
	{"request", FieldLastName, "last name", around("Qui", "ll"), func(_ *DetailsForm, r *RequestForm, v string) { r.LastName = v }, true},
	{"request", FieldEmail, "email address", around("zed", "@example.com"), func(_ *DetailsForm, r *RequestForm, v string) { r.Email = v }, true},
	{"request", FieldMobile, "mobile number", around("0412 ", "345 678"), func(_ *DetailsForm, r *RequestForm, v string) { r.Mobile = v }, true},
	{"request", FieldNote, "note", around("Left ", "knee"), func(_ *DetailsForm, r *RequestForm, v string) { r.Note = v }, true},
}

// around puts a bad character inside a value, and after it, where
// trimming could hide it.
func around(before, after string) func(string) []string {
	return func(bad string) []string { return []string{before + bad + after, before + after + bad} }
}

// validateWith validates the details or request form with one field set.
func validateWith(isRequest bool, set func(*DetailsForm, *RequestForm, string), v string) (accepted map[string]string, errs []FieldError) {
	d, r := goodDetails(), goodRequest()
	set(&d, &r, v)
	if isRequest {
		got, errs := r.Validate()
		return map[string]string{FieldFirstName: got.FirstName, FieldLastName: got.LastName, FieldEmail: got.Email, FieldMobile: got.Mobile, FieldNote: got.Note}, errs
	}
	got, errs := d.Validate(fieldsToday)
	return map[string]string{FieldFirstName: got.FirstName, FieldLastName: got.LastName, FieldEmail: got.Email, FieldMobile: got.Mobile, FieldNote: got.Note}, errs
}

func TestUnreadableCharactersAreRefusedInEveryField(t *testing.T) {
	for _, f := range textFields {
		for _, c := range unreadableCases {
			for i, v := range f.in(c.bad) {
				where := [...]string{"inside", "at the end"}[i]
				t.Run(f.form+"/"+f.field+"/"+c.name+"/"+where, func(t *testing.T) {
					got, errs := validateWith(f.isRequest, f.set, v)
					if f.field == FieldMobile && c.format {
						// A mobile drops format characters: only digits are kept.
						if len(errs) != 0 || got[FieldMobile] != "0412345678" {
							t.Fatalf("mobile %q: %v, kept %q; want 0412345678", v, errs, got[FieldMobile])
						}
						return
					}
					want := "Type your " + f.label + " again: it has an invisible or unreadable character we can't use"
					if len(errs) != 1 || errs[0].Field != f.field || errs[0].Message != want {
						t.Fatalf("%q: errors %+v, want only %q on %s", v, errs, want, f.field)
					}
					if strings.Contains(errs[0].Message, c.bad) || strings.ContainsRune(errs[0].Message, utf8.RuneError) {
						t.Errorf("the message quotes the character: %q", errs[0].Message)
					}
				})
			}
		}
	}
}

func TestUnassignedCodePointsAreRefusedInLinesButNotNotes(t *testing.T) {
	const unassigned = "\u0378" // unassigned in Unicode 15
	if unicode.In(0x0378, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z, unicode.Cc, unicode.Cf, unicode.Co) {
		t.Skip("U+0378 has been assigned")
	}
	for _, f := range textFields {
		got, errs := validateWith(f.isRequest, f.set, f.in(unassigned)[0])
		if f.field == FieldNote {
			// A phone may offer emoji newer than Go's tables.
			if len(errs) != 0 || got[FieldNote] != "Left "+unassigned+"knee" {
				t.Errorf("%s note: %v, %q", f.form, errs, got[FieldNote])
			}
			continue
		}
		if len(errs) != 1 || errs[0].Field != f.field || !strings.HasPrefix(errs[0].Message, "Type your "+f.label+" again") {
			t.Errorf("%s %s: %+v", f.form, f.field, errs)
		}
	}
}

func TestNamesInEveryScriptAreKeptInNFC(t *testing.T) {
	for _, c := range []struct{ typed, want string }{
		{"Zoë", "Zoë"},
		{"Zoe\u0308", "Zoë"},
		{"O’Brien", "O’Brien"},
		{"O'Brien", "O'Brien"},
		{"Nguyễn", "Nguyễn"},
		{"Nguye\u0302\u0303n", "Nguyễn"}, // as a Vietnamese keyboard may send it
		{"Jose\u0301", "José"},
		{"José", "José"},
		{"李", "李"},
		{"Ana-María", "Ana-María"},
		{"Ana-Mari\u0301a", "Ana-María"},
		{"Ἀλέξανδρος", "Ἀλέξανδρος"},
		{"Анна Мария", "Анна Мария"},
		{"محمد", "محمد"},
		{"de\tla\u00A0Cruz", "de la Cruz"}, // typed whitespace collapses, as before
	} {
		for _, f := range textFields {
			if f.field != FieldFirstName && f.field != FieldLastName {
				continue
			}
			got, errs := validateWith(f.isRequest, f.set, c.typed)
			if len(errs) != 0 || got[f.field] != c.want {
				t.Errorf("%s %s %+q: %v, kept %+q; want %+q", f.form, f.field, c.typed, errs, got[f.field], c.want)
			}
		}
	}
}

func TestNFCComesBeforeTheLengthLimit(t *testing.T) {
	// 50 letters typed decomposed are 100 code points but 50 characters.
	d := goodDetails()
	d.FirstName = strings.Repeat("e\u0301", MaxNameLength)
	got, errs := d.Validate(fieldsToday)
	if len(errs) != 0 || got.FirstName != strings.Repeat("é", MaxNameLength) {
		t.Errorf("50 decomposed letters: %v, %+q", errs, got.FirstName)
	}
	d.FirstName += "e\u0301"
	if _, errs := d.Validate(fieldsToday); len(errs) != 1 || errs[0].Message != "First name must be 50 characters or fewer" {
		t.Errorf("51 decomposed letters: %v", errs)
	}
}

func TestEmailAndNoteAreKeptInNFC(t *testing.T) {
	d := goodDetails()
	d.Email, d.Note = "jose\u0301@example.com", "Jose\u0301 says\r\n\tthe left knee"
	got, errs := d.Validate(fieldsToday)
	if len(errs) != 0 || got.Email != "josé@example.com" || got.Note != "José says\n\tthe left knee" {
		t.Errorf("details: %v, %+q, %+q", errs, got.Email, got.Note)
	}
	r := goodRequest()
	r.Email, r.Note = d.Email, d.Note
	req, errs := r.Validate()
	if len(errs) != 0 || req.Email != "josé@example.com" || req.Note != "José says\n\tthe left knee" {
		t.Errorf("request: %v, %+q, %+q", errs, req.Email, req.Note)
	}
}

func TestEmailRefusesSpacesOtherThanAtItsEnds(t *testing.T) {
	for _, email := range []string{"zed\u00A0q@example.com", "zed@exam\u3000ple.com", "zed@example.com\u2028x"} {
		d := goodDetails()
		d.Email = email
		if _, errs := d.Validate(fieldsToday); len(errs) != 1 || errs[0].Message != "Enter an email address in the correct format, like name@example.com" {
			t.Errorf("%+q: %v", email, errs)
		}
	}
	d := goodDetails()
	d.Email = "\u00A0zed@example.com\t"
	if got, errs := d.Validate(fieldsToday); len(errs) != 0 || got.Email != "zed@example.com" {
		t.Errorf("spaces around an address: %v, %q", errs, got.Email)
	}
}

func TestMobileDropsTheBidiMarksOfAPastedNumber(t *testing.T) {
	for _, typed := range []string{"\u202A+61 412 345 678\u202C", "\u2066+61412345678\u2069", "\u200E0412 345 678"} {
		if got, ok := NormaliseMobile(typed); !ok || got != "0412345678" {
			t.Errorf("NormaliseMobile(%+q) = %q, %v", typed, got, ok)
		}
	}
	// Only format characters: nothing left to call.
	r := goodRequest()
	r.Email, r.Mobile = "", "\u200B"
	if _, errs := r.Validate(); len(errs) != 1 || errs[0].Field != FieldMobile {
		t.Errorf("a mobile of a zero-width space: %v", errs)
	}
}

func TestOtherFieldsAreCheckedBesideAnUnreadableOne(t *testing.T) {
	d := goodDetails()
	d.FirstName, d.LastName, d.Email = "\xff\xfeZed", "", "zed"
	_, errs := d.Validate(fieldsToday)
	var fields []string
	for _, e := range errs {
		fields = append(fields, e.Field)
	}
	if strings.Join(fields, ",") != "first-name,last-name,email" {
		t.Errorf("errors on %v, want first name, last name and email in the form's order", fields)
	}
}

// TestJoinersAreSpellingInNamesAndNotes: the zero-width non-joiner and
// joiner are how Persian and Indic names are typed and how emoji are
// joined, so names and notes keep them; an email address refuses them.
func TestJoinersAreSpellingInNamesAndNotes(t *testing.T) {
	d := goodDetails()
	d.FirstName = "علی\u200cرضا" // Alireza, typed with a ZWNJ
	d.LastName = "क्\u200dष"     // a Devanagari conjunct held with a ZWJ
	d.Note = "Bringing my daughter \U0001F468\u200d\U0001F467"
	got, errs := d.Validate(fieldsToday)
	if len(errs) != 0 {
		t.Fatalf("a name or note with joiners refused: %+v", errs)
	}
	if got.FirstName != d.FirstName || got.LastName != d.LastName || got.Note != d.Note {
		t.Errorf("joiners not kept: %+q %+q %+q", got.FirstName, got.LastName, got.Note)
	}
	for _, j := range []string{"\u200c", "\u200d"} {
		d := goodDetails()
		d.Email = "zed" + j + "@example.com"
		if _, errs := d.Validate(fieldsToday); len(errs) != 1 || errs[0].Field != FieldEmail {
			t.Errorf("email with %+q: %+v, want the email refused", j, errs)
		}
		r := goodRequest()
		r.Email = "zed@example.com" + j
		if _, errs := r.Validate(); len(errs) != 1 || errs[0].Field != FieldEmail {
			t.Errorf("request email with %+q: %+v, want the email refused", j, errs)
		}
	}
}

// TestSameNameReadsAccentsEitherWay: a coreplus client whose name is held
// with decomposed accents is the same person as a patient typing it
// composed, so matching does not make a duplicate client.
func TestSameNameReadsAccentsEitherWay(t *testing.T) {
	for _, tc := range []struct {
		coreplus, typed string
		same            bool
	}{
		{"Jose\u0301", "José", true},
		{"NGUYE\u0302\u0303N", "nguyễn", true},
		{"Zoe  Quill", "zoe quill", true},
		{"Jose", "José", false},
	} {
		if got := sameName(tc.coreplus, tc.typed); got != tc.same {
			t.Errorf("sameName(%+q, %+q) = %v, want %v", tc.coreplus, tc.typed, got, tc.same)
		}
	}
}
