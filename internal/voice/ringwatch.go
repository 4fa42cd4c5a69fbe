package voice

import (
	"bytes"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// ringWatch notes the 180 and 183 responses to the INVITEs we are waiting
// on, in the order they come off the socket.
//
// The SIP stack hands each response to its transaction on a goroutine of
// its own, so a 180 followed within a millisecond by a 480 can reach the
// transaction second, after it has completed, and be dropped unseen: the
// call would then count as "phone off" when it rang. Reading the bytes as
// the socket delivers them keeps the order the far end sent.
type ringWatch struct {
	mu      sync.Mutex
	waiting map[string]time.Time // Call-ID → first ring, zero until it rings
}

func newRingWatch() *ringWatch {
	return &ringWatch{waiting: make(map[string]time.Time)}
}

// watch starts noting rings for callID; forget stops and returns the first
// ring seen, if any.
func (w *ringWatch) watch(callID string) {
	w.mu.Lock()
	w.waiting[callID] = time.Time{}
	w.mu.Unlock()
}

func (w *ringWatch) forget(callID string) (time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	at, ok := w.waiting[callID]
	delete(w.waiting, callID)
	return at, ok && !at.IsZero()
}

// filter is a sip.TransportReadFilter: it reads data and passes it on
// unchanged. It never fails, since a failing filter stops the socket's
// reading. A TCP read may hold several messages, or part of one: each
// status line starts a message, and a Call-ID line belongs to the last one.
func (w *ringWatch) filter(_ sip.TransportReadProps, data []byte) ([]byte, error) {
	if !bytes.Contains(data, []byte("SIP/2.0 18")) {
		return data, nil
	}
	ringing := false
	for rest := data; len(rest) > 0; {
		line := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			rest = nil
		}
		line = bytes.TrimRight(line, "\r")
		if bytes.HasPrefix(line, []byte("SIP/2.0 ")) {
			code := line[len("SIP/2.0 "):]
			ringing = bytes.HasPrefix(code, []byte("180")) || bytes.HasPrefix(code, []byte("183"))
			continue
		}
		if !ringing {
			continue
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		name = bytes.TrimSpace(name)
		if !bytes.EqualFold(name, []byte("Call-ID")) && !bytes.EqualFold(name, []byte("i")) {
			continue
		}
		id := string(bytes.TrimSpace(value))
		ringing = false
		w.mu.Lock()
		if at, ok := w.waiting[id]; ok && at.IsZero() {
			w.waiting[id] = time.Now()
		}
		w.mu.Unlock()
	}
	return data, nil
}
