package store

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// The reminders desk's read model: imports and what became of their
// messages, tallied by run, node and day, the delivery failures and the
// bookings looked up by code. These queries are shaped for the console's
// screens; the rows they read are written by reminders.go and outbox.go.

// that reached the provider, whatever happened next; the others split the
// messages by their current status, with withdrawals for an opt-out counted
// apart.
type MessageTally struct {
	Messages    int `json:"messages"`
	Segments    int `json:"segments"`
	Pending     int `json:"pending"` // planned or being sent
	Sent        int `json:"sent"`
	Delivered   int `json:"delivered"`
	Undelivered int `json:"undelivered"`
	Failed      int `json:"failed"`
	Withdrawn   int `json:"withdrawn"`
	OptedOut    int `json:"opted_out"`
	Expired     int `json:"expired"`
}

// tallyRow is one GROUP BY line folded into a MessageTally.
type tallyRow struct {
	Status   string `db:"status"`
	OptedOut int64  `db:"opted_out"`
	Reached  int64  `db:"reached"`
	Messages int    `db:"messages"`
	Segments int    `db:"segments"`
}

// tallySelect groups messages m by status; optedOut separates withdrawals
// caused by a STOP, reached those that went to the provider.
const tallySelect = `m.status AS status,
	CASE WHEN m.status = 'withdrawn' AND m.error = 'opted out' THEN 1 ELSE 0 END AS opted_out,
	CASE WHEN m.sent_at <> 0 THEN 1 ELSE 0 END AS reached,
	COUNT(*) AS messages, COALESCE(SUM(m.segments), 0) AS segments`

const tallyGroup = `m.status, CASE WHEN m.status = 'withdrawn' AND m.error = 'opted out' THEN 1 ELSE 0 END, CASE WHEN m.sent_at <> 0 THEN 1 ELSE 0 END`

func (t *MessageTally) add(r tallyRow) {
	t.Messages += r.Messages
	t.Segments += r.Segments
	if r.Reached != 0 {
		t.Sent += r.Messages
	}
	switch r.Status {
	case StatusPlanned, StatusClaimed, StatusSending, StatusUnknown:
		t.Pending += r.Messages
	case StatusDelivered:
		t.Delivered += r.Messages
	case StatusUndelivered:
		t.Undelivered += r.Messages
	case StatusFailed:
		t.Failed += r.Messages
	case StatusWithdrawn:
		if r.OptedOut != 0 {
			t.OptedOut += r.Messages
		} else {
			t.Withdrawn += r.Messages
		}
	case StatusExpired:
		t.Expired += r.Messages
	}
}

// nodeFilter restricts messages m to those reminding of a booking of node;
// an empty node matches every message. It takes the node twice.
const nodeFilter = `(? = '' OR EXISTS (SELECT 1 FROM reminders rn WHERE rn.message_id = m.id AND rn.node = ?))`

// Run is one import of extracts and what became of its messages.
type Run struct {
	ID         int64  `db:"id" json:"id"`
	Source     string `db:"source" json:"source"`
	StartedAt  int64  `db:"started_at" json:"started_at"`
	FinishedAt int64  `db:"finished_at" json:"finished_at"`
	Rows       int    `db:"rows_read" json:"rows"`
	Valid      int    `db:"valid" json:"valid"`
	Duplicates int    `db:"duplicates" json:"duplicates"`
	Rejected   int    `db:"rejected" json:"rejected"`
	Tally      MessageTally
}

const runCols = `id, source, started_at, COALESCE(finished_at, 0) AS finished_at, rows_read, valid, duplicates, rejected`

// Runs lists finished imports, newest first, with their reminder messages
// tallied. With a node, only the imports that covered it are listed and only
// its messages counted; the row counts stay those of the whole run.
func (s *Store) Runs(ctx context.Context, node string, limit int) ([]Run, error) {
	var runs []Run
	err := s.rd.SelectContext(ctx, &runs, s.rebind(`SELECT `+runCols+` FROM imports
		WHERE finished_at IS NOT NULL AND (? = '' OR EXISTS (SELECT 1 FROM import_coverage c WHERE c.import_id = imports.id AND c.node = ?))
		ORDER BY id DESC LIMIT ?`), node, node, limit)
	if err != nil {
		return nil, fmt.Errorf("store: runs: %w", err)
	}
	if len(runs) == 0 {
		return runs, nil
	}
	ids := make([]any, len(runs))
	byID := map[int64]*Run{}
	for i := range runs {
		ids[i] = runs[i].ID
		byID[runs[i].ID] = &runs[i]
	}
	var rows []struct {
		ImportID int64 `db:"import_id"`
		tallyRow
	}
	args := append(append([]any{}, ids...), node, node)
	err = s.rd.SelectContext(ctx, &rows, s.rebind(`SELECT m.import_id AS import_id, `+tallySelect+` FROM messages m
		WHERE m.kind = 'reminder' AND m.import_id IN (?`+strings.Repeat(",?", len(ids)-1)+`) AND `+nodeFilter+`
		GROUP BY m.import_id, `+tallyGroup), args...)
	if err != nil {
		return nil, fmt.Errorf("store: run tallies: %w", err)
	}
	for _, r := range rows {
		byID[r.ImportID].Tally.add(r.tallyRow)
	}
	return runs, nil
}

// RunByID returns one import, finished or not, with its messages tallied.
func (s *Store) RunByID(ctx context.Context, id int64, node string) (Run, error) {
	var r Run
	if err := s.rd.GetContext(ctx, &r, s.rebind(`SELECT `+runCols+` FROM imports WHERE id = ?`), id); err != nil {
		return Run{}, fmt.Errorf("store: run %d: %w", id, notFound(err))
	}
	var rows []tallyRow
	err := s.rd.SelectContext(ctx, &rows, s.rebind(`SELECT `+tallySelect+` FROM messages m
		WHERE m.kind = 'reminder' AND m.import_id = ? AND `+nodeFilter+` GROUP BY `+tallyGroup), id, node, node)
	if err != nil {
		return Run{}, fmt.Errorf("store: run %d tally: %w", id, err)
	}
	for _, row := range rows {
		r.Tally.add(row)
	}
	return r, nil
}

// RunCoversNode says whether an import covered any day of node.
func (s *Store) RunCoversNode(ctx context.Context, id int64, node string) (bool, error) {
	var n int
	if err := s.rd.GetContext(ctx, &n, s.rebind(`SELECT COUNT(*) FROM import_coverage WHERE import_id = ? AND node = ?`), id, node); err != nil {
		return false, fmt.Errorf("store: run coverage: %w", err)
	}
	return n > 0, nil
}

// NodeRun is one CUP node's share of an import: the appointment days the
// extract covered for it, the bookings reminded and their messages. A
// message reminding of bookings of two nodes counts for both.
type NodeRun struct {
	Node      string   `json:"node"`
	Days      []string `json:"days"`
	Bookings  int      `json:"bookings"`
	Reminders int      `json:"reminders"`
	Tally     MessageTally
}

// RunNodes splits an import by CUP node; node, when set, keeps only that one.
func (s *Store) RunNodes(ctx context.Context, id int64, node string) ([]NodeRun, error) {
	byNode := map[string]*NodeRun{}
	get := func(n string) *NodeRun {
		if byNode[n] == nil {
			byNode[n] = &NodeRun{Node: n}
		}
		return byNode[n]
	}
	var cov []NodeDay
	if err := s.rd.SelectContext(ctx, &cov, s.rebind(`SELECT node AS "node", day AS "day" FROM import_coverage WHERE import_id = ? AND (? = '' OR node = ?) ORDER BY node, day`), id, node, node); err != nil {
		return nil, fmt.Errorf("store: run coverage: %w", err)
	}
	for _, c := range cov {
		nr := get(c.Node)
		nr.Days = append(nr.Days, c.Day)
	}
	var bk []struct {
		Node string `db:"node"`
		N    int    `db:"n"`
	}
	if err := s.rd.SelectContext(ctx, &bk, s.rebind(`SELECT node, COUNT(*) AS n FROM bookings WHERE import_id = ? AND (? = '' OR node = ?) GROUP BY node`), id, node, node); err != nil {
		return nil, fmt.Errorf("store: run bookings: %w", err)
	}
	for _, b := range bk {
		get(b.Node).Bookings = b.N
	}
	var rows []struct {
		Node      string `db:"node"`
		Reminders int    `db:"reminders"`
		tallyRow
	}
	// One line per (node, message) first, so that a message with several
	// bookings of a node counts once for it.
	err := s.rd.SelectContext(ctx, &rows, s.rebind(`SELECT x.node AS node, CAST(SUM(x.reminders) AS BIGINT) AS reminders, x.status AS status, x.opted_out AS opted_out, x.reached AS reached,
		COUNT(*) AS messages, COALESCE(SUM(x.segments), 0) AS segments
		FROM (SELECT r.node AS node, m.id AS id, COUNT(*) AS reminders, m.status AS status, m.segments AS segments,
				CASE WHEN m.status = 'withdrawn' AND m.error = 'opted out' THEN 1 ELSE 0 END AS opted_out,
				CASE WHEN m.sent_at <> 0 THEN 1 ELSE 0 END AS reached
			FROM reminders r JOIN messages m ON m.id = r.message_id
			WHERE m.import_id = ? AND (? = '' OR r.node = ?)
			GROUP BY r.node, m.id, m.status, m.segments, m.error, m.sent_at) x
		GROUP BY x.node, x.status, x.opted_out, x.reached`), id, node, node)
	if err != nil {
		return nil, fmt.Errorf("store: run nodes: %w", err)
	}
	for _, r := range rows {
		nr := get(r.Node)
		nr.Reminders += r.Reminders
		nr.Tally.add(r.tallyRow)
	}
	out := make([]NodeRun, 0, len(byNode))
	for _, nr := range byNode {
		out = append(out, *nr)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Node < out[j].Node })
	return out, nil
}

// DayTally is the reminder messages of one appointment day.
type DayTally struct {
	Day   string `json:"day"`
	Tally MessageTally
}

// DayTallies tallies reminder messages by appointment day in [fromDay,
// toDay], latest day first, for one node or all ("").
func (s *Store) DayTallies(ctx context.Context, fromDay, toDay, node string) ([]DayTally, error) {
	var rows []struct {
		Day string `db:"day"`
		tallyRow
	}
	err := s.rd.SelectContext(ctx, &rows, s.rebind(`SELECT m.day AS day, `+tallySelect+` FROM messages m
		WHERE m.kind = 'reminder' AND m.day >= ? AND m.day <= ? AND `+nodeFilter+`
		GROUP BY m.day, `+tallyGroup), fromDay, toDay, node, node)
	if err != nil {
		return nil, fmt.Errorf("store: day tallies: %w", err)
	}
	byDay := map[string]*DayTally{}
	var out []DayTally
	for _, r := range rows {
		if byDay[r.Day] == nil {
			byDay[r.Day] = &DayTally{Day: r.Day}
		}
		byDay[r.Day].Tally.add(r.tallyRow)
	}
	for _, d := range byDay {
		out = append(out, *d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Day > out[j].Day })
	return out, nil
}

// ReasonCount is how many rows of an import were rejected for a reason.
type ReasonCount struct {
	Reason string `db:"reason" json:"reason"`
	Rows   int    `db:"n" json:"rows"`
}

// RejectionReasons counts an import's rejected rows by reason, most
// frequent first.
func (s *Store) RejectionReasons(ctx context.Context, importID int64) ([]ReasonCount, error) {
	var out []ReasonCount
	if err := s.rd.SelectContext(ctx, &out, s.rebind(`SELECT reason, COUNT(*) AS n FROM rejections WHERE import_id = ? GROUP BY reason ORDER BY n DESC, reason`), importID); err != nil {
		return nil, fmt.Errorf("store: rejection reasons: %w", err)
	}
	return out, nil
}

// RejectionsByReason lists an import's rejected rows of one reason in file
// and line order.
func (s *Store) RejectionsByReason(ctx context.Context, importID int64, reason string, limit int) ([]RejectionRow, error) {
	var out []RejectionRow
	if err := s.rd.SelectContext(ctx, &out, s.rebind(`SELECT file, line, reason, detail FROM rejections WHERE import_id = ? AND reason = ? ORDER BY file, line LIMIT ?`),
		importID, reason, limit); err != nil {
		return nil, fmt.Errorf("store: rejections: %w", err)
	}
	return out, nil
}

// DeliveryFailure is a message that did not reach its patient, with the
// CUP nodes of the bookings it reminded of.
type DeliveryFailure struct {
	ID        int64    `json:"id"`
	Phone     string   `json:"phone"`
	Day       string   `json:"day"`
	Kind      string   `json:"kind"`
	Status    string   `json:"status"`
	ErrorCode int      `json:"error_code"`
	Error     string   `json:"error"`
	FinalAt   int64    `json:"final_at"`
	Nodes     []string `json:"nodes"`
}

// FailureFilter chooses delivery failures; an empty node means all.
type FailureFilter struct {
	FromDay, ToDay string
	Node           string
	Limit          int
}

// DeliveryFailures lists failed and undelivered messages of appointment
// days in the filter's range, newest first.
func (s *Store) DeliveryFailures(ctx context.Context, f FailureFilter) ([]DeliveryFailure, error) {
	if f.Limit <= 0 {
		f.Limit = 500
	}
	var rows []struct {
		ID        int64  `db:"id"`
		Phone     string `db:"phone"`
		Day       string `db:"day"`
		Kind      string `db:"kind"`
		Status    string `db:"status"`
		ErrorCode int    `db:"error_code"`
		Error     string `db:"error"`
		FinalAt   int64  `db:"final_at"`
	}
	err := s.rd.SelectContext(ctx, &rows, s.rebind(`SELECT m.id, m.phone, m.day, m.kind, m.status, m.error_code, m.error, m.final_at FROM messages m
		WHERE m.status IN ('failed', 'undelivered') AND m.day >= ? AND m.day <= ? AND `+nodeFilter+`
		ORDER BY m.id DESC LIMIT ?`), f.FromDay, f.ToDay, f.Node, f.Node, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("store: delivery failures: %w", err)
	}
	out := make([]DeliveryFailure, len(rows))
	idx := map[int64]int{}
	ids := make([]any, len(rows))
	for i, r := range rows {
		out[i] = DeliveryFailure{ID: r.ID, Phone: r.Phone, Day: r.Day, Kind: r.Kind, Status: r.Status, ErrorCode: r.ErrorCode, Error: r.Error, FinalAt: r.FinalAt, Nodes: []string{}}
		idx[r.ID] = i
		ids[i] = r.ID
	}
	if len(ids) == 0 {
		return out, nil
	}
	var nodes []struct {
		ID   int64  `db:"message_id"`
		Node string `db:"node"`
	}
	args := append(ids, f.Node, f.Node)
	if err := s.rd.SelectContext(ctx, &nodes, s.rebind(`SELECT DISTINCT message_id, node FROM reminders WHERE message_id IN (?`+strings.Repeat(",?", len(ids)-1)+`)
		AND (? = '' OR node = ?) ORDER BY message_id, node`), args...); err != nil {
		return nil, fmt.Errorf("store: failure nodes: %w", err)
	}
	for _, n := range nodes {
		i := idx[n.ID]
		out[i].Nodes = append(out[i].Nodes, n.Node)
	}
	return out, nil
}

// BookingReminder is one reminder of a booking and the state of its message.
type BookingReminder struct {
	At             int64  `db:"at" json:"at"`
	Offset         int    `db:"offset_days" json:"offset_days"`
	Day            string `db:"day" json:"day"`
	Status         string `db:"status" json:"status"`
	MessageID      int64  `db:"message_id" json:"message_id"`
	MessageStatus  string `db:"message_status" json:"message_status"`
	ProviderStatus string `db:"provider_status" json:"provider_status"`
	ErrorCode      int    `db:"error_code" json:"error_code"`
	Error          string `db:"error" json:"error"`
	Attempts       int    `db:"attempts" json:"attempts"`
	SentAt         int64  `db:"sent_at" json:"sent_at"`
	FinalAt        int64  `db:"final_at" json:"final_at"`
}

// BookingFound is a booking as the console shows it: its latest state from
// the extracts, its reminders and what the patient said about it.
type BookingFound struct {
	Node        string `db:"node" json:"node"`
	Code        string `db:"code" json:"code"`
	Phone       string `db:"phone" json:"phone"`
	At          int64  `db:"at" json:"at"`
	Agenda      string `db:"agenda" json:"agenda"`
	Service     string `db:"service" json:"service"`
	ServiceType string `db:"service_type" json:"service_type"`
	Facility    string `db:"facility" json:"facility"`
	Address     string `db:"address" json:"address"`
	Priority    string `db:"priority" json:"priority"`
	Surname     string `db:"surname" json:"surname"`
	Name        string `db:"name" json:"name"`
	ImportID    int64  `db:"import_id" json:"import_id"`
	UpdatedAt   int64  `db:"updated_at" json:"updated_at"`

	Reminders []BookingReminder `db:"-" json:"reminders"`
	Responses []Response        `db:"-" json:"responses"`
}

// FindBookings looks a booking code up in every node, or in one.
func (s *Store) FindBookings(ctx context.Context, code, node string) ([]BookingFound, error) {
	var out []BookingFound
	err := s.rd.SelectContext(ctx, &out, s.rebind(`SELECT node, code, phone, at, agenda, service, service_type, facility, address, priority, surname, name, import_id, updated_at
		FROM bookings WHERE code = ? AND (? = '' OR node = ?) ORDER BY node`), code, node, node)
	if err != nil {
		return nil, fmt.Errorf("store: find booking: %w", err)
	}
	for i := range out {
		b := &out[i]
		if err := s.rd.SelectContext(ctx, &b.Reminders, s.rebind(`SELECT r.at, r.offset_days, r.day, r.status, r.message_id,
			COALESCE(m.status, '') AS message_status, COALESCE(m.provider_status, '') AS provider_status,
			COALESCE(m.error_code, 0) AS error_code, COALESCE(m.error, '') AS error, COALESCE(m.attempts, 0) AS attempts,
			COALESCE(m.sent_at, 0) AS sent_at, COALESCE(m.final_at, 0) AS final_at
			FROM reminders r LEFT JOIN messages m ON m.id = r.message_id
			WHERE r.node = ? AND r.code = ? ORDER BY r.at, r.offset_days DESC`), b.Node, b.Code); err != nil {
			return nil, fmt.Errorf("store: booking reminders: %w", err)
		}
		if err := s.rd.SelectContext(ctx, &b.Responses, s.rebind(`SELECT node, code, at, kind, status, created_at FROM booking_responses
			WHERE node = ? AND code = ? ORDER BY created_at, id`), b.Node, b.Code); err != nil {
			return nil, fmt.Errorf("store: booking responses: %w", err)
		}
	}
	return out, nil
}
