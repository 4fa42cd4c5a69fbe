package survey

import (
	"cmp"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/richiamo/richiamo/internal/calendar"
	"github.com/richiamo/richiamo/internal/calllog"
	"github.com/richiamo/richiamo/internal/phone"
)

// Reasons a handled call is not eligible, and a call is not handled.
const (
	// NotHandled: nobody answered, or no operator took the call.
	NotHandled = "not_handled"
	// Withheld: the caller's number was withheld.
	Withheld = "withheld"
	// InvalidNumber: the caller's number cannot be called back.
	InvalidNumber = "invalid_number"
	// Short: the call lasted less than survey.min_talk from answer to end.
	Short = "short"
	// Repeat: the caller had an earlier handled call that day.
	Repeat = "repeat"
	// DoNotCall: the number is on the do-not-call list.
	DoNotCall = "do_not_call"
	// Refused: the number refused surveys.
	Refused = "refused"
	// Quiet: the number was surveyed in the last survey.quiet_days days.
	Quiet = "quiet_days"
)

// Reasons are every reason a call is left out, in the order they are
// checked.
var Reasons = []string{NotHandled, Withheld, InvalidNumber, Short, Repeat, DoNotCall, Refused, Quiet}

// withheldWords are what phone systems write for a withheld number.
var withheldWords = []string{"", "anonymous", "anonimo", "privato", "unknown", "restricted", "private"}

// IsWithheld says the caller cell does not hold a number.
func IsWithheld(caller string) bool {
	s := strings.ToLower(strings.Trim(strings.TrimSpace(caller), `"<>`))
	return slices.Contains(withheldWords, s)
}

// History is what the sample needs of the past: the do-not-call list, the
// refusals and when a number was last surveyed. A number is E.164.
type History interface {
	// Blocked is the reason number may not be surveyed on day (DoNotCall,
	// Refused or Quiet), or "".
	Blocked(number string, day time.Time) string
}

// Recorder is a History that learns of the numbers sampled as a run
// draws them, so that a run over several days keeps the quiet days.
type Recorder interface {
	Surveyed(number string, day time.Time)
}

// Start is the start r in [0, k) of operator's sample on day: the first
// eight bytes of HMAC-SHA256(seed, "YYYY-MM-DD|operator"), modulo k. It
// depends on nothing the operators or the engine can choose, and anyone
// with the seed can recompute it.
func Start(seed []byte, day time.Time, operator string, k int) int {
	m := hmac.New(sha256.New, seed)
	m.Write([]byte(day.In(calendar.Rome).Format(time.DateOnly)))
	m.Write([]byte{'|'})
	m.Write([]byte(operator))
	return int(binary.BigEndian.Uint64(m.Sum(nil)[:8]) % uint64(k))
}

// Operator is one operator's part of a day's sample.
type Operator struct {
	Handled  int `json:"handled"`
	Eligible int `json:"eligible"`
	Start    int `json:"start"`
	Sampled  int `json:"sampled"`
}

// Sampled is a call drawn for the survey.
type Sampled struct {
	CallID   string    `json:"call_id"`
	Operator string    `json:"operator"`
	EndedAt  time.Time `json:"ended_at"`
	// Number is the caller's E.164 number, to call; never printed.
	Number string `json:"-"`
	// Call is the whole call, when the sampler keeps them.
	Call *calllog.Call `json:"-"`
}

// Day is the sample of one day's calls.
type Day struct {
	Date       string               `json:"date"`
	Rate       float64              `json:"rate"`
	K          int                  `json:"k"`
	Handled    int                  `json:"handled"`
	Eligible   int                  `json:"eligible"`
	ByOperator map[string]*Operator `json:"by_operator"`
	Sampled    []Sampled            `json:"sampled"`
	Excluded   map[string]int       `json:"excluded"`
}

// candidate is a handled call with a number that can be called, as the
// sample keeps it: small, because a year of calls may be drawn at once.
type candidate struct {
	end      int64 // Unix nanoseconds
	id       string
	number   string
	operator string
	short    bool
	call     *calllog.Call // only when the sampler keeps the calls
}

// Sampler draws samples. It is not safe for concurrent use.
type Sampler struct {
	cfg     Config
	history History
	// keep says the sampled calls carry their whole call (for the calls
	// to place); a dry run over a year keeps only what it prints.
	keep bool
	days map[string]*dayAcc
	// codes keeps one copy of each operator's code.
	codes map[string]string
}

type dayAcc struct {
	handled    int
	byOperator map[string]*Operator
	excluded   map[string]int
	cands      []candidate
}

// NewSampler draws with cfg (defaults filled) against history, which may
// be nil for none. keep makes each Sampled carry its whole call.
func NewSampler(cfg Config, history History, keep bool) (*Sampler, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Sampler{cfg: cfg, history: history, keep: keep, days: map[string]*dayAcc{}, codes: map[string]string{}}, nil
}

// Add takes one call of the log. What can be decided from the call alone
// (not handled, withheld, not callable) is counted now; the rest waits for
// the day's order.
func (s *Sampler) Add(c calllog.Call) {
	date := c.End.In(calendar.Rome).Format(time.DateOnly)
	d := s.days[date]
	if d == nil {
		d = &dayAcc{byOperator: map[string]*Operator{}, excluded: map[string]int{}}
		s.days[date] = d
	}
	if !c.Handled() {
		d.excluded[NotHandled]++
		return
	}
	d.handled++
	op := d.byOperator[c.Operator]
	if op == nil {
		op = &Operator{}
		d.byOperator[strings.Clone(c.Operator)] = op
	}
	op.Handled++
	if IsWithheld(c.Caller) {
		d.excluded[Withheld]++
		return
	}
	num, kind := phone.Classify(c.Caller)
	if kind != phone.Mobile && kind != phone.Landline {
		d.excluded[InvalidNumber]++
		return
	}
	code, ok := s.codes[c.Operator]
	if !ok {
		code = strings.Clone(c.Operator)
		s.codes[code] = code
	}
	cd := candidate{end: c.End.UnixNano(), id: strings.Clone(c.ID), number: num, operator: code,
		short: c.Talk() < s.cfg.MinTalk}
	if s.keep {
		cd.call = &c
	}
	d.cands = append(d.cands, cd)
}

// Days are the days that have calls, in order.
func (s *Sampler) Days() []string { return slices.Sorted(maps.Keys(s.days)) }

// Draw is the sample of date (YYYY-MM-DD, Europe/Rome). Days must be drawn
// in order for the quiet days of a run over several days: a number sampled
// is, for the days after, a number surveyed.
func (s *Sampler) Draw(date string) Day {
	k := s.cfg.K()
	out := Day{Date: date, Rate: s.cfg.Rate, K: k, ByOperator: map[string]*Operator{}, Excluded: map[string]int{}}
	for _, r := range Reasons {
		out.Excluded[r] = 0
	}
	d := s.days[date]
	if d == nil {
		return out
	}
	day, _ := time.ParseInLocation(time.DateOnly, date, calendar.Rome)
	out.Handled = d.handled
	out.ByOperator = d.byOperator
	maps.Copy(out.Excluded, d.excluded)
	// In the order the calls ended, ties by call id: the order in which
	// the phone system reports them while the day goes on.
	slices.SortFunc(d.cands, func(a, b candidate) int {
		return cmp.Or(cmp.Compare(a.end, b.end), strings.Compare(a.id, b.id))
	})
	seen := make(map[string]bool, len(d.cands))
	next := map[string]int{} // each operator's next number
	for op := range d.byOperator {
		d.byOperator[op].Start = Start(s.cfg.Seed, day, op, k)
	}
	for _, c := range d.cands {
		first := !seen[c.number]
		seen[c.number] = true
		reason := ""
		switch {
		case c.short:
			reason = Short
		case !first:
			reason = Repeat
		case s.history != nil:
			reason = s.history.Blocked(c.number, day)
		}
		if reason != "" {
			out.Excluded[reason]++
			continue
		}
		op := d.byOperator[c.operator]
		n := next[c.operator]
		next[c.operator] = n + 1
		op.Eligible++
		out.Eligible++
		if n%k != op.Start {
			continue
		}
		op.Sampled++
		out.Sampled = append(out.Sampled, Sampled{CallID: c.id, Operator: c.operator,
			EndedAt: time.Unix(0, c.end).In(calendar.Rome), Number: c.number, Call: c.call})
		if m, ok := s.history.(Recorder); ok {
			m.Surveyed(c.number, day)
		}
	}
	if out.Sampled == nil {
		out.Sampled = []Sampled{}
	}
	delete(s.days, date)
	return out
}

// Memory is a History held in memory: the do-not-call list, the refusals
// and the days numbers were surveyed. A run over several days records its
// own sample in it as it goes.
type Memory struct {
	QuietDays int
	DoNotCall map[string]bool
	Refusals  map[string]bool
	// Last is the day each number was last surveyed.
	Last map[string]time.Time
}

// Blocked says why number may not be surveyed on day.
func (m *Memory) Blocked(number string, day time.Time) string {
	switch {
	case m.DoNotCall[number]:
		return DoNotCall
	case m.Refusals[number]:
		return Refused
	}
	if last, ok := m.Last[number]; ok && day.Before(last.AddDate(0, 0, m.QuietDays)) {
		return Quiet
	}
	return ""
}

// Surveyed records that number was surveyed on day.
func (m *Memory) Surveyed(number string, day time.Time) {
	if m.Last == nil {
		m.Last = map[string]time.Time{}
	}
	m.Last[number] = day
}
