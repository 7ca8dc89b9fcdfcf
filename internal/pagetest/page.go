// Package pagetest reads a portal page the way a person does: its heading,
// its text, a link by its words, a control by its label, and what pressing
// a button sends. Only tests, and cmd/loadtest's simulated patients, import it.
package pagetest

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// Page is one HTTP answer, parsed when it is HTML.
type Page struct {
	t      testing.TB
	URL    string // what the test asked for, to name the page in failures
	Status int
	Header http.Header
	Body   string
	Doc    *goquery.Document // nil when the answer is not HTML
}

// Read reads and closes resp's body. It reports a failure with t.Errorf
// only, so a test's goroutines may call it.
func Read(t testing.TB, url string, resp *http.Response) *Page {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Errorf("%s: read the answer: %v", url, err)
	}
	p := &Page{t: t, URL: url, Status: resp.StatusCode, Header: resp.Header, Body: string(b)}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		if p.Doc, err = goquery.NewDocumentFromReader(bytes.NewReader(b)); err != nil {
			t.Errorf("%s: parse the page: %v", url, err)
		}
	}
	return p
}

// ReportingTo is the page reporting its failures to t, such as a subtest's.
func (p *Page) ReportingTo(t testing.TB) *Page {
	q := *p
	q.t = t
	return &q
}

// H1 is the page's one heading of the first level.
func (p *Page) H1() string {
	p.t.Helper()
	p.mustBeHTML()
	hs := p.Doc.Find("h1")
	if hs.Length() != 1 {
		p.t.Fatalf("%s: %d h1 elements, want 1", p.URL, hs.Length())
	}
	return strings.TrimSpace(hs.Text())
}

// WantH1 fails the test unless the page's heading is want.
func (p *Page) WantH1(want string) *Page {
	p.t.Helper()
	if got := p.H1(); got != want {
		p.t.Fatalf("%s: status %d, h1 %q, want %q\n%s", p.URL, p.Status, got, want, p.Text())
	}
	return p
}

// Text is the page's visible text with its spacing collapsed, or the body
// of an answer that is not HTML.
func (p *Page) Text() string {
	if p.Doc == nil {
		return p.Body
	}
	return strings.Join(strings.Fields(p.Doc.Find("body").Text()), " ")
}

// Link finds the link whose visible text (or aria-label) contains text.
func (p *Page) Link(text string) string {
	p.t.Helper()
	p.mustBeHTML()
	var href string
	p.Doc.Find("a[href]").EachWithBreak(func(_ int, s *goquery.Selection) bool {
		if strings.Contains(strings.Join(strings.Fields(s.Text()), " "), text) || strings.Contains(s.AttrOr("aria-label", ""), text) {
			href = s.AttrOr("href", "")
			return false
		}
		return true
	})
	if href == "" {
		p.t.Fatalf("%s: no link %q in:\n%s", p.URL, text, p.Text())
	}
	return href
}

// FirstSlot is the first time offered on a time page: its link and how it
// is announced. Times in a hidden part of the page (the days of the strip
// not chosen) are not offered to the person reading it.
func (p *Page) FirstSlot() (href, label string) {
	p.t.Helper()
	p.mustBeHTML()
	a := p.Doc.Find("ul.slots a").FilterFunction(func(_ int, s *goquery.Selection) bool {
		return s.Closest("[hidden]").Length() == 0
	}).First()
	if a.Length() == 0 {
		p.t.Fatalf("%s: no times offered:\n%s", p.URL, p.Text())
	}
	return a.AttrOr("href", ""), a.AttrOr("aria-label", "")
}

// Labelled returns the form control labelled text.
func (p *Page) Labelled(text string) *goquery.Selection {
	p.t.Helper()
	p.mustBeHTML()
	var id string
	p.Doc.Find("label").EachWithBreak(func(_ int, s *goquery.Selection) bool {
		if strings.TrimSpace(s.Text()) == text {
			id = s.AttrOr("for", "")
			return false
		}
		return true
	})
	if id == "" {
		p.t.Fatalf("%s: no label %q", p.URL, text)
	}
	ctl := p.Doc.Find("#" + id)
	if ctl.Length() != 1 {
		p.t.Fatalf("%s: label %q points at %q, which is not one control", p.URL, text, id)
	}
	return ctl
}

// Form returns the action and fields (hidden and visible) of the page's
// main POST form: the last one, as an offer such as "Use my saved details"
// comes before it.
func (p *Page) Form() (string, url.Values) {
	p.t.Helper()
	p.mustBeHTML()
	f := p.Doc.Find("form[method=post]").Last()
	if f.Length() == 0 {
		p.t.Fatalf("%s: no form:\n%s", p.URL, p.Text())
	}
	return FormValues(f)
}

// Pressing returns what pressing the button named text sends: the action
// and fields of its form, with the button's own name and value.
func (p *Page) Pressing(text string) (string, url.Values) {
	p.t.Helper()
	p.mustBeHTML()
	var b *goquery.Selection
	p.Doc.Find("form[method=post] button").EachWithBreak(func(_ int, s *goquery.Selection) bool {
		if strings.Join(strings.Fields(s.Text()), " ") == text {
			b = s
			return false
		}
		return true
	})
	if b == nil {
		p.t.Fatalf("%s: no button %q in a form:\n%s", p.URL, text, p.Text())
	}
	action, v := FormValues(b.Closest("form"))
	if name := b.AttrOr("name", ""); name != "" {
		v.Set(name, b.AttrOr("value", ""))
	}
	return action, v
}

// FormValues returns a form's action and what it sends as it stands: its
// inputs, its text areas, and its ticked boxes.
func FormValues(f *goquery.Selection) (string, url.Values) {
	v := url.Values{}
	f.Find("input[name], textarea[name]").Each(func(_ int, s *goquery.Selection) {
		name := s.AttrOr("name", "")
		switch {
		case s.AttrOr("type", "") == "checkbox":
			if _, ok := s.Attr("checked"); ok {
				v.Set(name, s.AttrOr("value", "on"))
			}
		case goquery.NodeName(s) == "textarea":
			v.Set(name, s.Text())
		default:
			v.Set(name, s.AttrOr("value", ""))
		}
	})
	return f.AttrOr("action", ""), v
}

func (p *Page) mustBeHTML() {
	p.t.Helper()
	if p.Doc == nil {
		p.t.Fatalf("%s: not HTML (status %d): %.300s", p.URL, p.Status, p.Body)
	}
}
