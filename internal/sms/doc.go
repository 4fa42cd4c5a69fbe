// Package sms owns everything the engine knows about text messages: how a
// body is encoded and how many segments it costs (GSM 03.38), the Gateway
// that sends messages and finds them again at the provider, how send errors
// are classified so that a caller knows whether a retry is safe, the Twilio
// implementation of the Gateway with its webhook signature check, and the
// reading of patients' Italian replies.
//
// The protocol-level fake of Twilio used by tests and by the demo lives in
// the twiliotest subpackage.
package sms
