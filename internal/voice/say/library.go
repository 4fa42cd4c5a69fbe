package say

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/richiamo/richiamo/campaigns/prompts"
	"github.com/richiamo/richiamo/internal/voice/media"
)

// DefaultPause is the silence Compose puts between segments: long enough
// that "dieci" "e" "trenta" are heard as words, short enough that a date
// is heard as one phrase.
const DefaultPause = 120 * time.Millisecond

// ErrMissingSegment is wrapped by the error for a segment no layer of the
// library holds.
var ErrMissingSegment = errors.New("missing segment")

// Library loads segments by name from layers of files, NAME.wav at the
// root of each; the first layer holding a name wins, so a directory of
// professional recordings laid over the embedded set replaces just the
// segments it has. Segments are decoded once and kept. A Library is safe
// for concurrent use.
type Library struct {
	layers []fs.FS
	pause  time.Duration

	mu    sync.Mutex
	cache map[string]*media.Audio
}

// NewLibrary is a library over layers, searched in order, that pauses
// for pause between segments (0 means DefaultPause; use a negative pause
// for none).
func NewLibrary(pause time.Duration, layers ...fs.FS) *Library {
	switch {
	case pause == 0:
		pause = DefaultPause
	case pause < 0:
		pause = 0
	}
	return &Library{layers: layers, pause: pause, cache: make(map[string]*media.Audio)}
}

// italian is the process's Italian library: the embedded segments, with
// the recordings UseRecordings named laid over them.
var italian atomic.Pointer[Library]

// Italian is the library of the Italian segments embedded in the binary
// (campaigns/prompts/it), with the recordings of UseRecordings laid over
// them. It is one library for the process, so a segment is decoded once.
func Italian() *Library {
	if l := italian.Load(); l != nil {
		return l
	}
	italian.CompareAndSwap(nil, NewLibrary(0, prompts.Italian))
	return italian.Load()
}

// UseRecordings lays the recordings in dir (NAME.wav, 8 kHz mono) over
// the embedded segments of Italian from now on: a recording replaces the
// segment of its name, and a name the embedded set lacks, such as one that
// says a facility, is added. Every WAV file in dir is read first, and the
// first that is not usable is the error; "" goes back to the embedded set.
// The engine calls it once at start-up, before any script is loaded.
func UseRecordings(dir string) error {
	if dir == "" {
		italian.Store(NewLibrary(0, prompts.Italian))
		return nil
	}
	l, err := WithRecordings(dir)
	if err != nil {
		return err
	}
	names, err := fs.Glob(l.layers[0], "*.wav")
	if err != nil {
		return fmt.Errorf("say: recordings %s: %w", dir, err)
	}
	for _, n := range names {
		if _, err := l.Segment(strings.TrimSuffix(n, ".wav")); err != nil {
			return fmt.Errorf("say: recordings %s: %w", dir, err)
		}
	}
	italian.Store(l)
	return nil
}

// WithRecordings is the Italian library with the recordings in dir laid
// over it: a file dir/NAME.wav replaces segment NAME, every other segment
// comes from the embedded set. dir need not hold every segment.
func WithRecordings(dir string) (*Library, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("say: recordings: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("say: recordings: %s is not a directory", dir)
	}
	return NewLibrary(0, os.DirFS(dir), prompts.Italian), nil
}

// Segment is the audio of one segment, named without .wav.
func (l *Library) Segment(name string) (*media.Audio, error) {
	l.mu.Lock()
	a, ok := l.cache[name]
	l.mu.Unlock()
	if ok {
		return a, nil
	}
	a, err := l.load(name)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.cache[name] = a
	l.mu.Unlock()
	return a, nil
}

func (l *Library) load(name string) (*media.Audio, error) {
	file := name + ".wav"
	if name == "" || !fs.ValidPath(file) || strings.ContainsRune(name, '/') {
		return nil, fmt.Errorf("say: segment %q: not a segment name", name)
	}
	for _, layer := range l.layers {
		data, err := fs.ReadFile(layer, file)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("say: segment %q: %w", name, err)
		}
		a, err := media.ReadWAV(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("say: segment %q (%s): %w", name, file, err)
		}
		if len(a.Samples) == 0 {
			return nil, fmt.Errorf("say: segment %q (%s): no audio in it", name, file)
		}
		return a, nil
	}
	return nil, fmt.Errorf("say: segment %q: %w (no %s in the prompt library)", name, ErrMissingSegment, file)
}

// Compose joins the named segments into one prompt, with the library's
// pause between them. It fails naming every segment it could not load,
// so a script with two missing words is fixed in one go.
func (l *Library) Compose(names ...string) (*media.Audio, error) {
	if len(names) == 0 {
		return nil, errors.New("say: nothing to compose")
	}
	var (
		parts []*media.Audio
		errs  []error
	)
	gap := &media.Audio{Samples: make([]int16, int(l.pause*media.SampleRate/time.Second))}
	for i, name := range names {
		a, err := l.Segment(name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if i > 0 && len(gap.Samples) > 0 {
			parts = append(parts, gap)
		}
		parts = append(parts, a)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return media.Concat(parts...), nil
}
