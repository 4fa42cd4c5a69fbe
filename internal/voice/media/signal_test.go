package media

import (
	"math"
	"math/rand/v2"
)

// Test signals for the DTMF detector, 8 kHz float64 until quantized.

// dbm0Peak is the peak of a 0 dBm0 sine in 16-bit samples (G.711's digital
// milliwatt, 3.17 dB below the largest µ-law sine).
const dbm0Peak = 22650.0

func amplitude(dbm0 float64) float64 { return dbm0Peak * math.Pow(10, dbm0/20) }

func samplesOf(ms float64) int { return int(ms * SampleRate / 1000) }

// keyFreqs is the row and column frequency of a key.
func keyFreqs(key rune) (float64, float64) {
	for r := range 4 {
		for c := range 4 {
			if dtmfPad[r][c] == key {
				return dtmfRows[r], dtmfCols[c]
			}
		}
	}
	panic("not a key: " + string(key))
}

// keyTone is a DTMF key at level dbm0 per tone, the column twist dB louder
// than the row, each frequency scaled by 1+dev.
func keyTone(key rune, ms, dbm0, twist, dev float64, rng *rand.Rand) []float64 {
	fr, fc := keyFreqs(key)
	ar, ac := amplitude(dbm0), amplitude(dbm0+twist)
	pr, pc := rng.Float64()*2*math.Pi, rng.Float64()*2*math.Pi
	out := make([]float64, samplesOf(ms))
	for i := range out {
		t := float64(i) / SampleRate
		out[i] = ar*math.Sin(2*math.Pi*fr*(1+dev)*t+pr) + ac*math.Sin(2*math.Pi*fc*(1+dev)*t+pc)
	}
	return out
}

func silence(ms float64) []float64 { return make([]float64, samplesOf(ms)) }

func concat(parts ...[]float64) []float64 {
	var out []float64
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func power(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v * v
	}
	return s / float64(max(len(x), 1))
}

// mixAt adds noise to signal so that the signal's power over its non-zero
// samples is snr dB above the noise's; noise is as long as signal.
func mixAt(signal, noise []float64, snr float64) []float64 {
	var active []float64
	for _, v := range signal {
		if v != 0 {
			active = append(active, v)
		}
	}
	scale := math.Sqrt(power(active) / power(noise) / math.Pow(10, snr/10))
	out := make([]float64, len(signal))
	for i := range out {
		out[i] = signal[i] + scale*noise[i]
	}
	return out
}

func scaleTo(x []float64, dbm0 float64) []float64 {
	// A sine of peak A has power A²/2.
	target := amplitude(dbm0) * amplitude(dbm0) / 2
	s := math.Sqrt(target / power(x))
	out := make([]float64, len(x))
	for i := range x {
		out[i] = x[i] * s
	}
	return out
}

// whiteNoise is Gaussian noise of unit variance.
func whiteNoise(n int, rng *rand.Rand) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = rng.NormFloat64()
	}
	return out
}

// babble is speech-like noise: a sum of sinusoids between 300 and 3400 Hz
// whose frequencies glide and whose loudness rises and falls at the pace of
// syllables.
func babble(n int, rng *rand.Rand) []float64 {
	const k = 12
	var f0, f1, amp, ph [k]float64
	for j := range k {
		f0[j] = 300 + rng.Float64()*3100
		f1[j] = 300 + rng.Float64()*3100
		amp[j] = 0.2 + rng.Float64()
		ph[j] = rng.Float64() * 2 * math.Pi
	}
	rate, phase := 3+rng.Float64()*3, rng.Float64()*2*math.Pi
	out := make([]float64, n)
	dur := float64(n) / SampleRate
	for i := range out {
		t := float64(i) / SampleRate
		var v float64
		for j := range k {
			f := f0[j] + (f1[j]-f0[j])*t/dur
			ph[j] += 2 * math.Pi * f / SampleRate
			v += amp[j] * math.Sin(ph[j])
		}
		out[i] = v * (0.6 + 0.4*math.Sin(2*math.Pi*rate*t+phase))
	}
	return out
}

// voice is a model of voiced speech: the harmonics of a pitch that moves
// (80–300 Hz), shaped by three formants that move from vowel to vowel every
// 80–250 ms; the talk-off material a DTMF detector must not mistake for
// keys.
func voice(n int, rng *rand.Rand) []float64 {
	out := make([]float64, n)
	var phase float64
	i := 0
	for i < n {
		seg := samplesOf(80 + rng.Float64()*170)
		f0a, f0b := 80+rng.Float64()*220, 80+rng.Float64()*220
		formants := [3]float64{250 + rng.Float64()*650, 800 + rng.Float64()*1700, 2300 + rng.Float64()*900}
		widths := [3]float64{60 + rng.Float64()*60, 80 + rng.Float64()*100, 120 + rng.Float64()*150}
		for j := 0; j < seg && i < n; j, i = j+1, i+1 {
			f0 := f0a + (f0b-f0a)*float64(j)/float64(seg)
			phase += 2 * math.Pi * f0 / SampleRate
			var v float64
			for h := 1; float64(h)*f0 < 3800; h++ {
				f := float64(h) * f0
				g := 0.0
				for k, fm := range formants {
					d := (f - fm) / widths[k]
					g += 1 / (1 + d*d) / float64(k+1)
				}
				v += g / math.Sqrt(float64(h)) * math.Sin(float64(h)*phase)
			}
			out[i] = v
		}
	}
	return out
}

// music is notes of the equal-tempered scale (A4 = 440 Hz) with their
// harmonics, alone and in two- and three-note chords, 100–500 ms each.
func music(n int, rng *rand.Rand) []float64 {
	out := make([]float64, n)
	i := 0
	for i < n {
		seg := samplesOf(100 + rng.Float64()*400)
		notes := make([]float64, 1+rng.IntN(3))
		for k := range notes {
			notes[k] = 440 * math.Pow(2, float64(rng.IntN(36)-12)/12) // A3 to G#6
		}
		for j := 0; j < seg && i < n; j, i = j+1, i+1 {
			t := float64(j) / SampleRate
			var v float64
			for _, f := range notes {
				for h := 1.0; h <= 6 && h*f < 3800; h++ {
					v += math.Sin(2*math.Pi*h*f*t) / h
				}
			}
			out[i] = v
		}
	}
	return out
}

// pcm16 rounds and clips to 16-bit samples.
func pcm16(x []float64) []int16 {
	out := make([]int16, len(x))
	for i, v := range x {
		out[i] = int16(max(-32768, min(32767, math.Round(v))))
	}
	return out
}

// detect feeds pcm in 20 ms frames and returns the keys found.
func detect(d *Detector, pcm []int16) string {
	var keys []rune
	for len(pcm) > 0 {
		n := min(FrameSamples, len(pcm))
		keys = append(keys, d.Feed(pcm[:n])...)
		pcm = pcm[n:]
	}
	return string(keys)
}
