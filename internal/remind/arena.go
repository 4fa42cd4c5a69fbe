package remind

import (
	"encoding/binary"
	"strconv"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
)

// arena holds the bookings a run will remind, packed into large byte
// chunks: a million-row extract fits in a couple of hundred megabytes that
// the garbage collector never has to scan, instead of a million structs of
// strings.
type arena struct {
	chunks [][]byte
	// drop marks fields the template never shows, left out to save space
	// (in order: agenda, service, surname, name).
	drop [4]bool
}

const (
	chunkBits = 22 // 4 MiB chunks
	chunkSize = 1 << chunkBits
	noRecord  = ^uint32(0)
)

// add stores b (the fields a message needs) linked to next and returns its
// reference.
func (a *arena) add(b *cup.Booking, next uint32) uint32 {
	need := 4 + 8 + 8*binary.MaxVarintLen64 + len(b.Node) + len(b.Code) + len(b.Agenda) + len(b.Service) +
		len(b.Facility) + len(b.Address) + len(b.Surname) + len(b.Name)
	if need > chunkSize {
		need = chunkSize // fields are capped well below this by the reader
	}
	if len(a.chunks) == 0 || len(a.chunks[len(a.chunks)-1])+need > chunkSize {
		a.chunks = append(a.chunks, make([]byte, 0, chunkSize))
	}
	ci := len(a.chunks) - 1
	c := a.chunks[ci]
	ref := uint32(ci)<<chunkBits | uint32(len(c))
	c = binary.LittleEndian.AppendUint32(c, next)
	c = binary.LittleEndian.AppendUint64(c, uint64(b.At.UnixMilli()))
	fields := [...]string{b.Node, b.Code, b.Agenda, b.Service, b.Facility, b.Address, b.Surname, b.Name}
	for i, f := range [...]int{2, 3, 6, 7} {
		if a.drop[i] {
			fields[f] = ""
		}
	}
	for _, s := range fields {
		c = binary.AppendUvarint(c, uint64(len(s)))
		c = append(c, s...)
	}
	a.chunks[ci] = c
	return ref
}

// get decodes the booking at ref and returns the next reference.
func (a *arena) get(ref uint32, phone string) (cup.Booking, uint32) {
	c := a.chunks[ref>>chunkBits][ref&(chunkSize-1):]
	next := binary.LittleEndian.Uint32(c)
	at := int64(binary.LittleEndian.Uint64(c[4:]))
	c = c[12:]
	var f [8]string
	for i := range f {
		n, k := binary.Uvarint(c)
		c = c[k:]
		f[i] = string(c[:n])
		c = c[n:]
	}
	return cup.Booking{Phone: phone, At: time.UnixMilli(at).In(cup.Rome), Node: f[0], Code: f[1], Agenda: f[2],
		Service: f[3], Facility: f[4], Address: f[5], Surname: f[6], Name: f[7]}, next
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
