// Package media owns the audio of a call, below SIP and above the UDP
// socket: the G.711 codecs (µ-law and A-law), RFC 4733 telephone-events in
// both directions, in-band DTMF detection for trunks that send none, the
// 8 kHz WAV prompts, and the 20 ms pacing of outgoing frames. It knows
// nothing of sessions, dialogs or sockets; the call engine feeds it packets
// and samples.
package media
