package media

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"slices"
	"testing"
)

// Digests of the ITU-T G.191 reference routines (ulaw_compress,
// alaw_compress over every int16 from -32768 up, as one byte each;
// ulaw_expand, alaw_expand over codes 0 to 255, as little-endian int16),
// from the G.191 C source compiled as published. Sun's g711.c, as found in
// SoX and Python's audioop, gives the same decoders and A-law encoder; its
// µ-law encoder rounds 508 negative inputs one step away from G.191 (-1
// becomes 0x7E, -8, where G.191 gives 0x7F, 0), which is why the digest,
// not Sun's code, is the reference.
const (
	g191UlawEncode = "90c29de505fb68e766118303bd552a16005dcf810873698bee1d8f3b247ce28c"
	g191AlawEncode = "38488f6fd710f4686360edc4d38639f96c491595ef93f8eb8d62d5e07ca6ce7b"
	g191UlawDecode = "3dab54339e520bb2c924826e3b72a917a2b612e9fd12fc867500f1d983a75827"
	g191AlawDecode = "e04788d110e58ff8c70c93b8480190d973e3b67876b6119abbaec766cc75c174"
)

func everySample() []int16 {
	pcm := make([]int16, 0, 1<<16)
	for i := range 1 << 16 {
		pcm = append(pcm, int16(i-32768))
	}
	return pcm
}

func digest(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func everyCode() []byte {
	codes := make([]byte, 256)
	for i := range codes {
		codes[i] = byte(i)
	}
	return codes
}

func TestG711MatchesTheITUReference(t *testing.T) {
	t.Parallel()
	pcm := everySample()
	pcmBytes := func(s []int16) []byte {
		var b []byte
		for _, v := range s {
			b = binary.LittleEndian.AppendUint16(b, uint16(v))
		}
		return b
	}
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"µ-law encoder over every sample", EncodeUlaw(pcm, nil), g191UlawEncode},
		{"A-law encoder over every sample", EncodeAlaw(pcm, nil), g191AlawEncode},
		{"µ-law decoder over every code", pcmBytes(DecodeUlaw(everyCode(), nil)), g191UlawDecode},
		{"A-law decoder over every code", pcmBytes(DecodeAlaw(everyCode(), nil)), g191AlawDecode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := digest(tt.got); got != tt.want {
				t.Errorf("digest %s, want %s (G.191)", got, tt.want)
			}
		})
	}
}

func TestG711KnownValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		codec  Codec
		sample int16
		code   byte
		back   int16 // what the code decodes to
	}{
		{"µ-law silence code is 0xFF", PCMU, 0, 0xFF, 0},
		{"µ-law small negative rounds to zero", PCMU, -1, 0x7F, 0},
		{"µ-law first step up", PCMU, 4, 0xFE, 8},
		{"µ-law first step down", PCMU, -5, 0x7E, -8},
		{"µ-law a hundred", PCMU, 100, 0xF2, 104},
		{"µ-law a thousand", PCMU, 1000, 0xCE, 988},
		{"µ-law minus a thousand", PCMU, -1000, 0x4E, -988},
		{"µ-law positive peak 32124", PCMU, 32124, 0x80, 32124},
		{"µ-law clips the largest sample", PCMU, 32767, 0x80, 32124},
		{"µ-law clips the smallest sample", PCMU, -32768, 0x00, -32124},
		{"A-law silence code is 0xD5", PCMA, 0, 0xD5, 8},
		{"A-law small negative", PCMA, -1, 0x55, -8},
		{"A-law a hundred", PCMA, 100, 0xD3, 104},
		{"A-law a thousand", PCMA, 1000, 0xFA, 1008},
		{"A-law minus a thousand", PCMA, -1000, 0x7A, -1008},
		{"A-law clips the largest sample", PCMA, 32767, 0xAA, 32256},
		{"A-law clips the smallest sample", PCMA, -32768, 0x2A, -32256},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code := tt.codec.Encode([]int16{tt.sample}, nil)
			if len(code) != 1 || code[0] != tt.code {
				t.Fatalf("%s.Encode(%d) = % X, want %02X", tt.codec, tt.sample, code, tt.code)
			}
			if back := tt.codec.Decode(code, nil); back[0] != tt.back {
				t.Errorf("%s.Decode(%02X) = %d, want %d", tt.codec, tt.code, back[0], tt.back)
			}
		})
	}
}

func TestG711Silence(t *testing.T) {
	t.Parallel()
	zero := make([]int16, FrameSamples)
	for _, c := range []Codec{PCMU, PCMA} {
		frame := c.Encode(zero, nil)
		if len(frame) != FrameSamples {
			t.Fatalf("%s: %d bytes for a frame", c, len(frame))
		}
		for _, b := range frame {
			if b != c.Silence() {
				t.Fatalf("%s encodes silence as %02X, want %02X", c, b, c.Silence())
			}
		}
	}
	if PCMU.Silence() != 0xFF || PCMA.Silence() != 0xD5 {
		t.Errorf("silence codes %02X %02X, want FF D5", PCMU.Silence(), PCMA.Silence())
	}
}

// TestG711RoundTrip bounds the error of every sample: never more than half
// the quantization step around the level it comes back as, plus the bits
// the law drops before quantizing (2 for µ-law, 4 for A-law).
func TestG711RoundTrip(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		codec Codec
		slack int
	}{{PCMU, 3}, {PCMA, 15}} {
		t.Run(tt.codec.String(), func(t *testing.T) {
			t.Parallel()
			levels := tt.codec.Decode(everyCode(), nil)
			slices.Sort(levels)
			levels = slices.Compact(levels)
			halfStep := make(map[int16]int, len(levels))
			for i, l := range levels {
				step := 0
				if i > 0 {
					step = int(l) - int(levels[i-1])
				}
				if i+1 < len(levels) {
					step = max(step, int(levels[i+1])-int(l))
				}
				halfStep[l] = step / 2
			}
			pcm := everySample()
			back := tt.codec.Decode(tt.codec.Encode(pcm, nil), nil)
			worst := 0.0
			for i, x := range pcm {
				err := abs(int(x) - int(back[i]))
				if lo, hi := levels[0], levels[len(levels)-1]; x <= lo || x >= hi {
					// Beyond the loudest level the law clips.
					if back[i] != lo && back[i] != hi {
						t.Fatalf("%d beyond the loudest levels comes back as %d", x, back[i])
					}
					continue
				}
				if err > halfStep[back[i]]+tt.slack {
					t.Fatalf("%d comes back as %d: error %d, half a step there is %d", x, back[i], err, halfStep[back[i]])
				}
				if x > 256 || x < -256 {
					worst = max(worst, float64(err)/math.Abs(float64(x)))
				}
			}
			// Above the first segments the error is a fraction of the
			// sample: logarithmic coding's point.
			if worst > 0.07 {
				t.Errorf("worst relative error %.3f above |256|, want under 0.07", worst)
			}
			// Every code but µ-law's negative zero survives decode and encode.
			codes := everyCode()
			again := tt.codec.Encode(tt.codec.Decode(codes, nil), nil)
			for i := range codes {
				if again[i] != codes[i] && !(tt.codec == PCMU && codes[i] == 0x7F && again[i] == 0xFF) {
					t.Errorf("code %02X comes back as %02X", codes[i], again[i])
				}
			}
		})
	}
}

// TestG711SignalToNoise checks the quality G.711 promises on a voice-level
// tone: about 38 dB of signal to quantization noise.
func TestG711SignalToNoise(t *testing.T) {
	t.Parallel()
	pcm := make([]int16, SampleRate)
	for i := range pcm {
		pcm[i] = int16(7000 * math.Sin(2*math.Pi*1004*float64(i)/SampleRate))
	}
	for _, c := range []Codec{PCMU, PCMA} {
		back := c.Decode(c.Encode(pcm, nil), nil)
		var sig, noise float64
		for i := range pcm {
			sig += float64(pcm[i]) * float64(pcm[i])
			d := float64(pcm[i]) - float64(back[i])
			noise += d * d
		}
		if snr := 10 * math.Log10(sig/noise); snr < 35 {
			t.Errorf("%s: signal to noise %.1f dB, want at least 35", c, snr)
		}
	}
}

func TestCodecs(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		pt   uint8
		ok   bool
		name string
	}{{0, true, "PCMU"}, {8, true, "PCMA"}, {18, false, ""}, {101, false, ""}} {
		c, ok := CodecFor(tt.pt)
		if ok != tt.ok || (ok && (c.String() != tt.name || c.PayloadType() != tt.pt)) {
			t.Errorf("CodecFor(%d) = %v, %v", tt.pt, c, ok)
		}
	}
	// Encode and Decode append, leaving what dst held.
	got := PCMA.Encode([]int16{0, 0}, []byte{1, 2})
	if !slices.Equal(got, []byte{1, 2, 0xD5, 0xD5}) {
		t.Errorf("Encode appended % X", got)
	}
	pcm := PCMU.Decode([]byte{0xFF, 0x80}, []int16{7})
	if !slices.Equal(pcm, []int16{7, 0, 32124}) {
		t.Errorf("Decode appended %v", pcm)
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func benchFrame() []int16 {
	pcm := make([]int16, FrameSamples)
	for i := range pcm {
		pcm[i] = int16(9000 * math.Sin(2*math.Pi*440*float64(i)/SampleRate))
	}
	return pcm
}

func BenchmarkEncodeUlawFrame(b *testing.B) {
	pcm, dst := benchFrame(), make([]byte, 0, FrameSamples)
	for b.Loop() {
		dst = EncodeUlaw(pcm, dst[:0])
	}
}

func BenchmarkEncodeAlawFrame(b *testing.B) {
	pcm, dst := benchFrame(), make([]byte, 0, FrameSamples)
	for b.Loop() {
		dst = EncodeAlaw(pcm, dst[:0])
	}
}

func BenchmarkDecodeUlawFrame(b *testing.B) {
	codes, dst := EncodeUlaw(benchFrame(), nil), make([]int16, 0, FrameSamples)
	for b.Loop() {
		dst = DecodeUlaw(codes, dst[:0])
	}
}

func BenchmarkDecodeAlawFrame(b *testing.B) {
	codes, dst := EncodeAlaw(benchFrame(), nil), make([]int16, 0, FrameSamples)
	for b.Loop() {
		dst = DecodeAlaw(codes, dst[:0])
	}
}
