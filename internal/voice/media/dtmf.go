package media

import "math"

// In-band DTMF detection, for trunks that carry keys as tones in the audio
// instead of RFC 4733 events.
//
// The Detector runs the Goertzel algorithm over Hamming-windowed blocks of
// 205 samples (25.6 ms, fine enough to tell the rows 73 Hz apart), one
// block every 102 samples so that a block straddling the start of a tone
// is followed by one well inside it. A block holds a key when
//   - both tones are loud enough (about -33 dBm0 each);
//   - the twist is within limits: the column tone at most 6 dB weaker than
//     the row tone (lines lose more at high frequencies; speech, whose
//     spectrum falls with frequency, sits beyond that) and at most 4 dB
//     stronger;
//   - the strongest row and column stand 6 dB clear of the other rows and
//     columns: no third tone;
//   - each tone is within 2% of its nominal frequency (ITU-T Q.24: accept
//     1.5%, reject 3.5%), measured with filters either side of it;
//   - the two tones carry more than half of the block's energy, so speech
//     and noise around them fail;
//   - neither tone has a second harmonic within 10 dB of it: a keypad's
//     tones have none, voices and instruments do.
// A key is reported once three consecutive blocks agree on it and one of
// them has three quarters of its energy in the two tones; three blocks
// span 409 samples, so a tone of 45 ms is always found and one shorter
// than 30 ms never is. It is reported again only after two blocks without
// it, so a key held down is one key and a pause of 40 ms separates two
// presses of the same key.

const (
	dtmfBlock = 205
	dtmfHop   = 102
	// dtmfHits is how many consecutive blocks must agree on a key: three
	// overlapping blocks span 409 samples, so a tone shorter than about
	// 30 ms never passes and one of 45 ms always does.
	dtmfHits = 3
	// dtmfMisses is how many consecutive blocks without the key end it.
	dtmfMisses = 2
)

var (
	dtmfRows = [4]float64{697, 770, 852, 941}
	dtmfCols = [4]float64{1209, 1336, 1477, 1633}
	dtmfPad  = [4][4]rune{
		{'1', '2', '3', 'A'},
		{'4', '5', '6', 'B'},
		{'7', '8', '9', 'C'},
		{'*', '0', '#', 'D'},
	}
)

// dtmfParams are the thresholds of one block's test, in power ratios.
type dtmfParams struct {
	minPower     float64 // Goertzel power of the weakest tone accepted
	normalTwist  float64 // column may be this much weaker than row
	reverseTwist float64 // column may be this much stronger than row
	relPeak      float64 // every other row (column) this much below the best
	minShare     float64 // share of the block's energy in the two tones
	strongShare  float64 // share one block of a key must reach
	maxHarmonic  float64 // second harmonic at most this much of its tone
}

func db(x float64) float64 { return math.Pow(10, x/10) }

// window is a Hamming window over the block: it keeps the leakage of one
// row into the next low, and widens each filter enough to accept tones
// 1.5% off their nominal frequency, as ITU-T Q.24 asks.
var window = func() (w [dtmfBlock]float32) {
	for i := range w {
		w[i] = float32(0.54 - 0.46*math.Cos(2*math.Pi*float64(i)/(dtmfBlock-1)))
	}
	return w
}()

// windowGain converts the Goertzel power of a windowed tone into the
// windowed energy of that tone: 2·Σw²/(Σw)².
var windowGain = func() float64 {
	var s, s2 float64
	for _, v := range window {
		s += float64(v)
		s2 += float64(v) * float64(v)
	}
	return 2 * s2 / (s * s)
}()

// tonePower is the Goertzel power of a windowed sine of amplitude a
// filling the block: (a·Σw/2)².
func tonePower(a float64) float64 {
	var s float64
	for _, v := range window {
		s += float64(v)
	}
	return a * s / 2 * a * s / 2
}

// thresholds were set on generated keys, speech, babble and music (see
// the tests): the twist and harmonic limits carry most of the talk-off
// protection, the shares most of the timing.
var thresholds = dtmfParams{
	minPower:     tonePower(500), // about -33 dBm0 per tone
	normalTwist:  db(6),
	reverseTwist: db(4),
	relPeak:      db(6),
	minShare:     0.55,
	strongShare:  0.75,
	maxHarmonic:  db(-10),
}

// goertzelCoef is 2·cos(2πf/fs) for the rows, then the columns.
var goertzelCoef = func() (c [8]float32) {
	for i := range 4 {
		c[i] = coef(dtmfRows[i])
		c[4+i] = coef(dtmfCols[i])
	}
	return c
}()

// offCoef are the filters 1.25% below and above each row, then column.
var offCoef = func() (c [8][2]float32) {
	for i, f := range append(dtmfRows[:], dtmfCols[:]...) {
		c[i] = [2]float32{coef(f * (1 - offStep)), coef(f * (1 + offStep))}
	}
	return c
}()

// mainLobe is the half-width of a filter's main lobe: two bins of the
// Hamming window.
const mainLobe = 2.0 * SampleRate / dtmfBlock

// offStep is how far either side of a tone offCoef's filters listen.
const offStep = 0.0125

// offGainMax bounds how much more power the filters either side can find
// than the nominal one, for a tone within maxDeviation: the early share
// test allows for it so as never to reject a block the full test accepts.
var offGainMax = func() float64 {
	g := 1.0
	for _, f := range append(dtmfRows[:], dtmfCols[:]...) {
		for _, dev := range []float64{-maxDeviation, maxDeviation} {
			off := f * dev
			at := windowResponse(off)
			side := max(windowResponse(off-f*offStep), windowResponse(off+f*offStep))
			g = max(g, side/at)
		}
	}
	return g
}()

// windowResponse is the power a filter gives a tone df hertz away, as a
// share of what it gives a tone on its frequency.
func windowResponse(df float64) float64 {
	var re, im, sum float64
	for n, w := range window {
		a := 2 * math.Pi * df * float64(n) / SampleRate
		re += float64(w) * math.Cos(a)
		im -= float64(w) * math.Sin(a)
		sum += float64(w)
	}
	return (re*re + im*im) / (sum * sum)
}

// maxDeviation is how far from nominal a tone may be: Q.24 asks that
// tones 1.5% off be accepted and 3.5% off be rejected.
const maxDeviation = 0.02

// peakFreq estimates the frequency of a tone near nominal f from the power
// of the filters at f·(1-offStep), f and f·(1+offStep): the peak of the
// parabola through their logarithms, which fits the Hamming window's main
// lobe closely. ok is false when the tone is more than maxDeviation off.
func peakFreq(f, below, at, above float64) (est float64, ok bool) {
	if below <= 0 || at <= 0 || above <= 0 {
		return f, false
	}
	lb, la, lc := math.Log(below), math.Log(at), math.Log(above)
	den := lb - 2*la + lc
	if den >= 0 {
		return f, false // no peak between the side filters
	}
	dev := 0.5 * (lb - lc) / den * offStep
	return f * (1 + dev), math.Abs(dev) <= maxDeviation
}

func coef(f float64) float32 { return float32(2 * math.Cos(2*math.Pi*f/SampleRate)) }

// Detector finds DTMF keys in 8 kHz audio. Feed it the decoded samples of
// the call as they come, in frames of any length. The zero value is ready
// to use; a Detector is not safe for concurrent use.
type Detector struct {
	// buf holds the last dtmfBlock samples twice over, so that the block
	// ending at any position is one contiguous slice: buf[pos:pos+dtmfBlock].
	buf    [2 * dtmfBlock]float32
	pos    int
	filled int // samples seen, up to dtmfBlock
	since  int // samples since the last block was tested

	cand    rune    // key of the current run of blocks, 0 for none
	hits    int     // length of that run
	best    float64 // highest share of energy in the key's tones in the run
	current rune    // key reported and not yet released, 0 for none
	misses  int     // blocks in a row without current
}

// Feed consumes samples and returns the keys that completed in them, in
// order; usually none.
func (d *Detector) Feed(samples []int16) []rune {
	var keys []rune
	for _, s := range samples {
		x := float32(s)
		d.buf[d.pos] = x
		d.buf[d.pos+dtmfBlock] = x
		d.pos++
		if d.pos == dtmfBlock {
			d.pos = 0
		}
		if d.filled < dtmfBlock {
			d.filled++
		}
		d.since++
		if d.since < dtmfHop || d.filled < dtmfBlock {
			continue
		}
		d.since = 0
		if k, ok := d.step(d.block(d.buf[d.pos : d.pos+dtmfBlock])); ok {
			keys = append(keys, k)
		}
	}
	return keys
}

// Reset forgets all audio, as at the start of a call.
func (d *Detector) Reset() { *d = Detector{} }

// step advances the key state machine by one block's verdict: its key, or
// 0, and the share of the block's energy in that key's tones.
func (d *Detector) step(k rune, share float64) (rune, bool) {
	if k != 0 && k == d.cand {
		d.hits++
		d.best = max(d.best, share)
	} else {
		d.cand, d.hits, d.best = k, 1, share
	}
	if d.current != 0 {
		if k == d.current {
			d.misses = 0
		} else if d.misses++; d.misses >= dtmfMisses {
			d.current = 0
		}
	}
	if k != 0 && k != d.current && d.hits >= dtmfHits && d.best >= thresholds.strongShare {
		d.current, d.misses = k, 0
		return k, true
	}
	return 0, false
}

// block tests one block and returns its key, or 0, with the share of the
// block's energy in the key's two tones.
func (d *Detector) block(blk []float32) (rune, float64) {
	p := &thresholds
	var w [dtmfBlock]float32
	var energy float64
	for i, x := range blk[:dtmfBlock] {
		v := x * window[i]
		w[i] = v
		energy += float64(v) * float64(v)
	}
	if energy == 0 {
		return 0, 0
	}
	var pw [8]float64
	goertzel4(&w, goertzelCoef[0:4], pw[0:4])
	goertzel4(&w, goertzelCoef[4:8], pw[4:8])

	r, c := 0, 4
	for i := 1; i < 4; i++ {
		if pw[i] > pw[r] {
			r = i
		}
		if pw[4+i] > pw[c] {
			c = 4 + i
		}
	}
	row, col := pw[r], pw[c]
	if row < p.minPower || col < p.minPower {
		return 0, 0
	}
	if row > col*p.normalTwist || col > row*p.reverseTwist {
		return 0, 0
	}
	for i := range 4 {
		if (i != r && pw[i]*p.relPeak > row) || (4+i != c && pw[4+i]*p.relPeak > col) {
			return 0, 0
		}
	}
	// The filters either side recover at most 2.5 dB, so a block whose
	// share falls short even with that is done with here: most speech.
	if (row+col)*windowGain*offGainMax < p.minShare*energy {
		return 0, 0
	}
	// A tone off its nominal frequency loses up to 2 dB in its filter, and
	// its harmonic is off by twice as many hertz. Filters either side tell
	// where the tone really is: the share uses the strongest of the three,
	// and the harmonic is looked for where it really is.
	var off [4]float64
	goertzel4(&w, []float32{offCoef[r][0], offCoef[r][1], offCoef[c][0], offCoef[c][1]}, off[:])
	fr, rowOK := peakFreq(dtmfRows[r], off[0], row, off[1])
	fc, colOK := peakFreq(dtmfCols[c-4], off[2], col, off[3])
	if !rowOK || !colOK {
		return 0, 0
	}
	row, col = max(row, off[0], off[1]), max(col, off[2], off[3])
	share := (row + col) * windowGain / energy
	if share < p.minShare {
		return 0, 0
	}
	var harm [4]float64
	goertzel4(&w, []float32{coef(2 * fr), coef(2 * fc), 0, 0}, harm[:])
	// Where the row's harmonic falls within the main lobe of the column's
	// filter (1394 Hz by 1336 Hz for 2, 1540 by 1477 for 6, 1704 by 1633
	// for C), the harmonic filter hears the column tone: only the column's
	// harmonic is tested.
	rowHarmTested := math.Abs(2*fr-fc) >= mainLobe
	if (rowHarmTested && harm[0] > row*p.maxHarmonic) || harm[1] > col*p.maxHarmonic {
		return 0, 0
	}
	return dtmfPad[r][c-4], share
}

// goertzel4 runs four Goertzel filters over blk at once, writing the power
// at each coefficient's frequency into out.
func goertzel4(blk *[dtmfBlock]float32, coef []float32, out []float64) {
	c0, c1, c2, c3 := coef[0], coef[1], coef[2], coef[3]
	var a1, a2, b1, b2, e1, e2, f1, f2 float32
	for _, x := range blk {
		// x-s2 does not wait for the previous step, which keeps the chain
		// from one sample to the next to a multiply and an add.
		a1, a2 = (x-a2)+c0*a1, a1
		b1, b2 = (x-b2)+c1*b1, b1
		e1, e2 = (x-e2)+c2*e1, e1
		f1, f2 = (x-f2)+c3*f1, f1
	}
	power := func(s1, s2, c float32) float64 {
		p := float64(s1)*float64(s1) + float64(s2)*float64(s2) - float64(c)*float64(s1)*float64(s2)
		return max(p, 0)
	}
	out[0] = power(a1, a2, c0)
	out[1] = power(b1, b2, c1)
	out[2] = power(e1, e2, c2)
	out[3] = power(f1, f2, c3)
}
