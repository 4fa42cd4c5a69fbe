package voice

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Registration is the state of the Caller's registration with the trunk's
// registrar, for health checks.
type Registration struct {
	// Registrar is the registrar's URI; empty when none is configured (and
	// then nothing else is set).
	Registrar string `json:"registrar,omitempty"`
	// Registered says the registrar holds our binding now.
	Registered bool `json:"registered"`
	// Expires is when the binding lapses unless refreshed.
	Expires time.Time `json:"expires,omitzero"`
	// LastAttempt is when the latest REGISTER went out; LastError says why
	// it failed, empty when it succeeded.
	LastAttempt time.Time `json:"last_attempt,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
}

// Registration is the Caller's registration state; the zero Registration
// when no registrar is configured.
func (c *Caller) Registration() Registration {
	if c.reg == nil {
		return Registration{}
	}
	return c.reg.state()
}

// registerTimeout bounds one REGISTER exchange, challenge included.
const registerTimeout = 32 * time.Second // SIP's transaction timeout (64×T1)

// registration keeps the Caller registered: one Call-ID and a rising CSeq
// for all its REGISTERs, as RFC 3261 §10.2 asks.
type registration struct {
	c       *Caller
	log     *slog.Logger
	uri     sip.Uri // the registrar: the request URI of the REGISTERs
	shown   string  // the registrar as configured, for messages
	aor     sip.Uri // address of record: To and From
	ask     time.Duration
	callID  string
	fromTag string

	mu      sync.Mutex // serialises REGISTERs; guards cseq
	cseq    uint32
	stMu    sync.Mutex // guards st, so that reading it never waits for a REGISTER
	st      Registration
	stop    chan struct{}
	stopped chan struct{}
	closing sync.Once
}

func newRegistration(c *Caller, registrar string, expires time.Duration) (*registration, error) {
	var u sip.Uri
	if err := sip.ParseUri(registrar, &u); err != nil || u.Host == "" || u.User != "" {
		return nil, fmt.Errorf("voice: registrar %q is not a SIP URI of a host", registrar)
	}
	if c.transport != "UDP" {
		if u.UriParams == nil {
			u.UriParams = sip.NewParams()
		}
		if !u.UriParams.Has("transport") {
			u.UriParams.Add("transport", strings.ToLower(c.transport))
		}
	}
	if expires <= 0 {
		expires = DefaultRegisterExpires
	}
	user := c.cfg.Username
	if user == "" {
		user = c.cfg.CallerID
	}
	if user == "" {
		user = "richiamo"
	}
	aor := sip.Uri{Scheme: u.Scheme, User: user, Host: u.Host}
	if c.cfg.Domain != "" {
		aor.Host = c.cfg.Domain
	}
	return &registration{
		c:       c,
		log:     c.log.With("registrar", registrar),
		uri:     u,
		shown:   registrar,
		aor:     aor,
		ask:     expires,
		callID:  sip.GenerateTagN(24) + "@richiamo",
		fromTag: sip.GenerateTagN(16),
		cseq:    1,
		st:      Registration{Registrar: registrar},
		stop:    make(chan struct{}),
		stopped: make(chan struct{}),
	}, nil
}

func (r *registration) state() Registration {
	r.stMu.Lock()
	defer r.stMu.Unlock()
	s := r.st
	s.Registered = !s.Expires.IsZero() && time.Now().Before(s.Expires)
	return s
}

// errRegister is a registrar's final refusal.
type errRegister struct {
	registrar string
	code      int
	reason    string
}

func (e *errRegister) Error() string {
	return fmt.Sprintf("voice: registrar %s refused the registration: %d %s", e.registrar, e.code, e.reason)
}

// register sends one REGISTER asking for expires (0 unregisters),
// answering a digest challenge, and returns the time the registrar
// granted.
func (r *registration) register(ctx context.Context, expires time.Duration) (time.Duration, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	r.stMu.Lock()
	r.st.LastAttempt = now
	r.stMu.Unlock()
	granted, err := r.exchange(ctx, expires)
	r.stMu.Lock()
	defer r.stMu.Unlock()
	switch {
	case err != nil:
		r.st.LastError = err.Error()
	case expires == 0:
		r.st.LastError, r.st.Expires = "", time.Time{}
	default:
		r.st.LastError, r.st.Expires = "", now.Add(granted)
	}
	return granted, err
}

func (r *registration) exchange(ctx context.Context, expires time.Duration) (time.Duration, error) {
	client := r.c.dialogs.Client
	ask := expires
	for try := 0; ; try++ {
		req := r.request(ask)
		res, err := client.Do(ctx, req)
		if err == nil && (res.StatusCode == sip.StatusUnauthorized || res.StatusCode == sip.StatusProxyAuthRequired) {
			res, err = client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: r.c.cfg.Username, Password: r.c.cfg.Password})
		}
		r.cseq = req.CSeq().SeqNo
		if err != nil {
			return 0, fmt.Errorf("voice: registrar %s: no answer to REGISTER: %w", r.shown, err)
		}
		if res.StatusCode == sip.StatusIntervalToBrief && try == 0 && expires > 0 {
			// 423: the registrar names the shortest time it accepts.
			if h := res.GetHeader("Min-Expires"); h != nil {
				if s, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil && s > 0 {
					ask = time.Duration(s) * time.Second
					continue
				}
			}
		}
		if !res.IsSuccess() {
			return 0, &errRegister{registrar: r.shown, code: res.StatusCode, reason: res.Reason}
		}
		if expires == 0 {
			return 0, nil
		}
		return grantedExpiry(res, r.c.dialogs.ContactHDR.Address, ask), nil
	}
}

// request is the next REGISTER of the series.
func (r *registration) request(expires time.Duration) *sip.Request {
	req := sip.NewRequest(sip.REGISTER, r.uri)
	req.SetTransport(r.c.transport)
	from := sip.FromHeader{Address: r.aor, Params: sip.NewParams()}
	from.Params.Add("tag", r.fromTag)
	req.AppendHeader(&from)
	req.AppendHeader(&sip.ToHeader{Address: r.aor})
	callID := sip.CallIDHeader(r.callID)
	req.AppendHeader(&callID)
	r.cseq++
	req.AppendHeader(&sip.CSeqHeader{SeqNo: r.cseq, MethodName: sip.REGISTER})
	req.AppendHeader(sip.HeaderClone(&r.c.dialogs.ContactHDR))
	req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(int(expires/time.Second))))
	req.AppendHeader(sip.NewHeader("Allow", allow))
	req.AppendHeader(sip.NewHeader("User-Agent", "richiamo"))
	req.SetBody(nil)
	return req
}

// grantedExpiry reads how long the registrar keeps our binding: the
// expires parameter of our Contact in the 200, else its Expires header,
// else what we asked.
func grantedExpiry(res *sip.Response, ours sip.Uri, asked time.Duration) time.Duration {
	seconds := func(v string) (time.Duration, bool) {
		s, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || s < 0 {
			return 0, false
		}
		return time.Duration(s) * time.Second, true
	}
	for _, h := range res.GetHeaders("Contact") {
		ch, ok := h.(*sip.ContactHeader)
		if !ok || ch.Address.Host != ours.Host || ch.Address.Port != ours.Port {
			continue
		}
		if v, ok := ch.Params.Get("expires"); ok {
			if d, ok := seconds(v); ok {
				return d
			}
		}
	}
	if h := res.GetHeader("Expires"); h != nil {
		if d, ok := seconds(h.Value()); ok {
			return d
		}
	}
	return asked
}

// refreshAfter is when to refresh a binding granted for d: halfway for a
// short one, a minute before it lapses for a longer one.
func refreshAfter(d time.Duration) time.Duration {
	if d <= 2*time.Minute {
		return max(d/2, 500*time.Millisecond)
	}
	return d - time.Minute
}

// retryAfter is when to try again after a failed refresh: halfway to the
// end of the binding, between 1s and 30s.
func (r *registration) retryAfter() time.Duration {
	left := time.Until(r.state().Expires)
	return min(max(left/2, time.Second), 30*time.Second)
}

// start registers, and keeps the binding fresh until close.
func (r *registration) start(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, registerTimeout)
	granted, err := r.register(ctx, r.ask)
	cancel()
	if err != nil {
		return err
	}
	r.log.Info("voice: registered", "expires_s", int(granted/time.Second))
	go r.refresh(refreshAfter(granted))
	return nil
}

func (r *registration) refresh(next time.Duration) {
	defer close(r.stopped)
	t := time.NewTimer(next)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), registerTimeout)
		go func() {
			select {
			case <-r.stop:
				cancel()
			case <-ctx.Done():
			}
		}()
		granted, err := r.register(ctx, r.ask)
		cancel()
		if err != nil {
			wait := r.retryAfter()
			r.log.Warn("voice: registration not refreshed; retrying", "err", err, "retry_in", wait.String(), "registered", r.state().Registered)
			t.Reset(wait)
			continue
		}
		r.log.Debug("voice: registration refreshed", "expires_s", int(granted/time.Second))
		t.Reset(refreshAfter(granted))
	}
}

// close stops the refreshes and unregisters (Expires: 0).
func (r *registration) close() {
	first := false
	r.closing.Do(func() { first = true })
	if !first {
		return
	}
	close(r.stop)
	<-r.stopped
	if !r.state().Registered {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), byeTimeout)
	defer cancel()
	if _, err := r.register(ctx, 0); err != nil {
		r.log.Warn("voice: unregistering", "err", err)
		return
	}
	r.log.Info("voice: unregistered")
}
