package web

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/richiamo/richiamo/campaigns"
	"github.com/richiamo/richiamo/internal/calllog"
	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/survey"
	"github.com/richiamo/richiamo/internal/testkit"
)

// The operators' codes of the seeded survey: the account "operatore" is
// 042, "operatore2" has no code.
const (
	ownCode   = "042"
	otherCode = "117"
)

// seedSurvey runs the survey's service on a call log of 2 November 2026
// (20 calls of 042, 10 of 117; with k = 10 three are drawn: two of 042,
// one of 117) and answers the three calls: 042 gives 5 4 4 5 and 2 3 3 1
// (a follow-up, opened by the next round), 117 gives 4 4 and hangs up. It ties "operatore" to 042.
func seedSurvey(t *testing.T, b *bundle) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	day := time.Date(2026, 11, 2, 9, 0, 0, 0, cup.Rome)
	var log strings.Builder
	log.WriteString("id_chiamata;chiamante;inizio;risposta;fine;operatore;coda;esito\n")
	i := 0
	for _, op := range []struct {
		code string
		n    int
	}{{ownCode, 20}, {otherCode, 10}} {
		for range op.n {
			end := day.Add(time.Duration(i*3) * time.Minute)
			fmt.Fprintf(&log, "c%03d;333%07d;%s;%s;%s;%s;prenotazioni;evasa\n", i, 5000+i, end.Add(-3*time.Minute).Format(calllog.DefaultTimeLayout),
				end.Add(-2*time.Minute).Format(calllog.DefaultTimeLayout), end.Format(calllog.DefaultTimeLayout), op.code)
			i++
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "chiamate.csv"), []byte(log.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	clk := testkit.NewClock(time.Date(2026, 11, 2, 10, 45, 0, 0, cup.Rome))
	svc := &survey.Service{Config: survey.Config{Seed: []byte("seme-di-prova-2026")}, Store: b.st, Script: campaigns.Survey,
		Inbox: filepath.Join(dir, "*.csv"), Now: clk.Now, Log: testkit.Logger(t)}
	if err := svc.Validate(); err != nil {
		t.Fatal(err)
	}
	if r, err := svc.Round(ctx); err != nil || r.Sampled != 3 {
		t.Fatalf("the survey's round: %+v %v", r, err)
	}
	camp, err := b.st.CampaignByName(ctx, survey.CampaignName)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := b.st.ClaimContacts(ctx, "d", camp.ID, clk.Now(), clk.Now().Add(time.Hour), 10)
	if err != nil || len(cs) != 3 {
		t.Fatalf("claimed %d %v", len(cs), err)
	}
	for i, values := range [][]string{{"5", "4", "4", "5"}, {"2", "3", "3", "1"}, {"4", "4"}} {
		result := "completed"
		if len(values) < 4 {
			result = "partial"
		}
		var as []store.Answer
		for j, v := range values {
			as = append(as, store.Answer{Question: survey.Questions[j], Value: v, Keys: v})
		}
		when := clk.Now()
		if err := b.st.RecordAttempt(ctx, store.AttemptRecord{ContactID: cs[i].ID, Owner: "d", Counted: true, StartedAt: when,
			AnsweredAt: when, EndedAt: when.Add(time.Minute), Outcome: "answered", Result: result, Answers: as, Final: true, Positive: true}); err != nil {
			t.Fatal(err)
		}
	}
	// The next round opens the low rating's follow-up.
	clk.Set(clk.Now().Add(10 * time.Minute))
	if r, err := svc.Round(ctx); err != nil || r.FollowUps != 1 {
		t.Fatalf("the round after the interviews: %+v %v", r, err)
	}
	if err := SetOperatorCode(ctx, b.st, roleUsers[RoleOperator], ownCode, cliActor, b.now()); err != nil {
		t.Fatal(err)
	}
}

// rowOf is the cells of the table row of id whose data-operatore is op,
// as text, or nil.
func rowOf(body, table, op string) string {
	_, rest, ok := strings.Cut(body, `id="`+table+`"`)
	if !ok {
		return ""
	}
	rest, _, _ = strings.Cut(rest, "</table>")
	_, row, ok := strings.Cut(rest, `data-operatore="`+op+`"`)
	if !ok {
		return ""
	}
	row, _, _ = strings.Cut(row, "</tr>")
	return row
}

func TestSurveyPageByRole(t *testing.T) {
	t.Parallel()
	b := setup(t)
	seedSurvey(t, b)
	const month = "/questionario?mese=2026-11"

	t.Run("auditor sees every operator", func(t *testing.T) {
		p := b.signedIn(t, roleUsers[RoleAuditor]).get(month)
		if p.status != http.StatusOK || !strings.Contains(p.body, "Novembre 2026") {
			t.Fatalf("%d\n%s", p.status, p.body)
		}
		// 042: 20 handled and eligible, 2 drawn and called, both complete,
		// one follow-up.
		if r := rowOf(p.body, "mese-operatori", ownCode); !strings.Contains(r, `<td class="n">20</td><td class="n">20</td><td class="n">2</td><td class="n">2</td><td class="n">2</td><td class="n">0</td><td class="n">0</td><td class="n">0</td><td class="n">1</td><td class="n">0</td>`) {
			t.Errorf("042's month: %s", r)
		}
		if r := rowOf(p.body, "mese-operatori", otherCode); !strings.Contains(r, `<td class="n">10</td><td class="n">10</td><td class="n">1</td><td class="n">1</td><td class="n">0</td><td class="n">1</td>`) {
			t.Errorf("117's month: %s", r)
		}
		if r := rowOf(p.body, "mese-operatori", "*"); !strings.Contains(r, `<td class="n">30</td><td class="n">30</td><td class="n">3</td>`) {
			t.Errorf("every operator's month: %s", r)
		}
		// The service: 5, 2 (042) and 4 (117): mean 3,67, one of three
		// insufficient.
		_, svc, _ := strings.Cut(p.body, `data-domanda="servizio"`)
		all, _, _ := strings.Cut(svc[strings.Index(svc, `data-operatore="*"`):], "</tr>")
		if !strings.Contains(all, `<td class="n">3</td><td class="n">3,67</td><td class="n">0</td><td class="n">1</td><td class="n">0</td><td class="n">1</td><td class="n">1</td><td class="n">33%</td>`) {
			t.Errorf("the service, all operators: %s", all)
		}
		if !strings.Contains(p.body, `data-giorno="2026-11-02" data-operatore="042"`) {
			t.Error("no row of 042 on 2 November")
		}
		// Filtered to one operator.
		p = b.signedIn(t, roleUsers[RoleAuditor]).get(month + "&operatore=" + otherCode)
		if rowOf(p.body, "mese-operatori", otherCode) == "" || rowOf(p.body, "mese-operatori", ownCode) != "" {
			t.Errorf("filtered to 117:\n%s", p.body)
		}
	})

	t.Run("operator sees only their own", func(t *testing.T) {
		c := b.signedIn(t, roleUsers[RoleOperator])
		p := c.get(month)
		if p.status != http.StatusOK || rowOf(p.body, "mese-operatori", ownCode) == "" {
			t.Fatalf("%d\n%s", p.status, p.body)
		}
		if strings.Contains(p.body, otherCode) || rowOf(p.body, "mese-operatori", "*") != "" {
			t.Errorf("the operator sees another operator's or everyone's figures:\n%s", p.body)
		}
		// Asking for another operator changes nothing.
		p = c.get(month + "&operatore=" + otherCode)
		if strings.Contains(p.body, `data-operatore="`+otherCode+`"`) || rowOf(p.body, "mese-operatori", ownCode) == "" {
			t.Errorf("an operator asked for 117:\n%s", p.body)
		}
		p = c.get("/questionario/risposte.csv?mese=2026-11&operatore=" + otherCode)
		if p.status != http.StatusOK || strings.Contains(p.body, ";"+otherCode+";") || !strings.Contains(p.body, ";"+ownCode+";") {
			t.Errorf("an operator's CSV: %d\n%s", p.status, p.body)
		}
	})

	t.Run("operator without a code is told so", func(t *testing.T) {
		c := b.signedIn(t, otherOperator)
		p := c.get(month)
		if p.status != http.StatusOK || !strings.Contains(p.body, "Al suo utente non è associato un codice operatore") || strings.Contains(p.body, "mese-operatori") {
			t.Errorf("%d\n%s", p.status, p.body)
		}
		if p := c.get("/questionario/risposte.csv?mese=2026-11"); p.status != http.StatusForbidden {
			t.Errorf("the CSV without a code: %d", p.status)
		}
	})

	t.Run("roles without the survey are refused", func(t *testing.T) {
		for _, role := range []Role{RoleCUPManager} {
			if p := b.signedIn(t, roleUsers[role]).get(month); p.status != http.StatusForbidden {
				t.Errorf("%s: %d", role, p.status)
			}
		}
	})

	t.Run("the raw answers as CSV for Excel", func(t *testing.T) {
		c := b.signedIn(t, roleUsers[RoleAdmin])
		p := c.get("/questionario/risposte.csv?mese=2026-11")
		if p.status != http.StatusOK || !strings.HasPrefix(p.header.Get("Content-Type"), "text/csv") ||
			!strings.Contains(p.header.Get("Content-Disposition"), `filename="questionario-2026-11-risposte.csv"`) {
			t.Fatalf("%d %v", p.status, p.header)
		}
		r := csv.NewReader(strings.NewReader(strings.TrimPrefix(p.body, "\ufeff")))
		r.Comma = ';'
		rows, err := r.ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(rows[0], ";") != "id_chiamata;giorno;fine_chiamata;operatore;coda;intervista;esito;domanda;risposta;tasti" {
			t.Errorf("header %v", rows[0])
		}
		// 4 + 4 + 2 answers.
		if len(rows) != 11 {
			t.Fatalf("%d rows:\n%s", len(rows), p.body)
		}
		var low, partial int
		for _, row := range rows[1:] {
			if row[7] == "servizio" && row[8] == "2" && row[3] == ownCode {
				low++
			}
			if row[6] == "parziale" && row[3] == otherCode {
				partial++
			}
			if strings.Contains(strings.Join(row, ";"), "3330005") {
				t.Errorf("a patient's number in the CSV: %v", row)
			}
		}
		if low != 1 || partial != 2 || rows[1][1] != "2026-11-02" {
			t.Errorf("low %d partial %d first %v", low, partial, rows[1])
		}
		entries, err := b.st.AuditEntries(context.Background(), store.AuditFilter{Action: actionExport, Actor: roleUsers[RoleAdmin]})
		if err != nil || len(entries) == 0 || !strings.Contains(entries[0].Target, "questionario 2026-11") {
			t.Errorf("the export is not in the audit log: %+v %v", entries, err)
		}
	})

	t.Run("a bad month", func(t *testing.T) {
		if p := b.signedIn(t, roleUsers[RoleAuditor]).get("/questionario?mese=novembre"); p.status != http.StatusBadRequest {
			t.Errorf("%d", p.status)
		}
	})
}

func TestAdministratorSetsAnOperatorsCode(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	u, err := b.st.UserByName(ctx, otherOperator)
	if err != nil {
		t.Fatal(err)
	}
	admin := b.signedIn(t, roleUsers[RoleAdmin])
	page := admin.get("/utenti")
	path := fmt.Sprintf("/utenti/%d/codice-operatore", u.ID)
	if !strings.Contains(page.body, `action="`+path+`"`) {
		t.Fatalf("no code form on the users page:\n%s", page.body)
	}
	p := admin.post(path, url.Values{"csrf": {admin.csrf(page)}, "codice": {"2=1"}})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "Il codice operatore può contenere solo") {
		t.Errorf("a bad code: %d", p.status)
	}
	p = admin.post(path, url.Values{"csrf": {admin.csrf(page)}, "codice": {" 117 "}})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/utenti?esito=codice-operatore" {
		t.Fatalf("%d %v\n%s", p.status, p.header, p.body)
	}
	if p := admin.get("/utenti?esito=codice-operatore"); !strings.Contains(p.body, "Codice operatore aggiornato.") {
		t.Errorf("no notice:\n%s", p.body)
	}
	if u, err = b.st.UserByName(ctx, otherOperator); err != nil || u.OperatorCode != "117" {
		t.Errorf("the code stored: %q %v", u.OperatorCode, err)
	}
	entries, err := b.st.AuditEntries(ctx, store.AuditFilter{Action: actionOperatorCode})
	if err != nil || len(entries) != 1 || entries[0].Target != otherOperator || entries[0].Actor != roleUsers[RoleAdmin] {
		t.Errorf("audit: %+v %v", entries, err)
	}
	// An auditor sees the codes and cannot change them.
	aud := b.signedIn(t, roleUsers[RoleAuditor])
	page = aud.get("/utenti")
	if strings.Contains(page.body, `action="`+path+`"`) || !strings.Contains(page.body, "<td>117</td>") {
		t.Errorf("the auditor's users page:\n%s", page.body)
	}
	if p := aud.post(path, url.Values{"csrf": {aud.csrf(page)}, "codice": {"999"}}); p.status != http.StatusForbidden {
		t.Errorf("an auditor setting a code: %d", p.status)
	}
}
