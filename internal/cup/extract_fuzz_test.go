package cup_test

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"unicode"

	"github.com/richiamo/richiamo/internal/cup"
)

func FuzzExtractReader(f *testing.F) {
	seeds := []string{
		"AO;TC;B1;3471234567;02/12/2026 10:15;TC torace;S;Ospedale;D;Greco;Rosa\n",
		"AO;TC;;06 1234 5678;29/03/2026 02:30;\"TC; torace\";S;Ospedale;D;Greco;Rosa\r\n",
		"AO;TC;B1;\"347\n1234567\";2026-10-25T02:30;TC;s;Citt\xe0;u;D'Amico;Niccol\xf2\n\n;;;\n",
		"AO;TC;B1;+41 79 123 45 67;1/1/2027 8:05:00.000;\"\"\"\";V;;;;\n",
		"\"unterminated;3471234567;02/12/2026 10:15\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
		f.Add([]byte(header + s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// Most mutations break the header, so also read them as the body of
		// a file with a good one.
		checkExtract(t, data)
		checkExtract(t, append([]byte(header), data...))
	})
}

func checkExtract(t *testing.T, data []byte) {
	r, err := cup.NewExtractReader(bytes.NewReader(data), "fuzz.csv", cup.Layout{})
	if err != nil {
		return
	}
	last := r.Line()
	for rows := 0; ; rows++ {
		if rows > len(data) {
			t.Fatalf("%d rows from %d bytes", rows, len(data))
		}
		b, rej, err := r.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.csv") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		if r.Line() <= last {
			t.Fatalf("row at line %d after a row at line %d", r.Line(), last)
		}
		last = r.Line()
		if rej != nil {
			if rej.File != "fuzz.csv" || rej.Line != last || rej.Reason == "" || rej.Detail == "" {
				t.Fatalf("incomplete rejection %+v", rej)
			}
			if b != (cup.Booking{}) {
				t.Fatalf("a rejected row also gave a booking: %+v", b)
			}
			continue
		}
		if b.Code == "" || len(b.Phone) < 2 || b.Phone[0] != '+' || b.At.IsZero() {
			t.Fatalf("incomplete booking %+v", b)
		}
		if strings.ContainsFunc(b.Node+b.Code+b.Phone+b.Agenda+b.ServiceCode+b.Priority, unicode.IsControl) {
			t.Fatalf("booking %+v holds a control character", b)
		}
		if b.Source != "fuzz.csv" || b.Line != last || b.At.Location() != cup.Rome {
			t.Fatalf("booking %+v: want fuzz.csv:%d in Europe/Rome", b, last)
		}
	}
}
