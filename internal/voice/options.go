package voice

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Options probes: the continuity service level is measured by asking, every
// minute, whether the engine's own SIP user agent and the trunk answer a SIP
// OPTIONS. The user agent answers OPTIONS with 200 and its Allow list (see
// Caller.handle), as trunks that ping it expect.

// OptionsResult is what one OPTIONS got back.
type OptionsResult struct {
	// Up says the target is working: see OptionsUp.
	Up bool
	// Code is the final response, 0 when none came.
	Code int
	// RTT is from the request to its final response, or to giving up.
	RTT time.Duration
	// Detail says what went wrong; empty when Up.
	Detail string
}

// OptionsUp says whether a final response to OPTIONS shows a working
// target: any 2xx; a challenge (401, 407), which calls answer with our
// credentials; or 405 and 501, from a server alive but not implementing
// OPTIONS. Everything else (403 from a trunk refusing us, 404, 408, 5xx,
// 6xx) is a target calls would fail on.
func OptionsUp(code int) bool {
	switch {
	case code >= 200 && code < 300:
		return true
	case code == 401, code == 407, code == 405, code == 501:
		return true
	}
	return false
}

// ProbeSelf sends an OPTIONS from the Caller's SIP socket to its own
// listening address and reports whether the user agent answered: its socket
// is read and its transactions work. It reports false, without probing, on
// the tls transport, whose certificate names the trunk's peer, not this
// address.
func (c *Caller) ProbeSelf(ctx context.Context) (OptionsResult, bool) {
	if c.transport == "TLS" || c.sipPort == 0 {
		return OptionsResult{}, false
	}
	u := sip.Uri{Scheme: "sip", User: "richiamo", Host: c.advertise.String(), Port: c.sipPort}
	if c.transport != "UDP" {
		u.UriParams = sip.NewParams()
		u.UriParams.Add("transport", strings.ToLower(c.transport))
	}
	return c.Options(ctx, u), true
}

// ProbeTrunk sends an OPTIONS to the trunk's proxy; false when no trunk is
// configured.
func (c *Caller) ProbeTrunk(ctx context.Context) (OptionsResult, bool) {
	if c.proxy == nil {
		return OptionsResult{}, false
	}
	u := sip.Uri{Scheme: "sip", Host: c.proxy.Host, Port: c.proxy.Port}
	if c.transport != "UDP" {
		u.UriParams = sip.NewParams()
		u.UriParams.Add("transport", strings.ToLower(c.transport))
	}
	return c.Options(ctx, u), true
}

// Options sends one OPTIONS to target and waits for its final response
// until ctx ends.
func (c *Caller) Options(ctx context.Context, target sip.Uri) OptionsResult {
	req := sip.NewRequest(sip.OPTIONS, target)
	req.SetTransport(c.transport)
	from := sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "richiamo", Host: c.advertise.String()}, Params: sip.NewParams()}
	if c.proxy != nil {
		from.Address.Host, from.Address.Port = c.domain.Host, c.domain.Port
	}
	from.Params.Add("tag", sip.GenerateTagN(16))
	req.AppendHeader(&from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: target.Scheme, User: target.User, Host: target.Host, Port: target.Port}})
	req.AppendHeader(sip.NewHeader("Accept", "application/sdp"))
	req.AppendHeader(sip.NewHeader("User-Agent", "richiamo"))
	start := time.Now()
	res, err := c.dialogs.Client.Do(ctx, req)
	r := OptionsResult{RTT: time.Since(start)}
	if err != nil {
		switch {
		case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
			r.Detail = fmt.Sprintf("no answer in %s", r.RTT.Round(time.Millisecond))
		default:
			r.Detail = err.Error()
		}
		return r
	}
	r.Code = res.StatusCode
	r.Up = OptionsUp(res.StatusCode)
	if !r.Up {
		r.Detail = fmt.Sprintf("%d %s", res.StatusCode, res.Reason)
	}
	return r
}
