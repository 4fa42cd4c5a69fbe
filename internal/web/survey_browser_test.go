package web

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestSurveyFiguresInChromium: an auditor opens the survey's page from the
// menu on the seeded month (November 2026, the console's current one),
// reads both operators' figures and narrows them to one; an operator sees
// only their own; an operator without a code is told why they see none.
func TestSurveyFiguresInChromium(t *testing.T) {
	t.Parallel()
	br := startBrowser(t)
	b := setup(t)
	seedSurvey(t, b)
	shots := *screenshotDir
	if shots == "" {
		shots = t.TempDir()
	}
	// rows reads the operators of the month's table and their cells.
	rows := func(tb *tab) map[string]string {
		var got map[string]string
		tb.must(`Object.fromEntries(Array.from(document.querySelectorAll("#mese-operatori tbody tr")).map(tr =>
			[tr.dataset.operatore, Array.from(tr.querySelectorAll("td")).map(td => td.textContent).join(" ")]))`, &got)
		return got
	}

	t.Run("auditor", func(t *testing.T) {
		tb := br.newTab(t)
		tb.signIn(b.srv.URL, roleUsers[RoleAuditor])
		tb.click("nav a[href='/questionario']")
		if h := tb.heading(); h != "Questionario di gradimento" || !strings.Contains(tb.text(), "Novembre 2026") {
			t.Fatalf("heading %q\n%s", h, tb.text())
		}
		got := rows(tb)
		// handled eligible sampled called completed partial refused
		// expired follow-ups opened and closed
		if got["042"] != "20 20 2 2 2 0 0 0 1 0" || got["117"] != "10 10 1 1 0 1 0 0 0 0" || got["*"] != "30 30 3 3 2 1 0 0 1 0" {
			t.Errorf("the month's rows: %q", got)
		}
		var competence string
		tb.must(`document.querySelector("table[data-domanda='competenza'] tr[data-operatore='042']").innerText`, &competence)
		if !strings.Contains(competence, "3,50") || !strings.Contains(competence, "0%") {
			t.Errorf("042's competence: %q", competence)
		}
		tb.screenshot(filepath.Join(shots, "questionario.png"))
		tb.must(`(document.querySelector("#operatore").value = "117", true)`, nil)
		tb.click("form[action='/questionario'] button[type=submit]")
		if got := rows(tb); len(got) != 1 || got["117"] == "" {
			t.Errorf("narrowed to 117: %q", got)
		}
	})

	t.Run("operator", func(t *testing.T) {
		tb := br.newTab(t)
		tb.signIn(b.srv.URL, roleUsers[RoleOperator])
		tb.click("nav a[href='/questionario']")
		text := tb.text()
		if got := rows(tb); len(got) != 1 || got["042"] != "20 20 2 2 2 0 0 0 1 0" {
			t.Errorf("the operator's rows: %q", got)
		}
		if !strings.Contains(text, "Le sue cifre come operatore 042") || strings.Contains(text, "117") || strings.Contains(text, "Tutti gli operatori") {
			t.Errorf("the operator's page:\n%s", text)
		}
	})

	t.Run("operator without a code", func(t *testing.T) {
		tb := br.newTab(t)
		tb.signIn(b.srv.URL, otherOperator)
		tb.click("nav a[href='/questionario']")
		if text := tb.text(); !strings.Contains(text, "Al suo utente non è associato un codice operatore") || len(rows(tb)) != 0 {
			t.Errorf("without a code:\n%s", text)
		}
	})
}
