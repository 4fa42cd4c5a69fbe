package web

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/calendar"
	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/sla"
	"github.com/richiamo/richiamo/internal/slareport"
	"github.com/richiamo/richiamo/internal/store"
)

// levelSources are the service-level sources of the test console.
func levelSources(t *testing.T, st *store.Store) *slareport.Sources {
	t.Helper()
	working, err := calendar.New(calendar.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return &slareport.Sources{Store: st, Profile: sla.Profiles["piano-2021"], Working: working, ReplyClock: working, Location: cup.Rome}
}

// seedCalls records a recall campaign of 12 contacts called on Friday 27
// and Monday 30 November 2026: 8 answered and confirmed, 4 busy on the
// Friday and answered on the Monday, one of them refusing.
func seedCalls(t *testing.T, st *store.Store) {
	t.Helper()
	ctx := context.Background()
	at := func(d, hh, mm int) time.Time { return time.Date(2026, 11, d, hh, mm, 0, 0, cup.Rome) }
	id, err := st.AddCampaign(ctx, "recall-cardiologia", "recall", at(27, 8, 0))
	if err != nil {
		t.Fatal(err)
	}
	cs := make([]store.NewContact, 12)
	for i := range cs {
		cs[i] = store.NewContact{Phone: fmt.Sprintf("+3933310000%02d", i)}
	}
	if err := st.LoadContacts(ctx, id, cs, at(27, 8, 0)); err != nil {
		t.Fatal(err)
	}
	got, err := st.ClaimContacts(ctx, "test", id, at(27, 9, 0), at(27, 10, 0), 20)
	if err != nil || len(got) != 12 {
		t.Fatalf("claimed %d, %v", len(got), err)
	}
	for i, c := range got {
		start := at(27, 9, i)
		rec := store.AttemptRecord{ContactID: c.ID, Owner: "test", Counted: true, StartedAt: start, EndedAt: start.Add(40 * time.Second),
			Outcome: "answered", SIPCode: 200, Result: "confermato", Final: true, Positive: true}
		if i >= 8 {
			rec = store.AttemptRecord{ContactID: c.ID, Owner: "test", Counted: true, StartedAt: start, EndedAt: start.Add(2 * time.Second),
				Outcome: "busy", SIPCode: 486, NextAttemptAt: at(30, 8, 0)}
		}
		if err := st.RecordAttempt(ctx, rec); err != nil {
			t.Fatal(err)
		}
	}
	got, err = st.ClaimContacts(ctx, "test", id, at(30, 8, 0), at(30, 9, 0), 20)
	if err != nil || len(got) != 4 {
		t.Fatalf("claimed %d on Monday, %v", len(got), err)
	}
	for i, c := range got {
		start := at(30, 8, i)
		rec := store.AttemptRecord{ContactID: c.ID, Owner: "test", Counted: true, StartedAt: start, EndedAt: start.Add(50 * time.Second),
			Outcome: "answered", SIPCode: 200, Result: "confermato", Final: true, Positive: i != 0}
		if i == 0 {
			rec.Result = "disdetto"
		}
		if err := st.RecordAttempt(ctx, rec); err != nil {
			t.Fatal(err)
		}
	}
}

func TestServiceLevelPages(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.signedIn(t, roleUsers[RoleAuditor])
	p := c.get("/livelli")
	if p.status != http.StatusOK || !strings.Contains(p.body, "Mese in corso") {
		t.Fatalf("/livelli: %d %s", p.status, p.body)
	}
	month := "/livelli/periodo?al=2026-12-01&dal=2026-11-01&tipo=monthly"
	if !strings.Contains(p.body, month) {
		t.Fatalf("/livelli does not link the month in course (%s)", month)
	}
	p = c.get(month)
	// 16 calls, 12 contacts, 11 positive: 68,75% per call.
	for _, want := range []string{"Livelli di servizio outbound – Novembre 2026", "68,75%", "91,67%", "recall-cardiologia", "<svg"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the month's page lacks %q", want)
		}
	}
	// The figures link to the contacts behind them.
	link := "/livelli/contatti?al=2026-12-01&dal=2026-11-01&figura=positivi"
	if !strings.Contains(p.body, link) {
		t.Fatalf("no link %s in the page", link)
	}
	p = c.get(link)
	if p.status != http.StatusOK || !strings.Contains(p.body, "11 righe") || strings.Contains(p.body, "disdetto") {
		t.Errorf("positive contacts: %d\n%s", p.status, p.body)
	}
	// An auditor sees numbers masked.
	if strings.Contains(p.body, "+39333100001") {
		t.Error("an auditor sees a whole phone number")
	}
	p = c.get("/livelli/contatti?dal=2026-11-01&al=2026-12-01&figura=pacchetto&campagna=recall-cardiologia&n=1")
	if !strings.Contains(p.body, "12 righe") || !strings.Contains(p.body, "disdetto") {
		t.Errorf("the package's contacts: %s", p.body)
	}
	p = c.get("/livelli/contatti?dal=2026-11-01&al=2026-12-01&figura=ora&h=9")
	if !strings.Contains(p.body, "12 righe") {
		t.Errorf("the calls of 09:00: %s", p.body)
	}
	p = c.get(month + "&formato=pdf")
	if p.status != http.StatusOK || !strings.HasPrefix(p.body, "%PDF-") {
		t.Errorf("PDF: %d %.40q", p.status, p.body)
	}
	p = c.get(month + "&formato=csv")
	if !strings.Contains(p.body, "acquisition,,calls,16\n") {
		t.Errorf("CSV: %s", p.body)
	}
	if p := c.get("/livelli/contatti?dal=2026-11-01&al=2026-12-01&figura=nulla"); p.status != http.StatusBadRequest {
		t.Errorf("an unknown figure: %d", p.status)
	}

	// Opening a list of patients and downloading a report are audited.
	// (The entries' targets: the action names are in the filter's menu
	// anyway.)
	audit := c.get("/registro")
	for _, want := range []string{"livelli di servizio: Novembre 2026", "Contatti chiusi con esito positivo, dal 01/11/2026", "righe: 11"} {
		if !strings.Contains(audit.body, want) {
			t.Errorf("the audit log lacks %q", want)
		}
	}

	// The overview counts the calls: this month 16 made, 12 answered;
	// today (Monday 30, 09:30) the 4 retries, all answered. No probe yet.
	over := c.get("/panoramica")
	for _, want := range []string{
		`<th scope="row">Questo mese</th><td class="n">16</td><td class="n ok">12</td><td class="n">75,0%</td>`,
		`<th scope="row">Oggi</th><td class="n">4</td><td class="n ok">4</td><td class="n">100,0%</td>`,
		"Nessun controllo registrato"} {
		if !strings.Contains(over.body, want) {
			t.Errorf("the overview lacks %s", want)
		}
	}
	now := b.now()
	for _, p := range []store.Probe{{At: now.Add(-time.Minute), Target: store.ProbeUA, Up: true, SIPCode: 200, RTT: 3 * time.Millisecond},
		{At: now.Add(-2 * time.Minute), Target: store.ProbeTrunk, Up: true, SIPCode: 200},
		{At: now.Add(-time.Minute), Target: store.ProbeTrunk, Up: false, Detail: "nessuna risposta"}} {
		if err := b.st.RecordProbe(context.Background(), p); err != nil {
			t.Fatal(err)
		}
	}
	over = c.get("/panoramica")
	for _, want := range []string{"<strong>User agent del motore</strong> · risponde (3 ms)", "<strong>Trunk SIP</strong> · non risponde (nessuna risposta)"} {
		if !strings.Contains(over.body, want) {
			t.Errorf("the overview lacks %s", want)
		}
	}

	// A CUP manager is not shown the service levels.
	m := b.signedIn(t, roleUsers[RoleCUPManager])
	if p := m.get("/livelli"); p.status != http.StatusForbidden {
		t.Errorf("a CUP manager opens /livelli: %d", p.status)
	}
	if p := m.get("/panoramica"); strings.Contains(p.body, "Servizio voce") {
		t.Error("a CUP manager's overview shows the outbound service")
	}
}

// levelsInChromium: the auditor opens the month's report, its chart, and
// follows a figure to its contacts, in a real browser.
func levelsInChromium(t *testing.T, tb *tab, b *bundle, shots string) {
	tb.open(b.srv.URL + "/livelli")
	if h := tb.heading(); h != "Livelli di servizio" {
		t.Fatalf("heading %q", h)
	}
	tb.click("a[href^='/livelli/periodo?'][href*='tipo=monthly']")
	if h := tb.heading(); h != "Livelli di servizio · Novembre 2026" {
		t.Fatalf("the month's report: heading %q\n%s", h, tb.text())
	}
	var bars int
	tb.must(`document.querySelectorAll("svg.chart rect").length`, &bars)
	var styled bool
	tb.must(`getComputedStyle(document.querySelector(".sla-report h2")).borderBottomStyle === "solid"`, &styled)
	if bars == 0 || !styled {
		t.Errorf("the charts have %d bars; the report's style sheet applied: %v", bars, styled)
	}
	tb.screenshot(filepath.Join(shots, "livelli.png"))
	tb.click("a[href*='figura=positivi']")
	if h := tb.heading(); h != "Contatti dietro la cifra" || !strings.Contains(tb.text(), "11 righe") {
		t.Errorf("the positive contacts: %q\n%s", h, tb.text())
	}
}
