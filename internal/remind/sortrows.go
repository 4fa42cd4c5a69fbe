package remind

import (
	"bytes"
	"cmp"
	"encoding/binary"

	"github.com/richiamo/richiamo/internal/extsort"
)

// A run keeps what it reads in sorters, which write to a file what does
// not fit in their memory: its memory does not grow with the extract.
// Each kind of row is packed into fixed bytes for the file.

// readRow is what a run keeps of a valid row until the rows have all been
// read: then, sorted by booking and order read, the first row of each
// booking is kept and the others counted as duplicates.
type readRow struct {
	key    digest
	at     int64 // ms
	phone  uint64
	seq    uint32 // order read
	line   uint32
	ref    uint32 // in the arena, when due; noRecord when not
	src    uint16 // index in the sources
	node   uint16 // index in run.nodes
	day    uint16 // index in run.days
	target int16  // index in run.targets; -1 when not due
	late   bool   // due, but within min_notice
}

const readRowSize = 16 + 8 + 8 + 4 + 4 + 4 + 2 + 2 + 2 + 2 + 1

var readRowCodec = extsort.Codec[readRow]{Size: readRowSize,
	Encode: func(d []byte, r readRow) {
		copy(d, r.key[:])
		le := binary.LittleEndian
		le.PutUint64(d[16:], uint64(r.at))
		le.PutUint64(d[24:], r.phone)
		le.PutUint32(d[32:], r.seq)
		le.PutUint32(d[36:], r.line)
		le.PutUint32(d[40:], r.ref)
		le.PutUint16(d[44:], r.src)
		le.PutUint16(d[46:], r.node)
		le.PutUint16(d[48:], r.day)
		le.PutUint16(d[50:], uint16(r.target))
		if r.late {
			d[52] = 1
		}
	},
	Decode: func(d []byte) readRow {
		le := binary.LittleEndian
		r := readRow{at: int64(le.Uint64(d[16:])), phone: le.Uint64(d[24:]), seq: le.Uint32(d[32:]), line: le.Uint32(d[36:]),
			ref: le.Uint32(d[40:]), src: le.Uint16(d[44:]), node: le.Uint16(d[46:]), day: le.Uint16(d[48:]),
			target: int16(le.Uint16(d[50:])), late: d[52] == 1}
		copy(r.key[:], d)
		return r
	},
}

func byBookingThenOrder(a, b readRow) int {
	if c := bytes.Compare(a.key[:], b.key[:]); c != 0 {
		return c
	}
	return cmp.Compare(a.seq, b.seq)
}

// dueRow is a booking to remind, sorted by target and patient for the
// plan, in the order read within a patient's.
type dueRow struct {
	phone  uint64
	seq    uint32
	ref    uint32
	target int16
}

var dueRowCodec = extsort.Codec[dueRow]{Size: 8 + 4 + 4 + 2,
	Encode: func(d []byte, r dueRow) {
		le := binary.LittleEndian
		le.PutUint64(d, r.phone)
		le.PutUint32(d[8:], r.seq)
		le.PutUint32(d[12:], r.ref)
		le.PutUint16(d[16:], uint16(r.target))
	},
	Decode: func(d []byte) dueRow {
		le := binary.LittleEndian
		return dueRow{phone: le.Uint64(d), seq: le.Uint32(d[8:]), ref: le.Uint32(d[12:]), target: int16(le.Uint16(d[16:]))}
	},
}

func byTargetPatientOrder(a, b dueRow) int {
	if c := cmp.Compare(a.target, b.target); c != 0 {
		return c
	}
	if c := cmp.Compare(a.phone, b.phone); c != 0 {
		return c
	}
	return cmp.Compare(a.seq, b.seq)
}

// seenRow is a booking of the extract (its first row), for withdrawal.
type seenRow struct {
	key digest
	at  int64
}

var seenRowCodec = extsort.Codec[seenRow]{Size: 16 + 8,
	Encode: func(d []byte, r seenRow) {
		copy(d, r.key[:])
		binary.LittleEndian.PutUint64(d[16:], uint64(r.at))
	},
	Decode: func(d []byte) seenRow {
		r := seenRow{at: int64(binary.LittleEndian.Uint64(d[16:]))}
		copy(r.key[:], d)
		return r
	},
}

func byKey(a, b seenRow) int { return bytes.Compare(a.key[:], b.key[:]) }

// plannedRow is a reminder the store has planned and not sent, for
// withdrawal: its booking, time and message, and whether the extract
// covers its node and day.
type plannedRow struct {
	key     digest
	at      int64
	msg     int64
	covered bool
}

var plannedRowCodec = extsort.Codec[plannedRow]{Size: 16 + 8 + 8 + 1,
	Encode: func(d []byte, r plannedRow) {
		copy(d, r.key[:])
		binary.LittleEndian.PutUint64(d[16:], uint64(r.at))
		binary.LittleEndian.PutUint64(d[24:], uint64(r.msg))
		if r.covered {
			d[32] = 1
		}
	},
	Decode: func(d []byte) plannedRow {
		r := plannedRow{at: int64(binary.LittleEndian.Uint64(d[16:])), msg: int64(binary.LittleEndian.Uint64(d[24:])), covered: d[32] == 1}
		copy(r.key[:], d)
		return r
	},
}

func byPlannedKey(a, b plannedRow) int {
	if c := bytes.Compare(a.key[:], b.key[:]); c != 0 {
		return c
	}
	return cmp.Compare(a.msg, b.msg)
}

// storedRow is a valid row's booking in the run's spool, to be recorded
// in the order of the store's key (node, code): each transaction then
// writes a narrow range of the bookings table rather than pages all over
// it. The order is by the key's first storeKeyLen bytes, exact for the
// usual codes, and by order read within the same bytes, so that a
// booking's first row is recorded first.
type storedRow struct {
	key [storeKeyLen]byte // node, NUL, code; cut or padded with NULs
	seq uint32
	ref uint32 // in the spool
}

const storeKeyLen = 28

func storeKey(node, code string) (k [storeKeyLen]byte) {
	n := copy(k[:], node)
	if n < storeKeyLen {
		copy(k[n+1:], code)
	}
	return k
}

var storedRowCodec = extsort.Codec[storedRow]{Size: storeKeyLen + 4 + 4,
	Encode: func(d []byte, r storedRow) {
		copy(d, r.key[:])
		binary.LittleEndian.PutUint32(d[storeKeyLen:], r.seq)
		binary.LittleEndian.PutUint32(d[storeKeyLen+4:], r.ref)
	},
	Decode: func(d []byte) storedRow {
		r := storedRow{seq: binary.LittleEndian.Uint32(d[storeKeyLen:]), ref: binary.LittleEndian.Uint32(d[storeKeyLen+4:])}
		copy(r.key[:], d)
		return r
	},
}

func byStoreKeyThenOrder(a, b storedRow) int {
	if c := bytes.Compare(a.key[:], b.key[:]); c != 0 {
		return c
	}
	return cmp.Compare(a.seq, b.seq)
}

// The memory each sorter of a run holds before it writes to a file.
const (
	readMem    = 32 << 20
	dueMem     = 16 << 20
	seenMem    = 16 << 20
	plannedMem = 16 << 20
	storedMem  = 16 << 20
)
