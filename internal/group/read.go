package group

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/phone"
)

// Bounds of what a club or a facility sends: a list is tens or hundreds of
// athletes, so a file beyond these is not one.
const (
	MaxFileBytes = 4 << 20
	MaxRows      = 20000
	maxCell      = 200
)

// Columns of the athletes' list and of the agreed slots.
const (
	colSurname    = "cognome"
	colName       = "nome"
	colBirthDate  = "data_nascita"
	colFiscalCode = "codice_fiscale"
	colPhone      = "cellulare"
	colVisitType  = "tipo_visita"
	colClub       = "societa"

	colDate   = "data"
	colTime   = "ora"
	colPlaces = "posti"
	colPlace  = "struttura"
)

var (
	athleteColumns = []string{colSurname, colName, colBirthDate, colFiscalCode, colPhone, colVisitType, colClub}
	slotColumns    = []string{colDate, colTime, colVisitType, colPlaces}
)

// FileError is a file that is not a list at all (no header, a missing
// column, too large): Error is the message for the command line, Italian
// the one for the console.
type FileError struct {
	msg     string
	Italian string
}

func (e *FileError) Error() string { return e.msg }

func fileError(msg, italian string, args ...any) error {
	return &FileError{msg: msg, Italian: fmt.Sprintf(italian, args...)}
}

// table is a CSV file read whole: its header's columns and its rows with
// the line each starts on.
type table struct {
	name  string
	col   map[string]int
	rows  [][]string
	lines []int
	width int
}

func (t *table) get(row []string, col string) string {
	i, ok := t.col[col]
	if !ok || i >= len(row) {
		return ""
	}
	return strings.TrimSpace(row[i])
}

// readTable reads a CSV file of at most MaxFileBytes whose header holds
// every column of required. The delimiter (';', ',' or tab) is the one the
// header uses most; a file that is not UTF-8 is Windows-1252, as Italian
// spreadsheets write it.
func readTable(r io.Reader, name string, required []string) (*table, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(b) > MaxFileBytes {
		return nil, fileError(fmt.Sprintf("%s: larger than %d MiB, not a list", name, MaxFileBytes>>20),
			"Il file %s supera %d MiB: non è un elenco.", name, MaxFileBytes>>20)
	}
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(b) {
		if b, err = charmap.Windows1252.NewDecoder().Bytes(b); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	header, _, _ := bytes.Cut(b, []byte{'\n'})
	delim, best := ';', -1
	for _, d := range []rune{';', ',', '\t'} {
		if n := bytes.Count(header, []byte(string(d))); n > best {
			delim, best = d, n
		}
	}
	cr := csv.NewReader(bytes.NewReader(b))
	cr.Comma = delim
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = false
	head, err := cr.Read()
	if err == io.EOF {
		return nil, fileError(name+": empty file, no header", "Il file %s è vuoto: manca la riga di intestazione.", name)
	}
	if err != nil {
		return nil, fileError(fmt.Sprintf("%s: header: %v", name, err), "L'intestazione del file %s non si legge: è un file CSV?", name)
	}
	t := &table{name: name, col: map[string]int{}, width: len(head)}
	for i, h := range head {
		h = strings.ToLower(strings.TrimSpace(h))
		if _, dup := t.col[h]; dup && h != "" {
			return nil, fileError(fmt.Sprintf("%s:1: column %q appears twice", name, h), "Nel file %s la colonna «%s» compare due volte.", name, h)
		}
		t.col[h] = i
	}
	var missing []string
	for _, c := range required {
		if _, ok := t.col[c]; !ok {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return nil, fileError(fmt.Sprintf("%s:1: missing column %s (the header must name %s)", name,
			strings.Join(missing, ", "), strings.Join(required, ", ")),
			"Nel file %s manca la colonna %s: l'intestazione deve avere le colonne %s.", name, strings.Join(missing, ", "), strings.Join(required, ", "))
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return t, nil
		}
		if err != nil {
			// A quote left open swallows the rest of the file: stop rather
			// than plan on a part of it.
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, fileError(fmt.Sprintf("%s:%d: %v", name, pe.StartLine, pe.Err),
					"Nel file %s alla riga %d ci sono virgolette non chiuse o un campo non valido: il file non è stato usato.", name, pe.StartLine)
			}
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		if blank(rec) {
			continue
		}
		if len(t.rows) == MaxRows {
			return nil, fileError(fmt.Sprintf("%s:%d: more than %d rows, not a list", name, line, MaxRows), "Il file %s ha più di %d righe: non è un elenco.", name, MaxRows)
		}
		t.rows = append(t.rows, rec)
		t.lines = append(t.lines, line)
	}
}

func blank(rec []string) bool {
	for _, c := range rec {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

func reject(file string, line int, reason cup.Reason, detail string) cup.Rejection {
	return cup.Rejection{File: file, Line: line, Reason: reason, Detail: detail}
}

// cellProblem reports a row whose cell count differs from the header's or
// whose cells are too long or hold control characters.
func (t *table) cellProblem(i int) *cup.Rejection {
	row := t.rows[i]
	if len(row) != t.width {
		r := reject(t.name, t.lines[i], ReasonWrongCellCount, fmt.Sprintf("%d cells, the header has %d", len(row), t.width))
		return &r
	}
	for j, c := range row {
		if len(c) > maxCell {
			r := reject(t.name, t.lines[i], ReasonWrongCellCount, fmt.Sprintf("cell %d longer than %d characters", j+1, maxCell))
			return &r
		}
		for _, ch := range c {
			if ch < 0x20 || ch == 0x7f {
				r := reject(t.name, t.lines[i], cup.ReasonControlCharacter, fmt.Sprintf("cell %d", j+1))
				return &r
			}
		}
	}
	return nil
}

// ReadAthletes reads a club's list. Every unusable row is a Rejection
// with its line and reason, and the rest is read on; err is for a file
// that is not a list at all (no header, a missing column, too large).
func ReadAthletes(r io.Reader, name string) ([]Athlete, []cup.Rejection, error) {
	t, err := readTable(r, name, athleteColumns)
	if err != nil {
		return nil, nil, err
	}
	var (
		out  []Athlete
		rejs []cup.Rejection
		seen = map[string]int{}
	)
	for i, row := range t.rows {
		line := t.lines[i]
		if p := t.cellProblem(i); p != nil {
			rejs = append(rejs, *p)
			continue
		}
		a := Athlete{
			Surname: t.get(row, colSurname),
			Name:    t.get(row, colName),
			Club:    t.get(row, colClub),
			File:    name,
			Line:    line,
		}
		var missing []string
		for _, c := range []struct{ col, v string }{
			{colSurname, a.Surname}, {colName, a.Name}, {colBirthDate, t.get(row, colBirthDate)},
			{colFiscalCode, t.get(row, colFiscalCode)}, {colVisitType, t.get(row, colVisitType)}, {colClub, a.Club},
		} {
			if c.v == "" {
				missing = append(missing, c.col)
			}
		}
		if len(missing) > 0 {
			rejs = append(rejs, reject(name, line, ReasonMissingCell, "empty "+strings.Join(missing, ", ")))
			continue
		}
		cf, ok := cup.FiscalCode(t.get(row, colFiscalCode))
		if !ok {
			rejs = append(rejs, reject(name, line, ReasonBadFiscalCode, "not a valid codice fiscale (length, letters or check character)"))
			continue
		}
		a.FiscalCode = cf
		if prev, dup := seen[cf]; dup {
			rejs = append(rejs, reject(name, line, ReasonDuplicate, fmt.Sprintf("the same codice fiscale as line %d", prev)))
			continue
		}
		d, ok := parseDate(t.get(row, colBirthDate))
		if !ok {
			rejs = append(rejs, reject(name, line, ReasonBadBirthDate, "want DD/MM/YYYY or YYYY-MM-DD"))
			continue
		}
		a.BirthDate = d
		vt, ok := parseVisitType(t.get(row, colVisitType))
		if !ok {
			rejs = append(rejs, reject(name, line, ReasonBadVisitType, `want "agonistica" or "non agonistica"`))
			continue
		}
		a.Type = vt
		if raw := t.get(row, colPhone); raw != "" {
			e164, kind := phone.Classify(raw)
			switch kind {
			case phone.Mobile:
				a.Phone = e164
			case phone.Landline:
				rejs = append(rejs, reject(name, line, cup.ReasonLandline, "cellulare is a landline: the appointment is sent by SMS"))
				continue
			default:
				rejs = append(rejs, reject(name, line, cup.ReasonInvalidPhone, "cellulare is not a phone number"))
				continue
			}
		}
		seen[cf] = line
		out = append(out, a)
	}
	return out, rejs, nil
}

// ReadSlots reads the slots agreed with the facility. A slot at or before
// now cannot be booked any more and is reported as such; two rows for the
// same time and visit type are one slot written twice, and the second is
// reported.
func ReadSlots(r io.Reader, name string, now time.Time) ([]Slot, []cup.Rejection, error) {
	t, err := readTable(r, name, slotColumns)
	if err != nil {
		return nil, nil, err
	}
	var (
		out  []Slot
		rejs []cup.Rejection
		seen = map[string]int{}
	)
	for i, row := range t.rows {
		line := t.lines[i]
		if p := t.cellProblem(i); p != nil {
			rejs = append(rejs, *p)
			continue
		}
		var missing []string
		for _, c := range slotColumns {
			if t.get(row, c) == "" {
				missing = append(missing, c)
			}
		}
		if len(missing) > 0 {
			rejs = append(rejs, reject(name, line, ReasonMissingCell, "empty "+strings.Join(missing, ", ")))
			continue
		}
		d, ok := parseDate(t.get(row, colDate))
		if !ok {
			rejs = append(rejs, reject(name, line, ReasonBadDate, "want DD/MM/YYYY or YYYY-MM-DD"))
			continue
		}
		h, m, ok := parseClock(t.get(row, colTime))
		if !ok {
			rejs = append(rejs, reject(name, line, ReasonBadTime, "want HH:MM"))
			continue
		}
		at := time.Date(d.Year(), d.Month(), d.Day(), h, m, 0, 0, cup.Rome)
		if at.Hour() != h || at.Minute() != m {
			rejs = append(rejs, reject(name, line, ReasonBadTime, "that time does not exist on that day (clocks go forward)"))
			continue
		}
		vt, ok := parseVisitType(t.get(row, colVisitType))
		if !ok {
			rejs = append(rejs, reject(name, line, ReasonBadVisitType, `want "agonistica" or "non agonistica"`))
			continue
		}
		n, err := strconv.Atoi(t.get(row, colPlaces))
		if err != nil || n < 1 || n > 1000 {
			rejs = append(rejs, reject(name, line, ReasonBadPlaces, "want a whole number of athletes from 1 to 1000"))
			continue
		}
		if !at.After(now) {
			rejs = append(rejs, reject(name, line, ReasonPastSlot, "the slot is not in the future"))
			continue
		}
		key := at.Format(time.RFC3339) + string(vt)
		if prev, dup := seen[key]; dup {
			rejs = append(rejs, reject(name, line, ReasonDuplicate, fmt.Sprintf("the same time and visit type as line %d", prev)))
			continue
		}
		seen[key] = line
		out = append(out, Slot{At: at, Type: vt, Places: n, Place: t.get(row, colPlace), File: name, Line: line})
	}
	return out, rejs, nil
}

// parseDate reads DD/MM/YYYY (as Italian spreadsheets write it, with one
// digit allowed for day and month) or YYYY-MM-DD.
func parseDate(s string) (time.Time, bool) {
	for _, layout := range []string{"2/1/2006", "2006-01-02", "2-1-2006", "2.1.2006"} {
		if d, err := time.ParseInLocation(layout, s, cup.Rome); err == nil && d.Year() >= 1900 && d.Year() < 2200 {
			return d, true
		}
	}
	return time.Time{}, false
}

func parseClock(s string) (h, m int, ok bool) {
	s = strings.Replace(s, ".", ":", 1)
	for _, layout := range []string{"15:04", "15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Hour(), t.Minute(), true
		}
	}
	return 0, 0, false
}

func parseVisitType(s string) (VisitType, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.NewReplacer("-", " ", "_", " ").Replace(s)
	switch strings.Join(strings.Fields(s), " ") {
	case "agonistica":
		return Competitive, true
	case "non agonistica":
		return NonCompetitive, true
	}
	return "", false
}
