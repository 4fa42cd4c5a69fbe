package engine

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/cup/mssql"
	"github.com/richiamo/richiamo/internal/cup/mssql/tdstest"
	"github.com/richiamo/richiamo/internal/group"
	"github.com/richiamo/richiamo/internal/offers"
)

// An accepted offer's move goes through the node's write_back.move over
// TDS; the CUP refusing because the slot is taken is offers.ErrSlotTaken,
// and a node without the statement leaves the move to the back office.
func TestTheOffersMoveThroughTheNodesWriteBack(t *testing.T) {
	t.Parallel()
	nine := time.Date(2027, 3, 10, 9, 0, 0, 0, cup.Rome)
	ten := nine.Add(time.Hour)
	// SQL Server's datetime2 carries Rome's wall clock, without a zone.
	wall := func(t time.Time) time.Time {
		r := t.In(cup.Rome)
		return time.Date(r.Year(), r.Month(), r.Day(), r.Hour(), r.Minute(), 0, 0, time.UTC)
	}
	var mu sync.Mutex
	slots := map[string]time.Time{"B-1": wall(nine), "B-2": wall(ten)} // the CUP's agenda, by booking
	srv := tdstest.Start(t, tdstest.Options{Exec: func(q tdstest.Query) (int64, *tdstest.Error) {
		mu.Lock()
		defer mu.Unlock()
		code, _ := q.Params["code"].Value.(string)
		to, _ := q.Params["new_at"].Value.(time.Time)
		for c, at := range slots {
			if c != code && at.Equal(to) {
				return 0, &tdstest.Error{Number: 2627, State: 1, Class: 14, Message: "Violation of UNIQUE KEY constraint 'UQ_slot'."}
			}
		}
		slots[code] = to
		return 1, nil
	}})
	node := mssql.Node{Name: "ASL1", Server: srv.Host(), Port: srv.Port(), Database: srv.Database(), User: srv.User(), Password: srv.Password(),
		Encrypt: mssql.EncryptFalse, ConnectTimeout: 10 * time.Second, QueryTimeout: 10 * time.Second}
	exec := map[string]*mssql.Executor{
		"ASL1": {Node: node, WB: mssql.WriteBack{Move: "EXEC dbo.richiamo_sposta @codice = @code, @da = @at, @a = @new_at"}},
		"ASL2": {Node: node, WB: mssql.WriteBack{Cancel: "EXEC dbo.richiamo_annulla @codice = @code"}},
	}
	m := CUPMover(exec)
	if m == nil {
		t.Fatal("no mover although ASL1 declares write_back.move")
	}
	ctx := context.Background()
	// The CUP's front office gave 09:00 to B-1 meanwhile.
	if err := m.Move(ctx, offers.MoveRequest{Node: "ASL1", Code: "B-2", From: ten, To: nine}); !errors.Is(err, offers.ErrSlotTaken) {
		t.Errorf("a move into a taken slot: %v, want offers.ErrSlotTaken", err)
	}
	mu.Lock()
	delete(slots, "B-1") // cancelled in the CUP
	mu.Unlock()
	if err := m.Move(ctx, offers.MoveRequest{Node: "ASL1", Code: "B-2", From: ten, To: nine}); err != nil {
		t.Errorf("a move into a free slot: %v", err)
	}
	mu.Lock()
	if !slots["B-2"].Equal(wall(nine)) {
		t.Errorf("the CUP has B-2 at %v, want 09:00", slots["B-2"])
	}
	mu.Unlock()
	if err := m.Move(ctx, offers.MoveRequest{Node: "ASL2", Code: "C-1", From: ten, To: nine}); !errors.Is(err, offers.ErrNoMover) {
		t.Errorf("a node without write_back.move: %v, want offers.ErrNoMover", err)
	}
	if CUPMover(map[string]*mssql.Executor{"ASL2": exec["ASL2"]}) != nil {
		t.Error("a mover without any node that can move")
	}
}

// A club's athlete is booked through the node's write_back.book over TDS,
// with the agenda, the time as Rome's wall clock and the athlete's mobile;
// a slot the CUP says is taken is group.ErrSlotTaken.
func TestTheClubsVisitsAreBookedThroughTheNodesWriteBack(t *testing.T) {
	t.Parallel()
	nine := time.Date(2027, 3, 10, 9, 0, 0, 0, cup.Rome)
	var mu sync.Mutex
	var got []string
	srv := tdstest.Start(t, tdstest.Options{Exec: func(q tdstest.Query) (int64, *tdstest.Error) {
		mu.Lock()
		defer mu.Unlock()
		code, _ := q.Params["fiscal_code"].Value.(string)
		at, _ := q.Params["at"].Value.(time.Time)
		agenda, _ := q.Params["agenda"].Value.(string)
		ph, _ := q.Params["phone"].Value.(string)
		born, _ := q.Params["birth_date"].Value.(time.Time)
		if !born.IsZero() {
			ph += " " + born.Format(time.DateOnly)
		}
		if code == "TAKEN" {
			return 0, &tdstest.Error{Number: 50001, State: 1, Class: 16, Message: "slot taken"}
		}
		got = append(got, code+" "+agenda+" "+at.Format("2006-01-02 15:04")+" "+ph)
		return 1, nil
	}})
	node := mssql.Node{Name: "ASL1", Server: srv.Host(), Port: srv.Port(), Database: srv.Database(), User: srv.User(), Password: srv.Password(),
		Encrypt: mssql.EncryptFalse, ConnectTimeout: 10 * time.Second, QueryTimeout: 10 * time.Second}
	bk := CUPBooker(map[string]*mssql.Executor{
		"ASL1": {Node: node, WB: mssql.WriteBack{Book: "EXEC dbo.richiamo_prenota @agenda = @agenda, @ora = @at, @cf = @fiscal_code, @nascita = @birth_date, @cellulare = @phone"}},
		"ASL2": {Node: node, WB: mssql.WriteBack{Cancel: "EXEC dbo.richiamo_annulla @codice = @code"}},
	})
	if bk == nil || !bk.CanBook("ASL1") || bk.CanBook("ASL2") {
		t.Fatalf("booker %v: ASL1 books, ASL2 does not", bk)
	}
	ctx := context.Background()
	if err := bk.Book(ctx, cup.Booking{Node: "ASL1", Agenda: "MEDSPORT", FiscalCode: "TSTTST08A01H001K", At: nine, Phone: "+393335550001",
		BirthDate: time.Date(2008, 1, 1, 0, 0, 0, 0, cup.Rome)}); err != nil {
		t.Fatal(err)
	}
	if err := bk.Book(ctx, cup.Booking{Node: "ASL1", Agenda: "MEDSPORT", FiscalCode: "TAKEN", At: nine}); !errors.Is(err, group.ErrSlotTaken) {
		t.Errorf("a taken slot: %v, want group.ErrSlotTaken", err)
	}
	if err := bk.Book(ctx, cup.Booking{Node: "ASL2", Agenda: "MEDSPORT", Code: "X", At: nine}); !errors.Is(err, mssql.ErrNoWriteBack) {
		t.Errorf("a node without write_back.book: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[0] != "TSTTST08A01H001K MEDSPORT 2027-03-10 09:00 +393335550001 2008-01-01" {
		t.Errorf("the CUP was asked %q", got)
	}
	if CUPBooker(map[string]*mssql.Executor{"ASL2": {Node: node, WB: mssql.WriteBack{Cancel: "x @code"}}}) != nil {
		t.Error("a booker without any node that can book")
	}
}
