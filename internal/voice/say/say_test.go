package say

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/richiamo/richiamo/campaigns/prompts"
	"github.com/richiamo/richiamo/internal/voice/media"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, rome)
	if err != nil {
		panic(err)
	}
	return t
}

func TestAppointment(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		at   time.Time
		want string
	}{
		{"1 December at 10:30 is martedì primo dicembre alle ore 10 e 30", at("2026-12-01 10:30"),
			"giorno-martedi parola-primo mese-dicembre parola-alle-ore num-10 parola-e num-30"},
		{"on the hour there are no minutes", at("2026-12-15 10:00"),
			"giorno-martedi num-15 mese-dicembre parola-alle-ore num-10"},
		{"13:05 is tredici e cinque", at("2026-03-02 13:05"),
			"giorno-lunedi num-2 mese-marzo parola-alle-ore num-13 parola-e num-5"},
		{"08:45 is otto e quarantacinque", at("2026-06-06 08:45"),
			"giorno-sabato num-6 mese-giugno parola-alle-ore num-8 parola-e num-45"},
		{"the hour 1 is una", at("2026-11-01 01:20"),
			"giorno-domenica parola-primo mese-novembre parola-alle-ore num-una parola-e num-20"},
		{"midnight is zero", at("2026-01-31 00:00"),
			"giorno-sabato num-31 mese-gennaio parola-alle-ore num-0"},
		{"21:01 is ventuno e uno", at("2026-07-29 21:01"),
			"giorno-mercoledi num-29 mese-luglio parola-alle-ore num-21 parola-e num-1"},
		{"a UTC time is spoken in Rome", time.Date(2026, 10, 25, 8, 30, 0, 0, time.UTC),
			"giorno-domenica num-25 mese-ottobre parola-alle-ore num-9 parola-e num-30"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := strings.Join(Appointment(tt.at), " "); got != tt.want {
				t.Errorf("Appointment(%s)\n got %s\nwant %s", tt.at, got, tt.want)
			}
		})
	}
}

func TestNumber(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		n    int
		want string
	}{
		{"zero", 0, "num-0"},
		{"ventuno is recorded whole", 21, "num-21"},
		{"ventotto is recorded whole", 28, "num-28"},
		{"59, the largest minute", 59, "num-59"},
		{"99 is recorded whole", 99, "num-99"},
		{"cento", 100, "num-100"},
		{"centoventotto is cento ventotto", 128, "num-100 num-28"},
		{"duecentouno is duecento uno", 201, "num-200 num-1"},
		{"novecentonovantanove", 999, "num-900 num-99"},
		{"a code above 999 is read digit by digit", 1205, "num-1 num-2 num-0 num-5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := strings.Join(Number(tt.n), " "); got != tt.want {
				t.Errorf("Number(%d) = %s, want %s", tt.n, got, tt.want)
			}
		})
	}
}

func TestNumberNegativePanics(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Error("Number(-1) did not panic")
		}
	}()
	Number(-1)
}

// TestEveryNameIsEmbedded says every day of a leap year (so 29 February)
// and every minute of a day, and every number up to MaxNumber, and loads
// each segment named from the embedded library.
func TestEveryNameIsEmbedded(t *testing.T) {
	t.Parallel()
	names := map[string]bool{AlleOre: true, E: true, Primo: true, Una: true}
	for d := at("2028-01-01 00:00"); d.Year() == 2028; d = d.AddDate(0, 0, 1) {
		for _, n := range Date(d) {
			names[n] = true
		}
	}
	for m := range 24 * 60 {
		for _, n := range Time(at("2026-06-01 00:00").Add(time.Duration(m) * time.Minute)) {
			names[n] = true
		}
	}
	for i := range MaxNumber + 1 {
		for _, n := range Number(i) {
			names[n] = true
		}
	}
	lib := Italian()
	for n := range names {
		a, err := lib.Segment(n)
		if err != nil {
			t.Error(err)
			continue
		}
		if d := a.Duration(); d < 100*time.Millisecond || d > 10*time.Second {
			t.Errorf("segment %s lasts %s", n, d)
		}
	}
	// 7 days, 12 months, 0-99, 8 more hundreds, una, and three words.
	if want := 7 + 12 + 100 + 9 + 1 + 2 + 1; len(names) != want {
		t.Errorf("%d names said, want %d", len(names), want)
	}
}

// TestEverySegmentIsListed keeps SEGMENTS.tsv, what a speaker reads when
// recording, in step with the files.
func TestEverySegmentIsListed(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../../campaigns/prompts/it/SEGMENTS.tsv")
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for line := range strings.Lines(string(data)) {
		if strings.HasPrefix(line, "#") {
			continue
		}
		name, text, ok := strings.Cut(strings.TrimSuffix(line, "\n"), "\t")
		if !ok || text == "" {
			t.Errorf("SEGMENTS.tsv line %q is not NAME<TAB>TEXT", line)
		}
		listed = append(listed, name)
	}
	files, err := filepath.Glob("../../../campaigns/prompts/it/*.wav")
	if err != nil {
		t.Fatal(err)
	}
	var have []string
	for _, f := range files {
		have = append(have, strings.TrimSuffix(filepath.Base(f), ".wav"))
	}
	slices.Sort(listed)
	slices.Sort(have)
	if !slices.Equal(listed, have) {
		t.Errorf("SEGMENTS.tsv lists %d segments, the directory has %d files:\nlisted %v\nfiles  %v", len(listed), len(have), listed, have)
	}
	for _, n := range listed {
		if _, err := Italian().Segment(n); err != nil {
			t.Error(err)
		}
	}
	if _, err := prompts.Italian.Open("SEGMENTS.tsv"); err != nil {
		t.Errorf("SEGMENTS.tsv is not embedded: %v", err)
	}
}

func TestAppointmentGolden(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	for _, s := range []string{
		"2026-12-01 10:30", "2026-12-08 08:00", "2026-02-28 13:05", "2028-02-29 19:59",
		"2026-03-29 09:15", "2026-10-25 14:40", "2027-01-01 07:01", "2026-04-20 12:00",
	} {
		fmt.Fprintf(&b, "%s  %s\n", s, strings.Join(Appointment(at(s)), " "))
	}
	golden(t, "testdata/appointments.golden", b.String())
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test -update rewrites it):\n got:\n%s\nwant:\n%s", path, got, want)
	}
}

// wav is a 16-bit PCM 8 kHz mono WAV file of n samples of value v.
func wav(n int, v int16) []byte {
	data := make([]byte, 2*n)
	for i := range n {
		data[2*i], data[2*i+1] = byte(v), byte(uint16(v)>>8)
	}
	le := func(x uint32, size int) []byte {
		b := make([]byte, size)
		for i := range b {
			b[i] = byte(x >> (8 * i))
		}
		return b
	}
	var b []byte
	b = append(b, "RIFF"...)
	b = append(b, le(uint32(36+len(data)), 4)...)
	b = append(b, "WAVEfmt "...)
	b = append(b, le(16, 4)...)
	b = append(b, le(1, 2)...)
	b = append(b, le(1, 2)...)
	b = append(b, le(media.SampleRate, 4)...)
	b = append(b, le(2*media.SampleRate, 4)...)
	b = append(b, le(2, 2)...)
	b = append(b, le(16, 2)...)
	b = append(b, "data"...)
	b = append(b, le(uint32(len(data)), 4)...)
	return append(b, data...)
}

func TestCompose(t *testing.T) {
	t.Parallel()
	base := fstest.MapFS{
		"num-10.wav":   {Data: wav(800, 100)},
		"parola-e.wav": {Data: wav(400, 200)},
		"num-30.wav":   {Data: wav(800, 300)},
	}
	recorded := fstest.MapFS{"parola-e.wav": {Data: wav(160, 7)}}

	t.Run("segments are joined with a pause between them", func(t *testing.T) {
		t.Parallel()
		a, err := NewLibrary(50*time.Millisecond, base).Compose("num-10", "parola-e", "num-30")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(a.Samples), 800+400+400+400+800; got != want {
			t.Errorf("%d samples, want %d", got, want)
		}
		if a.Samples[0] != 100 || a.Samples[800] != 0 || a.Samples[1200] != 200 || a.Samples[len(a.Samples)-1] != 300 {
			t.Errorf("segments out of place: %d %d %d %d", a.Samples[0], a.Samples[800], a.Samples[1200], a.Samples[len(a.Samples)-1])
		}
	})
	t.Run("a recording replaces the generated segment", func(t *testing.T) {
		t.Parallel()
		a, err := NewLibrary(-1, recorded, base).Compose("num-10", "parola-e")
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Samples) != 960 || a.Samples[900] != 7 {
			t.Errorf("%d samples, sample 900 is %d; want 960 and the recording's 7", len(a.Samples), a.Samples[900])
		}
	})
	t.Run("a missing segment is named", func(t *testing.T) {
		t.Parallel()
		_, err := NewLibrary(0, base).Compose("num-10", "num-61", "mese-maggio")
		if !errors.Is(err, ErrMissingSegment) {
			t.Fatalf("err = %v, want ErrMissingSegment", err)
		}
		for _, n := range []string{`"num-61"`, `"mese-maggio"`} {
			if !strings.Contains(err.Error(), n) {
				t.Errorf("error %q does not name %s", err, n)
			}
		}
	})
	t.Run("a damaged recording is named", func(t *testing.T) {
		t.Parallel()
		bad := fstest.MapFS{"num-10.wav": {Data: []byte("RIFF not really")}}
		_, err := NewLibrary(0, bad, base).Compose("num-10")
		if err == nil || !strings.Contains(err.Error(), `"num-10"`) || errors.Is(err, ErrMissingSegment) {
			t.Errorf("err = %v, want a read error naming num-10", err)
		}
	})
	t.Run("a path is not a segment name", func(t *testing.T) {
		t.Parallel()
		for _, n := range []string{"", "../num-10", "it/num-10"} {
			if _, err := NewLibrary(0, base).Segment(n); err == nil {
				t.Errorf("Segment(%q) succeeded", n)
			}
		}
	})
	t.Run("nothing to say is an error", func(t *testing.T) {
		t.Parallel()
		if _, err := NewLibrary(0, base).Compose(); err == nil {
			t.Error("Compose() succeeded")
		}
	})
}

func TestWithRecordings(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "parola-e.wav"), wav(80, 9), 0o644); err != nil {
		t.Fatal(err)
	}
	lib, err := WithRecordings(dir)
	if err != nil {
		t.Fatal(err)
	}
	e, err := lib.Segment("parola-e")
	if err != nil || len(e.Samples) != 80 {
		t.Fatalf("recorded parola-e: %v, %v", e, err)
	}
	if _, err := lib.Segment("mese-dicembre"); err != nil {
		t.Errorf("mese-dicembre from the embedded set: %v", err)
	}
	if _, err := WithRecordings(filepath.Join(dir, "absent")); err == nil {
		t.Error("a missing recordings directory was accepted")
	}
}

func TestComposeAppointment(t *testing.T) {
	t.Parallel()
	a, err := Italian().Compose(Appointment(at("2026-12-01 10:30"))...)
	if err != nil {
		t.Fatal(err)
	}
	if d := a.Duration(); d < time.Second || d > 6*time.Second {
		t.Errorf("martedì primo dicembre alle ore 10 e 30 lasts %s", d)
	}
}
