package voice

import "net/netip"

// ParseOffer reads the SDP offer of an incoming INVITE, for the answering
// side (the simulated patients): the same reading as ParseAnswer, so the
// codec is the first G.711 law the caller listed, with its payload type,
// and the telephone-event payload type is the caller's.
func ParseOffer(body []byte) (Answer, error) {
	return ParseAnswer(body)
}

// AnswerSDP is the SDP answer to an offer read by ParseOffer: audio on
// ip:port in the offer's chosen codec, under the offer's payload type, and
// telephone-events under the offer's payload type when it offered them.
func AnswerSDP(ip netip.Addr, port int, sessionID, version uint64, offer Answer) ([]byte, error) {
	formats := []format{{pt: offer.PayloadType, name: offer.Codec.String() + "/8000"}}
	if offer.Events {
		formats = append(formats, format{pt: offer.EventPayloadType, name: "telephone-event/8000", fmtp: "0-15"})
	}
	return describe(ip, port, sessionID, version, formats)
}
