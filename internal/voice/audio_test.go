package voice

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/voice/media"
)

func TestReadAudio(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tone := Tone(425, 100*time.Millisecond)
	alaw := media.EncodeAlaw(tone.Samples, nil)
	wav := func(format, channels uint16, rate uint32, bits uint16, data []byte) []byte {
		var b bytes.Buffer
		b.WriteString("RIFF")
		binary.Write(&b, binary.LittleEndian, uint32(36+len(data)))
		b.WriteString("WAVEfmt ")
		for _, v := range []any{uint32(16), format, channels, rate, rate * uint32(bits/8), bits / 8, bits} {
			binary.Write(&b, binary.LittleEndian, v)
		}
		b.WriteString("data")
		binary.Write(&b, binary.LittleEndian, uint32(len(data)))
		b.Write(data)
		return b.Bytes()
	}
	pcm := make([]byte, 0, 2*len(tone.Samples))
	for _, s := range tone.Samples {
		pcm = binary.LittleEndian.AppendUint16(pcm, uint16(s))
	}
	tests := []struct {
		name string
		file string
		data []byte
		want []int16 // nil: an error
		is   error   // what the error wraps, if anything in particular
	}{
		{"8 kHz 16-bit WAV", "prompt.wav", wav(1, 1, 8000, 16, pcm), tone.Samples, nil},
		{"A-law WAV", "prompt-alaw.wav", wav(6, 1, 8000, 8, alaw), media.DecodeAlaw(alaw, nil), nil},
		{"raw A-law as sox writes it", "prompt.al", alaw, media.DecodeAlaw(alaw, nil), nil},
		{"raw µ-law", "prompt.ul", media.EncodeUlaw(tone.Samples, nil), media.DecodeUlaw(media.EncodeUlaw(tone.Samples, nil), nil), nil},
		{"CD-quality WAV", "music.wav", wav(1, 2, 44100, 16, pcm), nil, media.ErrWAVFormat},
		{"empty raw file", "empty.al", nil, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := filepath.Join(dir, tt.file)
			if err := os.WriteFile(p, tt.data, 0o644); err != nil {
				t.Fatal(err)
			}
			a, err := ReadAudio(p)
			switch {
			case tt.want == nil && err == nil:
				t.Fatal("accepted")
			case tt.is != nil && !errors.Is(err, tt.is):
				t.Fatalf("error %v, want %v", err, tt.is)
			case tt.want != nil && err != nil:
				t.Fatal(err)
			case tt.want != nil && !slices.Equal(a.Samples, tt.want):
				t.Fatal("samples differ")
			}
		})
	}
}
