package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/phone"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/urgent"
)

var urgentLink = regexp.MustCompile(`^/urgenti/(\d+)\?esito=urgente-inviato$`)

// validUrgentForm is a valid request for ASL2's ORTOPEDIA agenda on the seeded
// day, the clock being Monday 30 November 2026 morning.
func validUrgentForm(csrf string) url.Values {
	return url.Values{"csrf": {csrf}, "modo": {"agenda"}, "agenda": {"ORTOPEDIA"}, "dal": {"2026-12-01"}, "al": {"2026-12-01"},
		"avviso": {"data"}, "nuova_data": {"2026-12-03T10:00"}, "entro": {"2026-11-30T18:00"}, "motivo": {"Medico assente"}}
}

func TestAnUrgentMoveFromFilingToTheResultFile(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	mgr := b.signedIn(t, roleUsers[RoleCUPManager]) // ASL2
	form := mgr.get("/urgenti")
	if form.status != http.StatusOK || !strings.Contains(form.body, "Nuovo spostamento urgente") {
		t.Fatalf("/urgenti for a CUP manager: %d\n%s", form.status, form.body)
	}
	filed := mgr.post("/urgenti", validUrgentForm(mgr.csrf(form)))
	m := urgentLink.FindStringSubmatch(filed.header.Get("Location"))
	if filed.status != http.StatusSeeOther || m == nil {
		t.Fatalf("file: %d %q\n%s", filed.status, filed.header.Get("Location"), filed.body)
	}
	path := "/urgenti/" + m[1]
	moves, err := b.st.UrgentMoves(ctx, "ASL2", 10)
	if err != nil || len(moves) != 1 || moves[0].CreatedBy != roleUsers[RoleCUPManager] {
		t.Fatalf("moves %+v %v", moves, err)
	}
	text := strings.Join(strings.Fields(visibleText(mgr.get(path).body)), " ")
	for _, want := range []string{codeCancelled, "0 raggiunti, 1 in corso, 0 non raggiunti", "gio 03/12/2026 10:00"} {
		if !strings.Contains(text, want) {
			t.Errorf("the move's page lacks %q:\n%s", want, text)
		}
	}
	// The patient of the mobile answers and accepts the new date.
	cs, err := b.st.ClaimContacts(ctx, "test", moves[0].CampaignID, b.now(), b.now().Add(time.Hour), 10)
	if err != nil || len(cs) == 0 {
		t.Fatalf("urgent contacts %+v %v", cs, err)
	}
	var mobile store.Contact
	for _, c := range cs {
		if c.Phone == phoneCancels {
			mobile = c
		}
	}
	if mobile.ID == 0 {
		t.Fatalf("no call to %s among %+v", phone.Mask(phoneCancels), cs)
	}
	at := time.Date(2026, 11, 30, 10, 0, 0, 0, cup.Rome)
	if err := b.st.RecordAttempt(ctx, store.AttemptRecord{ContactID: mobile.ID, Owner: "test", Counted: true, StartedAt: at, AnsweredAt: at,
		EndedAt: at.Add(40 * time.Second), SIPCode: 200, Outcome: "answered", Result: urgent.ChoiceAccepted, Final: true, Positive: true}); err != nil {
		t.Fatal(err)
	}
	if n, err := (urgent.Settler{Store: b.st, Now: b.now}).Step(ctx); err != nil || n != 1 {
		t.Fatalf("settled %d %v", n, err)
	}
	page := mgr.get(path)
	text = strings.Join(strings.Fields(visibleText(page.body)), " ")
	for _, want := range []string{"1 raggiunti", "raggiunto " + phone.Mask(phoneCancels), "accetta la nuova data", "spostare nel CUP al 03/12/2026 10:00"} {
		if !strings.Contains(text, want) {
			t.Errorf("the move's page lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(page.body, phoneCancels) {
		t.Error("the page shows the whole number")
	}
	csv := mgr.get(path + "/esiti.csv")
	if csv.status != http.StatusOK || !strings.HasPrefix(csv.body, "\ufeffnodo;codice_prenotazione;data_appuntamento;esito;numero;") ||
		!strings.Contains(csv.body, "ASL2;"+codeCancelled+";01/12/2026 15:00;raggiunto;"+phone.Mask(phoneCancels)+";") ||
		strings.Contains(csv.body, phoneCancels) || len(strings.Split(strings.TrimSpace(csv.body), "\n")) != 2 {
		t.Fatalf("results CSV: %d\n%q", csv.status, csv.body)
	}
	// Another node's manager neither lists nor opens it.
	addUser(t, b.st, "referente.ao", RoleCUPManager, "AO", b.now())
	ao := b.signedIn(t, "referente.ao")
	if p := ao.get(path); p.status != http.StatusNotFound {
		t.Fatalf("AO's manager opens ASL2's move: %d", p.status)
	}
	if p := ao.get(path + "/esiti.csv"); p.status != http.StatusNotFound {
		t.Fatalf("AO's manager downloads ASL2's move: %d", p.status)
	}
	if p := ao.get("/urgenti"); p.status != http.StatusOK || strings.Contains(p.body, `href="`+path+`"`) {
		t.Fatalf("AO's manager lists ASL2's move: %d", p.status)
	}
}

func TestAnUrgentRequestIsCheckedBeforeAnythingIsStored(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	mgr := b.signedIn(t, roleUsers[RoleCUPManager])
	tok := mgr.csrf(mgr.get("/urgenti"))
	for _, tc := range []struct {
		name string
		set  map[string]string
		want string
	}{
		{"no agenda", map[string]string{"agenda": ""}, "Indichi il codice dell'agenda"},
		{"days backwards", map[string]string{"dal": "2026-12-02", "al": "2026-12-01"}, "viene prima del primo"},
		{"no codes", map[string]string{"modo": "codici", "codici": " \n "}, "almeno un codice"},
		{"no deadline", map[string]string{"entro": ""}, "entro quando"},
		{"deadline passed", map[string]string{"entro": "2026-11-30T08:00"}, "già passato"},
		{"new date passed", map[string]string{"nuova_data": "2026-11-29T10:00"}, "nuova data proposta è già passata"},
		{"no new date", map[string]string{"nuova_data": ""}, "Indichi la nuova data"},
		{"nothing to tell", map[string]string{"avviso": ""}, "Scelga cosa dire ai pazienti"},
		{"no booking", map[string]string{"agenda": "CARDIOLOGIA"}, "Nessuna prenotazione futura del nodo"},
		{"another node's code", map[string]string{"modo": "codici", "codici": codeDelivered}, "Nessuna prenotazione futura del nodo"},
	} {
		f := validUrgentForm(tok)
		for k, v := range tc.set {
			f.Set(k, v)
		}
		p := mgr.post("/urgenti", f)
		if p.status != http.StatusBadRequest || !strings.Contains(visibleText(p.body), tc.want) {
			t.Errorf("%s: %d, want 400 with %q\n%s", tc.name, p.status, tc.want, visibleText(p.body))
		}
	}
	if ms, err := b.st.UrgentMoves(ctx, "", 10); err != nil || len(ms) != 0 {
		t.Fatalf("refused requests stored moves: %+v %v", ms, err)
	}
}

func TestOnlyACUPManagerFilesAnUrgentMoveWithItsToken(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	mgr := b.signedIn(t, roleUsers[RoleCUPManager])
	mgr.get("/urgenti")
	if p := mgr.post("/urgenti", validUrgentForm("not-the-token")); p.status != http.StatusForbidden {
		t.Fatalf("a wrong CSRF token: %d", p.status)
	}
	for _, role := range []Role{RoleOperator, RoleTeamLeader, RoleAuditor} {
		c := b.signedIn(t, roleUsers[role])
		tok := c.csrf(c.get("/panoramica"))
		if p := c.post("/urgenti", validUrgentForm(tok)); p.status != http.StatusForbidden {
			t.Errorf("%s filed an urgent move: %d", role, p.status)
		}
	}
	if ms, err := b.st.UrgentMoves(ctx, "", 10); err != nil || len(ms) != 0 {
		t.Fatalf("refused requests stored moves: %+v %v", ms, err)
	}
}

// TestAnUrgentMoveOnPostgres files a move and reads its pages on the store
// several engine processes share.
func TestAnUrgentMoveOnPostgres(t *testing.T) {
	t.Parallel()
	b := setupWith(t, setupOpts{postgres: true})
	mgr := b.signedIn(t, roleUsers[RoleCUPManager])
	filed := mgr.post("/urgenti", validUrgentForm(mgr.csrf(mgr.get("/urgenti"))))
	m := urgentLink.FindStringSubmatch(filed.header.Get("Location"))
	if filed.status != http.StatusSeeOther || m == nil {
		t.Fatalf("file: %d %q\n%s", filed.status, filed.header.Get("Location"), filed.body)
	}
	for _, p := range []string{"/urgenti", "/urgenti/" + m[1], "/urgenti/" + m[1] + "/esiti.csv"} {
		pg := mgr.get(p)
		if pg.status != http.StatusOK || (p != "/urgenti" && !strings.Contains(pg.body, codeCancelled)) {
			t.Errorf("%s: %d\n%s", p, pg.status, pg.body)
		}
	}
}
