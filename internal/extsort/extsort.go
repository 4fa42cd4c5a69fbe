// Package extsort sorts more fixed-size records than a run should hold in
// memory: they are sorted a buffer at a time, each full buffer written as a
// sorted run to a temporary file, and the runs merged as they are read
// back. Memory is the buffer and a read window per run, whatever the
// number of records.
package extsort

import (
	"bufio"
	"container/heap"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"unsafe"
)

// Codec writes a record into exactly Size bytes and reads it back.
type Codec[T any] struct {
	Size   int
	Encode func(dst []byte, v T)
	Decode func(src []byte) T
}

// Sorter collects records and gives them back in the order of cmp, which
// must be a total order (ties are given back in no particular order).
type Sorter[T any] struct {
	cmp    func(a, b T) int
	codec  Codec[T]
	max    int // records held before a run is written
	buf    []T
	enc    []byte
	file   *os.File
	runs   []span // in the file
	n      int
	sorted bool
}

type span struct{ off, n int64 }

// readWindow is each run's read buffer while merging.
const readWindow = 64 << 10

// New returns a sorter holding at most memBytes of records in memory
// (at least 1,024 records).
func New[T any](cmp func(a, b T) int, c Codec[T], memBytes int) *Sorter[T] {
	var zero T
	per := max(c.Size, int(unsafe.Sizeof(zero)))
	return &Sorter[T]{cmp: cmp, codec: c, max: max(memBytes/per, 1024)}
}

// Add adds a record; it may write a run.
func (s *Sorter[T]) Add(v T) error {
	if s.sorted {
		return errors.New("extsort: add after sort")
	}
	if len(s.buf) == s.max {
		if err := s.spill(); err != nil {
			return err
		}
	}
	if s.buf == nil {
		s.buf = make([]T, 0, min(s.max, 4096))
	}
	s.buf = append(s.buf, v)
	s.n++
	return nil
}

// Len is the number of records added.
func (s *Sorter[T]) Len() int { return s.n }

func (s *Sorter[T]) spill() error {
	slices.SortFunc(s.buf, s.cmp)
	if s.file == nil {
		f, err := TempFile("richiamo-sort-*")
		if err != nil {
			return fmt.Errorf("extsort: a file for the records being sorted: %w", err)
		}
		s.file = f
	}
	var off int64
	if len(s.runs) > 0 {
		last := s.runs[len(s.runs)-1]
		off = last.off + last.n*int64(s.codec.Size)
	}
	w := bufio.NewWriterSize(io.NewOffsetWriter(s.file, off), readWindow)
	if cap(s.enc) < s.codec.Size {
		s.enc = make([]byte, s.codec.Size)
	}
	rec := s.enc[:s.codec.Size]
	for _, v := range s.buf {
		clear(rec)
		s.codec.Encode(rec, v)
		if _, err := w.Write(rec); err != nil {
			return fmt.Errorf("extsort: writing a sorted run: %w", err)
		}
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("extsort: writing a sorted run: %w", err)
	}
	s.runs = append(s.runs, span{off: off, n: int64(len(s.buf))})
	clear(s.buf)
	s.buf = s.buf[:0]
	return nil
}

// TempFile creates a file in the temporary directory (pattern as for
// os.CreateTemp) and removes it from the directory at once: it lasts as
// long as it is open, and nothing is left behind, even by a process
// killed mid-run.
func TempFile(pattern string) (*os.File, error) {
	f, err := os.CreateTemp("", pattern)
	if err != nil {
		return nil, err
	}
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// Sort ends the adding. The records can then be read, in order, as many
// times as wanted.
func (s *Sorter[T]) Sort() error {
	if s.sorted {
		return nil
	}
	s.sorted = true
	if len(s.runs) > 0 {
		// Runs on disk, and the last one in memory: merged alike.
		if len(s.buf) > 0 {
			if err := s.spill(); err != nil {
				return err
			}
		}
		s.buf = nil
		return nil
	}
	slices.SortFunc(s.buf, s.cmp)
	return nil
}

// Close releases the file and the buffer.
func (s *Sorter[T]) Close() {
	if s.file != nil {
		s.file.Close()
		s.file = nil
	}
	s.buf, s.runs = nil, nil
}

// Iter gives back the sorted records; Sort must have been called.
func (s *Sorter[T]) Iter() *Iter[T] {
	it := &Iter[T]{s: s}
	if !s.sorted {
		it.err = errors.New("extsort: iterating before sort")
		return it
	}
	if len(s.runs) == 0 {
		return it
	}
	for _, r := range s.runs {
		rr := &runReader[T]{r: bufio.NewReaderSize(io.NewSectionReader(s.file, r.off, r.n*int64(s.codec.Size)), readWindow),
			left: r.n, rec: make([]byte, s.codec.Size)}
		ok, err := rr.next(s.codec)
		if err != nil {
			it.err = err
			return it
		}
		if ok {
			it.h.runs = append(it.h.runs, rr)
		}
	}
	it.h.cmp = s.cmp
	heap.Init(&it.h)
	it.merging = true
	return it
}

// Iter reads a sorter's records in order.
type Iter[T any] struct {
	s       *Sorter[T]
	i       int // in memory
	merging bool
	h       runHeap[T]
	err     error
}

// Next returns the next record, false at the end or on an error (Err).
func (it *Iter[T]) Next() (T, bool) {
	var zero T
	if it.err != nil {
		return zero, false
	}
	if !it.merging {
		if it.i >= len(it.s.buf) {
			return zero, false
		}
		it.i++
		return it.s.buf[it.i-1], true
	}
	if len(it.h.runs) == 0 {
		return zero, false
	}
	top := it.h.runs[0]
	v := top.cur
	ok, err := top.next(it.s.codec)
	switch {
	case err != nil:
		it.err = err
		return zero, false
	case ok:
		heap.Fix(&it.h, 0)
	default:
		heap.Pop(&it.h)
	}
	return v, true
}

// Err is the error that ended the reading, if any.
func (it *Iter[T]) Err() error { return it.err }

type runReader[T any] struct {
	r    *bufio.Reader
	left int64
	rec  []byte
	cur  T
}

func (rr *runReader[T]) next(c Codec[T]) (bool, error) {
	if rr.left == 0 {
		return false, nil
	}
	if _, err := io.ReadFull(rr.r, rr.rec); err != nil {
		return false, fmt.Errorf("extsort: reading back a sorted run: %w", err)
	}
	rr.left--
	rr.cur = c.Decode(rr.rec)
	return true, nil
}

type runHeap[T any] struct {
	runs []*runReader[T]
	cmp  func(a, b T) int
}

func (h *runHeap[T]) Len() int           { return len(h.runs) }
func (h *runHeap[T]) Less(i, j int) bool { return h.cmp(h.runs[i].cur, h.runs[j].cur) < 0 }
func (h *runHeap[T]) Swap(i, j int)      { h.runs[i], h.runs[j] = h.runs[j], h.runs[i] }
func (h *runHeap[T]) Push(x any)         { h.runs = append(h.runs, x.(*runReader[T])) }
func (h *runHeap[T]) Pop() any {
	x := h.runs[len(h.runs)-1]
	h.runs = h.runs[:len(h.runs)-1]
	return x
}
