package web

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// attach puts a file with content into the file input the selector finds,
// as choosing it in the browser's dialog does.
func (tb *tab) attach(selector, name, content string) {
	tb.t.Helper()
	var ok bool
	tb.must(fmt.Sprintf(`(() => { const e = document.querySelector(%s); if (!e) return false;
		const dt = new DataTransfer(); dt.items.add(new File([%s], %s, {type: "text/csv"})); e.files = dt.files; return e.files.length === 1 })()`,
		jsString(selector), jsString(content), jsString(name)), &ok)
	if !ok {
		tb.t.Fatalf("no file input %s on %s", selector, tb.url())
	}
}

// A team leader in headless Chromium uploads a club's list and the agreed
// slots, sees the plan, confirms it and downloads both lists.
func TestAClubsPlanInChromium(t *testing.T) {
	t.Parallel()
	br := startBrowser(t)
	b := setup(t)
	shots := shotsDir(t)
	tl := br.newTab(t)
	tl.signIn(b.srv.URL, roleUsers[RoleTeamLeader])
	tl.open(b.srv.URL + "/panoramica")
	tl.click(`nav a[href="/gruppi"]`)
	if h := tl.heading(); h != "Medicina dello sport" {
		t.Fatalf("the navigation leads to %q", h)
	}
	// Without the slots, the browser itself asks for them; past that,
	// the server does, in Italian.
	tl.attach("#atleti", "virtus.csv", clubList())
	tl.must(`document.querySelector("#orari").removeAttribute("required")`, nil)
	tl.click("#pianifica")
	if text := tl.text(); !strings.Contains(text, "Scelga il file degli atleti e quello degli orari concordati") {
		t.Fatalf("without slots:\n%s", text)
	}
	tl.attach("#atleti", "virtus.csv", clubList())
	tl.attach("#orari", "orari.csv", groupSlots)
	tl.must(`document.querySelector("#nodo").value = "ASL1"`, nil)
	tl.fill("#agenda", "MEDSPORT")
	tl.click("#pianifica")
	if h := tl.heading(); !strings.HasPrefix(h, "Piano di gruppo n. ") {
		t.Fatalf("after the upload: %q\n%s", h, tl.text())
	}
	text := tl.text()
	for _, want := range []string{"Piano pronto", "bozza da confermare", "5 nell'elenco, 5 assegnati in 2 giorni", "codice fiscale non valido",
		"il cellulare è un numero fisso", "lun 14/12/2026: 2 atleti", "mar 15/12/2026: 3 atleti"} {
		if !strings.Contains(text, want) {
			t.Errorf("the draft lacks %q:\n%s", want, text)
		}
	}
	tl.screenshot(filepath.Join(shots, "gruppo.png"))
	tl.click("#conferma")
	if text := tl.text(); !strings.Contains(text, "Piano confermato") || !strings.Contains(text, "Prenotazioni fatte nel CUP") {
		t.Fatalf("after confirming:\n%s", text)
	}
	var cupList, club string
	tl.must(`fetch(document.querySelector("#scarica-cup").getAttribute("href")).then(r => r.text())`, &cupList)
	tl.must(`fetch(document.querySelector("#scarica-societa").getAttribute("href")).then(r => r.text())`, &club)
	if !strings.Contains(cupList, "cognome;nome;data_nascita;codice_fiscale;cellulare;tipo_visita;societa;data;ora;struttura") ||
		!strings.Contains(cupList, "Russo;Anna;04/05/2009;"+groupCF(4)+";+393335550004;non agonistica;Polisportiva Aurora;14/12/2026;11:00;") {
		t.Fatalf("the CUP list:\n%s", cupList)
	}
	if !strings.Contains(club, "ASD Virtus;Rossi;Marco;"+groupCF(1)+";agonistica;assegnato;15/12/2026;09:00;") {
		t.Fatalf("the club's list:\n%s", club)
	}
	tl.click("#prenota")
	if text := tl.text(); !strings.Contains(text, "Prenotazioni registrate") || !strings.Contains(text, "0 da prenotare nel CUP") {
		t.Fatalf("after booking:\n%s", text)
	}
	tl.open(b.srv.URL + "/gruppi")
	if text := tl.text(); !strings.Contains(text, "ASD Virtus, Polisportiva Aurora") || !strings.Contains(text, "confermato") {
		t.Fatalf("the plans:\n%s", text)
	}
	tl.screenshot(filepath.Join(shots, "gruppi.png"))
}
