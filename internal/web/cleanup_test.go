package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/store"
)

var requestLink = regexp.MustCompile(`^/pulizie/(\d+)\?esito=pulitura-inviata$`)

func TestACleanUpRequestFromFilingToTheResults(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	mgr := b.signedIn(t, roleUsers[RoleCUPManager]) // ASL2
	form := mgr.get("/pulizie")
	if form.status != http.StatusOK || !strings.Contains(form.body, "Nuova richiesta") {
		t.Fatalf("/pulizie for a CUP manager: %d\n%s", form.status, form.body)
	}
	bad := mgr.post("/pulizie", url.Values{"csrf": {mgr.csrf(form)}, "agenda": {"ORTOPEDIA"}, "dal": {"2026-12-02"}, "al": {"2026-12-01"}, "motivo": {"x"}})
	if bad.status != http.StatusBadRequest || !strings.Contains(bad.body, "viene prima del primo") {
		t.Fatalf("a range backwards: %d", bad.status)
	}
	filed := mgr.post("/pulizie", url.Values{"csrf": {mgr.csrf(form)}, "agenda": {"ORTOPEDIA"}, "dal": {"2026-12-01"}, "al": {"2026-12-01"},
		"motivo": {"Il medico è assente: verificare chi può spostare la visita"}})
	m := requestLink.FindStringSubmatch(filed.header.Get("Location"))
	if filed.status != http.StatusSeeOther || m == nil {
		t.Fatalf("file: %d %q\n%s", filed.status, filed.header.Get("Location"), filed.body)
	}
	path := "/pulizie/" + m[1]
	// Another node's manager does not see it; an operator cannot decide it.
	addUser(t, b.st, "referente.ao", RoleCUPManager, "AO", b.now())
	if p := b.signedIn(t, "referente.ao").get(path); p.status != http.StatusNotFound {
		t.Fatalf("AO's manager opens ASL2's request: %d", p.status)
	}
	op := b.signedIn(t, roleUsers[RoleOperator])
	if p := op.post(path+"/accetta", url.Values{"csrf": {op.csrf(op.get("/lavoro"))}}); p.status != http.StatusForbidden {
		t.Fatalf("an operator accepted a request: %d", p.status)
	}
	tl := b.signedIn(t, roleUsers[RoleTeamLeader])
	page := tl.get(path)
	if p := tl.post(path+"/rifiuta", url.Values{"csrf": {tl.csrf(page)}}); p.status != http.StatusBadRequest {
		t.Fatalf("a refusal without a note: %d", p.status)
	}
	if p := tl.post(path+"/accetta", url.Values{"csrf": {tl.csrf(page)}, "nota": {"ok, entro venerdì"}}); p.status != http.StatusSeeOther {
		t.Fatalf("accept: %d\n%s", p.status, p.body)
	}
	if p := tl.post(path+"/accetta", url.Values{"csrf": {tl.csrf(page)}}); p.status != http.StatusConflict {
		t.Fatalf("accepted twice: %d", p.status)
	}
	id := int64(0)
	fmt.Sscan(m[1], &id)
	req, err := b.st.CleanUpRequestByID(ctx, id)
	if err != nil || req.Status != store.CleanUpAccepted || req.CampaignID == 0 {
		t.Fatalf("request %+v %v", req, err)
	}
	camp, err := b.st.CampaignByID(ctx, req.CampaignID)
	if err != nil || camp.Kind != "clean_up" {
		t.Fatalf("campaign %+v %v", camp, err)
	}
	// The one valid ASL2 booking of the agenda that day is called; the
	// patient cancels.
	cs, err := b.st.ClaimContacts(ctx, "test", camp.ID, b.now(), b.now().Add(time.Hour), 10)
	if err != nil || len(cs) != 1 || cs[0].Phone != phoneCancels {
		t.Fatalf("clean-up contacts %+v %v", cs, err)
	}
	at := time.Date(2026, 11, 30, 10, 0, 0, 0, cup.Rome)
	if err := b.st.RecordAttempt(ctx, store.AttemptRecord{ContactID: cs[0].ID, Owner: "test", Counted: true, StartedAt: at, AnsweredAt: at,
		EndedAt: at.Add(40 * time.Second), SIPCode: 200, Outcome: "answered", Result: "cancelled", Final: true, Positive: true}); err != nil {
		t.Fatal(err)
	}
	text := strings.Join(strings.Fields(visibleText(mgr.get(path).body)), " ")
	for _, want := range []string{"accettata, da " + roleUsers[RoleTeamLeader], "ok, entro venerdì", "1 prenotazione da disdire nel CUP",
		codeCancelled + " mar 01/12/2026 15:00 chiuso disdetto 1 sì"} {
		if !strings.Contains(text, want) {
			t.Errorf("the manager's page lacks %q:\n%s", want, text)
		}
	}
	csv := mgr.get(path + "/esiti.csv")
	lines := strings.Split(strings.TrimRight(csv.body, "\r\n"), "\r\n")
	if csv.status != http.StatusOK || !strings.HasPrefix(csv.body, "\ufeffnodo;agenda;codice_prenotazione;") || len(lines) != 2 ||
		lines[1] != "ASL2;ORTOPEDIA;"+codeCancelled+";01/12/2026 15:00;chiuso;disdetto;1;30/11/2026 10:00;sì" {
		t.Fatalf("results CSV: %d\n%q", csv.status, csv.body)
	}
}
