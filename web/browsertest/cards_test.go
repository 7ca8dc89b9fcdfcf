//go:build browser

package browsertest

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/clinic-booking/portal/internal/coreplus/sandbox"
)

// cardFacts is where a choice card and its parts are on the page, in CSS
// pixels of the document.
type cardFacts struct {
	Title      string  `json:"title"`
	Top        float64 `json:"top"`
	Bottom     float64 `json:"bottom"`
	Right      float64 `json:"right"`
	TitleTop   float64 `json:"titleTop"`
	Aside      string  `json:"aside"`
	AsideTop   float64 `json:"asideTop"`
	AsideRight float64 `json:"asideRight"`
	Lines      int     `json:"lines"`
}

const cardFactsJS = `[...document.querySelectorAll('ul.choices a')].map(a => {
	const r = a.getBoundingClientRect(), y = window.scrollY;
	const t = a.querySelector('.card-title'), s = a.querySelector('.card-aside');
	const tr = t ? t.getBoundingClientRect() : {top: -1}, sr = s ? s.getBoundingClientRect() : {top: -1, right: -1};
	return {title: t ? t.textContent : '', top: r.top + y, bottom: r.bottom + y, right: r.right,
		titleTop: tr.top + y, aside: s ? s.textContent : '', asideTop: sr.top + y, asideRight: sr.right,
		lines: a.querySelectorAll('.meta').length};
})`

func (b *browser) cardFacts() []cardFacts {
	b.t.Helper()
	cs, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]cardFacts](cardFactsJS))
	if err != nil {
		b.fail("measure the cards: %v", err)
	}
	return cs
}

// TestServiceCardsFitAPhone: on a 390 × 844 phone every service of the
// clinic is on the first screen, each card with its length beside its
// name (on the name's first line, inside the card) and the clinic's line
// under it where it has one; at 320 px the length stays beside the name
// and nothing scrolls sideways.
func TestServiceCardsFitAPhone(t *testing.T) {
	for _, cfg := range []browserConfig{phone, {width: 320, height: 640, mobile: true}} {
		t.Run(fmt.Sprintf("%dpx", cfg.width), func(t *testing.T) {
			b := newBrowser(t, cfg)
			b.open(suite.portalURL + "/" + clinicSlug + "/book?location=" + sandbox.LocationSydneyID)
			b.expectHeading("What would you like to book?")
			b.checkPage()
			cards := b.cardFacts()
			if len(cards) != 4 {
				b.fail("the service step shows %d cards, want the sandbox's 4 services", len(cards))
			}
			described := 0
			for _, c := range cards {
				t.Logf("%q (%s): %.0f–%.0f px, %d line(s) under it", c.Title, c.Aside, c.Top, c.Bottom, c.Lines)
				if c.Aside == "" || c.AsideTop-c.TitleTop > 8 || c.AsideRight > c.Right {
					t.Errorf("%q: its length %q is not beside its name (name at %.0f px, length at %.0f px, right edge %.0f of %.0f)",
						c.Title, c.Aside, c.TitleTop, c.AsideTop, c.AsideRight, c.Right)
				}
				if cfg.width == phone.width && c.Bottom > float64(phone.height) {
					t.Errorf("%q ends at %.0f px, below the first screen (%d px)", c.Title, c.Bottom, phone.height)
				}
				described += c.Lines
			}
			if described != 2 {
				t.Errorf("%d cards carry the clinic's line, want the 2 services it describes", described)
			}
		})
	}
}
