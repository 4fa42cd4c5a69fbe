package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
)

// Message statuses. Planned messages can still change or be withdrawn;
// from 'sending' on, a message may have reached the provider.
const (
	StatusPlanned     = "planned"
	StatusClaimed     = "claimed"
	StatusSending     = "sending"
	StatusUnknown     = "unknown"
	StatusSent        = "sent"
	StatusDelivered   = "delivered"
	StatusUndelivered = "undelivered"
	StatusFailed      = "failed"
	StatusWithdrawn   = "withdrawn"
	StatusExpired     = "expired"
)

// DayLayout is how calendar days are stored.
const DayLayout = "2006-01-02"

// StartImport records an import run and returns its id.
func (t *Tx) StartImport(ctx context.Context, source string, now time.Time) (int64, error) {
	var id int64
	err := t.tx.GetContext(ctx, &id, t.s.rebind(`INSERT INTO imports (source, started_at) VALUES (?, ?) RETURNING id`), source, ms(now))
	if err != nil {
		return 0, fmt.Errorf("store: start import: %w", err)
	}
	return id, nil
}

// planLock serialises reminder plans on PostgreSQL; on SQLite a write
// transaction already holds the only write lock.
const planLock = 7247110004

// LockPlanning waits until no other reminder plan is being written, so
// that a plan computed in this transaction reads every reminder planned
// before it. Call it first in the plan's transaction.
func (t *Tx) LockPlanning(ctx context.Context) error {
	if t.s.dialect != Postgres || t.real == nil {
		return nil
	}
	if _, err := t.tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(planLock)); err != nil {
		return fmt.Errorf("store: wait for other plans: %w", err)
	}
	return nil
}

// ImportCounts are an import's totals.
type ImportCounts struct {
	Rows, Valid, Duplicates, Rejected int
}

// FinishImport records an import's totals.
func (t *Tx) FinishImport(ctx context.Context, id int64, c ImportCounts, now time.Time) error {
	_, err := t.tx.ExecContext(ctx, t.s.rebind(`UPDATE imports SET finished_at = ?, rows_read = ?, valid = ?, duplicates = ?, rejected = ? WHERE id = ?`),
		ms(now), c.Rows, c.Valid, c.Duplicates, c.Rejected, id)
	return err
}

const bookingCols = 19

// bookingData is what an import says of a booking, in the bookings
// table's order: a row whose data are all the same as stored is only
// stamped with the import, not written again.
const bookingData = `phone, at, day, agenda, service_code, service, service_type, facility, address, priority, booked_on, surname, name, fiscal_code, birth_date`

// UpsertBookings records the bookings of an import, replacing what an
// earlier import said about the same (node, code). Of the rows an import
// has for one booking, here or in an earlier call, the first is kept.
//
// A booking the import repeats unchanged (most of them, from one day's
// extract to the next) gets only the import's id and time. SQLite updates
// the entries of every index holding a column the statement sets, even to
// the same value, which made re-importing an unchanged extract of a
// million rows slower than the first import: there the data are set only
// when they differ, and a second statement stamps the row otherwise.
// PostgreSQL compares the values itself, and an update that changes no
// indexed column and finds room on the row's page (the table's fillfactor,
// migration 020) touches no index.
func (t *Tx) UpsertBookings(ctx context.Context, importID int64, bs []cup.Booking, now time.Time) error {
	// One statement may not write a row twice (PostgreSQL refuses it), so
	// the later rows of a booking repeated in bs are left out here.
	bs = firstOfEach(bs)
	if t.s.dialect == Postgres {
		return t.upsertBookingsArrays(ctx, importID, bs, now)
	}
	// SQLite: one row a statement (see InsertReminders), whose result says
	// whether it wrote: when its data are those stored, nothing is
	// written, and the stamp follows.
	q := `INSERT INTO bookings (node, code, ` + bookingData + `, import_id, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)` +
		bookingUpdate + ` AND (` + prefixed("bookings.", bookingData) + `) IS NOT (` + prefixed("excluded.", bookingData) + `)`
	args := make([]any, 0, bookingCols)
	for _, b := range bs {
		args = append(append(append(args[:0], b.Node, b.Code), bookingValues(b)...), importID, ms(now))
		res, err := t.execBatchResult(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("store: upsert bookings: %w", err)
		}
		if wrote, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("store: upsert bookings: %w", err)
		} else if wrote == 0 {
			// Unchanged, or a later row of a booking this import has
			// already recorded (then already stamped: a no-op).
			if err := t.execBatch(ctx, `UPDATE bookings SET import_id = ?, updated_at = ? WHERE node = ? AND code = ? AND import_id <> ?`,
				importID, ms(now), b.Node, b.Code, importID); err != nil {
				return fmt.Errorf("store: upsert bookings: %w", err)
			}
		}
	}
	return nil
}

// bookingUpdate is the upsert's update of a booking an earlier import
// recorded.
const bookingUpdate = ` ON CONFLICT (node, code) DO UPDATE SET phone = excluded.phone, at = excluded.at, day = excluded.day,
	agenda = excluded.agenda, service_code = excluded.service_code, service = excluded.service,
	service_type = excluded.service_type, facility = excluded.facility, address = excluded.address,
	priority = excluded.priority, booked_on = excluded.booked_on, surname = excluded.surname,
	name = excluded.name, fiscal_code = excluded.fiscal_code, birth_date = excluded.birth_date, import_id = excluded.import_id, updated_at = excluded.updated_at
	WHERE bookings.import_id <> excluded.import_id`

// upsertBookingsArrays is UpsertBookings on PostgreSQL: each column goes
// as one array, unnested by the server, in statements of up to
// arrayBatch bookings. Rows of values cost a parameter each, parsed and
// bound one by one: a million-row import's recording took 31 s that way.
func (t *Tx) upsertBookingsArrays(ctx context.Context, importID int64, bs []cup.Booking, now time.Time) error {
	const q = `INSERT INTO bookings (node, code, ` + bookingData + `, import_id, updated_at)
		SELECT u.*, $18::bigint, $19::bigint FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[],
			$6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[],
			$14::text[], $15::text[], $16::text[], $17::text[]) AS u` + bookingUpdate
	for len(bs) > 0 {
		n := min(arrayBatch, len(bs))
		var cols [17][]string
		at := make([]int64, n)
		for c := range cols {
			if c != 3 {
				cols[c] = make([]string, n)
			}
		}
		for i, b := range bs[:n] {
			booked, born := "", ""
			if !b.BookedOn.IsZero() {
				booked = b.BookedOn.In(cup.Rome).Format(DayLayout)
			}
			if !b.BirthDate.IsZero() {
				born = b.BirthDate.In(cup.Rome).Format(DayLayout)
			}
			cols[0][i], cols[1][i], cols[2][i], at[i], cols[4][i] = b.Node, b.Code, b.Phone, ms(b.At), b.At.In(cup.Rome).Format(DayLayout)
			cols[5][i], cols[6][i], cols[7][i], cols[8][i] = b.Agenda, b.ServiceCode, b.Service, string(b.ServiceType)
			cols[9][i], cols[10][i], cols[11][i], cols[12][i] = b.Facility, b.Address, b.Priority, booked
			cols[13][i], cols[14][i], cols[15][i], cols[16][i] = b.Surname, b.Name, b.FiscalCode, born
		}
		args := make([]any, 0, 19)
		for c := range cols {
			if c == 3 {
				args = append(args, at)
				continue
			}
			args = append(args, cols[c])
		}
		args = append(args, importID, ms(now))
		if _, err := t.tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("store: upsert bookings: %w", err)
		}
		bs = bs[n:]
	}
	return nil
}

// arrayBatch is how many rows one statement of arrays carries on
// PostgreSQL.
const arrayBatch = 5000

// bookingValues are b's values for the columns of bookingData.
func bookingValues(b cup.Booking) []any {
	booked, born := "", ""
	if !b.BookedOn.IsZero() {
		booked = b.BookedOn.In(cup.Rome).Format(DayLayout)
	}
	if !b.BirthDate.IsZero() {
		born = b.BirthDate.In(cup.Rome).Format(DayLayout)
	}
	return []any{b.Phone, ms(b.At), b.At.In(cup.Rome).Format(DayLayout),
		b.Agenda, b.ServiceCode, b.Service, string(b.ServiceType), b.Facility, b.Address, b.Priority,
		booked, b.Surname, b.Name, b.FiscalCode, born}
}

// prefixed qualifies each name of a comma-separated list.
func prefixed(p, list string) string {
	return p + strings.ReplaceAll(list, ", ", ", "+p)
}

// firstOfEach returns bs without the later rows of a repeated booking
// (bs itself when none is).
func firstOfEach(bs []cup.Booking) []cup.Booking {
	seen := make(map[[2]string]struct{}, len(bs))
	var out []cup.Booking
	for i, b := range bs {
		k := [2]string{b.Node, b.Code}
		if _, dup := seen[k]; !dup {
			seen[k] = struct{}{}
			if out != nil {
				out = append(out, b)
			}
			continue
		}
		if out == nil {
			out = append(make([]cup.Booking, 0, len(bs)), bs[:i]...)
		}
	}
	if out == nil {
		return bs
	}
	return out
}

// NodeDay is a (node, day) an import covered.
type NodeDay struct {
	Node, Day string
}

// AddCoverage records which (node, day) pairs an import covered.
func (t *Tx) AddCoverage(ctx context.Context, importID int64, cov []NodeDay) error {
	for _, c := range cov {
		if _, err := t.tx.ExecContext(ctx, t.s.rebind(`INSERT INTO import_coverage (import_id, node, day) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`),
			importID, c.Node, c.Day); err != nil {
			return fmt.Errorf("store: coverage: %w", err)
		}
	}
	return nil
}

// AddRejections records unusable rows.
func (t *Tx) AddRejections(ctx context.Context, importID int64, rs []cup.Rejection) error {
	const batch = 500
	for len(rs) > 0 {
		n := min(batch, len(rs))
		var sb strings.Builder
		sb.WriteString(`INSERT INTO rejections (import_id, file, line, reason, detail, node) VALUES `)
		args := make([]any, 0, n*6)
		for i, r := range rs[:n] {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString("(?,?,?,?,?,?)")
			args = append(args, importID, r.File, r.Line, string(r.Reason), r.Detail, r.Node)
		}
		if _, err := t.tx.ExecContext(ctx, t.s.rebind(sb.String()), args...); err != nil {
			return fmt.Errorf("store: rejections: %w", err)
		}
		rs = rs[n:]
	}
	return nil
}

// OptOuts returns every opted-out number.
func (t *Tx) OptOuts(ctx context.Context) (map[string]bool, error) {
	var phones []string
	if err := t.tx.SelectContext(ctx, &phones, `SELECT phone FROM opt_outs`); err != nil {
		return nil, fmt.Errorf("store: opt-outs: %w", err)
	}
	m := make(map[string]bool, len(phones))
	for _, p := range phones {
		m[p] = true
	}
	return m, nil
}

type bookingRow struct {
	Node        string `db:"node"`
	Code        string `db:"code"`
	Phone       string `db:"phone"`
	At          int64  `db:"at"`
	Agenda      string `db:"agenda"`
	ServiceCode string `db:"service_code"`
	Service     string `db:"service"`
	ServiceType string `db:"service_type"`
	Facility    string `db:"facility"`
	Address     string `db:"address"`
	Priority    string `db:"priority"`
	Surname     string `db:"surname"`
	Name        string `db:"name"`
}

func (r bookingRow) booking() cup.Booking {
	return cup.Booking{Node: r.Node, Code: r.Code, Phone: r.Phone, At: time.UnixMilli(r.At).In(cup.Rome),
		Agenda: r.Agenda, ServiceCode: r.ServiceCode, Service: r.Service, ServiceType: cup.ServiceType(r.ServiceType),
		Facility: r.Facility, Address: r.Address, Priority: r.Priority, Surname: r.Surname, Name: r.Name}
}

func inDays(days []string) (string, []any) {
	args := make([]any, len(days))
	for i, d := range days {
		args[i] = d
	}
	return "(?" + strings.Repeat(",?", len(days)-1) + ")", args
}

// EachReminder calls fn for every reminder, whatever its status, of the
// given appointment days: a reminder is planned once, ever.
func (t *Tx) EachReminder(ctx context.Context, days []string, fn func(node, code string, at time.Time, offset int)) error {
	if len(days) == 0 {
		return nil
	}
	in, args := inDays(days)
	return t.eachReminderRow(ctx, `SELECT node, code, at, offset_days FROM reminders WHERE day IN `+in, args, fn)
}

// BookingKey names a booking of a CUP node.
type BookingKey struct {
	Node, Code string
}

// RemindersOf calls fn for every reminder, whatever its status, of the
// given bookings: a reminder is planned once, ever.
func (t *Tx) RemindersOf(ctx context.Context, keys []BookingKey, fn func(node, code string, at time.Time, offset int)) error {
	if t.s.dialect == Postgres {
		// One lookup by the key's prefix per booking, whatever the table's
		// statistics say (see PlannedMessagesOf).
		nodes, codes := make([]string, len(keys)), make([]string, len(keys))
		for i, k := range keys {
			nodes[i], codes[i] = k.Node, k.Code
		}
		return t.eachReminderRow(ctx, `SELECT r.node, r.code, r.at, r.offset_days
			FROM (SELECT DISTINCT node, code FROM unnest(?::text[], ?::text[]) AS k(node, code)) k
			CROSS JOIN LATERAL (SELECT node, code, at, offset_days FROM reminders
				WHERE node = k.node AND code = k.code) r`, []any{nodes, codes}, fn)
	}
	byNode := map[string][]string{}
	var nodes []string
	for _, k := range keys {
		if _, ok := byNode[k.Node]; !ok {
			nodes = append(nodes, k.Node)
		}
		byNode[k.Node] = append(byNode[k.Node], k.Code)
	}
	// One node at a time, so that the lookup is by the key's prefix.
	const batch = 500
	for _, node := range nodes {
		codes := byNode[node]
		for len(codes) > 0 {
			n := min(batch, len(codes))
			in, args := inDays(codes[:n])
			if err := t.eachReminderRow(ctx, `SELECT node, code, at, offset_days FROM reminders WHERE node = ? AND code IN `+in,
				append([]any{node}, args...), fn); err != nil {
				return err
			}
			codes = codes[n:]
		}
	}
	return nil
}

func (t *Tx) eachReminderRow(ctx context.Context, q string, args []any, fn func(node, code string, at time.Time, offset int)) error {
	rows, err := t.tx.QueryContext(ctx, t.s.rebind(q), args...)
	if err != nil {
		return fmt.Errorf("store: reminders: %w", err)
	}
	defer rows.Close()
	var node, code string
	var at int64
	var off int
	for rows.Next() {
		if err := rows.Scan(&node, &code, &at, &off); err != nil {
			return fmt.Errorf("store: reminders: %w", err)
		}
		fn(node, code, FromMillis(at), off)
	}
	return rows.Err()
}

// PlannedMessage is an unsent reminder message a new booking can join.
type PlannedMessage struct {
	ID     int64  `db:"id"`
	Phone  string `db:"phone"`
	Day    string `db:"day"`
	Offset int    `db:"offset_days"`
}

// PlannedMessagesOf lists the unsent reminder messages of a day and
// offset to the given numbers. On PostgreSQL they stay locked until the
// transaction ends, so that the sender does not claim a message while
// bookings are joining it; on SQLite the transaction's write lock already
// keeps the sender out.
func (t *Tx) PlannedMessagesOf(ctx context.Context, day string, offset int, phones []string) ([]PlannedMessage, error) {
	// On SQLite, +status makes the lookup go by (day, offset, phone)
	// rather than by status, which every planned message shares.
	status, lock := "+status", ""
	if t.s.dialect == Postgres {
		status = "status"
		if t.real != nil {
			lock = " FOR UPDATE"
		}
	}
	var out []PlannedMessage
	if t.s.dialect == Postgres {
		// One lookup by (day, offset, phone) per number, whatever the
		// table's statistics say: while an import's own messages are not
		// yet in them, phone = ANY($3) was only a filter on every message
		// of the day, for each chunk (with RemindersOf's lookups alike, a
		// 100,000-row import took 83 s instead of 16).
		if err := t.tx.SelectContext(ctx, &out, `SELECT m.id, m.phone, m.day, m.offset_days
			FROM (SELECT DISTINCT unnest($3::text[]) AS phone) p
			CROSS JOIN LATERAL (SELECT id, phone, day, offset_days FROM messages
				WHERE day = $1 AND offset_days = $2 AND phone = p.phone
				AND kind = 'reminder' AND status = 'planned'`+lock+`) m`,
			day, offset, phones); err != nil {
			return nil, fmt.Errorf("store: planned messages: %w", err)
		}
		return out, nil
	}
	const batch = 500
	for len(phones) > 0 {
		n := min(batch, len(phones))
		in, args := inDays(phones[:n])
		var part []PlannedMessage
		if err := t.tx.SelectContext(ctx, &part, t.s.rebind(`SELECT id, phone, day, offset_days FROM messages
			WHERE kind = 'reminder' AND `+status+` = 'planned' AND day = ? AND offset_days = ? AND phone IN `+in+lock),
			append([]any{day, offset}, args...)...); err != nil {
			return nil, fmt.Errorf("store: planned messages: %w", err)
		}
		out = append(out, part...)
		phones = phones[n:]
	}
	return out, nil
}

// PlannedReminder is a reminder whose message has not been sent yet, so it
// can still be withdrawn.
type PlannedReminder struct {
	Node      string `db:"node"`
	Code      string `db:"code"`
	At        int64  `db:"at"`
	Offset    int    `db:"offset_days"`
	Day       string `db:"day"`
	MessageID int64  `db:"message_id"`
}

// EachPlannedReminder calls fn for every reminder still withdrawable,
// one row at a time: with a million waiting, a list of them all raised a
// re-import's peak memory from 326 MB to 507 MB.
func (t *Tx) EachPlannedReminder(ctx context.Context, fn func(PlannedReminder) error) error {
	rows, err := t.tx.QueryxContext(ctx, `SELECT r.node, r.code, r.at, r.offset_days, r.day, r.message_id
		FROM reminders r JOIN messages m ON m.id = r.message_id
		WHERE r.status = 'planned' AND m.status = 'planned'`)
	if err != nil {
		return fmt.Errorf("store: planned reminders: %w", err)
	}
	defer rows.Close()
	var pr PlannedReminder
	for rows.Next() {
		if err := rows.StructScan(&pr); err != nil {
			return fmt.Errorf("store: planned reminders: %w", err)
		}
		if err := fn(pr); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: planned reminders: %w", err)
	}
	return nil
}

// PlannedRemindersOf lists the withdrawable reminders of one message,
// none when it has left the planned state. On PostgreSQL the message stays
// locked until the transaction ends, so that the sender does not claim it
// while its bookings are being taken out.
func (t *Tx) PlannedRemindersOf(ctx context.Context, messageID int64) ([]PlannedReminder, error) {
	lock := ""
	if t.s.dialect == Postgres && t.real != nil {
		lock = " FOR UPDATE OF m"
	}
	var out []PlannedReminder
	if err := t.tx.SelectContext(ctx, &out, t.s.rebind(`SELECT r.node, r.code, r.at, r.offset_days, r.day, r.message_id
		FROM reminders r JOIN messages m ON m.id = r.message_id
		WHERE r.message_id = ? AND r.status = 'planned' AND m.status = 'planned' ORDER BY r.node, r.code, r.at, r.offset_days`+lock), messageID); err != nil {
		return nil, fmt.Errorf("store: planned reminders of a message: %w", err)
	}
	return out, nil
}

// WithdrawReminder takes a booking out of its unsent message.
func (t *Tx) WithdrawReminder(ctx context.Context, r PlannedReminder) error {
	_, err := t.tx.ExecContext(ctx, t.s.rebind(`UPDATE reminders SET status = 'withdrawn' WHERE node = ? AND code = ? AND at = ? AND offset_days = ?`),
		r.Node, r.Code, r.At, r.Offset)
	if err != nil {
		return fmt.Errorf("store: withdraw reminder: %w", err)
	}
	return nil
}

// NewMessage is an outbox row to create.
type NewMessage struct {
	Kind      string
	Phone     string
	Day       string
	Offset    int
	Body      string
	Encoding  string
	Segments  int
	NotBefore time.Time
	ExpiresAt time.Time
	ImportID  int64
}

// InsertMessages creates planned messages and returns their ids by phone;
// phones must be distinct within one call.
func (t *Tx) InsertMessages(ctx context.Context, ms_ []NewMessage, now time.Time) (map[string]int64, error) {
	if t.s.dialect == Postgres {
		return t.insertMessagesArrays(ctx, ms_, now)
	}
	ids := make(map[string]int64, len(ms_))
	const batch = 500
	for len(ms_) > 0 {
		n := min(batch, len(ms_))
		var sb strings.Builder
		sb.WriteString(`INSERT INTO messages (kind, phone, day, offset_days, body, encoding, segments, status, not_before, expires_at, import_id, created_at, updated_at) VALUES `)
		args := make([]any, 0, n*13)
		for i, m := range ms_[:n] {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString("(?,?,?,?,?,?,?,'planned',?,?,?,?,?)")
			args = append(args, m.Kind, m.Phone, m.Day, m.Offset, m.Body, m.Encoding, m.Segments, ms(m.NotBefore), ms(m.ExpiresAt), m.ImportID, ms(now), ms(now))
		}
		sb.WriteString(` RETURNING id, phone`)
		st, err := t.prepared(ctx, sb.String())
		if err != nil {
			return nil, fmt.Errorf("store: insert messages: %w", err)
		}
		rows, err := st.QueryContext(ctx, args...)
		if err != nil {
			return nil, fmt.Errorf("store: insert messages: %w", err)
		}
		if err := idsByPhone(rows, ids); err != nil {
			return nil, err
		}
		ms_ = ms_[n:]
	}
	return ids, nil
}

// insertMessagesArrays is InsertMessages on PostgreSQL, a column an array
// (see upsertBookingsArrays).
func (t *Tx) insertMessagesArrays(ctx context.Context, ms_ []NewMessage, now time.Time) (map[string]int64, error) {
	const q = `INSERT INTO messages (kind, phone, day, offset_days, body, encoding, segments, status, not_before, expires_at, import_id, created_at, updated_at)
		SELECT u.kind, u.phone, u.day, u.offset_days, u.body, u.encoding, u.segments, 'planned', u.not_before, u.expires_at, u.import_id, $11::bigint, $11::bigint
		FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[])
			AS u(kind, phone, day, offset_days, body, encoding, segments, not_before, expires_at, import_id)
		RETURNING id, phone`
	ids := make(map[string]int64, len(ms_))
	for len(ms_) > 0 {
		n := min(arrayBatch, len(ms_))
		var (
			kind, phone, day, body, enc          = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
			off, segs, notBefore, expires, impID = make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		)
		for i, m := range ms_[:n] {
			kind[i], phone[i], day[i], off[i], body[i] = m.Kind, m.Phone, m.Day, int64(m.Offset), m.Body
			enc[i], segs[i], notBefore[i], expires[i], impID[i] = m.Encoding, int64(m.Segments), ms(m.NotBefore), ms(m.ExpiresAt), m.ImportID
		}
		rows, err := t.tx.QueryContext(ctx, q, kind, phone, day, off, body, enc, segs, notBefore, expires, impID, ms(now))
		if err != nil {
			return nil, fmt.Errorf("store: insert messages: %w", err)
		}
		if err := idsByPhone(rows, ids); err != nil {
			return nil, err
		}
		ms_ = ms_[n:]
	}
	return ids, nil
}

// idsByPhone reads an insert's RETURNING id, phone into ids, and closes
// rows.
func idsByPhone(rows *sql.Rows, ids map[string]int64) error {
	defer rows.Close()
	for rows.Next() {
		var id int64
		var phone string
		if err := rows.Scan(&id, &phone); err != nil {
			return err
		}
		ids[phone] = id
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return rows.Close()
}

// NewReminder ties a booking at a time and offset to a message.
type NewReminder struct {
	Node, Code string
	At         time.Time
	Offset     int
	Day        string
	MessageID  int64
}

// InsertReminders records reminders; an existing key is left alone, which
// is what makes re-importing an extract plan nothing new.
//
// The bulk writes go one row a statement on SQLite: a statement writing
// several rows keeps a journal of its own in a temporary file, to undo
// just that statement on an error, and writing that journal costs more
// than the statements saved (a third of a large import's time). On
// PostgreSQL, where each statement is a round trip, they go a column an
// array (see upsertBookingsArrays).
func (t *Tx) InsertReminders(ctx context.Context, rs []NewReminder, now time.Time) error {
	if t.s.dialect == Postgres {
		return t.insertRemindersArrays(ctx, rs, now)
	}
	const q = `INSERT INTO reminders (node, code, at, offset_days, day, message_id, status, created_at) VALUES (?,?,?,?,?,?,'planned',?)
		ON CONFLICT DO NOTHING`
	for _, r := range rs {
		if err := t.execBatch(ctx, q, r.Node, r.Code, ms(r.At), r.Offset, r.Day, r.MessageID, ms(now)); err != nil {
			return fmt.Errorf("store: insert reminders: %w", err)
		}
	}
	return nil
}

// insertRemindersArrays is InsertReminders on PostgreSQL, a column an
// array.
func (t *Tx) insertRemindersArrays(ctx context.Context, rs []NewReminder, now time.Time) error {
	const q = `INSERT INTO reminders (node, code, at, offset_days, day, message_id, status, created_at)
		SELECT u.*, 'planned', $7::bigint FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::bigint[]) AS u
		ON CONFLICT DO NOTHING`
	for len(rs) > 0 {
		n := min(arrayBatch, len(rs))
		var (
			node, code, day = make([]string, n), make([]string, n), make([]string, n)
			at, off, msgID  = make([]int64, n), make([]int64, n), make([]int64, n)
		)
		for i, r := range rs[:n] {
			node[i], code[i], at[i], off[i], day[i], msgID[i] = r.Node, r.Code, ms(r.At), int64(r.Offset), r.Day, r.MessageID
		}
		if _, err := t.tx.ExecContext(ctx, q, node, code, at, off, day, msgID, ms(now)); err != nil {
			return fmt.Errorf("store: insert reminders: %w", err)
		}
		rs = rs[n:]
	}
	return nil
}

// MessageBookings returns the bookings a message currently reminds of (its
// reminders not withdrawn), ordered by time.
func (t *Tx) MessageBookings(ctx context.Context, messageID int64) ([]cup.Booking, error) {
	var rows []bookingRow
	err := t.tx.SelectContext(ctx, &rows, t.s.rebind(`SELECT b.node, b.code, b.phone, r.at AS at, b.agenda, b.service_code, b.service, b.service_type, b.facility, b.address, b.priority, b.surname, b.name
		FROM reminders r JOIN bookings b ON b.node = r.node AND b.code = r.code
		WHERE r.message_id = ? AND r.status = 'planned' ORDER BY r.at, r.node, r.code`), messageID)
	if err != nil {
		return nil, fmt.Errorf("store: message bookings: %w", err)
	}
	out := make([]cup.Booking, len(rows))
	for i, r := range rows {
		out[i] = r.booking()
	}
	return out, nil
}

// UpdatePlannedBody rewrites a message that has not been claimed yet; it
// reports false when the message has already left the planned state.
func (t *Tx) UpdatePlannedBody(ctx context.Context, id int64, body, encoding string, segments int, now time.Time) (bool, error) {
	res, err := t.tx.ExecContext(ctx, t.s.rebind(`UPDATE messages SET body = ?, encoding = ?, segments = ?, updated_at = ? WHERE id = ? AND status = 'planned'`),
		body, encoding, segments, ms(now), id)
	if err != nil {
		return false, fmt.Errorf("store: update body: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// WithdrawMessage withdraws a planned message.
func (t *Tx) WithdrawMessage(ctx context.Context, id int64, reason string, now time.Time) (bool, error) {
	res, err := t.tx.ExecContext(ctx, t.s.rebind(`UPDATE messages SET status = 'withdrawn', error = ?, final_at = ?, updated_at = ? WHERE id = ? AND status = 'planned'`),
		reason, ms(now), ms(now), id)
	if err != nil {
		return false, fmt.Errorf("store: withdraw message: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
