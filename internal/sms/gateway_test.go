package sms

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/twilio/twilio-go/client"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	rest := func(status, code int) error {
		return &client.TwilioRestError{Status: status, Code: code, Message: "The 'To' number +393331234567 is not valid"}
	}
	dial := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	tests := []struct {
		name string
		err  error
		want Class
	}{
		{"no error has no class", nil, ""},
		{"send error keeps its class", &SendError{Class: Permanent}, Permanent},
		{"wrapped send error keeps its class", fmt.Errorf("outbox 7: %w", &SendError{Class: Fatal}), Fatal},
		{"invalid To number is permanent", rest(400, 21211), Permanent},
		{"not a mobile number is permanent", rest(400, 21614), Permanent},
		{"recipient who sent STOP is permanent", rest(400, 21610), Permanent},
		{"region not enabled is permanent", rest(400, 21408), Permanent},
		{"body too long is permanent", rest(400, 21617), Permanent},
		{"cannot route to this number is permanent", rest(400, 21612), Permanent},
		{"rate limited is transient", rest(429, 20429), Transient},
		{"rate limit code without status is transient", rest(0, 20429), Transient},
		{"service unavailable is transient", rest(503, 20503), Transient},
		{"request timeout at the provider is transient", rest(408, 0), Transient},
		{"internal server error is unknown", rest(500, 20500), Unknown},
		{"bad gateway is unknown", rest(502, 0), Unknown},
		{"gateway timeout is unknown", rest(504, 0), Unknown},
		{"wrong credentials are fatal", rest(401, 20003), Fatal},
		{"forbidden is fatal", rest(403, 20003), Fatal},
		{"unknown account is fatal", rest(404, 20404), Fatal},
		{"From not owned by the account is fatal", rest(400, 21606), Fatal},
		{"invalid From is fatal", rest(400, 21212), Fatal},
		{"credentials twilio-go refuses are fatal", rest(400, 21222), Fatal},
		{"inactive account is fatal", rest(401, 20005), Fatal},
		{"standards v1 error follows its status", &client.RestErrorV1{HttpStatusCode: 429, Code: 20429}, Transient},
		{"DNS failure is transient", &url.Error{Op: "Post", URL: "https://api.twilio.com", Err: &net.DNSError{Err: "no such host", Name: "api.twilio.com", IsNotFound: true}}, Transient},
		{"connection refused is transient", &url.Error{Op: "Post", URL: "https://api.twilio.com", Err: dial}, Transient},
		{"bare ECONNREFUSED is transient", syscall.ECONNREFUSED, Transient},
		{"connection closed while waiting is unknown", &url.Error{Op: "Post", URL: "https://api.twilio.com", Err: io.EOF}, Unknown},
		{"connection reset while waiting is unknown", &url.Error{Op: "Post", URL: "https://api.twilio.com", Err: &net.OpError{Op: "read", Err: syscall.ECONNRESET}}, Unknown},
		{"deadline without more is unknown", context.DeadlineExceeded, Unknown},
		{"anything else is unknown", errors.New("something odd"), Unknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Classify(tt.err); got != tt.want {
				t.Errorf("Classify(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}

func TestSendErrorText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  *SendError
		want string
	}{
		{"status and code, without the provider's message", &SendError{Class: Permanent, HTTPStatus: 400, Code: 21211, Message: "The 'To' number +393331234567 is not valid", Err: errors.New("+393331234567")}, "sms: send failed (permanent): HTTP 400: provider code 21211"},
		{"transport error", &SendError{Class: Unknown, Err: io.EOF}, "sms: send failed (unknown): EOF"},
		{"own refusal", &SendError{Class: Permanent, Code: 0, Message: "message has no body"}, "sms: send failed (permanent): message has no body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := tt.err.Error()
			if got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
			if strings.Contains(got, "+39") {
				t.Errorf("Error() leaks a phone number: %q", got)
			}
		})
	}
}

func TestSendErrorUnwraps(t *testing.T) {
	t.Parallel()
	inner := &client.TwilioRestError{Status: 400, Code: 21211}
	var re *client.TwilioRestError
	if !errors.As(&SendError{Class: Permanent, Err: inner}, &re) || re != inner {
		t.Fatal("SendError does not unwrap to the Twilio error")
	}
}
