package voice

import "github.com/richiamo/richiamo/internal/voice/media"

// In-band key detection runs on every frame the far end sends until it
// sends a telephone-event, which on most calls means for the whole call,
// and most of what it hears is silence. quietGate spares the detector the
// silence without changing a single verdict of it: audio whose samples
// all stay within quietLevel cannot hold a key, so once the detector has
// heard enough of it to have settled, further quiet frames are held back,
// and before the next loud frame the detector is brought to the very
// state it would have reached on them.
//
// Why a quiet block cannot hold a key: the Goertzel power of a windowed
// block is at most (Σ|w·x|)², below (quietLevel·Σw)², while the detector
// wants each of the two tones at (250·Σw)² or more (a windowed sine of
// amplitude 500); quietLevel is 8 dB below that.
//
// What "settled" means: the detector tests a block of dtmfBlock samples
// every dtmfHop samples; after dtmfBlock+2·dtmfHop quiet samples it has
// tested at least two blocks made of quiet samples alone, so it has no
// candidate key, has released any key held, and would do nothing more on
// quiet audio than move its block boundaries along. The replay restores
// those boundaries (the number of samples fed, modulo dtmfHop) and the
// last dtmfBlock samples, which is all of its state that quiet audio
// changes.
type quietGate struct {
	run     int     // quiet samples fed in a row
	skipped int     // quiet samples held back since
	tail    []int16 // the last dtmfBlock of them at most
}

const (
	quietLevel = 100
	// The Detector's block and hop (media/dtmf.go).
	dtmfBlock = 205
	dtmfHop   = 102
	settled   = dtmfBlock + 2*dtmfHop
)

var zeros [dtmfHop]int16

// feed passes pcm to d, or holds it back, and returns the keys d found.
func (g *quietGate) feed(d *media.Detector, pcm []int16) []rune {
	if quiet(pcm) {
		if g.run >= settled {
			g.skipped += len(pcm)
			g.tail = append(g.tail, pcm...)
			if n := len(g.tail); n > dtmfBlock {
				g.tail = g.tail[:copy(g.tail, g.tail[n-dtmfBlock:])]
			}
			return nil
		}
		g.run += len(pcm)
	} else {
		g.run = 0
	}
	var keys []rune
	if g.skipped > 0 {
		if g.skipped > dtmfBlock {
			keys = append(keys, d.Feed(zeros[:(g.skipped-dtmfBlock)%dtmfHop])...)
		}
		keys = append(keys, d.Feed(g.tail)...)
		g.skipped, g.tail = 0, g.tail[:0]
	}
	return append(keys, d.Feed(pcm)...)
}

// quiet reports whether every sample of pcm is within quietLevel.
func quiet(pcm []int16) bool {
	for _, x := range pcm {
		if x > quietLevel || x < -quietLevel {
			return false
		}
	}
	return true
}
