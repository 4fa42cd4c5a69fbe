package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// wavSpec describes a WAV file for wavFile to write.
type wavSpec struct {
	format     uint16
	channels   uint16
	rate       uint32
	bits       uint16
	extensible bool   // write WAVE_FORMAT_EXTENSIBLE with format as the subformat
	before     []byte // chunks before fmt
	between    []byte // chunks between fmt and data
	data       []byte
	dataSize   *uint32 // overrides the data chunk's declared size
}

func chunk(id string, body []byte) []byte {
	b := append([]byte(id), binary.LittleEndian.AppendUint32(nil, uint32(len(body)))...)
	b = append(b, body...)
	if len(body)%2 == 1 {
		b = append(b, 0)
	}
	return b
}

func wavFile(s wavSpec) []byte {
	le := binary.LittleEndian
	blockAlign := s.channels * s.bits / 8
	var f []byte
	format := s.format
	if s.extensible {
		format = wavExtensible
	}
	f = le.AppendUint16(f, format)
	f = le.AppendUint16(f, s.channels)
	f = le.AppendUint32(f, s.rate)
	f = le.AppendUint32(f, s.rate*uint32(blockAlign))
	f = le.AppendUint16(f, blockAlign)
	f = le.AppendUint16(f, s.bits)
	if s.extensible {
		f = le.AppendUint16(f, 22)
		f = le.AppendUint16(f, s.bits)
		f = le.AppendUint32(f, 0x4) // front centre
		f = le.AppendUint16(f, s.format)
		f = append(f, wavSubformatTail...)
	}
	body := []byte("WAVE")
	body = append(body, s.before...)
	body = append(body, chunk("fmt ", f)...)
	body = append(body, s.between...)
	data := chunk("data", s.data)
	if s.dataSize != nil {
		le.PutUint32(data[4:], *s.dataSize)
	}
	body = append(body, data...)
	return append(append([]byte("RIFF"), le.AppendUint32(nil, uint32(len(body)))...), body...)
}

func pcmBytes(pcm []int16) []byte {
	var b []byte
	for _, s := range pcm {
		b = binary.LittleEndian.AppendUint16(b, uint16(s))
	}
	return b
}

func ramp(n int) []int16 {
	pcm := make([]int16, n)
	for i := range pcm {
		pcm[i] = int16(9000 * math.Sin(float64(i)/5))
	}
	return pcm
}

func TestReadWAV(t *testing.T) {
	t.Parallel()
	pcm := ramp(500)
	ulaw, alaw := EncodeUlaw(pcm, nil), EncodeAlaw(pcm, nil)
	unknown := uint32(0xFFFFFFFF)
	tests := []struct {
		name string
		file []byte
		want []int16
	}{
		{"16-bit PCM", wavFile(wavSpec{format: 1, channels: 1, rate: 8000, bits: 16, data: pcmBytes(pcm)}), pcm},
		{"µ-law", wavFile(wavSpec{format: 7, channels: 1, rate: 8000, bits: 8, data: ulaw}), DecodeUlaw(ulaw, nil)},
		{"A-law", wavFile(wavSpec{format: 6, channels: 1, rate: 8000, bits: 8, data: alaw}), DecodeAlaw(alaw, nil)},
		{"16-bit PCM, extensible", wavFile(wavSpec{format: 1, channels: 1, rate: 8000, bits: 16, extensible: true, data: pcmBytes(pcm)}), pcm},
		{"µ-law, extensible", wavFile(wavSpec{format: 7, channels: 1, rate: 8000, bits: 8, extensible: true, data: ulaw}), DecodeUlaw(ulaw, nil)},
		{"other chunks around fmt are skipped, odd sizes padded", wavFile(wavSpec{format: 1, channels: 1, rate: 8000, bits: 16,
			before: chunk("JUNK", []byte{1, 2, 3}), between: append(chunk("LIST", []byte("INFOISFT\x05\x00\x00\x00Lavf\x00")), chunk("fact", []byte{0xF4, 1, 0, 0})...),
			data: pcmBytes(pcm)}), pcm},
		{"data of unknown length runs to the end", wavFile(wavSpec{format: 1, channels: 1, rate: 8000, bits: 16, data: pcmBytes(pcm), dataSize: &unknown}), pcm},
		{"no audio at all", wavFile(wavSpec{format: 1, channels: 1, rate: 8000, bits: 16}), []int16{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, err := ReadWAV(bytes.NewReader(tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(a.Samples, tt.want) {
				t.Errorf("%d samples, want %d; first %v", len(a.Samples), len(tt.want), a.Samples[:min(5, len(a.Samples))])
			}
		})
	}
}

func TestReadWAVFromAnotherWriter(t *testing.T) {
	t.Parallel()
	// Written by Python's wave module: 2000 samples of 440 Hz at amplitude
	// 8000.
	f, err := os.Open("testdata/tone-pcm16.wav")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	a, err := ReadWAV(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Samples) != 2000 || a.Duration() != 250*time.Millisecond {
		t.Fatalf("%d samples, %s", len(a.Samples), a.Duration())
	}
	for _, i := range []int{0, 1, 5, 1999} {
		want := int16(math.Round(8000 * math.Sin(2*math.Pi*440*float64(i)/8000)))
		if a.Samples[i] != want {
			t.Errorf("sample %d = %d, want %d", i, a.Samples[i], want)
		}
	}
}

func TestReadWAVErrors(t *testing.T) {
	t.Parallel()
	pcm := pcmBytes(ramp(100))
	good := wavFile(wavSpec{format: 1, channels: 1, rate: 8000, bits: 16, data: pcm})
	big := uint32(1 << 30)
	declared := uint32(len(pcm) + 100)
	tests := []struct {
		name        string
		file        []byte
		want        string
		unsupported bool // errors.Is(err, ErrWAVFormat)
	}{
		{"a prompt at 22050 Hz, as espeak-ng writes it", wavFile(wavSpec{format: 1, channels: 1, rate: 22050, bits: 16, data: pcm}), "sample rate 22050 Hz, want 8000 Hz", true},
		{"a stereo prompt", wavFile(wavSpec{format: 1, channels: 2, rate: 8000, bits: 16, data: pcm}), "2 channels, want 1 (mono)", true},
		{"CD audio names every problem", wavFile(wavSpec{format: 1, channels: 2, rate: 44100, bits: 16, data: pcm}), "2 channels, want 1 (mono); sample rate 44100 Hz, want 8000 Hz", true},
		{"8-bit PCM", wavFile(wavSpec{format: 1, channels: 1, rate: 8000, bits: 8, data: pcm}), "8-bit PCM, want 16-bit", true},
		{"24-bit PCM", wavFile(wavSpec{format: 1, channels: 1, rate: 8000, bits: 24, data: pcm}), "24-bit PCM, want 16-bit", true},
		{"floating point", wavFile(wavSpec{format: 3, channels: 1, rate: 8000, bits: 32, data: pcm}), "format 3 (IEEE float), want 1 (16-bit PCM), 6 (A-law) or 7 (µ-law)", true},
		{"GSM", wavFile(wavSpec{format: 0x31, channels: 1, rate: 8000, bits: 0, data: pcm}), "format 49 (GSM 6.10)", true},
		{"µ-law with 16 bits a sample", wavFile(wavSpec{format: 7, channels: 1, rate: 8000, bits: 16, data: pcm}), "µ-law with 16 bits a sample, want 8", true},
		{"the error says how to convert", wavFile(wavSpec{format: 1, channels: 1, rate: 16000, bits: 16, data: pcm}), "sox IN.wav -r 8000 -c 1", true},
		{"big-endian RIFX", append([]byte("RIFX"), good[4:]...), "RIFX container", true},
		{"an MP3 file", []byte("ID3\x03\x00\x00\x00\x00\x00\x00\xff\xfb"), `not a RIFF file (starts with "ID3\x03")`, false},
		{"an AVI file", append([]byte("RIFF\x04\x00\x00\x00AVI "), good[12:]...), `RIFF file of type "AVI ", not WAVE`, false},
		{"an empty file", nil, "reading the RIFF header: unexpected EOF", false},
		{"a header and nothing else", good[:12], "no fmt chunk", false},
		{"no data chunk", good[:12+8+16], "no data chunk", false},
		{"data before fmt", append(append([]byte(nil), good[:12]...), chunk("data", pcm)...), "data chunk before the fmt chunk", false},
		{"a short fmt chunk", append(append([]byte(nil), good[:12]...), chunk("fmt ", []byte{1, 0, 1, 0})...), "fmt chunk of 4 bytes, want 16 to 1024", false},
		{"cut short in the data", good[:len(good)-51], "data chunk declares 200 bytes but the file ends after 149", false},
		{"a data size beyond the data", wavFile(wavSpec{format: 1, channels: 1, rate: 8000, bits: 16, data: pcm, dataSize: &declared}), "declares 300 bytes but the file ends after 200", false},
		{"a data size beyond the limit", wavFile(wavSpec{format: 1, channels: 1, rate: 8000, bits: 16, data: pcm, dataSize: &big}), "more than the 67108864 accepted", false},
		{"half a sample", wavFile(wavSpec{format: 1, channels: 1, rate: 8000, bits: 16, data: pcm[:7]}), "data of 7 bytes is not a whole number of 16-bit samples", false},
		{"cut short in another chunk", append(append([]byte(nil), good[:12]...), []byte("LIST\xff\x00\x00\x00abc")...), `"LIST" chunk of 255 bytes cut short after 3`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ReadWAV(bytes.NewReader(tt.file))
			if err == nil {
				t.Fatalf("ReadWAV accepted it")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to contain %q", err, tt.want)
			}
			if errors.Is(err, ErrWAVFormat) != tt.unsupported {
				t.Errorf("errors.Is(ErrWAVFormat) = %v, want %v", !tt.unsupported, tt.unsupported)
			}
		})
	}
}

func TestAudioFrames(t *testing.T) {
	t.Parallel()
	a := &Audio{Samples: ramp(2*FrameSamples + 10)}
	if a.Frames() != 3 || a.Duration() != 41250*time.Microsecond {
		t.Fatalf("%d frames, %s", a.Frames(), a.Duration())
	}
	if f := a.Frame(1); len(f) != FrameSamples || f[0] != a.Samples[FrameSamples] {
		t.Errorf("frame 1 is not the second 160 samples")
	}
	last := a.Frame(2)
	if len(last) != FrameSamples || last[9] != a.Samples[2*FrameSamples+9] || last[10] != 0 || last[159] != 0 {
		t.Errorf("the last frame is not padded with silence: %v", last[8:12])
	}
	for _, c := range []Codec{PCMU, PCMA} {
		p := a.Payloads(c)
		if len(p) != 3 {
			t.Fatalf("%s: %d payloads", c, len(p))
		}
		for i, b := range p {
			if len(b) != FrameSamples || !bytes.Equal(b, c.Encode(a.Frame(i), nil)) {
				t.Errorf("%s payload %d differs from the encoded frame", c, i)
			}
		}
		if p[2][159] != c.Silence() {
			t.Errorf("%s: padding encoded as %02X", c, p[2][159])
		}
		p[0] = append(p[0], 1) // payloads must not share capacity
		if p[1][0] != c.Encode(a.Frame(1), nil)[0] {
			t.Errorf("%s: appending to one payload changed the next", c)
		}
	}
	if (&Audio{}).Frames() != 0 || len((&Audio{}).Payloads(PCMA)) != 0 {
		t.Error("empty audio has frames")
	}
	joined := Concat(&Audio{Samples: []int16{1, 2}}, &Audio{}, &Audio{Samples: []int16{3}})
	if !slices.Equal(joined.Samples, []int16{1, 2, 3}) {
		t.Errorf("Concat = %v", joined.Samples)
	}
}

func FuzzReadWAV(f *testing.F) {
	pcm := pcmBytes(ramp(50))
	f.Add(wavFile(wavSpec{format: 1, channels: 1, rate: 8000, bits: 16, data: pcm}))
	f.Add(wavFile(wavSpec{format: 7, channels: 1, rate: 8000, bits: 8, data: pcm}))
	f.Add(wavFile(wavSpec{format: 6, channels: 1, rate: 8000, bits: 8, extensible: true, data: pcm}))
	f.Add(wavFile(wavSpec{format: 1, channels: 2, rate: 44100, bits: 16, data: pcm}))
	f.Add(wavFile(wavSpec{format: 1, channels: 1, rate: 8000, bits: 16, before: chunk("JUNK", []byte{1}), data: pcm[:9]}))
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVE"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, file []byte) {
		a, err := ReadWAV(bytes.NewReader(file))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "wav: ") {
				t.Fatalf("error without the wav prefix: %v", err)
			}
			return
		}
		if len(a.Samples) > len(file) {
			t.Fatalf("%d samples from %d bytes", len(a.Samples), len(file))
		}
		// What was read survives being written and read again.
		again, err := ReadWAV(bytes.NewReader(wavFile(wavSpec{format: 1, channels: 1, rate: 8000, bits: 16, data: pcmBytes(a.Samples)})))
		if err != nil || !slices.Equal(again.Samples, a.Samples) {
			t.Fatalf("rewritten: %v", err)
		}
		for i := range a.Frames() {
			if len(a.Frame(i)) != FrameSamples {
				t.Fatalf("frame %d is %d samples", i, len(a.Frame(i)))
			}
		}
	})
}
