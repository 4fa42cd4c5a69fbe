package voice

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
)

// DefaultTransferTimeout bounds waiting for the outcome of a transfer when
// the caller gives none.
const DefaultTransferTimeout = 30 * time.Second

// TransferError says why a transfer did not happen.
type TransferError struct {
	// Stage is "refer" when the far end refused the REFER (or never
	// answered it), "notify" when it reported the transfer failed, and
	// "timeout" when no final report came in time.
	Stage string
	// Code and Reason are the refusal, or the final status the far end
	// reported in its NOTIFY; 0 when none came.
	Code   int
	Reason string
	Err    error
}

func (e *TransferError) Error() string {
	switch {
	case e.Stage == "timeout":
		return "voice: transfer: no final NOTIFY in time"
	case e.Stage == "refer" && e.Code == 0:
		return fmt.Sprintf("voice: transfer: REFER not answered: %v", e.Err)
	case e.Stage == "refer":
		return fmt.Sprintf("voice: transfer refused: %d %s", e.Code, e.Reason)
	case e.Code == 0:
		return "voice: transfer failed: the far end ended its reports without an outcome"
	}
	return fmt.Sprintf("voice: transfer failed: the far end reported %d %s", e.Code, e.Reason)
}

func (e *TransferError) Unwrap() error { return e.Err }

// CheckSIPURI says whether s is a sip: or sips: URI with a host, such as
// a transfer target.
func CheckSIPURI(s string) error {
	if !strings.HasPrefix(s, "sip:") && !strings.HasPrefix(s, "sips:") {
		return fmt.Errorf("%q is not a sip: or sips: URI", s)
	}
	var u sip.Uri
	if err := sip.ParseUri(s, &u); err != nil || u.Host == "" || strings.ContainsAny(s, " <>\"") {
		return fmt.Errorf("%q is not a SIP URI with a host", s)
	}
	return nil
}

// sipfrag is the status line of a NOTIFY's message/sipfrag body.
type sipfrag struct {
	code   int
	reason string
	final  bool // the subscription ended without a final status
}

// Transfer asks the far end to call target instead (a blind transfer,
// RFC 3515): a REFER in the call's dialog with Refer-To and Referred-By,
// then the far end's NOTIFYs report how its call to target goes. It
// returns nil once a NOTIFY reports a 2xx; a *TransferError when the REFER
// is refused, a NOTIFY reports a failure, or no final report comes within
// timeout (0: DefaultTransferTimeout); ErrHungUp if the call ends first.
// The call stays up either way: hang it up with Hangup.
func (c *Call) Transfer(ctx context.Context, target string, timeout time.Duration) error {
	if err := CheckSIPURI(target); err != nil {
		return fmt.Errorf("voice: transfer: %w", err)
	}
	if timeout <= 0 {
		timeout = DefaultTransferTimeout
	}
	select {
	case <-c.done:
		return ErrHungUp
	default:
	}
	notes := make(chan sipfrag, 16)
	c.mu.Lock()
	c.notifies = notes
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.notifies = nil
		c.mu.Unlock()
	}()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	recipient := c.sess.InviteRequest.Recipient
	if ct := c.sess.InviteResponse.Contact(); ct != nil {
		recipient = ct.Address
	}
	refer := sip.NewRequest(sip.REFER, *recipient.Clone())
	refer.AppendHeader(sip.NewHeader("Refer-To", "<"+target+">"))
	refer.AppendHeader(sip.NewHeader("Referred-By", "<"+c.sess.InviteRequest.From().Address.String()+">"))
	refer.AppendHeader(sip.NewHeader("Allow", allow))
	refer.AppendHeader(sip.NewHeader("User-Agent", "richiamo"))
	refer.SetBody(nil)
	c.log.Info("voice: transferring", "target", maskTarget(target))
	res, err := c.sess.Do(ctx, refer)
	switch {
	case err != nil && c.ended():
		return ErrHungUp
	case err != nil && ctx.Err() != nil:
		err = &TransferError{Stage: "timeout", Err: err}
		c.log.Warn("voice: transfer failed", "err", err)
		return err
	case err != nil:
		err = &TransferError{Stage: "refer", Err: err}
		c.log.Warn("voice: transfer failed", "err", err)
		return err
	case !res.IsSuccess():
		err := &TransferError{Stage: "refer", Code: res.StatusCode, Reason: res.Reason}
		c.log.Warn("voice: transfer failed", "err", err)
		return err
	}
	for {
		select {
		case n := <-notes:
			switch {
			case n.code >= 200 && n.code < 300:
				c.log.Info("voice: transferred", "code", n.code)
				return nil
			case n.code >= 300 || n.final:
				err := &TransferError{Stage: "notify", Code: n.code, Reason: n.reason}
				c.log.Warn("voice: transfer failed", "err", err)
				return err
			}
		case <-c.done:
			return ErrHungUp
		case <-c.sess.Context().Done():
			return ErrHungUp
		case <-ctx.Done():
			err := &TransferError{Stage: "timeout", Err: ctx.Err()}
			c.log.Warn("voice: transfer failed", "err", err)
			return err
		}
	}
}

func (c *Call) ended() bool {
	select {
	case <-c.done:
		return true
	case <-c.sess.Context().Done():
		return true
	default:
		return false
	}
}

// notify answers a NOTIFY in the call's dialog with 200 and passes the
// progress of a transfer on to Transfer.
func (c *Call) notify(req *sip.Request, tx sip.ServerTransaction) {
	_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil))
	ev := req.GetHeader("Event")
	if ev == nil || !strings.EqualFold(strings.TrimSpace(strings.SplitN(ev.Value(), ";", 2)[0]), "refer") {
		return
	}
	n, ok := parseSipfrag(req.Body())
	if st := req.GetHeader("Subscription-State"); st != nil && strings.HasPrefix(strings.ToLower(strings.TrimSpace(st.Value())), "terminated") {
		n.final = true
		ok = true
	}
	if !ok {
		return
	}
	c.mu.Lock()
	notes := c.notifies
	c.mu.Unlock()
	if notes == nil {
		return
	}
	select {
	case notes <- n:
	default:
	}
}

// parseSipfrag reads the status line of a message/sipfrag body,
// "SIP/2.0 200 OK".
func parseSipfrag(body []byte) (sipfrag, bool) {
	line, _, _ := bufio.NewReader(bytes.NewReader(body)).ReadLine()
	f := strings.Fields(string(line))
	if len(f) < 2 || !strings.HasPrefix(f[0], "SIP/") {
		return sipfrag{}, false
	}
	code, err := strconv.Atoi(f[1])
	if err != nil || code < 100 || code > 699 {
		return sipfrag{}, false
	}
	return sipfrag{code: code, reason: strings.Join(f[2:], " ")}, true
}

// maskTarget shows a transfer target in a log: its user part may be a
// number.
func maskTarget(s string) string {
	var u sip.Uri
	if err := sip.ParseUri(s, &u); err != nil {
		return maskUser(s)
	}
	if u.User != "" && strings.ContainsAny(u.User[:1], "+0123456789") {
		return maskURI(u)
	}
	return u.Addr()
}
