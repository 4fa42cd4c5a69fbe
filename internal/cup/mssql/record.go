package mssql

import (
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	mssqldrv "github.com/microsoft/go-mssqldb"

	"github.com/richiamo/richiamo/internal/cup"
)

// canonical lists the extract's columns; a column's index is its slot in
// a record.
var canonical = [...]string{
	cup.ColNode, cup.ColAgenda, cup.ColCode, cup.ColPhone, cup.ColAt, cup.ColServiceCode,
	cup.ColService, cup.ColServiceType, cup.ColFacility, cup.ColAddress, cup.ColPriority,
	cup.ColBookedOn, cup.ColSurname, cup.ColName,
}

var slotOf = func() map[string]int {
	m := make(map[string]int, len(canonical))
	for i, c := range canonical {
		m[c] = i
	}
	return m
}()

// required are the columns without which a result is not a booking list,
// as they are for an extract file.
var required = []string{cup.ColPhone, cup.ColCode, cup.ColAt}

// record is one result row as the extract's text, for cup.ValidateRecord.
type record struct {
	vals [len(canonical)]string
}

func (r *record) Get(col string) string {
	if i, ok := slotOf[col]; ok {
		return r.vals[i]
	}
	return ""
}

// render is how a column's SQL type becomes the extract's text.
type render int

const (
	renderValue    render = iota // by the Go value: text, numbers, bits
	renderDate                   // DATE: dd/mm/yyyy
	renderWall                   // DATETIME, DATETIME2, SMALLDATETIME: the wall clock as stored
	renderInstant                // DATETIMEOFFSET: the instant, in Europe/Rome
	renderTime                   // TIME: HH:MM
	renderGUID                   // UNIQUEIDENTIFIER
	renderDecimal                // DECIMAL, NUMERIC, MONEY: the driver's decimal text
	renderRejected               // a type no extract cell can come from
)

func renderOf(dbType string) render {
	switch strings.ToUpper(dbType) {
	case "DATE":
		return renderDate
	case "DATETIME", "DATETIME2", "SMALLDATETIME":
		return renderWall
	case "DATETIMEOFFSET":
		return renderInstant
	case "TIME":
		return renderTime
	case "UNIQUEIDENTIFIER":
		return renderGUID
	case "DECIMAL", "NUMERIC", "MONEY", "SMALLMONEY":
		return renderDecimal
	case "VARBINARY", "BINARY", "IMAGE", "XML", "SQL_VARIANT", "UDT", "GEOGRAPHY", "GEOMETRY", "HIERARCHYID":
		return renderRejected
	}
	return renderValue
}

// layout maps a result's columns to the extract's.
type layout struct {
	slot   []int // canonical slot of each result column, -1 to ignore it
	render []render
}

// newLayout matches result columns to canonical ones by lower-cased name;
// the first of two columns with one name wins, as in an extract's header.
// Unknown columns are ignored.
func newLayout(cols []*sql.ColumnType) (*layout, error) {
	l := &layout{slot: make([]int, len(cols)), render: make([]render, len(cols))}
	seen := make(map[int]bool)
	for i, c := range cols {
		l.slot[i] = -1
		s, ok := slotOf[strings.ToLower(strings.TrimSpace(c.Name()))]
		if !ok || seen[s] {
			continue
		}
		seen[s] = true
		l.slot[i] = s
		l.render[i] = renderOf(c.DatabaseTypeName())
		if l.render[i] == renderRejected {
			return nil, fmt.Errorf("column %s is %s, which no extract cell can come from", canonical[s], c.DatabaseTypeName())
		}
	}
	var missing []string
	for _, col := range required {
		if !seen[slotOf[col]] {
			missing = append(missing, strconv.Quote(col))
		}
	}
	switch len(missing) {
	case 0:
		return l, nil
	case 1:
		return nil, fmt.Errorf("the result has no column %s: the query must name its columns as the extract does", missing[0])
	}
	return nil, fmt.Errorf("the result has no columns %s: the query must name its columns as the extract does", strings.Join(missing, ", "))
}

// fill sets rec from one row's values.
func (l *layout) fill(rec *record, vals []any) error {
	for i := range rec.vals {
		rec.vals[i] = ""
	}
	for i, v := range vals {
		s := l.slot[i]
		if s < 0 {
			continue
		}
		text, err := cellText(v, l.render[i])
		if err != nil {
			return fmt.Errorf("column %s: %w", canonical[s], err)
		}
		rec.vals[s] = text
	}
	return nil
}

// Formats of the extract's date cells. Seconds are dropped, as an extract
// writes them, so that the same booking read from a file and from its node
// has the same time.
const (
	dateLayout     = "02/01/2006"
	dateTimeLayout = "02/01/2006 15:04"
)

// cellText writes a value as the extract's cell would hold it. DATETIME2,
// DATETIME and SMALLDATETIME have no time zone: their wall clock is taken to
// be Europe/Rome's, which is how the CUP stores appointments, and is
// written as is for ValidateRecord to place in Europe/Rome. The driver hands
// such a value over as that wall clock in UTC.
func cellText(v any, r render) (string, error) {
	switch v := v.(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	case float64:
		// A phone number kept in a FLOAT column would otherwise come
		// out as 3.331234567e+09.
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	case bool:
		if v {
			return "1", nil
		}
		return "0", nil
	case time.Time:
		switch r {
		case renderDate:
			return v.Format(dateLayout), nil
		case renderInstant:
			return v.In(cup.Rome).Format(dateTimeLayout), nil
		case renderTime:
			return v.Format("15:04"), nil
		}
		return v.Format(dateTimeLayout), nil
	case []byte:
		switch r {
		case renderDecimal:
			return string(v), nil
		case renderGUID:
			var g mssqldrv.UniqueIdentifier
			if err := g.Scan(v); err != nil {
				return "", fmt.Errorf("reading a uniqueidentifier: %w", err)
			}
			return g.String(), nil
		}
		return "", fmt.Errorf("binary value of %d bytes is not text", len(v))
	}
	return "", fmt.Errorf("value of type %T is not supported", v)
}
