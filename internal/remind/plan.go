package remind

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/extsort"
	"github.com/richiamo/richiamo/internal/phone"
	"github.com/richiamo/richiamo/internal/store"
)

// Source is one input of a run: an extract file to read (R), or rows
// already read from elsewhere, such as a CUP node's database (Rows).
type Source struct {
	Name string
	R    io.Reader
	Rows Rows
	// Covers lists the (node, day) pairs the source is complete for, even
	// where it has no rows: a node's query covers its whole window. A file
	// covers the (node, day) pairs of its rows.
	Covers []store.NodeDay
}

// Rows yields bookings and rejections in source order, io.EOF at the end;
// *cup.ExtractReader is one.
type Rows interface {
	Next() (cup.Booking, *cup.Rejection, error)
}

// Options choose what a run plans.
type Options struct {
	// RunDay is the day of the run (its date in Europe/Rome); the campaign's
	// days_before decide which appointment days are due.
	RunDay time.Time
	// ForDate, when set, reminds exactly the appointments of that day.
	ForDate time.Time
	// DryRun computes the plan against the current state and stores
	// nothing.
	DryRun bool
}

// Report is what a run did. Its JSON form is part of the command line.
type Report struct {
	Rows       int             `json:"rows"`
	Valid      int             `json:"valid"`
	Duplicates int             `json:"duplicates"`
	Conflicts  int             `json:"conflicts"`
	Rejected   []cup.Rejection `json:"rejected"`
	Bookings   int             `json:"bookings"`
	Messages   int             `json:"messages"`
	Updated    int             `json:"updated_messages"`
	Withdrawn  int             `json:"withdrawn_messages"`
	Segments   int             `json:"segments"`
	GSM7       int             `json:"gsm7"`
	UCS2       int             `json:"ucs2"`
	Days       []string        `json:"days"`
	ImportID   int64           `json:"import_id,omitempty"`
	DryRun     bool            `json:"dry_run"`
	ByReason   map[string]int  `json:"rejected_by_reason"`
	Sent       *SendStats      `json:"sent,omitempty"`
	// NotDue counts the valid bookings whose appointment day no reminder
	// of this run is for, by day (at most 31 days; the rest under
	// "later"); TooLate those on a day due but within min_notice.
	NotDue  map[string]int `json:"not_due_by_day,omitempty"`
	TooLate int            `json:"too_late,omitempty"`
	// Waiting are planned messages not yet due, because of the sending
	// hours, from WaitingFrom.
	Waiting     int       `json:"waiting,omitempty"`
	WaitingFrom time.Time `json:"waiting_from,omitzero"`
	// Nodes is what each CUP node's database gave, when nodes were read.
	Nodes []NodeReport `json:"nodes,omitempty"`
}

// NodeReport is what a run got from one CUP node.
type NodeReport struct {
	Node     string `json:"node"`
	OK       bool   `json:"ok"`
	Rows     int    `json:"rows"`
	Bookings int    `json:"bookings"`
	Rejected int    `json:"rejected"`
	Cause    string `json:"cause,omitempty"`
	Error    string `json:"error,omitempty"`
	Millis   int64  `json:"elapsed_ms"`
}

// Planner turns extracts into planned reminder messages.
type Planner struct {
	Store    *store.Store
	Campaign *Campaign
	Layout   cup.Layout
	Log      *slog.Logger
	Now      func() time.Time
	// Progress, if set, is called every few thousand rows read.
	Progress func(rows int)
	// Recording, if set, is called after each transaction recording the
	// bookings read, with the rows recorded so far and their total.
	Recording func(done, total int)
	// Planning, if set, is called after each transaction of the plan, with
	// the bookings due planned so far and their total.
	Planning func(done, total int)
	// sortMemory, when set, is the memory each of a run's sorters holds
	// before writing to a file, instead of the defaults (for the tests).
	sortMemory int
	// renderedAhead counts the messages rendered ahead of the plan's
	// transactions, and chunkSize, when set, is the patients of every
	// chunk of the plan (for the tests).
	renderedAhead *atomic.Int64
	chunkSize     int
}

type target struct {
	day    string
	offset int
}

// digest identifies (node, booking code) or a reminder key in 128 bits, so
// that the sets of a million-row extract stay small and pointer-free.
type digest [16]byte

func keyOf(parts ...string) digest {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	var d digest
	copy(d[:], h.Sum(nil))
	return d
}

func reminderKey(node, code string, at time.Time, offset int) digest {
	return keyOf(node, code, strconv.FormatInt(at.UnixMilli(), 10), strconv.Itoa(offset))
}

// run is one planning run's working state.
type run struct {
	p       *Planner
	tx      *store.Tx
	rep     *Report
	now     time.Time
	targets []target
	byDay   map[string]int // appointment day → index in targets

	optOuts  map[string]bool
	reminded map[digest]struct{}
	planned  map[groupKey]int64 // unsent message per (target, phone)
	cover    map[store.NodeDay]bool
	// The rows as read; the bookings to remind, by patient; the extract's
	// bookings, for withdrawal. The last two are filled by settle.
	rows *extsort.Sorter[readRow]
	due  *extsort.Sorter[dueRow]
	seen *extsort.Sorter[seenRow]
	// The bookings in full: every valid row's (only the due ones' in a dry
	// run), which due points into, and stored by the store's key, what
	// recordBookings writes.
	spool  arena
	stored *extsort.Sorter[storedRow]
	// What readRow's indexes point to.
	names    []string
	nodes    []string
	nodeIdx  map[string]uint16
	days     []string
	dayIdx   map[string]uint16
	notDue   map[uint16]int // valid bookings by day no reminder is for
	batch    []cup.Booking
	batchMax batchSizer    // bookings per transaction of the reading
	planMax  batchSizer    // patients per transaction of the plan
	lastTx   time.Time     // when the run's last transaction ended
	lastHold time.Duration // and how long it held the store
	sinceWAL int           // transactions since the log last started again

	// What withdraw took out, so that planning afterwards (which a dry run
	// cannot read back from the store) does not put it back.
	gone    map[int64]bool  // messages withdrawn
	goneRem map[string]bool // node, code of reminders withdrawn
}

type groupKey struct {
	phone  uint64
	target int
}

// The run records the bookings, and the plan writes its messages, in
// transactions sized to hold the store for about batchHold each, from what
// the last one took: longer ones write each page of the indexes fewer
// times (a transaction of 20,000 bookings costs a third of ten of 2,000),
// shorter ones keep the webhooks and the console waiting less. maxBatch
// bounds what a transaction holds in memory; at 20,000 it, not batchHold,
// set the size on 2 cores (half a second), and a million-row import took
// 86 s where it takes 74 s at 40,000 (60,000: the same 74 s).
const (
	minBatch  = 2000
	maxBatch  = 40000
	batchHold = time.Second
	maxPlan   = 20000
)

// lockGap is how long, on SQLite, the store's one write lock is left free
// between two of a run's transactions (at most as long as the last one
// held it). One waiting for it (a webhook, an operator's action, in
// another process) retries at most every 100 ms, so a shorter gap could
// pass it by, again and again, until it gave up.
const lockGap = 110 * time.Millisecond

// Every walEvery transactions, the gap is also a moment to have the SQLite
// log start again (store.RestartWAL), waiting at most walWait for readers.
const (
	walEvery = 8
	walWait  = 100 * time.Millisecond
)

// batchSizer is how many items the next transaction takes: at most max,
// maxBatch when 0.
type batchSizer struct{ n, max int }

func (b *batchSizer) size() int {
	if b.n == 0 {
		return minBatch
	}
	return b.n
}

// took records that the last transaction wrote n items in d.
func (b *batchSizer) took(n int, d time.Duration) {
	d = max(d, time.Millisecond)
	b.n = min(max(int(float64(n)*float64(batchHold)/float64(d)), minBatch), cmp.Or(b.max, maxBatch))
}

// giveWay waits, on SQLite, until the write lock has been free for lockGap
// since the run's last transaction, or for as long as that held it.
func (r *run) giveWay(ctx context.Context) error {
	if r.p.Store.Dialect() != store.SQLite || r.lastTx.IsZero() {
		return nil
	}
	if r.sinceWAL >= walEvery {
		r.sinceWAL = 0
		if _, err := r.p.Store.RestartWAL(ctx, walWait); err != nil {
			return err
		}
	}
	wait := min(lockGap, r.lastHold) - time.Since(r.lastTx)
	if wait <= 0 {
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// inTx runs f in a transaction of its own and commits it.
func (p *Planner) inTx(ctx context.Context, f func(*store.Tx) error) error {
	tx, err := p.Store.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := f(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("remind: commit: %w", err)
	}
	return nil
}

// Plan reads the sources and plans the reminders due. The bookings are
// recorded once read, in the store's key order; what the run keeps of them
// is sorted on disk beyond a few tens of MB, so its memory does not grow
// with the extract. The plan is computed and written a few
// thousand patients at a time, each in a transaction of its own that reads
// afresh what was planned for those bookings: two runs at once never plan
// the same reminder, and a crash keeps what was committed, which the next
// run leaves out. A dry run is the same computation without the writing.
func (p *Planner) Plan(ctx context.Context, sources []Source, o Options) (*Report, error) {
	now := p.Now()
	targets, err := p.targets(now, o)
	if err != nil {
		return nil, err
	}
	r := &run{p: p, now: now, targets: targets, byDay: map[string]int{},
		rep:   &Report{DryRun: o.DryRun, Rejected: []cup.Rejection{}, ByReason: map[string]int{}},
		cover: map[store.NodeDay]bool{}, nodeIdx: map[string]uint16{}, dayIdx: map[string]uint16{}, notDue: map[uint16]int{},
		rows:     extsort.New(byBookingThenOrder, readRowCodec, cmp.Or(p.sortMemory, readMem)),
		due:      extsort.New(byTargetPatientOrder, dueRowCodec, cmp.Or(p.sortMemory, dueMem)),
		seen:     extsort.New(byKey, seenRowCodec, cmp.Or(p.sortMemory, seenMem)),
		stored:   extsort.New(byStoreKeyThenOrder, storedRowCodec, cmp.Or(p.sortMemory, storedMem)),
		reminded: map[digest]struct{}{}, planned: map[groupKey]int64{}, gone: map[int64]bool{}, goneRem: map[string]bool{},
		planMax: batchSizer{max: maxPlan}}
	defer r.spool.close()
	defer r.stored.Close()
	defer r.rows.Close()
	defer r.due.Close()
	defer r.seen.Close()
	for i, t := range targets {
		r.byDay[t.day] = i
		r.rep.Days = append(r.rep.Days, t.day)
	}
	if len(sources) > math.MaxUint16 {
		return nil, fmt.Errorf("remind: %d sources in one run, at most %d", len(sources), math.MaxUint16)
	}
	names := make([]string, len(sources))
	for i, s := range sources {
		names[i] = s.Name
	}
	r.names = names
	// The extract is read, then its bookings recorded in short
	// transactions of their own, so that the console and the webhooks are
	// answered while a long extract is recorded. Then, each in a
	// transaction holding the planning lock: the rejections, the coverage
	// and the withdrawals; the messages and their reminders, a chunk of
	// patients at a time; the import's totals. A message is written with its reminders, never
	// without. What a crash can leave is an import without totals, with
	// part of its plan: the next run records the bookings again and plans
	// what is missing.
	if !o.DryRun {
		err := p.inTx(ctx, func(tx *store.Tx) (err error) {
			r.rep.ImportID, err = tx.StartImport(ctx, strings.Join(names, ", "), now)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	if r.optOuts, err = p.Store.View().OptOuts(ctx); err != nil {
		return nil, err
	}
	if err := r.read(ctx, sources); err != nil {
		return nil, err
	}
	if err := r.settle(); err != nil {
		return nil, err
	}
	touched, err := r.findWithdrawals(ctx)
	if err != nil {
		return nil, err
	}
	err = r.step(ctx, func() error {
		if !o.DryRun {
			if err := r.recordRead(ctx); err != nil {
				return err
			}
		}
		return r.withdraw(ctx, touched)
	})
	if err != nil {
		return nil, err
	}
	if err := r.planGroups(ctx); err != nil {
		return nil, err
	}
	if o.DryRun {
		return r.rep, nil
	}
	rep := r.rep
	err = r.step(ctx, func() error {
		return r.tx.FinishImport(ctx, rep.ImportID, store.ImportCounts{Rows: rep.Rows, Valid: rep.Valid, Duplicates: rep.Duplicates, Rejected: len(rep.Rejected)}, p.Now())
	})
	if err != nil {
		return nil, err
	}
	p.Log.Info("reminders planned", "import", rep.ImportID, "rows", rep.Rows, "valid", rep.Valid,
		"rejected", len(rep.Rejected), "duplicates", rep.Duplicates, "messages", rep.Messages,
		"updated", rep.Updated, "withdrawn", rep.Withdrawn)
	return rep, nil
}

// step runs f with r.tx a transaction of its own that holds the planning
// lock, and commits it; in a dry run, r.tx is the store as it is, and
// nothing is written.
func (r *run) step(ctx context.Context, f func() error) error {
	if r.rep.DryRun {
		r.tx = r.p.Store.View()
		return f()
	}
	if err := r.giveWay(ctx); err != nil {
		return err
	}
	start := time.Now()
	tx, err := r.p.Store.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	r.tx = tx
	defer func() { r.tx, r.lastTx, r.lastHold = nil, time.Now(), time.Since(start); r.sinceWAL++ }()
	if err := tx.LockPlanning(ctx); err != nil {
		return err
	}
	if err := f(); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("remind: commit plan: %w", err)
	}
	return nil
}

func dayOf(t time.Time) time.Time {
	t = t.In(cup.Rome)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, cup.Rome)
}

// Days returns the appointment days a run with these options reminds, so
// that sources can be asked for just those.
func (p *Planner) Days(o Options) ([]time.Time, error) {
	ts, err := p.targets(p.Now(), o)
	if err != nil {
		return nil, err
	}
	out := make([]time.Time, len(ts))
	for i, t := range ts {
		d, err := time.ParseInLocation(store.DayLayout, t.day, cup.Rome)
		if err != nil {
			return nil, err
		}
		out[i] = d
	}
	return out, nil
}

func (p *Planner) targets(now time.Time, o Options) ([]target, error) {
	run := dayOf(now)
	if !o.RunDay.IsZero() {
		run = dayOf(o.RunDay)
	}
	if !o.ForDate.IsZero() {
		d := dayOf(o.ForDate)
		off := int(d.Sub(run).Round(24*time.Hour) / (24 * time.Hour))
		if off < 0 {
			return nil, fmt.Errorf("remind: %s is before the run day %s", d.Format(store.DayLayout), run.Format(store.DayLayout))
		}
		return []target{{day: d.Format(store.DayLayout), offset: off}}, nil
	}
	var out []target
	for _, off := range p.Campaign.DaysBefore {
		out = append(out, target{day: run.AddDate(0, 0, off).Format(store.DayLayout), offset: off})
	}
	return out, nil
}

// loadChunk reads, in the chunk's transaction, what its planning depends
// on: the reminders of its bookings, and its patients' unsent messages.
func (r *run) loadChunk(ctx context.Context, keys []groupKey, bookings [][]cup.Booking) error {
	clear(r.reminded)
	clear(r.planned)
	var bks []store.BookingKey
	for _, bs := range bookings {
		for _, b := range bs {
			bks = append(bks, store.BookingKey{Node: b.Node, Code: b.Code})
		}
	}
	if err := r.tx.RemindersOf(ctx, bks, func(node, code string, at time.Time, offset int) {
		r.reminded[reminderKey(node, code, at, offset)] = struct{}{}
	}); err != nil {
		return err
	}
	// The keys come sorted by target: one lookup per target.
	for i := 0; i < len(keys); {
		ti := keys[i].target
		var phones []string
		for ; i < len(keys) && keys[i].target == ti; i++ {
			phones = append(phones, phoneString(keys[i].phone))
		}
		t := r.targets[ti]
		pms, err := r.tx.PlannedMessagesOf(ctx, t.day, t.offset, phones)
		if err != nil {
			return err
		}
		for _, m := range pms {
			if k, ok := phoneKey(m.Phone); ok {
				r.planned[groupKey{k, ti}] = m.ID
			}
		}
	}
	return nil
}

func (r *run) reject(rej cup.Rejection) {
	// The node (and perhaps the detail) may be cut from the row's text,
	// which would keep the whole row in memory while the report lasts: a
	// four-million-row extract's rejections kept 19.5 MB of rows so.
	rej.Node, rej.Detail = strings.Clone(rej.Node), strings.Clone(rej.Detail)
	r.rep.Rejected = append(r.rep.Rejected, rej)
	r.rep.ByReason[string(rej.Reason)]++
}

// read streams the extracts: validation and opt-outs; each valid row goes
// to the sort by booking (settle finds the duplicates there), its booking
// to the spool, for the store and, when due, the plan.
func (r *run) read(ctx context.Context, sources []Source) error {
	rep := r.rep
	minAt := r.now.Add(r.p.Campaign.MinNotice.D())
	for si, src := range sources {
		for _, c := range src.Covers {
			r.cover[c] = true
		}
		rd := src.Rows
		if rd == nil {
			er, err := cup.NewExtractReader(src.R, src.Name, r.p.Layout)
			if err != nil {
				return fmt.Errorf("remind: %w", err)
			}
			rd = er
		}
		for {
			b, rej, err := rd.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return fmt.Errorf("remind: %s: %w", src.Name, err)
			}
			rep.Rows++
			if r.p.Progress != nil && rep.Rows%10000 == 0 {
				r.p.Progress(rep.Rows)
			}
			if rej != nil {
				r.reject(*rej)
				continue
			}
			if r.optOuts[b.Phone] {
				r.reject(cup.Rejection{File: b.Source, Line: b.Line, Reason: cup.ReasonOptedOut, Detail: "the number asked for no more messages", Node: b.Node})
				continue
			}
			pk, ok := phoneKey(b.Phone)
			if !ok {
				r.reject(cup.Rejection{File: b.Source, Line: b.Line, Reason: cup.ReasonInvalidPhone, Detail: "column cellulare: not a valid number", Node: b.Node})
				continue
			}
			ref := noRecord
			if !r.rep.DryRun {
				if ref = r.spool.addFull(&b); r.spool.err != nil {
					return r.spool.err
				}
			}
			row, err := r.rowOf(&b, pk, minAt, ref)
			if err != nil {
				return err
			}
			row.src = uint16(si)
			if err := r.rows.Add(row); err != nil {
				return err
			}
			if !r.rep.DryRun {
				if err := r.stored.Add(storedRow{key: storeKey(b.Node, b.Code), seq: row.seq, ref: ref}); err != nil {
					return err
				}
			}
		}
	}
	if r.p.Progress != nil {
		r.p.Progress(rep.Rows)
	}
	if rep.DryRun {
		return nil
	}
	// Sorted now, the rows' last run goes to its file before the
	// recording rather than after it: up to 37 MB less memory meanwhile.
	if err := r.rows.Sort(); err != nil {
		return err
	}
	return r.recordBookings(ctx)
}

// recordBookings records the extract's bookings from the spool, in the
// store's key order, in transactions of their own (the first row of a
// repeated booking only). Written in the order read, a million-row
// import took 110.6 s on SQLite rather than 85.8 s: each transaction
// dirtied pages all over the table, and each commit wrote them to the log
// again.
func (r *run) recordBookings(ctx context.Context) error {
	defer r.stored.Close()
	if err := r.stored.Sort(); err != nil {
		return err
	}
	total, done := r.stored.Len(), 0
	it := r.stored.Iter()
	var last cup.Booking
	for row, ok := it.Next(); ok; row, ok = it.Next() {
		b, err := r.spool.getFull(row.ref)
		if err != nil {
			return err
		}
		done++
		if done > 1 && b.Node == last.Node && b.Code == last.Code {
			continue // a later row of the same booking: the first one wins
		}
		last = b
		r.batch = append(r.batch, b)
		if len(r.batch) >= r.batchMax.size() {
			if err := r.flushBookings(ctx); err != nil {
				return err
			}
			if r.p.Recording != nil {
				r.p.Recording(done, total)
			}
		}
	}
	if err := it.Err(); err != nil {
		return err
	}
	if err := r.flushBookings(ctx); err != nil {
		return err
	}
	r.batch = nil // 12 MB at 40,000 bookings, of no more use to the plan
	if r.p.Recording != nil {
		r.p.Recording(total, total)
	}
	return nil
}

// rowOf is what the run keeps of a valid row, pointing to its booking in
// the spool (at ref, or packed there now) when it is due.
func (r *run) rowOf(b *cup.Booking, pk uint64, minAt time.Time, ref uint32) (readRow, error) {
	if uint64(r.rows.Len()) >= math.MaxUint32 || uint64(b.Line) > math.MaxUint32 {
		return readRow{}, fmt.Errorf("remind: %s: more rows than one run can hold", b.Source)
	}
	day := b.At.In(cup.Rome).Format(store.DayLayout)
	node, err := intern(&r.nodes, r.nodeIdx, b.Node)
	if err != nil {
		return readRow{}, fmt.Errorf("remind: %s: CUP nodes: %w", b.Source, err)
	}
	di, err := intern(&r.days, r.dayIdx, day)
	if err != nil {
		return readRow{}, fmt.Errorf("remind: %s: appointment days: %w", b.Source, err)
	}
	row := readRow{key: keyOf(b.Node, b.Code), at: b.At.UnixMilli(), phone: pk, seq: uint32(r.rows.Len()), line: uint32(b.Line),
		ref: noRecord, node: node, day: di, target: -1}
	if ti, due := r.byDay[day]; due {
		row.target = int16(ti)
		row.late = !b.At.After(minAt)
		if !row.late {
			// Whether it was reminded already is known only in the plan's
			// transaction: jobsFor leaves those out. A repeated row is
			// packed too, and left there.
			if ref == noRecord {
				if ref = r.spool.addFull(b); r.spool.err != nil {
					return readRow{}, r.spool.err
				}
			}
			row.ref = ref
		}
	}
	return row, nil
}

// intern returns the index of s in *list, adding it if new.
func intern(list *[]string, idx map[string]uint16, s string) (uint16, error) {
	if i, ok := idx[s]; ok {
		return i, nil
	}
	if len(*list) > math.MaxUint16 {
		return 0, fmt.Errorf("more than %d distinct", math.MaxUint16+1)
	}
	i := uint16(len(*list))
	*list = append(*list, s)
	idx[s] = i
	return i, nil
}

// settle goes through the rows read, by booking: the first row of each is
// kept, the others are duplicates; the bookings kept are counted, give
// the coverage, and, when due, go to the plan.
func (r *run) settle() error {
	rep := r.rep
	if err := r.rows.Sort(); err != nil {
		return err
	}
	it := r.rows.Iter()
	var first readRow
	have := false
	for row, ok := it.Next(); ok; row, ok = it.Next() {
		if have && row.key == first.key {
			rep.Duplicates++
			if row.at != first.at || row.phone != first.phone {
				// Same booking code at another time or number: the first
				// row wins, and the operator is told.
				rep.Conflicts++
				r.p.Log.Warn("booking repeated with different time or number; first row kept",
					"file", r.names[row.src], "line", row.line, "first_file", r.names[first.src], "first_line", first.line)
			}
			continue
		}
		first, have = row, true
		rep.Valid++
		r.cover[store.NodeDay{Node: r.nodes[row.node], Day: r.days[row.day]}] = true
		if err := r.seen.Add(seenRow{key: row.key, at: row.at}); err != nil {
			return err
		}
		switch {
		case row.target < 0:
			r.notDue[row.day]++
		case row.late:
			rep.TooLate++
		default:
			if err := r.due.Add(dueRow{phone: row.phone, seq: row.seq, ref: row.ref, target: row.target}); err != nil {
				return err
			}
		}
	}
	if err := it.Err(); err != nil {
		return err
	}
	r.rows.Close()
	// At most 31 days by name, the earliest; the rest as "later".
	days := make([]uint16, 0, len(r.notDue))
	for d := range r.notDue {
		days = append(days, d)
	}
	slices.SortFunc(days, func(a, b uint16) int { return strings.Compare(r.days[a], r.days[b]) })
	for i, d := range days {
		if rep.NotDue == nil {
			rep.NotDue = map[string]int{}
		}
		if i < 31 {
			rep.NotDue[r.days[d]] = r.notDue[d]
		} else {
			rep.NotDue["later"] += r.notDue[d]
		}
	}
	if err := r.seen.Sort(); err != nil {
		return err
	}
	return r.due.Sort()
}

// recordRead records, in the plan's transaction, the import's rejected
// rows and what it covered.
func (r *run) recordRead(ctx context.Context) error {
	rep := r.rep
	if err := r.tx.AddRejections(ctx, rep.ImportID, rep.Rejected); err != nil {
		return err
	}
	cs := make([]store.NodeDay, 0, len(r.cover))
	for c := range r.cover {
		cs = append(cs, c)
	}
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].Node != cs[j].Node {
			return cs[i].Node < cs[j].Node
		}
		return cs[i].Day < cs[j].Day
	})
	return r.tx.AddCoverage(ctx, rep.ImportID, cs)
}

func (r *run) flushBookings(ctx context.Context) error {
	if len(r.batch) == 0 {
		return nil
	}
	if err := r.giveWay(ctx); err != nil {
		return err
	}
	start := time.Now()
	err := r.p.inTx(ctx, func(tx *store.Tx) error {
		return tx.UpsertBookings(ctx, r.rep.ImportID, r.batch, r.now)
	})
	r.lastTx, r.lastHold = time.Now(), time.Since(start)
	r.sinceWAL++
	r.batchMax.took(len(r.batch), r.lastHold)
	clear(r.batch) // the bookings hold their row's text: let it go
	r.batch = r.batch[:0]
	return err
}

// findWithdrawals finds, before the plan's transaction, the unsent
// messages with bookings that this extract shows moved to another time, or
// that are missing from it although it covers their node and day: the
// planned reminders are read from the store's readers, one at a time, and
// sorted by booking on disk beyond a few MB, to be walked beside the
// extract's bookings. With a million reminders waiting, reading them in
// the transaction was about 9 s of a re-import's CPU (by its profile), all
// of it under the store's write lock.
func (r *run) findWithdrawals(ctx context.Context) (map[int64]map[bookingAt]bool, error) {
	planned := extsort.New(byPlannedKey, plannedRowCodec, cmp.Or(r.p.sortMemory, plannedMem))
	defer planned.Close()
	err := r.p.Store.Reader().EachPlannedReminder(ctx, func(pr store.PlannedReminder) error {
		return planned.Add(plannedRow{key: keyOf(pr.Node, pr.Code), at: pr.At, msg: pr.MessageID,
			covered: r.cover[store.NodeDay{Node: pr.Node, Day: pr.Day}]})
	})
	if err != nil {
		return nil, err
	}
	if err := planned.Sort(); err != nil {
		return nil, err
	}
	touched := map[int64]map[bookingAt]bool{}
	seen := r.seen.Iter()
	s, more := seen.Next()
	it := planned.Iter()
	for pr, ok := it.Next(); ok; pr, ok = it.Next() {
		for more && bytes.Compare(s.key[:], pr.key[:]) < 0 {
			s, more = seen.Next()
		}
		if err := seen.Err(); err != nil {
			return nil, err
		}
		inExtract := more && s.key == pr.key
		moved := inExtract && s.at != pr.at
		gone := !inExtract && pr.covered
		if moved || gone {
			if touched[pr.msg] == nil {
				touched[pr.msg] = map[bookingAt]bool{}
			}
			touched[pr.msg][bookingAt{pr.key, pr.at}] = true
		}
	}
	return touched, it.Err()
}

// bookingAt is a reminder of a message: its booking and the time it is for.
type bookingAt struct {
	key digest
	at  int64
}

// withdraw takes out of the unsent messages found by findWithdrawals the
// bookings moved or missing; what is left is re-rendered, or the message
// withdrawn. Each message is read again in the transaction: one sent
// meanwhile is left alone.
func (r *run) withdraw(ctx context.Context, touched map[int64]map[bookingAt]bool) error {
	ids := make([]int64, 0, len(touched))
	for id := range touched {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		prs, err := r.tx.PlannedRemindersOf(ctx, id)
		if err != nil {
			return err
		}
		var out []store.PlannedReminder
		for _, pr := range prs {
			if touched[id][bookingAt{keyOf(pr.Node, pr.Code), pr.At}] {
				out = append(out, pr)
			}
		}
		if len(out) == 0 {
			continue
		}
		bs, err := r.tx.MessageBookings(ctx, id)
		if err != nil {
			return err
		}
		for _, pr := range out {
			r.goneRem[pr.Node+"\x00"+pr.Code] = true
			if !r.rep.DryRun {
				if err := r.tx.WithdrawReminder(ctx, pr); err != nil {
					return err
				}
			}
		}
		left := slices.DeleteFunc(bs, func(b cup.Booking) bool { return r.goneRem[b.Node+"\x00"+b.Code] })
		if len(left) == 0 {
			r.rep.Withdrawn++
			r.gone[id] = true
			if !r.rep.DryRun {
				if _, err := r.tx.WithdrawMessage(ctx, id, "bookings no longer in the extract", r.now); err != nil {
					return err
				}
			}
			continue
		}
		rd, err := r.p.Campaign.Render(left)
		if err != nil {
			return err
		}
		r.rep.Updated++
		if !r.rep.DryRun {
			if _, err := r.tx.UpdatePlannedBody(ctx, id, rd.Body, string(rd.Info.Encoding), rd.Info.Segments, r.now); err != nil {
				return err
			}
		}
	}
	return nil
}

// job is one message to render: new, or an unsent one rewritten.
type job struct {
	t        target
	bookings []cup.Booking
	existing int64         // message id when rewriting
	added    []cup.Booking // the bookings joining an existing message
	out      Rendered
	err      error
	rendered bool // out and err are set
}

// chunk is a chunk of patients of the plan, their bookings out of the
// spool, with the messages each patient gets when nothing is planned for
// them yet, rendered ahead: the usual case of a day's first import.
type chunk struct {
	part     []groupKey
	bookings [][]cup.Booking
	ahead    [][]job // by patient; nil when not rendered ahead
	done     int     // the bookings due up to this chunk's last
	err      error
}

// planGroups renders and records the messages, by target and phone, a
// chunk of patients at a time. The chunks are read and their fresh
// messages rendered (over the processors) by a goroutine of their own, a
// chunk ahead of the transaction writing the last one: the store's work
// and the rendering overlap, and the rendering is off the write lock.
// In the transaction, a patient whose bookings were all unreminded and
// who has no message to join gets the messages rendered ahead, the same
// as jobsFor makes; any other is rendered there. When most of a chunk's
// patients had no use for them (the same extract imported again), the
// next chunk is not rendered ahead, until one is mostly new again.
func (r *run) planGroups(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	chunks := make(chan *chunk) // one chunk ahead, not two: the memory of a chunk is tens of MB
	var size atomic.Int64
	nextSize := func() { size.Store(int64(cmp.Or(r.p.chunkSize, r.planMax.size()))) }
	nextSize()
	var ahead atomic.Bool
	ahead.Store(true)
	go r.readChunks(ctx, &size, &ahead, chunks)
	defer func() {
		cancel()
		for range chunks { // until readChunks is done with the spool
		}
	}()
	total := r.due.Len()
	var jobs []job
	for c := range chunks {
		if c.err != nil {
			return c.err
		}
		fits := 0 // patients whose messages are those rendered ahead
		err := r.step(ctx, func() error {
			if err := r.loadChunk(ctx, c.part, c.bookings); err != nil {
				return err
			}
			jobs, fits = jobs[:0], 0
			for gi, k := range c.part {
				var mine []job
				if c.ahead != nil {
					mine = c.ahead[gi]
				}
				js, fit, err := r.jobsFor(ctx, k, c.bookings[gi], mine)
				if err != nil {
					return err
				}
				if fit {
					fits++
				}
				jobs = append(jobs, js...)
			}
			renderAll(r.p.Campaign, jobs)
			return r.record(ctx, jobs)
		})
		if err != nil {
			return err
		}
		r.planMax.took(len(c.part), r.lastHold)
		nextSize()
		ahead.Store(2*fits >= len(c.part))
		if r.p.Planning != nil {
			r.p.Planning(c.done, total)
		}
	}
	return ctx.Err()
}

// readChunks sends planGroups the chunks of patients due, each of about
// size patients, rendered ahead while ahead holds; it closes out when
// done, or after a chunk with an error, or when ctx ends.
func (r *run) readChunks(ctx context.Context, size *atomic.Int64, ahead *atomic.Bool, out chan<- *chunk) {
	defer close(out)
	send := func(c *chunk) bool {
		select {
		case out <- c:
			return c.err == nil
		case <-ctx.Done():
			return false
		}
	}
	it := r.due.Iter()
	next, more := it.Next()
	done := 0
	for more {
		c := &chunk{}
		for n := int(size.Load()); more && len(c.part) < n; {
			k := groupKey{phone: next.phone, target: int(next.target)}
			var bs []cup.Booking
			for more && next.phone == k.phone && int(next.target) == k.target {
				b, err := r.spool.getFull(next.ref)
				if err != nil {
					send(&chunk{err: err})
					return
				}
				bs = append(bs, b)
				next, more = it.Next()
			}
			c.part, c.bookings = append(c.part, k), append(c.bookings, bs)
			done += len(bs)
		}
		if err := it.Err(); err != nil {
			send(&chunk{err: err})
			return
		}
		c.done = done
		if ahead.Load() {
			r.renderAhead(c)
		}
		if !send(c) {
			return
		}
	}
	if err := it.Err(); err != nil {
		send(&chunk{err: err})
	}
}

// renderAhead renders the messages of each patient of c as if none of its
// bookings were reminded and no message of theirs waited to be joined.
func (r *run) renderAhead(c *chunk) {
	var all []job
	ends := make([]int, len(c.part))
	for gi, k := range c.part {
		// Sorted in place, stably: jobsFor sorts them so again.
		all = append(all, r.fresh(r.targets[k.target], c.bookings[gi])...)
		ends[gi] = len(all)
	}
	renderAll(r.p.Campaign, all)
	if r.p.renderedAhead != nil {
		r.p.renderedAhead.Add(int64(len(all)))
	}
	c.ahead = make([][]job, len(c.part))
	from := 0
	for gi, end := range ends {
		c.ahead[gi] = all[from:end:end]
		from = end
	}
}

// fresh splits bookings into new messages for t, at most MaxPerMessage
// each, in the order of their times.
func (r *run) fresh(t target, bs []cup.Booking) []job {
	slices.SortStableFunc(bs, func(a, b cup.Booking) int { return a.At.Compare(b.At) })
	var out []job
	for len(bs) > 0 {
		g := bs[:min(r.p.Campaign.MaxPerMessage, len(bs))]
		bs = bs[len(g):]
		out = append(out, job{t: t, bookings: g})
	}
	return out
}

// jobsFor turns a patient's bookings of a day into messages: joining an
// unsent message when there is one with room, at most MaxPerMessage each.
// ahead, when not nil, is what renderAhead made of read: the answer when
// no booking of read was reminded and no message is joined, which fit
// reports (given ahead or not).
func (r *run) jobsFor(ctx context.Context, k groupKey, read []cup.Booking, ahead []job) (_ []job, fit bool, _ error) {
	t := r.targets[k.target]
	var bs []cup.Booking
	for _, b := range read {
		if _, done := r.reminded[reminderKey(b.Node, b.Code, b.At, t.offset)]; !done {
			bs = append(bs, b)
		}
	}
	if len(bs) == 0 {
		return nil, false, nil
	}
	slices.SortStableFunc(bs, func(a, b cup.Booking) int { return a.At.Compare(b.At) })
	max := r.p.Campaign.MaxPerMessage
	var out []job
	if id, ok := r.planned[k]; ok && !r.gone[id] {
		cur, err := r.tx.MessageBookings(ctx, id)
		if err != nil {
			return nil, false, err
		}
		cur = slices.DeleteFunc(cur, func(b cup.Booking) bool { return r.goneRem[b.Node+"\x00"+b.Code] })
		if room := max - len(cur); room > 0 {
			take := bs[:min(room, len(bs))]
			bs = bs[len(take):]
			all := append(append([]cup.Booking{}, cur...), take...)
			slices.SortStableFunc(all, func(a, b cup.Booking) int { return a.At.Compare(b.At) })
			out = append(out, job{t: t, bookings: all, existing: id, added: take})
		}
	}
	if fit = len(out) == 0 && len(bs) == len(read); fit && ahead != nil {
		return ahead, true, nil
	}
	return append(out, r.fresh(t, bs)...), fit, nil
}

// renderAll renders the jobs not rendered yet, over the processors.
func renderAll(c *Campaign, jobs []job) {
	var todo []*job
	for i := range jobs {
		if !jobs[i].rendered {
			todo = append(todo, &jobs[i])
		}
	}
	render := func(js []*job) {
		for _, j := range js {
			j.out, j.err = c.Render(j.bookings)
			j.rendered = true
		}
	}
	workers := min(runtime.GOMAXPROCS(0), 8)
	if len(todo) < 64 || workers == 1 {
		render(todo)
		return
	}
	var wg sync.WaitGroup
	per := (len(todo) + workers - 1) / workers
	for w := 0; w < len(todo); w += per {
		part := todo[w:min(w+per, len(todo))]
		wg.Go(func() { render(part) })
	}
	wg.Wait()
}

// record counts the rendered messages and, unless dry, writes them.
func (r *run) record(ctx context.Context, jobs []job) error {
	notBefore := r.p.Campaign.SendWindow(r.now)
	minNotice := r.p.Campaign.MinNotice.D()
	var fresh []store.NewMessage
	var freshJobs []*job
	var rems []store.NewReminder
	for i := range jobs {
		j := &jobs[i]
		if j.err != nil {
			return j.err
		}
		if j.existing != 0 {
			r.rep.Updated++
			r.rep.Bookings += len(j.added)
			if r.rep.DryRun {
				continue
			}
			ok, err := r.tx.UpdatePlannedBody(ctx, j.existing, j.out.Body, string(j.out.Info.Encoding), j.out.Info.Segments, r.now)
			if err != nil {
				return err
			}
			if !ok {
				// The transaction keeps the sender away from the message
				// (the write lock, or the row's lock): this is a bug.
				return fmt.Errorf("remind: message %d left the planned state while bookings were joining it", j.existing)
			}
			for _, b := range j.added {
				rems = append(rems, store.NewReminder{Node: b.Node, Code: b.Code, At: b.At, Offset: j.t.offset, Day: j.t.day, MessageID: j.existing})
			}
			continue
		}
		r.rep.Messages++
		r.rep.Bookings += len(j.bookings)
		r.rep.Segments += j.out.Info.Segments
		if j.out.Info.Encoding == "ucs2" {
			r.rep.UCS2++
		} else {
			r.rep.GSM7++
		}
		if r.rep.DryRun {
			continue
		}
		fresh = append(fresh, store.NewMessage{Kind: "reminder", Phone: j.bookings[0].Phone, Day: j.t.day, Offset: j.t.offset,
			Body: j.out.Body, Encoding: string(j.out.Info.Encoding), Segments: j.out.Info.Segments,
			NotBefore: notBefore, ExpiresAt: j.bookings[0].At.Add(-minNotice), ImportID: r.rep.ImportID})
		freshJobs = append(freshJobs, j)
	}
	if r.rep.DryRun {
		return nil
	}
	// Message ids come back by phone, so one insert carries distinct
	// phones; a patient's second message of a day goes in the next one.
	for len(fresh) > 0 {
		var now, later []store.NewMessage
		var nowJobs, laterJobs []*job
		seen := map[string]bool{}
		for i, m := range fresh {
			if seen[m.Phone] {
				later, laterJobs = append(later, m), append(laterJobs, freshJobs[i])
				continue
			}
			seen[m.Phone] = true
			now, nowJobs = append(now, m), append(nowJobs, freshJobs[i])
		}
		ids, err := r.tx.InsertMessages(ctx, now, r.now)
		if err != nil {
			return err
		}
		for i, m := range now {
			id, ok := ids[m.Phone]
			if !ok {
				return fmt.Errorf("remind: inserted message for %s has no id", phone.Mask(m.Phone))
			}
			for _, b := range nowJobs[i].bookings {
				rems = append(rems, store.NewReminder{Node: b.Node, Code: b.Code, At: b.At, Offset: m.Offset, Day: m.Day, MessageID: id})
			}
		}
		fresh, freshJobs = later, laterJobs
	}
	return r.tx.InsertReminders(ctx, rems, r.now)
}
