package twiliotest

import (
	"fmt"
	"strings"
	"time"
)

type faultKind int

const (
	faultNone faultKind = iota
	faultStatus
	faultDrop
	faultStall
	faultDelivery
	faultDropBefore
)

// Fault is a scripted misbehaviour of one send. Faults are consumed by the
// sends that pass authentication, validation and the rate limit, in order.
type Fault struct {
	kind   faultKind
	status int
	code   int
	msg    string
	d      time.Duration
}

// Status answers the send with Twilio's error JSON for that HTTP status and
// error code; the message is not created.
func Status(httpStatus, code int, msg string) Fault {
	return Fault{kind: faultStatus, status: httpStatus, code: code, msg: msg}
}

// AcceptThenDrop creates the message (it is delivered as usual) and closes
// the connection without answering, so the client cannot know the outcome.
func AcceptThenDrop() Fault { return Fault{kind: faultDrop} }

// Drop closes the connection without answering and without creating the
// message, like a network failure on the way in.
func Drop() Fault { return Fault{kind: faultDropBefore} }

// Stall creates the message at once and holds the answer back for d, or
// until the client hangs up or the server closes, like a provider that
// processed the request but is slow to say so.
func Stall(d time.Duration) Fault { return Fault{kind: faultStall, d: d} }

// DeliveryFails accepts the message and then reports it undelivered (or
// failed, for codes that Twilio reports before sending) with that error code,
// e.g. 30003 unreachable handset, 30005 unknown destination, 30006 landline.
func DeliveryFails(code int) Fault { return Fault{kind: faultDelivery, code: code} }

func (f Fault) String() string {
	switch f.kind {
	case faultStatus:
		return fmt.Sprintf("Status(%d, %d)", f.status, f.code)
	case faultDrop:
		return "AcceptThenDrop"
	case faultStall:
		return fmt.Sprintf("Stall(%s)", f.d)
	case faultDelivery:
		return fmt.Sprintf("DeliveryFails(%d)", f.code)
	case faultDropBefore:
		return "Drop"
	default:
		return "none"
	}
}

// failsBeforeSending lists the codes Twilio reports with status "failed",
// without a "sent" first; the other delivery errors come as "undelivered".
var failsBeforeSending = map[int]bool{
	30001: true, // queue overflow
	30002: true, // account suspended
	30500: true,
}

// FaultNames are the faults ParseFault reads, as `richiamo simulate twilio
// --fault` and /control/fault take them.
const FaultNames = "429 (rate limited), 500 or 503 (server error),\n  drop (connection closed, no message), lost (message created, answer lost),\n  undelivered (accepted, then reported undelivered: 30003)"

// ParseFault reads a fault by name (see FaultNames).
func ParseFault(name string) (Fault, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "429":
		return Status(429, 20429, "Too Many Requests"), nil
	case "500":
		return Status(500, 20500, "Internal Server Error"), nil
	case "503":
		return Status(503, 20503, "Service Unavailable"), nil
	case "drop":
		return Drop(), nil
	case "lost":
		return AcceptThenDrop(), nil
	case "undelivered":
		return DeliveryFails(30003), nil
	}
	return Fault{}, fmt.Errorf("twiliotest: %q is not a fault: want one of %s", name, FaultNames)
}
