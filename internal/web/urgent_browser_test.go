package web

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/phone"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/urgent"
)

// A CUP manager's urgent move in headless Chromium: the form, the page
// that follows it as the patient is reached, and the result file.
func TestAnUrgentMoveInChromium(t *testing.T) {
	t.Parallel()
	br := startBrowser(t)
	b := setup(t)
	shots := shotsDir(t)
	ctx := context.Background()
	mgr := br.newTab(t)
	mgr.signIn(b.srv.URL, roleUsers[RoleCUPManager])
	mgr.open(b.srv.URL + "/urgenti")
	mgr.screenshot(filepath.Join(shots, "urgenti.png"))
	// Filed without a deadline, it comes back with the error and the
	// values typed.
	mgr.fill("#agenda", "ORTOPEDIA")
	mgr.fill("#dal", "2026-12-01")
	mgr.fill("#al", "2026-12-01")
	mgr.fill("#nuova_data", "2026-12-03T10:00")
	mgr.must(`document.querySelector("#entro").removeAttribute("required")`, nil)
	mgr.click("#invia")
	if text := mgr.text(); !strings.Contains(text, "Indichi entro quando i pazienti devono essere avvisati") {
		t.Fatalf("without a deadline:\n%s", text)
	}
	var agenda string
	mgr.must(`document.querySelector("#agenda").value`, &agenda)
	if agenda != "ORTOPEDIA" {
		t.Fatalf("the agenda typed is lost: %q", agenda)
	}
	mgr.fill("#entro", "2026-11-30T18:00")
	mgr.fill("#motivo", "Il medico è assente")
	mgr.click("#invia")
	if h := mgr.heading(); !strings.HasPrefix(h, "Spostamento urgente n. ") {
		t.Fatalf("after filing: %q\n%s", h, mgr.text())
	}
	if text := mgr.text(); !strings.Contains(text, "Spostamento urgente avviato") || !strings.Contains(text, "0 raggiunti, 1 in corso") {
		t.Fatalf("the move's page:\n%s", text)
	}
	path := mgr.url()
	path = path[:strings.IndexByte(path+"?", '?')]

	// The patient answers and accepts the new date.
	moves, err := b.st.UrgentMoves(ctx, "ASL2", 10)
	if err != nil || len(moves) != 1 {
		t.Fatalf("moves %+v %v", moves, err)
	}
	cs, err := b.st.ClaimContacts(ctx, "dialer", moves[0].CampaignID, b.now(), b.now().Add(time.Hour), 10)
	if err != nil || len(cs) != 1 {
		t.Fatalf("claim %+v %v", cs, err)
	}
	now := b.now()
	if err := b.st.RecordAttempt(ctx, store.AttemptRecord{ContactID: cs[0].ID, Owner: "dialer", Counted: true, StartedAt: now, AnsweredAt: now,
		EndedAt: now.Add(40 * time.Second), SIPCode: 200, Outcome: "answered", Result: urgent.ChoiceAccepted, Final: true, Positive: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := (urgent.Settler{Store: b.st, Now: b.now}).Step(ctx); err != nil {
		t.Fatal(err)
	}
	mgr.open(b.srv.URL + path)
	text := mgr.text()
	if !strings.Contains(text, "1 raggiunti") || !strings.Contains(text, phone.Mask(phoneCancels)) || !strings.Contains(text, "accetta la nuova data") {
		t.Fatalf("the move's page once reached:\n%s", text)
	}
	mgr.screenshot(filepath.Join(shots, "urgente.png"))
	var csv string
	mgr.must(`fetch(document.querySelector("#scarica").getAttribute("href")).then(r => r.text())`, &csv)
	if !strings.Contains(csv, "ASL2;"+codeCancelled+";01/12/2026 15:00;raggiunto;"+phone.Mask(phoneCancels)+";1 di 1;accetta la nuova data;spostare nel CUP al 03/12/2026 10:00;") {
		t.Fatalf("the downloaded results:\n%s", csv)
	}
}
