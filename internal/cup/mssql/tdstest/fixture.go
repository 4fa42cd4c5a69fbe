package tdstest

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf16"
)

// Type is the SQL Server type of a fixture column.
type Type int

// The types a fixture column can have: those a CUP booking view is made of.
const (
	Int            Type = iota + 1 // INT; values int, int32 or int64
	BigInt                         // BIGINT; values int, int32 or int64
	Bit                            // BIT; values bool
	NVarChar                       // NVARCHAR(Size); values string
	VarChar                        // VARCHAR(Size), Latin1_General_CI_AS; values string
	Date                           // DATE; values time.Time
	DateTime                       // DATETIME; values time.Time
	SmallDateTime                  // SMALLDATETIME; values time.Time
	DateTime2                      // DATETIME2(7); values time.Time
	DateTimeOffset                 // DATETIMEOFFSET(7); values time.Time
)

func (t Type) String() string {
	switch t {
	case Int:
		return "int"
	case BigInt:
		return "bigint"
	case Bit:
		return "bit"
	case NVarChar:
		return "nvarchar"
	case VarChar:
		return "varchar"
	case Date:
		return "date"
	case DateTime:
		return "datetime"
	case SmallDateTime:
		return "smalldatetime"
	case DateTime2:
		return "datetime2"
	case DateTimeOffset:
		return "datetimeoffset"
	}
	return fmt.Sprintf("Type(%d)", int(t))
}

func (t Type) isTime() bool {
	switch t {
	case Date, DateTime, SmallDateTime, DateTime2, DateTimeOffset:
		return true
	}
	return false
}

// Column is one column of a fixture's result set.
type Column struct {
	Name string
	Type Type
	// Size is the length in characters of an NVARCHAR or VARCHAR column;
	// 0 is 255.
	Size int
}

func (c Column) size() int {
	if c.Size <= 0 {
		return 255
	}
	return c.Size
}

// A time value is sent as its wall clock, whatever its location, because
// DATE, DATETIME and DATETIME2 have no time zone: time.Date(2026, 3, 10, 8,
// 30, 0, 0, time.UTC) is the SQL value 2026-03-10 08:30. A DATETIMEOFFSET
// value keeps its instant and its offset.

// checkValue says why v cannot be a value of column c.
func checkValue(c Column, v any) error {
	if v == nil {
		return nil
	}
	switch c.Type {
	case Int, BigInt:
		var n int64
		switch v := v.(type) {
		case int:
			n = int64(v)
		case int32:
			n = int64(v)
		case int64:
			n = v
		default:
			return fmt.Errorf("%T is not an integer", v)
		}
		if c.Type == Int && (n < math.MinInt32 || n > math.MaxInt32) {
			return fmt.Errorf("%d does not fit an int", n)
		}
	case Bit:
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("%T is not a bool", v)
		}
	case NVarChar, VarChar:
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("%T is not a string", v)
		}
		n := len([]rune(s))
		if c.Type == NVarChar {
			n = len(utf16.Encode([]rune(s)))
		}
		if n > c.size() {
			return fmt.Errorf("%d characters do not fit %s(%d)", n, c.Type, c.size())
		}
	case Date, DateTime, SmallDateTime, DateTime2, DateTimeOffset:
		t, ok := v.(time.Time)
		if !ok {
			return fmt.Errorf("%T is not a time.Time", v)
		}
		lo, hi := 1, 9999
		if c.Type == DateTime {
			lo = 1753
		}
		if y := t.Year(); y < lo || y > hi {
			return fmt.Errorf("year %d is outside %s", y, c.Type)
		}
		// SMALLDATETIME counts days since 1900 in two bytes: it ends on
		// 6 June 2079.
		if d := dayNumber(t, epoch1900); c.Type == SmallDateTime && (d < 0 || d > math.MaxUint16) {
			return fmt.Errorf("%s is outside smalldatetime", t.Format(time.DateOnly))
		}
	default:
		return fmt.Errorf("unknown column type %v", c.Type)
	}
	return nil
}

// colMetadata appends the COLMETADATA token of cols.
func (w *buf) colMetadata(cols []Column) {
	w.u8(tokColMetadata)
	w.u16(uint16(len(cols)))
	for _, c := range cols {
		w.u32(0)      // UserType
		w.u16(0x0001) // Flags: nullable
		switch c.Type {
		case Int:
			w.u8(typeIntN)
			w.u8(4)
		case BigInt:
			w.u8(typeIntN)
			w.u8(8)
		case Bit:
			w.u8(typeBitN)
			w.u8(1)
		case NVarChar:
			w.u8(typeNVarChar)
			w.u16(uint16(2 * c.size()))
			w.raw(latin1[:])
		case VarChar:
			w.u8(typeBigVarChar)
			w.u16(uint16(c.size()))
			w.raw(latin1[:])
		case Date:
			w.u8(typeDateN)
		case DateTime:
			w.u8(typeDateTimeN)
			w.u8(8)
		case SmallDateTime:
			w.u8(typeDateTimeN)
			w.u8(4)
		case DateTime2:
			w.u8(typeDateTime2N)
			w.u8(7)
		case DateTimeOffset:
			w.u8(typeDateTimeOffset)
			w.u8(7)
		}
		w.bVarChar(c.Name)
	}
}

// row appends one row: NBCROW when a value is NULL, as SQL Server does
// when that saves space, ROW otherwise.
func (w *buf) row(cols []Column, vals []any) {
	nulls := false
	for _, v := range vals {
		if v == nil {
			nulls = true
		}
	}
	if !nulls {
		w.u8(tokRow)
		for i, c := range cols {
			w.value(c, vals[i])
		}
		return
	}
	w.u8(tokNBCRow)
	bitmap := make([]byte, (len(cols)+7)/8)
	for i, v := range vals {
		if v == nil {
			bitmap[i/8] |= 1 << (i % 8)
		}
	}
	w.raw(bitmap)
	for i, c := range cols {
		if vals[i] != nil {
			w.value(c, vals[i])
		}
	}
}

// value appends one value of column c in a ROW, NULL included.
func (w *buf) value(c Column, v any) {
	if v == nil {
		switch c.Type {
		case NVarChar, VarChar:
			w.u16(0xFFFF)
		default:
			w.u8(0)
		}
		return
	}
	switch c.Type {
	case Int:
		w.u8(4)
		w.u32(uint32(int32(asInt(v))))
	case BigInt:
		w.u8(8)
		w.u64(uint64(asInt(v)))
	case Bit:
		w.u8(1)
		if v.(bool) {
			w.u8(1)
		} else {
			w.u8(0)
		}
	case NVarChar:
		b := ucs2(v.(string))
		w.u16(uint16(len(b)))
		w.raw(b)
	case VarChar:
		b := cp1252(v.(string))
		w.u16(uint16(len(b)))
		w.raw(b)
	case Date:
		t := v.(time.Time)
		w.u8(3)
		w.b = putUint(w.b, uint64(dayNumber(t, epoch1)), 3)
	case DateTime:
		t := v.(time.Time)
		w.u8(8)
		days := dayNumber(t, epoch1900)
		// DATETIME counts 1/300 s; rounding may carry into the next day.
		ticks := int64(math.Round(float64(sinceMidnight(t)) * 300 / float64(time.Second)))
		if ticks >= 300*86400 {
			days++
			ticks -= 300 * 86400
		}
		w.u32(uint32(int32(days)))
		w.u32(uint32(ticks))
	case SmallDateTime:
		t := v.(time.Time)
		w.u8(4)
		w.u16(uint16(dayNumber(t, epoch1900)))
		w.u16(uint16(t.Hour()*60 + t.Minute()))
	case DateTime2:
		t := v.(time.Time)
		w.u8(8)
		w.b = timeBytes(w.b, t)
		w.b = putUint(w.b, uint64(dayNumber(t, epoch1)), 3)
	case DateTimeOffset:
		t := v.(time.Time)
		_, offset := t.Zone()
		u := t.UTC()
		w.u8(10)
		w.b = timeBytes(w.b, u)
		w.b = putUint(w.b, uint64(dayNumber(u, epoch1)), 3)
		w.b = binary.LittleEndian.AppendUint16(w.b, uint16(int16(offset/60)))
	}
}

func asInt(v any) int64 {
	switch v := v.(type) {
	case int:
		return int64(v)
	case int32:
		return int64(v)
	case int64:
		return v
	}
	return 0
}

// columnIndex finds a column by name, as SQL Server does with a case
// insensitive collation.
func columnIndex(cols []Column, name string) int {
	for i, c := range cols {
		if strings.EqualFold(c.Name, name) {
			return i
		}
	}
	return -1
}
