package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// campaign load warns of retry rules that cannot meet the configured
// profile's efficiency threshold, and the shipped script draws no warning.
func TestCampaignLoadWarnsOfRetryRulesThatCannotMeetTheProfile(t *testing.T) {
	t.Parallel()
	c := campaignCLI(t)
	slow := filepath.Join(c.dir, "lento.yaml")
	data := strings.Replace(string(must(os.ReadFile(recallScript(t)))), "  no_answer: 1h\n", "  no_answer: 2h\n", 1)
	data = strings.Replace(data, "  across_days: false\n", "", 1)
	if err := os.WriteFile(slow, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	csv := filepath.Join(c.dir, "c.csv")
	if err := os.WriteFile(csv, []byte("cellulare,codice_prenotazione,data_ora_appuntamento\n3330000001,PR-1,01/12/2026 08:00\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		script string
		want   []string
	}{
		{recallScript(t), nil},
		{slow, []string{"warning: retry.no_answer: 2h between attempts", "warning: retry.across_days", "piano-2021"}},
	} {
		cmd := c.cmd("campaign", "load", "--config", c.config, "--name", filepath.Base(tc.script), "--script", tc.script, "--contacts", csv)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s: %v: %s", tc.script, err, stderr.String())
		}
		if tc.want == nil && strings.Contains(stderr.String(), "warning") {
			t.Errorf("the shipped script: %s", stderr.String())
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr.String(), w) {
				t.Errorf("%s: stderr lacks %q:\n%s", tc.script, w, stderr.String())
			}
		}
	}
}
