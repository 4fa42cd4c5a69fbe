package voice

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"

	"github.com/richiamo/richiamo/internal/voice/media"
)

// EventPayloadType is the payload type we offer for RFC 4733
// telephone-events. 101 is what most equipment uses, and what the
// captures SIPp replays carry.
const EventPayloadType = 101

// ErrNoAudio is returned for an SDP answer without a usable audio stream:
// no m=audio line, a rejected one (port 0), or none of our codecs.
var ErrNoAudio = errors.New("sdp: no usable audio stream")

// format is one payload type of an m=audio line with its rtpmap.
type format struct {
	pt   uint8
	name string // "PCMA/8000"
	fmtp string
}

// offerFormats are our codecs in order of preference: A-law first, which
// Italian trunks use natively, then µ-law, then the keypad events.
var offerFormats = []format{
	{pt: uint8(media.PCMA), name: "PCMA/8000"},
	{pt: uint8(media.PCMU), name: "PCMU/8000"},
	{pt: EventPayloadType, name: "telephone-event/8000", fmtp: "0-15"},
}

// Offer is the SDP of our INVITE: audio on ip:port, PCMA, PCMU and
// telephone-events, 20 ms packets, both directions. version goes into the
// o= line; a later description of the same session must increase it.
func Offer(ip netip.Addr, port int, sessionID, version uint64) ([]byte, error) {
	return describe(ip, port, sessionID, version, offerFormats)
}

// describe writes a session description with one audio stream of formats.
func describe(ip netip.Addr, port int, sessionID, version uint64, formats []format) ([]byte, error) {
	if !ip.IsValid() || ip.IsUnspecified() {
		return nil, fmt.Errorf("sdp: %v is not an address the far end can send audio to", ip)
	}
	if port <= 0 || port > 65535 {
		return nil, fmt.Errorf("sdp: port %d", port)
	}
	addrType := "IP4"
	if ip.Is6() && !ip.Is4In6() {
		addrType = "IP6"
	}
	ip = ip.Unmap()
	md := &sdp.MediaDescription{
		MediaName: sdp.MediaName{
			Media:  "audio",
			Port:   sdp.RangedPort{Value: port},
			Protos: []string{"RTP", "AVP"},
		},
	}
	for _, f := range formats {
		pt := strconv.Itoa(int(f.pt))
		md.MediaName.Formats = append(md.MediaName.Formats, pt)
		md.Attributes = append(md.Attributes, sdp.NewAttribute("rtpmap", pt+" "+f.name))
		if f.fmtp != "" {
			md.Attributes = append(md.Attributes, sdp.NewAttribute("fmtp", pt+" "+f.fmtp))
		}
	}
	md.Attributes = append(md.Attributes,
		sdp.NewAttribute("ptime", "20"),
		sdp.NewPropertyAttribute("sendrecv"),
	)
	s := &sdp.SessionDescription{
		Origin: sdp.Origin{
			Username:       "richiamo",
			SessionID:      sessionID,
			SessionVersion: version,
			NetworkType:    "IN",
			AddressType:    addrType,
			UnicastAddress: ip.String(),
		},
		SessionName: "richiamo",
		ConnectionInformation: &sdp.ConnectionInformation{
			NetworkType: "IN",
			AddressType: addrType,
			Address:     &sdp.Address{Address: ip.String()},
		},
		TimeDescriptions:  []sdp.TimeDescription{{}},
		MediaDescriptions: []*sdp.MediaDescription{md},
	}
	return s.Marshal()
}

// Answer is what the far end's SDP tells us about its audio.
type Answer struct {
	// Addr is where to send our RTP.
	Addr netip.AddrPort
	// Codec is the G.711 law to send, the first of ours the far end listed.
	Codec media.Codec
	// PayloadType is the payload type the far end gave that codec (the
	// static 8 or 0 almost always).
	PayloadType uint8
	// EventPayloadType is the far end's telephone-event payload type;
	// valid only when Events is true.
	EventPayloadType uint8
	Events           bool
}

// ParseAnswer reads the far end's SDP: the first audio stream that is not
// rejected, its address (the stream's c= line, or the session's), the
// first G.711 law in its order of preference and its telephone-event
// payload type, if any.
func ParseAnswer(body []byte) (Answer, error) {
	var s sdp.SessionDescription
	if err := s.Unmarshal(body); err != nil {
		return Answer{}, fmt.Errorf("sdp: %w", err)
	}
	for _, md := range s.MediaDescriptions {
		if md.MediaName.Media != "audio" || md.MediaName.Port.Value == 0 {
			continue
		}
		if proto := strings.Join(md.MediaName.Protos, "/"); proto != "RTP/AVP" {
			return Answer{}, fmt.Errorf("sdp: audio over %s, only RTP/AVP is supported: %w", proto, ErrNoAudio)
		}
		ci := md.ConnectionInformation
		if ci == nil {
			ci = s.ConnectionInformation
		}
		if ci == nil || ci.Address == nil {
			return Answer{}, errors.New("sdp: no connection address (c=) for the audio stream")
		}
		host, _, _ := strings.Cut(ci.Address.Address, "/") // a multicast TTL would follow
		ip, err := netip.ParseAddr(host)
		if err != nil {
			return Answer{}, fmt.Errorf("sdp: connection address %q is not an IP address", ci.Address.Address)
		}
		if ip.IsUnspecified() {
			return Answer{}, fmt.Errorf("sdp: connection address %s puts the call on hold", ip)
		}
		port := md.MediaName.Port.Value
		if port < 1 || port > 65535 {
			return Answer{}, fmt.Errorf("sdp: audio port %d", port)
		}
		a := Answer{Addr: netip.AddrPortFrom(ip.Unmap(), uint16(port))}
		names := rtpmaps(md)
		found := false
		for _, f := range md.MediaName.Formats {
			n, err := strconv.ParseUint(f, 10, 7)
			if err != nil {
				continue
			}
			pt := uint8(n)
			name, mapped := names[pt]
			switch {
			case !found && (strings.EqualFold(name, "PCMA/8000") || (!mapped && pt == uint8(media.PCMA))):
				a.Codec, a.PayloadType, found = media.PCMA, pt, true
			case !found && (strings.EqualFold(name, "PCMU/8000") || (!mapped && pt == uint8(media.PCMU))):
				a.Codec, a.PayloadType, found = media.PCMU, pt, true
			case strings.EqualFold(name, "telephone-event/8000") && !a.Events:
				a.EventPayloadType, a.Events = pt, true
			}
		}
		if !found {
			return Answer{}, fmt.Errorf("sdp: audio formats %v include neither PCMA nor PCMU: %w", md.MediaName.Formats, ErrNoAudio)
		}
		return a, nil
	}
	return Answer{}, ErrNoAudio
}

// rtpmaps reads a stream's a=rtpmap lines: payload type to "NAME/rate".
func rtpmaps(md *sdp.MediaDescription) map[uint8]string {
	m := map[uint8]string{}
	for _, at := range md.Attributes {
		if at.Key != "rtpmap" {
			continue
		}
		pt, name, ok := strings.Cut(strings.TrimSpace(at.Value), " ")
		n, err := strconv.ParseUint(pt, 10, 7)
		if !ok || err != nil {
			continue
		}
		// Drop a channel count ("PCMA/8000/1"): telephone audio is mono.
		name = strings.TrimSpace(name)
		if parts := strings.Split(name, "/"); len(parts) == 3 && parts[2] == "1" {
			name = parts[0] + "/" + parts[1]
		}
		m[uint8(n)] = name
	}
	return m
}
