package remind

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/extsort"
)

// arena holds a run's bookings (those it records, and those it reminds),
// packed into byte chunks of 4 MiB that the garbage collector never has to
// scan. Only the chunk being filled stays in memory: a full one goes to a
// temporary file, deleted as soon as it is created, and its bookings are
// read back from there, so that the run's memory does not grow with the
// extract.
type arena struct {
	chunks [][]byte // in memory; nil once written to the file
	lens   []int    // each chunk's length
	spare  []byte   // a written chunk's memory, for the next one
	file   *os.File
	buf    []byte
	// err is the first error writing the file; put has nowhere to return
	// it, so the reading checks it when done.
	err error
}

const (
	chunkBits = 22 // 4 MiB chunks
	chunkSize = 1 << chunkBits
	noRecord  = ^uint32(0)
	// maxChunks is what a reference can address: 4 GiB of bookings.
	maxChunks = 1 << (32 - chunkBits)
)

var errArenaFull = errors.New("remind: more bookings than one run can hold (4 GiB)")

// noTime stands for a zero time.Time in a record.
const noTime = math.MinInt64

func msOrNone(t time.Time) int64 {
	if t.IsZero() {
		return noTime
	}
	return t.UnixMilli()
}

func timeOrNone(ms int64) time.Time {
	if ms == noTime {
		return time.Time{}
	}
	return time.UnixMilli(ms).In(cup.Rome)
}

// addFull stores every field of b the store records, for getFull.
func (a *arena) addFull(b *cup.Booking) uint32 {
	return a.put([]int64{b.At.UnixMilli(), msOrNone(b.BookedOn), msOrNone(b.BirthDate)},
		[]string{b.Node, b.Code, b.Phone, b.Agenda, b.ServiceCode, b.Service, string(b.ServiceType),
			b.Facility, b.Address, b.Priority, b.Surname, b.Name, b.FiscalCode})
}

// put stores a record of times and fields and returns its reference
// (noRecord, with a.err set, when it cannot).
func (a *arena) put(times []int64, fields []string) uint32 {
	need := 4 + 8*len(times)
	for _, s := range fields {
		need += binary.MaxVarintLen64 + len(s)
	}
	if need > chunkSize {
		need = chunkSize // fields are capped well below this by the reader
	}
	if len(a.chunks) == 0 || len(a.chunks[len(a.chunks)-1])+need > chunkSize {
		if !a.grow() {
			return noRecord
		}
	}
	ci := len(a.chunks) - 1
	c := a.chunks[ci]
	start := len(c)
	ref := uint32(ci)<<chunkBits | uint32(start)
	c = binary.LittleEndian.AppendUint32(c, 0) // the record's length, below
	for _, t := range times {
		c = binary.LittleEndian.AppendUint64(c, uint64(t))
	}
	for _, s := range fields {
		c = binary.AppendUvarint(c, uint64(len(s)))
		c = append(c, s...)
	}
	binary.LittleEndian.PutUint32(c[start:], uint32(len(c)-start))
	a.chunks[ci] = c
	a.lens[ci] = len(c)
	return ref
}

// grow starts a new chunk, writing the full one to the file.
func (a *arena) grow() bool {
	if a.err != nil {
		return false
	}
	if len(a.chunks) == maxChunks {
		a.err = errArenaFull
		return false
	}
	if n := len(a.chunks); n > 0 {
		if err := a.spill(n - 1); err != nil {
			a.err = err
			return false
		}
	}
	c := a.spare
	a.spare = nil
	if c == nil {
		c = make([]byte, 0, chunkSize)
	}
	a.chunks = append(a.chunks, c[:0])
	a.lens = append(a.lens, 0)
	return true
}

func (a *arena) spill(ci int) error {
	if a.file == nil {
		f, err := extsort.TempFile("richiamo-plan-*")
		if err != nil {
			return fmt.Errorf("remind: a file for the bookings being planned: %w", err)
		}
		a.file = f
	}
	if _, err := a.file.WriteAt(a.chunks[ci], int64(ci)*chunkSize); err != nil {
		return fmt.Errorf("remind: writing the bookings being planned: %w", err)
	}
	a.spare, a.chunks[ci] = a.chunks[ci], nil
	return nil
}

// record returns the bytes of the record at ref, from memory or the file.
func (a *arena) record(ref uint32) ([]byte, error) {
	ci, off := int(ref>>chunkBits), int(ref&(chunkSize-1))
	if c := a.chunks[ci]; c != nil {
		n := int(binary.LittleEndian.Uint32(c[off:]))
		return c[off : off+n], nil
	}
	at := int64(ci)*chunkSize + int64(off)
	window := min(512, a.lens[ci]-off)
	if cap(a.buf) < window {
		a.buf = make([]byte, 0, 4096)
	}
	b := a.buf[:window]
	if _, err := a.file.ReadAt(b, at); err != nil {
		return nil, fmt.Errorf("remind: reading back the bookings being planned: %w", err)
	}
	n := int(binary.LittleEndian.Uint32(b))
	if n > len(b) {
		if cap(a.buf) < n {
			a.buf = make([]byte, 0, n)
		}
		b = a.buf[:n]
		if _, err := a.file.ReadAt(b, at); err != nil {
			return nil, fmt.Errorf("remind: reading back the bookings being planned: %w", err)
		}
	}
	return b[:n], nil
}

// getFull decodes the booking at ref, stored by addFull.
func (a *arena) getFull(ref uint32) (cup.Booking, error) {
	var t [3]int64
	var f [13]string
	if err := a.fetch(ref, t[:], f[:]); err != nil {
		return cup.Booking{}, err
	}
	return cup.Booking{At: time.UnixMilli(t[0]).In(cup.Rome), BookedOn: timeOrNone(t[1]), BirthDate: timeOrNone(t[2]),
		Node: f[0], Code: f[1], Phone: f[2], Agenda: f[3], ServiceCode: f[4], Service: f[5], ServiceType: cup.ServiceType(f[6]),
		Facility: f[7], Address: f[8], Priority: f[9], Surname: f[10], Name: f[11], FiscalCode: f[12]}, nil
}

// fetch reads the record at ref into times and fields, as put wrote them.
func (a *arena) fetch(ref uint32, times []int64, fields []string) error {
	if ref == noRecord {
		return errors.New("remind: a booking that was never stored")
	}
	c, err := a.record(ref)
	if err != nil {
		return err
	}
	c = c[4:]
	for i := range times {
		times[i] = int64(binary.LittleEndian.Uint64(c))
		c = c[8:]
	}
	for i := range fields {
		n, k := binary.Uvarint(c)
		c = c[k:]
		fields[i] = string(c[:n])
		c = c[n:]
	}
	return nil
}

// close releases the file.
func (a *arena) close() {
	if a.file != nil {
		a.file.Close()
		a.file = nil
	}
}

// phoneKey packs an E.164 number (at most 15 digits) into an integer.
func phoneKey(e164 string) (uint64, bool) {
	if len(e164) < 2 || e164[0] != '+' {
		return 0, false
	}
	v, err := strconv.ParseUint(e164[1:], 10, 64)
	return v, err == nil
}

func phoneString(k uint64) string { return "+" + strconv.FormatUint(k, 10) }
