//go:build browser

package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// Timeouts for the browser, sized for a slow two-core machine.
const (
	testTimeout = 3 * time.Minute  // one whole test, browser start included
	stepTimeout = 45 * time.Second // one page: find, click, load
)

// browserConfig says how a test's browser differs from the default.
type browserConfig struct {
	width, height int64
	mobile        bool // touch and a phone's viewport meta handling
	blockCookies  bool // the profile's "block all cookies" setting
	// blockThirdPartyCookies is the profile's "block third-party cookies"
	// setting, what Safari, Firefox's strict mode and Chrome's incognito do.
	blockThirdPartyCookies bool
}

var desktop = browserConfig{width: 1280, height: 900}

// browser is one Chromium with a fresh profile and one tab, driven the way
// a patient would drive it: by what the page shows.
type browser struct {
	t     *testing.T
	ctx   context.Context
	shots int
}

// newBrowser starts Chromium for t and closes it when t ends.
func newBrowser(t *testing.T, cfg browserConfig) *browser {
	t.Helper()
	profile := t.TempDir()
	switch {
	case cfg.blockCookies:
		writePreferences(t, profile, `{"profile":{"default_content_setting_values":{"cookies":2}}}`)
	case cfg.blockThirdPartyCookies:
		writePreferences(t, profile, `{"profile":{"cookie_controls_mode":1,"block_third_party_cookies":true}}`)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(suite.chromium),
		chromedp.Headless,
		chromedp.NoSandbox, // tests run as root in CI
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.DisableGPU,
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(int(cfg.width), int(cfg.height)),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter"),
		chromedp.Flag("lang", "en-AU"),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	t.Cleanup(cancelBrowser)

	start := time.Now()
	// The first action starts the browser; it runs on the test's context so
	// that no step timeout can take the browser down with it.
	if err := chromedp.Do(bctx,
		chromedp.EmulateViewport(cfg.width, cfg.height, func(p *emulation.SetDeviceMetricsOverrideParams, tp *emulation.SetTouchEmulationEnabledParams) {
			p.Mobile = cfg.mobile
			tp.Enabled = cfg.mobile
		}),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := chromedp.Call(ctx, network.Enable, network.EnableParams{})
			return err
		}),
	); err != nil {
		t.Fatalf("start chromium (%s): %v", suite.chromium, err)
	}
	t.Logf("chromium started in %v", time.Since(start).Round(time.Millisecond))
	return &browser{t: t, ctx: bctx}
}

// writePreferences starts the profile with prefs, as a person's choices in
// chrome://settings leave them. Cookies 2 is "block all cookies" (the
// DefaultCookiesSetting=2 policy): none is stored or sent, first-party or
// third-party. cookie_controls_mode 1 is "block third-party cookies" (the
// BlockThirdPartyCookies policy): a cross-site iframe gets no unpartitioned
// cookie, while partitioned (CHIPS) cookies are kept per top-level site.
func writePreferences(t *testing.T, profile, prefs string) {
	t.Helper()
	dir := filepath.Join(profile, "Default")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Preferences"), []byte(prefs), 0o600); err != nil {
		t.Fatal(err)
	}
}

// do runs actions with a step timeout, failing the test with what the page
// shows if they do not finish.
func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.fail("%s: %v", what, err)
	}
}

// navigate runs trigger (a click, a Navigate) and waits for the page it
// loads, which must answer 200.
func (b *browser) navigate(what string, trigger ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, trigger...)
	if err != nil {
		b.fail("%s: %v", what, err)
	}
	if resp == nil {
		b.fail("%s: no page loaded", what)
	}
	if resp.Status != 200 {
		b.fail("%s: %s answered %d %s", what, resp.URL, resp.Status, resp.StatusText)
	}
}

// open loads url.
func (b *browser) open(url string) {
	b.t.Helper()
	b.navigate("open "+url, chromedp.Navigate(url))
}

// follow clicks the first link whose accessible name starts with text (a
// choice's name goes on with its details), and waits for the page.
func (b *browser) follow(text string) {
	b.t.Helper()
	link, _ := b.byRole("link", quote(text)+"…", namedStarting(text))
	b.navigate("follow the link "+quote(text), chromedp.Click(link))
}

// press clicks the button named text and waits for the page the form
// leads to.
func (b *browser) press(text string) {
	b.t.Helper()
	button, _ := b.byRole("button", quote(text), named(text))
	b.navigate("press "+quote(text), chromedp.Click(button))
}

// fill types value into the text field labelled label, replacing what it
// held.
func (b *browser) fill(label, value string) {
	b.t.Helper()
	id := b.controlByLabel(label)
	b.expectAccessible(id, "textbox", label)
	b.typeInto("fill in "+quote(label), id, value)
}

// check ticks the checkbox labelled label.
func (b *browser) check(label string) {
	b.t.Helper()
	id := b.controlByLabel(label)
	b.expectAccessible(id, "checkbox", label)
	b.do("tick "+quote(label), chromedp.Click(idXPath(id)))
	on, err := chromedp.Run(b.ctx, chromedp.JavascriptAttribute[bool](idXPath(id), "checked"))
	if err != nil || !on {
		b.fail("tick %q: the box is not ticked (err %v)", label, err)
	}
}

// expectAccessible fails unless assistive technology sees the element with
// id as a role named name.
func (b *browser) expectAccessible(id, role, name string) {
	b.t.Helper()
	if r, n := b.axNameOf(id); r != role || n != name {
		b.fail("#%s is a %s named %q to a screen reader, want a %s named %q", id, r, n, role, name)
	}
}

// typeInto empties the control with the given id and types value into it,
// key by key. (chromedp.Clear fails on an empty textarea, and SetValue to
// "" reports a failure, so a script empties it.)
func (b *browser) typeInto(what, id, value string) {
	b.t.Helper()
	b.do(what,
		chromedp.Evaluate[chromedp.Void](`document.getElementById(`+jsString(id)+`).value = ''`),
		chromedp.SendKeys(idXPath(id), value))
	got, err := chromedp.Run(b.ctx, chromedp.Value(idXPath(id)))
	if err != nil || got != value {
		b.fail("%s: the field holds %q, not %q (err %v)", what, got, value, err)
	}
}

// fillInGroup types value into the control labelled label inside the
// fieldset whose legend is legend, such as the day of a date of birth.
func (b *browser) fillInGroup(legend, label, value string) {
	b.t.Helper()
	id := b.controlByLabelIn("//fieldset[legend[normalize-space(.)="+xpathLiteral(legend)+"]]", label)
	b.expectAccessible(id, "textbox", label)
	b.typeInto("fill in "+quote(legend+": "+label), id, value)
}

// firstTime finds the first time the slot picker offers: a link whose
// accessible name starts with a time of day, such as "9:00 am, Thursday 3
// December, with Priya Nandakumar".
func (b *browser) firstTime() (link, name string) {
	b.t.Helper()
	return b.byRole("link", "with a time of day", timeOfDay.MatchString)
}

var timeOfDay = regexp.MustCompile(`^\d{1,2}:\d{2}\s*[ap]\.?m\b`)

// controlByLabel returns the id of the control a <label> names through its
// for attribute, the association that screen readers use.
func (b *browser) controlByLabel(label string) string {
	b.t.Helper()
	return b.controlByLabelIn("", label)
}

// controlByLabelIn is controlByLabel for a label inside the element scope
// (an XPath) selects.
func (b *browser) controlByLabelIn(scope, label string) string {
	b.t.Helper()
	lab := labelXPath(scope, label)
	b.mustFind("a label "+quote(label), lab)
	attrs, err := chromedp.Run(b.ctx, chromedp.Attributes(lab))
	if err != nil {
		b.fail("read the label %q: %v", label, err)
	}
	id := attrs["for"]
	if id == "" {
		b.fail("the label %q has no for attribute, so it names no control", label)
	}
	if n := b.count(idXPath(id)); n != 1 {
		b.fail("the label %q points at id %q, which %d elements have", label, id, n)
	}
	return id
}

// mustFind fails at once, with what the page shows, if xpath matches
// nothing; it waits briefly for a page still drawing.
func (b *browser) mustFind(what, xpath string) {
	b.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for b.count(xpath) == 0 {
		if time.Now().After(deadline) {
			b.fail("the page has no %s", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// count returns how many elements match xpath right now.
func (b *browser) count(xpath string) int {
	n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](
		`document.evaluate(`+jsString(xpath)+`, document, null, XPathResult.ORDERED_NODE_SNAPSHOT_TYPE, null).snapshotLength`))
	if err != nil {
		b.fail("count %s: %v", xpath, err)
	}
	return n
}

// heading is the page's h1 as a person reads it.
func (b *browser) heading() string {
	h, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](
		`(document.querySelector('h1') || {innerText: ''}).innerText.trim()`))
	return h
}

// expectHeading fails unless the page's h1 contains want (case-insensitive).
func (b *browser) expectHeading(want string) {
	b.t.Helper()
	if h := b.heading(); !strings.Contains(strings.ToLower(h), strings.ToLower(want)) {
		b.fail("expected a page headed %q, got %q", want, h)
	}
}

// expectText fails unless the page shows each of wants ("" is skipped).
func (b *browser) expectText(page string, wants ...string) {
	b.t.Helper()
	text := strings.Join(strings.Fields(b.text()), " ")
	for _, want := range wants {
		if want != "" && !strings.Contains(text, want) {
			b.fail("%s does not show %q", page, want)
		}
	}
}

// text is everything the page shows.
func (b *browser) text() string {
	s, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ''`))
	return s
}

// checkPage fails on what every page owes a patient: a title, a language,
// one h1, and no sideways scrolling at the browser's width (WCAG 1.4.10:
// content reflows down to 320 CSS pixels).
func (b *browser) checkPage() {
	b.t.Helper()
	type facts struct {
		Title       string `json:"title"`
		Lang        string `json:"lang"`
		H1s         int    `json:"h1s"`
		ScrollWidth int    `json:"scrollWidth"`
		Width       int    `json:"width"`
		Widest      string `json:"widest"`
	}
	f, err := chromedp.Run(b.ctx, chromedp.Evaluate[facts](`(() => {
		const width = document.documentElement.clientWidth;
		let widest = '';
		for (const el of document.body.querySelectorAll('*')) {
			const r = el.getBoundingClientRect();
			if (r.right > width + 1 && !widest) widest = el.tagName.toLowerCase() + (el.className ? '.' + el.className : '') + ' ' + (el.innerText || '').slice(0, 40);
		}
		return {title: document.title, lang: document.documentElement.lang,
			h1s: document.querySelectorAll('h1').length,
			scrollWidth: document.documentElement.scrollWidth, width, widest};
	})()`))
	if err != nil {
		b.fail("read the page: %v", err)
	}
	switch {
	case strings.TrimSpace(f.Title) == "":
		b.fail("the page has no title")
	case f.Lang == "":
		b.fail("the page does not say its language (<html lang>)")
	case f.H1s != 1:
		b.fail("the page has %d h1 headings, want 1", f.H1s)
	case f.ScrollWidth > f.Width:
		b.fail("the page scrolls sideways at %dpx: it is %dpx wide (first element past the edge: %s)", f.Width, f.ScrollWidth, f.Widest)
	}
}

// url is the address of the page.
func (b *browser) url() string {
	u, _ := chromedp.Run(b.ctx, chromedp.Location())
	return u
}

// screenshot saves the whole page as NN-name.png under $BROWSER_SCREENSHOTS.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	if suite.screenshots == "" {
		return
	}
	b.shots++
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	file := filepath.Join(suite.screenshots, fmt.Sprintf("%s-%02d-%s.png", fileSafe(b.t.Name()), b.shots, fileSafe(name)))
	if err := os.WriteFile(file, png, 0o644); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
	}
}

// fail stops the test with everything that helps to see why: the page's
// address, heading and text, a screenshot, and the portal's recent log.
func (b *browser) fail(format string, args ...any) {
	b.t.Helper()
	msg := fmt.Sprintf(format, args...)
	if errors.Is(b.ctx.Err(), context.DeadlineExceeded) {
		msg += fmt.Sprintf(" (the test's %v deadline has passed)", testTimeout)
	}
	b.screenshot("FAILED")
	text := b.text()
	if len(text) > 3000 {
		text = text[:3000] + "\n…"
	}
	b.t.Fatalf("%s\n  page: %s\n  heading: %q\n  text:\n%s\n  portal log (last lines):\n%s",
		msg, b.url(), b.heading(), indent(text), indent(logTail(suite.portalLog, 25)))
}

// XPath helpers. Matching is on normalised visible text, so markup and
// styling can change without breaking the tests.

func idXPath(id string) string { return "//*[@id=" + xpathLiteral(id) + "]" }

// labelXPath matches a label inside scope whose text is label: all of it,
// or its own text nodes (leaving out a nested hint or error message).
func labelXPath(scope, label string) string {
	l := xpathLiteral(label)
	return "(" + scope + "//label[normalize-space(.)=" + l + " or normalize-space(text())=" + l + "])[1]"
}

// xpathLiteral quotes s for XPath 1.0, which has no escapes: a name like
// O'Connor needs concat().
func xpathLiteral(s string) string {
	if !strings.Contains(s, "'") {
		return "'" + s + "'"
	}
	if !strings.Contains(s, `"`) {
		return `"` + s + `"`
	}
	parts := strings.Split(s, "'")
	return "concat('" + strings.Join(parts, `', "'", '`) + "')"
}

func jsString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`)
	return "'" + r.Replace(s) + "'"
}

func quote(s string) string { return fmt.Sprintf("%q", s) }

var unsafeFileChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func fileSafe(s string) string { return strings.Trim(unsafeFileChars.ReplaceAllString(s, "_"), "_") }

func indent(s string) string { return "    " + strings.ReplaceAll(s, "\n", "\n    ") }
