package coreplus

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	want := time.Date(2025, 3, 4, 9, 0, 0, 0, time.FixedZone("", 10*3600))
	good := []string{
		"2025-03-04T09:00:00+10:00",
		"2025-03-04T09:00:00 +10:00",
		"2025-03-04T09:00:00  +10:00",
		"2025-03-04T09:00:00+1000",
		"2025-03-04T09:00:00 +1000",
		"2025-03-04 09:00:00 +10:00",
		"2025-03-04T09:00:00.000+10:00",
		"2025-03-04T09:00:00.0000000 +10:00",
		"2025-03-04T09:00+10:00",
		"2025-03-04T09:00:00+10",
		"2025-03-03T23:00:00Z",
		"2025-03-03T23:00:00 Z",
		" 2025-03-04T09:00:00+10:00 ",
	}
	for _, s := range good {
		got, err := ParseTime(s)
		if err != nil {
			t.Errorf("ParseTime(%q): %v", s, err)
			continue
		}
		if !got.Equal(want) {
			t.Errorf("ParseTime(%q) = %v, want %v", s, got, want)
		}
	}
	got, _ := ParseTime("2025-03-04T09:00:00 +10:00")
	if _, off := got.Zone(); off != 10*3600 {
		t.Errorf("offset %d, want the +10:00 it was written with", off)
	}
	frac, _ := ParseTime("2025-03-04T09:00:00.25+10:00")
	if frac.Nanosecond() != 250_000_000 {
		t.Errorf("fraction lost: %v", frac)
	}
	bad := []string{"", "2025-03-04", "2025-03-04T09:00:00", "04/03/2025 9:00", "2025-13-04T09:00:00+10:00",
		"2025-03-04T09:00:00+10:00x", "2025-03-04T25:00:00+10:00", "null", "1988-11-20T00:00:00 +10:00 extra"}
	for _, s := range bad {
		if _, err := ParseTime(s); err == nil {
			t.Errorf("ParseTime(%q) accepted it", s)
		} else if s != "" && strings.Contains(err.Error(), s) {
			t.Errorf("error %q repeats its input", err)
		}
	}
}

func TestParseDate(t *testing.T) {
	want := Date{1988, time.November, 20}
	for _, s := range []string{"1988-11-20", "1988-11-20T00:00:00", "1988-11-20T00:00:00.000", "1988-11-20 00:00:00",
		"1988-11-20T00:00:00+10:00", "1988-11-20T23:30:00 -05:00", "1988-11-20T00:00:00Z", " 1988-11-20 "} {
		got, err := ParseDate(s)
		if err != nil || got != want {
			t.Errorf("ParseDate(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "1988-11-2", "20/11/1988", "1988-02-30", "0000-01-01", "1988-11-20T", "1988-11-20Tgarbage", "1988-11-20x"} {
		if d, err := ParseDate(s); err == nil {
			t.Errorf("ParseDate(%q) = %v, want an error", s, d)
		}
	}
	if want.String() != "1988-11-20" || (Date{}).String() != "" || !want.Valid() || (Date{2025, 2, 29}).Valid() || !(Date{}).IsZero() {
		t.Error("Date methods")
	}
	if !(Date{2024, 2, 29}).Before(Date{2024, 3, 1}) || want.Before(want) {
		t.Error("Date.Before")
	}
}

func TestWireDate(t *testing.T) {
	var v struct {
		A, B, C, D wireDate
	}
	if err := json.Unmarshal([]byte(`{"a":"1988-11-20T00:00:00","b":null,"c":"","d":"0001-01-01T00:00:00"}`), &v); err != nil {
		t.Fatal(err)
	}
	if v.A.d == nil || *v.A.d != (Date{1988, 11, 20}) || v.B.d != nil || v.C.d != nil || v.D.d != nil {
		t.Errorf("got %v %v %v %v", v.A.d, v.B.d, v.C.d, v.D.d)
	}
}

func TestLooseTypes(t *testing.T) {
	bools := map[string]bool{`true`: true, `"true"`: true, `"True"`: true, `1`: true, `"1"`: true,
		`false`: false, `"False"`: false, `0`: false, `"0"`: false, `null`: false, `""`: false}
	for in, want := range bools {
		var v looseBool
		if err := json.Unmarshal([]byte(in), &v); err != nil || bool(v) != want {
			t.Errorf("looseBool %s = %v, %v; want %v", in, v, err, want)
		}
	}
	for _, in := range []string{`2`, `"maybe"`, `{}`, `[]`} {
		var v looseBool
		if err := json.Unmarshal([]byte(in), &v); err == nil {
			t.Errorf("looseBool accepted %s", in)
		}
	}
	ints := map[string]int{`45`: 45, `"45"`: 45, `"45.0"`: 45, `45.0`: 45, `null`: 0, `""`: 0, `-3`: -3, `" 7 "`: 7, `1e2`: 100}
	for in, want := range ints {
		var v looseInt
		if err := json.Unmarshal([]byte(in), &v); err != nil || int(v) != want {
			t.Errorf("looseInt %s = %v, %v; want %v", in, v, err, want)
		}
	}
	for _, in := range []string{`45.5`, `"forty"`, `true`, `{}`, `1e300`, `"NaN"`, `"Inf"`} {
		var v looseInt
		if err := json.Unmarshal([]byte(in), &v); err == nil {
			t.Errorf("looseInt accepted %s", in)
		}
	}
	strs := map[string]string{`"abc"`: "abc", `7712093`: "7712093", `1.5`: "1.5", `true`: "true", `null`: ""}
	for in, want := range strs {
		var v looseString
		if err := json.Unmarshal([]byte(in), &v); err != nil || string(v) != want {
			t.Errorf("looseString %s = %q, %v; want %q", in, v, err, want)
		}
	}
	for _, in := range []string{`{}`, `[1]`} {
		var v looseString
		if err := json.Unmarshal([]byte(in), &v); err == nil {
			t.Errorf("looseString accepted %s", in)
		}
	}
}

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{
		"2025-03-04T09:00:00+10:00", "2025-03-04T09:00:00 +10:00", "2025-03-04T09:00:00Z", "2025-03-04T09:00:00 Z",
		"2025-03-04T09:00:00.1234567+10:00", "2025-03-04T09:00:00+1000", "2025-03-04T09:00:00 +1000",
		"2025-03-04 09:00:00 -05:30", "2025-03-04T09:00+10:00", "2025-03-04", "1988-11-20T00:00:00", "",
		"garbage", "9999-12-31T23:59:59-23:59", "0000-01-01T00:00:00+23:59", "2025-03-04T09:00:00 +99:99",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseTime(s)
		if err != nil {
			return
		}
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999 -07:00", "2006-01-02T15:04:05.999999999-0700"} {
			again, err := ParseTime(got.Format(layout))
			if err != nil {
				t.Fatalf("ParseTime(%q) = %v, but its %q form %q does not parse: %v", s, got, layout, got.Format(layout), err)
			}
			_, off1 := got.Zone()
			_, off2 := again.Zone()
			if !again.Equal(got) || off1 != off2 {
				t.Fatalf("round trip of %q through %q: %v, want %v", s, layout, again, got)
			}
		}
	})
}

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{
		"1988-11-20", "1988-11-20T00:00:00", "1988-11-20T00:00:00+10:00", "1988-11-20T00:00:00 +10:00",
		"1988-11-20T00:00:00.000Z", "2024-02-29", "2025-02-29", "0001-01-01T00:00:00", "", "20/11/1988", "null",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDate(s)
		if err != nil {
			return
		}
		if !d.Valid() {
			t.Fatalf("ParseDate(%q) = %#v, which is not a valid date", s, d)
		}
		again, err := ParseDate(d.String())
		if err != nil || again != d {
			t.Fatalf("round trip of %q: %v, %v; want %v", s, again, err, d)
		}
		// json.Marshal, not strconv.Quote: Go escapes such as \v are not JSON.
		quoted, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var v wireDate
		if err := json.Unmarshal(quoted, &v); err != nil {
			t.Fatalf("wireDate refused %q, which ParseDate accepts: %v", s, err)
		}
	})
}

func FuzzLooseBool(f *testing.F) {
	for _, s := range []string{`true`, `false`, `"true"`, `"True"`, `"FALSE"`, `1`, `0`, `"1"`, `"0"`, `null`, `""`,
		`2`, `"yes"`, `{}`, `[true]`, `"tru`, `garbage`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var v looseBool
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			return
		}
		for _, form := range []string{strconv.FormatBool(bool(v)), strconv.Quote(strconv.FormatBool(bool(v)))} {
			var again looseBool
			if err := json.Unmarshal([]byte(form), &again); err != nil || again != v {
				t.Fatalf("%s decoded to %v, but %s gives %v, %v", s, v, form, again, err)
			}
		}
	})
}

func FuzzLooseInt(f *testing.F) {
	for _, s := range []string{`45`, `"45"`, `"45.0"`, `45.0`, `null`, `""`, `-7`, `"-7"`, `1e2`, `45.5`, `"abc"`,
		`9223372036854775807`, `"9223372036854775808"`, `1e300`, `true`, `{}`, `garbage`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var v looseInt
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			return
		}
		for _, form := range []string{strconv.Itoa(int(v)), strconv.Quote(strconv.Itoa(int(v)))} {
			var again looseInt
			if err := json.Unmarshal([]byte(form), &again); err != nil || again != v {
				t.Fatalf("%s decoded to %d, but %s gives %d, %v", s, v, form, again, err)
			}
		}
	})
}

// A refusal's odd shape must never break a good answer, nor hide its reason.
func TestResultsLenient(t *testing.T) {
	var p locationsPage
	body := `{"locations":[{"locationId":"L1"}],"result":["ok",3,{"reason":"fine"},[1]],"statusMessages":["note"]}`
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if len(p.Locations) != 1 || p.Result.reason() != "ok; 3; fine" {
		t.Errorf("got %+v, reason %q", p.Locations, p.Result.reason())
	}
	for body, want := range map[string]string{
		`{"result":{"severity":2,"reason":"single object"}}`: "single object",
		`{"result":"plain"}`:                    "plain",
		`{"statusMessages":["a","b"]}`:          "a; b",
		`{"Message":"An error has occurred."}`:  "An error has occurred.",
		`"quoted text"`:                         "quoted text",
		`Invalid token`:                         "Invalid token",
		`<html><body>Bad Gateway</body></html>`: "",
	} {
		if got := reasonText([]byte(body)); got != want {
			t.Errorf("reasonText(%s) = %q, want %q", body, got, want)
		}
	}
}
