// Package voice owns outbound calls: SIP signalling through the contact
// centre's trunk (or straight to a SIP URI) on emiago/sipgo, and the call's
// audio on our own RTP session: prompts played at 20 ms, keys received as
// RFC 4733 events or in-band tones, collected with timeouts. A Caller
// places one call at a time per Place; what a campaign says and when it
// calls whom belongs to the packages above it, which get from a call a
// Result precise enough for the attempt record.
package voice

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/google/uuid"

	"github.com/richiamo/richiamo/internal/phone"
	"github.com/richiamo/richiamo/internal/voice/media"
)

// The settings a Caller uses when its Config leaves them at zero.
const (
	DefaultBind            = "0.0.0.0:5060"
	DefaultTransport       = "udp"
	DefaultRTPPortMin      = 10000
	DefaultRTPPortMax      = 20000
	DefaultRingTimeout     = 30 * time.Second
	DefaultMaxDuration     = 10 * time.Minute
	DefaultRegisterExpires = 10 * time.Minute
)

// Config is what a Caller needs; a setting left at zero takes the default
// above.
type Config struct {
	// Bind is the local SIP address, host:port (default DefaultBind); port
	// 0 picks a free one. Audio is received on the same host.
	Bind string
	// Advertise is the IP address given to the far end for SIP and audio;
	// empty: Bind's host, or the local address that routes to the trunk.
	Advertise string
	// Transport is "udp" (default), "tcp" or "tls".
	Transport string
	// Proxy is the trunk's SIP URI; empty sends each call straight to the
	// SIP URI it names, and numbers cannot be called.
	Proxy string
	// Domain is the host of a number's request URI; empty: the proxy's.
	Domain string
	// CallerID is the number the called party sees (the From user).
	CallerID string
	// PAssertedIdentity, when set, is sent as P-Asserted-Identity.
	PAssertedIdentity string
	// Username and Password answer the trunk's digest challenges.
	Username, Password string
	// RTPPortMin and RTPPortMax bound the audio ports (default 10000–20000,
	// each on its own).
	RTPPortMin, RTPPortMax int
	// RingTimeout is the default time a call may ring (default 30s).
	RingTimeout time.Duration
	// MaxDuration is the default longest answered call (default 10m).
	MaxDuration time.Duration
	// NoRTPTimeout hangs up an answered call whose far end has sent no
	// audio for this long; 0 never does.
	NoRTPTimeout time.Duration
	// TLS configures the tls transport; nil builds one from the TLS files
	// and server name below, verifying the trunk against the system's
	// roots when no CA file is given.
	TLS *tls.Config
	// TLSCAFile is a PEM file of the certificates that may sign the far
	// end's; TLSServerName the name its certificate must carry (empty: the
	// host dialled); TLSCertFile and TLSKeyFile our certificate, presented
	// to a trunk that asks for one, and with which we also listen for TLS
	// on Bind.
	TLSCAFile, TLSServerName, TLSCertFile, TLSKeyFile string
	// Registrar, when set, is the SIP URI the Caller registers with at
	// start (digest authentication with Username and Password), refreshes
	// before the registration lapses, and unregisters from on Close.
	Registrar string
	// RegisterExpires is the registration time asked for (default
	// DefaultRegisterExpires).
	RegisterExpires time.Duration
	// Log receives one line per call, numbers masked; nil discards.
	Log *slog.Logger
}

// Cause says why a call ended, beyond its outcome.
type Cause string

// The causes of the end of a call.
const (
	CauseRejected    Cause = "final_response" // the far end answered the INVITE with an error
	CauseRingTimeout Cause = "ring_timeout"   // we cancelled it at the ring timeout
	CauseCanceled    Cause = "canceled"       // our context ended (shutdown) before an answer
	CauseNoResponse  Cause = "no_response"    // the trunk never answered the INVITE
	CauseLocalError  Cause = "local_error"    // we could not place or keep the call
	CauseHangup      Cause = "hangup"         // we hung up (Hangup)
	CauseRemoteBye   Cause = "remote_bye"     // the far end hung up
	CauseMaxDuration Cause = "max_duration"   // the call reached its maximum duration
	CauseNoRTP       Cause = "no_rtp"         // no audio arrived for the configured time
	CauseTLS         Cause = "tls"            // the TLS handshake with the far end failed (its certificate, or ours)
)

// Result is the record of one call attempt.
type Result struct {
	Outcome Outcome `json:"outcome"`
	// SIPCode is the final response to the INVITE (200 when answered), or
	// 0 when none came.
	SIPCode int    `json:"sip_code"`
	Reason  string `json:"reason,omitempty"` // the response's reason phrase
	// Rang says a 180 or 183 came before the final response.
	Rang bool `json:"rang"`
	// RingMS is how long it rang: from the first 180/183 to the answer or
	// the end of the attempt; 0 if it never rang.
	RingMS int64 `json:"ring_ms"`
	// TalkMS is how long the answered call lasted, to the hang-up.
	TalkMS int64 `json:"talk_ms"`
	// Digits are every key the far end pressed, in order.
	Digits string `json:"digits"`
	Cause  Cause  `json:"cause,omitempty"`
	// Start is when the INVITE went out; Ringing when the first 180/183
	// came; Answer when the 200 came; End when the attempt ended (the
	// final response, or the moment either side hung up).
	Start   time.Time `json:"start"`
	Ringing time.Time `json:"ringing,omitzero"`
	Answer  time.Time `json:"answer,omitzero"`
	End     time.Time `json:"end,omitzero"`
	// Err describes a local failure (Outcome failed), for the log.
	Err error `json:"-"`
}

// Request is one call to place.
type Request struct {
	// To is a SIP URI (sip:…) or a number to call through the trunk.
	To string
	// RingTimeout and MaxDuration override the Caller's defaults.
	RingTimeout, MaxDuration time.Duration
	// codecs, when set, replace our offer's formats: a leg bridged to a
	// call already answered offers only that call's codec.
	codecs []format
}

// Caller places calls: it owns the SIP user agent, its socket and the RTP
// ports. It is safe for concurrent use; Close ends it.
type Caller struct {
	cfg       Config
	log       *slog.Logger
	ua        *sipgo.UserAgent
	dialogs   *sipgo.DialogUA
	transport string // "UDP", "TCP", "TLS" as sipgo writes them
	advertise netip.Addr
	sipPort   int
	proxy     *sip.Uri
	domain    sip.Uri
	ports     *portPool
	closer    io.Closer
	serving   sync.WaitGroup
	reg       *registration // nil without a registrar

	rings *ringWatch

	mu    sync.Mutex
	calls map[string]*Call // by Call-ID, while answered
}

// NewCaller starts the SIP user agent on cfg.Bind.
func NewCaller(cfg Config) (*Caller, error) {
	if cfg.Bind == "" {
		cfg.Bind = DefaultBind
	}
	if cfg.Transport == "" {
		cfg.Transport = DefaultTransport
	}
	if cfg.RTPPortMin == 0 {
		cfg.RTPPortMin = DefaultRTPPortMin
	}
	if cfg.RTPPortMax == 0 {
		cfg.RTPPortMax = DefaultRTPPortMax
	}
	if cfg.RingTimeout <= 0 {
		cfg.RingTimeout = DefaultRingTimeout
	}
	if cfg.MaxDuration <= 0 {
		cfg.MaxDuration = DefaultMaxDuration
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	c := &Caller{cfg: cfg, log: log, calls: map[string]*Call{}}
	switch cfg.Transport {
	case "udp", "tcp", "tls":
		c.transport = strings.ToUpper(cfg.Transport)
	default:
		return nil, fmt.Errorf("voice: transport %q is not udp, tcp or tls", cfg.Transport)
	}
	if c.transport == "TLS" && cfg.TLS == nil {
		tc, err := tlsConfig(cfg)
		if err != nil {
			return nil, err
		}
		cfg.TLS, c.cfg.TLS = tc, tc
	}
	host, port, err := net.SplitHostPort(cfg.Bind)
	if err != nil {
		return nil, fmt.Errorf("voice: bind %q: %w", cfg.Bind, err)
	}
	bindIP := netip.IPv4Unspecified()
	if host != "" {
		if bindIP, err = netip.ParseAddr(host); err != nil {
			return nil, fmt.Errorf("voice: bind %q: the host must be an IP address", cfg.Bind)
		}
	}
	if cfg.Proxy != "" {
		var u sip.Uri
		if err := sip.ParseUri(cfg.Proxy, &u); err != nil || u.Host == "" {
			return nil, fmt.Errorf("voice: proxy %q is not a SIP URI", cfg.Proxy)
		}
		if u.UriParams == nil {
			u.UriParams = sip.NewParams()
		}
		u.UriParams.Add("lr", "")
		if c.transport != "UDP" {
			u.UriParams.Add("transport", cfg.Transport)
		}
		c.proxy = &u
		c.domain = sip.Uri{Scheme: "sip", Host: u.Host, Port: u.Port}
		if cfg.Domain != "" {
			c.domain = sip.Uri{Scheme: "sip", Host: cfg.Domain}
		}
	}
	switch {
	case cfg.Advertise != "":
		if c.advertise, err = netip.ParseAddr(cfg.Advertise); err != nil {
			return nil, fmt.Errorf("voice: advertise %q is not an IP address", cfg.Advertise)
		}
	case !bindIP.IsUnspecified():
		c.advertise = bindIP
	default:
		toward := "192.0.2.1:5060" // any routable address: only the route is looked up
		if c.proxy != nil {
			toward = net.JoinHostPort(c.proxy.Host, strconv.Itoa(max(c.proxy.Port, 5060)))
		}
		c.advertise = localAddrToward(toward)
	}
	c.ports = newPortPool(bindIP, cfg.RTPPortMin, cfg.RTPPortMax)

	// sipgo logs requests at debug level, numbers and all: it gets only
	// warnings and errors.
	sipLog := slog.New(atLeast{log.Handler(), slog.LevelWarn}).With("component", "sip")
	c.rings = newRingWatch()
	ua, err := sipgo.NewUA(
		sipgo.WithUserAgent("richiamo"),
		sipgo.WithUserAgentHostname(c.advertise.String()),
		sipgo.WithUserAgenTLSConfig(cfg.TLS),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(sipLog), sip.WithTransportLayerReadFilter(c.rings.filter)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(sipLog)),
	)
	if err != nil {
		return nil, fmt.Errorf("voice: %w", err)
	}
	c.ua = ua
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(sipLog))
	if err != nil {
		ua.Close()
		return nil, fmt.Errorf("voice: %w", err)
	}
	c.handle(srv)

	clientOpts := []sipgo.ClientOption{sipgo.WithClientLogger(sipLog), sipgo.WithClientHostname(c.advertise.String())}
	laddr := net.JoinHostPort(bindIP.String(), port)
	switch c.transport {
	case "UDP":
		conn, err := net.ListenPacket("udp", laddr)
		if err != nil {
			ua.Close()
			return nil, fmt.Errorf("voice: SIP socket: %w", err)
		}
		c.closer = conn
		c.sipPort = conn.LocalAddr().(*net.UDPAddr).Port
		// Requests must leave from the socket the far end answers to, or
		// responses and BYEs come back to a port nobody reads.
		clientOpts = append(clientOpts, sipgo.WithClientPort(c.sipPort), sipgo.WithClientConnectionAddr(conn.LocalAddr().String()))
		// sipgo registers the socket for sending only once its serving
		// goroutine runs; an INVITE sent before would try to bind the port
		// a second time. Its first read says the registration is done.
		rc := &firstRead{PacketConn: conn, reading: make(chan struct{})}
		served := make(chan struct{})
		c.serving.Go(func() {
			defer close(served)
			_ = srv.ServeUDP(rc)
		})
		select {
		case <-rc.reading:
		case <-served:
			ua.Close()
			return nil, errors.New("voice: the SIP socket closed at start")
		}
	case "TCP":
		l, err := net.Listen("tcp", laddr)
		if err != nil {
			ua.Close()
			return nil, fmt.Errorf("voice: SIP socket: %w", err)
		}
		c.closer = l
		c.sipPort = l.Addr().(*net.TCPAddr).Port
		// Connections to the trunk are dialled from ephemeral ports; the
		// listener is for a trunk that opens its own to send a BYE.
		clientOpts = append(clientOpts, sipgo.WithClientPort(c.sipPort))
		c.serving.Go(func() { _ = srv.ServeTCP(l) })
	case "TLS":
		if len(cfg.TLS.Certificates) == 0 {
			// No certificate of ours to listen with: the trunk sends its
			// requests back over the connection we opened.
			c.closer = io.NopCloser(nil)
			break
		}
		l, err := tls.Listen("tcp", laddr, cfg.TLS)
		if err != nil {
			ua.Close()
			return nil, fmt.Errorf("voice: SIP socket: %w", err)
		}
		c.closer = l
		c.sipPort = l.Addr().(*net.TCPAddr).Port
		clientOpts = append(clientOpts, sipgo.WithClientPort(c.sipPort))
		c.serving.Go(func() { _ = srv.ServeTLS(l) })
	}
	client, err := sipgo.NewClient(ua, clientOpts...)
	if err != nil {
		c.closer.Close()
		ua.Close()
		return nil, fmt.Errorf("voice: %w", err)
	}
	contact := sip.Uri{Scheme: "sip", User: "richiamo", Host: c.advertise.String(), Port: c.sipPort}
	if c.transport != "UDP" {
		contact.UriParams = sip.NewParams()
		contact.UriParams.Add("transport", cfg.Transport)
	}
	c.dialogs = &sipgo.DialogUA{
		Client:     client,
		ContactHDR: sip.ContactHeader{Address: contact},
		// Behind a trunk, in-dialog requests go back where the answer came
		// from (the trunk), not to the phone's Contact, which is not
		// reachable from here.
		RewriteContact: c.proxy != nil,
	}
	log.Info("voice: SIP user agent ready", "addr", c.Addr(), "advertise", c.advertise.String(), "transport", cfg.Transport, "trunk", cfg.Proxy != "")
	if cfg.Registrar != "" {
		reg, err := newRegistration(c, cfg.Registrar, cfg.RegisterExpires)
		if err == nil {
			err = reg.start(context.Background())
		}
		if err != nil {
			c.closer.Close()
			ua.Close()
			c.serving.Wait()
			return nil, err
		}
		c.reg = reg
	}
	return c, nil
}

// firstRead closes reading when the first read of the socket begins.
type firstRead struct {
	net.PacketConn
	once    sync.Once
	reading chan struct{}
}

func (f *firstRead) ReadFrom(b []byte) (int, net.Addr, error) {
	f.once.Do(func() { close(f.reading) })
	return f.PacketConn.ReadFrom(b)
}

// localAddrToward is the local address the system would send from to
// reach addr; connecting a UDP socket sends nothing.
func localAddrToward(addr string) netip.Addr {
	conn, err := net.Dial("udp", addr)
	if err != nil {
		return netip.AddrFrom4([4]byte{127, 0, 0, 1})
	}
	defer conn.Close()
	return conn.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap()
}

// Addr is the address of the SIP socket, host:port.
func (c *Caller) Addr() string {
	return net.JoinHostPort(c.advertise.String(), strconv.Itoa(c.sipPort))
}

// Close hangs up the calls in progress and stops the user agent.
func (c *Caller) Close() error {
	c.mu.Lock()
	calls := make([]*Call, 0, len(c.calls))
	for _, call := range c.calls {
		calls = append(calls, call)
	}
	c.mu.Unlock()
	for _, call := range calls {
		call.Hangup()
	}
	if c.reg != nil {
		c.reg.close()
	}
	err := c.closer.Close()
	c.ua.Close()
	c.serving.Wait()
	return err
}

// handle answers the requests the far end sends us.
func (c *Caller) handle(srv *sipgo.Server) {
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		call := c.callFor(req)
		if call == nil {
			_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
			return
		}
		// ReadBye answers 200 and ends the dialog, whose context the
		// call's supervisor watches.
		if err := call.sess.ReadBye(req, tx); err != nil {
			call.log.Warn("voice: answering BYE", "err", err)
		}
	})
	srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		call := c.callFor(req)
		if call == nil {
			// Outbound only: nobody here to take a call.
			_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusTemporarilyUnavailable, "Outbound Only", nil))
			return
		}
		call.reinvite(req, tx)
	})
	srv.OnAck(func(*sip.Request, sip.ServerTransaction) {})
	srv.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
		// Trunks ping with OPTIONS to decide whether we are alive.
		res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
		res.AppendHeader(sip.NewHeader("Allow", allow))
		_ = tx.Respond(res)
	})
	srv.OnInfo(func(req *sip.Request, tx sip.ServerTransaction) {
		call := c.callFor(req)
		if call == nil {
			_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
			return
		}
		if k, ok := infoKey(req); ok {
			call.media.key(k, true)
		}
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil))
	})
	srv.OnNotify(func(req *sip.Request, tx sip.ServerTransaction) {
		// The far end reports a transfer's progress (Transfer).
		call := c.callFor(req)
		if call == nil {
			_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
			return
		}
		call.notify(req, tx)
	})
}

const allow = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, NOTIFY"

// infoKey reads a key from a SIP INFO, the third way trunks send keys
// (application/dtmf-relay "Signal=5", or application/dtmf "5").
func infoKey(req *sip.Request) (rune, bool) {
	ct := req.ContentType()
	if ct == nil {
		return 0, false
	}
	body := strings.TrimSpace(string(req.Body()))
	switch strings.ToLower(strings.TrimSpace(ct.Value())) {
	case "application/dtmf-relay":
		for line := range strings.SplitSeq(body, "\n") {
			k, v, ok := strings.Cut(line, "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "signal") {
				body = strings.TrimSpace(v)
				break
			}
		}
	case "application/dtmf":
	default:
		return 0, false
	}
	if len(body) == 1 && strings.ContainsRune("0123456789*#ABCD", rune(body[0])) {
		return rune(body[0]), true
	}
	if body == "10" {
		return '*', true
	}
	if body == "11" {
		return '#', true
	}
	return 0, false
}

func (c *Caller) callFor(req *sip.Request) *Call {
	id := req.CallID()
	if id == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[id.Value()]
}

// target is the request URI for to, and how to show it in a log.
func (c *Caller) target(to string) (sip.Uri, string, error) {
	to = strings.TrimSpace(to)
	if strings.HasPrefix(to, "sip:") || strings.HasPrefix(to, "sips:") {
		var u sip.Uri
		if err := sip.ParseUri(to, &u); err != nil || u.Host == "" {
			return sip.Uri{}, "", fmt.Errorf("voice: %q is not a SIP URI", maskUser(to))
		}
		return u, maskURI(u), nil
	}
	number := strings.TrimPrefix(to, "tel:")
	if c.proxy == nil {
		return sip.Uri{}, "", fmt.Errorf("voice: %s is a number and no trunk is configured (voice.trunk.proxy); give a sip: URI", phone.Mask(number))
	}
	e164, kind := phone.Classify(number)
	if kind == phone.Invalid || kind == phone.Missing {
		return sip.Uri{}, "", fmt.Errorf("voice: %s: %w", phone.Mask(number), errNotANumber)
	}
	u := c.domain
	u.User = e164
	u.UriParams = sip.NewParams()
	u.UriParams.Add("user", "phone")
	return u, maskURI(u), nil
}

var errNotANumber = errors.New("not a phone number")

// maskURI shows a SIP URI in a log: its user part is a phone number.
func maskURI(u sip.Uri) string {
	if u.User == "" {
		return u.Host
	}
	return phone.Mask(u.User) + "@" + u.Host
}

// maskUser masks what may be the user part of an unparsed URI.
func maskUser(s string) string {
	if at := strings.IndexByte(s, '@'); at >= 0 {
		scheme, user, _ := strings.Cut(s[:at], ":")
		return scheme + ":" + phone.Mask(user) + s[at:]
	}
	return phone.Mask(s)
}

// identity is the URI of our caller ID or P-Asserted-Identity value.
func (c *Caller) identity(v string) string {
	if strings.HasPrefix(v, "sip:") || strings.HasPrefix(v, "sips:") || strings.HasPrefix(v, "tel:") {
		return "<" + v + ">"
	}
	host := c.advertise.String()
	if c.proxy != nil {
		host = c.domain.HostPort()
		if c.domain.Port == 0 {
			host = c.domain.Host
		}
	}
	return "<sip:" + v + "@" + host + ";user=phone>"
}

// Place calls req.To and waits until the call is answered or the attempt
// is over. When answered it returns the Call, playing silence until told
// otherwise, with a Result of Outcome Answered; the final Result comes
// from Hangup (or Result, once Done is closed). Otherwise the Call is nil
// and the Result is final. Cancelling ctx before the answer cancels the
// INVITE; after it, ctx no longer matters: hang up with Hangup.
func (c *Caller) Place(ctx context.Context, req Request) (*Call, Result) {
	ringTimeout, maxDuration := req.RingTimeout, req.MaxDuration
	if ringTimeout <= 0 {
		ringTimeout = c.cfg.RingTimeout
	}
	if maxDuration <= 0 {
		maxDuration = c.cfg.MaxDuration
	}
	res := Result{Start: time.Now()}
	ended := func(o Outcome, cause Cause, err error) (*Call, Result) {
		res.Outcome, res.Cause, res.Err = o, cause, err
		res.End = time.Now()
		if res.Rang {
			res.RingMS = res.End.Sub(res.Ringing).Milliseconds()
		}
		return nil, res
	}
	target, shown, err := c.target(req.To)
	if err != nil {
		if errors.Is(err, errNotANumber) {
			return ended(InvalidNumber, CauseLocalError, err)
		}
		return ended(Failed, CauseLocalError, err)
	}
	log := c.log.With("to", shown)
	ms, err := newMediaSession(c.ports)
	if err != nil {
		log.Error("voice: no RTP port", "err", err)
		return ended(Failed, CauseLocalError, err)
	}
	sdpSession := rand.Uint64() >> 1 // o= values must fit in 63 bits
	formats := offerFormats
	if req.codecs != nil {
		formats = req.codecs
	}
	offer, err := describe(c.advertise, ms.port(), sdpSession, 1, formats)
	if err != nil {
		ms.close()
		return ended(Failed, CauseLocalError, err)
	}
	inv := c.invite(target, offer)
	callID := inv.CallID().Value()
	c.rings.watch(callID)
	defer c.rings.forget(callID)
	// rang takes the first ring off the socket, which a final response
	// hard on its heels can hide from the transaction (see ringWatch).
	rang := func() {
		if at, ok := c.rings.forget(callID); ok && (!res.Rang || at.Before(res.Ringing)) {
			res.Rang, res.Ringing = true, at
		}
	}

	res.Start = time.Now()
	sess, err := c.dialogs.WriteInvite(ctx, inv)
	if err != nil && tlsFailure(err) {
		ms.close()
		peer := target.Host
		if c.proxy != nil {
			peer = c.proxy.Host
		}
		err = fmt.Errorf("voice: TLS with %s failed: %w", peer, err)
		log.Error("voice: INVITE not sent", "err", err)
		return ended(Congestion, CauseTLS, err)
	}
	if err != nil {
		ms.close()
		log.Warn("voice: INVITE not sent", "err", err)
		return ended(Classify(0, false, false), CauseNoResponse, err)
	}
	ringCtx, cancelRing := context.WithTimeout(ctx, ringTimeout)
	defer cancelRing()
	var (
		earlySDP  []byte
		responded bool // any response at all, so a CANCEL could be sent
	)
	err = sess.WaitAnswer(ringCtx, sipgo.AnswerOptions{
		Username: c.cfg.Username,
		Password: c.cfg.Password,
		OnResponse: func(r *sip.Response) error {
			responded = true
			switch {
			case r.StatusCode == sip.StatusRinging || r.StatusCode == sip.StatusSessionInProgress:
				if !res.Rang {
					res.Rang, res.Ringing = true, time.Now()
				}
				if len(r.Body()) > 0 {
					earlySDP = r.Body()
				}
			case r.IsSuccess():
				res.Answer = time.Now()
			}
			return nil
		},
	})
	rang()
	final := sess.InviteResponse
	if final != nil && !final.IsProvisional() {
		res.SIPCode, res.Reason = final.StatusCode, final.Reason
	}
	if err != nil {
		defer sess.Close()
		defer ms.close()
		var rejected *sipgo.ErrDialogResponse
		switch {
		case final != nil && final.IsSuccess():
			// The answer crossed our CANCEL: it is our call to end.
			_ = sess.Ack(context.Background())
			c.bye(sess, log)
			log.Info("voice: answered as the ring timeout expired; hung up")
			return ended(NoAnswer, CauseRingTimeout, nil)
		case errors.As(err, &rejected):
			log.Info("voice: call not answered", "code", res.SIPCode, "rang", res.Rang)
			return ended(Classify(res.SIPCode, res.Rang, false), CauseRejected, nil)
		case ringCtx.Err() != nil && ctx.Err() != nil:
			log.Info("voice: call cancelled before the answer", "rang", res.Rang)
			// Shutting down is not the patient's doing: the attempt is
			// not counted, and the dialer calls again.
			return ended(Congestion, CauseCanceled, ctx.Err())
		case ringCtx.Err() != nil && responded:
			log.Info("voice: ring timeout", "rang", res.Rang)
			return ended(Classify(res.SIPCode, res.Rang, true), CauseRingTimeout, nil)
		}
		log.Warn("voice: no final response", "err", err)
		res.SIPCode = 0
		return ended(Classify(0, res.Rang, false), CauseNoResponse, err)
	}
	if res.Answer.IsZero() {
		res.Answer = time.Now()
	}
	if res.Rang {
		res.RingMS = res.Answer.Sub(res.Ringing).Milliseconds()
	}
	body := final.Body()
	if len(body) == 0 {
		body = earlySDP
	}
	answer, err := ParseAnswer(body)
	if err != nil {
		_ = sess.Ack(context.Background())
		c.bye(sess, log)
		sess.Close()
		ms.close()
		log.Warn("voice: answered without usable audio; hung up", "err", err)
		res.Outcome, res.Cause, res.Err, res.End = Failed, CauseLocalError, err, time.Now()
		return nil, res
	}
	res.Outcome = Answered
	call := &Call{
		caller:     c,
		sess:       sess,
		media:      ms,
		log:        log,
		callID:     inv.CallID().Value(),
		answer:     answer,
		sdpSession: sdpSession,
		sdpVersion: 1,
		noRTP:      c.cfg.NoRTPTimeout,
		maxDur:     maxDuration,
		hangupCh:   make(chan struct{}),
		done:       make(chan struct{}),
		res:        res,
	}
	c.mu.Lock()
	c.calls[call.callID] = call
	c.mu.Unlock()
	if err := sess.Ack(context.Background()); err != nil {
		log.Warn("voice: ACK not sent", "err", err)
	}
	ms.start(answer)
	log.Info("voice: answered", "codec", answer.Codec.String(), "events", answer.Events, "ring_ms", res.RingMS)
	go call.supervise()
	return call, res
}

// invite builds the INVITE to target with our offer.
func (c *Caller) invite(target sip.Uri, offer []byte) *sip.Request {
	inv := sip.NewRequest(sip.INVITE, target)
	inv.SetTransport(c.transport)
	from := sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "richiamo", Host: c.advertise.String()}, Params: sip.NewParams()}
	if c.proxy != nil {
		from.Address.Host, from.Address.Port = c.domain.Host, c.domain.Port
	}
	if c.cfg.CallerID != "" {
		from.Address.User = c.cfg.CallerID
	}
	from.Params.Add("tag", sip.GenerateTagN(16))
	inv.AppendHeader(&from)
	to := sip.ToHeader{Address: sip.Uri{Scheme: target.Scheme, User: target.User, Host: target.Host, Port: target.Port}}
	inv.AppendHeader(&to)
	// Set here rather than by the client, so the ring watch knows it
	// before the INVITE leaves.
	callID := sip.CallIDHeader(uuid.NewString())
	inv.AppendHeader(&callID)
	if c.proxy != nil {
		inv.AppendHeader(sip.NewHeader("Route", "<"+c.proxy.String()+">"))
	}
	if c.cfg.PAssertedIdentity != "" {
		inv.AppendHeader(sip.NewHeader("P-Asserted-Identity", c.identity(c.cfg.PAssertedIdentity)))
	}
	inv.AppendHeader(sip.NewHeader("Allow", allow))
	inv.AppendHeader(sip.NewHeader("User-Agent", "richiamo"))
	inv.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	inv.SetBody(offer)
	return inv
}

// byeTimeout bounds waiting for the answer to our BYE: the call is over
// for us either way.
const byeTimeout = 5 * time.Second

func (c *Caller) bye(sess *sipgo.DialogClientSession, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), byeTimeout)
	defer cancel()
	if err := sess.Bye(ctx); err != nil {
		log.Warn("voice: BYE", "err", err)
	}
}

// Call is an answered call. Play and Collect may be used from one
// goroutine at a time; Hangup, Done and Result from any.
type Call struct {
	caller *Caller
	sess   *sipgo.DialogClientSession
	media  *mediaSession
	log    *slog.Logger
	callID string
	answer Answer
	noRTP  time.Duration
	maxDur time.Duration

	hangupOnce sync.Once
	hangupCh   chan struct{}
	done       chan struct{}

	mu         sync.Mutex
	res        Result
	sdpSession uint64
	sdpVersion uint64
	notifies   chan sipfrag // while a Transfer waits for its NOTIFYs
}

// Play plays a prompt; a key pressed during it (or before it, and not yet
// collected) stops it, and interrupted says so. The key is left for
// Collect. It returns ErrHungUp if the call ends.
func (c *Call) Play(ctx context.Context, a *media.Audio) (interrupted bool, err error) {
	return c.media.play(ctx, a, true)
}

// PlayWhole plays a prompt that keys do not interrupt (a notice the
// patient must hear); keys pressed meanwhile are kept for Collect.
func (c *Call) PlayWhole(ctx context.Context, a *media.Audio) error {
	_, err := c.media.play(ctx, a, false)
	return err
}

// Collect waits for n keys, the first within first and each next within
// inter of the one before; keys pressed during a prompt count. On a
// timeout it returns the keys that came with ErrTimeout, and ErrHungUp if
// the call ends.
func (c *Call) Collect(ctx context.Context, n int, first, inter time.Duration) (string, error) {
	return c.media.collect(ctx, n, first, inter)
}

// Hangup ends the call with a BYE, if it is still up, and returns its
// final Result.
func (c *Call) Hangup() Result {
	c.hangupOnce.Do(func() { close(c.hangupCh) })
	<-c.done
	return c.Result()
}

// Done is closed when the call has ended, whoever ended it.
func (c *Call) Done() <-chan struct{} { return c.done }

// Result is the call's record so far; final once Done is closed.
func (c *Call) Result() Result {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.res
	if r.End.IsZero() {
		r.Digits = c.media.digits()
	}
	return r
}

// MediaStats counts the call's RTP packets.
func (c *Call) MediaStats() MediaStats { return c.media.stats() }

// supervise ends the call on the first of: the far end's BYE, Hangup, the
// maximum duration, and silence from the far end's RTP.
func (c *Call) supervise() {
	maxTimer := time.NewTimer(c.maxDur)
	defer maxTimer.Stop()
	var rtpC <-chan time.Time
	var rtpTimer *time.Timer
	if c.noRTP > 0 {
		rtpTimer = time.NewTimer(c.noRTP)
		defer rtpTimer.Stop()
		rtpC = rtpTimer.C
	}
	var cause Cause
	for cause == "" {
		select {
		case <-c.sess.Context().Done():
			cause = CauseRemoteBye
		case <-c.hangupCh:
			cause = CauseHangup
		case <-maxTimer.C:
			cause = CauseMaxDuration
		case <-rtpC:
			// Re-armed from the last packet rather than reset on every
			// packet, which would cost a timer operation 50 times a second.
			if idle := time.Since(c.media.LastRTP()); idle >= c.noRTP {
				cause = CauseNoRTP
			} else {
				rtpTimer.Reset(c.noRTP - idle)
			}
		}
	}
	end := time.Now()
	c.media.close()
	if cause != CauseRemoteBye {
		c.caller.bye(c.sess, c.log)
	}
	c.sess.Close()
	c.caller.mu.Lock()
	delete(c.caller.calls, c.callID)
	c.caller.mu.Unlock()

	c.mu.Lock()
	c.res.End = end
	c.res.TalkMS = end.Sub(c.res.Answer).Milliseconds()
	c.res.Cause = cause
	c.res.Digits = c.media.digits()
	r := c.res
	c.mu.Unlock()
	c.log.Info("voice: call ended", "cause", string(cause), "talk_ms", r.TalkMS, "keys_pressed", len(r.Digits))
	close(c.done)
}

// reinvite answers a re-INVITE (a session refresh, or the far end moving
// its audio) with our side of the call as it is. The audio may move; the
// codec may not, since the prompts in flight are encoded in it: an offer
// whose first G.711 law is not ours is refused with 488 and the call goes
// on as before.
func (c *Call) reinvite(req *sip.Request, tx sip.ServerTransaction) {
	if body := req.Body(); len(body) > 0 {
		a, err := ParseAnswer(body)
		if err != nil || a.Codec != c.answer.Codec {
			_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusNotAcceptableHere, "Not Acceptable Here", nil))
			return
		}
		c.media.setRemote(a.Addr)
	}
	formats := []format{{pt: c.answer.PayloadType, name: c.answer.Codec.String() + "/8000"}}
	if c.answer.Events {
		formats = append(formats, format{pt: c.answer.EventPayloadType, name: "telephone-event/8000", fmtp: "0-15"})
	}
	c.mu.Lock()
	c.sdpVersion++
	version := c.sdpVersion
	c.mu.Unlock()
	sdp, err := describe(c.caller.advertise, c.media.port(), c.sdpSession, version, formats)
	if err != nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusInternalServerError, "Server Internal Error", nil))
		return
	}
	res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", sdp)
	res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	res.AppendHeader(sip.HeaderClone(&c.caller.dialogs.ContactHDR))
	_ = tx.Respond(res)
}
