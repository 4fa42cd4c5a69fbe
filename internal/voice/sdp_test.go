package voice

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/richiamo/richiamo/internal/voice/media"
)

func TestOfferListsOurCodecsAndAddress(t *testing.T) {
	t.Parallel()
	body, err := Offer(netip.MustParseAddr("192.0.2.10"), 10002, 42, 1)
	if err != nil {
		t.Fatal(err)
	}
	s := string(body)
	for _, line := range []string{
		"o=richiamo 42 1 IN IP4 192.0.2.10",
		"c=IN IP4 192.0.2.10",
		"m=audio 10002 RTP/AVP 8 0 101",
		"a=rtpmap:8 PCMA/8000",
		"a=rtpmap:0 PCMU/8000",
		"a=rtpmap:101 telephone-event/8000",
		"a=fmtp:101 0-15",
		"a=ptime:20",
		"a=sendrecv",
	} {
		if !strings.Contains(s, line+"\r\n") {
			t.Errorf("offer lacks %q:\n%s", line, s)
		}
	}
	a, err := ParseAnswer(body)
	if err != nil {
		t.Fatal(err)
	}
	want := Answer{Addr: netip.MustParseAddrPort("192.0.2.10:10002"), Codec: media.PCMA, PayloadType: 8, EventPayloadType: 101, Events: true}
	if a != want {
		t.Errorf("our own offer reads back as %+v, want %+v", a, want)
	}
	if _, err := Offer(netip.IPv4Unspecified(), 10002, 1, 1); err == nil {
		t.Error("an offer on 0.0.0.0 was written")
	}
}

func TestParseAnswer(t *testing.T) {
	t.Parallel()
	const head = "v=0\r\no=- 1 1 IN IP4 198.51.100.7\r\ns=-\r\nc=IN IP4 198.51.100.7\r\nt=0 0\r\n"
	tests := []struct {
		name    string
		sdp     string
		want    Answer
		wantErr error // nil: success; errAny: any error
	}{
		{
			name: "trunk answers A-law and events",
			sdp:  head + "m=audio 30000 RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n",
			want: Answer{Addr: netip.MustParseAddrPort("198.51.100.7:30000"), Codec: media.PCMA, PayloadType: 8, EventPayloadType: 101, Events: true},
		},
		{
			name: "only PCMU, no events: digits come in-band",
			sdp:  head + "m=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n",
			want: Answer{Addr: netip.MustParseAddrPort("198.51.100.7:4000"), Codec: media.PCMU, PayloadType: 0},
		},
		{
			name: "telephone-event on payload type 96",
			sdp:  head + "m=audio 4000 RTP/AVP 0 96\r\na=rtpmap:96 telephone-event/8000\r\n",
			want: Answer{Addr: netip.MustParseAddrPort("198.51.100.7:4000"), Codec: media.PCMU, PayloadType: 0, EventPayloadType: 96, Events: true},
		},
		{
			name: "static payload types without rtpmap, far end prefers µ-law",
			sdp:  head + "m=audio 4000 RTP/AVP 0 8\r\n",
			want: Answer{Addr: netip.MustParseAddrPort("198.51.100.7:4000"), Codec: media.PCMU, PayloadType: 0},
		},
		{
			name: "stream address overrides the session's",
			sdp:  head + "m=audio 5004 RTP/AVP 8\r\nc=IN IP4 203.0.113.9\r\n",
			want: Answer{Addr: netip.MustParseAddrPort("203.0.113.9:5004"), Codec: media.PCMA, PayloadType: 8},
		},
		{
			name: "video rejected, audio second",
			sdp:  head + "m=video 0 RTP/AVP 96\r\nm=audio 6000 RTP/AVP 8\r\n",
			want: Answer{Addr: netip.MustParseAddrPort("198.51.100.7:6000"), Codec: media.PCMA, PayloadType: 8},
		},
		{
			name:    "no audio stream at all",
			sdp:     head + "m=video 5000 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n",
			wantErr: ErrNoAudio,
		},
		{
			name:    "audio stream rejected with port 0",
			sdp:     head + "m=audio 0 RTP/AVP 8\r\n",
			wantErr: ErrNoAudio,
		},
		{
			name:    "only G.729",
			sdp:     head + "m=audio 4000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n",
			wantErr: ErrNoAudio,
		},
		{
			name:    "encrypted audio",
			sdp:     head + "m=audio 4000 RTP/SAVP 8\r\n",
			wantErr: ErrNoAudio,
		},
		{
			name:    "old-style hold on 0.0.0.0",
			sdp:     "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 4000 RTP/AVP 8\r\n",
			wantErr: errAny,
		},
		{
			name:    "not SDP",
			sdp:     "SIP/2.0 200 OK\r\n",
			wantErr: errAny,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseAnswer([]byte(tt.sdp))
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("error %v", err)
			case tt.wantErr == nil && got != tt.want:
				t.Fatalf("got %+v, want %+v", got, tt.want)
			case tt.wantErr == errAny && err == nil:
				t.Fatalf("accepted as %+v", got)
			case tt.wantErr != nil && tt.wantErr != errAny && !errors.Is(err, tt.wantErr):
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
		})
	}
}

var errAny = errors.New("any error")

func FuzzParseAnswer(f *testing.F) {
	offer, _ := Offer(netip.MustParseAddr("192.0.2.1"), 10000, 1, 1)
	f.Add(offer)
	f.Add([]byte("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 96\r\na=rtpmap:96 telephone-event/8000\r\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		a, err := ParseAnswer(body)
		if err != nil {
			return
		}
		if !a.Addr.IsValid() || a.Addr.Port() == 0 || (a.Codec != media.PCMA && a.Codec != media.PCMU) {
			t.Fatalf("accepted an unusable answer %+v", a)
		}
	})
}
