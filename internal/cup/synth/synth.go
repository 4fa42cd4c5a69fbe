// Package synth writes synthetic CUP extracts in the default layout: Italian
// services, facilities, names and addresses, phone numbers written the ways
// people write them, and every kind of unusable row, with counts of what was
// written so that a test can check what the reader makes of it. Phone
// numbers are random in the Italian mobile ranges: an extract made here must
// never reach a real SMS gateway.
package synth

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"

	"github.com/richiamo/richiamo/internal/cup"
)

// Options says what extract to write.
// Demo are the options of the demo's extract, testdata/extract-demo.csv:
// 4,000 bookings of four CUP nodes on Tuesday 1 December 2026, with bad
// rows, duplicates and patients with several bookings, in Windows-1252.
// The same file is written by
//
//	go run ./scripts/genextract -rows 4000 -day 2026-12-01 -days 1 -seed 20261201 \
//	    -bad 0.02 -dup 0.005 -multi 0.03 -cp1252 -o testdata/extract-demo.csv
var Demo = Options{
	Rows: 4000, Seed: 20261201, Day: time.Date(2026, 12, 1, 0, 0, 0, 0, cup.Rome), Days: 1,
	BadRate: 0.02, DupRate: 0.005, MultiRate: 0.03, Windows1252: true,
}

type Options struct {
	Rows int   // data rows, header excluded
	Seed int64 // the same options and seed write the same bytes
	// Day is the first appointment day; only its date counts.
	Day time.Time
	// Days spreads appointments over this many consecutive days, Sundays
	// skipped; 0 means 1.
	Days int
	// BadRate is the chance that a row is unusable; bad rows take the
	// rejection reasons in turn (missing phone, invalid phone, landline,
	// missing booking code, bad date-time) and have exactly one problem.
	BadRate float64
	// DupRate is the chance that a good row is written twice in a row,
	// byte for byte, as a faulty extract query does.
	DupRate float64
	// MultiRate is the chance that a patient has 2 or 3 bookings on the
	// same day: same phone (not always written the same way), different
	// codes and times.
	MultiRate float64
	// Delimiter separates cells; 0 means ';'.
	Delimiter rune
	// Windows1252 encodes the file as Italian Excel exports do.
	Windows1252 bool
}

// Stats counts what Write wrote. Rates are chances, so these counts, not
// the rates, are what a test compares with.
type Stats struct {
	Rows int `json:"rows"`
	// Good rows are valid bookings, duplicate copies and multi-booking rows
	// included: Good + the sum of Bad = Rows.
	Good int                `json:"good"`
	Bad  map[cup.Reason]int `json:"bad"`
	// Duplicates counts the second copies of duplicated rows.
	Duplicates int `json:"duplicates"`
	// MultiPatients have 2 or 3 bookings on the same day, written in
	// MultiBookings rows.
	MultiPatients int `json:"multi_patients"`
	MultiBookings int `json:"multi_bookings"`
}

// Header is the header row of the default layout, without line break, for
// the ';' delimiter.
const Header = "nodo;agenda;codice_prenotazione;cellulare;data_ora_appuntamento;codice_prestazione;prestazione;tipo_prestazione;struttura;indirizzo;classe_priorita;data_prenotazione;cognome;nome"

var headerCells = []string{
	cup.ColNode, cup.ColAgenda, cup.ColCode, cup.ColPhone, cup.ColAt, cup.ColServiceCode,
	cup.ColService, cup.ColServiceType, cup.ColFacility, cup.ColAddress, cup.ColPriority,
	cup.ColBookedOn, cup.ColSurname, cup.ColName,
}

// badReasons are taken in turn by bad rows, so that even a small extract
// shows each of them.
var badReasons = []cup.Reason{
	cup.ReasonMissingPhone, cup.ReasonInvalidPhone, cup.ReasonLandline,
	cup.ReasonMissingBookingCode, cup.ReasonBadDatetime,
}

// Write writes a header and o.Rows rows to w.
func Write(w io.Writer, o Options) (Stats, error) {
	if err := o.validate(); err != nil {
		return Stats{}, err
	}
	g := newGen(o)
	bw := bufio.NewWriterSize(w, 256<<10)
	for i, c := range headerCells {
		if i > 0 {
			g.line = append(g.line, g.delim)
		}
		g.line = append(g.line, c...)
	}
	g.line = append(g.line, '\r', '\n')
	if err := g.flushLine(bw); err != nil {
		return Stats{}, err
	}
	for g.stats.Rows < o.Rows {
		left := o.Rows - g.stats.Rows
		r := g.rng.Float64()
		switch {
		case r < o.BadRate:
			reason := badReasons[g.nextBad%len(badReasons)]
			g.nextBad++
			g.row(g.patient(), g.day(), -1, -1, reason)
			g.stats.Bad[reason]++
		case r < o.BadRate+o.DupRate && left >= 2:
			g.row(g.patient(), g.day(), -1, -1, "")
			g.line = append(g.line, g.line...)
			g.stats.Good += 2
			g.stats.Duplicates++
			g.stats.Rows++
		case r < o.BadRate+o.DupRate+o.MultiRate && left >= 2:
			p, day := g.patient(), g.day()
			k := min(2+g.rng.IntN(2), left)
			var used [3]int
			for j := range k {
				var si int
				for {
					si = g.service()
					used[j] = g.minute(day, &services[si])
					if j == 0 || used[j] != used[0] && (j == 1 || used[j] != used[1]) {
						break
					}
				}
				g.row(p, day, si, used[j], "")
				p.form = g.phoneForm()
			}
			g.stats.Good += k
			g.stats.MultiPatients++
			g.stats.MultiBookings += k
			g.stats.Rows += k - 1
		default:
			g.row(g.patient(), g.day(), -1, -1, "")
			g.stats.Good++
		}
		g.stats.Rows++
		if err := g.flushLine(bw); err != nil {
			return g.stats, err
		}
	}
	if err := bw.Flush(); err != nil {
		return g.stats, fmt.Errorf("synth: %w", err)
	}
	return g.stats, nil
}

func (o Options) validate() error {
	switch {
	case o.Rows < 0:
		return fmt.Errorf("synth: Rows is %d: want 0 or more", o.Rows)
	case o.Day.IsZero():
		return errors.New("synth: Day is required")
	case o.Days < 0:
		return fmt.Errorf("synth: Days is %d: want 0 or more", o.Days)
	case o.BadRate < 0 || o.DupRate < 0 || o.MultiRate < 0 || o.BadRate+o.DupRate+o.MultiRate > 1:
		return fmt.Errorf("synth: BadRate %g, DupRate %g, MultiRate %g: want each 0 or more, together 1 or less", o.BadRate, o.DupRate, o.MultiRate)
	case o.Delimiter != 0 && (o.Delimiter >= utf8.RuneSelf || o.Delimiter == '"' || o.Delimiter == ' ' || o.Delimiter == '\n' || o.Delimiter == '\r'):
		return fmt.Errorf("synth: Delimiter %q: want a single-byte character other than a quote, a space or a line break", o.Delimiter)
	}
	return nil
}

type gen struct {
	o       Options
	rng     *rand.Rand
	delim   byte
	days    []time.Time
	seq     [len(nodes)]int
	nextBad int
	line    []byte // the rows to write next, UTF-8
	enc     []byte // line encoded to Windows-1252
	stats   Stats
}

func newGen(o Options) *gen {
	g := &gen{
		o:     o,
		rng:   rand.New(rand.NewPCG(uint64(o.Seed), 0x52494348)),
		delim: ';',
		stats: Stats{Bad: make(map[cup.Reason]int)},
	}
	if o.Delimiter != 0 {
		g.delim = byte(o.Delimiter)
	}
	n := max(o.Days, 1)
	for d := time.Date(o.Day.Year(), o.Day.Month(), o.Day.Day(), 0, 0, 0, 0, cup.Rome); len(g.days) < n; d = d.AddDate(0, 0, 1) {
		if d.Weekday() != time.Sunday {
			g.days = append(g.days, d)
		}
	}
	for i := range g.seq {
		g.seq[i] = 10000 + g.rng.IntN(900000)
	}
	for _, r := range badReasons {
		g.stats.Bad[r] = 0
	}
	return g
}

func (g *gen) flushLine(bw *bufio.Writer) error {
	out := g.line
	if g.o.Windows1252 {
		g.enc = g.enc[:0]
		for _, r := range string(g.line) {
			if r < utf8.RuneSelf {
				g.enc = append(g.enc, byte(r))
				continue
			}
			b, ok := charmap.Windows1252.EncodeRune(r)
			if !ok {
				b = '?'
			}
			g.enc = append(g.enc, b)
		}
		out = g.enc
	}
	if _, err := bw.Write(out); err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	g.line = g.line[:0]
	return nil
}

type patient struct {
	surname, name string
	mobile        [10]byte
	form          int
}

func (g *gen) patient() patient {
	p := patient{
		surname: surnames[g.rng.IntN(len(surnames))],
		name:    names[g.rng.IntN(len(names))],
		form:    g.phoneForm(),
	}
	copy(p.mobile[:], mobilePrefixes[g.rng.IntN(len(mobilePrefixes))])
	for i := 3; i < 10; i++ {
		p.mobile[i] = byte('0' + g.rng.IntN(10))
	}
	return p
}

func (g *gen) day() int { return g.rng.IntN(len(g.days)) }

// service picks a service by weight.
func (g *gen) service() int {
	n := g.rng.IntN(totalWeight)
	for i := range services {
		if n < services[i].weight {
			return i
		}
		n -= services[i].weight
	}
	return len(services) - 1
}

// minute picks a start time on the service's slot grid: 07:30 to 19:30
// on weekdays, to 13:00 on Saturdays.
func (g *gen) minute(day int, s *service) int {
	const open = 7*60 + 30
	end := 19*60 + 30
	if g.days[day].Weekday() == time.Saturday {
		end = 13 * 60
	}
	return open + s.slot*g.rng.IntN((end-open)/s.slot)
}

// row appends one row; a negative service or minute is picked here. bad is
// the one problem the row must have, or "".
func (g *gen) row(p patient, day, si, minute int, bad cup.Reason) {
	if si < 0 {
		si = g.service()
	}
	s := &services[si]
	ni := g.node(s)
	n := &nodes[ni]
	f := &n.facilities[g.facility(n, s)]
	if minute < 0 {
		minute = g.minute(day, s)
	}
	at := g.days[day]
	prio := g.priority()
	booked := at.AddDate(0, 0, -g.leadDays(prio))
	g.seq[ni] += 1 + g.rng.IntN(40)
	d := g.delim

	g.cell(n.code)
	g.line = append(g.line, d)
	g.cell(s.agenda + " " + f.code)
	g.line = append(g.line, d)
	if bad != cup.ReasonMissingBookingCode {
		g.line = append(g.line, n.code...)
		g.line = append(g.line, '-')
		g.line = appendInt(g.line, booked.Year(), 4)
		g.line = append(g.line, '-')
		g.line = appendInt(g.line, g.seq[ni], 7)
	}
	g.line = append(g.line, d)
	switch bad {
	case cup.ReasonMissingPhone:
		if g.rng.IntN(3) == 0 {
			g.line = append(g.line, ' ')
		}
	case cup.ReasonInvalidPhone:
		g.cell(invalidPhones[g.rng.IntN(len(invalidPhones))])
	case cup.ReasonLandline:
		g.landline()
	default:
		g.phone(p.mobile, p.form)
	}
	g.line = append(g.line, d)
	if bad == cup.ReasonBadDatetime {
		g.badDatetime(at, minute)
	} else {
		g.line = appendDate(g.line, at)
		g.line = append(g.line, ' ')
		g.line = appendInt(g.line, minute/60, 2)
		g.line = append(g.line, ':')
		g.line = appendInt(g.line, minute%60, 2)
	}
	g.line = append(g.line, d)
	g.cell(s.code)
	g.line = append(g.line, d)
	g.cell(s.name)
	g.line = append(g.line, d, s.typ, d)
	g.cell(f.name)
	g.line = append(g.line, d)
	g.cell(f.address)
	g.line = append(g.line, d)
	g.line = append(g.line, prio...)
	g.line = append(g.line, d)
	g.line = appendDate(g.line, booked)
	g.line = append(g.line, d)
	g.cell(p.surname)
	g.line = append(g.line, d)
	g.cell(p.name)
	g.line = append(g.line, '\r', '\n')
}

// cell appends s, quoted when it holds the delimiter or a quote.
func (g *gen) cell(s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == g.delim || c == '"' {
			g.line = append(g.line, '"')
			for j := 0; j < len(s); j++ {
				if s[j] == '"' {
					g.line = append(g.line, '"')
				}
				g.line = append(g.line, s[j])
			}
			g.line = append(g.line, '"')
			return
		}
	}
	g.line = append(g.line, s...)
}

func (g *gen) node(s *service) int {
	for {
		n := g.rng.IntN(100)
		i := 0
		for n >= nodes[i].weight {
			n -= nodes[i].weight
			i++
		}
		if s.hospital && !nodes[i].hasHospital() {
			continue
		}
		return i
	}
}

func (g *gen) facility(n *node, s *service) int {
	for {
		i := g.rng.IntN(len(n.facilities))
		if !s.hospital || n.facilities[i].hospital {
			return i
		}
	}
}

// priority is weighted as prescriptions are: P common, U rare, some
// bookings without a class (controls, follow-ups).
func (g *gen) priority() string {
	switch n := g.rng.IntN(100); {
	case n < 2:
		return "U"
	case n < 17:
		return "B"
	case n < 42:
		return "D"
	case n < 88:
		return "P"
	}
	return ""
}

// leadDays is how long before the appointment it was booked, in keeping with
// the priority class, always 5 to 200 days.
func (g *gen) leadDays(prio string) int {
	switch prio {
	case "U":
		return 5
	case "B":
		return 5 + g.rng.IntN(6)
	case "D":
		return 5 + g.rng.IntN(56)
	case "P":
		return 20 + g.rng.IntN(181)
	}
	return 5 + g.rng.IntN(196)
}

// phoneForm picks how a number is written; most are bare, as typed at a
// CUP desk.
func (g *gen) phoneForm() int {
	n := g.rng.IntN(100)
	for i, w := range phoneFormWeights {
		if n < w {
			return i
		}
		n -= w
	}
	return 0
}

var phoneFormWeights = []int{45, 15, 10, 8, 5, 4, 5, 3, 3, 2}

func (g *gen) phone(m [10]byte, form int) {
	l := g.line
	switch form {
	case 0: // 3331234567
		l = append(l, m[:]...)
	case 1: // 333 1234567
		l = append(append(append(l, m[:3]...), ' '), m[3:]...)
	case 2: // +393331234567
		l = append(append(l, "+39"...), m[:]...)
	case 3: // +39 333 1234567
		l = append(append(append(append(l, "+39 "...), m[:3]...), ' '), m[3:]...)
	case 4: // +39 333 123 4567
		l = append(append(append(append(append(append(l, "+39 "...), m[:3]...), ' '), m[3:6]...), ' '), m[6:]...)
	case 5: // 0039 333 1234567
		l = append(append(append(append(l, "0039 "...), m[:3]...), ' '), m[3:]...)
	case 6: // 333-1234567
		l = append(append(append(l, m[:3]...), '-'), m[3:]...)
	case 7: // 333.123.4567
		l = append(append(append(append(append(l, m[:3]...), '.'), m[3:6]...), '.'), m[6:]...)
	case 8: // 333/1234567
		l = append(append(append(l, m[:3]...), '/'), m[3:]...)
	default: // (+39) 333 1234567
		l = append(append(append(append(l, "(+39) "...), m[:3]...), ' '), m[3:]...)
	}
	g.line = l
}

func (g *gen) landline() {
	a := areaCodes[g.rng.IntN(len(areaCodes))]
	if g.rng.IntN(4) == 0 {
		g.line = append(g.line, "+39 "...)
	}
	g.line = append(g.line, a.prefix...)
	g.line = append(g.line, ' ')
	g.line = append(g.line, byte('1'+g.rng.IntN(5)))
	for range a.digits - 1 {
		g.line = append(g.line, byte('0'+g.rng.IntN(10)))
	}
}

func (g *gen) badDatetime(at time.Time, minute int) {
	hm := func() {
		g.line = append(g.line, ' ')
		g.line = appendInt(g.line, minute/60, 2)
		g.line = append(g.line, ':')
		g.line = appendInt(g.line, minute%60, 2)
	}
	switch g.rng.IntN(6) {
	case 0: // a day the month does not have
		g.line = append(g.line, "31/"...)
		g.line = appendInt(g.line, []int{2, 4, 6, 9, 11}[g.rng.IntN(5)], 2)
		g.line = append(g.line, '/')
		g.line = appendInt(g.line, at.Year(), 4)
		hm()
	case 1: // no time
		g.line = appendDate(g.line, at)
	case 2: // a note instead of a date
		g.line = append(g.line, "da definire"...)
	case 3: // month 13
		g.line = appendInt(g.line, at.Day(), 2)
		g.line = append(g.line, "/13/"...)
		g.line = appendInt(g.line, at.Year(), 4)
		hm()
	case 4: // hour 25
		g.line = appendDate(g.line, at)
		g.line = append(g.line, " 25:"...)
		g.line = appendInt(g.line, minute%60, 2)
	default: // two-digit year
		g.line = appendInt(g.line, at.Day(), 2)
		g.line = append(g.line, '/')
		g.line = appendInt(g.line, int(at.Month()), 2)
		g.line = append(g.line, '/')
		g.line = appendInt(g.line, at.Year()%100, 2)
		hm()
	}
}

func appendDate(b []byte, t time.Time) []byte {
	b = appendInt(b, t.Day(), 2)
	b = append(b, '/')
	b = appendInt(b, int(t.Month()), 2)
	b = append(b, '/')
	return appendInt(b, t.Year(), 4)
}

// appendInt appends n zero-padded to width digits.
func appendInt(b []byte, n, width int) []byte {
	var buf [12]byte
	i := len(buf)
	for n > 0 || i > len(buf)-width {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
	}
	return append(b, buf[i:]...)
}
