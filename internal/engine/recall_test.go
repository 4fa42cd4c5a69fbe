package engine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/richiamo/richiamo/internal/config"
)

const recallNode = `cup:
  nodes:
    - name: ASL1
      server: cup-asl1.example.it
      database: CUP
      user: richiamo
      query: SELECT * FROM v WHERE data_ora_appuntamento >= @from AND data_ora_appuntamento < @to
`

func TestRecallSettingsNameTheKeyAndTheLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"recall query without the agendas", recallNode + "      recall_query: SELECT * FROM v WHERE d >= @from AND d < @to\n",
			"line 8: cup.nodes[ASL1].recall_query: must use @agende"},
		{"cancel with a value written in", recallNode + "      write_back:\n        cancel: EXEC dbo.annulla @codice = 'X'\n",
			"line 9: cup.nodes[ASL1].write_back.cancel: must use parameters"},
		{"move without the new time", recallNode + "      write_back:\n        move: EXEC dbo.sposta @code, @at\n",
			"line 9: cup.nodes[ASL1].write_back.move: must use @new_at"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := loadFile(t, tc.yaml, map[string]string{config.NodePasswordEnv("ASL1"): "x"})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestRecallAgendasAreTheShippedOnesOrTheConfiguredFile(t *testing.T) {
	t.Parallel()
	cfg := config.Default()
	cfg.Dir = t.TempDir()
	as, err := RecallAgendas(cfg)
	if err != nil || len(as) == 0 {
		t.Fatalf("shipped agendas: %v %v", as, err)
	}
	p := filepath.Join(cfg.Dir, "agende.yaml")
	if err := os.WriteFile(p, []byte("agende:\n  - name: rx\n    node: ASL1\n    codes: [RX]\n    calendar: \"0 9 * * 1\"\n    window: {from_days: 7, to_days: 3}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.Campaigns.RecallAgendas = "agende.yaml"
	if _, err := RecallAgendas(cfg); err == nil || !strings.Contains(err.Error(), "line 6: agende[rx].window.to_days") {
		t.Errorf("got %v, want the file's key and line", err)
	}
}
