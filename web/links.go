package web

import (
	"net/url"
	"slices"
	"strings"

	"github.com/clinic-booking/portal/internal/booking"
)

// Query parameter names of the booking flow. None of them ever holds a
// personal detail.
const (
	qLocation     = "location"
	qType         = "type"
	qPractitioner = "practitioner"
	qDate         = "date"
	qSlot         = "slot"
	qWith         = "with"
	qNext         = "next"
	// qTaken "1" on a time page says the time the patient chose went
	// before they could take it.
	qTaken = "taken"
	qDraft = "draft"
	qEmbed = "embed"
	// qBackground "transparent" lets the host page's background show
	// through an embedded page.
	qBackground = "bg"
	// qHost is the origin of the page embedding the portal, which the
	// framed pages send their events and height to.
	qHost = "host"
)

// utmKeys are the campaign parameters of the host page's address, carried
// through the flow and reported with the booking.
var utmKeys = []string{"utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"}

// carriedKeys are the parameters every link, redirect and form of the flow
// carries along, after the choices and the draft.
var carriedKeys = append([]string{qEmbed, qBackground, qHost}, utmKeys...)

// flowLinks builds the URLs of one clinic's booking flow, carrying the
// signed draft, the embed settings and the campaign parameters along.
type flowLinks struct {
	slug    string
	draft   string     // signed draft token, or ""
	draftID string     // the draft id draft was verified to carry, or ""
	carry   url.Values // embed, bg, host, utm_*: checked by linksFor
}

// useDraft makes the links carry the draft id and its signed token; two
// empty strings carry none.
func (l *flowLinks) useDraft(id, token string) { l.draftID, l.draft = id, token }

func choiceFrom(get func(string) string) booking.Choice {
	return booking.Choice{
		LocationID: get(qLocation), ServiceID: get(qType), PractitionerID: get(qPractitioner),
		Week: get(qDate), FromWeek: get(qNext) == "1", Slot: get(qSlot), With: get(qWith),
	}
}

// param is one query parameter of a flow link.
type param struct{ key, value string }

// params is ch's choices, the draft and the carried parameters, those that
// are set, sorted by key (the order url.Values.Encode gives). A time page
// makes a link for every time of a week: building them without a map is
// most of what keeps it cheap.
func (l flowLinks) params(ch booking.Choice, into []param) []param {
	add := func(k, val string) {
		if val != "" {
			into = append(into, param{k, val})
		}
	}
	add(qLocation, ch.LocationID)
	add(qType, ch.ServiceID)
	add(qPractitioner, ch.PractitionerID)
	add(qDate, ch.Week)
	if ch.FromWeek && ch.Week != "" {
		add(qNext, "1")
	}
	add(qSlot, ch.Slot)
	add(qWith, ch.With)
	add(qDraft, l.draft)
	for _, k := range carriedKeys {
		add(k, l.carry.Get(k))
	}
	slices.SortStableFunc(into, func(a, b param) int { return strings.Compare(a.key, b.key) })
	return into
}

func (l flowLinks) values(ch booking.Choice) url.Values {
	v := url.Values{}
	for _, p := range l.params(ch, nil) {
		v.Set(p.key, p.value)
	}
	return v
}

// to is the URL of a flow page ("book", "book/details", ...) with choices.
func (l flowLinks) to(page string, ch booking.Choice) string {
	var buf [16]param
	ps := l.params(ch, buf[:0])
	var b strings.Builder
	b.Grow(len(l.slug) + len(page) + 2 + 48*len(ps))
	b.WriteByte('/')
	b.WriteString(url.PathEscape(l.slug))
	b.WriteByte('/')
	b.WriteString(page)
	for i, p := range ps {
		if i == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(p.key))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(p.value))
	}
	return b.String()
}

func (l flowLinks) book(ch booking.Choice) string { return l.to("book", ch) }

// hidden is the choices as hidden form fields.
func (l flowLinks) hidden(ch booking.Choice) []hiddenField {
	var out []hiddenField
	v := l.values(ch)
	for _, k := range append([]string{qLocation, qType, qPractitioner, qDate, qSlot, qWith, qDraft}, carriedKeys...) {
		if val := v.Get(k); val != "" {
			out = append(out, hiddenField{k, val})
		}
	}
	return out
}

type hiddenField struct{ name, value string }

// withCarried appends the carried parameters to u, which has no query.
func (l flowLinks) withCarried(u string) string {
	if q := l.carry.Encode(); q != "" {
		u += "?" + q
	}
	return u
}

// home is the clinic's first page.
func (l flowLinks) home() string { return l.withCarried("/" + url.PathEscape(l.slug)) }

func (l flowLinks) booking(token, suffix string) string {
	u := "/" + url.PathEscape(l.slug) + "/booking/" + url.PathEscape(token) + suffix
	if suffix == "/" {
		u = l.withCarried(u)
	}
	return u
}

// linksFor reads the embed settings, the campaign parameters and a
// verified draft token from the request's query or, for a form, its
// fields. It is where a draft token is verified: handlers read the id from
// draftID. A host origin is kept only when the clinic allows it to frame
// its pages, so events are never sent anywhere else.
func (s *Server) linksFor(get func(string) string, clinic booking.Clinic) flowLinks {
	l := flowLinks{slug: clinic.Slug, carry: carriedFrom(get, clinic)}
	if tok := get(qDraft); tok != "" {
		if id, ok := s.signer.verify(tok); ok {
			l.useDraft(id, tok)
		}
	}
	return l
}

// carriedFrom checks the parameters a flow carries and drops any that are
// not what they should be.
func carriedFrom(get func(string) string, clinic booking.Clinic) url.Values {
	v := url.Values{}
	if get(qEmbed) == "1" {
		v.Set(qEmbed, "1")
		if get(qBackground) == "transparent" {
			v.Set(qBackground, "transparent")
		}
		if h := get(qHost); h != "" && slices.Contains(clinic.FrameOrigins, h) {
			v.Set(qHost, h)
		}
	}
	for _, k := range utmKeys {
		if val := utmValue(get(k)); val != "" {
			v.Set(k, val)
		}
	}
	return v
}

// utmValue keeps a campaign value that is short and cannot be an email
// address: a host page's address should never bring personal details in.
func utmValue(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 100 || strings.ContainsAny(s, "@\r\n") {
		return ""
	}
	return s
}

// utm returns the carried campaign parameters by name, for events.
func (l flowLinks) utm() map[string]string {
	out := map[string]string{}
	for _, k := range utmKeys {
		if val := l.carry.Get(k); val != "" {
			out[k] = val
		}
	}
	return out
}
