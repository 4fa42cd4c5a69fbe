package media

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/pion/rtp"

	"github.com/richiamo/richiamo/internal/testkit"
)

// TestReceiverOnSIPpCaptures feeds the Receiver the packets SIPp sends,
// untouched, in the orders a scenario may play them. It runs where
// sip-tester is installed, as the call tests require.
func TestReceiverOnSIPpCaptures(t *testing.T) {
	t.Parallel()
	// Debian's sip-tester installs the RFC 4733 captures that the call
	// tests play to us with play_pcap_audio.
	captures := testkit.Need(t, "sipp-captures")
	names := map[rune]string{'*': "star", '#': "pound"}
	capture := func(key rune) []rtp.Packet {
		name, ok := names[key]
		if !ok {
			name = string(key)
		}
		pkts, err := readPcapRTP(filepath.Join(captures, "dtmf_2833_"+name+".pcap"))
		if err != nil {
			t.Fatal(err)
		}
		return pkts
	}
	tests := []struct {
		name string
		keys string
	}{
		{"every key alone", ""},
		{"a PIN in the captures' timestamp order", "1234"},
		{"a menu choice then confirmation, timestamps going backwards", "91"},
		{"the same key twice, the same recording replayed", "11"},
		{"all twelve keys", "0123456789*#"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.keys == "" {
				for _, k := range "0123456789*#" {
					if got := receive(NewReceiver(101), capture(k)); got != string(k) {
						t.Errorf("capture of %c gives %q", k, got)
					}
				}
				return
			}
			var stream []rtp.Packet
			for _, k := range tt.keys {
				stream = append(stream, capture(k)...)
			}
			if got := receive(NewReceiver(101), stream); got != tt.keys {
				t.Errorf("keys %q, want %q", got, tt.keys)
			}
		})
	}
}

// readPcapRTP reads the UDP payloads of a classic pcap file of Ethernet
// frames as RTP packets.
func readPcapRTP(path string) ([]rtp.Packet, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(data) < 24 {
		return nil, errors.New("pcap: short header")
	}
	var order binary.ByteOrder
	switch binary.LittleEndian.Uint32(data) {
	case 0xa1b2c3d4:
		order = binary.LittleEndian
	case 0xd4c3b2a1:
		order = binary.BigEndian
	default:
		return nil, errors.New("pcap: not a classic capture file")
	}
	if link := order.Uint32(data[20:]); link != 1 {
		return nil, errors.New("pcap: not Ethernet")
	}
	var out []rtp.Packet
	for b := data[24:]; len(b) >= 16; {
		n := int(order.Uint32(b[8:]))
		if len(b) < 16+n {
			return nil, errors.New("pcap: truncated record")
		}
		frame := b[16 : 16+n]
		b = b[16+n:]
		if len(frame) < 14+20+8 || frame[12] != 0x08 || frame[13] != 0x00 {
			continue // not IPv4
		}
		ip := frame[14:]
		ihl := int(ip[0]&0x0F) * 4
		if ip[9] != 17 || len(ip) < ihl+8 {
			continue // not UDP
		}
		var p rtp.Packet
		if err := p.Unmarshal(ip[ihl+8:]); err != nil {
			return nil, err
		}
		p.Payload = append([]byte(nil), p.Payload...)
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, errors.New("pcap: no RTP packets in " + filepath.Base(path))
	}
	return out, nil
}
