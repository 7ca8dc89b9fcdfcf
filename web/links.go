package web

import (
	"net/url"

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
	qDraft        = "draft"
	qEmbed        = "embed"
)

// flowLinks builds the URLs of one clinic's booking flow, carrying the
// signed draft and the embed flag along.
type flowLinks struct {
	slug  string
	draft string // signed draft token, or ""
	embed bool
}

func choiceFrom(get func(string) string) booking.Choice {
	return booking.Choice{
		LocationID: get(qLocation), ServiceID: get(qType), PractitionerID: get(qPractitioner),
		Week: get(qDate), FromWeek: get(qNext) == "1", Slot: get(qSlot), With: get(qWith),
	}
}

func (l flowLinks) values(ch booking.Choice) url.Values {
	v := url.Values{}
	set := func(k, val string) {
		if val != "" {
			v.Set(k, val)
		}
	}
	set(qLocation, ch.LocationID)
	set(qType, ch.ServiceID)
	set(qPractitioner, ch.PractitionerID)
	set(qDate, ch.Week)
	if ch.FromWeek && ch.Week != "" {
		v.Set(qNext, "1")
	}
	set(qSlot, ch.Slot)
	set(qWith, ch.With)
	set(qDraft, l.draft)
	if l.embed {
		v.Set(qEmbed, "1")
	}
	return v
}

// to is the URL of a flow page ("book", "book/details", ...) with choices.
func (l flowLinks) to(page string, ch booking.Choice) string {
	u := "/" + url.PathEscape(l.slug) + "/" + page
	if q := l.values(ch).Encode(); q != "" {
		u += "?" + q
	}
	return u
}

func (l flowLinks) book(ch booking.Choice) string { return l.to("book", ch) }

// hidden is the choices as hidden form fields.
func (l flowLinks) hidden(ch booking.Choice) []hiddenField {
	var out []hiddenField
	for _, k := range []string{qLocation, qType, qPractitioner, qDate, qSlot, qWith, qDraft, qEmbed} {
		if val := l.values(ch).Get(k); val != "" {
			out = append(out, hiddenField{k, val})
		}
	}
	return out
}

type hiddenField struct{ name, value string }

// home is the clinic's first page.
func (l flowLinks) home() string {
	u := "/" + url.PathEscape(l.slug)
	if l.embed {
		u += "?embed=1"
	}
	return u
}

func (l flowLinks) booking(token, suffix string) string {
	u := "/" + url.PathEscape(l.slug) + "/booking/" + url.PathEscape(token) + suffix
	if l.embed && suffix == "/" {
		u += "?embed=1"
	}
	return u
}

// linksFor reads the embed flag and a verified draft token from the
// request's query or, for a form, its fields.
func (s *Server) linksFor(get func(string) string, slug string) flowLinks {
	l := flowLinks{slug: slug, embed: get(qEmbed) == "1"}
	if tok := get(qDraft); tok != "" {
		if _, ok := s.signer.verify(tok); ok {
			l.draft = tok
		}
	}
	return l
}
