package web

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/phone"
	"github.com/richiamo/richiamo/internal/sms"
	"github.com/richiamo/richiamo/internal/store"
)

type deskData struct {
	Node     string
	Runs     []store.Run
	Days     []store.DayTally
	From, To string
}

func today(now time.Time) time.Time {
	n := now.In(cup.Rome)
	return time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, cup.Rome)
}

// dayRange reads ?dal= and ?al= (YYYY-MM-DD), defaulting to a week either
// side of today.
func dayRange(r *http.Request, now time.Time) (from, to string, err error) {
	t := today(now)
	from, to = r.URL.Query().Get("dal"), r.URL.Query().Get("al")
	if from == "" {
		from = t.AddDate(0, 0, -7).Format(store.DayLayout)
	}
	if to == "" {
		to = t.AddDate(0, 0, 7).Format(store.DayLayout)
	}
	for _, d := range []string{from, to} {
		if _, e := time.Parse(store.DayLayout, d); e != nil {
			return "", "", errStatus(http.StatusBadRequest, "La data %q non è nel formato aaaa-mm-gg.", d)
		}
	}
	return from, to, nil
}

func (c *Console) desk(w http.ResponseWriter, r *http.Request, s *session) error {
	from, to, err := dayRange(r, c.now())
	if err != nil {
		return err
	}
	d := deskData{Node: s.acct.Node, From: from, To: to}
	if d.Runs, err = c.st.Runs(r.Context(), s.acct.Node, 30); err != nil {
		return err
	}
	if d.Days, err = c.st.DayTallies(r.Context(), from, to, s.acct.Node); err != nil {
		return err
	}
	c.render(w, r, s, http.StatusOK, "promemoria", "Promemoria SMS", d)
	return nil
}

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errStatus(http.StatusNotFound, "Quello che cerca non esiste.")
	}
	return id, nil
}

// runFor loads an import the account may see: a CUP manager only those
// that covered its node.
func (c *Console) runFor(r *http.Request, s *session) (store.Run, error) {
	id, err := pathID(r)
	if err != nil {
		return store.Run{}, err
	}
	if s.acct.Node != "" {
		ok, err := c.st.RunCoversNode(r.Context(), id, s.acct.Node)
		if err != nil {
			return store.Run{}, err
		}
		if !ok {
			return store.Run{}, store.ErrNotFound
		}
	}
	return c.st.RunByID(r.Context(), id, s.acct.Node)
}

type runData struct {
	Node  string
	Run   store.Run
	Nodes []store.NodeRun
}

func (c *Console) run(w http.ResponseWriter, r *http.Request, s *session) error {
	run, err := c.runFor(r, s)
	if err != nil {
		return err
	}
	nodes, err := c.st.RunNodes(r.Context(), run.ID, s.acct.Node)
	if err != nil {
		return err
	}
	c.render(w, r, s, http.StatusOK, "importazione", fmt.Sprintf("Importazione n. %d", run.ID), runData{Node: s.acct.Node, Run: run, Nodes: nodes})
	return nil
}

type reasonGroup struct {
	Reason string
	Count  int
	Rows   []store.RejectionRow
	More   int
}

type rejectionsData struct {
	Run  store.Run
	Node string // a CUP manager's node: only its rows
	// NodeRejected counts the node's rows, of Run.Rejected in the file.
	NodeRejected int
	Groups       []reasonGroup
}

// shownPerReason bounds the rows listed under each reason; the export has
// them all.
const shownPerReason = 500

func (c *Console) rejections(w http.ResponseWriter, r *http.Request, s *session) error {
	run, err := c.runFor(r, s)
	if err != nil {
		return err
	}
	reasons, err := c.st.NodeRejectionReasons(r.Context(), run.ID, s.acct.Node)
	if err != nil {
		return err
	}
	d := rejectionsData{Run: run, Node: s.acct.Node}
	for _, rc := range reasons {
		rows, err := c.st.NodeRejectionsByReason(r.Context(), run.ID, s.acct.Node, rc.Reason, shownPerReason)
		if err != nil {
			return err
		}
		d.Groups = append(d.Groups, reasonGroup{Reason: rc.Reason, Count: rc.Rows, Rows: rows, More: rc.Rows - len(rows)})
		d.NodeRejected += rc.Rows
	}
	c.render(w, r, s, http.StatusOK, "scarti", fmt.Sprintf("Righe scartate dell'importazione n. %d", run.ID), d)
	return nil
}

// rejectionsCSV exports every rejected row of an import for the CUP to fix,
// with ';' and a byte-order mark so that Excel opens it as Italian users
// expect. The export is written to the audit log.
func (c *Console) rejectionsCSV(w http.ResponseWriter, r *http.Request, s *session) error {
	run, err := c.runFor(r, s)
	if err != nil {
		return err
	}
	rows, err := c.st.NodeRejections(r.Context(), run.ID, s.acct.Node, 10_000_000)
	if err != nil {
		return err
	}
	c.audit(r, s, actionExport, fmt.Sprintf("importazione %d", run.ID), fmt.Sprintf("righe scartate in CSV: %d", len(rows)))
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	name := fmt.Sprintf("scarti-importazione-%d", run.ID)
	if s.acct.Node != "" {
		name += "-" + safeFileName(s.acct.Node)
	}
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.csv"`, name))
	_, _ = w.Write([]byte("\ufeff"))
	cw := csv.NewWriter(w)
	cw.Comma = ';'
	_ = cw.Write([]string{"file", "riga", "motivo", "descrizione", "cosa correggere", "dettaglio"})
	for _, rj := range rows {
		_ = cw.Write([]string{rj.File, strconv.Itoa(rj.Line), rj.Reason, reasonLabel(rj.Reason), reasonFix(rj.Reason), csvSafe(detailText(rj.Detail))})
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe keeps a cell from being read as a formula by a spreadsheet.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

type failureRow struct {
	store.DeliveryFailure
	Masked string
	Reason string
}

type failuresData struct {
	Node     string
	From, To string
	Rows     []failureRow
}

func (c *Console) failures(w http.ResponseWriter, r *http.Request, s *session) error {
	from, to, err := dayRange(r, c.now())
	if err != nil {
		return err
	}
	fs, err := c.st.DeliveryFailures(r.Context(), store.FailureFilter{FromDay: from, ToDay: to, Node: s.acct.Node, Limit: 1000})
	if err != nil {
		return err
	}
	d := failuresData{Node: s.acct.Node, From: from, To: to}
	for _, f := range fs {
		reason := sms.ErrorText(f.ErrorCode)
		if reason == "" {
			reason = f.Error
		}
		if reason == "" {
			reason = "motivo non indicato dal gestore"
		}
		d.Rows = append(d.Rows, failureRow{DeliveryFailure: f, Masked: phone.Mask(f.Phone), Reason: reason})
	}
	c.render(w, r, s, http.StatusOK, "mancate", "Mancate consegne", d)
	return nil
}

type foundBooking struct {
	store.BookingFound
	Masked  string
	Patient string
}

type searchData struct {
	Code     string
	Searched bool
	Found    []foundBooking
}

func (c *Console) search(w http.ResponseWriter, r *http.Request, s *session) error {
	code := strings.TrimSpace(r.URL.Query().Get("codice"))
	d := searchData{Code: code}
	if code != "" {
		if len(code) > 64 {
			return errStatus(http.StatusBadRequest, "Il codice di prenotazione è troppo lungo.")
		}
		found, err := c.st.FindBookings(r.Context(), code, s.acct.Node)
		if err != nil {
			return err
		}
		c.audit(r, s, actionSearch, "prenotazione "+code, fmt.Sprintf("trovate: %d", len(found)))
		d.Searched = true
		for _, b := range found {
			fb := foundBooking{BookingFound: b, Masked: phone.Mask(b.Phone), Patient: patientName(b, s.acct.Role)}
			d.Found = append(d.Found, fb)
		}
	}
	c.render(w, r, s, http.StatusOK, "cerca", "Cerca una prenotazione", d)
	return nil
}

// patientName shows the patient's name to those who deal with patients and
// only initials to an auditor, who checks the work, not the person.
func patientName(b store.BookingFound, role Role) string {
	if role != RoleAuditor {
		return strings.TrimSpace(b.Surname + " " + b.Name)
	}
	initial := func(s string) string {
		for _, r := range s {
			return string(r) + "."
		}
		return ""
	}
	return strings.TrimSpace(initial(b.Surname) + " " + initial(b.Name))
}
