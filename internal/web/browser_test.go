package web

import (
	"flag"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/richiamo/richiamo/internal/phone"
	"github.com/richiamo/richiamo/internal/store"
)

var screenshotDir = flag.String("screenshots", "", "save screenshots of the main pages in this directory (docs/screenshots)")

// signIn signs in through the form, as a person would.
func (tb *tab) signIn(base, name string) {
	tb.t.Helper()
	tb.open(base + "/accesso")
	tb.fill("#nome", name)
	tb.fill("#password", testPassword)
	tb.click("form.login button[type=submit]")
	if h := tb.heading(); h != "Panoramica" {
		tb.t.Fatalf("after signing in as %s: %q on %s\n%s", name, h, tb.url(), tb.text())
	}
}

// TestConsoleInChromium drives the console in headless Chromium: each role
// signs in, opens what it may and is refused the rest; an operator reads the
// rejected rows by reason, finds a booking by code, and claims and closes an
// inbox item. With -screenshots DIR it saves the main pages there.
func TestConsoleInChromium(t *testing.T) {
	t.Parallel()
	br := startBrowser(t)
	b := setup(t)
	shots := *screenshotDir
	if shots == "" {
		shots = t.TempDir()
	}
	run := fmt.Sprintf("/promemoria/importazioni/%d", b.importID)
	headings := map[string]string{
		"/panoramica":                  "Panoramica",
		"/promemoria":                  "Promemoria SMS",
		"/promemoria/mancate-consegne": "Mancate consegne",
		"/promemoria/cerca":            "Cerca una prenotazione",
		run:                            fmt.Sprintf("Importazione n. %d", b.importID),
		run + "/scarti":                fmt.Sprintf("Righe scartate dell'importazione n. %d", b.importID),
		"/posta":                       "Posta operatori",
		"/utenti":                      "Utenti",
		"/registro":                    "Registro attività",
		"/livelli":                     "Livelli di servizio",
	}
	desk := []string{"/panoramica", "/promemoria", "/promemoria/mancate-consegne", "/promemoria/cerca", run}
	for _, tc := range []struct {
		role    Role
		allowed []string
		refused []string
	}{
		{RoleOperator, append(desk, run+"/scarti", "/posta", "/livelli"), []string{"/utenti", "/registro"}},
		{RoleCUPManager, append(desk, run+"/scarti", "/posta"), []string{"/utenti", "/registro", "/livelli"}},
		{RoleAuditor, append(desk, run+"/scarti", "/posta", "/utenti", "/registro", "/livelli"), nil},
		{RoleAdmin, append(desk, run+"/scarti", "/posta", "/utenti", "/registro", "/livelli"), nil},
	} {
		t.Run(string(tc.role), func(t *testing.T) {
			tb := br.newTab(t)
			if tc.role == RoleOperator {
				tb.open(b.srv.URL + "/accesso")
				tb.screenshot(filepath.Join(shots, "accesso.png"))
			}
			tb.signIn(b.srv.URL, roleUsers[tc.role])
			for _, p := range tc.allowed {
				tb.open(b.srv.URL + p)
				if h := tb.heading(); h != headings[p] {
					t.Errorf("%s: heading %q, want %q\n%s", p, h, headings[p], tb.text())
				}
			}
			for _, p := range tc.refused {
				tb.open(b.srv.URL + p)
				if h := tb.heading(); h != "Accesso negato" {
					t.Errorf("%s should be refused to %s, shows %q", p, tc.role, h)
				}
			}
			// The navigation offers only what the role may open.
			var links []string
			tb.must(`Array.from(document.querySelectorAll("nav a")).map(a => a.getAttribute("href"))`, &links)
			for _, l := range links {
				for _, r := range tc.refused {
					if l == r {
						t.Errorf("the menu of %s links to %s", tc.role, l)
					}
				}
			}
			switch tc.role {
			case RoleOperator:
				operatorWork(t, tb, b, shots)
			case RoleAuditor:
				auditorCannotAct(t, tb, b)
				levelsInChromium(t, tb, b, shots)
				tb.open(b.srv.URL + "/registro")
				tb.screenshot(filepath.Join(shots, "registro.png"))
			case RoleAdmin:
				tb.open(b.srv.URL + "/utenti")
				tb.screenshot(filepath.Join(shots, "utenti.png"))
			}
			tb.click("header form[action='/esci'] button")
			if h := tb.heading(); h != "Accesso" {
				t.Errorf("after signing out: %q", h)
			}
		})
	}
}

// operatorWork is an operator's morning: the overview, the run with bad
// rows and its data-quality view, a booking found by its code, and an inbox
// item claimed and closed.
func operatorWork(t *testing.T, tb *tab, b *bundle, shots string) {
	base := b.srv.URL
	tb.open(base + "/panoramica")
	tb.screenshot(filepath.Join(shots, "panoramica.png"))

	tb.open(base + "/promemoria")
	tb.screenshot(filepath.Join(shots, "promemoria.png"))
	tb.click(fmt.Sprintf("a[href='/promemoria/importazioni/%d']", b.importID))
	tb.screenshot(filepath.Join(shots, "importazione.png"))
	tb.click(fmt.Sprintf("a[href='/promemoria/importazioni/%d/scarti']", b.importID))
	text := tb.text()
	for _, r := range allReasons {
		if !strings.Contains(text, reasonLabel(string(r))) || !strings.Contains(text, reasonFix(string(r))) {
			t.Errorf("the data-quality view lacks %s (%q)", r, reasonLabel(string(r)))
		}
	}
	if !strings.Contains(text, "estratto-2026-11-30.csv") {
		t.Errorf("the data-quality view does not name the file")
	}
	var sections int
	tb.must(`document.querySelectorAll("section.reason").length`, &sections)
	if sections != len(allReasons) {
		t.Errorf("%d reason sections, want %d", sections, len(allReasons))
	}
	tb.screenshot(filepath.Join(shots, "scarti.png"))

	tb.open(base + "/promemoria/mancate-consegne")
	tb.screenshot(filepath.Join(shots, "mancate.png"))

	tb.open(base + "/promemoria/cerca")
	tb.fill("#codice", codeDelivered)
	tb.click("form.inline button[type=submit]")
	text = tb.text()
	for _, want := range []string{"Prenotazione " + codeDelivered, phone.Mask(phoneDelivered), "consegnato", "Rossi Mario"} {
		if !strings.Contains(text, want) {
			t.Errorf("search result lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, phoneDelivered) {
		t.Errorf("search result shows the whole number")
	}
	tb.screenshot(filepath.Join(shots, "cerca.png"))

	items := b.openItems(t)
	var it store.WorkItem
	for _, x := range items {
		if x.Kind == store.InboxReply && x.Phone == phoneStranger {
			it = x
		}
	}
	row := fmt.Sprintf("tr#%s-%d", it.Kind, it.ID)
	tb.open(base + "/posta")
	tb.screenshot(filepath.Join(shots, "posta.png"))
	tb.click(row + " form[action$='/prendi'] button")
	if text := tb.text(); !strings.Contains(text, "Elemento preso in carico.") {
		t.Fatalf("claim: %s", text)
	}
	var holder string
	tb.must(fmt.Sprintf(`document.querySelector(%s).innerText`, jsString(row)), &holder)
	if !strings.Contains(holder, roleUsers[RoleOperator]) || !strings.Contains(holder, "Segna come gestita") {
		t.Fatalf("claimed row: %q", holder)
	}
	tb.click(row + " form[action$='/chiudi'] button")
	if text := tb.text(); !strings.Contains(text, "Elemento chiuso") {
		t.Fatalf("close: %s", text)
	}
	var still int
	tb.must(fmt.Sprintf(`document.querySelectorAll(%s).length`, jsString(row)), &still)
	if still != 0 {
		t.Fatal("the closed item is still among those to handle")
	}
	got, err := b.st.WorkItemByID(t.Context(), it.ID)
	if err != nil || got.Open() || got.ClosedBy != roleUsers[RoleOperator] || got.ClosedAt == 0 || got.Outcome != store.ClosureDone {
		t.Fatalf("closed item in the store: %+v %v", got, err)
	}
}

// auditorCannotAct checks that an auditor's inbox offers no action and that
// a form posted anyway, token and all, is refused.
func auditorCannotAct(t *testing.T, tb *tab, b *bundle) {
	tb.open(b.srv.URL + "/posta")
	var buttons int
	tb.must(`document.querySelectorAll("main form").length`, &buttons)
	if buttons != 0 {
		t.Errorf("the auditor's inbox offers %d forms", buttons)
	}
	items := b.openItems(t)
	if len(items) == 0 {
		t.Fatalf("inbox: %v", items)
	}
	var status int
	tb.must(fmt.Sprintf(`fetch(%s, {method: "POST", body: new URLSearchParams({csrf: document.querySelector("input[name=csrf]").value})}).then(r => r.status)`,
		jsString(fmt.Sprintf("/posta/%s/%d/prendi", kindPath(items[0].Kind), items[0].ID))), &status)
	if status != http.StatusForbidden {
		t.Errorf("an auditor's claim answered %d, want 403", status)
	}
	for _, ph := range seededPhones {
		if strings.Contains(tb.html(), ph) {
			t.Errorf("the auditor's inbox shows %s", ph)
		}
	}
}
