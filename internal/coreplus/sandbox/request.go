package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxBodyBytes bounds request bodies; real bodies are a few hundred bytes.
const maxBodyBytes = 64 << 10

// maxRangeDays is the longest startDate..endDate span (inclusive) a list
// query may cover.
const maxRangeDays = 31

// badRequest is a 400 with one or more reasons.
type badRequest []string

func (b badRequest) Error() string { return strings.Join(b, "; ") }

func fail(reason string) error { return badRequest{reason} }

// writeError answers a badRequest with 400 and anything else with 500.
func writeError(w http.ResponseWriter, err error) {
	var br badRequest
	if errors.As(err, &br) {
		writeResult(w, http.StatusBadRequest, br...)
		return
	}
	writeResult(w, http.StatusInternalServerError, "sandbox: "+err.Error())
}

// object is a JSON object whose member names match case-insensitively, as
// .NET model binding does (the docs spell ExternalId and Status with capitals).
type object map[string]json.RawMessage

func readObject(r *http.Request) (object, error) {
	raw, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBodyBytes))
	if err != nil {
		return nil, fail("request body is too large or could not be read")
	}
	return parseObject(raw, "request body")
}

func parseObject(raw []byte, what string) (object, error) {
	var m map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&m); err != nil || m == nil || dec.More() {
		return nil, fail(what + " must be a JSON object")
	}
	o := object{}
	for k, v := range m {
		o[strings.ToLower(k)] = v
	}
	return o, nil
}

// raw returns the member, treating null as absent.
func (o object) raw(name string) (json.RawMessage, bool) {
	v, ok := o[strings.ToLower(name)]
	if !ok || string(v) == "null" {
		return nil, false
	}
	return v, true
}

// str reads a string member. Numbers are refused: coreplus documents these
// fields as strings and a client sending 412000111 has a bug.
func (o object) str(name string) (string, bool, error) {
	v, ok := o.raw(name)
	if !ok {
		return "", false, nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", true, fail(name + " must be a string")
	}
	return s, true, nil
}

// boolean reads a Boolean member sent either as true/false or as "true"/"false".
func (o object) boolean(name string) (bool, bool, error) {
	v, ok := o.raw(name)
	if !ok {
		return false, false, nil
	}
	var b bool
	if err := json.Unmarshal(v, &b); err == nil {
		return b, true, nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		switch strings.ToLower(s) {
		case "true":
			return true, true, nil
		case "false":
			return false, true, nil
		}
	}
	return false, true, fail(name + " must be true or false")
}

func (o object) obj(name string) (object, bool, error) {
	v, ok := o.raw(name)
	if !ok {
		return nil, false, nil
	}
	sub, err := parseObject(v, name)
	if err != nil {
		return nil, true, err
	}
	return sub, true, nil
}

func (o object) array(name string) ([]json.RawMessage, bool, error) {
	v, ok := o.raw(name)
	if !ok {
		return nil, false, nil
	}
	var a []json.RawMessage
	if err := json.Unmarshal(v, &a); err != nil {
		return nil, true, fail(name + " must be an array")
	}
	return a, true, nil
}

// paging is the pageNumber/pageSize pair every list accepts.
type paging struct {
	number, size int
}

// pagingJSON is the paging object in list responses.
type pagingJSON struct {
	TotalRows  int `json:"totalRows"`
	PageNumber int `json:"pageNumber"`
	PageSize   int `json:"pageSize"`
}

func parsePaging(q url.Values) (paging, error) {
	p := paging{number: 1, size: 50}
	if v := q.Get("pageNumber"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return p, fail("pageNumber must be a whole number of 1 or more")
		}
		p.number = n
	}
	if v := q.Get("pageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return p, fail("pageSize must be a whole number from 1 to 100")
		}
		p.size = n
	}
	return p, nil
}

// page cuts one page from n items and describes it.
func (p paging) page(n int) (from, to int, info pagingJSON) {
	from = min((p.number-1)*p.size, n)
	to = min(from+p.size, n)
	return from, to, pagingJSON{TotalRows: n, PageNumber: p.number, PageSize: p.size}
}

// listEnvelope is the body of every list response: the items under key,
// then paging and statusMessages, in the doc's order.
type listEnvelope struct {
	key   string
	items any
	info  pagingJSON
}

func listBody(key string, items any, info pagingJSON) listEnvelope {
	return listEnvelope{key: key, items: items, info: info}
}

func (l listEnvelope) MarshalJSON() ([]byte, error) {
	key, err := json.Marshal(l.key)
	if err != nil {
		return nil, err
	}
	items, err := json.Marshal(l.items)
	if err != nil {
		return nil, err
	}
	info, err := json.Marshal(l.info)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString("{")
	b.Write(key)
	b.WriteString(":")
	b.Write(items)
	b.WriteString(`,"paging":`)
	b.Write(info)
	b.WriteString(`,"statusMessages":[]}`)
	return b.Bytes(), nil
}

// diaryQuery is what both diary lists, appointments and free time, are
// asked for: a zone, a date range read in it, and a page.
type diaryQuery struct {
	zone     zone
	from, to time.Time
	paging   paging
}

// parseDiaryQuery reads timezoneId, then the date range, then paging, so the
// first problem in that order is the one reported.
func (s *Server) parseDiaryQuery(q url.Values) (diaryQuery, error) {
	z, err := s.parseTimezone(q)
	if err != nil {
		return diaryQuery{}, err
	}
	from, to, err := parseDateRange(q, z.loc)
	if err != nil {
		return diaryQuery{}, err
	}
	p, err := parsePaging(q)
	if err != nil {
		return diaryQuery{}, err
	}
	return diaryQuery{zone: z, from: from, to: to, paging: p}, nil
}

// parseTimezone resolves a timezoneId query parameter (GUID, any case).
func (s *Server) parseTimezone(q url.Values) (zone, error) {
	id := q.Get("timezoneId")
	if id == "" {
		return zone{}, fail("timezoneId is required")
	}
	z, ok := s.zones[strings.ToLower(id)]
	if !ok {
		return zone{}, fail("timezoneId " + id + " is not a known timezone")
	}
	return z, nil
}

// parseDateRange reads startDate and endDate (inclusive) as midnight-to-midnight
// in loc and returns the half-open instant range they cover.
func parseDateRange(q url.Values, loc *time.Location) (from, to time.Time, err error) {
	start, err := parseDateParam(q, "startDate", loc)
	if err != nil {
		return from, to, err
	}
	end, err := parseDateParam(q, "endDate", loc)
	if err != nil {
		return from, to, err
	}
	if end.Before(start) {
		return from, to, fail("endDate must not be before startDate")
	}
	days := int(end.Sub(start).Hours()/24+0.5) + 1
	if days > maxRangeDays {
		return from, to, fail("the date range may cover at most 31 days")
	}
	return start, time.Date(end.Year(), end.Month(), end.Day()+1, 0, 0, 0, 0, loc), nil
}

func parseDateParam(q url.Values, name string, loc *time.Location) (time.Time, error) {
	v := q.Get(name)
	if v == "" {
		return time.Time{}, fail(name + " is required")
	}
	d, err := time.ParseInLocation("2006-01-02", v, loc)
	if err != nil {
		return time.Time{}, fail(name + " must be a date in the form yyyy-mm-dd")
	}
	return d, nil
}

// parseBoolParam reads an optional Boolean query flag such as getPractitionerProfiles.
func parseBoolParam(q url.Values, name string) (bool, error) {
	v := q.Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fail(name + " must be true or false")
	}
	return b, nil
}

// dateTimeLayouts are the DateTimeOffset forms accepted in bodies: ISO 8601
// as clients send it, the space-before-offset form coreplus answers with, and
// the doc's "yyyy-mm-dd hh:mm + offset" pattern. An offset is always required.
var dateTimeLayouts = []string{
	"2006-01-02T15:04:05Z07:00",
	"2006-01-02T15:04:05 Z07:00",
	"2006-01-02T15:04Z07:00",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05 Z07:00",
	"2006-01-02 15:04Z07:00",
	"2006-01-02 15:04 Z07:00",
}

func parseDateTimeOffset(name, v string) (time.Time, error) {
	for _, layout := range dateTimeLayouts {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fail(name + " must be a date-time with a UTC offset, e.g. 2025-03-04T09:00:00+10:00")
}

// Output layouts: slots without a space before the offset, appointments with one.
const (
	slotLayout        = "2006-01-02T15:04:05-07:00"
	appointmentLayout = "2006-01-02T15:04:05 -07:00"
)
