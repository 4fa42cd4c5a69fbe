package tdstest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
	"unicode/utf16"

	"golang.org/x/text/encoding/charmap"
)

// Packet types of MS-TDS 2.2.3.1.1.
const (
	pktSQLBatch  = 0x01
	pktRPC       = 0x03
	pktReply     = 0x04
	pktAttention = 0x06
	pktLogin7    = 0x10
	pktPrelogin  = 0x12
)

const (
	headerLen = 8
	statusEOM = 0x01
	// defaultPacketSize is what a client uses until LOGIN7 says otherwise.
	defaultPacketSize = 4096
	maxPacketSize     = 32767
	// maxMessage bounds a request, so that a broken client cannot make the
	// server buffer without end.
	maxMessage = 8 << 20
)

// Token types of MS-TDS 2.2.7.
const (
	tokReturnStatus = 0x79
	tokColMetadata  = 0x81
	tokError        = 0xAA
	tokInfo         = 0xAB
	tokLoginAck     = 0xAD
	tokRow          = 0xD1
	tokNBCRow       = 0xD2
	tokEnvChange    = 0xE3
	tokDone         = 0xFD
	tokDoneProc     = 0xFE
	tokDoneInProc   = 0xFF
)

// DONE status bits.
const (
	doneFinal = 0x00
	doneMore  = 0x01
	doneError = 0x02
	doneCount = 0x10
	doneAttn  = 0x20
)

// cmdSelect is the CurCmd a DONE carries after a SELECT.
const cmdSelect = 0xC1

// Data type identifiers of MS-TDS 2.2.5.4.
const (
	typeNull           = 0x1F
	typeInt1           = 0x30
	typeBit            = 0x32
	typeInt2           = 0x34
	typeInt4           = 0x38
	typeDateTim4       = 0x3A
	typeFlt4           = 0x3B
	typeMoney          = 0x3C
	typeDateTime       = 0x3D
	typeFlt8           = 0x3E
	typeMoney4         = 0x7A
	typeInt8           = 0x7F
	typeGUID           = 0x24
	typeIntN           = 0x26
	typeDecimal        = 0x37
	typeNumeric        = 0x3F
	typeBitN           = 0x68
	typeDecimalN       = 0x6A
	typeNumericN       = 0x6C
	typeFltN           = 0x6D
	typeMoneyN         = 0x6E
	typeDateTimeN      = 0x6F
	typeDateN          = 0x28
	typeTimeN          = 0x29
	typeDateTime2N     = 0x2A
	typeDateTimeOffset = 0x2B
	typeBigVarBin      = 0xA5
	typeBigVarChar     = 0xA7
	typeBigBinary      = 0xAD
	typeBigChar        = 0xAF
	typeNVarChar       = 0xE7
	typeNChar          = 0xEF
)

// latin1 is the collation Latin1_General_CI_AS (LCID 0x0409, code page
// 1252), the default of an Italian SQL Server installation.
var latin1 = [5]byte{0x09, 0x04, 0xD0, 0x00, 0x00}

// ucs2 encodes s as UTF-16LE, the only string encoding of TDS outside VARCHAR.
func ucs2(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
	return b
}

func fromUCS2(b []byte) (string, error) {
	if len(b)%2 != 0 {
		return "", errors.New("odd length UTF-16 string")
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u)), nil
}

// cp1252 encodes s the way SQL Server stores it in a Latin1 VARCHAR column:
// a character the code page lacks becomes '?'.
func cp1252(s string) []byte {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if c, ok := charmap.Windows1252.EncodeRune(r); ok {
			b = append(b, c)
		} else {
			b = append(b, '?')
		}
	}
	return b
}

func fromCP1252(b []byte) string {
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = charmap.Windows1252.DecodeByte(c)
	}
	return string(r)
}

// buf builds a token stream or a packet payload.
type buf struct{ b []byte }

func (w *buf) u8(v byte)    { w.b = append(w.b, v) }
func (w *buf) u16(v uint16) { w.b = binary.LittleEndian.AppendUint16(w.b, v) }
func (w *buf) u32(v uint32) { w.b = binary.LittleEndian.AppendUint32(w.b, v) }
func (w *buf) u64(v uint64) { w.b = binary.LittleEndian.AppendUint64(w.b, v) }
func (w *buf) raw(p []byte) { w.b = append(w.b, p...) }

// bVarChar writes a string with a one-byte length in characters.
func (w *buf) bVarChar(s string) {
	u := ucs2(s)
	w.u8(byte(len(u) / 2))
	w.raw(u)
}

// usVarChar writes a string with a two-byte length in characters.
func (w *buf) usVarChar(s string) {
	u := ucs2(s)
	w.u16(uint16(len(u) / 2))
	w.raw(u)
}

// reader decodes a request payload; the first error sticks, so that a
// parser can read a whole structure and check once.
type reader struct {
	b   []byte
	off int
	err error
}

var errShort = errors.New("message ends in the middle of a field")

func (r *reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || r.off+n > len(r.b) {
		r.err = errShort
		return nil
	}
	p := r.b[r.off : r.off+n]
	r.off += n
	return p
}

func (r *reader) u8() byte {
	if p := r.take(1); p != nil {
		return p[0]
	}
	return 0
}

func (r *reader) u16() uint16 {
	if p := r.take(2); p != nil {
		return binary.LittleEndian.Uint16(p)
	}
	return 0
}

func (r *reader) u32() uint32 {
	if p := r.take(4); p != nil {
		return binary.LittleEndian.Uint32(p)
	}
	return 0
}

func (r *reader) u64() uint64 {
	if p := r.take(8); p != nil {
		return binary.LittleEndian.Uint64(p)
	}
	return 0
}

func (r *reader) bVarChar() string {
	n := int(r.u8())
	s, err := fromUCS2(r.take(2 * n))
	if err != nil && r.err == nil {
		r.err = err
	}
	return s
}

func (r *reader) done() bool { return r.err != nil || r.off >= len(r.b) }

// Dates on the wire count days from an epoch: 0001-01-01 for DATE and
// DATETIME2, 1900-01-01 for DATETIME and SMALLDATETIME.
var (
	epoch1    = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).Unix() / 86400
	epoch1900 = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC).Unix() / 86400
)

// wall is the wall clock of t as a UTC time, which is how the server holds
// a value of a type without a time zone.
func wall(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}

func dayNumber(t time.Time, epoch int64) int64 {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC).Unix()/86400 - epoch
}

func sinceMidnight(t time.Time) time.Duration {
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute +
		time.Duration(t.Second())*time.Second + time.Duration(t.Nanosecond())
}

func fromDayNumber(days, epoch int64) time.Time {
	return time.Unix((days+epoch)*86400, 0).UTC()
}

// putUint appends the n low bytes of v, little-endian.
func putUint(b []byte, v uint64, n int) []byte {
	for i := 0; i < n; i++ {
		b = append(b, byte(v>>(8*i)))
	}
	return b
}

func getUint(b []byte) uint64 {
	var v uint64
	for i := len(b) - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}

// timeBytes is the TIME part of DATETIME2 and DATETIMEOFFSET at scale 7:
// five bytes of 100 ns units since midnight.
func timeBytes(b []byte, t time.Time) []byte {
	return putUint(b, uint64(sinceMidnight(t)/100), 5)
}

// decodeTime reads a TIME part at the given scale.
func decodeTime(b []byte, scale byte) time.Duration {
	v := getUint(b)
	for i := scale; i < 7; i++ {
		v *= 10
	}
	return time.Duration(v) * 100
}

// timeLen is the size of a TIME part at a scale.
func timeLen(scale byte) (int, error) {
	switch {
	case scale <= 2:
		return 3, nil
	case scale <= 4:
		return 4, nil
	case scale <= 7:
		return 5, nil
	}
	return 0, fmt.Errorf("scale %d is over 7", scale)
}

// readFull is io.ReadFull with the error that names what was being read.
func readFull(r io.Reader, p []byte, what string) error {
	if _, err := io.ReadFull(r, p); err != nil {
		return fmt.Errorf("reading %s: %w", what, err)
	}
	return nil
}
