// Package worklist owns the work for people: one list of items (patients'
// replies the engine could not handle, cancellation requests, and the later
// jobs' recall contacts, offers to make by phone, survey follow-ups, urgent
// moves), each held by one operator at a time, released, asked back at a
// time ("call back at") or closed with an outcome and a note.
//
// Who holds an item is decided by one conditional write in the store, never
// by reading and then writing, so two operators can never both take it.
package worklist

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/richiamo/richiamo/internal/store"
)

// Kind is what an item is.
type Kind string

const (
	Reply  Kind = store.InboxReply  // a patient's message no job could take
	Cancel Kind = store.InboxCancel // a cancellation request to carry out in the CUP
	Recall Kind = "recall"          // a recall contact the IVR could not close
	Offer  Kind = "offer"           // a freed slot to offer by phone
	Move   Kind = "move"            // a taken slot's move to carry out in the CUP
	Survey Kind = "survey"          // a survey follow-up after a low rating
	Urgent Kind = "urgent"          // a booking a facility must move urgently
)

// Kinds lists every kind, in the order lists show them.
var Kinds = []Kind{Reply, Cancel, Recall, Offer, Move, Survey, Urgent}

// Outcomes every kind may close with; a job may add its own.
const (
	Answered = store.ClosureAnswered // an SMS answer was queued
	Done     = store.ClosureDone     // dealt with otherwise
)

// Errors, as the store gives them.
var (
	// ErrTaken: another operator holds the item, or it was asked back for
	// another.
	ErrTaken = store.ErrTaken
	// ErrNotFound: no such item, or it is closed.
	ErrNotFound = store.ErrNotFound
)

// MaxNote bounds an operator's note, in characters.
const MaxNote = 1000

// Item is one piece of work.
type Item = store.WorkItem

// Store is what the worklist needs of the engine's database; *store.Store
// has it.
type Store interface {
	AddWorkItem(ctx context.Context, w store.NewWorkItem) (int64, bool, error)
	OpenWorkItems(ctx context.Context, f store.WorkFilter) ([]store.WorkItem, error)
	LaterWorkItems(ctx context.Context, f store.WorkFilter) ([]store.WorkItem, error)
	ClosedWorkItems(ctx context.Context, f store.WorkFilter) ([]store.WorkItem, error)
	OpenWorkCounts(ctx context.Context, f store.WorkFilter) ([]store.KindCount, error)
	WorkItemByID(ctx context.Context, id int64) (store.WorkItem, error)
	ClaimWorkItem(ctx context.Context, id int64, by string, now time.Time) error
	ClaimNextWorkItem(ctx context.Context, n store.NextWork) (store.WorkItem, error)
	HeldWorkItem(ctx context.Context, by string) (store.WorkItem, error)
	ReleaseWorkItem(ctx context.Context, id int64, by string) error
	CallBackWorkItem(ctx context.Context, id int64, by string, at time.Time, forUser, note string) error
	CloseWorkItem(ctx context.Context, id int64, by, outcome, note string, now time.Time) error
	AnswerWorkItem(ctx context.Context, id int64, by string, msg store.NewMessage, expect time.Duration, now time.Time) (int64, error)
}

// List is the worklist.
type List struct {
	st  Store
	now func() time.Time
}

// New returns the worklist on st; now nil is the real clock.
func New(st Store, now func() time.Time) *List {
	if now == nil {
		now = time.Now
	}
	return &List{st: st, now: now}
}

// Add puts an item in the list; an item of the same kind about the same row
// (RefID) is added once, and Add then returns (0, false).
func (l *List) Add(ctx context.Context, w store.NewWorkItem) (int64, bool, error) {
	if !known(Kind(w.Kind)) {
		return 0, false, fmt.Errorf("worklist: unknown kind %q", w.Kind)
	}
	if w.ArrivedAt.IsZero() {
		w.ArrivedAt = l.now()
	}
	return l.st.AddWorkItem(ctx, w)
}

func known(k Kind) bool {
	for _, x := range Kinds {
		if x == k {
			return true
		}
	}
	return false
}

// Filter chooses what a list shows.
type Filter struct {
	Kind   Kind   // "" for every kind
	Node   string // a CUP node's items only; "" for all
	Viewer string // who looks: items asked back for someone else are hidden
	// After is the Next of the previous page, "" for the first.
	After string
	Limit int // 100 when 0
}

// Page is one page of a list; Next, when not empty, continues it.
type Page struct {
	Items []Item
	Next  string
}

func (f Filter) store(now time.Time) (store.WorkFilter, error) {
	sf := store.WorkFilter{Kind: string(f.Kind), Node: f.Node, Viewer: f.Viewer, Now: now, Limit: f.Limit}
	if sf.Limit <= 0 {
		sf.Limit = 100
	}
	if f.After != "" {
		at, id, ok := strings.Cut(f.After, "-")
		var err1, err2 error
		sf.AfterAt, err1 = strconv.ParseInt(at, 10, 64)
		sf.AfterID, err2 = strconv.ParseInt(id, 10, 64)
		if !ok || err1 != nil || err2 != nil || sf.AfterID <= 0 {
			return sf, fmt.Errorf("worklist: page position %q: %w", f.After, ErrBadPage)
		}
	}
	return sf, nil
}

// ErrBadPage is a page position that no page gave.
var ErrBadPage = errors.New("not a page of this list")

// page fetches one more than asked, to know whether another page follows.
func page(items []Item, limit int, pos func(Item) int64) Page {
	if len(items) <= limit {
		return Page{Items: items}
	}
	items = items[:limit]
	last := items[len(items)-1]
	return Page{Items: items, Next: fmt.Sprintf("%d-%d", pos(last), last.ID)}
}

// Open lists the open items due now for f.Viewer, oldest arrival first.
func (l *List) Open(ctx context.Context, f Filter) (Page, error) {
	sf, err := f.store(l.now())
	if err != nil {
		return Page{}, err
	}
	limit := sf.Limit
	sf.Limit++
	items, err := l.st.OpenWorkItems(ctx, sf)
	if err != nil {
		return Page{}, err
	}
	return page(items, limit, func(it Item) int64 { return it.ArrivedAt }), nil
}

// Later lists the items asked back for a later time that f.Viewer will
// see then, soonest first (one page, f.After ignored).
func (l *List) Later(ctx context.Context, f Filter) ([]Item, error) {
	f.After = ""
	sf, err := f.store(l.now())
	if err != nil {
		return nil, err
	}
	return l.st.LaterWorkItems(ctx, sf)
}

// Closed lists closed items, latest closure first.
func (l *List) Closed(ctx context.Context, f Filter) (Page, error) {
	sf, err := f.store(l.now())
	if err != nil {
		return Page{}, err
	}
	limit := sf.Limit
	sf.Limit++
	items, err := l.st.ClosedWorkItems(ctx, sf)
	if err != nil {
		return Page{}, err
	}
	return page(items, limit, func(it Item) int64 { return it.ClosedAt }), nil
}

// Counts are the open items due now for f.Viewer, by kind (f.Kind and
// f.After are ignored).
func (l *List) Counts(ctx context.Context, f Filter) (map[Kind]int, error) {
	sf, err := Filter{Node: f.Node, Viewer: f.Viewer}.store(l.now())
	if err != nil {
		return nil, err
	}
	rows, err := l.st.OpenWorkCounts(ctx, sf)
	if err != nil {
		return nil, err
	}
	out := map[Kind]int{}
	for _, r := range rows {
		out[Kind(r.Kind)] = r.Items
	}
	return out, nil
}

// Get returns one item, open or closed.
func (l *List) Get(ctx context.Context, id int64) (Item, error) {
	return l.st.WorkItemByID(ctx, id)
}

// Claim gives the item to by; ErrTaken if another holds it.
func (l *List) Claim(ctx context.Context, id int64, by string) error {
	if by == "" {
		return errors.New("worklist: claim by nobody")
	}
	return l.st.ClaimWorkItem(ctx, id, by, l.now())
}

// Release gives back an item by holds.
func (l *List) Release(ctx context.Context, id int64, by string) error {
	return l.st.ReleaseWorkItem(ctx, id, by)
}

// CallBack asks the item back at at, for by alone (mine) or for anyone,
// with a note: until then it leaves the list and nobody holds it.
func (l *List) CallBack(ctx context.Context, id int64, by string, at time.Time, mine bool, note string) error {
	if err := checkNote(note); err != nil {
		return err
	}
	if !at.After(l.now()) {
		return ErrPast
	}
	forUser := ""
	if mine {
		forUser = by
	}
	return l.st.CallBackWorkItem(ctx, id, by, at, forUser, note)
}

// ErrPast is a call-back time that is not in the future.
var ErrPast = errors.New("worklist: the call-back time has passed")

// ErrNoOutcome is a closure without an outcome.
var ErrNoOutcome = errors.New("worklist: an outcome is required")

// ErrNoteTooLong is a note longer than MaxNote characters.
var ErrNoteTooLong = fmt.Errorf("worklist: a note is at most %d characters", MaxNote)

func checkNote(note string) error {
	if utf8.RuneCountInString(note) > MaxNote {
		return ErrNoteTooLong
	}
	return nil
}

// Close closes the item with an outcome and a note.
func (l *List) Close(ctx context.Context, id int64, by, outcome, note string) error {
	if strings.TrimSpace(outcome) == "" {
		return ErrNoOutcome
	}
	if err := checkNote(note); err != nil {
		return err
	}
	return l.st.CloseWorkItem(ctx, id, by, outcome, note, l.now())
}

// ConversationTTL is how long after an operator's SMS answer the patient's
// next message goes back to the same item.
const ConversationTTL = 7 * 24 * time.Hour

// Answer queues msg as the operator's SMS answer and closes the item as
// answered, in one transaction; the patient's next message within
// ConversationTTL reopens it for the same operator.
func (l *List) Answer(ctx context.Context, id int64, by string, msg store.NewMessage) (int64, error) {
	return l.st.AnswerWorkItem(ctx, id, by, msg, ConversationTTL, l.now())
}
