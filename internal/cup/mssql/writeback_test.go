package mssql_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/cup/mssql"
	"github.com/richiamo/richiamo/internal/cup/mssql/tdstest"
)

// recallQuery is the shape of recall query the documentation asks for.
const recallQuery = `SELECT nodo, agenda, codice_prenotazione, cellulare, data_ora_appuntamento,
       codice_prestazione, prestazione, tipo_prestazione, struttura, indirizzo,
       classe_priorita, data_prenotazione, cognome, nome
  FROM dbo.richiamo_prenotazioni
 WHERE data_ora_appuntamento >= @from AND data_ora_appuntamento < @to
   AND agenda IN (SELECT value FROM STRING_SPLIT(@agende, ','))`

func TestRecallQueryReadsOnlyItsAgendasAndKeepsLandlines(t *testing.T) {
	t.Parallel()
	other := booking("ASL1", "B-OTHER", "+393331110003", wall(2026, 3, 10, 9, 0), "Verdi", "Anna")
	other[1] = "ECO-ADDOME"
	b := setup(t, "ASL1", [][]any{
		booking("ASL1", "B-MOBILE", "+393331110001", wall(2026, 3, 10, 8, 30), "Rossi", "Mario"),
		booking("ASL1", "B-LANDLINE", "075 8521234", wall(2026, 3, 10, 11, 0), "Bianchi", "Luca"),
		other,
	})
	res, err := mssql.FetchRecall(context.Background(), b.node, recallQuery, []string{"RX-TORACE"}, from, to)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	var codes []string
	for _, bk := range res.Bookings() {
		codes = append(codes, bk.Code+" "+bk.Phone)
	}
	want := []string{"B-MOBILE +393331110001", "B-LANDLINE +390758521234"}
	if !slices.Equal(codes, want) {
		t.Errorf("bookings %q, want %q", codes, want)
	}
	q := b.srv.Queries()
	last := q[len(q)-1]
	if p := last.Params["agende"]; p.Value != "RX-TORACE" {
		t.Errorf("@agende sent as %#v, want the codes as a parameter", p)
	}
}

func TestRecallQueryMustTakeTheAgendas(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ q, want string }{
		{"", "empty"},
		{"SELECT * FROM v WHERE agenda IN (SELECT value FROM STRING_SPLIT(@agende, ','))", "@from and @to"},
		{query, "@agende"},
	} {
		err := mssql.ValidateRecallQuery("ASL1", tt.q)
		if err == nil || !strings.Contains(err.Error(), "cup.nodes[ASL1].recall_query") || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: got %v, want an error naming the key and saying %s", tt.q, err, tt.want)
		}
	}
}

// slots is the CUP's side of a write-back test: which booking holds which
// slot of the agenda, with the unique index the DBA's procedure relies on.
type slots struct {
	mu     sync.Mutex
	byCode map[string]time.Time
	calls  []tdstest.Query
}

func (s *slots) exec(q tdstest.Query) (int64, *tdstest.Error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, q)
	code, _ := q.Params["code"].Value.(string)
	text := strings.ToLower(q.Text)
	switch {
	case strings.Contains(text, "annulla"):
		if _, ok := s.byCode[code]; !ok {
			return 0, &tdstest.Error{Number: 50002, State: 1, Class: 16, Message: "Prenotazione inesistente."}
		}
		delete(s.byCode, code)
		return 1, nil
	case strings.Contains(text, "sposta"), strings.Contains(text, "prenota"):
		at, _ := q.Params["new_at"].Value.(time.Time)
		if strings.Contains(text, "prenota") {
			at, _ = q.Params["at"].Value.(time.Time)
		}
		for c, t := range s.byCode {
			if t.Equal(at) && c != code {
				return 0, &tdstest.Error{Number: 2627, State: 1, Class: 14,
					Message: "Violation of UNIQUE KEY constraint 'UQ_slot'. Cannot insert duplicate key. The duplicate key value is (" + c + ")."}
			}
		}
		s.byCode[code] = at
		return 1, nil
	}
	return 0, &tdstest.Error{Number: 2812, State: 62, Class: 16, Message: "Could not find stored procedure."}
}

func TestWriteBackOverTDS(t *testing.T) {
	t.Parallel()
	cup9 := wall(2026, 3, 10, 9, 0)
	cup10 := wall(2026, 3, 10, 10, 0)
	s := &slots{byCode: map[string]time.Time{"B-1": cup9, "B-2": cup10}}
	b := setupWith(t, "ASL1", tdstest.Options{Columns: columns, Encryption: tdstest.EncryptionOffered, Exec: s.exec})
	x := &mssql.Executor{Node: b.node, WB: mssql.WriteBack{
		Cancel: "EXEC dbo.richiamo_annulla @codice = @code, @agenda = @agenda",
		Move:   "EXEC dbo.richiamo_sposta @codice = @code, @da = @at, @a = @new_at",
		Book:   "EXEC dbo.richiamo_prenota @codice = @code, @agenda = @agenda, @quando = @at",
	}}
	if err := x.WB.Validate("ASL1"); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	at := func(w time.Time) time.Time {
		return time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), 0, 0, cup.Rome)
	}
	bk := func(code string, w time.Time) cup.Booking {
		return cup.Booking{Node: "ASL1", Code: code, Agenda: "RX-TORACE", At: at(w)}
	}

	t.Run("a move into a slot taken fails with ErrSlotTaken", func(t *testing.T) {
		err := x.Move(ctx, bk("B-2", cup10), at(cup10), at(cup9))
		if !errors.Is(err, mssql.ErrSlotTaken) {
			t.Fatalf("got %v, want ErrSlotTaken", err)
		}
		if strings.Contains(err.Error(), "B-1") {
			t.Errorf("the error quotes a booking code: %v", err)
		}
	})
	t.Run("a cancel frees the slot and a move into it succeeds", func(t *testing.T) {
		if err := x.Cancel(ctx, bk("B-1", cup9)); err != nil {
			t.Fatal(err)
		}
		if err := x.Move(ctx, bk("B-2", cup10), at(cup10), at(cup9)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a booking into a taken slot fails with ErrSlotTaken", func(t *testing.T) {
		if err := x.Book(ctx, bk("B-3", cup9)); !errors.Is(err, mssql.ErrSlotTaken) {
			t.Fatalf("got %v, want ErrSlotTaken", err)
		}
		if err := x.Book(ctx, bk("B-3", cup10)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("another error is a failure, not a taken slot", func(t *testing.T) {
		err := x.Cancel(ctx, bk("B-404", cup9))
		if err == nil || errors.Is(err, mssql.ErrSlotTaken) {
			t.Fatalf("got %v, want a failure", err)
		}
	})

	s.mu.Lock()
	defer s.mu.Unlock()
	for _, q := range s.calls {
		if !q.RPC || strings.Contains(q.Text, "B-") {
			t.Errorf("statement %q was not sent with parameters", q.Text)
		}
	}
	first := s.calls[0]
	if v, _ := first.Params["new_at"].Value.(time.Time); !v.Equal(cup9) {
		t.Errorf("@new_at = %v, want the Europe/Rome wall clock %v", v, cup9)
	}
}

func TestNoStatementIsNoWriteBack(t *testing.T) {
	t.Parallel()
	x := &mssql.Executor{Node: mssql.Node{Name: "ASL1"}}
	if x.Can("cancel") {
		t.Error("Can(cancel) with no statement")
	}
	if err := x.Cancel(context.Background(), cup.Booking{Code: "B"}); !errors.Is(err, mssql.ErrNoWriteBack) {
		t.Errorf("got %v, want ErrNoWriteBack", err)
	}
}

func TestWriteBackStatementsAreChecked(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		wb   mssql.WriteBack
		want string
	}{
		{mssql.WriteBack{Cancel: "EXEC dbo.annulla @codice = 'X'"}, "write_back.cancel: must use parameters"},
		{mssql.WriteBack{Cancel: "EXEC dbo.annulla"}, "write_back.cancel: must use @code"},
		{mssql.WriteBack{Move: "EXEC dbo.sposta @code, @at"}, "write_back.move: must use @new_at"},
		{mssql.WriteBack{Book: "EXEC dbo.prenota @at"}, "write_back.book: must use @agenda"},
	} {
		err := tt.wb.Validate("ASL1")
		if err == nil || !strings.Contains(err.Error(), "cup.nodes[ASL1]."+tt.want) {
			t.Errorf("%+v: got %v, want %q", tt.wb, err, tt.want)
		}
	}
}
