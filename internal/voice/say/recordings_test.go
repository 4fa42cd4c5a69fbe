package say_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/richiamo/richiamo/campaigns/prompts"
	"github.com/richiamo/richiamo/internal/voice/media"
	"github.com/richiamo/richiamo/internal/voice/say"
)

// A recording directory adds the segments it holds to the process's
// library, and replaces none it lacks; a file that is not usable audio is
// refused before anything changes.
func TestUseRecordingsLaysADirectoryOverTheBuiltInSegments(t *testing.T) {
	t.Cleanup(func() { _ = say.UseRecordings("") })
	dir := t.TempDir()
	// A recording: the built-in greeting, under a facility's name.
	wav, err := fs.ReadFile(prompts.Italian, "frase-buongiorno.wav")
	if err != nil {
		t.Fatal(err)
	}
	want, err := media.ReadWAV(bytes.NewReader(wav))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "struttura-castello.wav"), wav, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := say.Italian().Segment("struttura-castello"); !errors.Is(err, say.ErrMissingSegment) {
		t.Fatalf("before: %v, want a missing segment", err)
	}
	if err := say.UseRecordings(dir); err != nil {
		t.Fatal(err)
	}
	a, err := say.Italian().Segment("struttura-castello")
	if err != nil || len(a.Samples) != len(want.Samples) {
		t.Fatalf("the recording: %v, %v", a, err)
	}
	if _, err := say.Italian().Segment("frase-buongiorno"); err != nil {
		t.Errorf("a built-in segment is lost under the recordings: %v", err)
	}

	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, "rotta.wav"), []byte("not a wave"), 0o644); err != nil {
		t.Fatal(err)
	}
	err = say.UseRecordings(bad)
	if err == nil || !strings.Contains(err.Error(), "rotta") {
		t.Fatalf("a broken file: %v, want an error naming it", err)
	}
	if _, err := say.Italian().Segment("struttura-castello"); err != nil {
		t.Errorf("a refused directory changed the library: %v", err)
	}
	if err := say.UseRecordings(filepath.Join(bad, "none")); err == nil {
		t.Error("a directory that does not exist was accepted")
	}
}
