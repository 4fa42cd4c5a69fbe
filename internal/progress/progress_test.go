package progress

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"
)

func TestText(t *testing.T) {
	for _, tc := range []struct {
		name        string
		done, total int64
		elapsed     time.Duration
		extra, want string
	}{
		{"no total yet", 1200, 0, 5 * time.Second, "", "reading: 1200"},
		{"a third in ten seconds leaves twenty", 100, 300, 10 * time.Second, "", "sending: 100 of 300 (33%), about 20 s left"},
		{"minutes left", 60, 3660, time.Minute, "2 refused", "sending: 60 of 3660 (2%), about 1 h 0 min left [2 refused]"},
		{"too early to tell", 3, 300, 200 * time.Millisecond, "", "sending: 3 of 300 (1%)"},
		{"finished", 300, 300, time.Minute, "", "sending: 300 of 300 (100%)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			what := "sending"
			if tc.total == 0 {
				what = "reading"
			}
			if got := Text(what, tc.done, tc.total, tc.elapsed, tc.extra); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestBytesText(t *testing.T) {
	for _, tc := range []struct {
		done, total int64
		elapsed     time.Duration
		want        string
	}{
		{3 << 20, 12 << 20, 6 * time.Second, "reading: 3.0 of 12.0 MB (25%), about 18 s left [40 of the agenda]"},
		{1 << 19, 0, time.Second, "reading: 0.5 MB [40 of the agenda]"},
		{12 << 20, 12 << 20, time.Minute, "reading: 12.0 of 12.0 MB (100%) [40 of the agenda]"},
	} {
		if got := BytesText("reading", tc.done, tc.total, tc.elapsed, "40 of the agenda"); got != tc.want {
			t.Errorf("%d of %d: got %q, want %q", tc.done, tc.total, got, tc.want)
		}
	}
}

func TestOffATerminalNothingIsDrawn(t *testing.T) {
	var b bytes.Buffer
	l := New(&b, false)
	l.Count("sending", 1, 2, "")
	l.Printf("reading %d", 3)
	l.Done()
	if b.Len() != 0 {
		t.Errorf("drew %q", b.String())
	}
	on := New(&b, true)
	on.Count("sending", 1, 2, "")
	on.Done()
	if !strings.Contains(b.String(), "sending: 1 of 2 (50%)") || !strings.HasSuffix(b.String(), "\r\033[K") {
		t.Errorf("drew %q", b.String())
	}
}

func TestALogLineNeverLandsOnTheProgressLine(t *testing.T) {
	var b bytes.Buffer
	l := New(&b, true)
	l.Printf("reading extracts: %d rows", 5000)
	log := l.Under(&b)
	if _, err := log.Write([]byte("level=WARN msg=\"booking repeated\"\n")); err != nil {
		t.Fatal(err)
	}
	want := "\r\033[Kreading extracts: 5000 rows" + "\r\033[K" + "level=WARN msg=\"booking repeated\"\n" + "reading extracts: 5000 rows"
	if got := b.String(); got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	l.Done()
	b.Reset()
	log.Write([]byte("after\n"))
	if got := b.String(); got != "after\n" {
		t.Errorf("with no line drawn a log line is written as it is: %q", got)
	}
	var off bytes.Buffer
	if w := New(&off, false).Under(&off); w != io.Writer(&off) {
		t.Error("off a terminal the writer is not the terminal's own")
	}
}
