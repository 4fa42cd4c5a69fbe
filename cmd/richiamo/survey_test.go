package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/richiamo/richiamo/campaigns"
	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/survey"
	"github.com/richiamo/richiamo/internal/testkit"
)

// TestSurveySampleGolden pins what an auditor reads of a day's sample, and
// the --json shape: with the same seed the same calls come out.
func TestSurveySampleGolden(t *testing.T) {
	t.Parallel()
	log := filepath.Join("..", "..", "testdata", "chiamate-sample.csv")
	// A rate of one in two, so that a small day samples something.
	dir := t.TempDir()
	cfg := filepath.Join(dir, "richiamo.yaml")
	if err := os.WriteFile(cfg, []byte("store:\n  sqlite: richiamo.db\nsurvey:\n  rate: 0.5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _ := runCLI(t, "survey", "sample", "--config", cfg, "--calls", log, "--date", "2026-12-01", "--seed", "seme-di-prova-2026")
	path := filepath.Join("testdata", "survey-sample.golden")
	if *update {
		if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if out != string(want) {
		t.Fatalf("output differs from %s (go test -update rewrites it):\n%s", path, out)
	}

	js, _ := runCLI(t, "survey", "sample", "--config", cfg, "--calls", log, "--date", "2026-12-01", "--seed", "seme-di-prova-2026", "--json")
	var got struct {
		Date       string  `json:"date"`
		Rate       float64 `json:"rate"`
		K          int     `json:"k"`
		Handled    int     `json:"handled"`
		Eligible   int     `json:"eligible"`
		ByOperator map[string]struct {
			Handled, Eligible, Start, Sampled int
		} `json:"by_operator"`
		Sampled []struct {
			CallID   string `json:"call_id"`
			Operator string `json:"operator"`
			EndedAt  string `json:"ended_at"`
		} `json:"sampled"`
		Excluded map[string]int `json:"excluded"`
		Rejected int            `json:"rejected"`
	}
	if err := json.Unmarshal([]byte(js), &got); err != nil {
		t.Fatalf("%v\n%s", err, js)
	}
	if got.Date != "2026-12-01" || got.K != 2 || got.Handled != 13 || got.Eligible != 9 || got.Rejected != 1 {
		t.Errorf("summary %+v", got)
	}
	var ids []string
	for _, s := range got.Sampled {
		ids = append(ids, s.CallID)
	}
	again, _ := runCLI(t, "survey", "sample", "--config", cfg, "--calls", log, "--seed", "seme-di-prova-2026", "--json")
	var other struct {
		Sampled []struct {
			CallID string `json:"call_id"`
		} `json:"sampled"`
	}
	if err := json.Unmarshal([]byte(again), &other); err != nil {
		t.Fatal(err)
	}
	var ids2 []string
	for _, s := range other.Sampled {
		ids2 = append(ids2, s.CallID)
	}
	if len(ids) == 0 || !reflect.DeepEqual(ids, ids2) {
		t.Errorf("sampled %v, then %v without --date", ids, ids2)
	}
	if want := map[string]int{"not_handled": 1, "withheld": 2, "invalid_number": 0, "short": 1, "repeat": 1,
		"do_not_call": 0, "refused": 0, "quiet_days": 0}; !reflect.DeepEqual(got.Excluded, want) {
		t.Errorf("excluded %v, want %v", got.Excluded, want)
	}
}

func TestSurveySampleNeedsTheSeed(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), testEnv(&stdout, &stderr), []string{"survey", "sample", "--calls", filepath.Join("..", "..", "testdata", "chiamate-sample.csv")})
	if code == 0 || !strings.Contains(stderr.String(), "RICHIAMO_SURVEY_SEED") {
		t.Errorf("exit %d, stderr %q: want the seed's variable named", code, stderr.String())
	}
}

// TestSurveyTryAgainstSIPp has SIPp press the keys over RFC 4733 while
// the interview plays: the answers come back per question, and the 2
// calls for a follow-up.
func TestSurveyTryAgainstSIPp(t *testing.T) {
	t.Parallel()
	testkit.Need(t, "raw-sockets")
	uri, wait := sippCall(t, "survey_answers.xml")
	var out, errb bytes.Buffer
	code := run(t.Context(), testEnv(&out, &errb),
		[]string{"survey", "try", "--config", callConfig(t), "--to", uri, "--operator", "042", "--json"})
	if code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out.String(), errb.String())
	}
	var got struct {
		Outcome string `json:"outcome"`
		Result  string `json:"result"`
		Answers []struct {
			Question string `json:"question"`
			Value    string `json:"value"`
		} `json:"answers"`
		FollowUp *bool `json:"follow_up"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	var answers []string
	for _, a := range got.Answers {
		answers = append(answers, a.Question+"="+a.Value)
	}
	want := []string{"servizio=4", "cortesia=2", "competenza=5", "risolto=3"}
	if got.Outcome != "answered" || got.Result != "completed" || !reflect.DeepEqual(answers, want) || got.FollowUp == nil || !*got.FollowUp {
		t.Errorf("got %s, want completed with %v and a follow-up", out.String(), want)
	}
	wait()
}

// TestSurveyFiguresOfAMonth seeds a store through the survey's service
// (the sample's log, one interview with a low rating) and reads the month
// back: the figures, one operator's own, and the raw answers.
func TestSurveyFiguresOfAMonth(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, store.Options{SQLitePath: filepath.Join(dir, "richiamo.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 1, 11, 0, 0, 0, cup.Rome)
	svc := &survey.Service{Config: survey.Config{Rate: 0.5, Seed: []byte("seme-di-prova-2026")}, Store: st, Script: campaigns.Survey,
		Inbox: filepath.Join("..", "..", "testdata", "chiamate-sample.csv"), Now: func() time.Time { return now }, Log: testkit.Logger(t)}
	if err := svc.Validate(); err != nil {
		t.Fatal(err)
	}
	if r, err := svc.Round(ctx); err != nil || r.Sampled != 4 {
		t.Fatalf("round %+v %v", r, err)
	}
	cs, err := st.ClaimContacts(ctx, "d", 0, now, now.Add(time.Hour), 1)
	if err != nil || len(cs) != 1 {
		t.Fatalf("claimed %v %v", cs, err)
	}
	if err := st.RecordAttempt(ctx, store.AttemptRecord{ContactID: cs[0].ID, Owner: "d", Counted: true, StartedAt: now, AnsweredAt: now,
		EndedAt: now.Add(time.Minute), Outcome: "answered", Result: "completed", Final: true, Positive: true,
		Answers: []store.Answer{{Question: "servizio", Value: "2", Keys: "2"}, {Question: "cortesia", Value: "4", Keys: "4"},
			{Question: "competenza", Value: "4", Keys: "4"}, {Question: "risolto", Value: "5", Keys: "5"}}}); err != nil {
		t.Fatal(err)
	}
	if r, err := svc.Round(ctx); err != nil || r.FollowUps != 1 {
		t.Fatalf("round %+v %v", r, err)
	}
	cfg := filepath.Join(dir, "richiamo.yaml")
	if err := os.WriteFile(cfg, []byte("store:\n  sqlite: richiamo.db\nsurvey:\n  rate: 0.5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _ := runCLI(t, "survey", "figures", "--config", cfg, "--month", "2026-12")
	path := filepath.Join("testdata", "survey-figures.golden")
	if *update {
		if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if out != string(want) {
		t.Fatalf("output differs from %s (go test -update rewrites it):\n%s", path, out)
	}
	csvOut := filepath.Join(dir, "risposte.csv")
	js, _ := runCLI(t, "survey", "figures", "--config", cfg, "--month", "2026-12", "--operator", "042", "--answers", csvOut, "--json")
	var f struct {
		Months []struct {
			Operator  string `json:"operator"`
			Handled   int    `json:"handled"`
			Completed int    `json:"completed"`
		} `json:"months"`
	}
	if err := json.Unmarshal([]byte(js), &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Months) != 1 || f.Months[0].Operator != "042" || f.Months[0].Handled != 6 {
		t.Errorf("operator 042's months: %+v", f.Months)
	}
	data, err := os.ReadFile(csvOut)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), strings.Join(survey.AnswerColumns, ",")+"\n") || strings.Contains(string(data), "333") {
		t.Errorf("answers CSV:\n%s", data)
	}
}

// TestSurveySampleReadsTheStoresHistory: with --history a number on the
// do-not-call list is left out as serve leaves it out.
func TestSurveySampleReadsTheStoresHistory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, store.Options{SQLitePath: filepath.Join(dir, "richiamo.db")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := st.AddDNC(ctx, "+393331000013", time.Date(2026, 11, 1, 9, 0, 0, 0, cup.Rome)); err != nil {
		t.Fatal(err)
	}
	st.Close()
	cfg := filepath.Join(dir, "richiamo.yaml")
	if err := os.WriteFile(cfg, []byte("store:\n  sqlite: richiamo.db\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join("..", "..", "testdata", "chiamate-sample.csv")
	var got struct {
		Eligible int            `json:"eligible"`
		Excluded map[string]int `json:"excluded"`
	}
	out, _ := runCLI(t, "survey", "sample", "--config", cfg, "--calls", log, "--seed", "seme-di-prova-2026", "--history", "--json")
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if got.Eligible != 8 || got.Excluded["do_not_call"] != 1 {
		t.Errorf("eligible %d, excluded %v: want the do-not-call number left out", got.Eligible, got.Excluded)
	}
}
