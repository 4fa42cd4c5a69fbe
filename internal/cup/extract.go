package cup

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"

	"github.com/richiamo/richiamo/internal/phone"
)

// Canonical column names of an extract. A Layout maps them to the headers of
// a file; a Record is read through them.
const (
	ColNode        = "nodo"
	ColAgenda      = "agenda"
	ColCode        = "codice_prenotazione"
	ColPhone       = "cellulare"
	ColAt          = "data_ora_appuntamento"
	ColServiceCode = "codice_prestazione"
	ColService     = "prestazione"
	ColServiceType = "tipo_prestazione"
	ColFacility    = "struttura"
	ColAddress     = "indirizzo"
	ColPriority    = "classe_priorita"
	ColBookedOn    = "data_prenotazione"
	ColSurname     = "cognome"
	ColName        = "nome"
	// The patient's codice fiscale and birth date, optional: with them a
	// patient's other bookings, and the numbers written on them, are found.
	ColFiscalCode = "codice_fiscale"
	ColBirthDate  = "data_nascita"
)

// columns lists the canonical columns; a column's index here is its slot in
// a row.
var columns = [...]string{
	ColNode, ColAgenda, ColCode, ColPhone, ColAt, ColServiceCode, ColService,
	ColServiceType, ColFacility, ColAddress, ColPriority, ColBookedOn,
	ColSurname, ColName, ColFiscalCode, ColBirthDate,
}

// requiredColumns are the three cells the CUP promises in every extract; a
// file without one of them is not an extract.
var requiredColumns = []string{ColPhone, ColCode, ColAt}

const numColumns = len(columns)

// columnIndex is the slot of a canonical column, or -1. A switch rather than
// a map because ValidateRecord asks it fourteen times per row.
func columnIndex(col string) int {
	switch col {
	case ColNode:
		return 0
	case ColAgenda:
		return 1
	case ColCode:
		return 2
	case ColPhone:
		return 3
	case ColAt:
		return 4
	case ColServiceCode:
		return 5
	case ColService:
		return 6
	case ColServiceType:
		return 7
	case ColFacility:
		return 8
	case ColAddress:
		return 9
	case ColPriority:
		return 10
	case ColBookedOn:
		return 11
	case ColSurname:
		return 12
	case ColName:
		return 13
	case ColFiscalCode:
		return 14
	case ColBirthDate:
		return 15
	}
	return -1
}

// Encodings a Layout may force.
const (
	EncodingUTF8        = "utf-8"
	EncodingWindows1252 = "windows-1252"
)

// Layout describes an extract file. The zero value is the default layout.
type Layout struct {
	// Columns maps a canonical column name (ColPhone…) to the header name
	// in the file. A canonical column not in the map is looked up by its
	// own name.
	Columns map[string]string
	// Delimiter separates cells; 0 detects ';', ',' or tab from the header.
	// It must be a single-byte character other than a quote, a space or a
	// line break.
	Delimiter rune
	// Encoding is "" to decide line by line (valid UTF-8 is UTF-8, anything
	// else is Windows-1252, as Italian Excel exports are), or forces
	// EncodingUTF8 or EncodingWindows1252.
	Encoding string
	// DefaultNode is the CUP node of rows with no nodo cell, for a node
	// whose extract does not say which node it is.
	DefaultNode string
}

// Validate reports the first setting that cannot work, naming it.
func (l Layout) Validate() error {
	for _, k := range slices.Sorted(maps.Keys(l.Columns)) {
		if columnIndex(k) < 0 {
			return fmt.Errorf("cup: layout: unknown column %q in Columns", k)
		}
		if strings.TrimSpace(l.Columns[k]) == "" {
			return fmt.Errorf("cup: layout: column %q is mapped to an empty header name", k)
		}
	}
	if d := l.Delimiter; d != 0 && (d >= utf8.RuneSelf || d == '"' || d == ' ' || d == '\r' || d == '\n') {
		return fmt.Errorf("cup: layout: delimiter %q is not usable: want a single-byte character other than a quote, a space or a line break", d)
	}
	if _, err := encodingOf(l.Encoding); err != nil {
		return err
	}
	return nil
}

type encoding int

const (
	encodingDetect encoding = iota
	encodingUTF8
	encodingWindows1252
)

func encodingOf(name string) (encoding, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "":
		return encodingDetect, nil
	case EncodingUTF8, "utf8":
		return encodingUTF8, nil
	case EncodingWindows1252, "cp1252":
		return encodingWindows1252, nil
	}
	return 0, fmt.Errorf("cup: layout: unknown encoding %q: want %q, %q or empty to detect", name, EncodingUTF8, EncodingWindows1252)
}

// maxRow bounds one row, so that a quote left open in a broken file stops
// the read with an error instead of swallowing the rest of the file.
const maxRow = 1 << 20

// ExtractReader reads an extract row by row without holding the file. The
// text of a Booking it returns shares one string with its row, so a row
// costs one allocation and holding a Booking holds that row's text. It is
// not safe for concurrent use.
type ExtractReader struct {
	br     *bufio.Reader
	name   string
	node   string
	enc    encoding
	delim  byte
	slot   [numColumns]int // field of each canonical column, -1 if absent
	phys   int             // physical lines read so far
	line   int             // first physical line of the last row returned
	long   []byte          // a physical line longer than the bufio buffer
	dec    []byte          // a physical line decoded to UTF-8
	cooked []byte          // a row with quotes, unquoted
	buf    []byte          // the current row: the line itself, or cooked
	cells  []span          // where each cell is in buf
	row    row
	err    error
}

// span is a cell's place in a row.
type span struct{ start, end int }

// NewExtractReader reads the header; a missing required column is an error
// naming the column and the file. name is the file name that bookings and
// rejections carry as their Source and File.
func NewExtractReader(r io.Reader, name string, layout Layout) (*ExtractReader, error) {
	if err := layout.Validate(); err != nil {
		return nil, err
	}
	enc, _ := encodingOf(layout.Encoding)
	x := &ExtractReader{
		br:   bufio.NewReaderSize(r, 64<<10),
		name: name,
		node: layout.DefaultNode,
		enc:  enc,
	}
	var first []byte
	for {
		line, err := x.readLine()
		if err == io.EOF {
			return nil, fmt.Errorf("cup: extract %s: no header row", name)
		}
		if err != nil {
			return nil, fmt.Errorf("cup: extract %s: reading the header: %w", name, err)
		}
		if len(bytes.TrimSpace(line)) > 0 {
			first = line
			break
		}
	}
	x.line = x.phys
	x.delim = byte(layout.Delimiter)
	if x.delim == 0 {
		x.delim = detectDelimiter(first)
	}
	if err := x.parseRow(first); err != nil {
		return nil, fmt.Errorf("cup: extract %s: reading the header: %w", name, err)
	}
	header := make(map[string]int)
	for i, c := range x.cells {
		h := strings.ToLower(strings.TrimSpace(string(x.buf[c.start:c.end])))
		if _, dup := header[h]; !dup {
			header[h] = i
		}
	}
	var missing []string
	for i, col := range columns {
		want := col
		if m, ok := layout.Columns[col]; ok {
			want = m
		}
		pos, ok := header[strings.ToLower(strings.TrimSpace(want))]
		if !ok {
			pos = -1
			if slices.Contains(requiredColumns, col) {
				if want != col {
					missing = append(missing, fmt.Sprintf("%q (%s)", want, col))
				} else {
					missing = append(missing, fmt.Sprintf("%q", col))
				}
			}
		}
		x.slot[i] = pos
	}
	switch len(missing) {
	case 0:
		return x, nil
	case 1:
		return nil, fmt.Errorf("cup: extract %s: missing required column %s", name, missing[0])
	}
	return nil, fmt.Errorf("cup: extract %s: missing required columns %s", name, strings.Join(missing, ", "))
}

// detectDelimiter picks the most frequent of ';', tab and ',' outside quotes
// in the header; a tie goes to ';', the delimiter of Italian Excel.
func detectDelimiter(header []byte) byte {
	var semi, tab, comma int
	quoted := false
	for _, c := range header {
		switch c {
		case '"':
			quoted = !quoted
		case ';':
			if !quoted {
				semi++
			}
		case '\t':
			if !quoted {
				tab++
			}
		case ',':
			if !quoted {
				comma++
			}
		}
	}
	switch {
	case semi >= tab && semi >= comma:
		return ';'
	case tab >= comma:
		return '\t'
	}
	return ','
}

// Line is the physical line number (1 is the first line of the file, the
// header) where the last row returned by Next starts.
func (r *ExtractReader) Line() int { return r.line }

// Next returns the next data row: either a Booking (rej == nil) or a
// Rejection; a landline's rejection comes with its Booking, as
// ValidateRecord gives it. err is io.EOF at the end; any other err is a read error that
// stops the file (an I/O error, a quoted cell still open at the end of the
// file, a row over 1 MiB), never a bad row. Rows whose cells are all empty
// are skipped.
func (r *ExtractReader) Next() (b Booking, rej *Rejection, err error) {
	if r.err != nil {
		return Booking{}, nil, r.err
	}
	for {
		line, err := r.readLine()
		if err != nil {
			if err != io.EOF {
				err = fmt.Errorf("cup: extract %s line %d: %w", r.name, r.phys+1, err)
			}
			r.err = err
			return Booking{}, nil, err
		}
		if len(line) == 0 {
			continue
		}
		start := r.phys
		if err := r.parseRow(line); err != nil {
			r.err = fmt.Errorf("cup: extract %s line %d: %w", r.name, start, err)
			return Booking{}, nil, r.err
		}
		if r.blankRow() {
			continue
		}
		r.line = start
		r.fillRow()
		b, rej := ValidateRecord(&r.row, r.name, start, r.node)
		return b, rej, nil
	}
}

// readLine returns the next physical line decoded to UTF-8, without its line
// break. The slice is valid until the next call.
func (r *ExtractReader) readLine() ([]byte, error) {
	b, err := r.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		r.long = append(r.long[:0], b...)
		for err == bufio.ErrBufferFull {
			if len(r.long) > maxRow {
				return nil, fmt.Errorf("line longer than %d bytes", maxRow)
			}
			b, err = r.br.ReadSlice('\n')
			r.long = append(r.long, b...)
		}
		b = r.long
	}
	if err != nil && (err != io.EOF || len(b) == 0) {
		return nil, err
	}
	r.phys++
	b = bytes.TrimSuffix(b, []byte{'\n'})
	b = bytes.TrimSuffix(b, []byte{'\r'})
	if r.phys == 1 {
		b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	}
	switch r.enc {
	case encodingDetect:
		if !utf8.Valid(b) {
			b = r.decode1252(b)
		}
	case encodingUTF8:
		if !utf8.Valid(b) {
			b = bytes.ToValidUTF8(b, []byte("\uFFFD"))
		}
	case encodingWindows1252:
		b = r.decode1252(b)
	}
	return b, nil
}

// win1252 decodes the upper half of Windows-1252.
var win1252 = func() (t [128]rune) {
	for i := range t {
		t[i] = charmap.Windows1252.DecodeByte(byte(i + 0x80))
	}
	return t
}()

func (r *ExtractReader) decode1252(b []byte) []byte {
	r.dec = r.dec[:0]
	for _, c := range b {
		if c < utf8.RuneSelf {
			r.dec = append(r.dec, c)
		} else {
			r.dec = utf8.AppendRune(r.dec, win1252[c-0x80])
		}
	}
	return r.dec
}

// parseRow splits a row that starts with line into cells, RFC 4180 style:
// a cell that starts with a quote (after spaces) runs to the closing quote,
// "" inside it is one quote, and it may hold delimiters and line breaks.
// Quotes elsewhere are kept as written, because a lenient reading of a
// malformed cell costs less than losing the row.
func (r *ExtractReader) parseRow(line []byte) error {
	r.cells = r.cells[:0]
	if bytes.IndexByte(line, '"') < 0 {
		// Most rows have no quote: cut them where the delimiters are.
		r.buf = line
		start := 0
		for {
			i := bytes.IndexByte(line[start:], r.delim)
			if i < 0 {
				r.cells = append(r.cells, span{start, len(line)})
				return nil
			}
			r.cells = append(r.cells, span{start, start + i})
			start += i + 1
		}
	}
	r.cooked = r.cooked[:0]
	cellStart := 0
	quoted := false
	for {
		i := 0
		for i < len(line) {
			if quoted {
				j := bytes.IndexByte(line[i:], '"')
				if j < 0 {
					r.cooked = append(r.cooked, line[i:]...)
					break
				}
				r.cooked = append(r.cooked, line[i:i+j]...)
				i += j + 1
				if i < len(line) && line[i] == '"' {
					r.cooked = append(r.cooked, '"')
					i++
				} else {
					quoted = false
				}
				continue
			}
			j := i
			for j < len(line) && line[j] != r.delim && line[j] != '"' {
				j++
			}
			r.cooked = append(r.cooked, line[i:j]...)
			i = j
			if i == len(line) {
				break
			}
			if line[i] == r.delim {
				r.cells = append(r.cells, span{cellStart, len(r.cooked)})
				cellStart = len(r.cooked)
			} else if isBlank(r.cooked[cellStart:]) {
				quoted = true
			} else {
				r.cooked = append(r.cooked, '"')
			}
			i++
		}
		if len(r.cooked) > maxRow {
			return fmt.Errorf("row longer than %d bytes", maxRow)
		}
		if !quoted {
			break
		}
		next, err := r.readLine()
		if err == io.EOF {
			return errors.New("quoted cell still open at the end of the file")
		}
		if err != nil {
			return err
		}
		r.cooked = append(r.cooked, '\n')
		line = next
	}
	r.cells = append(r.cells, span{cellStart, len(r.cooked)})
	r.buf = r.cooked
	return nil
}

// blankRow is true for a row of empty cells, which spreadsheets leave
// behind and which are no booking.
func (r *ExtractReader) blankRow() bool {
	for _, c := range r.cells {
		if !isBlank(r.buf[c.start:c.end]) {
			return false
		}
	}
	return true
}

func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' {
			return false
		}
	}
	return true
}

// fillRow turns the parsed cells into the row's canonical cells, left
// untrimmed for ValidateRecord to trim. They share one string, so a row costs
// one allocation, and a Booking keeps its row's text alive.
func (r *ExtractReader) fillRow() {
	s := string(r.buf)
	for i, pos := range r.slot {
		v := ""
		if pos >= 0 && pos < len(r.cells) {
			c := r.cells[pos]
			v = s[c.start:c.end]
		}
		r.row.vals[i] = v
	}
}

// row is a Record over the cells of one extract row.
type row struct {
	vals [numColumns]string
}

func (r *row) Get(col string) string {
	if i := columnIndex(col); i >= 0 {
		return r.vals[i]
	}
	return ""
}

// Record gives a row's cell by canonical column name ("" when absent).
type Record interface{ Get(col string) string }

// ValidateRecord turns one source row into a Booking, or says why it cannot
// be one. Every source uses it, so that an extract file and a node's
// database reject the same rows for the same reasons.
//
// Cells are trimmed of spaces. The first problem found is reported, checked
// in this order: control_character, missing_booking_code, bad_datetime,
// missing_phone, invalid_phone, landline. An empty nodo cell takes
// defaultNode. A control character (C0, DEL or C1) in any cell rejects the
// row, except a tab or a line break inside the text of a description, a
// place or a name, where a quoted cell may hold one.
//
// data_ora_appuntamento is Europe/Rome local time, written dd/mm/yyyy HH:MM
// (day, month and hour may have one digit; seconds are optional) or ISO
// yyyy-mm-dd HH:MM[:SS] with a space or a T (a fraction of a second, as SQL
// Server writes it, is ignored); the year must be from 1900 on. A time that
// does not exist because clocks go forward (29/03/2026 02:30) is
// bad_datetime. A time that happens twice because clocks go back
// (25/10/2026 02:30) is the first of the two, in summer time: a patient told
// "02:30" who arrives early loses nothing.
//
// tipo_prestazione V or S (any case) gives the service family, anything else
// ServiceUnknown; classe_priorita U, B, D or P (any case) is kept upper-case,
// anything else is "". data_prenotazione takes the same formats, the time
// being optional; one that cannot be read is the zero time, not a rejection,
// because no reminder depends on it.
//
// codice_fiscale is kept upper-case when well formed (cup.FiscalCode) and
// data_nascita when it is a date in the formats above; otherwise each is
// left empty, not a rejection, because no reminder depends on them.
//
// Detail never repeats the phone number. A landline row is rejected
// (landline) but its Booking is returned with the rejection, complete, for
// the jobs that call rather than text; every other rejection returns the
// zero Booking. A rejection names the row's node.
func ValidateRecord(rec Record, source string, line int, defaultNode string) (_ Booking, rej *Rejection) {
	defer func() {
		if rej != nil {
			rej.Node = rowNode(rec, defaultNode)
		}
	}()
	for i, col := range columns {
		if at, r := controlChar(rec.Get(col), textColumn[i]); at >= 0 {
			return Booking{}, reject(source, line, ReasonControlCharacter,
				fmt.Sprintf("column %s: control character U+%04X at character %d", col, r, at+1))
		}
	}
	code := strings.TrimSpace(rec.Get(ColCode))
	if code == "" {
		return Booking{}, reject(source, line, ReasonMissingBookingCode, "column "+ColCode+": empty")
	}
	rawAt := strings.TrimSpace(rec.Get(ColAt))
	at, err := parseAppointment(rawAt)
	if err != nil {
		return Booking{}, reject(source, line, ReasonBadDatetime, "column "+ColAt+": "+err.Error())
	}
	e164, kind := phone.Classify(rec.Get(ColPhone))
	switch kind {
	case phone.Missing:
		return Booking{}, reject(source, line, ReasonMissingPhone, "column "+ColPhone+": empty")
	case phone.Invalid:
		return Booking{}, reject(source, line, ReasonInvalidPhone, "column "+ColPhone+": not a valid number")
	}
	node := strings.TrimSpace(rec.Get(ColNode))
	if node == "" {
		node = defaultNode
	}
	var bookedOn time.Time
	if s := strings.TrimSpace(rec.Get(ColBookedOn)); s != "" {
		// Booking dates spread over months, where the appointments' day
		// cache would only thrash; a clock change does not matter here.
		if d, ok := scanDateTime(s); ok && d.validDate() && d.validTime() {
			bookedOn = time.Date(d.year, time.Month(d.month), d.day, d.hour, d.min, d.sec, 0, Rome)
		}
	}
	fiscal, _ := FiscalCode(rec.Get(ColFiscalCode))
	var born time.Time
	if s := strings.TrimSpace(rec.Get(ColBirthDate)); s != "" {
		if d, ok := scanDateTime(s); ok && d.validDate() {
			born = time.Date(d.year, time.Month(d.month), d.day, 0, 0, 0, 0, Rome)
		}
	}
	b := Booking{
		Node:        node,
		Code:        code,
		Phone:       e164,
		At:          at,
		Agenda:      strings.TrimSpace(rec.Get(ColAgenda)),
		ServiceCode: strings.TrimSpace(rec.Get(ColServiceCode)),
		Service:     strings.TrimSpace(rec.Get(ColService)),
		ServiceType: serviceType(strings.TrimSpace(rec.Get(ColServiceType))),
		Facility:    strings.TrimSpace(rec.Get(ColFacility)),
		Address:     strings.TrimSpace(rec.Get(ColAddress)),
		Priority:    priority(strings.TrimSpace(rec.Get(ColPriority))),
		BookedOn:    bookedOn,
		Surname:     strings.TrimSpace(rec.Get(ColSurname)),
		Name:        strings.TrimSpace(rec.Get(ColName)),
		FiscalCode:  fiscal,
		BirthDate:   born,
		Source:      source,
		Line:        line,
	}
	if kind == phone.Landline {
		// Rejected for SMS, but the booking goes with the rejection: a
		// landline can be called.
		return b, reject(source, line, ReasonLandline, "column "+ColPhone+": a landline or another number that cannot receive SMS")
	}
	return b, nil
}

// textColumn marks the columns of free text, by slot, where a tab or a line
// break is part of the text.
var textColumn = func() (t [numColumns]bool) {
	for _, c := range []string{ColService, ColFacility, ColAddress, ColSurname, ColName} {
		t[columnIndex(c)] = true
	}
	return t
}()

// controlChar finds the first control character of s (C0, DEL, C1; in text,
// tab and line breaks excepted): its position in characters and the
// character, or -1. Most cells have none, and a byte scan finds that fast.
func controlChar(s string, text bool) (int, rune) {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c == 0xc2 {
			clean = false
			break
		}
	}
	if clean {
		return -1, 0
	}
	n := 0
	for _, r := range s {
		if r < 0x20 || (r >= 0x7f && r <= 0x9f) {
			if !(text && (r == '\t' || r == '\n' || r == '\r')) {
				return n, r
			}
		}
		n++
	}
	return -1, 0
}

func reject(source string, line int, reason Reason, detail string) *Rejection {
	return &Rejection{File: source, Line: line, Reason: reason, Detail: detail}
}

func serviceType(s string) ServiceType {
	switch s {
	case "V", "v":
		return ServiceVisit
	case "S", "s":
		return ServiceInstrumental
	}
	return ServiceUnknown
}

func priority(s string) string {
	switch s {
	case "U", "u":
		return "U"
	case "B", "b":
		return "B"
	case "D", "d":
		return "D"
	case "P", "p":
		return "P"
	}
	return ""
}

// parseAppointment reads data_ora_appuntamento; the error is a phrase for
// an operator.
func parseAppointment(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, errors.New("empty")
	}
	d, ok := scanDateTime(s)
	switch {
	case !ok:
		return time.Time{}, fmt.Errorf("%s is not a date and time", quote(s))
	case !d.validDate():
		return time.Time{}, fmt.Errorf("%s is not a date", quote(s))
	case !d.hasTime:
		return time.Time{}, fmt.Errorf("%s has no time", quote(s))
	case !d.validTime():
		return time.Time{}, fmt.Errorf("%s is not a time of day", quote(s))
	}
	t, exists := d.inRome()
	if !exists {
		return time.Time{}, fmt.Errorf("%s does not exist in Europe/Rome: clocks go forward at that hour", quote(s))
	}
	return t, nil
}

// quote shows a cell in a detail, cut short so that a junk cell does not
// flood a report.
func quote(s string) string {
	const limit = 40
	if len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return fmt.Sprintf("%q…", s[:cut])
	}
	return fmt.Sprintf("%q", s)
}

// dateTime is a date and time as written, not yet checked.
type dateTime struct {
	year, month, day, hour, min, sec int
	hasTime                          bool
}

// scanDateTime reads dd/mm/yyyy[ HH:MM[:SS]] or yyyy-mm-dd[(T| )HH:MM[:SS]]
// without time.Parse, which would cost more than the rest of the row.
func scanDateTime(s string) (dateTime, bool) {
	var d dateTime
	var ok bool
	i := 0
	if len(s) >= 5 && s[4] == '-' {
		if d.year, i, ok = digits(s, 0, 4, 4); !ok || s[i] != '-' {
			return d, false
		}
		if d.month, i, ok = digits(s, i+1, 2, 2); !ok || i >= len(s) || s[i] != '-' {
			return d, false
		}
		if d.day, i, ok = digits(s, i+1, 2, 2); !ok {
			return d, false
		}
		if i < len(s) && s[i] == 'T' {
			return scanTime(s, i+1, d)
		}
	} else {
		if d.day, i, ok = digits(s, 0, 1, 2); !ok || i >= len(s) || s[i] != '/' {
			return d, false
		}
		if d.month, i, ok = digits(s, i+1, 1, 2); !ok || i >= len(s) || s[i] != '/' {
			return d, false
		}
		if d.year, i, ok = digits(s, i+1, 4, 4); !ok {
			return d, false
		}
	}
	if i == len(s) {
		return d, true
	}
	if s[i] != ' ' {
		return d, false
	}
	for i < len(s) && s[i] == ' ' {
		i++
	}
	return scanTime(s, i, d)
}

func scanTime(s string, i int, d dateTime) (dateTime, bool) {
	var ok bool
	d.hasTime = true
	if d.hour, i, ok = digits(s, i, 1, 2); !ok || i >= len(s) || s[i] != ':' {
		return d, false
	}
	if d.min, i, ok = digits(s, i+1, 2, 2); !ok {
		return d, false
	}
	if i < len(s) && s[i] == ':' {
		if d.sec, i, ok = digits(s, i+1, 2, 2); !ok {
			return d, false
		}
		if i < len(s) && s[i] == '.' {
			if _, i, ok = digits(s, i+1, 1, 9); !ok {
				return d, false
			}
		}
	}
	return d, i == len(s)
}

// digits reads from lo to hi decimal digits of s from i.
func digits(s string, i, lo, hi int) (n, next int, ok bool) {
	j := i
	for j < len(s) && j-i < hi && s[j] >= '0' && s[j] <= '9' {
		n = n*10 + int(s[j]-'0')
		j++
	}
	return n, j, j-i >= lo
}

var daysIn = [13]int{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

func (d dateTime) validDate() bool {
	if d.year < 1900 || d.month < 1 || d.month > 12 || d.day < 1 {
		return false
	}
	last := daysIn[d.month]
	if d.month == 2 && d.year%4 == 0 && (d.year%100 != 0 || d.year%400 == 0) {
		last = 29
	}
	return d.day <= last
}

func (d dateTime) validTime() bool {
	return d.hour <= 23 && d.min <= 59 && d.sec <= 59
}

// romeDay is one calendar day in Europe/Rome.
type romeDay struct {
	year, month, day int
	midnight         time.Time
	regular          bool // 24 hours long, from an existing midnight: no clock change
}

// days remembers the days last converted, by day number modulo its size:
// an extract's appointments fall on few days, and a day without a clock
// change turns a wall clock into an instant by addition, where time.Date
// would cost more than the rest of the row.
var days [64]atomic.Pointer[romeDay]

// inRome gives the instant of d's wall clock in Europe/Rome. exists is false
// when clocks went forward over it; when they went back over it, it is the
// first of the two instants.
func (d dateTime) inRome() (t time.Time, exists bool) {
	slot := &days[(d.year*372+d.month*31+d.day)%len(days)]
	day := slot.Load()
	if day == nil || day.day != d.day || day.month != d.month || day.year != d.year {
		day = newRomeDay(d.year, d.month, d.day)
		slot.Store(day)
	}
	if day.regular {
		return day.midnight.Add(time.Duration(d.hour)*time.Hour + time.Duration(d.min)*time.Minute + time.Duration(d.sec)*time.Second), true
	}
	t = time.Date(d.year, time.Month(d.month), d.day, d.hour, d.min, d.sec, 0, Rome)
	if h, m, _ := t.Clock(); h != d.hour || m != d.min || t.Day() != d.day {
		return t, false
	}
	// time.Date may pick either instant of a repeated hour; an hour earlier
	// with the same wall clock is the first one.
	if e := t.Add(-time.Hour); e.Day() == d.day {
		if h, m, _ := e.Clock(); h == d.hour && m == d.min {
			return e, true
		}
	}
	return t, true
}

func newRomeDay(year, month, day int) *romeDay {
	midnight := time.Date(year, time.Month(month), day, 0, 0, 0, 0, Rome)
	next := time.Date(year, time.Month(month), day+1, 0, 0, 0, 0, Rome)
	h, m, sec := midnight.Clock()
	return &romeDay{
		year: year, month: month, day: day,
		midnight: midnight,
		regular:  h == 0 && m == 0 && sec == 0 && next.Sub(midnight) == 24*time.Hour,
	}
}

// rowNode is the node a row names, or the source's; a node cell holding a
// control character names none.
func rowNode(rec Record, defaultNode string) string {
	n := strings.TrimSpace(rec.Get(ColNode))
	if at, _ := controlChar(n, false); at >= 0 {
		return ""
	}
	if n == "" {
		return defaultNode
	}
	return n
}
