package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/group"
	"github.com/richiamo/richiamo/internal/phone"
	"github.com/richiamo/richiamo/internal/store"
)

// Medicina dello sport: a team leader uploads a club's list of athletes
// and the slots the facility agreed, sees the plan group.Make makes of
// them, confirms it, downloads the booking list for the CUP and the
// club's confirmation list, says when the bookings are made in the CUP
// (or has the node's write-back book them) so that each athlete is told
// by SMS once, and uploads the club's changed list to re-plan only what
// changed.

// groupStore is what the group bookings' pages need.
type groupStore interface {
	CreateGroupPlan(ctx context.Context, p store.GroupPlan, slots []store.GroupSlot, as []store.GroupAssignment, now time.Time) (int64, error)
	GroupPlans(ctx context.Context, drafts bool, limit int) ([]store.GroupPlan, error)
	GroupPlanByID(ctx context.Context, id int64) (store.GroupPlan, error)
	GroupSlots(ctx context.Context, id int64) ([]store.GroupSlot, error)
	GroupAssignments(ctx context.Context, id int64) ([]store.GroupAssignment, error)
	ConfirmGroupPlan(ctx context.Context, id int64, by string, now time.Time) error
	BookGroupAssignments(ctx context.Context, id int64, bs []store.GroupBooked, by string, now time.Time) (booked, queued int, err error)
	ClaimGroupBookings(ctx context.Context, id int64, fiscalCodes []string, now time.Time, lease time.Duration) ([]string, error)
	ReleaseGroupBookings(ctx context.Context, id int64, fiscalCodes []string) error
	KnownNodes(ctx context.Context) ([]string, error)
}

// MaxUploadBody bounds an upload of a club's list and the agreed slots:
// a list of a thousand athletes is about 100 KiB.
const MaxUploadBody = 1 << 20

const groupListRows = 100

// groupBookLease is how long a console's claim on an athlete it is booking
// through the write-back lasts: far longer than a request, so that a claim
// outlives its booking only when the process stopped half-way.
const groupBookLease = 15 * time.Minute

// The names the uploaded files go by in messages: the names the browser
// sends are the user's, and are not repeated.
const (
	athletesName = "elenco degli atleti"
	slotsName    = "orari concordati"
)

// isUpload says whether r sends files to the group bookings' pages, the
// only routes that take a multipart body (up to MaxUploadBody).
func isUpload(r *http.Request) bool {
	if r.Method != http.MethodPost {
		return false
	}
	if r.URL.Path == "/gruppi" {
		return true
	}
	id, ok := strings.CutPrefix(r.URL.Path, "/gruppi/")
	if !ok {
		return false
	}
	if id, ok = strings.CutSuffix(id, "/lista"); !ok || id == "" || len(id) > 18 {
		return false
	}
	return strings.Trim(id, "0123456789") == ""
}

// parseUpload reads an upload's form and files into memory: the body is
// bounded below what ParseMultipartForm keeps in memory, so nothing is
// written to temporary files.
func (c *Console) parseUpload(w http.ResponseWriter, r *http.Request, s *session) bool {
	tooLarge := fmt.Sprintf("I file caricati superano %d KiB: non sono un elenco di una società.", MaxUploadBody>>10)
	if r.ContentLength > MaxUploadBody {
		w.Header().Set("Connection", "close")
		c.renderError(w, r, s, http.StatusRequestEntityTooLarge, tooLarge)
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxUploadBody)
	if err := r.ParseMultipartForm(MaxUploadBody + 1); err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			c.renderError(w, r, s, http.StatusRequestEntityTooLarge, tooLarge)
			return false
		}
		c.renderError(w, r, s, http.StatusBadRequest, "Modulo non valido: ricarichi la pagina e riprovi.")
		return false
	}
	return true
}

// uploaded is a file of the form, or nil when none was chosen.
func uploaded(r *http.Request, field string) ([]byte, error) {
	if r.MultipartForm == nil || len(r.MultipartForm.File[field]) == 0 {
		return nil, nil
	}
	fh := r.MultipartForm.File[field][0]
	if fh.Size == 0 {
		return nil, nil
	}
	f, err := fh.Open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, MaxUploadBody))
}

func dropUpload(r *http.Request) {
	if r.MultipartForm != nil {
		_ = r.MultipartForm.RemoveAll()
	}
}

type groupRow struct {
	store.GroupPlan
	Href string
}

type groupListData struct {
	Rows   []groupRow
	Nodes  []string
	Error  string
	Node   string
	Agenda string
	// Rejected are the rows of a list that gave no athlete at all.
	Rejected []groupRejection
}

type groupRejection struct {
	File string
	Line int
	Text string
}

func groupRejections(rs []cup.Rejection) []groupRejection {
	out := make([]groupRejection, 0, len(rs))
	for _, r := range rs {
		out = append(out, groupRejection{File: r.File, Line: r.Line, Text: group.RejectionText(r)})
	}
	return out
}

func (c *Console) groups(w http.ResponseWriter, r *http.Request, s *session) error {
	return c.renderGroups(w, r, s, http.StatusOK, groupListData{})
}

func (c *Console) renderGroups(w http.ResponseWriter, r *http.Request, s *session, status int, d groupListData) error {
	ps, err := c.st.GroupPlans(r.Context(), false, groupListRows)
	if err != nil {
		return err
	}
	for _, p := range ps {
		d.Rows = append(d.Rows, groupRow{GroupPlan: p, Href: fmt.Sprintf("/gruppi/%d", p.ID)})
	}
	if d.Nodes, err = c.st.KnownNodes(r.Context()); err != nil {
		return err
	}
	c.render(w, r, s, status, "gruppi", "Medicina dello sport", d)
	return nil
}

// readGroupFiles reads the uploaded list and, when given, the slots; msg
// is the Italian reason the upload cannot be planned at all.
func (c *Console) readGroupFiles(r *http.Request, slotsRequired bool) (list []group.Athlete, slots []group.Slot, haveSlots bool, rejs []cup.Rejection, msg string, err error) {
	ab, err := uploaded(r, "atleti")
	if err != nil {
		return nil, nil, false, nil, "", err
	}
	sb, err := uploaded(r, "orari")
	if err != nil {
		return nil, nil, false, nil, "", err
	}
	if ab == nil || (slotsRequired && sb == nil) {
		if slotsRequired {
			return nil, nil, false, nil, "Scelga il file degli atleti e quello degli orari concordati con la struttura.", nil
		}
		return nil, nil, false, nil, "Scelga il file con l'elenco modificato degli atleti.", nil
	}
	fileMsg := func(err error) string {
		var fe *group.FileError
		if errors.As(err, &fe) {
			return fe.Italian
		}
		return "Il file non si legge come elenco CSV."
	}
	list, rj, err := group.ReadAthletes(bytes.NewReader(ab), athletesName)
	if err != nil {
		return nil, nil, false, nil, fileMsg(err), nil
	}
	rejs = append(rejs, rj...)
	if sb != nil {
		ss, rj, err := group.ReadSlots(bytes.NewReader(sb), slotsName, c.now())
		if err != nil {
			return nil, nil, false, nil, fileMsg(err), nil
		}
		slots, haveSlots, rejs = ss, true, append(rejs, rj...)
	}
	if len(list) == 0 {
		return nil, nil, false, rejs, "Nessuna riga dell'elenco degli atleti si può usare: le corregga e carichi di nuovo il file.", nil
	}
	if len(list) > store.MaxGroupAthletes {
		return nil, nil, false, nil, fmt.Sprintf("L'elenco ha %d atleti: al massimo %d per piano.", len(list), store.MaxGroupAthletes), nil
	}
	return list, slots, haveSlots, rejs, "", nil
}

// clubName names a plan by the clubs of its list.
func clubName(list []group.Athlete) string {
	var clubs []string
	for _, a := range list {
		if !slices.Contains(clubs, a.Club) {
			clubs = append(clubs, a.Club)
		}
	}
	slices.Sort(clubs)
	n := strings.Join(clubs, ", ")
	if utf8.RuneCountInString(n) > 200 {
		n = string([]rune(n)[:199]) + "…"
	}
	return n
}

// uploadGroup plans a club's list on the agreed slots and keeps the plan
// as a draft for the team leader to look at and confirm.
func (c *Console) uploadGroup(w http.ResponseWriter, r *http.Request, s *session) error {
	defer dropUpload(r)
	d := groupListData{Node: strings.TrimSpace(r.PostFormValue("nodo")), Agenda: strings.TrimSpace(r.PostFormValue("agenda"))}
	nodes, err := c.st.KnownNodes(r.Context())
	if err != nil {
		return err
	}
	switch {
	case d.Node != "" && !slices.Contains(nodes, d.Node):
		d.Error = "Scelga un nodo CUP dell'elenco."
	case utf8.RuneCountInString(d.Agenda) > maxAgenda:
		d.Error = fmt.Sprintf("Il codice dell'agenda supera %d caratteri.", maxAgenda)
	}
	if d.Error != "" {
		return c.renderGroups(w, r, s, http.StatusBadRequest, d)
	}
	list, slots, _, rejs, msg, err := c.readGroupFiles(r, true)
	if err != nil {
		return err
	}
	if msg != "" {
		d.Error, d.Rejected = msg, groupRejections(rejs)
		return c.renderGroups(w, r, s, http.StatusBadRequest, d)
	}
	p := group.Make(list, slots)
	id, err := c.storePlan(r, s, 0, d.Node, d.Agenda, list, slots, p, rejs)
	if err != nil {
		return err
	}
	c.audit(r, s, actionGroup, fmt.Sprintf("piano di gruppo %d", id),
		fmt.Sprintf("%d atleti, %d assegnati in %d giorni, %d righe scartate", len(list), len(p.Assigned), len(p.Days), len(rejs)))
	http.Redirect(w, r, fmt.Sprintf("/gruppi/%d?esito=piano-pronto", id), http.StatusSeeOther)
	return nil
}

func (c *Console) storePlan(r *http.Request, s *session, previous int64, node, agenda string, list []group.Athlete, slots []group.Slot, p group.Plan, rejs []cup.Rejection) (int64, error) {
	if rejs == nil {
		rejs = []cup.Rejection{}
	}
	rj, err := json.Marshal(rejs)
	if err != nil {
		return 0, err
	}
	ss, as := group.StoreRows(list, slots, p)
	return c.st.CreateGroupPlan(r.Context(), store.GroupPlan{PreviousID: previous, Club: clubName(list), Node: node, Agenda: agenda,
		Days: len(p.Days), Rejected: string(rj), CreatedBy: s.acct.Name}, ss, as, c.now())
}

// replanGroup plans the club's changed list against a confirmed plan,
// keeping what did not change; the draft shows what moved, was added or
// dropped before it is confirmed.
func (c *Console) replanGroup(w http.ResponseWriter, r *http.Request, s *session) error {
	defer dropUpload(r)
	id, err := pathID(r)
	if err != nil {
		return err
	}
	prev, err := c.st.GroupPlanByID(r.Context(), id)
	if err != nil {
		return err
	}
	if prev.State != store.GroupConfirmed {
		return errStatus(http.StatusConflict, "Si modifica solo il piano in vigore: questo è una bozza o è stato sostituito.")
	}
	list, slots, haveSlots, rejs, msg, err := c.readGroupFiles(r, false)
	if err != nil {
		return err
	}
	if msg != "" {
		return c.renderGroupPage(w, r, s, http.StatusBadRequest, prev, msg, groupRejections(rejs))
	}
	ss, err := c.st.GroupSlots(r.Context(), id)
	if err != nil {
		return err
	}
	as, err := c.st.GroupAssignments(r.Context(), id)
	if err != nil {
		return err
	}
	if !haveSlots {
		kept, _ := group.FromStore(ss, nil)
		now := c.now()
		for _, sl := range kept {
			if sl.At.After(now) {
				slots = append(slots, sl)
			}
		}
	}
	p, dropped := group.Replan(group.PreviousOf(as), list, slots)
	nid, err := c.storePlan(r, s, id, prev.Node, prev.Agenda, list, slots, p, rejs)
	if err != nil {
		return err
	}
	c.audit(r, s, actionGroup, fmt.Sprintf("piano di gruppo %d", nid),
		fmt.Sprintf("lista modificata del piano %d: %d atleti, %d con un nuovo orario, %d tolti", id, len(list), len(p.Changed), len(dropped)))
	http.Redirect(w, r, fmt.Sprintf("/gruppi/%d?esito=piano-pronto", nid), http.StatusSeeOther)
	return nil
}

// groupAthlete is one athlete of the plan's page.
type groupAthlete struct {
	Name, Club, Type, FiscalCode, Phone string
	At                                  time.Time
	Place                               string
	Booked                              bool
	// Change is, for a changed list, "nuovo", "spostato" or "" (kept);
	// Was is the slot it had.
	Change string
	Was    time.Time
	Reason string
}

type groupDay struct {
	Day      string
	Athletes int
}

type groupData struct {
	Plan      groupRow
	State     string
	Days      []groupDay
	Athletes  []groupAthlete
	Unplaced  []groupAthlete
	Dropped   []groupAthlete
	Rejected  []groupRejection
	Previous  string
	Moved     int
	Added     int
	ToCancel  int // visits booked under the plan before that this one gives up
	CanAct    bool
	WriteBack bool
	Error     string
}

var groupStates = map[string]string{
	store.GroupDraft:     "bozza da confermare",
	store.GroupConfirmed: "confermato",
	store.GroupReplaced:  "sostituito da una lista modificata",
}

func (c *Console) groupFor(r *http.Request) (store.GroupPlan, error) {
	id, err := pathID(r)
	if err != nil {
		return store.GroupPlan{}, err
	}
	return c.st.GroupPlanByID(r.Context(), id)
}

func (c *Console) groupPage(w http.ResponseWriter, r *http.Request, s *session) error {
	p, err := c.groupFor(r)
	if err != nil {
		return err
	}
	return c.renderGroupPage(w, r, s, http.StatusOK, p, "", nil)
}

func athleteName(a store.GroupAssignment) string { return a.Surname + " " + a.Name }

func (c *Console) renderGroupPage(w http.ResponseWriter, r *http.Request, s *session, status int, p store.GroupPlan, msg string, rejected []groupRejection) error {
	as, err := c.st.GroupAssignments(r.Context(), p.ID)
	if err != nil {
		return err
	}
	d := groupData{Plan: groupRow{GroupPlan: p, Href: fmt.Sprintf("/gruppi/%d", p.ID)}, State: groupStates[p.State], Error: msg, Rejected: rejected,
		CanAct: s.acct.can(permGroups), WriteBack: c.canWriteBack(p)}
	if d.Rejected == nil {
		var rs []cup.Rejection
		if err := json.Unmarshal([]byte(p.Rejected), &rs); err != nil {
			return fmt.Errorf("group plan %d: rejected rows: %w", p.ID, err)
		}
		d.Rejected = groupRejections(rs)
	}
	var was map[string]store.GroupAssignment
	if p.PreviousID != 0 {
		d.Previous = fmt.Sprintf("/gruppi/%d", p.PreviousID)
		prev, err := c.st.GroupAssignments(r.Context(), p.PreviousID)
		if err != nil {
			return err
		}
		was = map[string]store.GroupAssignment{}
		onList := map[string]bool{}
		for _, a := range as {
			onList[a.FiscalCode] = true
		}
		d.ToCancel = len(toCancel(as, prev))
		for _, a := range prev {
			was[a.FiscalCode] = a
			if !onList[a.FiscalCode] && a.At != 0 {
				d.Dropped = append(d.Dropped, groupAthlete{Name: athleteName(a), Club: a.Club, Type: group.VisitLabel(group.VisitType(a.VisitType)),
					FiscalCode: phone.MaskCode(a.FiscalCode), At: time.UnixMilli(a.At), Booked: a.BookedAt != 0})
			}
		}
	}
	perDay := map[string]int{}
	for _, a := range as {
		ga := groupAthlete{Name: athleteName(a), Club: a.Club, Type: group.VisitLabel(group.VisitType(a.VisitType)), FiscalCode: phone.MaskCode(a.FiscalCode),
			Place: a.Place, Booked: a.BookedAt != 0}
		if a.Phone != "" {
			ga.Phone = phone.Mask(a.Phone)
		}
		if a.At == 0 {
			ga.Reason = group.UnplacedText(group.Unplaced{Athlete: group.AthleteOf(a), Reason: a.Reason})
			d.Unplaced = append(d.Unplaced, ga)
			continue
		}
		ga.At = time.UnixMilli(a.At)
		perDay[ga.At.In(cup.Rome).Format(time.DateOnly)]++
		if was != nil {
			switch o, ok := was[a.FiscalCode]; {
			case !ok || o.At == 0:
				ga.Change = "nuovo"
				d.Added++
			case o.At != a.At || o.VisitType != a.VisitType:
				ga.Change, ga.Was = "spostato", time.UnixMilli(o.At)
				d.Moved++
			}
		}
		d.Athletes = append(d.Athletes, ga)
	}
	slices.SortStableFunc(d.Athletes, func(a, b groupAthlete) int { return a.At.Compare(b.At) })
	for day, n := range perDay {
		d.Days = append(d.Days, groupDay{Day: day, Athletes: n})
	}
	slices.SortFunc(d.Days, func(a, b groupDay) int { return strings.Compare(a.Day, b.Day) })
	c.render(w, r, s, status, "gruppo", fmt.Sprintf("Piano di gruppo n. %d", p.ID), d)
	return nil
}

// canWriteBack says whether the plan's bookings go to the CUP through its
// node's write-back book statement.
func (c *Console) canWriteBack(p store.GroupPlan) bool {
	return c.cfg.Groups != nil && p.Node != "" && p.Agenda != "" && c.cfg.Groups.CanBook(p.Node)
}

func (c *Console) confirmGroup(w http.ResponseWriter, r *http.Request, s *session) error {
	p, err := c.groupFor(r)
	if err != nil {
		return err
	}
	if err := c.st.ConfirmGroupPlan(r.Context(), p.ID, s.acct.Name, c.now()); errors.Is(err, store.ErrGroupState) {
		return errStatus(http.StatusConflict, "Il piano non si può confermare: è già confermato, oppure il piano che modifica è stato sostituito da un'altra lista.")
	} else if err != nil {
		return err
	}
	c.audit(r, s, actionGroup, fmt.Sprintf("piano di gruppo %d", p.ID), "piano confermato")
	http.Redirect(w, r, fmt.Sprintf("/gruppi/%d?esito=piano-confermato", p.ID), http.StatusSeeOther)
	return nil
}

// toBook are the plan's athletes with a slot not yet booked in the CUP.
func toBook(as []store.GroupAssignment) []group.Assignment {
	var out []group.Assignment
	for _, a := range as {
		if a.At != 0 && a.BookedAt == 0 {
			out = append(out, group.Assignment{Athlete: group.AthleteOf(a), Slot: group.Slot{At: time.UnixMilli(a.At).In(cup.Rome), Type: group.VisitType(a.VisitType), Place: a.Place}})
		}
	}
	return out
}

// bookGroup records the plan's bookings as made in the CUP (by the back
// office, or through the node's write-back) and queues each athlete's SMS,
// once, whoever clicks and however often.
func (c *Console) bookGroup(w http.ResponseWriter, r *http.Request, s *session) error {
	p, err := c.groupFor(r)
	if err != nil {
		return err
	}
	if p.State != store.GroupConfirmed {
		return errStatus(http.StatusConflict, "Si prenota solo un piano confermato e in vigore.")
	}
	as, err := c.st.GroupAssignments(r.Context(), p.ID)
	if err != nil {
		return err
	}
	now := c.now()
	todo := toBook(as)
	refused := 0
	how := "segnate come fatte nel CUP"
	if c.canWriteBack(p) {
		how = "prenotate nel CUP con la procedura del nodo"
		// Each athlete is claimed before the CUP is asked, so that two
		// clicks or two processes never book one athlete twice.
		cfs := make([]string, 0, len(todo))
		for _, a := range todo {
			cfs = append(cfs, a.Athlete.FiscalCode)
		}
		claimed, err := c.st.ClaimGroupBookings(r.Context(), p.ID, cfs, now, groupBookLease)
		if err != nil {
			return err
		}
		todo = slices.DeleteFunc(todo, func(a group.Assignment) bool { return !slices.Contains(claimed, a.Athlete.FiscalCode) })
		var ok []group.Assignment
		var back []string
		for i, res := range group.BookInCUP(r.Context(), c.cfg.Groups, p.Node, p.Agenda, todo) {
			if res.Err != nil {
				refused++
				back = append(back, res.FiscalCode)
				c.log.Warn("group booking not made in the CUP", "plan", p.ID, "node", p.Node, "err", res.Err)
				continue
			}
			ok = append(ok, todo[i])
		}
		if len(back) > 0 {
			if err := c.st.ReleaseGroupBookings(context.WithoutCancel(r.Context()), p.ID, back); err != nil {
				return err
			}
		}
		todo = ok
	}
	bs := make([]store.GroupBooked, 0, len(todo))
	for _, a := range todo {
		bs = append(bs, store.GroupBooked{FiscalCode: a.Athlete.FiscalCode, Notice: group.Notice(a, now)})
	}
	booked, queued, err := c.st.BookGroupAssignments(r.Context(), p.ID, bs, s.acct.Name, now)
	if errors.Is(err, store.ErrGroupState) {
		return errStatus(http.StatusConflict, "Il piano è stato sostituito da una lista modificata nel frattempo.")
	}
	if err != nil {
		return err
	}
	c.audit(r, s, actionGroup, fmt.Sprintf("piano di gruppo %d", p.ID), fmt.Sprintf("%d prenotazioni %s, %d SMS agli atleti, %d rifiutate dal CUP", booked, how, queued, refused))
	esito := "prenotazioni-fatte"
	if refused > 0 {
		esito = "prenotazioni-in-parte"
	}
	http.Redirect(w, r, fmt.Sprintf("/gruppi/%d?esito=%s", p.ID, esito), http.StatusSeeOther)
	return nil
}

// groupCSV sends one of the plan's lists: the bookings to make in the
// CUP (those a changed list did not keep from the plan before) or the
// club's confirmation list, with a byte-order mark for Excel.
func (c *Console) groupCSV(cupList bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, s *session) error {
		p, err := c.groupFor(r)
		if err != nil {
			return err
		}
		if p.State == store.GroupDraft {
			return errStatus(http.StatusConflict, "Confermi il piano prima di scaricarne gli elenchi.")
		}
		ss, err := c.st.GroupSlots(r.Context(), p.ID)
		if err != nil {
			return err
		}
		as, err := c.st.GroupAssignments(r.Context(), p.ID)
		if err != nil {
			return err
		}
		name, what, write := "societa", "elenco di conferma per la società", group.WriteClubList
		if cupList {
			name, what, write = "prenotazioni-cup", "prenotazioni da fare nel CUP", group.WriteCUPList
			if p.PreviousID != 0 {
				prev, err := c.st.GroupAssignments(r.Context(), p.PreviousID)
				if err != nil {
					return err
				}
				as = newOnes(as, prev)
			}
		}
		_, plan := group.FromStore(ss, as)
		c.audit(r, s, actionExport, fmt.Sprintf("piano di gruppo %d", p.ID), fmt.Sprintf("%s in CSV: %d atleti", what, len(plan.Assigned)+len(plan.Unplaced)))
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="gruppo-%d-%s.csv"`, p.ID, name))
		_, _ = w.Write([]byte("\ufeff"))
		return write(w, plan)
	}
}

// groupCancelCSV sends the visits to cancel in the CUP that a changed
// list gives up: booked under the plan it replaced, and now dropped, left
// without a slot, or given another one (whose booking is in the CUP list).
func (c *Console) groupCancelCSV(w http.ResponseWriter, r *http.Request, s *session) error {
	p, err := c.groupFor(r)
	if err != nil {
		return err
	}
	if p.State == store.GroupDraft {
		return errStatus(http.StatusConflict, "Confermi il piano prima di scaricarne gli elenchi.")
	}
	var gone []cancelRow
	if p.PreviousID != 0 {
		as, err := c.st.GroupAssignments(r.Context(), p.ID)
		if err != nil {
			return err
		}
		prev, err := c.st.GroupAssignments(r.Context(), p.PreviousID)
		if err != nil {
			return err
		}
		gone = toCancel(as, prev)
	}
	c.audit(r, s, actionExport, fmt.Sprintf("piano di gruppo %d", p.ID), fmt.Sprintf("disdette da fare nel CUP in CSV: %d visite", len(gone)))
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="gruppo-%d-disdette-cup.csv"`, p.ID))
	_, _ = w.Write([]byte("\ufeff"))
	cw := csv.NewWriter(w)
	cw.Comma = ';'
	_ = cw.Write([]string{"cognome", "nome", "codice_fiscale", "tipo_visita", "societa", "data", "ora", "struttura", "motivo"})
	for _, g := range gone {
		a, at := g.was, time.UnixMilli(g.was.At).In(cup.Rome)
		_ = cw.Write([]string{csvSafe(a.Surname), csvSafe(a.Name), a.FiscalCode, group.VisitLabel(group.VisitType(a.VisitType)), csvSafe(a.Club),
			at.Format("02/01/2006"), at.Format("15:04"), csvSafe(a.Place), g.why})
	}
	cw.Flush()
	return cw.Error()
}

// cancelRow is a visit booked under an earlier plan that a changed list
// gives up, and why.
type cancelRow struct {
	was store.GroupAssignment
	why string
}

// toCancel are the athletes of prev booked in the CUP whose visit as no
// longer keeps, in prev's order.
func toCancel(as, prev []store.GroupAssignment) []cancelRow {
	now := map[string]store.GroupAssignment{}
	for _, a := range as {
		now[a.FiscalCode] = a
	}
	var out []cancelRow
	for _, o := range prev {
		if o.At == 0 || o.BookedAt == 0 {
			continue
		}
		a, ok := now[o.FiscalCode]
		switch {
		case !ok:
			out = append(out, cancelRow{o, "tolto dall'elenco della società"})
		case a.At == 0:
			out = append(out, cancelRow{o, "senza orario nel nuovo piano"})
		case a.At != o.At || a.VisitType != o.VisitType:
			out = append(out, cancelRow{o, "nuovo orario il " + time.UnixMilli(a.At).In(cup.Rome).Format("02/01/2006 15:04")})
		}
	}
	return out
}

// newOnes are the placed athletes of as whose slot prev did not give them.
func newOnes(as, prev []store.GroupAssignment) []store.GroupAssignment {
	was := map[string]store.GroupAssignment{}
	for _, a := range prev {
		was[a.FiscalCode] = a
	}
	var out []store.GroupAssignment
	for _, a := range as {
		o, ok := was[a.FiscalCode]
		if a.At != 0 && (!ok || o.At != a.At || o.VisitType != a.VisitType) {
			out = append(out, a)
		}
	}
	return out
}
