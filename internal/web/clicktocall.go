package web

import (
	"context"
	"fmt"
	"net/http"

	"github.com/richiamo/richiamo/internal/phone"
	"github.com/richiamo/richiamo/internal/store"
)

// ConsoleCalls places the calls of "Chiama": the engine rings the
// operator's extension, then the patient, and joins the two.
type ConsoleCalls interface {
	// HasExtension says whether account has an extension to be rung.
	HasExtension(account string) bool
	// Call starts account's call to the patient of it; an error is a
	// sentence for the operator. ended, when not nil, is told the call's
	// last state once both legs are over (from another goroutine).
	Call(ctx context.Context, account string, it store.WorkItem, ended func(ConsoleCall)) error
	// State is account's latest call.
	State(account string) (ConsoleCall, bool)
}

// ConsoleCall is how an operator's call from the console is going.
type ConsoleCall struct {
	ItemID int64
	// State is one of voice's bridge states: ringing_operator,
	// calling_patient, connected, ended.
	State string
	// Outcome is the patient's leg's once ended ('' if never called);
	// OperatorOutcome the operator's.
	Outcome, OperatorOutcome string
}

// callView is the call shown on an item's page.
type callView struct {
	CanCall bool   // the viewer has an extension and holds the item
	State   string // in Italian; empty without a call for this item
	Live    bool   // under way: the page reloads itself
}

// callStates are the bridge's states in Italian.
var callStates = map[string]string{
	"ringing_operator": "Squilla il suo interno",
	"calling_patient":  "Squilla il telefono del paziente",
	"connected":        "Chiamata in corso",
}

// itemCall is the call part of it's page for s's account.
func (c *Console) itemCall(it store.WorkItem, s *session, canAct bool) callView {
	calls := c.cfg.Calls
	if calls == nil || !calls.HasExtension(s.acct.Name) {
		return callView{}
	}
	v := callView{CanCall: canAct && it.Phone != ""}
	st, ok := calls.State(s.acct.Name)
	if !ok || st.ItemID != it.ID {
		return v
	}
	if l, ok := callStates[st.State]; ok {
		v.State, v.Live, v.CanCall = l, true, false
		return v
	}
	v.State = "Terminata: " + endText(st)
	return v
}

// endText is how a console call ended, as the operator reads it.
func endText(st ConsoleCall) string {
	switch {
	case st.Outcome != "":
		return callLabel(st.Outcome)
	case st.OperatorOutcome != "":
		return "il suo interno non ha risposto (" + callLabel(st.OperatorOutcome) + "); il paziente non è stato chiamato"
	}
	return "chiamata non riuscita"
}

// callPatient is "Chiama": the engine rings the operator's extension,
// then the patient. Only the operator holding the item may call.
func (c *Console) callPatient(w http.ResponseWriter, r *http.Request, s *session) error {
	it, err := c.workItem(r, s)
	if err != nil {
		return err
	}
	calls := c.cfg.Calls
	if calls == nil || !calls.HasExtension(s.acct.Name) {
		return errStatus(http.StatusForbidden, "Al suo account non è associato alcun interno: chiami dal suo telefono.")
	}
	if !it.Open() || it.ClaimedBy != s.acct.Name {
		return errStatus(http.StatusConflict, "Prenda in carico l'elemento prima di chiamare.")
	}
	if it.Phone == "" {
		return errStatus(http.StatusConflict, "L'elemento non ha un numero da chiamare.")
	}
	// The audit log names the call and its end: who called which item's
	// patient, the number masked as everywhere in the log.
	by := Actor{Name: s.acct.Name, Role: string(s.acct.Role), Remote: c.clientIP(r)}
	target, number := itemTarget(it), "numero "+phone.Mask(it.Phone)
	ended := func(st ConsoleCall) {
		if err := audit(context.Background(), c.st, by, c.now(), actionConsoleCall, target, number+", terminata: "+endText(st)); err != nil {
			c.log.Error("audit log not written", "action", actionConsoleCall, "err", err)
		}
	}
	if err := calls.Call(r.Context(), s.acct.Name, it, ended); err != nil {
		return errStatus(http.StatusConflict, "%s", err.Error())
	}
	c.audit(r, s, actionConsoleCall, target, number+", chiamata avviata")
	http.Redirect(w, r, fmt.Sprintf("/lavoro/%d", it.ID), http.StatusSeeOther)
	return nil
}
