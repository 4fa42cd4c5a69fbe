package media

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

const allKeys = "0123456789*#ABCD"

// keysWithGaps is keys pressed for press ms each with gap ms between, at
// -10 dBm0 per tone.
func keysWithGaps(keys string, press, gap float64, rng *rand.Rand) []float64 {
	out := silence(gap)
	for _, k := range keys {
		out = concat(out, keyTone(k, press, -10, 0, 0, rng), silence(gap))
	}
	return out
}

func TestDetectorFindsEveryKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		level float64
	}{
		{"at a usual keypad level", -8},
		{"loud", -3},
		{"quiet", -25},
		{"near the floor", -30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(1, 1))
			var sig []float64
			for _, k := range allKeys {
				sig = concat(sig, keyTone(k, 70, tt.level, 0, 0, rng), silence(70))
			}
			if got := detect(&Detector{}, pcm16(sig)); got != allKeys {
				t.Errorf("keys %q, want %q", got, allKeys)
			}
		})
	}
	// Below about -33 dBm0 a tone is not a key.
	rng := rand.New(rand.NewPCG(1, 2))
	if got := detect(&Detector{}, pcm16(keyTone('5', 200, -40, 0, 0, rng))); got != "" {
		t.Errorf("a key at -40 dBm0 gave %q", got)
	}
}

func TestDetectorTiming(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(2, 2))
	k := func(key rune, ms float64) []float64 { return keyTone(key, ms, -10, 0, 0, rng) }
	tests := []struct {
		name string
		sig  []float64
		want string
	}{
		{"a key held for one second is one key", concat(silence(30), k('5', 1000), silence(100)), "5"},
		{"1 1 with a 60 ms gap is two keys", concat(k('1', 80), silence(60), k('1', 80), silence(60)), "11"},
		{"1 1 with a 40 ms gap is two keys", concat(k('1', 80), silence(40), k('1', 80), silence(60)), "11"},
		{"two keys with no gap are two keys", concat(k('1', 80), k('2', 80), silence(60)), "12"},
		{"a PIN at the fastest Q.24 pace (40 ms on, 40 ms off)", keysWithGaps("2580", 45, 40, rng), "2580"},
		{"a key at the end of the audio is found", concat(silence(20), k('#', 60)), "#"},
		{"a key right at the start is found", concat(k('*', 60), silence(60)), "*"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := detect(&Detector{}, pcm16(tt.sig)); got != tt.want {
				t.Errorf("keys %q, want %q", got, tt.want)
			}
		})
	}
}

// TestDetectorMinimumDuration checks every alignment of a tone against the
// blocks: 45 ms is always a key, 25 ms never.
func TestDetectorMinimumDuration(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 3))
	for _, tt := range []struct {
		ms   float64
		want string
	}{{45, "7"}, {60, "7"}, {25, ""}, {20, ""}, {10, ""}} {
		for lead := 0; lead < dtmfHop; lead += 7 {
			sig := concat(make([]float64, lead), keyTone('7', tt.ms, -10, 0, 0, rng), silence(100))
			if got := detect(&Detector{}, pcm16(sig)); got != tt.want {
				t.Errorf("a %v ms tone after %d samples: keys %q, want %q", tt.ms, lead, got, tt.want)
			}
		}
	}
}

func TestDetectorTwistAndFrequency(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		twist, dev   float64
		wantDetected bool
	}{
		{"column 3 dB stronger", 3, 0, true},
		{"column 5 dB weaker", -5, 0, true},
		{"column 6 dB stronger: reverse twist too large", 6, 0, false},
		{"column 8 dB weaker: normal twist too large", -8, 0, false},
		{"tones 1.5% high", 0, 0.015, true},
		{"tones 1.5% low", 0, -0.015, true},
		{"tones 3.5% high are not DTMF", 0, 0.035, false},
		{"tones 3.5% low are not DTMF", 0, -0.035, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(4, 4))
			for _, k := range allKeys {
				got := detect(&Detector{}, pcm16(concat(keyTone(k, 80, -12, tt.twist, tt.dev, rng), silence(60))))
				if (got == string(k)) != tt.wantDetected || (got != "" && got != string(k)) {
					t.Errorf("key %c: detected %q", k, got)
				}
			}
		})
	}
}

// TestDetectorInNoise presses keys over noise 10 dB below them: white
// noise, speech-like babble (gliding sinusoids between 300 and 3400 Hz)
// and a voice. A few keys in a thousand are missed in speech at this
// level; none may come out as another key.
func TestDetectorInNoise(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		noise   func(int, *rand.Rand) []float64
		snr     float64
		maxMiss int // of 200 keys
	}{
		{"white noise at 10 dB", whiteNoise, 10, 0},
		{"white noise at 6 dB", whiteNoise, 6, 2},
		{"speech-like babble at 10 dB", babble, 10, 4},
		{"a voice at 10 dB", voice, 10, 4},
		{"a voice at 15 dB", voice, 15, 0},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(5, uint64(i)))
			miss := 0
			for range 200 {
				k := rune(allKeys[rng.IntN(len(allKeys))])
				level := -8 - rng.Float64()*15
				sig := concat(silence(50), keyTone(k, 60+rng.Float64()*40, level, rng.Float64()*4-2, 0, rng), silence(50))
				got := detect(&Detector{}, pcm16(mixAt(sig, tt.noise(len(sig), rng), tt.snr)))
				switch got {
				case string(k):
				case "":
					miss++
				default:
					t.Errorf("key %c at %.0f dBm0 came out as %q", k, level, got)
				}
			}
			if miss > tt.maxMiss {
				t.Errorf("%d keys of 200 missed, want at most %d", miss, tt.maxMiss)
			}
		})
	}
	t.Run("a PIN over a voice at 10 dB", func(t *testing.T) {
		t.Parallel()
		rng := rand.New(rand.NewPCG(6, 6))
		sig := keysWithGaps("19283746", 80, 80, rng)
		if got := detect(&Detector{}, pcm16(mixAt(sig, voice(len(sig), rng), 10))); got != "19283746" {
			t.Errorf("keys %q", got)
		}
	})
}

// TestDetectorTalkOff plays what a patient's line carries besides keys:
// none of it may be taken for a key.
func TestDetectorTalkOff(t *testing.T) {
	t.Parallel()
	// tone sums sines; an amplitude below 1 given after a frequency
	// applies to it.
	tone := func(spec ...float64) func(int, *rand.Rand) []float64 {
		return func(n int, _ *rand.Rand) []float64 {
			out := make([]float64, n)
			for j, f := range spec {
				if f < 1 {
					continue
				}
				a := 1.0
				if j+1 < len(spec) && spec[j+1] < 1 {
					a = spec[j+1]
				}
				for i := range out {
					out[i] += a * math.Sin(2*math.Pi*f*float64(i)/SampleRate)
				}
			}
			return out
		}
	}
	sweep := func(n int, _ *rand.Rand) []float64 {
		out := make([]float64, n)
		var ph float64
		for i := range out {
			ph += 2 * math.Pi * (300 + 3100*float64(i)/float64(n)) / SampleRate
			out[i] = math.Sin(ph)
		}
		return out
	}
	const seconds = 30
	tests := []struct {
		name string
		sig  func(int, *rand.Rand) []float64
	}{
		{"a voice talking", voice},
		{"music with chords", music},
		{"speech-like babble", babble},
		{"white noise", whiteNoise},
		{"a row frequency alone (697 Hz)", tone(697)},
		{"a column frequency alone (1209 Hz)", tone(1209)},
		{"two rows together", tone(697, 852)},
		{"two columns together", tone(1336, 1633)},
		{"1000 Hz test tone", tone(1000)},
		{"the Italian dial tone (425 Hz)", tone(425)},
		{"a sweep from 300 to 3400 Hz", sweep},
		{"a row and a column 3.5% off", tone(697*1.035, 1209*1.035)},
		{"a key's tones with second harmonics 8 dB down", tone(770, 1540, 0.4, 1209, 2418, 0.4)},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(7, uint64(i)))
			for _, level := range []float64{-5, -15, -25} {
				pcm := pcm16(scaleTo(tt.sig(seconds*SampleRate, rng), level))
				if got := detect(&Detector{}, pcm); got != "" {
					t.Errorf("at %v dBm0: keys %q in %d s", level, got, seconds)
				}
			}
		})
	}
}

// TestDetectorAfterG711 detects keys that went through a G.711 codec, as
// every key from a trunk does.
func TestDetectorAfterG711(t *testing.T) {
	t.Parallel()
	for _, c := range []Codec{PCMU, PCMA} {
		t.Run(c.String(), func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(8, uint64(c)))
			sig := keysWithGaps(allKeys, 70, 70, rng)
			for _, tt := range []struct {
				name string
				pcm  []int16
			}{
				{"clean", pcm16(sig)},
				{"with babble 10 dB below", pcm16(mixAt(sig, babble(len(sig), rng), 10))},
			} {
				back := c.Decode(c.Encode(tt.pcm, nil), nil)
				if got := detect(&Detector{}, back); got != allKeys {
					t.Errorf("%s: keys %q, want %q", tt.name, got, allKeys)
				}
			}
		})
	}
}

func TestDetectorFrameSizes(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(9, 9))
	pcm := pcm16(keysWithGaps("147*", 70, 60, rng))
	for _, size := range []int{1, 7, 80, 160, 205, 333, len(pcm)} {
		var d Detector
		var got strings.Builder
		for rest := pcm; len(rest) > 0; {
			n := min(size, len(rest))
			for _, k := range d.Feed(rest[:n]) {
				got.WriteRune(k)
			}
			rest = rest[n:]
		}
		if got.String() != "147*" {
			t.Errorf("in chunks of %d samples: keys %q", size, got.String())
		}
	}
	// Reset forgets a key in progress.
	var d Detector
	tone := pcm16(keyTone('9', 100, -10, 0, 0, rng))
	d.Feed(tone[:len(tone)/4])
	d.Reset()
	if got := string(d.Feed(pcm16(silence(100)))); got != "" {
		t.Errorf("after Reset: keys %q", got)
	}
}

func BenchmarkDetectorFrame(b *testing.B) {
	rng := rand.New(rand.NewPCG(10, 10))
	for _, bm := range []struct {
		name string
		sig  []float64
	}{
		{"speech", scaleTo(voice(SampleRate, rng), -15)},
		{"key", keyTone('5', 1000, -10, 0, 0, rng)},
	} {
		b.Run(bm.name, func(b *testing.B) {
			pcm := pcm16(bm.sig)
			var d Detector
			i := 0
			for b.Loop() {
				d.Feed(pcm[i : i+FrameSamples])
				i = (i + FrameSamples) % (len(pcm) - FrameSamples)
			}
		})
	}
}
