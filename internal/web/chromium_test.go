package web

// The browser tests drive Debian's headless Chromium through chromedp: one
// browser per test, a browser context of its own (its own cookies) for each
// tab, pages loaded, forms filled and submitted, text read, screenshots
// taken.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/richiamo/richiamo/internal/testkit"
)

type browser struct {
	ctx context.Context // the browser's chromedp context
}

// startBrowser starts headless Chromium with a fresh profile. Without
// Chromium the test is skipped, except under CI=true, where it fails: there
// the browser tests are part of what must pass.
func startBrowser(t *testing.T) *browser {
	t.Helper()
	path := testkit.Need(t, "chromium")
	// Debian's chromium speaks only American English unless chromium-l10n
	// is installed; the console's date fields would then read mm/dd/yyyy.
	if _, err := os.Stat("/usr/lib/chromium/locales"); err == nil {
		if _, err := os.Stat("/usr/lib/chromium/locales/it.pak"); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatal("chromium has no Italian (apt-get install chromium-l10n); under CI=true the browser tests must see the console as its users do")
			}
			t.Skip("chromium has no Italian (apt-get install chromium-l10n)")
		}
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Headless, // also hides the scrollbars and mutes audio
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		// An Italian browser, as the operators' are: date fields then read
		// gg/mm/aaaa, not the American mm/dd/yyyy.
		chromedp.Flag("lang", "it-IT"),
		chromedp.Env("LANG=it_IT.UTF-8", "LANGUAGE=it"),
	)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		// Close the browser gracefully, then stop the process and wait
		// for it, so that none of chromedp's goroutines outlive the test.
		closing, done := context.WithTimeout(ctx, 10*time.Second)
		_ = chromedp.Cancel(closing)
		done()
		cancel()
		cancelAlloc()
	})
	// The first run starts the browser; it lives as long as ctx.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return &browser{ctx: ctx}
}

// tab is a page in a browser context of its own: its cookies are its own.
type tab struct {
	t   *testing.T
	ctx context.Context
}

const (
	viewWidth  = 1366
	viewHeight = 900
)

func (b *browser) newTab(t *testing.T) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	// The first run opens the tab, which lives as long as the context of
	// that run: it must be ctx itself, without a timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	tb := &tab{t: t, ctx: ctx}
	tb.run(chromedp.EmulateViewport(viewWidth, viewHeight),
		// Italian users' browsers show dates the Italian way.
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetLocaleOverride, emulation.SetLocaleOverrideParams{Locale: "it-IT"})
			return err
		}))
	return tb
}

// timeout bounds each step; the tab's context is not given one, as it
// lives as long as the tab.
func (tb *tab) timeout() (context.Context, context.CancelFunc) {
	return context.WithTimeout(tb.ctx, 20*time.Second)
}

func (tb *tab) run(actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := tb.timeout()
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		tb.t.Fatal(err)
	}
}

func (tb *tab) viewport(height int) {
	tb.t.Helper()
	tb.run(chromedp.EmulateViewport(viewWidth, int64(height)))
}

// navigating runs action and waits for the page it leads to to load.
func (tb *tab) navigating(action chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := tb.timeout()
	defer cancel()
	if _, err := chromedp.RunResponse(ctx, action); err != nil {
		tb.t.Fatalf("page did not load: %v", err)
	}
}

func (tb *tab) open(url string) {
	tb.t.Helper()
	tb.run(chromedp.Navigate(url))
}

// evaluate is an action that runs a JavaScript expression in the page,
// awaiting it if it is a promise, and decodes its value into out (when not
// nil). The value travels as JSON text, so that any JSON value decodes.
func evaluate(expr string, out any) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		js := `Promise.resolve(` + expr + `).then(v => v === undefined ? "null" : JSON.stringify(v))`
		s, err := chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise)(ctx, tg)
		if err != nil {
			return chromedp.Void{}, fmt.Errorf("javascript %q: %w", expr, err)
		}
		if out != nil {
			return chromedp.Void{}, json.Unmarshal([]byte(s), out)
		}
		return chromedp.Void{}, nil
	}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func (tb *tab) must(expr string, out any) {
	tb.t.Helper()
	tb.run(evaluate(expr, out))
}

// fill types a value into the field the selector finds.
func (tb *tab) fill(selector, value string) {
	tb.t.Helper()
	var ok bool
	tb.must(fmt.Sprintf(`(() => { const e = document.querySelector(%s); if (!e) return false; e.value = %s; return true })()`,
		jsString(selector), jsString(value)), &ok)
	if !ok {
		tb.t.Fatalf("no field %s on %s", selector, tb.url())
	}
}

// click clicks the element the selector finds and waits for the next page.
func (tb *tab) click(selector string) {
	tb.t.Helper()
	var found bool
	tb.must(fmt.Sprintf(`document.querySelector(%s) !== null`, jsString(selector)), &found)
	if !found {
		tb.t.Fatalf("nothing to click at %s on %s", selector, tb.url())
	}
	tb.navigating(evaluate(fmt.Sprintf(`document.querySelector(%s).click()`, jsString(selector)), nil))
}

func (tb *tab) text() string {
	tb.t.Helper()
	var s string
	tb.must(`document.body.innerText`, &s)
	return s
}

func (tb *tab) html() string {
	tb.t.Helper()
	var s string
	tb.must(`document.documentElement.outerHTML`, &s)
	return s
}

func (tb *tab) url() string {
	var s string
	ctx, cancel := tb.timeout()
	defer cancel()
	_ = chromedp.Do(ctx, evaluate(`location.pathname + location.search`, &s))
	return s
}

func (tb *tab) heading() string {
	tb.t.Helper()
	var s string
	tb.must(`(document.querySelector("h1") || {}).textContent || ""`, &s)
	return strings.TrimSpace(s)
}

// screenshot saves the whole page as a PNG.
func (tb *tab) screenshot(path string) {
	tb.t.Helper()
	var h float64
	tb.must(`Math.ceil(document.documentElement.scrollHeight)`, &h)
	height := min(max(int(h), viewHeight), 4000)
	tb.viewport(height)
	defer tb.viewport(viewHeight)
	ctx, cancel := tb.timeout()
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		tb.t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		tb.t.Fatal(err)
	}
}
