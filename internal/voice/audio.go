package voice

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/richiamo/richiamo/internal/voice/media"
)

// ReadAudio loads a prompt file: a WAV of 8 kHz mono audio in 16-bit PCM,
// A-law or µ-law (media.ReadWAV), or raw G.711 as sox writes it, named
// .al/.alaw/.pcma or .ul/.ulaw/.pcmu. A call encodes the audio in whichever
// law the far end chose, so one recording serves trunks of both laws.
func ReadAudio(path string) (*media.Audio, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("prompt: %w", err)
	}
	var a *media.Audio
	switch strings.ToLower(filepath.Ext(path)) {
	case ".al", ".alaw", ".pcma":
		a = &media.Audio{Samples: media.DecodeAlaw(data, nil)}
	case ".ul", ".ulaw", ".pcmu", ".mulaw":
		a = &media.Audio{Samples: media.DecodeUlaw(data, nil)}
	default:
		if a, err = media.ReadWAV(bytes.NewReader(data)); err != nil {
			return nil, fmt.Errorf("prompt %s: %w", path, err)
		}
	}
	if len(a.Samples) == 0 {
		return nil, fmt.Errorf("prompt %s: no audio in it", path)
	}
	return a, nil
}

// Tone is a sine of freq hertz lasting d at a comfortable level (about
// -13 dBm0), with 5 ms ramps so that it starts and stops without a click.
func Tone(freq float64, d time.Duration) *media.Audio {
	n := int(d * media.SampleRate / time.Second)
	s := make([]int16, n)
	const amp = 5000
	ramp := media.SampleRate * 5 / 1000
	for i := range s {
		g := 1.0
		if i < ramp {
			g = float64(i) / float64(ramp)
		} else if n-1-i < ramp {
			g = float64(n-1-i) / float64(ramp)
		}
		s[i] = int16(amp * g * math.Sin(2*math.Pi*freq*float64(i)/media.SampleRate))
	}
	return &media.Audio{Samples: s}
}

// Silence is d of silence, to separate prompt segments.
func Silence(d time.Duration) *media.Audio {
	return &media.Audio{Samples: make([]int16, int(d*media.SampleRate/time.Second))}
}
