package urgent

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/store"
)

// ResultColumns are the header of the CUP manager's result file.
var ResultColumns = []string{"nodo", "codice_prenotazione", "data_appuntamento", "esito", "numero", "numeri_provati",
	"scelta", "azione", "sms", "lavorazione"}

// Result is one booking of a move as the CUP manager sees it.
type Result struct {
	Node, Code  string
	BookingAt   string // DD/MM/YYYY HH:MM
	Outcome     string // in corso, raggiunto, non raggiunto
	Phone       string // the number that reached the patient
	Tried       string // "2 di 3"
	Choice      string
	Action      string // the move to make in the CUP, or the work left for people
	SMS         string
	WorkItem    int64
	State       string // the stored state, for machines
	ChoiceCode  string // accepted, operator or ""
	NumberCount int
}

// Results reads a move's bookings as they stand.
func Results(ctx context.Context, st MoveStore, move int64) (store.UrgentMove, []Result, error) {
	m, err := st.UrgentMoveByID(ctx, move)
	if err != nil {
		return store.UrgentMove{}, nil, err
	}
	ts, err := st.UrgentTargets(ctx, move)
	if err != nil {
		return store.UrgentMove{}, nil, err
	}
	out := make([]Result, 0, len(ts))
	for _, t := range ts {
		ns := t.Numbers()
		r := Result{Node: t.Node, Code: t.Code, BookingAt: store.FromMillis(t.BookingAt).In(cup.Rome).Format("02/01/2006 15:04"),
			Phone: t.ReachedPhone, WorkItem: t.WorkItemID, State: t.State, ChoiceCode: t.Choice, NumberCount: len(ns)}
		if len(ns) > 0 {
			r.Tried = fmt.Sprintf("%d di %d", min(t.Tried+1, len(ns)), len(ns))
		} else {
			r.Tried = "0 di 0"
		}
		switch t.State {
		case store.UrgentCalling:
			r.Outcome = "in corso"
		case store.UrgentReached:
			r.Outcome = "raggiunto"
			switch t.Choice {
			case ChoiceAccepted:
				r.Choice = "accetta la nuova data"
				r.Action = "spostare nel CUP al " + store.FromMillis(m.NewAt).In(cup.Rome).Format("02/01/2006 15:04")
			case ChoiceOperator:
				r.Choice = "chiede un operatore"
				r.Action = "richiamare il paziente"
			default:
				r.Choice = "nessuna scelta"
				r.Action = "richiamare il paziente"
			}
		case store.UrgentExpired:
			r.Outcome = "non raggiunto"
			r.Action = "termine scaduto: richiamare il paziente"
		case store.UrgentNoNumber:
			r.Outcome = "non raggiunto"
			r.Action = "trovare un numero"
		}
		switch t.MessageStatus {
		case "":
			r.SMS = "nessuno"
		case "planned", "claimed", "sending", "unknown":
			r.SMS = "da inviare"
		case "sent":
			r.SMS = "inviato"
		case "delivered":
			r.SMS = "consegnato"
		case "expired", "withdrawn":
			r.SMS = "non inviato"
		default:
			r.SMS = "non consegnato"
		}
		out = append(out, r)
	}
	return m, out, nil
}

// WriteResultCSV writes the CUP manager's result file: one row per booking
// of the move, ';' separated, as their spreadsheets read it.
func WriteResultCSV(w io.Writer, rs []Result) error {
	cw := csv.NewWriter(w)
	cw.Comma = ';'
	if err := cw.Write(ResultColumns); err != nil {
		return err
	}
	for _, r := range rs {
		work := ""
		if r.WorkItem != 0 {
			work = strconv.FormatInt(r.WorkItem, 10)
		}
		if err := cw.Write([]string{cell(r.Node), cell(r.Code), r.BookingAt, r.Outcome, r.Phone, r.Tried, r.Choice, r.Action, r.SMS, work}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// cell keeps a cell that came from outside from being read as a formula.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
