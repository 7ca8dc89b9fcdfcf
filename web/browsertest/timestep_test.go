//go:build browser

package browsertest

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/clinic-booking/portal/internal/coreplus/sandbox"
)

// The time step: a strip of a week's days and one day's times. These tests
// measure it on a phone, standalone and in a clinic's iframe, and book
// through it with the keyboard alone and with JavaScript off.

// phone is a 390 × 844 phone (an iPhone 12 to 15).
var phone = browserConfig{width: 390, height: 844, mobile: true}

// timeStepPath is the time step for the Standard Consultation in Surry
// Hills with the first available practitioner, the busiest: up to three
// practitioners' times in one list.
var timeStepPath = "/" + clinicSlug + "/book?location=" + sandbox.LocationSydneyID +
	"&type=" + sandbox.AppointmentTypeStandardID + "&practitioner=any"

// timeStepFacts is what a patient's screen shows of the time step, in CSS
// pixels of the page's own document.
type timeStepFacts struct {
	FirstTop    float64 `json:"firstTop"`    // the first time's top
	FirstBottom float64 `json:"firstBottom"` // and bottom
	FirstName   string  `json:"firstName"`   // its accessible name (aria-label)
	Height      float64 `json:"height"`      // the document's height
	ScrollWidth float64 `json:"scrollWidth"`
	Width       float64 `json:"width"`
	DaysShown   int     `json:"daysShown"`
	Shown       string  `json:"shown"` // the date of the day shown
	Times       int     `json:"times"` // times on the day shown
	JS          bool    `json:"js"`    // enhance.js ran
}

const timeStepFactsJS = `(() => {
	const shown = [...document.querySelectorAll('section.day')].filter(s => !s.hidden && s.offsetParent !== null);
	const times = shown.length ? [...shown[0].querySelectorAll('ul.slots a')] : [];
	const r = times.length ? times[0].getBoundingClientRect() : {top: -1, bottom: -1};
	const de = document.documentElement;
	return {firstTop: r.top + window.scrollY, firstBottom: r.bottom + window.scrollY,
		firstName: times.length ? times[0].getAttribute('aria-label') : '',
		height: de.scrollHeight, scrollWidth: de.scrollWidth, width: de.clientWidth,
		daysShown: shown.length, shown: shown.length ? shown[0].querySelector('h2 time').getAttribute('datetime') : '',
		times: times.length, js: de.classList.contains('js')};
})()`

func (b *browser) timeStepFacts() timeStepFacts {
	b.t.Helper()
	f, err := chromedp.Run(b.ctx, chromedp.Evaluate[timeStepFacts](timeStepFactsJS))
	if err != nil {
		b.fail("measure the time step: %v", err)
	}
	if f.DaysShown != 1 || f.Times == 0 {
		b.fail("the time step shows %d days and %d times, want one day with times", f.DaysShown, f.Times)
	}
	return f
}

// TestTimeStepFitsAPhone: on a 390 × 844 phone the first free time is on
// the first screen and the page is under 1,500 px, standalone and inside
// the clinic's iframe; at 320 px nothing scrolls sideways.
func TestTimeStepFitsAPhone(t *testing.T) {
	t.Run("standalone", func(t *testing.T) {
		b := newBrowser(t, phone)
		b.open(suite.portalURL + timeStepPath)
		b.expectHeading("Choose a time")
		b.checkPage()
		f := b.timeStepFacts()
		t.Logf("390 × 844: first time %q at %.0f–%.0f px; page %.0f px tall; %d times on %s", f.FirstName, f.FirstTop, f.FirstBottom, f.Height, f.Times, f.Shown)
		if f.FirstBottom > 844 {
			t.Errorf("the first time ends at %.0f px, below the first screen (844 px)", f.FirstBottom)
		}
		if f.Height >= 1500 {
			t.Errorf("the time step is %.0f px tall at 390 px, want under 1,500", f.Height)
		}
		screenshotTo(b, "time-step-390-standalone")
	})
	t.Run("embedded", func(t *testing.T) {
		// The host page is a desktop-style page at a phone's width: chromedp
		// cannot click inside a cross-site iframe under touch emulation.
		host := newBrowser(t, browserConfig{width: 390, height: 844, blockThirdPartyCookies: true})
		frame := openEmbeddedTimeStep(host)
		f := frame.timeStepFacts()
		frameTop, err := chromedp.Run(host.ctx, chromedp.Evaluate[float64](`document.querySelector('.booking-portal iframe').getBoundingClientRect().top + window.scrollY`))
		if err != nil {
			t.Fatal(err)
		}
		height := frameFits(host, frame)
		t.Logf("390 × 844 in the iframe (top %.0f px on the host page): first time %q at %.0f–%.0f px of the frame; frame %d px tall", frameTop, f.FirstName, f.FirstTop, f.FirstBottom, height)
		if frameTop+f.FirstBottom > 844 {
			t.Errorf("the first time ends at %.0f px of the host page, below the first screen (844 px)", frameTop+f.FirstBottom)
		}
		if height >= 1500 {
			t.Errorf("the time step is %d px tall in the iframe at 390 px, want under 1,500", height)
		}
		screenshotTo(host, "time-step-390-embedded")

		// Another day, shown by enhance.js inside the frame: the frame
		// follows its height, and "Open in a new tab" the day.
		day, err := chromedp.Run(frame.ctx, chromedp.Evaluate[string](`document.querySelectorAll('.strip a[data-day]')[1].getAttribute('data-day')`))
		if err != nil {
			t.Fatal(err)
		}
		frame.eval("mark the page", `window.__samePage = true`)
		frame.do("choose "+day, chromedp.Click(`(//ul[contains(@class,'strip')]//a)[2]`))
		frame.waitShown(day)
		if same, _ := chromedp.Run(frame.ctx, chromedp.Evaluate[bool](`window.__samePage === true`)); !same {
			t.Error("choosing a day in the frame reloaded the page")
		}
		if u, _ := url.Parse(frame.url()); u.Query().Get("date") != day {
			t.Errorf("the frame's address did not follow the day: %s", frame.url())
		}
		tab, _ := chromedp.Run(frame.ctx, chromedp.Evaluate[string](`document.querySelector('.new-tab a').href`))
		if u, _ := url.Parse(tab); u == nil || u.Query().Get("date") != day || u.Query().Get("embed") != "" {
			t.Errorf("after choosing %s, Open in a new tab goes to %s", day, tab)
		}
		t.Logf("in the frame, %s shown without a page load; the frame is %d px tall", day, frameFits(host, frame))
	})
	t.Run("15-minute service", func(t *testing.T) {
		// The longest lists: four practitioners' 15-minute times merged.
		b := newBrowser(t, phone)
		b.open(suite.portalURL + "/" + clinicSlug + "/book?location=" + sandbox.LocationSydneyID +
			"&type=" + sandbox.AppointmentTypeReviewID + "&practitioner=any")
		f := b.timeStepFacts()
		t.Logf("390 × 844, 15-minute service: first time at %.0f–%.0f px; page %.0f px tall; %d times on %s", f.FirstTop, f.FirstBottom, f.Height, f.Times, f.Shown)
		if f.FirstBottom > 844 {
			t.Errorf("the first time ends at %.0f px, below the first screen (844 px)", f.FirstBottom)
		}
	})
	t.Run("320 px", func(t *testing.T) {
		b := newBrowser(t, browserConfig{width: 320, height: 640, mobile: true})
		b.open(suite.portalURL + timeStepPath)
		f := b.timeStepFacts()
		t.Logf("320 px: page %.0f px wide in %.0f, %.0f px tall", f.ScrollWidth, f.Width, f.Height)
		if f.ScrollWidth > 320 {
			t.Errorf("the time step scrolls sideways at 320 px: %.0f px wide", f.ScrollWidth)
		}
		host := newBrowser(t, browserConfig{width: 320, height: 640, blockThirdPartyCookies: true})
		frame := openEmbeddedTimeStep(host)
		in := frame.timeStepFacts()
		sw, _ := chromedp.Run(host.ctx, chromedp.Evaluate[float64](`document.documentElement.scrollWidth`))
		t.Logf("320 px in the iframe: frame content %.0f px wide in %.0f; host %.0f px wide", in.ScrollWidth, in.Width, sw)
		if in.ScrollWidth > in.Width || sw > 320 {
			t.Errorf("the embedded time step scrolls sideways at 320 px: frame %.0f in %.0f, host %.0f", in.ScrollWidth, in.Width, sw)
		}
	})
	t.Run("1280 px", func(t *testing.T) {
		b := newBrowser(t, desktop)
		b.open(suite.portalURL + timeStepPath)
		b.checkPage()
		screenshotTo(b, "time-step-1280-standalone")
		host := newBrowser(t, browserConfig{width: 1280, height: 900, blockThirdPartyCookies: true})
		openEmbeddedTimeStep(host)
		screenshotTo(host, "time-step-1280-embedded")
	})
}

// openEmbeddedTimeStep walks the clinic's iframe on the host page to the
// time step for "first available", and returns the frame.
func openEmbeddedTimeStep(host *browser) *browser {
	host.t.Helper()
	host.open(suite.hostURL + "/loader.html")
	frame := host.frame(suite.embedURL + "/")
	frame.waitHeading("Where would you like to be seen?")
	frame.follow("Harbourside Physio Surry Hills")
	frame.follow("Standard")
	frame.follow("First available practitioner")
	frame.expectHeading("Choose a time")
	frame.checkPage()
	frameFits(host, frame)
	return frame
}

// screenshotTo saves the page as docs/screenshots/name.png when
// UPDATE_SCREENSHOTS is set (the README shows them).
func screenshotTo(b *browser, name string) {
	b.t.Helper()
	if os.Getenv("UPDATE_SCREENSHOTS") == "" {
		return
	}
	// A full-page capture leaves a cross-site iframe blank below the first
	// screen, so the viewport is made as tall as the page first.
	size, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]int64](`[document.documentElement.clientWidth, document.documentElement.scrollHeight, window.innerHeight]`))
	if err != nil || len(size) != 3 {
		b.t.Fatalf("screenshot %s: measure the page: %v", name, err)
	}
	b.do("make the viewport as tall as the page", chromedp.EmulateViewport(size[0], size[1]), chromedp.Sleep(time.Second))
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	b.do("restore the viewport", chromedp.EmulateViewport(size[0], size[2]))
	if err := os.WriteFile(filepath.Join("..", "..", "docs", "screenshots", name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// TestTimeStepWithoutJavaScript books through the time step with script
// execution off: the strip's days are links that load the page with the
// day in its address.
func TestTimeStepWithoutJavaScript(t *testing.T) {
	b := newBrowser(t, phone)
	if _, err := chromedp.Call(b.ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	p := patient{
		firstName: "Nora", lastName: "No-Script", dateOfBirth: time.Date(1955, time.October, 3, 0, 0, 0, 0, time.UTC),
		email: "nora.no-script@example.com", mobile: "0400 111 222",
	}
	var day string
	got := bookAppointmentFrom(b, choices{location: "Harbourside Physio Surry Hills", service: "Standard", practitioner: ""}, p,
		func() { b.open(suite.portalURL + "/") },
		func(step string) {
			if step != "time" {
				return
			}
			first := b.timeStepFacts()
			if first.JS {
				b.fail("enhance.js ran although scripts are off")
			}
			// The second day of the strip with times, by its link.
			days := "//ul[contains(@class,'strip')]//a"
			if b.count(days) < 2 {
				b.fail("the strip offers %d days with times", b.count(days))
			}
			b.navigate("follow the second day of the strip", chromedp.Click("("+days+")[2]"))
			u, _ := url.Parse(b.url())
			day = u.Query().Get("date")
			f := b.timeStepFacts()
			if day == "" || f.Shown != day || f.Shown == first.Shown {
				b.fail("after following a day of the strip the address says date=%q and the page shows %q (before: %q)", day, f.Shown, first.Shown)
			}
			b.t.Logf("without JavaScript: the strip's link loaded %s, %d times", day, f.Times)
		})
	if !strings.HasPrefix(got.query.Get("slot"), day) {
		t.Errorf("booked %s, not on the day chosen in the strip (%s)", got.query.Get("slot"), day)
	}
	assertBookedInCoreplus(t, got, p)
}

// TestTimeStepByKeyboard books with the keyboard alone: Tab to the strip,
// an arrow key to the next day, Enter to show it (without a page load, the
// address changing), back and forward, Tab to a time, Enter, and on to the
// confirmation.
func TestTimeStepByKeyboard(t *testing.T) {
	b := newBrowser(t, desktop)
	// Brisbane's Extended Consultation, which no other test books.
	b.open(suite.portalURL + "/" + clinicSlug + "/book?location=" + sandbox.LocationBrisbaneID +
		"&type=" + sandbox.AppointmentTypeExtendedID + "&practitioner=any")
	b.expectHeading("Choose a time")
	first := b.timeStepFacts()
	if !first.JS {
		b.fail("enhance.js did not run")
	}
	b.eval("mark the page", `window.__samePage = true`)

	b.do("press Tab", chromedp.KeyEvent(kb.Tab))
	if skip, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.activeElement.innerText`)); skip != "Skip to main content" {
		b.fail("the first Tab reached %q, not the skip link", skip)
	}
	b.expectFocusRing("the skip link")
	b.tabUntil("a day of the strip", `!!document.activeElement.closest('.strip')`)
	b.expectFocusRing("the chosen day of the strip")
	if cur, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.activeElement.getAttribute('data-day')`)); cur != first.Shown {
		b.fail("Tab reached %s in the strip first, not the day shown (%s)", cur, first.Shown)
	}
	b.do("press →", chromedp.KeyEvent(kb.ArrowRight))
	next, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.activeElement.getAttribute('data-day') || ''`))
	if next == "" || next == first.Shown {
		b.fail("→ in the strip moved to %q", next)
	}
	b.do("press Enter", chromedp.KeyEvent(kb.Enter))
	b.waitShown(next)
	if same, _ := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`window.__samePage === true`)); !same {
		b.fail("changing the day reloaded the page")
	}
	if u, _ := url.Parse(b.url()); u.Query().Get("date") != next {
		b.fail("the address did not follow the day shown: %s", b.url())
	}
	b.eval("go back", `history.back(), true`)
	b.waitShown(first.Shown)
	b.eval("go forward", `history.forward(), true`)
	b.waitShown(next)

	b.tabUntil("a time of the day shown", `!!document.activeElement.closest('section.day:not([hidden]) ul.slots')`)
	b.expectFocusRing("a time")
	slot, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.activeElement.getAttribute('aria-label')`))
	if !timeOfDay.MatchString(slot) {
		b.fail("the first time reached by Tab is named %q", slot)
	}
	b.navigate("press Enter on "+quote(slot), chromedp.KeyEvent(kb.Enter))
	b.expectHeading("Your details")

	p := patient{
		firstName: "Kim", lastName: "Keyboard-Only", dateOfBirth: time.Date(1980, time.June, 2, 0, 0, 0, 0, time.UTC),
		email: "kim.keyboard-only@example.com", mobile: "0422 333 444",
	}
	for _, f := range []struct{ label, value string }{
		{"First name", p.firstName}, {"Last name", p.lastName}, {"Day", "2"}, {"Month", "6"}, {"Year", "1980"},
		{"Email address", p.email}, {"Mobile number", p.mobile},
	} {
		b.tabUntil("the field "+quote(f.label), `[...(document.activeElement.labels || [])].some(l => l.innerText.trim() === `+jsString(f.label)+`)`)
		b.do("type into "+f.label, chromedp.KeyEvent(f.value))
	}
	b.tabUntil("the privacy checkbox", `document.activeElement.type === 'checkbox'`)
	b.do("tick it", chromedp.KeyEvent(" "))
	b.tabUntil("Continue", `document.activeElement.innerText.trim() === 'Continue'`)
	b.navigate("press Enter on Continue", chromedp.KeyEvent(kb.Enter))
	b.expectHeading("Check your booking")
	b.expectText("the review page", slotTime(slot), slotWith(slot))
	out := booking{query: url.Values{}}
	if u, err := url.Parse(b.url()); err == nil {
		out.query = u.Query()
	}
	b.tabUntil("Confirm booking", `document.activeElement.innerText.trim() === 'Confirm booking'`)
	b.navigate("press Enter on Confirm booking", chromedp.KeyEvent(kb.Enter))
	b.expectHeading("Booking confirmed")
	m := referencePattern.FindStringSubmatch(b.text())
	if m == nil {
		b.fail("the confirmation page shows no reference number")
	}
	out.reference = m[1]
	if out.query.Get("slot") == "" {
		// The review came from a form post: the choices are in its fields.
		q, _ := chromedp.Run(b.ctx, chromedp.Evaluate[map[string]string](`Object.fromEntries([...document.querySelectorAll('input[type=hidden]')].map(i => [i.name, i.value]))`))
		for k, v := range q {
			out.query.Set(k, v)
		}
	}
	if !strings.HasPrefix(out.query.Get("slot"), next) {
		t.Errorf("booked %s, not on the day chosen by keyboard (%s)", out.query.Get("slot"), next)
	}
	assertBookedInCoreplus(t, out, p)
}

// eval runs a script in the page for its effect.
func (b *browser) eval(what, js string) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](js)); err != nil {
		b.fail("%s: %v", what, err)
	}
}

// expectFocusRing fails unless the focused element shows a ring at least
// 2 px thick, clear of the element by at least 2 px (so the colours beside
// it are the page's), with 3:1 contrast against the page's background
// (WCAG 1.4.11 and 2.4.13).
func (b *browser) expectFocusRing(what string) {
	b.t.Helper()
	type ring struct {
		Style    string  `json:"style"`
		Width    float64 `json:"width"`
		Offset   float64 `json:"offset"`
		Contrast float64 `json:"contrast"`
	}
	r, err := chromedp.Run(b.ctx, chromedp.Evaluate[ring](`(() => {
		const el = document.activeElement, cs = getComputedStyle(el);
		const rgb = s => (s.match(/[\d.]+/g) || [255, 255, 255]).slice(0, 3).map(Number);
		const lum = c => { const [r, g, b] = c.map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
		let bg = 'rgb(255, 255, 255)';
		for (let n = el.parentElement; n; n = n.parentElement) {
			const c = getComputedStyle(n).backgroundColor;
			if (c && c !== 'transparent' && !c.startsWith('rgba(0, 0, 0, 0')) { bg = c; break; }
		}
		const a = lum(rgb(cs.outlineColor)), z = lum(rgb(bg));
		return {style: cs.outlineStyle, width: parseFloat(cs.outlineWidth), offset: parseFloat(cs.outlineOffset),
			contrast: (Math.max(a, z) + 0.05) / (Math.min(a, z) + 0.05)};
	})()`))
	if err != nil {
		b.fail("read the focus ring of %s: %v", what, err)
	}
	if r.Style == "none" || r.Width < 2 || r.Offset < 2 || r.Contrast < 3 {
		b.fail("the focus ring of %s: %s %.0fpx, %.0fpx clear, contrast %.2f:1 with the page; want at least 2px, 2px clear, 3:1", what, r.Style, r.Width, r.Offset, r.Contrast)
	}
	b.t.Logf("focus ring of %s: %s %.0fpx, %.0fpx clear, %.1f:1 against the page", what, r.Style, r.Width, r.Offset, r.Contrast)
}

// tabUntil presses Tab until the focused element satisfies the JavaScript
// condition is, failing after 80 presses.
func (b *browser) tabUntil(what, is string) {
	b.t.Helper()
	for range 80 {
		b.do("press Tab", chromedp.KeyEvent(kb.Tab))
		if ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`(() => { try { return `+is+` } catch (e) { return false } })()`)); err == nil && ok {
			return
		}
	}
	b.fail("80 presses of Tab never reached %s", what)
}

// waitShown waits until the time step shows the day date alone.
func (b *browser) waitShown(date string) {
	b.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		f, err := chromedp.Run(b.ctx, chromedp.Evaluate[timeStepFacts](timeStepFactsJS))
		if err == nil && f.DaysShown == 1 && f.Shown == date {
			return
		}
		if time.Now().After(deadline) {
			b.fail("the time step does not show %s alone (shows %q, %d days)", date, f.Shown, f.DaysShown)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
