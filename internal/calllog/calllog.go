// Package calllog owns the contact centre's inbound call log as the engine
// learns it from the phone system: CSV files picked up from an inbox (the
// default layout, any layout through a column mapping, and Asterisk's
// Master.csv as a preset), and a signed HTTP endpoint the phone system
// calls when a call ends. Every unusable row is reported with its file,
// line and reason, and the rest is used.
package calllog

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/richiamo/richiamo/internal/calendar"
)

// Canonical fields of a call, as the default layout's header names them.
const (
	ColID       = "id_chiamata"
	ColCaller   = "chiamante"
	ColStart    = "inizio"
	ColAnswer   = "risposta"
	ColEnd      = "fine"
	ColOperator = "operatore"
	ColQueue    = "coda"
	ColOutcome  = "esito"
)

// fields are the canonical fields in slot order; required are those a
// file must have.
var (
	fields   = []string{ColID, ColCaller, ColStart, ColAnswer, ColEnd, ColOperator, ColQueue, ColOutcome}
	required = []string{ColID, ColCaller, ColStart, ColAnswer, ColEnd, ColOperator}
)

// DefaultTimeLayout is how the default layout writes times (Europe/Rome).
const DefaultTimeLayout = "02/01/2006 15:04:05"

// Call is one inbound call of the log. Answer is zero when nobody
// answered; Operator is empty when no operator took the call.
type Call struct {
	ID       string    `json:"id"`
	Caller   string    `json:"caller"`
	Start    time.Time `json:"start"`
	Answer   time.Time `json:"answer,omitzero"`
	End      time.Time `json:"end"`
	Operator string    `json:"operator,omitempty"`
	Queue    string    `json:"queue,omitempty"`
	Outcome  string    `json:"outcome,omitempty"`
}

// Handled says an operator took the call: it has an answer time and an
// operator.
func (c Call) Handled() bool { return !c.Answer.IsZero() && c.Operator != "" }

// Talk is how long the call lasted from answer to end; zero when nobody
// answered.
func (c Call) Talk() time.Duration {
	if c.Answer.IsZero() {
		return 0
	}
	return c.End.Sub(c.Answer)
}

// Rejection is one unusable row: where it is and why, without the row's
// number.
type Rejection struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

func (r Rejection) Error() string { return fmt.Sprintf("%s:%d: %s", r.File, r.Line, r.Reason) }

// Presets a Layout may name.
const (
	// PresetAsterisk is Asterisk's Master.csv CDR: no header, the fields
	// accountcode, src, dst, dcontext, clid, channel, dstchannel, lastapp,
	// lastdata, start, answer, end, duration, billsec, disposition,
	// amaflags, then uniqueid and userfield when the PBX logs them.
	PresetAsterisk = "asterisk"
)

// asteriskFields are Master.csv's columns in order.
var asteriskFields = []string{"accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel",
	"lastapp", "lastdata", "start", "answer", "end", "duration", "billsec", "disposition", "amaflags",
	"uniqueid", "userfield"}

// Layout describes a call log file. The zero value is the default layout:
// a header row with the canonical names, ';' or ',' separated, times in
// DefaultTimeLayout, Europe/Rome.
type Layout struct {
	// Preset is "" or PresetAsterisk.
	Preset string
	// Columns maps a canonical field (ColCaller…) to the header name of a
	// file in another layout; a field left out is looked up by its own
	// name. Not used with a preset.
	Columns map[string]string
	// Delimiter separates cells; 0 detects ';', ',' or tab from the first
	// line.
	Delimiter rune
	// TimeLayout is how times are written (Go's reference layout); empty
	// for DefaultTimeLayout, or Asterisk's "2006-01-02 15:04:05".
	TimeLayout string
	// Location is the time zone of the times (default Europe/Rome).
	Location *time.Location
	// OperatorField is, for the Asterisk preset, the field that holds the
	// operator's code: dstchannel (default; SIP/1042-0000a1 gives 1042),
	// channel, dst, accountcode or userfield.
	OperatorField string
}

// Validate reports the first setting that cannot work, naming it.
func (l Layout) Validate() error {
	switch l.Preset {
	case "":
		if l.OperatorField != "" {
			return errors.New("calllog: layout: operator_field is only for the asterisk preset")
		}
	case PresetAsterisk:
		if len(l.Columns) > 0 {
			return errors.New("calllog: layout: columns cannot be mapped with the asterisk preset")
		}
		if f := l.OperatorField; f != "" && !slices.Contains([]string{"dstchannel", "channel", "dst", "accountcode", "userfield"}, f) {
			return fmt.Errorf("calllog: layout: operator_field %q: want dstchannel, channel, dst, accountcode or userfield", f)
		}
	default:
		return fmt.Errorf("calllog: layout: unknown preset %q (want %q or none)", l.Preset, PresetAsterisk)
	}
	for _, k := range slices.Sorted(maps.Keys(l.Columns)) {
		if !slices.Contains(fields, k) {
			return fmt.Errorf("calllog: layout: unknown field %q in columns (want one of %s)", k, strings.Join(fields, ", "))
		}
		if strings.TrimSpace(l.Columns[k]) == "" {
			return fmt.Errorf("calllog: layout: field %q is mapped to an empty header name", k)
		}
	}
	if d := l.Delimiter; d != 0 && (d >= utf8.RuneSelf || d == '"' || d == ' ' || d == '\r' || d == '\n') {
		return fmt.Errorf("calllog: layout: delimiter %q is not usable", d)
	}
	if l.TimeLayout != "" {
		ref := time.Date(2026, 3, 29, 14, 5, 7, 0, time.UTC)
		if t, err := time.Parse(l.TimeLayout, ref.Format(l.TimeLayout)); err != nil || !t.Equal(ref) {
			return fmt.Errorf("calllog: layout: time layout %q does not hold a date and a time to the second", l.TimeLayout)
		}
	}
	return nil
}

func (l Layout) timeLayout() string {
	switch {
	case l.TimeLayout != "":
		return l.TimeLayout
	case l.Preset == PresetAsterisk:
		return "2006-01-02 15:04:05"
	}
	return DefaultTimeLayout
}

func (l Layout) location() *time.Location {
	if l.Location != nil {
		return l.Location
	}
	return calendar.Rome
}

// Limits that bound a file before it is read whole.
const (
	maxRow   = 4 << 10
	maxCells = 64
	maxCell  = 512
)

// Read reads a call log from r, calling fn with each usable call in file
// order; name is the file name rejections carry. A row that cannot be
// used is a rejection and the read goes on; an error is a file that is
// not a call log (no header, a required column missing) or fn's.
func Read(r io.Reader, name string, l Layout, fn func(Call) error) ([]Rejection, error) {
	if err := l.Validate(); err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(r, 64<<10)
	first, err := br.Peek(1)
	if len(first) == 0 {
		if err == io.EOF && l.Preset == PresetAsterisk {
			return nil, nil
		}
		return nil, fmt.Errorf("calllog: %s: no header row", name)
	}
	if first[0] == 0xEF { // a UTF-8 byte order mark, as Excel writes
		if b, _ := br.Peek(3); string(b) == "\ufeff" {
			_, _ = br.Discard(3)
		}
	}
	lr := &lineReader{r: br}
	cr := csv.NewReader(lr)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	cr.LazyQuotes = true
	cr.Comma = l.Delimiter
	if cr.Comma == 0 {
		cr.Comma = ','
		if l.Preset == "" {
			head, _ := br.Peek(br.Buffered())
			if i := strings.IndexByte(string(head), '\n'); i >= 0 {
				head = head[:i]
			}
			cr.Comma = rune(detectDelimiter(string(head)))
		}
	}
	var slot [8]int
	var opSlot int
	loc, layout := l.location(), l.timeLayout()
	if l.Preset == PresetAsterisk {
		idx := func(f string) int { return slices.Index(asteriskFields, f) }
		slot = [8]int{idx("uniqueid"), idx("src"), idx("start"), idx("answer"), idx("end"), -1, idx("dst"), idx("disposition")}
		of := l.OperatorField
		if of == "" {
			of = "dstchannel"
		}
		opSlot = idx(of)
		slot[5] = opSlot
	} else {
		head, err := cr.Read()
		if err != nil {
			return nil, fmt.Errorf("calllog: %s: reading the header: %w", name, err)
		}
		pos := map[string]int{}
		for i, h := range head {
			h = strings.ToLower(strings.TrimSpace(h))
			if _, dup := pos[h]; !dup {
				pos[h] = i
			}
		}
		var missing []string
		for i, f := range fields {
			want := f
			if m, ok := l.Columns[f]; ok {
				want = m
			}
			p, ok := pos[strings.ToLower(strings.TrimSpace(want))]
			if !ok {
				p = -1
				if slices.Contains(required, f) {
					missing = append(missing, fmt.Sprintf("%q", want))
				}
			}
			slot[i] = p
		}
		if len(missing) > 0 {
			return nil, fmt.Errorf("calllog: %s: missing required column %s", name, strings.Join(missing, ", "))
		}
	}
	var rejected []Rejection
	for {
		rec, err := cr.Read()
		if lr.tooLong {
			return rejected, fmt.Errorf("calllog: %s:%d: a row longer than %d bytes: not a call log", name, lr.line, maxRow)
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line := 0
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.StartLine
			}
			rejected = append(rejected, Rejection{name, line, "unreadable row"})
			continue
		}
		line, _ := cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		c, reason := parseRow(rec, &slot, l.Preset == PresetAsterisk, layout, loc)
		if reason != "" {
			rejected = append(rejected, Rejection{name, line, reason})
			continue
		}
		if err := fn(c); err != nil {
			return rejected, err
		}
	}
	return rejected, nil
}

// parseRow turns one row into a call, or says why it cannot.
func parseRow(rec []string, slot *[8]int, asterisk bool, layout string, loc *time.Location) (Call, string) {
	if len(rec) > maxCells {
		return Call{}, fmt.Sprintf("more than %d cells", maxCells)
	}
	cell := func(i int) (string, bool) {
		p := slot[i]
		if p < 0 || p >= len(rec) {
			return "", true
		}
		v := strings.TrimSpace(rec[p])
		return v, len(v) <= maxCell
	}
	var v [8]string
	for i := range v {
		s, ok := cell(i)
		if !ok {
			return Call{}, fmt.Sprintf("%s longer than %d characters", fields[i], maxCell)
		}
		v[i] = s
	}
	if asterisk && v[0] == "" {
		// Master.csv without uniqueid: the channel and start identify
		// the call.
		if len(rec) > 9 {
			v[0] = strings.TrimSpace(rec[5]) + "@" + strings.TrimSpace(rec[9])
		}
	}
	c := Call{ID: v[0], Caller: v[1], Operator: v[5], Queue: v[6], Outcome: v[7]}
	if c.ID == "" {
		return Call{}, "no " + ColID
	}
	var err error
	if c.Start, err = parseTime(v[2], layout, loc); err != nil || c.Start.IsZero() {
		return Call{}, "bad " + ColStart
	}
	if c.End, err = parseTime(v[4], layout, loc); err != nil || c.End.IsZero() {
		return Call{}, "bad " + ColEnd
	}
	if c.Answer, err = parseTime(v[3], layout, loc); err != nil {
		return Call{}, "bad " + ColAnswer
	}
	if c.End.Before(c.Start) {
		return Call{}, ColEnd + " before " + ColStart
	}
	if !c.Answer.IsZero() && (c.Answer.Before(c.Start) || c.Answer.After(c.End)) {
		return Call{}, ColAnswer + " outside the call"
	}
	if asterisk {
		c.Operator = channelPeer(c.Operator)
	}
	return c, ""
}

// parseTime reads a time; empty is zero. Asterisk leaves an unanswered
// call's answer empty (or, in some versions, the epoch).
func parseTime(s, layout string, loc *time.Location) (time.Time, error) {
	if s == "" || strings.HasPrefix(s, "1970-01-01") {
		return time.Time{}, nil
	}
	if layout == DefaultTimeLayout {
		if t, ok := parseDefault(s, loc); ok {
			return t, nil
		}
	}
	return time.ParseInLocation(layout, s, loc)
}

// parseDefault reads dd/mm/yyyy HH:MM:SS without the general parser, which
// is most of the time of reading a year's log; anything unusual is left to
// time.ParseInLocation to read or refuse.
func parseDefault(s string, loc *time.Location) (time.Time, bool) {
	if len(s) != 19 || s[2] != '/' || s[5] != '/' || s[10] != ' ' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	num := func(i, n int) int {
		v := 0
		for _, c := range []byte(s[i : i+n]) {
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	d, m, y, hh, mm, ss := num(0, 2), num(3, 2), num(6, 4), num(11, 2), num(14, 2), num(17, 2)
	if d < 1 || m < 1 || m > 12 || y < 0 || hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 59 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(m), d, hh, mm, ss, 0, loc)
	if t.Day() != d { // 31/11 and the like: let the parser refuse it
		return time.Time{}, false
	}
	return t, true
}

// channelPeer takes the peer of a channel name: SIP/1042-0000a1 and
// PJSIP/1042-0000a1 give 1042; anything else is kept as it is.
func channelPeer(s string) string {
	_, rest, ok := strings.Cut(s, "/")
	if !ok {
		return s
	}
	if i := strings.LastIndexByte(rest, '-'); i > 0 {
		rest = rest[:i]
	}
	return rest
}

// detectDelimiter picks the most frequent of ';', tab and ',' in a header;
// a tie goes to ';', the delimiter of Italian Excel.
func detectDelimiter(header string) byte {
	semi, tab, comma := strings.Count(header, ";"), strings.Count(header, "\t"), strings.Count(header, ",")
	switch {
	case comma > semi && comma > tab:
		return ','
	case tab > semi:
		return '\t'
	}
	return ';'
}

// lineReader hands csv whole lines, refusing a line longer than maxRow so
// that a broken file cannot make one row of the rest.
type lineReader struct {
	r       *bufio.Reader
	pending []byte
	line    int
	tooLong bool
}

func (lr *lineReader) Read(p []byte) (int, error) {
	if len(lr.pending) == 0 {
		if lr.tooLong {
			return 0, io.EOF
		}
		b, err := lr.r.ReadSlice('\n')
		lr.line++
		if errors.Is(err, bufio.ErrBufferFull) || len(b) > maxRow {
			lr.tooLong = true
			return 0, io.EOF
		}
		if len(b) == 0 {
			return 0, err
		}
		lr.pending = b
	}
	n := copy(p, lr.pending)
	lr.pending = lr.pending[n:]
	return n, nil
}

// Files are the files an inbox glob matches, in name order, so that a day
// split over several extracts is read in the order they were written.
func Files(glob string) ([]string, error) {
	if _, err := filepath.Match(glob, ""); err != nil {
		return nil, fmt.Errorf("calllog: inbox %q: %w", glob, err)
	}
	names, err := filepath.Glob(glob)
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	return names, nil
}

// ReadFiles reads every file of names, in order, into fn; a file that is
// not a call log stops the read with an error naming it.
func ReadFiles(names []string, l Layout, fn func(Call) error) ([]Rejection, error) {
	var all []Rejection
	for _, n := range names {
		f, err := os.Open(n)
		if err != nil {
			return all, fmt.Errorf("calllog: %w", err)
		}
		rej, err := Read(f, filepath.Base(n), l, fn)
		f.Close()
		all = append(all, rej...)
		if err != nil {
			return all, err
		}
	}
	return all, nil
}
