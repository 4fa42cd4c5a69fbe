package web

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/richiamo/richiamo/internal/store"
)

// What the browser test of "Chiama" in package web_test needs of this
// package's test kit: the engine's console calls are built in package
// engine, which imports web, so only a test outside the package can join
// them to the console.

// CallsConsole is the seeded console in headless Chromium, with the recall
// item of patient PatientPhone waiting for an operator.
type CallsConsole struct {
	Store        *store.Store
	Item         int64
	PatientPhone string
	// Operator is the account that calls; ItemTarget the item as the
	// audit log names it.
	Operator, ItemTarget string
	// Now is the console's clock.
	Now func() time.Time

	t     *testing.T
	b     *bundle
	tab   *tab
	shots string
}

// lateCalls lets the console be built before the calls, which need its
// store.
type lateCalls struct{ ConsoleCalls }

// NewCallsConsole seeds the console with calls made by calls(store) and
// signs the operator in, in Chromium.
func NewCallsConsole(t *testing.T, calls func(*store.Store) ConsoleCalls) *CallsConsole {
	t.Helper()
	br := startBrowser(t)
	late := &lateCalls{}
	b := setupWith(t, setupOpts{calls: late})
	late.ConsoleCalls = calls(b.st)
	item := seedRecallItem(t, b)
	tb := br.newTab(t)
	tb.signIn(b.srv.URL, roleUsers[RoleOperator])
	return &CallsConsole{Store: b.st, Item: item, PatientPhone: phoneDelivered, Operator: roleUsers[RoleOperator],
		ItemTarget: "recall " + itoa(item), Now: b.now, t: t, b: b, tab: tb, shots: shotsDir(t)}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TakeAndCall opens the item, takes it and clicks "Chiama".
func (c *CallsConsole) TakeAndCall() {
	c.t.Helper()
	c.tab.open(c.b.srv.URL + "/lavoro/" + itoa(c.Item))
	c.tab.click(`form[action$="/prendi"] button`)
	c.tab.click(`form[action$="/chiama"] button`)
}

// CallStates reads the item's page, which reloads itself while the call
// is under way, and returns each state it showed in turn, until one
// begins with last or within passes.
func (c *CallsConsole) CallStates(last string, within time.Duration) []string {
	c.t.Helper()
	var seen []string
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		var s string
		ctx, cancel := c.tab.timeout()
		// The page may be reloading: a failed read is tried again.
		err := chromedp.Do(ctx, evaluate(`(document.querySelector("#chiamata") || {}).textContent || ""`, &s))
		cancel()
		s = strings.TrimSpace(s)
		if err == nil && s != "" && (len(seen) == 0 || seen[len(seen)-1] != s) {
			seen = append(seen, s)
			if strings.HasPrefix(s, last) {
				return seen
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatalf("the call did not reach %q in %s; states %q", last, within, seen)
	return seen
}

// Text is the page as a person reads it.
func (c *CallsConsole) Text() string {
	c.t.Helper()
	return strings.Join(strings.Fields(c.tab.text()), " ")
}

// Screenshot saves the page as name (.png) in the screenshots' directory.
func (c *CallsConsole) Screenshot(name string) {
	c.t.Helper()
	c.tab.screenshot(filepath.Join(c.shots, name+".png"))
}

// CallLabel is how a call's outcome reads in the console.
func CallLabel(code string) string { return callLabel(code) }

// Audit lists the audit log's console calls, newest first.
func (c *CallsConsole) Audit() []store.AuditEntry {
	c.t.Helper()
	es, err := c.Store.AuditEntries(context.Background(), store.AuditFilter{Action: actionConsoleCall})
	if err != nil {
		c.t.Fatal(err)
	}
	return es
}
