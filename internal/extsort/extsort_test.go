package extsort

import (
	"cmp"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

type rec struct {
	key uint64
	seq uint32
}

var codec = Codec[rec]{Size: 12,
	Encode: func(dst []byte, v rec) {
		binary.BigEndian.PutUint64(dst, v.key)
		binary.BigEndian.PutUint32(dst[8:], v.seq)
	},
	Decode: func(src []byte) rec { return rec{binary.BigEndian.Uint64(src), binary.BigEndian.Uint32(src[8:])} },
}

func byKey(a, b rec) int {
	if c := cmp.Compare(a.key, b.key); c != 0 {
		return c
	}
	return cmp.Compare(a.seq, b.seq)
}

func collect(t *testing.T, s *Sorter[rec]) []rec {
	t.Helper()
	var out []rec
	it := s.Iter()
	for v, ok := it.Next(); ok; v, ok = it.Next() {
		out = append(out, v)
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRecordsComeBackInOrderInMemoryAndFromRuns(t *testing.T) {
	for _, tc := range []struct {
		name    string
		n       int
		runs    bool
		memSize int
	}{
		{"in memory", 3000, false, 1 << 20},
		{"several runs", 10000, true, 1024 * 16},
		{"a run and a partial buffer", 1500, true, 1024 * 16},
		{"none", 0, false, 1 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := New(byKey, codec, tc.memSize)
			defer s.Close()
			rng := rand.New(rand.NewPCG(1, uint64(tc.n)))
			var want []rec
			for i := range tc.n {
				v := rec{key: rng.Uint64N(500), seq: uint32(i)}
				want = append(want, v)
				if err := s.Add(v); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Sort(); err != nil {
				t.Fatal(err)
			}
			if got := s.file != nil; got != tc.runs {
				t.Fatalf("runs written: %v, want %v", got, tc.runs)
			}
			slices.SortFunc(want, byKey)
			for pass := range 2 {
				got := collect(t, s)
				if !slices.Equal(got, want) {
					t.Fatalf("pass %d: %d records back, want %d, or out of order", pass, len(got), len(want))
				}
			}
			if s.Len() != tc.n {
				t.Fatalf("Len = %d, want %d", s.Len(), tc.n)
			}
		})
	}
}

func TestAddingAfterSortIsRefused(t *testing.T) {
	s := New(byKey, codec, 0)
	defer s.Close()
	if err := s.Sort(); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(rec{}); err == nil {
		t.Fatal("a record added after sorting was taken")
	}
	u := New(byKey, codec, 0)
	if _, ok := u.Iter().Next(); ok || u.Iter().Err() == nil {
		t.Fatal("an unsorted sorter was read without an error")
	}
}

func TestATemporaryFileIsGoneFromItsDirectoryWhileOpen(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	f, err := TempFile("richiamo-test-*")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte("dati"), 0); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(filepath.Join(os.TempDir(), "richiamo-test-*")); len(left) != 0 {
		t.Fatalf("left in the directory: %v", left)
	}
	b := make([]byte, 4)
	if _, err := f.ReadAt(b, 0); err != nil || string(b) != "dati" {
		t.Fatalf("read back %q %v", b, err)
	}
}
