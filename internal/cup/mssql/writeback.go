package mssql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/golang-sql/civil"
	mssqldrv "github.com/microsoft/go-mssqldb"

	"github.com/richiamo/richiamo/internal/cup"
)

// WriteBack is the statements a node's DBA provides so that the engine can
// change bookings in the CUP itself: each is parameterised T-SQL (typically
// EXEC of a stored procedure) run with named parameters only, never with
// values written into the text. An empty statement is an operation the node
// does not allow; the request then goes to the back office.
//
// Parameters: @code (codice_prenotazione), @node, @agenda, @at (the
// booking's appointment) and, for a move, @new_at; times are DATETIME2
// values of Europe/Rome wall-clock time, as the recall query's @from and
// @to. A book also gets @phone, @service_code and @priority.
type WriteBack struct {
	Cancel string
	Move   string
	Book   string
}

// ErrSlotTaken is a move or a booking refused because the slot is no longer
// free. The statement says so by failing with a unique-key violation (2601,
// 2627: a unique index on the agenda's slot) or with THROW 50001.
var ErrSlotTaken = errors.New("mssql: the slot is no longer free")

// ErrNoWriteBack is an operation the node declares no statement for.
var ErrNoWriteBack = errors.New("mssql: the node has no write-back statement for this")

// slotTakenErrors are the SQL Server error numbers that mean the slot is
// not free.
var slotTakenErrors = map[int32]bool{2601: true, 2627: true, 50001: true}

var (
	paramCode  = regexp.MustCompile(`(?i)@code\b`)
	paramAt    = regexp.MustCompile(`(?i)@at\b`)
	paramNewAt = regexp.MustCompile(`(?i)@new_at\b`)
	paramAgen  = regexp.MustCompile(`(?i)@agenda\b`)
)

// Validate reports the first statement that cannot work, naming its key
// under node.
func (w WriteBack) Validate(node string) error {
	key := func(k string) string { return fmt.Sprintf("cup.nodes[%s].write_back.%s", node, k) }
	check := func(k, stmt string, need ...*regexp.Regexp) error {
		if stmt == "" {
			return nil
		}
		if strings.Contains(stmt, "'") {
			// A value written into the text is what parameters are for;
			// a quote is the sign of one.
			return fmt.Errorf("%s: must use parameters, not quoted values", key(k))
		}
		for _, re := range need {
			if !re.MatchString(stmt) {
				return fmt.Errorf("%s: must use %s", key(k), strings.TrimSuffix(strings.TrimPrefix(re.String(), `(?i)`), `\b`))
			}
		}
		return nil
	}
	if err := check("cancel", w.Cancel, paramCode); err != nil {
		return err
	}
	if err := check("move", w.Move, paramCode, paramAt, paramNewAt); err != nil {
		return err
	}
	return check("book", w.Book, paramAgen, paramAt)
}

// Executor runs a node's write-back statements over its own connection: a
// write goes to the primary, never with the read-only intent of the reads.
type Executor struct {
	Node Node
	WB   WriteBack
}

// Can says whether the node declares the statement for op ("cancel",
// "move", "book").
func (x *Executor) Can(op string) bool {
	if x == nil {
		return false
	}
	switch op {
	case "cancel":
		return x.WB.Cancel != ""
	case "move":
		return x.WB.Move != ""
	case "book":
		return x.WB.Book != ""
	}
	return false
}

func rome(t time.Time) civil.DateTime { return civil.DateTimeOf(t.In(cup.Rome)) }

// Cancel runs the cancel statement for booking b.
func (x *Executor) Cancel(ctx context.Context, b cup.Booking) error {
	return x.exec(ctx, "cancel", x.WB.Cancel,
		sql.Named("code", b.Code), sql.Named("node", b.Node), sql.Named("agenda", b.Agenda), sql.Named("at", rome(b.At)))
}

// Move runs the move statement: booking b from oldAt to newAt. It returns
// ErrSlotTaken when the CUP refuses because the slot at newAt is not free.
func (x *Executor) Move(ctx context.Context, b cup.Booking, oldAt, newAt time.Time) error {
	return x.exec(ctx, "move", x.WB.Move,
		sql.Named("code", b.Code), sql.Named("node", b.Node), sql.Named("agenda", b.Agenda),
		sql.Named("at", rome(oldAt)), sql.Named("new_at", rome(newAt)))
}

// Book runs the book statement for b: its agenda and time, its number,
// service and priority, and the patient (@fiscal_code, @surname, @name,
// @birth_date, NULL when not known); @code is empty for a booking the CUP
// has not numbered yet. It returns ErrSlotTaken when the slot is not free.
func (x *Executor) Book(ctx context.Context, b cup.Booking) error {
	var born any // NULL
	if !b.BirthDate.IsZero() {
		born = civil.DateOf(b.BirthDate.In(cup.Rome))
	}
	return x.exec(ctx, "book", x.WB.Book,
		sql.Named("code", b.Code), sql.Named("node", b.Node), sql.Named("agenda", b.Agenda), sql.Named("at", rome(b.At)),
		sql.Named("phone", b.Phone), sql.Named("service_code", b.ServiceCode), sql.Named("priority", b.Priority),
		sql.Named("fiscal_code", b.FiscalCode), sql.Named("surname", b.Surname), sql.Named("name", b.Name),
		sql.Named("birth_date", born), sql.Named("facility", b.Facility))
}

func (x *Executor) exec(ctx context.Context, op, stmt string, args ...any) error {
	if stmt == "" {
		return ErrNoWriteBack
	}
	n := x.Node
	n.ReadOnlyIntent = false
	s, err := connect(ctx, n)
	if err != nil {
		return err
	}
	defer s.close()
	qctx, cancel := context.WithTimeout(ctx, n.queryTimeout())
	defer cancel()
	if _, err := s.conn.ExecContext(qctx, stmt, args...); err != nil {
		var sqlErr mssqldrv.Error
		if errors.As(err, &sqlErr) && slotTakenErrors[sqlErr.Number] {
			return fmt.Errorf("node %s: %s: %w", n.Name, op, ErrSlotTaken)
		}
		return fail(n, ctx, qctx, fmt.Sprintf("no answer to %s within %v", op, n.queryTimeout()), err)
	}
	return nil
}
