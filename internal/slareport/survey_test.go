package slareport

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/calendar"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/store/storetest"
	"github.com/richiamo/richiamo/internal/survey"
	"github.com/richiamo/richiamo/internal/testkit"
)

// TestTheMonthlyReportHasTheSurveySection seeds a month with two handled
// calls, both drawn, one interviewed with a low rating, and reads the
// section on the page and in the CSV.
func TestTheMonthlyReportHasTheSurveySection(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	ctx := context.Background()
	end := time.Date(2026, 10, 14, 9, 0, 0, 0, calendar.Rome)
	call := func(id, caller, op string, end time.Time) store.InboundCall {
		return store.InboundCall{CallID: id, Caller: caller, StartedAt: end.Add(-3 * time.Minute).UnixMilli(), AnsweredAt: end.Add(-2 * time.Minute).UnixMilli(),
			EndedAt: end.UnixMilli(), Operator: op, Queue: "prenotazioni", Day: "2026-10-14"}
	}
	if _, err := st.RecordInboundCalls(ctx, []store.InboundCall{call("c1", "3331000001", "042", end), call("c2", "3331000002", "117", end)}, end); err != nil {
		t.Fatal(err)
	}
	camp, _, err := st.LoadCampaign(ctx, store.CampaignLoad{Name: survey.CampaignName, Kind: "survey", Script: "x"}, end)
	if err != nil {
		t.Fatal(err)
	}
	s := func(id, phone, op string) store.NewSurveySample {
		return store.NewSurveySample{CallID: id, Day: "2026-10-14", Operator: op, Phone: phone, EndedAt: end, DueAt: end.Add(5 * time.Minute),
			NotAfter: end.Add(2 * time.Hour), Payload: "{}"}
	}
	if _, err := st.AddSurveySamples(ctx, camp, []store.NewSurveySample{s("c1", "+393331000001", "042"), s("c2", "+393331000002", "117")}, end); err != nil {
		t.Fatal(err)
	}
	cs, err := st.ClaimContacts(ctx, "d", camp, end.Add(10*time.Minute), end.Add(time.Hour), 1)
	if err != nil || len(cs) != 1 {
		t.Fatalf("claimed %v %v", cs, err)
	}
	at := end.Add(10 * time.Minute)
	if err := st.RecordAttempt(ctx, store.AttemptRecord{ContactID: cs[0].ID, Owner: "d", Counted: true, StartedAt: at, AnsweredAt: at, EndedAt: at.Add(time.Minute),
		Outcome: "answered", Result: "completed", Final: true, Positive: true,
		Answers: []store.Answer{{Question: "servizio", Value: "2"}, {Question: "cortesia", Value: "5"}, {Question: "competenza", Value: "4"}, {Question: "risolto", Value: "1"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ExpireSurveySamples(ctx, end.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	src := sources(t, st, 0)
	src.Survey = &survey.Config{Seed: []byte("seme-di-prova-2026")}
	from := time.Date(2026, 10, 1, 0, 0, 0, 0, calendar.Rome)
	rep, err := Build(ctx, src, Monthly, from, from.AddDate(0, 1, 0), from.AddDate(0, 1, 1))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Survey == nil || len(rep.Survey.Operators) != 3 || rep.Survey.Operators[0].Operator != survey.AllOperators {
		t.Fatalf("section %+v", rep.Survey)
	}
	all := rep.Survey.Operators[0]
	if all.Handled != 2 || all.Eligible != 2 || all.Sampled != 2 || all.Called != 1 || all.Completed != 1 || all.Expired != 1 {
		t.Errorf("all operators %+v", all)
	}
	var page bytes.Buffer
	if err := rep.HTML(&page, nil); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Misurazione a caldo della soddisfazione", "<td>Tutti</td>", "2,00 (100,00% insuff.)", "una chiamata idonea ogni 10", "da 5 a 120 minuti"} {
		if !strings.Contains(page.String(), want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	var csv bytes.Buffer
	if err := rep.CSV(&csv); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"survey,*,handled,2\n", "survey,*,servizio_mean,2\n", "survey,042,expired,", "survey,*,risolto_1,1\n"} {
		if !strings.Contains(csv.String(), want) {
			t.Errorf("the CSV lacks %q", want)
		}
	}
	// The PDF has the section too.
	pdftotext := testkit.Need(t, "pdftotext")
	var pdf bytes.Buffer
	if err := rep.PDF(&pdf, nil); err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(t.TempDir(), "report.pdf")
	if err := os.WriteFile(in, pdf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(pdftotext, "-layout", in, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(strings.Join(strings.Fields(string(out)), " "), " / ", "/")
	for _, want := range []string{"Misurazione a caldo della soddisfazione", "Operatore Gestite Idonee Estratte Chiamate Complete Parziali Scadute Ricontatti",
		"Tutti 2 2 2 1 1 0 1 0/0", "117 1 1 1 0 0 0 1 0/0", "Servizio Cortesia Competenza Problema risolto", "2,00 (100,00% insuff.) 5,00 (0,00% insuff.)",
		"una chiamata idonea ogni 10", "da 5 a 120 minuti"} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF lacks %q:\n%s", want, out)
		}
	}
	// Without the survey, no section.
	rep, err = Build(ctx, sources(t, st, 0), Monthly, from, from.AddDate(0, 1, 0), from.AddDate(0, 1, 1))
	if err != nil || rep.Survey != nil {
		t.Errorf("without the survey: %+v %v", rep.Survey, err)
	}
}
