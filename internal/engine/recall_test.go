package engine

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/calendar"
	"github.com/richiamo/richiamo/internal/clock"
	"github.com/richiamo/richiamo/internal/config"
	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/recall"
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

// A slot a recall cancellation frees reaches the offers as a freed slot.
func TestTheRecallsFreedSlotsGoToTheOffers(t *testing.T) {
	t.Parallel()
	cfg := config.Default()
	cfg.Dir = t.TempDir()
	now := time.Date(2027, 3, 10, 9, 30, 0, 0, calendar.Rome)
	eng, err := New(context.Background(), cfg, Deps{Now: clock.From(now), Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	as, err := recall.Parse([]byte("agende:\n  - name: rx\n    node: ASL1\n    codes: [RX]\n    calendar: \"0 9 * * 3\"\n    window: {from_days: 7, to_days: 14}\n    offer_freed_slots: true\n"), "agende.yaml", "")
	if err != nil {
		t.Fatal(err)
	}
	eng.Recall.Settle.Agendas = as
	at := time.Date(2027, 4, 20, 9, 0, 0, 0, calendar.Rome)
	eng.Recall.Settle.Freed(context.Background(), cup.Booking{Node: "ASL1", Code: "B-1", Agenda: "RX", At: at, ServiceType: cup.ServiceInstrumental})
	ss, err := eng.Store.FreedSlots(context.Background(), now.AddDate(0, 0, -1), now.Add(time.Hour), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != 1 || ss[0].Agenda != "RX" || ss[0].Node != "ASL1" {
		t.Errorf("freed slots %+v, want the recall's", ss)
	}
}
