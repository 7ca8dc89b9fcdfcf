//go:build browser

package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// The tests find links, buttons and form controls the way a screen reader
// does: by role and accessible name, from the browser's accessibility
// tree. A link that only looks right, or a field whose label is not tied to
// it, fails the test.

// axNode is one element of the accessibility tree.
type axNode struct {
	role, name string
	backend    cdp.BackendNodeID
}

// axQuery returns the elements with role (as Chromium computes it: "link",
// "button", "textbox", "checkbox", "group", ...) in the page's main
// content, in document order, leaving out those hidden from assistive
// technology. The site header's links (the clinic's name) are not choices.
func (b *browser) axQuery(role string) []axNode {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	doc, err := chromedp.Call(ctx, runtime.Evaluate, runtime.EvaluateParams{
		Expression: "document.querySelector('main') || document", ObjectGroup: "browsertest"})
	if err != nil || doc.Result == nil || doc.Result.ObjectID == "" {
		b.fail("get the main content for the accessibility tree: %v", err)
	}
	res, err := chromedp.Call(ctx, accessibility.QueryAXTree, accessibility.QueryAXTreeParams{ObjectID: doc.Result.ObjectID, Role: role})
	b.release(ctx)
	if err != nil {
		b.fail("query the accessibility tree for %s: %v", role, err)
	}
	var out []axNode
	for _, n := range res.Nodes {
		if n.Ignored || n.BackendDOMNodeID == 0 {
			continue
		}
		out = append(out, axNode{role: role, name: axString(n.Name), backend: n.BackendDOMNodeID})
	}
	return out
}

// release frees the page's objects that the lookups above held.
func (b *browser) release(ctx context.Context) {
	_, _ = chromedp.Call(ctx, runtime.ReleaseObjectGroup, runtime.ReleaseObjectGroupParams{ObjectGroup: "browsertest"})
}

func axString(v *accessibility.Value) string {
	if v == nil || len(v.Value) == 0 {
		return ""
	}
	var s string
	if err := json.Unmarshal([]byte(v.Value), &s); err != nil {
		return string(v.Value)
	}
	return strings.Join(strings.Fields(s), " ")
}

// byRole finds the first element with role whose accessible name matches,
// waiting briefly for a page still drawing, and returns an XPath that
// selects it for chromedp's actions, and its name. It fails, listing what
// the page does offer, when there is none.
func (b *browser) byRole(role, want string, match func(name string) bool) (xpath, name string) {
	b.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		nodes := b.axQuery(role)
		for _, n := range nodes {
			if match(n.name) {
				return b.mark(n), n.name
			}
		}
		if time.Now().After(deadline) {
			var names []string
			for _, n := range nodes {
				names = append(names, strconv.Quote(n.name))
			}
			b.fail("the page has no %s named %s; its %ss are: %s", role, want, role, strings.Join(names, ", "))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// named matches an accessible name exactly (spaces normalised).
func named(want string) func(string) bool {
	return func(name string) bool { return name == want }
}

// namedStarting matches an accessible name that begins with want, as a
// choice's name begins with its title and goes on with its details.
func namedStarting(want string) func(string) bool {
	return func(name string) bool { return strings.HasPrefix(name, want) }
}

var marks atomic.Int64

// mark tags the element with a unique attribute and returns its XPath.
func (b *browser) mark(n axNode) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	obj, err := chromedp.Call(ctx, dom.ResolveNode, dom.ResolveNodeParams{BackendNodeID: n.backend, ObjectGroup: "browsertest"})
	if err != nil || obj.Object == nil {
		b.fail("find the %s %q in the page: %v", n.role, n.name, err)
	}
	defer b.release(ctx)
	id := fmt.Sprintf("bt-%d", marks.Add(1))
	arg, _ := json.Marshal(id)
	_, err = chromedp.Call(ctx, runtime.CallFunctionOn, runtime.CallFunctionOnParams{
		FunctionDeclaration: `function(v) { this.setAttribute('data-browsertest', v) }`,
		ObjectID:            obj.Object.ObjectID,
		Arguments:           []*runtime.CallArgument{{Value: arg}},
	})
	if err != nil {
		b.fail("mark the %s %q: %v", n.role, n.name, err)
	}
	return "//*[@data-browsertest=" + xpathLiteral(id) + "]"
}

// axNameOf returns the role and accessible name of the element with id.
func (b *browser) axNameOf(id string) (role, name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	el, err := chromedp.Call(ctx, runtime.Evaluate, runtime.EvaluateParams{Expression: "document.getElementById(" + jsString(id) + ")", ObjectGroup: "browsertest"})
	if err != nil || el.Result == nil || el.Result.ObjectID == "" {
		b.fail("find #%s: %v", id, err)
	}
	defer b.release(ctx)
	noRelatives := false
	res, err := chromedp.Call(ctx, accessibility.GetPartialAXTree, accessibility.GetPartialAXTreeParams{ObjectID: el.Result.ObjectID, FetchRelatives: &noRelatives})
	if err != nil || len(res.Nodes) == 0 {
		b.fail("read the accessibility of #%s: %v", id, err)
	}
	return axString(res.Nodes[0].Role), axString(res.Nodes[0].Name)
}

// expectDistinctLinks fails unless the links whose accessible names start
// with prefix ("Change ") have names that differ, so that a screen reader's
// list of links says what each one changes (WCAG 2.4.4).
func (b *browser) expectDistinctLinks(prefix string) {
	b.t.Helper()
	seen := map[string]bool{}
	for _, n := range b.axQuery("link") {
		if !strings.HasPrefix(n.name, strings.TrimSpace(prefix)) {
			continue
		}
		if !strings.HasPrefix(n.name, prefix) || seen[n.name] {
			b.fail("links named %q do not say what they are for: %q", strings.TrimSpace(prefix), n.name)
		}
		seen[n.name] = true
	}
	if len(seen) == 0 {
		b.fail("the page has no link named %q…", prefix)
	}
}
