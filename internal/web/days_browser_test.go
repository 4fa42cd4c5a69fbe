package web

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/store"
)

// The days of the people the call work is for, in headless Chromium: an
// operator's recall item, a CUP manager's clean-up request with the team
// leader who accepts it, and the auditor watching the live view. With
// -screenshots DIR each page is saved there.

func shotsDir(t *testing.T) string {
	if *screenshotDir != "" {
		return *screenshotDir
	}
	return t.TempDir()
}

func TestAnOperatorsDayInChromium(t *testing.T) {
	t.Parallel()
	br := startBrowser(t)
	b := setup(t)
	shots := shotsDir(t)
	item := seedRecallItem(t, b)
	tb := br.newTab(t)
	tb.signIn(b.srv.URL, roleUsers[RoleOperator])
	tb.open(b.srv.URL + "/lavoro")
	if h := tb.heading(); h != "Lavoro" {
		t.Fatalf("/lavoro heading %q", h)
	}
	tb.screenshot(filepath.Join(shots, "lavoro.png"))
	tb.click("#prossimo")
	if h, want := tb.heading(), fmt.Sprintf("Richiamo da completare n. %d", item); h != want {
		t.Fatalf("the next item is %q, want %q", h, want)
	}
	text := tb.text()
	for _, want := range []string{"Centro Unico di Prenotazione", "Visita cardiologica", "nessuna risposta", "Registra l'esito"} {
		if !strings.Contains(text, want) {
			t.Errorf("the item's page lacks %q", want)
		}
	}
	tb.screenshot(filepath.Join(shots, "lavoro-elemento.png"))
	// Not reached: call back tomorrow at 10:00.
	tb.fill("#motivo", "non-raggiunto")
	tb.fill("#giorno", "2026-12-01")
	tb.fill("#ora", "10:00")
	tb.click("#rimanda")
	text = tb.text()
	if !strings.Contains(text, "tornerà nella lista all'ora scelta") || !strings.Contains(text, "mar 01/12/2026 10:00") {
		t.Fatalf("after the call back:\n%s", text)
	}
	var due int
	tb.must(fmt.Sprintf(`document.querySelectorAll("#elemento-%d").length`, item), &due)
	if due != 0 {
		t.Fatal("the item asked back is still due")
	}
	// The next morning at 10:00 it comes back first.
	b.advance(time.Date(2026, 12, 1, 10, 0, 0, 0, cup.Rome).Sub(b.now()) + time.Second)
	next := br.newTab(t)
	next.signIn(b.srv.URL, roleUsers[RoleOperator])
	next.open(b.srv.URL + "/lavoro")
	next.click("#prossimo")
	if h, want := next.heading(), fmt.Sprintf("Richiamo da completare n. %d", item); h != want {
		t.Fatalf("at 10:00 the next item is %q, want %q", h, want)
	}
	if !strings.Contains(next.text(), "Non raggiunto") {
		t.Error("the item came back without the note of the call back")
	}
}

func TestACleanUpDayInChromium(t *testing.T) {
	t.Parallel()
	br := startBrowser(t)
	b := setup(t)
	shots := shotsDir(t)
	ctx := context.Background()
	mgr := br.newTab(t)
	mgr.signIn(b.srv.URL, roleUsers[RoleCUPManager])
	mgr.open(b.srv.URL + "/pulizie")
	mgr.fill("#agenda", "ORTOPEDIA")
	mgr.fill("#dal", "2026-12-01")
	mgr.fill("#al", "2026-12-01")
	mgr.fill("#motivo", "Il medico è assente: verificare chi conferma")
	mgr.click("#invia")
	if h := mgr.heading(); !strings.HasPrefix(h, "Richiesta di pulitura n. ") {
		t.Fatalf("after filing: %q\n%s", h, mgr.text())
	}
	path := mgr.url()
	path = path[:strings.IndexByte(path+"?", '?')]
	mgr.open(b.srv.URL + "/pulizie")
	mgr.screenshot(filepath.Join(shots, "pulizie.png"))

	tl := br.newTab(t)
	tl.signIn(b.srv.URL, roleUsers[RoleTeamLeader])
	tl.open(b.srv.URL + path)
	tl.fill("input[name=nota]", "Accettata: si chiama da domani")
	tl.click("#accetta")
	if text := tl.text(); !strings.Contains(text, "Richiesta accettata") {
		t.Fatalf("accept: %s", text)
	}
	var req store.CleanUpRequest
	rs, err := b.st.CleanUpRequests(ctx, "ASL2", 10)
	if err != nil || len(rs) != 1 || rs[0].CampaignID == 0 {
		t.Fatalf("requests %+v %v", rs, err)
	}
	req = rs[0]
	tl.open(b.srv.URL + "/campagne")
	tl.click(fmt.Sprintf("#campagna-%d form[action$='/avvia'] button", req.CampaignID))
	if text := tl.text(); !strings.Contains(text, "Campagna avviata") {
		t.Fatalf("start: %s", text)
	}
	tl.screenshot(filepath.Join(shots, "campagne.png"))
	tl.open(fmt.Sprintf("%s/campagne/%d", b.srv.URL, req.CampaignID))
	tl.screenshot(filepath.Join(shots, "campagna.png"))

	// The call of the agenda's booking: the patient cancels.
	cs, err := b.st.ClaimContacts(ctx, "dialer", req.CampaignID, b.now(), b.now().Add(time.Hour), 10)
	if err != nil || len(cs) != 1 {
		t.Fatalf("claim %+v %v", cs, err)
	}
	now := b.now()
	if err := b.st.RecordAttempt(ctx, store.AttemptRecord{ContactID: cs[0].ID, Owner: "dialer", Counted: true, StartedAt: now, AnsweredAt: now,
		EndedAt: now.Add(40 * time.Second), SIPCode: 200, Outcome: "answered", Result: "cancelled", Final: true, Positive: true}); err != nil {
		t.Fatal(err)
	}
	mgr.open(b.srv.URL + path)
	text := mgr.text()
	if !strings.Contains(text, "1 prenotazione da disdire nel CUP") || !strings.Contains(text, codeCancelled) {
		t.Fatalf("the manager's request page:\n%s", text)
	}
	mgr.screenshot(filepath.Join(shots, "pulizia.png"))
	var csv string
	mgr.must(`fetch(document.querySelector("#scarica").getAttribute("href")).then(r => r.text())`, &csv)
	if !strings.Contains(csv, "ASL2;ORTOPEDIA;"+codeCancelled+";01/12/2026 15:00;chiuso;disdetto;1;") || !strings.Contains(csv, ";sì") {
		t.Fatalf("the downloaded results:\n%s", csv)
	}
}

func TestAnAuditorWatchesTheLiveViewInChromium(t *testing.T) {
	t.Parallel()
	br := startBrowser(t)
	b := setup(t)
	shots := shotsDir(t)
	ctx := context.Background()
	id := seedWaitingCampaign(t, b)
	tb := br.newTab(t)
	tb.signIn(b.srv.URL, roleUsers[RoleAuditor])
	tb.open(b.srv.URL + "/tempo-reale")
	var before string
	tb.must(`document.querySelector("#in-corso").innerText`, &before)
	if before != "0 di 60 canali" || !strings.Contains(tb.text(), "Il dialer è fermo") {
		t.Fatalf("before dialling: %q\n%s", before, tb.text())
	}
	cs, err := b.st.ClaimContacts(ctx, "dialer", id, b.now(), b.now().Add(time.Hour), 2)
	if err != nil || len(cs) != 2 {
		t.Fatalf("claim %+v %v", cs, err)
	}
	tb.open(b.srv.URL + "/tempo-reale")
	var during string
	tb.must(`document.querySelector("#in-corso").innerText`, &during)
	if during != "2 di 60 canali" || strings.Contains(tb.text(), "Il dialer è fermo") {
		t.Fatalf("while dialling: %q\n%s", during, tb.text())
	}
	var bars int
	tb.must(`document.querySelectorAll("#grafico-ore rect").length`, &bars)
	if bars != 48 {
		t.Errorf("the hourly chart has %d bars, want two for each of 24 hours", bars)
	}
	tb.screenshot(filepath.Join(shots, "tempo-reale.png"))
}
