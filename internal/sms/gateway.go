package sms

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/twilio/twilio-go/client"
)

// Message is one SMS to send. OutboxID is our own id; Body is final text.
type Message struct {
	OutboxID int64
	To       string // E.164
	Body     string
}

// Sent is the provider's receipt for an accepted message.
type Sent struct {
	ProviderID string
	Status     string // provider's status, e.g. "queued", "accepted"
	Segments   int    // provider's NumSegments if given, else 0
}

// Found is a message the provider already has, for reconciliation.
type Found struct {
	ProviderID, To, Body, Status string
	ErrorCode                    int
	Created                      time.Time
}

// Gateway sends SMS through a provider.
type Gateway interface {
	// Send hands one message to the provider. Its errors are classified:
	// see Classify.
	Send(ctx context.Context, m Message) (Sent, error)
	// Find lists messages the provider has for this recipient created at or after since, so that a send whose outcome is unknown can be reconciled before any retry.
	Find(ctx context.Context, to string, since time.Time) ([]Found, error)
}

// StatusAsker is a Gateway that can be asked for one message's current
// status, for a message whose delivery report never came.
type StatusAsker interface {
	Status(ctx context.Context, providerID string) (Found, error)
}

// Class says what a failed send means for the message and for the sender.
type Class string

const (
	// Transient: the provider certainly did not accept the message (rate
	// limited, unavailable, or the request never left this machine), so it
	// can be sent again later.
	Transient Class = "transient"
	// Permanent: the provider refused this message for a reason a retry will
	// not change (invalid or landline number, recipient opted out with STOP,
	// destination region not enabled). Do not retry it.
	Permanent Class = "permanent"
	// Unknown: the request may have reached the provider (timeout or broken
	// connection after the request was written, HTTP 500/502/504), so the
	// message may be on its way. Reconcile with Gateway.Find before any
	// retry, or the patient may get it twice.
	Unknown Class = "unknown"
	// Fatal: the configuration is wrong (credentials, account, sender), so
	// every other message would fail the same way. Stop sending altogether.
	Fatal Class = "fatal"
)

// SendError is the error of a failed Send.
type SendError struct {
	Class      Class
	HTTPStatus int    // 0 when no HTTP response was read
	Code       int    // provider error code, 0 when none
	Message    string // provider's text; it may contain the phone number, so it is kept out of Error
	Err        error
}

// Error leaves out the provider's message on purpose: Twilio repeats the
// phone number there, and error strings end up in logs.
func (e *SendError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sms: send failed (%s)", e.Class)
	switch {
	case e.HTTPStatus != 0 || e.Code != 0:
		if e.HTTPStatus != 0 {
			fmt.Fprintf(&b, ": HTTP %d", e.HTTPStatus)
		}
		if e.Code != 0 {
			fmt.Fprintf(&b, ": provider code %d", e.Code)
		}
	case e.Err != nil:
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	case e.Message != "":
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// Unwrap gives the underlying error: a *client.TwilioRestError, a
// *url.Error, a context error.
func (e *SendError) Unwrap() error { return e.Err }

// Classify tells what a Send error means: the Class of a *SendError
// anywhere in the chain, otherwise the class of a Twilio REST error or of a
// network error. An error it cannot place is Unknown, since only
// reconciliation makes a retry safe then. A nil error has no class ("").
func Classify(err error) Class {
	if err == nil {
		return ""
	}
	var se *SendError
	if errors.As(err, &se) {
		return se.Class
	}
	var re *client.TwilioRestError
	if errors.As(err, &re) {
		return classifyHTTP(re.Status, re.Code)
	}
	var re1 *client.RestErrorV1
	if errors.As(err, &re1) {
		return classifyHTTP(re1.HttpStatusCode, re1.Code)
	}
	if isDialError(err) {
		return Transient
	}
	return Unknown
}

// fatalCodes are Twilio error codes that mean the account, the credentials
// or the sender are wrong, whatever the recipient.
var fatalCodes = map[int]bool{
	10001: true, // account is not active
	20003: true, // authentication failed
	20005: true, // account not active
	20404: true, // resource not found: wrong account SID in the path
	21212: true, // invalid From number
	21222: true, // credentials with characters Twilio cannot accept (raised by twilio-go)
	21224: true,
	21601: true, // From is not an SMS-capable number of the account
	21606: true, // From is not a valid message-capable number for the account
	21659: true, // From is not a Twilio number
	21660: true, // From does not belong to the account
	21661: true, // From is not SMS-capable
}

// classifyHTTP places an HTTP status and a Twilio error code.
func classifyHTTP(status, code int) Class {
	switch {
	case code == 20429 || code == 14107 || status == 429:
		return Transient // rate limited: nothing was accepted
	case status == 401 || status == 403 || fatalCodes[code]:
		return Fatal
	case status == 404:
		return Fatal // the API path holds the account SID
	case status == 408 || status == 503:
		return Transient // the request was not processed
	case status >= 500:
		return Unknown // the provider may have accepted it before failing
	case status >= 400:
		return Permanent
	case status == 0 && code != 0:
		return Permanent // a coded refusal that did not come over HTTP
	default:
		return Unknown
	}
}

// isDialError reports errors raised while opening the connection, before
// any byte of the request could be written.
func isDialError(err error) bool {
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return true
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	return errors.Is(err, syscall.ECONNREFUSED)
}
