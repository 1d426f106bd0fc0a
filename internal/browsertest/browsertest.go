// Package browsertest drives the pages in a real headless Chromium (Debian's
// chromium, installed by scripts/install-deps.sh --test) for the browser
// tests: phone and desktop windows, waiting for text with a deadline,
// axe-core (vendored here, for tests only: axe.min.js, MPL-2.0), the
// no-horizontal-scroll check, screenshots into docs/screenshots/, and the
// page's CSP violations and script errors.
//
//	b := browsertest.New(t)
//	p := b.Page(t, browsertest.Phone())
//	p.Navigate(base + "/c/my-campaign")
//	p.WaitText("Take action")
//	p.CheckA11y()           // axe: no serious or critical violation
//	p.CheckNoHorizontalScroll()
//	p.Screenshot("campaign") // docs/screenshots/campaign-phone.png
//	p.CheckClean()           // no CSP violation, no uncaught error
package browsertest

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

//go:embed axe.min.js
var axeSource string

// Timeout bounds each wait and each action of a page.
const Timeout = 30 * time.Second

// Viewport is a window size to emulate.
type Viewport struct {
	Name          string // in screenshot names: "phone", "desktop"
	Width, Height int64
	Scale         float64
	Mobile        bool
}

// Phone is a small phone held upright: 360×740 CSS pixels, touch.
func Phone() Viewport {
	return Viewport{Name: "phone", Width: 360, Height: 740, Scale: 2, Mobile: true}
}

// Desktop is a laptop screen: 1280×800.
func Desktop() Viewport { return Viewport{Name: "desktop", Width: 1280, Height: 800, Scale: 1} }

// Browser is one Chromium process, closed when the test ends.
type Browser struct {
	ctx context.Context
}

// Chromium finds Debian's chromium, failing t when it is not installed.
func Chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("chromium not installed; scripts/install-deps.sh --test installs it")
	return ""
}

// AllocatorOptions are the flags the tests start Chromium with (as the queue
// dashboard's browser test does), plus extra.
func AllocatorOptions(chromium string, extra ...chromedp.ExecAllocatorOption) []chromedp.ExecAllocatorOption {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", false),
	)
	return append(opts, extra...)
}

// New starts Chromium for t, with extra flags when given.
func New(t testing.TB, extra ...chromedp.ExecAllocatorOption) *Browser {
	t.Helper()
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), AllocatorOptions(Chromium(t), extra...)...)
	ctx, cancel := chromedp.NewContext(alloc)
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		cancel()
		cancelAlloc()
		t.Fatalf("start chromium: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	return &Browser{ctx: ctx}
}

// Page is one tab.
type Page struct {
	t   testing.TB
	ctx context.Context
	vp  Viewport
}

// watch records CSP violations and uncaught errors in window.__cm, before
// any of the page's own scripts run.
const watch = `window.__cm = {csp: [], errors: []};
document.addEventListener('securitypolicyviolation', (e) => window.__cm.csp.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sample || '')));
window.addEventListener('error', (e) => window.__cm.errors.push(String(e.message)));
window.addEventListener('unhandledrejection', (e) => window.__cm.errors.push(String(e.reason && e.reason.stack || e.reason)));`

// PageOption adjusts a new tab.
type PageOption func(*pageConfig)

type pageConfig struct{ acceptLanguage string }

// AcceptLanguage makes the tab send this Accept-Language header.
func AcceptLanguage(v string) PageOption { return func(c *pageConfig) { c.acceptLanguage = v } }

// Page opens a tab with viewport vp, closed when t ends.
func (b *Browser) Page(t testing.TB, vp Viewport, opts ...PageOption) *Page {
	t.Helper()
	var cfg pageConfig
	for _, o := range opts {
		o(&cfg)
	}
	ctx, cancel := chromedp.NewContext(b.ctx)
	t.Cleanup(cancel)
	actions := []chromedp.Action[chromedp.Void]{
		chromedp.EmulateViewport(vp.Width, vp.Height, viewportOptions(vp)...),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument,
				page.AddScriptToEvaluateOnNewDocumentParams{Source: watch})
			return err
		}),
	}
	if cfg.acceptLanguage != "" {
		actions = append(actions, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, network.SetExtraHTTPHeaders,
				network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Accept-Language": cfg.acceptLanguage}})
			return err
		}))
	}
	// The tab's first run opens it: without a timeout, which would close it.
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	return &Page{t: t, ctx: ctx, vp: vp}
}

func viewportOptions(vp Viewport) []chromedp.EmulateViewportOption {
	opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(vp.Scale)}
	if vp.Mobile {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	return opts
}

// Ctx is the tab's context, for chromedp actions of one's own.
func (p *Page) Ctx() context.Context { return p.ctx }

// Viewport is the tab's viewport.
func (p *Page) Viewport() Viewport { return p.vp }

// Run runs actions with Timeout, failing the test on error.
func (p *Page) Run(what string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, Timeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.t.Fatalf("%s: %v\n%s", what, err, p.describe())
	}
}

// Get runs one action that returns a value, with Timeout, failing the test on error.
func Get[T any](p *Page, what string, action chromedp.Action[T]) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, Timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, action)
	if err != nil {
		p.t.Fatalf("%s: %v\n%s", what, err, p.describe())
	}
	return v
}

// Navigate opens url and waits for the document to load.
func (p *Page) Navigate(url string) {
	p.t.Helper()
	p.Run("navigate to "+url, chromedp.Navigate(url))
}

// Eval evaluates a JavaScript expression (awaiting a promise) and decodes
// its JSON value into out (nil: ignored).
func (p *Page) Eval(expr string, out any) {
	p.t.Helper()
	raw := Get(p, "evaluate "+short(expr), chromedp.Evaluate[[]byte](expr, chromedp.EvalAwaitPromise))
	if out == nil {
		return
	}
	if err := json.Unmarshal(raw, out); err != nil {
		p.t.Fatalf("evaluate %s: decode %.200s: %v", short(expr), raw, err)
	}
}

// Poll waits until expr is truthy, with Timeout.
func (p *Page) Poll(what, expr string) {
	p.t.Helper()
	deadline := time.Now().Add(Timeout)
	for {
		ctx, cancel := context.WithTimeout(p.ctx, Timeout)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("Boolean("+expr+")"))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("waited %s for %s (last error: %v)\n%s", Timeout, what, err, p.describe())
		}
		time.Sleep(50 * time.Millisecond) // a polling interval, with the deadline above
	}
}

// WaitText waits until the page's visible text contains text.
func (p *Page) WaitText(text string) {
	p.t.Helper()
	q, _ := json.Marshal(text)
	p.Poll(fmt.Sprintf("the text %q", text), "document.body && document.body.innerText.includes("+string(q)+")")
}

// WaitVisible waits until the element sel is visible.
func (p *Page) WaitVisible(sel string) {
	p.t.Helper()
	p.Run("wait for "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
}

// Text is the page's visible text.
func (p *Page) Text() string {
	p.t.Helper()
	var s string
	p.Eval("document.body ? document.body.innerText : ''", &s)
	return s
}

// Click clicks the element sel.
func (p *Page) Click(sel string) {
	p.t.Helper()
	p.Run("click "+sel, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

// Type types text into the element sel (after focusing it), as keys.
func (p *Page) Type(sel, text string) {
	p.t.Helper()
	p.Run("type into "+sel, chromedp.SendKeys(chromedp.CSS(sel), text, chromedp.NodeVisible))
}

// Keys sends key presses to the focused element ("\t" is Tab, "\r" Enter).
func (p *Page) Keys(keys string) {
	p.t.Helper()
	p.Run("press keys", chromedp.KeyEvent(keys))
}

// ActiveID is the id of the focused element.
func (p *Page) ActiveID() string {
	p.t.Helper()
	var id string
	p.Eval("document.activeElement ? document.activeElement.id : ''", &id)
	return id
}

// A11yViolation is one axe-core rule broken on the page.
type A11yViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []any  `json:"target"`
		HTML   string `json:"html"`
	} `json:"nodes"`
}

// Axe runs axe-core on the page and returns every violation.
func (p *Page) Axe() []A11yViolation {
	p.t.Helper()
	var loaded bool
	p.Eval("typeof window.axe !== 'undefined'", &loaded)
	if !loaded {
		p.Run("inject axe-core", chromedp.Evaluate[chromedp.Void](axeSource))
	}
	var out []A11yViolation
	p.Eval(`axe.run(document, {resultTypes: ['violations']}).then((r) => r.violations)`, &out)
	return out
}

// CheckA11y fails the test on any serious or critical axe-core violation.
func (p *Page) CheckA11y() {
	p.t.Helper()
	for _, v := range p.Axe() {
		if v.Impact != "serious" && v.Impact != "critical" {
			continue
		}
		var where []string
		for _, n := range v.Nodes {
			where = append(where, fmt.Sprint(n.Target)+" "+short(n.HTML))
		}
		p.t.Errorf("axe (%s, %s): %s: %s\n  %s", p.vp.Name, v.Impact, v.ID, v.Help, strings.Join(where, "\n  "))
	}
}

// CheckNoHorizontalScroll fails the test when the page is wider than the window.
func (p *Page) CheckNoHorizontalScroll() {
	p.t.Helper()
	var dims struct{ Scroll, Client int }
	p.Eval(`({Scroll: document.documentElement.scrollWidth, Client: document.documentElement.clientWidth})`, &dims)
	if dims.Scroll > dims.Client {
		var wide []string
		p.Eval(`[...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
			.slice(0, 5).map((e) => e.tagName + '.' + e.className)`, &wide)
		p.t.Errorf("%s: the page scrolls sideways (%d px wide in a %d px window); too wide: %v",
			p.vp.Name, dims.Scroll, dims.Client, wide)
	}
}

// CheckClean fails the test when the page broke its CSP or threw an error.
func (p *Page) CheckClean() {
	p.t.Helper()
	var got struct {
		CSP    []string `json:"csp"`
		Errors []string `json:"errors"`
	}
	p.Eval(`window.__cm || {csp: [], errors: []}`, &got)
	for _, v := range got.CSP {
		p.t.Errorf("CSP violation: %s", v)
	}
	for _, e := range got.Errors {
		p.t.Errorf("script error: %s", e)
	}
}

// Screenshot takes the whole page and, when UPDATE_SCREENSHOTS=1, saves it
// as docs/screenshots/<name>-<viewport>.png (a test run leaves the
// committed pictures alone otherwise).
func (p *Page) Screenshot(name string) {
	p.t.Helper()
	png := Get(p, "screenshot", chromedp.FullScreenshot(100))
	if os.Getenv("UPDATE_SCREENSHOTS") != "1" {
		return
	}
	dir, err := ScreenshotDir()
	if err != nil {
		p.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+"-"+p.vp.Name+".png"), png, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// ScreenshotDir is docs/screenshots of the module the test runs in.
func ScreenshotDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			out := filepath.Join(dir, "docs", "screenshots")
			return out, os.MkdirAll(out, 0o755)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// describe is where the page is, for failure messages.
func (p *Page) describe() string {
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	url, _ := chromedp.Run(ctx, chromedp.Location())
	text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText.slice(0, 1500) : ''`))
	return "page " + url + ":\n" + text
}

func short(s string) string {
	if len(s) > 120 {
		return s[:120] + "…"
	}
	return s
}

// URL is the page's address.
func (p *Page) URL() string {
	p.t.Helper()
	return Get(p, "read the location", chromedp.Location())
}

// With is the same tab reporting to t (a subtest's): a failure must be
// reported on the test that runs the check.
func (p *Page) With(t testing.TB) *Page {
	c := *p
	c.t = t
	return &c
}
