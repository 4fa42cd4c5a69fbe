package voice

import "testing"

func TestEveryFinalResponseHasAnOutcome(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		code     int
		rang     bool
		timedOut bool
		want     Outcome
		counts   bool
	}{
		{"patient picks up", 200, true, false, Answered, true},
		{"answered without ringing first", 200, false, false, Answered, true},
		{"line busy", 486, true, false, Busy, true},
		{"busy everywhere", 600, false, false, Busy, true},
		{"our ring timeout expires while ringing", 487, true, true, NoAnswer, true},
		{"ring timeout after only 100 Trying", 487, false, true, NoAnswer, true},
		{"network times out the request", 408, true, false, NoAnswer, true},
		{"temporarily unavailable after ringing", 480, true, false, NoAnswer, true},
		{"temporarily unavailable without ringing: phone off", 480, false, false, Unavailable, true},
		{"number gone", 410, false, false, Unavailable, true},
		{"patient declines", 603, true, false, Rejected, true},
		{"number not found", 404, false, false, InvalidNumber, true},
		{"number incomplete", 484, false, false, InvalidNumber, true},
		{"number does not exist anywhere", 604, false, false, InvalidNumber, true},
		{"trunk unavailable", 503, false, false, Congestion, false},
		{"trunk internal error", 500, false, false, Congestion, false},
		{"bad gateway", 502, false, false, Congestion, false},
		{"gateway timeout", 504, false, false, Congestion, false},
		{"trunk refuses our caller ID or account", 403, false, false, Congestion, false},
		{"our credentials refused after the challenge", 407, false, false, Congestion, false},
		{"no response at all from the trunk", 0, false, false, Congestion, false},
		{"trunk routing loop", 482, false, false, Congestion, false},
		{"our codecs not acceptable", 488, false, false, Failed, true},
		{"not acceptable anywhere", 606, false, false, Failed, true},
		{"malformed request", 400, false, false, Failed, true},
		{"method not implemented", 501, false, false, Failed, true},
		{"redirect we do not follow", 302, false, false, Failed, true},
		{"terminated without our cancel", 487, true, false, Failed, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Classify(tt.code, tt.rang, tt.timedOut)
			if got != tt.want {
				t.Errorf("Classify(%d, rang=%v, timedOut=%v) = %s, want %s", tt.code, tt.rang, tt.timedOut, got, tt.want)
			}
			if got.CountsAsAttempt() != tt.counts {
				t.Errorf("%s counts as attempt: %v, want %v", got, got.CountsAsAttempt(), tt.counts)
			}
		})
	}
}
