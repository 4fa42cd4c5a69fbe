package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Audio is a prompt or a segment of one: 8 kHz mono samples, played in
// 20 ms frames.
type Audio struct {
	Samples []int16
}

// Duration is how long the audio plays.
func (a *Audio) Duration() time.Duration {
	return time.Duration(len(a.Samples)) * time.Second / SampleRate
}

// Frames is the number of 20 ms frames, the last one possibly partial.
func (a *Audio) Frames() int {
	return (len(a.Samples) + FrameSamples - 1) / FrameSamples
}

// Frame is frame i, FrameSamples long; the last frame is padded with
// silence, so it alone is a copy.
func (a *Audio) Frame(i int) []int16 {
	start := i * FrameSamples
	if end := start + FrameSamples; end <= len(a.Samples) {
		return a.Samples[start:end:end]
	}
	f := make([]int16, FrameSamples)
	copy(f, a.Samples[start:])
	return f
}

// Payloads encodes every frame for RTP with codec c, once, so that a prompt
// played on many calls is encoded once. The payloads share one array.
func (a *Audio) Payloads(c Codec) [][]byte {
	n := a.Frames()
	buf := make([]byte, 0, n*FrameSamples)
	out := make([][]byte, n)
	for i := range n {
		start := len(buf)
		buf = c.Encode(a.Frame(i), buf)
		out[i] = buf[start:len(buf):len(buf)]
	}
	return out
}

// Concat joins segments into one, as a spoken date is joined from "martedì",
// "1", "dicembre".
func Concat(parts ...*Audio) *Audio {
	n := 0
	for _, p := range parts {
		n += len(p.Samples)
	}
	out := &Audio{Samples: make([]int16, 0, n)}
	for _, p := range parts {
		out.Samples = append(out.Samples, p.Samples...)
	}
	return out
}

// ErrWAVFormat is wrapped by ReadWAV's errors for a well-formed file in a
// format prompts cannot use; other errors mean a damaged file.
var ErrWAVFormat = errors.New("unsupported WAV format")

// MaxWAVData bounds the audio ReadWAV accepts, 64 MiB (about 70 minutes of
// 16-bit audio), so that a damaged header cannot make it allocate without
// limit.
const MaxWAVData = 64 << 20

// WAV format codes.
const (
	wavPCM        = 1
	wavALaw       = 6
	wavMuLaw      = 7
	wavExtensible = 0xFFFE
)

// wavSubformatTail is the GUID of WAVE_FORMAT_EXTENSIBLE's subformat after
// its first two bytes, which carry the format code.
var wavSubformatTail = []byte{0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71}

// convertHint tells how to make a usable prompt out of any audio file.
const convertHint = "convert with: sox IN.wav -r 8000 -c 1 -b 16 -e signed-integer OUT.wav"

// ReadWAV reads a prompt: a WAV file of 8 kHz mono audio, 16-bit PCM
// (format 1), A-law (format 6) or µ-law (format 7), plain or
// WAVE_FORMAT_EXTENSIBLE. G.711 audio is decoded to samples. An error says
// what is wrong with the file: the sample rate, the channels, the format,
// or where it is damaged.
func ReadWAV(r io.Reader) (*Audio, error) {
	var hdr [12]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, fmt.Errorf("wav: reading the RIFF header: %w", noEOF(err))
	}
	if string(hdr[0:4]) != "RIFF" {
		if string(hdr[0:4]) == "RIFX" || string(hdr[0:4]) == "RF64" {
			return nil, fmt.Errorf("wav: %s container: %w (want little-endian RIFF)", hdr[0:4], ErrWAVFormat)
		}
		return nil, fmt.Errorf("wav: not a RIFF file (starts with %q)", hdr[0:4])
	}
	if string(hdr[8:12]) != "WAVE" {
		return nil, fmt.Errorf("wav: RIFF file of type %q, not WAVE", hdr[8:12])
	}
	var (
		format      uint16
		haveFmt     bool
		bits        uint16
		chunkHeader [8]byte
	)
	for {
		if _, err := io.ReadFull(r, chunkHeader[:]); err != nil {
			if errors.Is(err, io.EOF) {
				if !haveFmt {
					return nil, errors.New("wav: no fmt chunk")
				}
				return nil, errors.New("wav: no data chunk")
			}
			return nil, fmt.Errorf("wav: reading a chunk header: %w", noEOF(err))
		}
		id := string(chunkHeader[0:4])
		size := binary.LittleEndian.Uint32(chunkHeader[4:8])
		switch id {
		case "fmt ":
			if haveFmt {
				return nil, errors.New("wav: two fmt chunks")
			}
			if size < 16 || size > 1024 {
				return nil, fmt.Errorf("wav: fmt chunk of %d bytes, want 16 to 1024", size)
			}
			body := make([]byte, size+size%2)
			if _, err := io.ReadFull(r, body); err != nil {
				return nil, fmt.Errorf("wav: reading the fmt chunk: %w", noEOF(err))
			}
			var err error
			if format, bits, err = parseFmt(body[:size]); err != nil {
				return nil, err
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return nil, errors.New("wav: data chunk before the fmt chunk")
			}
			data, err := readData(r, size)
			if err != nil {
				return nil, err
			}
			return decodeWAV(format, bits, data)
		default:
			// LIST, fact, cue and the like carry nothing a prompt needs.
			skip := int64(size) + int64(size%2)
			if n, err := io.CopyN(io.Discard, r, skip); err != nil {
				return nil, fmt.Errorf("wav: %q chunk of %d bytes cut short after %d: %w", id, size, n, noEOF(err))
			}
		}
	}
}

// parseFmt checks the fmt chunk and returns the format code and bits per
// sample.
func parseFmt(b []byte) (format, bits uint16, err error) {
	format = binary.LittleEndian.Uint16(b[0:2])
	channels := binary.LittleEndian.Uint16(b[2:4])
	rate := binary.LittleEndian.Uint32(b[4:8])
	bits = binary.LittleEndian.Uint16(b[14:16])
	if format == wavExtensible {
		if len(b) < 40 || !bytes.Equal(b[26:40], wavSubformatTail) {
			return 0, 0, fmt.Errorf("wav: extensible format without a known subformat: %w (%s)", ErrWAVFormat, convertHint)
		}
		format = binary.LittleEndian.Uint16(b[24:26])
	}
	var problems []string
	switch format {
	case wavPCM:
		if bits != 16 {
			problems = append(problems, fmt.Sprintf("%d-bit PCM, want 16-bit", bits))
		}
	case wavALaw, wavMuLaw:
		if bits != 8 {
			problems = append(problems, fmt.Sprintf("%s with %d bits a sample, want 8", formatName(format), bits))
		}
	default:
		problems = append(problems, fmt.Sprintf("format %d (%s), want 1 (16-bit PCM), 6 (A-law) or 7 (µ-law)", format, formatName(format)))
	}
	if channels != 1 {
		problems = append(problems, fmt.Sprintf("%d channels, want 1 (mono)", channels))
	}
	if rate != SampleRate {
		problems = append(problems, fmt.Sprintf("sample rate %d Hz, want %d Hz", rate, SampleRate))
	}
	if len(problems) > 0 {
		return 0, 0, fmt.Errorf("wav: %s: %w (%s)", strings.Join(problems, "; "), ErrWAVFormat, convertHint)
	}
	return format, bits, nil
}

func formatName(f uint16) string {
	switch f {
	case wavPCM:
		return "PCM"
	case 3:
		return "IEEE float"
	case wavALaw:
		return "A-law"
	case wavMuLaw:
		return "µ-law"
	case 2:
		return "Microsoft ADPCM"
	case 0x11:
		return "IMA ADPCM"
	case 0x31:
		return "GSM 6.10"
	case 0x55:
		return "MP3"
	}
	return "unknown"
}

// readData reads the data chunk. A size of 0xFFFFFFFF, which writers that
// cannot seek back leave, means the data runs to the end of the file.
func readData(r io.Reader, size uint32) ([]byte, error) {
	if size == 0xFFFFFFFF {
		data, err := io.ReadAll(io.LimitReader(r, MaxWAVData+1))
		if err != nil {
			return nil, fmt.Errorf("wav: reading the data: %w", err)
		}
		if len(data) > MaxWAVData {
			return nil, fmt.Errorf("wav: more than %d bytes of audio", MaxWAVData)
		}
		return data, nil
	}
	if size > MaxWAVData {
		return nil, fmt.Errorf("wav: data chunk of %d bytes, more than the %d accepted", size, MaxWAVData)
	}
	// Read through a limit rather than allocating size up front: the header
	// may promise more than the file holds.
	data, err := io.ReadAll(io.LimitReader(r, int64(size)))
	if err != nil {
		return nil, fmt.Errorf("wav: reading the data: %w", err)
	}
	if len(data) < int(size) {
		return nil, fmt.Errorf("wav: data chunk declares %d bytes but the file ends after %d (cut short?)", size, len(data))
	}
	return data, nil
}

func decodeWAV(format, bits uint16, data []byte) (*Audio, error) {
	switch format {
	case wavALaw:
		return &Audio{Samples: DecodeAlaw(data, nil)}, nil
	case wavMuLaw:
		return &Audio{Samples: DecodeUlaw(data, nil)}, nil
	}
	if len(data)%2 != 0 {
		return nil, fmt.Errorf("wav: data of %d bytes is not a whole number of %d-bit samples", len(data), bits)
	}
	pcm := make([]int16, len(data)/2)
	for i := range pcm {
		pcm[i] = int16(binary.LittleEndian.Uint16(data[2*i:]))
	}
	return &Audio{Samples: pcm}, nil
}

// noEOF turns an end of file in the middle of a structure into the
// unexpected end it is.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
