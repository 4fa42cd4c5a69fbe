package recall_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/cup/mssql"
	"github.com/richiamo/richiamo/internal/cup/mssql/tdstest"
	"github.com/richiamo/richiamo/internal/recall"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/testkit"
)

// monday9 is Monday 30 November 2026 at 09:00 in Rome, a recall day of the
// test agenda; the window is then 7 to 14 days ahead: 7 to 13 December.
var monday9 = time.Date(2026, 11, 30, 9, 0, 0, 0, cup.Rome)

const recallQuery = `SELECT nodo, agenda, codice_prenotazione, cellulare, data_ora_appuntamento,
       tipo_prestazione, struttura
  FROM dbo.richiamo_prenotazioni
 WHERE data_ora_appuntamento >= @from AND data_ora_appuntamento < @to
   AND agenda IN (SELECT value FROM STRING_SPLIT(@agende, ','))`

var columns = []tdstest.Column{
	{Name: "nodo", Type: tdstest.NVarChar, Size: 10},
	{Name: "agenda", Type: tdstest.NVarChar, Size: 50},
	{Name: "codice_prenotazione", Type: tdstest.NVarChar, Size: 30},
	{Name: "cellulare", Type: tdstest.VarChar, Size: 30},
	{Name: "data_ora_appuntamento", Type: tdstest.DateTime2},
	{Name: "tipo_prestazione", Type: tdstest.VarChar, Size: 1},
	{Name: "struttura", Type: tdstest.NVarChar, Size: 200},
}

// row is a booking of the view; day and hour are December 2026, Rome wall
// clock.
func row(agenda, code, number string, day, hour int) []any {
	return []any{"ASL1", agenda, code, number, time.Date(2026, 12, day, hour, 0, 0, 0, time.UTC), "S", "Ospedale di Città di Castello"}
}

// cupSlots is the CUP's side of the write-back: the bookings it still
// holds, and the cancellations it was asked for.
type cupSlots struct {
	mu        sync.Mutex
	cancelled []string
	refuse    map[string]bool
}

func (c *cupSlots) exec(q tdstest.Query) (int64, *tdstest.Error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	code, _ := q.Params["code"].Value.(string)
	if !strings.Contains(strings.ToLower(q.Text), "richiamo_annulla") {
		return 0, &tdstest.Error{Number: 2812, State: 62, Class: 16, Message: "Could not find stored procedure."}
	}
	if c.refuse[code] {
		return 0, &tdstest.Error{Number: 50002, State: 1, Class: 16, Message: "Prenotazione già erogata."}
	}
	c.cancelled = append(c.cancelled, code)
	return 1, nil
}

func (c *cupSlots) done() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.cancelled...)
}

// agendasFile is the test's monitored agendas.
const agendasFile = `agende:
  - name: rx
    node: ASL1
    codes: [RX-TORACE]
    calendar: "0 9 * * 1"
    window: {from_days: 7, to_days: 14}
    offer_freed_slots: true
  - name: eco
    node: ASL1
    codes: [ECO]
    calendar: "0 9 * * 1"
    window: {from_days: 7, to_days: 14}
    offer_freed_slots: false
`

type bundle struct {
	st      *store.Store
	srv     *tdstest.Server
	cup     *cupSlots
	agendas []recall.Agenda
	node    recall.Node
	freed   *freedLog
}

type freedLog struct {
	mu    sync.Mutex
	slots []recall.FreedSlot
}

func (f *freedLog) on(_ context.Context, s recall.FreedSlot) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.slots = append(f.slots, s)
}

func (f *freedLog) all() []recall.FreedSlot {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recall.FreedSlot(nil), f.slots...)
}

func setup(t *testing.T, st *store.Store, rows [][]any) *bundle {
	t.Helper()
	slots := &cupSlots{refuse: map[string]bool{}}
	srv := tdstest.Start(t, tdstest.Options{Columns: columns, Rows: rows, Exec: slots.exec})
	n := mssql.Node{Name: "ASL1", Server: srv.Host(), Port: srv.Port(), Database: srv.Database(), User: srv.User(),
		Password: srv.Password(), Encrypt: mssql.EncryptFalse, ConnectTimeout: 10 * time.Second, QueryTimeout: 10 * time.Second,
		Query: "SELECT * FROM dbo.richiamo_prenotazioni WHERE data_ora_appuntamento >= @from AND data_ora_appuntamento < @to"}
	dir := t.TempDir()
	path := filepath.Join(dir, "recall-agende.yaml")
	if err := os.WriteFile(path, []byte(agendasFile), 0o600); err != nil {
		t.Fatal(err)
	}
	as, err := recall.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return &bundle{st: st, srv: srv, cup: slots, agendas: as, freed: &freedLog{}, node: recall.Node{DB: n, RecallQuery: recallQuery,
		WriteBack: mssql.WriteBack{Cancel: "EXEC dbo.richiamo_annulla @codice = @code, @agenda = @agenda"}}}
}

// job is an engine process's recall job, owned by owner.
func (b *bundle) job(t *testing.T, owner string, now func() time.Time) *recall.Job {
	return &recall.Job{Store: b.st, Agendas: b.agendas, Nodes: map[string]recall.Node{"ASL1": b.node}, Owner: owner,
		Log: testkit.Logger(t), Now: now, Settle: b.settler(t, now)}
}

func (b *bundle) settler(t *testing.T, now func() time.Time) *recall.Settler {
	return &recall.Settler{Store: b.st, Agendas: b.agendas,
		Exec:    map[string]*mssql.Executor{"ASL1": {Node: b.node.DB, WB: b.node.WriteBack}},
		OnFreed: b.freed.on, Log: testkit.Logger(t), Now: now}
}

func writeFile(path, text string) error { return os.WriteFile(path, []byte(text), 0o600) }
