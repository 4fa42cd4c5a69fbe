package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

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
