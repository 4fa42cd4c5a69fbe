package media

import (
	"fmt"
	"time"
)

// The telephone audio every codec here speaks: 8 kHz mono, 20 ms frames.
const (
	SampleRate    = 8000
	FrameSamples  = 160
	FrameDuration = 20 * time.Millisecond
)

// Codec is a G.711 law, numbered by its static RTP payload type (RFC 3551).
type Codec uint8

// The two G.711 laws: PCMU (µ-law, North America and Japan) and PCMA
// (A-law, Europe, what Italian trunks prefer).
const (
	PCMU Codec = 0
	PCMA Codec = 8
)

// CodecFor is the codec of an RTP payload type, if it is one of the two.
func CodecFor(payloadType uint8) (Codec, bool) {
	switch Codec(payloadType) {
	case PCMU, PCMA:
		return Codec(payloadType), true
	}
	return 0, false
}

// PayloadType is the static RTP payload type of the codec.
func (c Codec) PayloadType() uint8 { return uint8(c) }

// String is the codec's encoding name in SDP ("PCMU", "PCMA").
func (c Codec) String() string {
	switch c {
	case PCMU:
		return "PCMU"
	case PCMA:
		return "PCMA"
	}
	return fmt.Sprintf("Codec(%d)", uint8(c))
}

// Silence is the code of a zero sample: 0xFF in µ-law, 0xD5 in A-law.
func (c Codec) Silence() byte {
	if c == PCMA {
		return alawSilence
	}
	return ulawSilence
}

// Encode appends the G.711 codes of pcm to dst and returns the result.
// c must be PCMU or PCMA.
func (c Codec) Encode(pcm []int16, dst []byte) []byte {
	switch c {
	case PCMU:
		return EncodeUlaw(pcm, dst)
	case PCMA:
		return EncodeAlaw(pcm, dst)
	}
	panic(fmt.Sprintf("media: Encode with %s, not a G.711 codec", c))
}

// Decode appends the samples of payload to dst and returns the result.
// c must be PCMU or PCMA.
func (c Codec) Decode(payload []byte, dst []int16) []int16 {
	switch c {
	case PCMU:
		return DecodeUlaw(payload, dst)
	case PCMA:
		return DecodeAlaw(payload, dst)
	}
	panic(fmt.Sprintf("media: Decode with %s, not a G.711 codec", c))
}

const (
	ulawSilence = 0xFF
	alawSilence = 0xD5
)

// The tables follow the ITU-T G.191 reference implementation of G.711
// (ulaw_compress, ulaw_expand, alaw_compress, alaw_expand), computed once.
// µ-law keeps the 14 most significant bits of a sample and A-law the 12,
// so the encoders index by the sample shifted right by 2 and 4 bits.
var (
	ulawDecode = makeUlawDecode()
	alawDecode = makeAlawDecode()
	ulawEncode = makeUlawEncode()
	alawEncode = makeAlawEncode()
)

// EncodeUlaw appends the µ-law codes of pcm to dst and returns the result.
func EncodeUlaw(pcm []int16, dst []byte) []byte {
	n := len(dst)
	dst = grow(dst, len(pcm))
	out := dst[n : n+len(pcm)]
	for i, s := range pcm {
		out[i] = ulawEncode[uint16(s)>>2]
	}
	return dst
}

// DecodeUlaw appends the samples of µ-law codes to dst and returns the
// result.
func DecodeUlaw(codes []byte, dst []int16) []int16 {
	n := len(dst)
	dst = growPCM(dst, len(codes))
	out := dst[n : n+len(codes)]
	for i, c := range codes {
		out[i] = ulawDecode[c]
	}
	return dst
}

// EncodeAlaw appends the A-law codes of pcm to dst and returns the result.
func EncodeAlaw(pcm []int16, dst []byte) []byte {
	n := len(dst)
	dst = grow(dst, len(pcm))
	out := dst[n : n+len(pcm)]
	for i, s := range pcm {
		out[i] = alawEncode[uint16(s)>>4]
	}
	return dst
}

// DecodeAlaw appends the samples of A-law codes to dst and returns the
// result.
func DecodeAlaw(codes []byte, dst []int16) []int16 {
	n := len(dst)
	dst = growPCM(dst, len(codes))
	out := dst[n : n+len(codes)]
	for i, c := range codes {
		out[i] = alawDecode[c]
	}
	return dst
}

func grow(b []byte, n int) []byte {
	if cap(b)-len(b) < n {
		nb := make([]byte, len(b), len(b)+n)
		copy(nb, b)
		b = nb
	}
	return b[:len(b)+n]
}

func growPCM(b []int16, n int) []int16 {
	if cap(b)-len(b) < n {
		nb := make([]int16, len(b), len(b)+n)
		copy(nb, b)
		b = nb
	}
	return b[:len(b)+n]
}

// ulawCompress is G.191's ulaw_compress for one sample.
func ulawCompress(x int16) byte {
	var absno int32
	if x < 0 {
		absno = int32(^x>>2) + 33 // one's complement, as G.191 does
	} else {
		absno = int32(x>>2) + 33
	}
	absno = min(absno, 0x1FFF)
	segno := int32(1)
	for i := absno >> 6; i != 0; i >>= 1 {
		segno++
	}
	high := 8 - segno
	low := 0xF - (absno>>segno)&0xF
	code := byte(high<<4 | low)
	if x >= 0 {
		code |= 0x80
	}
	return code
}

// alawCompress is G.191's alaw_compress for one sample.
func alawCompress(x int16) byte {
	var ix int32
	if x < 0 {
		ix = int32(^x >> 4)
	} else {
		ix = int32(x >> 4)
	}
	if ix > 15 {
		exp := int32(1)
		for ix > 16+15 {
			ix >>= 1
			exp++
		}
		ix -= 16
		ix += exp << 4
	}
	if x >= 0 {
		ix |= 0x80
	}
	return byte(ix) ^ 0x55
}

func makeUlawDecode() (t [256]int16) {
	for c := range 256 {
		sign := int32(1)
		if c < 0x80 {
			sign = -1
		}
		m := ^int32(c)
		exp := (m >> 4) & 7
		mant := m & 0xF
		step := int32(4) << (exp + 1)
		t[c] = int16(sign * ((0x80 << exp) + step*mant + step/2 - 4*33))
	}
	return t
}

func makeAlawDecode() (t [256]int16) {
	for c := range 256 {
		ix := int32(c^0x55) & 0x7F
		exp := ix >> 4
		mant := ix & 0xF
		if exp > 0 {
			mant += 16
		}
		mant = mant<<4 + 8
		if exp > 1 {
			mant <<= exp - 1
		}
		if c > 127 {
			t[c] = int16(mant)
		} else {
			t[c] = int16(-mant)
		}
	}
	return t
}

// makeUlawEncode tabulates ulawCompress for every 14-bit value; index i
// stands for the samples whose top 14 bits are i.
func makeUlawEncode() *[1 << 14]byte {
	var t [1 << 14]byte
	for i := range t {
		t[i] = ulawCompress(int16(uint16(i) << 2))
	}
	return &t
}

// makeAlawEncode tabulates alawCompress for every 12-bit value.
func makeAlawEncode() *[1 << 12]byte {
	var t [1 << 12]byte
	for i := range t {
		t[i] = alawCompress(int16(uint16(i) << 4))
	}
	return &t
}
