package voice

// Outcome is how a call attempt ended, as the attempt records, the retry
// rules and the service-level reports count it.
type Outcome string

// The outcomes of a call attempt.
const (
	// Answered: the patient (or their voicemail) picked up.
	Answered Outcome = "answered"
	// Busy: the line was busy (486, 600).
	Busy Outcome = "busy"
	// NoAnswer: it rang and nobody picked up, whether our ring timeout
	// expired or the network gave up first (408, or 480 after ringing).
	NoAnswer Outcome = "no_answer"
	// Rejected: the patient declined the call (603).
	Rejected Outcome = "rejected"
	// Unavailable: the phone was off or out of coverage, so it never rang
	// (480 without ringing, 410).
	Unavailable Outcome = "unavailable"
	// InvalidNumber: the number does not exist or is incomplete (404, 484,
	// 604); retrying it is pointless.
	InvalidNumber Outcome = "invalid_number"
	// Congestion: the trunk or the network failed, not the patient (503,
	// other server errors, no response at all, our credentials or caller
	// ID refused), or we abandoned the call before an answer because the
	// engine was stopping. Retried without counting as an attempt.
	Congestion Outcome = "congestion"
	// Failed: anything else, including a call that could not be set up on
	// our side (bad URI, no RTP port, an answer without usable audio).
	Failed Outcome = "failed"
)

// Classify maps the final response of an INVITE to an outcome. code is the
// SIP status of the final response, or 0 when none came (the transaction
// timed out or the trunk could not be reached); rang says whether a 180 or
// 183 came first; timedOut says that our ring timeout expired and we
// cancelled the call after the trunk had answered provisionally.
//
// The line between Congestion and Failed is whether the same call could
// succeed later without anyone changing the request: a trunk that is
// overloaded, down or refusing our account will recover (or be fixed) and
// the patient must not lose an attempt for it; a request the far end cannot
// understand (400, 488 for our codecs, 501) will fail the same way again,
// so it counts, which keeps such calls from being retried for ever. 403 is
// Congestion because Italian trunks send it for our side's faults: caller
// ID not allowed, account suspended, credit exhausted.
func Classify(code int, rang bool, timedOut bool) Outcome {
	switch {
	case timedOut:
		return NoAnswer
	case code >= 200 && code < 300:
		return Answered
	}
	switch code {
	case 0:
		return Congestion
	case 486, 600:
		return Busy
	case 408:
		return NoAnswer
	case 480:
		if rang {
			return NoAnswer
		}
		return Unavailable
	case 410:
		return Unavailable
	case 603:
		return Rejected
	case 404, 484, 604:
		return InvalidNumber
	case 401, 407, 403, // our credentials or account
		482, 483, // the trunk's routing loops
		500, 502, 503, 504:
		return Congestion
	}
	return Failed
}

// CountsAsAttempt says whether an outcome uses up one of the patient's
// attempts. Only Congestion does not: the failure was ours or the network's.
func (o Outcome) CountsAsAttempt() bool {
	return o != Congestion
}
