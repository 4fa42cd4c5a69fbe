package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/cup/mssql"
	"github.com/richiamo/richiamo/internal/group"
	"github.com/richiamo/richiamo/internal/offers"
)

// cupMover carries an accepted offer's move out through the node's
// write-back move statement. A node without one has no executor here, and
// its moves go to the back office as work items (offers.ErrNoMover).
type cupMover struct {
	exec map[string]*mssql.Executor
}

// CUPMover is the mover over the nodes that declare write_back.move, or
// nil when none does.
func CUPMover(exec map[string]*mssql.Executor) offers.Mover {
	m := cupMover{exec: able(exec, "move")}
	if len(m.exec) == 0 {
		return nil
	}
	return m
}

// able are the executors of exec whose node declares op's statement.
func able(exec map[string]*mssql.Executor, op string) map[string]*mssql.Executor {
	out := map[string]*mssql.Executor{}
	for name, x := range exec {
		if x.Can(op) {
			out[name] = x
		}
	}
	return out
}

func (m cupMover) Move(ctx context.Context, r offers.MoveRequest) error {
	x, ok := m.exec[r.Node]
	if !ok {
		return fmt.Errorf("node %s: %w", r.Node, offers.ErrNoMover)
	}
	err := x.Move(ctx, cup.Booking{Node: r.Node, Agenda: r.Agenda, Code: r.Code, At: r.From}, r.From, r.To)
	if errors.Is(err, mssql.ErrSlotTaken) {
		return fmt.Errorf("%w: %w", offers.ErrSlotTaken, err)
	}
	return err
}

// cupBooker books the clubs' sports-medicine visits through the nodes'
// write-back book statement.
type cupBooker struct {
	exec map[string]*mssql.Executor
}

// CUPBooker is the booker over the nodes that declare write_back.book, or
// nil when none does: the console then leaves the bookings to the back
// office ("Prenotazioni fatte nel CUP").
func CUPBooker(exec map[string]*mssql.Executor) group.Booker {
	b := cupBooker{exec: able(exec, "book")}
	if len(b.exec) == 0 {
		return nil
	}
	return b
}

func (b cupBooker) CanBook(node string) bool { return b.exec[node] != nil }

func (b cupBooker) Book(ctx context.Context, bk cup.Booking) error {
	x, ok := b.exec[bk.Node]
	if !ok {
		return fmt.Errorf("node %s: %w", bk.Node, mssql.ErrNoWriteBack)
	}
	err := x.Book(ctx, bk)
	if errors.Is(err, mssql.ErrSlotTaken) {
		return fmt.Errorf("%w: %w", group.ErrSlotTaken, err)
	}
	return err
}
