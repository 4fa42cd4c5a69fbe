package tdstest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// PRELOGIN option tokens (MS-TDS 2.2.6.5).
const (
	preVersion    = 0x00
	preEncryption = 0x01
	preInstOpt    = 0x02
	preThreadID   = 0x03
	preMARS       = 0x04
	preTerminator = 0xFF
)

// ENCRYPTION values of PRELOGIN.
const (
	encOff    = 0x00
	encOn     = 0x01
	encNotSup = 0x02
	encReq    = 0x03
	encStrict = 0x04
)

// parsePrelogin returns the options of a PRELOGIN payload by token.
func parsePrelogin(p []byte) (map[byte][]byte, error) {
	opts := make(map[byte][]byte)
	for i := 0; ; i += 5 {
		if i >= len(p) {
			return nil, errors.New("PRELOGIN has no terminator")
		}
		if p[i] == preTerminator {
			return opts, nil
		}
		if i+5 > len(p) {
			return nil, errors.New("PRELOGIN option header is cut short")
		}
		off := int(binary.BigEndian.Uint16(p[i+1:]))
		n := int(binary.BigEndian.Uint16(p[i+3:]))
		if off+n > len(p) {
			return nil, fmt.Errorf("PRELOGIN option %d points past the end", p[i])
		}
		opts[p[i]] = p[off : off+n]
	}
}

// preloginReply builds the server's PRELOGIN answer.
func preloginReply(encryption byte) []byte {
	type opt struct {
		token byte
		val   []byte
	}
	opts := []opt{
		{preVersion, []byte{16, 0, 0x10, 0x27, 0, 0}}, // 16.0.10000
		{preEncryption, []byte{encryption}},
		{preInstOpt, []byte{0}},
		{preThreadID, nil},
		{preMARS, []byte{0}},
	}
	off := 5*len(opts) + 1
	var head, data []byte
	for _, o := range opts {
		head = append(head, o.token)
		head = binary.BigEndian.AppendUint16(head, uint16(off+len(data)))
		head = binary.BigEndian.AppendUint16(head, uint16(len(o.val)))
		data = append(data, o.val...)
	}
	head = append(head, preTerminator)
	return append(head, data...)
}

// Login is what a client sent in LOGIN7.
type Login struct {
	User       string
	Database   string
	AppName    string
	ServerName string
	HostName   string
	// ReadOnlyIntent is ApplicationIntent=ReadOnly.
	ReadOnlyIntent bool
	TDSVersion     uint32
	PacketSize     int
	// Encrypted is true when the login travelled inside TLS.
	Encrypted bool
	// Accepted is false for a login the server refused.
	Accepted bool
	password string
}

// parseLogin7 decodes the fixed part of LOGIN7 and the strings it points
// to (MS-TDS 2.2.6.4).
func parseLogin7(p []byte) (Login, error) {
	var l Login
	if len(p) < 94 {
		return l, fmt.Errorf("LOGIN7 of %d bytes is shorter than its fixed part", len(p))
	}
	le := binary.LittleEndian
	l.TDSVersion = le.Uint32(p[4:])
	l.PacketSize = int(le.Uint32(p[8:]))
	l.ReadOnlyIntent = p[26]&0x20 != 0
	str := func(at int, mangled bool) (string, error) {
		off, n := int(le.Uint16(p[at:])), 2*int(le.Uint16(p[at+2:]))
		if off+n > len(p) {
			return "", fmt.Errorf("LOGIN7 field at %d points past the end", at)
		}
		b := p[off : off+n]
		if mangled {
			// A password travels with each byte's nibbles swapped and
			// XORed with 0xA5.
			b = append([]byte(nil), b...)
			for i, c := range b {
				c ^= 0xA5
				b[i] = c<<4 | c>>4
			}
		}
		return fromUCS2(b)
	}
	var err error
	fields := []struct {
		at      int
		dst     *string
		mangled bool
	}{
		{36, &l.HostName, false},
		{40, &l.User, false},
		{44, &l.password, true},
		{48, &l.AppName, false},
		{52, &l.ServerName, false},
		{68, &l.Database, false},
	}
	for _, f := range fields {
		if *f.dst, err = str(f.at, f.mangled); err != nil {
			return l, err
		}
	}
	return l, nil
}

// Param is one parameter of an RPC request.
type Param struct {
	// Type is the SQL type the client declared: "datetime2",
	// "datetimeoffset", "nvarchar", "int"…
	Type string
	// Value is nil for NULL; int64, bool, float64, string, []byte, or a
	// time.Time: a type without a time zone comes as its wall clock in UTC,
	// DATETIMEOFFSET with its offset.
	Value any
}

// Query is one request the server answered.
type Query struct {
	// Text is the SQL text: the batch, or sp_executesql's statement.
	Text string
	// RPC is true for a remote procedure call, false for a SQL batch.
	RPC bool
	// Params are an RPC's named parameters by lower-case name without @.
	Params map[string]Param
}

// skipHeaders skips ALL_HEADERS (MS-TDS 2.2.5.3), which SQL batches and
// RPCs start with.
func skipHeaders(r *reader) {
	n := int(r.u32())
	if n < 4 {
		r.err = errors.New("ALL_HEADERS is shorter than its length field")
		return
	}
	r.take(n - 4)
}

func parseBatch(p []byte) (Query, error) {
	r := &reader{b: p}
	skipHeaders(r)
	if r.err != nil {
		return Query{}, r.err
	}
	text, err := fromUCS2(p[r.off:])
	return Query{Text: text}, err
}

// procExecuteSQL is sp_executesql's well-known ProcID.
const procExecuteSQL = 10

// parseRPC decodes an RPC request. proc is the procedure's name.
func parseRPC(p []byte) (proc string, q Query, err error) {
	r := &reader{b: p}
	skipHeaders(r)
	n := r.u16()
	if n == 0xFFFF {
		id := r.u16()
		proc = fmt.Sprintf("proc id %d", id)
		if id == procExecuteSQL {
			proc = "sp_executesql"
		}
	} else {
		proc, err = fromUCS2(r.take(2 * int(n)))
		if err != nil {
			return "", q, err
		}
	}
	r.u16() // OptionFlags
	q = Query{RPC: true, Params: make(map[string]Param)}
	for i := 0; !r.done(); i++ {
		name := r.bVarChar()
		r.u8() // StatusFlags
		prm, err := readParam(r)
		if err != nil {
			return proc, q, fmt.Errorf("parameter %d: %w", i+1, err)
		}
		// sp_executesql takes the statement, then the declarations, then
		// the statement's own parameters.
		switch {
		case i == 0 && strings.EqualFold(proc, "sp_executesql"):
			q.Text, _ = prm.Value.(string)
		case i == 1 && strings.EqualFold(proc, "sp_executesql"):
		default:
			q.Params[strings.ToLower(strings.TrimPrefix(name, "@"))] = prm
		}
	}
	return proc, q, r.err
}

// readParam reads TYPE_INFO and the value of one RPC parameter.
func readParam(r *reader) (Param, error) {
	id := r.u8()
	var prm Param
	var fixed int
	switch id {
	case typeNull:
		return Param{Type: "null"}, r.err
	case typeInt1, typeBit:
		fixed = 1
	case typeInt2:
		fixed = 2
	case typeInt4, typeDateTim4, typeFlt4, typeMoney4:
		fixed = 4
	case typeInt8, typeDateTime, typeFlt8, typeMoney:
		fixed = 8
	}
	if fixed > 0 {
		prm.Type, prm.Value = decodeFixed(id, r.take(fixed))
		return prm, r.err
	}
	switch id {
	case typeIntN, typeBitN, typeFltN, typeDateTimeN, typeMoneyN, typeGUID:
		r.u8() // maximum length
		b := r.take(int(r.u8()))
		prm.Type = byteLenName(id, len(b))
		if len(b) > 0 && r.err == nil {
			prm.Type, prm.Value = decodeFixed(fixedOf(id, len(b)), b)
		}
	case typeDecimalN, typeNumericN, typeDecimal, typeNumeric:
		r.take(3) // maximum length, precision, scale
		prm.Type = "decimal"
		if b := r.take(int(r.u8())); len(b) > 0 {
			prm.Value = append([]byte(nil), b...)
		}
	case typeDateN:
		prm.Type = "date"
		if b := r.take(int(r.u8())); len(b) == 3 {
			prm.Value = fromDayNumber(int64(getUint(b)), epoch1)
		}
	case typeTimeN, typeDateTime2N, typeDateTimeOffset:
		scale := r.u8()
		b := r.take(int(r.u8()))
		var err error
		prm.Type, prm.Value, err = decodeScaled(id, scale, b)
		if err != nil {
			return prm, err
		}
	case typeNVarChar, typeNChar, typeBigVarChar, typeBigChar, typeBigVarBin, typeBigBinary:
		maxLen := r.u16()
		if id != typeBigVarBin && id != typeBigBinary {
			r.take(5) // collation
		}
		var b []byte
		null := false
		if maxLen == 0xFFFF {
			b, null = readPLP(r)
		} else if n := r.u16(); n == 0xFFFF {
			null = true
		} else {
			b = r.take(int(n))
		}
		switch id {
		case typeNVarChar, typeNChar:
			prm.Type = "nvarchar"
			if !null {
				s, err := fromUCS2(b)
				if err != nil {
					return prm, err
				}
				prm.Value = s
			}
		case typeBigVarChar, typeBigChar:
			prm.Type = "varchar"
			if !null {
				prm.Value = fromCP1252(b)
			}
		default:
			prm.Type = "varbinary"
			if !null {
				prm.Value = append([]byte(nil), b...)
			}
		}
	default:
		return prm, fmt.Errorf("type 0x%02X is not supported", id)
	}
	return prm, r.err
}

// readPLP reads a partially length-prefixed value: a total length, then
// chunks up to an empty one.
func readPLP(r *reader) (b []byte, null bool) {
	if r.u64() == math.MaxUint64 {
		return nil, true
	}
	for r.err == nil {
		n := int(r.u32())
		if n == 0 {
			break
		}
		b = append(b, r.take(n)...)
	}
	return b, false
}

// fixedOf is the fixed-length type a nullable type with n bytes carries.
func fixedOf(id byte, n int) byte {
	switch id {
	case typeIntN:
		switch n {
		case 1:
			return typeInt1
		case 2:
			return typeInt2
		case 4:
			return typeInt4
		}
		return typeInt8
	case typeBitN:
		return typeBit
	case typeFltN:
		if n == 4 {
			return typeFlt4
		}
		return typeFlt8
	case typeDateTimeN:
		if n == 4 {
			return typeDateTim4
		}
		return typeDateTime
	case typeMoneyN:
		if n == 4 {
			return typeMoney4
		}
		return typeMoney
	}
	return typeGUID
}

func byteLenName(id byte, n int) string {
	switch id {
	case typeIntN:
		return "int"
	case typeBitN:
		return "bit"
	case typeFltN:
		return "float"
	case typeDateTimeN:
		return "datetime"
	case typeMoneyN:
		return "money"
	}
	return "uniqueidentifier"
}

func decodeFixed(id byte, b []byte) (string, any) {
	le := binary.LittleEndian
	if b == nil {
		return "", nil
	}
	switch id {
	case typeInt1:
		return "tinyint", int64(b[0])
	case typeBit:
		return "bit", b[0] != 0
	case typeInt2:
		return "smallint", int64(int16(le.Uint16(b)))
	case typeInt4:
		return "int", int64(int32(le.Uint32(b)))
	case typeInt8:
		return "bigint", int64(le.Uint64(b))
	case typeFlt4:
		return "real", float64(math.Float32frombits(le.Uint32(b)))
	case typeFlt8:
		return "float", math.Float64frombits(le.Uint64(b))
	case typeDateTim4:
		d := fromDayNumber(int64(le.Uint16(b)), epoch1900)
		return "smalldatetime", d.Add(time.Duration(le.Uint16(b[2:])) * time.Minute)
	case typeDateTime:
		d := fromDayNumber(int64(int32(le.Uint32(b))), epoch1900)
		ticks := int64(le.Uint32(b[4:]))
		return "datetime", d.Add(time.Duration(ticks) * time.Second / 300)
	case typeMoney4, typeMoney:
		return "money", append([]byte(nil), b...)
	}
	return "uniqueidentifier", append([]byte(nil), b...)
}

func decodeScaled(id, scale byte, b []byte) (string, any, error) {
	names := map[byte]string{typeTimeN: "time", typeDateTime2N: "datetime2", typeDateTimeOffset: "datetimeoffset"}
	name := names[id]
	if len(b) == 0 {
		return name, nil, nil
	}
	tl, err := timeLen(scale)
	if err != nil {
		return name, nil, err
	}
	want := map[byte]int{typeTimeN: tl, typeDateTime2N: tl + 3, typeDateTimeOffset: tl + 5}[id]
	if len(b) != want {
		return name, nil, fmt.Errorf("%s value of %d bytes, want %d", name, len(b), want)
	}
	since := decodeTime(b[:tl], scale)
	switch id {
	case typeTimeN:
		return name, time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).Add(since), nil
	case typeDateTime2N:
		return name, fromDayNumber(int64(getUint(b[tl:tl+3])), epoch1).Add(since), nil
	}
	utc := fromDayNumber(int64(getUint(b[tl:tl+3])), epoch1).Add(since)
	offset := int(int16(binary.LittleEndian.Uint16(b[tl+3:])))
	return name, utc.In(time.FixedZone("", offset*60)), nil
}
