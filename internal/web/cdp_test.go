package web

// A small Chrome DevTools Protocol client, enough to drive Debian's
// headless Chromium from go test: open isolated browser contexts, load
// pages, fill and submit forms, read the text, take screenshots. One
// websocket to the browser carries every page's commands (flattened
// sessions).

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

type cdpMessage struct {
	ID        int64           `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Error     *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

type browser struct {
	cmd    *exec.Cmd
	conn   net.Conn
	r      io.Reader
	wmu    sync.Mutex
	nextID atomic.Int64

	mu      sync.Mutex
	pending map[int64]chan cdpMessage
	loads   map[string]chan struct{} // Page.loadEventFired per session
	closed  chan struct{}
	readErr error
}

// chromiumPath finds Debian's chromium, or "" when it is not installed.
func chromiumPath() string {
	if p := os.Getenv("RICHIAMO_CHROMIUM"); p != "" {
		return p
	}
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	return ""
}

var devtoolsURL = regexp.MustCompile(`DevTools listening on (ws://\S+)`)

// startBrowser starts headless Chromium on 127.0.0.1 with a fresh profile.
// Without Chromium the test is skipped, except under CI=true, where it
// fails: there the browser tests are part of what must pass.
func startBrowser(t *testing.T) *browser {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is not installed: the browser tests need Debian's chromium (scripts/test.sh installs it)")
		}
		t.Skip("chromium is not installed: browser tests skipped (apt-get install chromium, or make test)")
	}
	profile := t.TempDir()
	cmd := exec.Command(path, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-extensions", "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio",
		"--user-data-dir="+profile, "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "about:blank")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	found := make(chan string, 1)
	var logTail bytes.Buffer
	go func() {
		sc := bufio.NewScanner(stderr)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			if !sent {
				if m := devtoolsURL.FindStringSubmatch(line); m != nil {
					found <- m[1]
					sent = true
					continue
				}
				if logTail.Len() < 4096 {
					logTail.WriteString(line + "\n")
				}
			}
		}
		close(found)
	}()
	b := &browser{cmd: cmd, pending: map[int64]chan cdpMessage{}, loads: map[string]chan struct{}{}, closed: make(chan struct{})}
	t.Cleanup(b.close)
	var wsURL string
	select {
	case u, ok := <-found:
		if !ok {
			t.Fatalf("chromium exited before listening:\n%s", logTail.String())
		}
		wsURL = u
	case <-time.After(30 * time.Second):
		t.Fatal("chromium did not start within 30 s")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, br, _, err := ws.Dial(ctx, wsURL)
	if err != nil {
		t.Fatalf("devtools websocket: %v", err)
	}
	b.conn, b.r = conn, conn
	if br != nil {
		b.r = io.MultiReader(br, conn)
	}
	go b.read()
	return b
}

func (b *browser) read() {
	rw := struct {
		io.Reader
		io.Writer
	}{b.r, lockedWriter{b}}
	for {
		data, err := wsutil.ReadServerText(rw)
		if err != nil {
			b.mu.Lock()
			b.readErr = err
			b.mu.Unlock()
			close(b.closed)
			return
		}
		var m cdpMessage
		if err := json.Unmarshal(data, &m); err != nil {
			continue
		}
		b.mu.Lock()
		if m.ID != 0 {
			if ch := b.pending[m.ID]; ch != nil {
				ch <- m
				delete(b.pending, m.ID)
			}
		} else if m.Method == "Page.loadEventFired" {
			if ch := b.loads[m.SessionID]; ch != nil {
				select {
				case ch <- struct{}{}:
				default:
				}
			}
		}
		b.mu.Unlock()
	}
}

// lockedWriter keeps the reader's control frames from interleaving with
// commands.
type lockedWriter struct{ b *browser }

func (w lockedWriter) Write(p []byte) (int, error) {
	w.b.wmu.Lock()
	defer w.b.wmu.Unlock()
	return w.b.conn.Write(p)
}

func (b *browser) call(ctx context.Context, session, method string, params, result any) error {
	id := b.nextID.Add(1)
	m := map[string]any{"id": id, "method": method}
	if params != nil {
		m["params"] = params
	}
	if session != "" {
		m["sessionId"] = session
	}
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	ch := make(chan cdpMessage, 1)
	b.mu.Lock()
	b.pending[id] = ch
	b.mu.Unlock()
	var frame bytes.Buffer
	if err := wsutil.WriteClientText(&frame, data); err != nil {
		return err
	}
	if _, err := (lockedWriter{b}).Write(frame.Bytes()); err != nil {
		return fmt.Errorf("cdp %s: %w", method, err)
	}
	select {
	case r := <-ch:
		if r.Error != nil {
			return fmt.Errorf("cdp %s: %s (%d)", method, r.Error.Message, r.Error.Code)
		}
		if result != nil {
			return json.Unmarshal(r.Result, result)
		}
		return nil
	case <-b.closed:
		return fmt.Errorf("cdp %s: connection closed: %v", method, b.readErr)
	case <-ctx.Done():
		return fmt.Errorf("cdp %s: %w", method, ctx.Err())
	}
}

func (b *browser) close() {
	if b.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = b.call(ctx, "", "Browser.close", nil, nil)
		cancel()
		b.conn.Close()
	}
	done := make(chan struct{})
	go func() { _ = b.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = b.cmd.Process.Kill()
		<-done
	}
}

// tab is a page in a browser context of its own: its cookies are its own.
type tab struct {
	t       *testing.T
	b       *browser
	session string
	loaded  chan struct{}
}

const (
	viewWidth  = 1366
	viewHeight = 900
)

func (b *browser) newTab(t *testing.T) *tab {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var bc struct {
		ID string `json:"browserContextId"`
	}
	if err := b.call(ctx, "", "Target.createBrowserContext", map[string]any{"disposeOnDetach": true}, &bc); err != nil {
		t.Fatal(err)
	}
	var tg struct {
		ID string `json:"targetId"`
	}
	if err := b.call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank", "browserContextId": bc.ID}, &tg); err != nil {
		t.Fatal(err)
	}
	var at struct {
		Session string `json:"sessionId"`
	}
	if err := b.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": tg.ID, "flatten": true}, &at); err != nil {
		t.Fatal(err)
	}
	tb := &tab{t: t, b: b, session: at.Session, loaded: make(chan struct{}, 8)}
	b.mu.Lock()
	b.loads[at.Session] = tb.loaded
	b.mu.Unlock()
	if err := b.call(ctx, at.Session, "Page.enable", nil, nil); err != nil {
		t.Fatal(err)
	}
	tb.viewport(viewHeight)
	// Italian users' browsers show dates the Italian way.
	if err := b.call(ctx, at.Session, "Emulation.setLocaleOverride", map[string]any{"locale": "it-IT"}, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = b.call(ctx, "", "Target.disposeBrowserContext", map[string]any{"browserContextId": bc.ID}, nil)
	})
	return tb
}

func (tb *tab) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 20*time.Second)
}

func (tb *tab) viewport(height int) {
	tb.t.Helper()
	ctx, cancel := tb.ctx()
	defer cancel()
	if err := tb.b.call(ctx, tb.session, "Emulation.setDeviceMetricsOverride",
		map[string]any{"width": viewWidth, "height": height, "deviceScaleFactor": 1, "mobile": false}, nil); err != nil {
		tb.t.Fatal(err)
	}
}

// navigating runs action and waits for the page it leads to to load.
func (tb *tab) navigating(action func(ctx context.Context) error) {
	tb.t.Helper()
	for len(tb.loaded) > 0 {
		<-tb.loaded
	}
	ctx, cancel := tb.ctx()
	defer cancel()
	if err := action(ctx); err != nil {
		tb.t.Fatal(err)
	}
	select {
	case <-tb.loaded:
	case <-ctx.Done():
		tb.t.Fatalf("page did not load: %v", ctx.Err())
	}
}

func (tb *tab) open(url string) {
	tb.t.Helper()
	tb.navigating(func(ctx context.Context) error {
		var r struct {
			ErrorText string `json:"errorText"`
		}
		if err := tb.b.call(ctx, tb.session, "Page.navigate", map[string]any{"url": url}, &r); err != nil {
			return err
		}
		if r.ErrorText != "" {
			return errors.New("navigate " + url + ": " + r.ErrorText)
		}
		return nil
	})
}

// eval runs a JavaScript expression in the page and returns its value.
func (tb *tab) eval(ctx context.Context, expr string, out any) error {
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		Exception *struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	if err := tb.b.call(ctx, tb.session, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true}, &r); err != nil {
		return err
	}
	if r.Exception != nil {
		return fmt.Errorf("javascript %q: %s", expr, r.Exception.Text)
	}
	if out != nil && len(r.Result.Value) > 0 {
		return json.Unmarshal(r.Result.Value, out)
	}
	return nil
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func (tb *tab) must(expr string, out any) {
	tb.t.Helper()
	ctx, cancel := tb.ctx()
	defer cancel()
	if err := tb.eval(ctx, expr, out); err != nil {
		tb.t.Fatal(err)
	}
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
	tb.navigating(func(ctx context.Context) error {
		var ok bool
		if err := tb.eval(ctx, fmt.Sprintf(`(() => { const e = document.querySelector(%s); if (!e) return false; e.click(); return true })()`,
			jsString(selector)), &ok); err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("nothing to click at %s on %s", selector, tb.url())
		}
		return nil
	})
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
	ctx, cancel := tb.ctx()
	defer cancel()
	_ = tb.eval(ctx, `location.pathname + location.search`, &s)
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
	ctx, cancel := tb.ctx()
	defer cancel()
	var r struct {
		Data string `json:"data"`
	}
	if err := tb.b.call(ctx, tb.session, "Page.captureScreenshot", map[string]any{"format": "png"}, &r); err != nil {
		tb.t.Fatal(err)
	}
	png, err := base64.StdEncoding.DecodeString(r.Data)
	if err != nil {
		tb.t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		tb.t.Fatal(err)
	}
}
