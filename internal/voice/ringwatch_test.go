package voice

import (
	"testing"

	"github.com/emiago/sipgo/sip"
)

func TestRingWatchReadsRingsInSocketOrder(t *testing.T) {
	w := newRingWatch()
	w.watch("a@x")
	w.watch("b@x")
	w.watch("c@x")
	// One TCP read: a 100 for a, a 180 for b (compact Call-ID), then a 480
	// for c, which never rang.
	data := []byte("SIP/2.0 100 Trying\r\nCall-ID: a@x\r\nContent-Length: 0\r\n\r\n" +
		"SIP/2.0 180 Ringing\r\nVia: SIP/2.0/TCP h\r\ni:  b@x \r\nContent-Length: 0\r\n\r\n" +
		"SIP/2.0 480 Temporarily Unavailable\r\ncall-id: c@x\r\nContent-Length: 0\r\n\r\n")
	out, err := w.filter(sip.TransportReadProps{}, data)
	if err != nil || string(out) != string(data) {
		t.Fatalf("filter changed the data or failed: %v", err)
	}
	// A ring for a call nobody waits on is not kept.
	if _, err := w.filter(sip.TransportReadProps{}, []byte("SIP/2.0 183 Session Progress\r\nCall-ID: z@x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]bool{"a@x": false, "b@x": true, "c@x": false, "z@x": false} {
		if _, got := w.forget(id); got != want {
			t.Errorf("%s rang=%v, want %v", id, got, want)
		}
	}
	if len(w.waiting) != 0 {
		t.Errorf("%d calls still watched", len(w.waiting))
	}
}
