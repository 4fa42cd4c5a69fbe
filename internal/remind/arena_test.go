package remind

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
)

func TestTheArenaGivesBackEveryBookingOnceItsChunksAreOnDisk(t *testing.T) {
	var a arena
	defer a.close()
	at := time.Date(2027, 3, 10, 8, 0, 0, 0, cup.Rome)
	const n = 60000 // about 9 MiB: two chunks written out, one in memory
	refs := make([]uint32, n)
	for i := range n {
		b := cup.Booking{Node: "ASL1", Code: fmt.Sprintf("C-%06d", i), At: at.Add(time.Duration(i) * time.Minute),
			Agenda: "ECOGRAFIA", Service: "Ecografia addome completo", Facility: "Poliambulatorio Città Nuova",
			Address: "Via Nazionale 12", Surname: "Rossi", Name: "Mario", Phone: "+393331234567"}
		if i == n/2 {
			b.Address = strings.Repeat("Via Lunga ", 200) // past one read's window
		}
		refs[i] = a.addFull(&b)
		if a.err != nil {
			t.Fatal(a.err)
		}
	}
	if a.file == nil || a.chunks[0] != nil {
		t.Fatal("the full chunks stayed in memory")
	}
	for i, ref := range refs {
		b, err := a.getFull(ref)
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("C-%06d", i); b.Code != want || !b.At.Equal(at.Add(time.Duration(i)*time.Minute)) ||
			b.Phone != "+393331234567" || b.Surname != "Rossi" {
			t.Fatalf("booking %d came back as %+v", i, b)
		}
		if i == n/2 && len(b.Address) != 2000 {
			t.Fatalf("the long address came back %d bytes long, want 2000", len(b.Address))
		}
	}
}
