package patients

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/richiamo/richiamo/internal/phone"
	"github.com/richiamo/richiamo/internal/voice"
)

// Config sets up a Server.
type Config struct {
	// Listen is the SIP address, host:port over UDP; port 0 picks a free
	// one. Audio is sent and received on the same host.
	Listen string
	// TLS, when set, answers over TLS (on TCP at Listen) with its
	// certificate instead of UDP. Requests within a call go back over the
	// caller's connection, as a trunk does toward a client that does not
	// listen.
	TLS *tls.Config
	Mix Mix
	// Log receives one line per call, numbers masked; nil discards.
	Log *slog.Logger
}

// Summary counts the calls received, per behaviour.
type Summary struct {
	Seed  uint64            `json:"seed"`
	Calls int               `json:"calls"`
	By    map[Behaviour]int `json:"behaviours"`
	// Heard is the callers' audio the patients received.
	Heard Heard `json:"heard"`
}

// Server is the simulated patients' user agent. Close ends it.
type Server struct {
	log     *slog.Logger
	picker  *Picker
	maxCall time.Duration
	ip      netip.Addr // the listening host; unspecified: per call
	addr    string     // the SIP address, host:port
	conn    io.Closer  // the UDP socket or the TLS listener
	ua      *sipgo.UserAgent
	dialogs *sipgo.DialogUA
	byID    sync.Map // dialog ID → *sipgo.DialogServerSession, while answered or ringing

	ctx     context.Context
	stop    context.CancelFunc
	calls   sync.WaitGroup
	serving sync.WaitGroup

	mu      sync.Mutex
	closing bool // set by Close, under mu, so that no call starts during its Wait
	counts  map[Behaviour]int
	total   int

	heard heardCounters
}

// NewServer checks cfg and starts answering on cfg.Listen.
func NewServer(cfg Config) (*Server, error) {
	picker, err := NewPicker(cfg.Mix)
	if err != nil {
		return nil, err
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	host, _, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("patients: listen %q: %w", cfg.Listen, err)
	}
	ip := netip.IPv4Unspecified()
	if host != "" {
		if ip, err = netip.ParseAddr(host); err != nil {
			return nil, fmt.Errorf("patients: listen %q: the host must be an IP address", cfg.Listen)
		}
	}
	var (
		conn      io.Closer
		localAddr string
		port      int
		serve     func(*sipgo.Server) error
	)
	if cfg.TLS != nil {
		l, err := tls.Listen("tcp", cfg.Listen, cfg.TLS)
		if err != nil {
			return nil, fmt.Errorf("patients: SIP socket: %w", err)
		}
		conn, localAddr, port = l, l.Addr().String(), l.Addr().(*net.TCPAddr).Port
		serve = func(srv *sipgo.Server) error { return srv.ServeTLS(l) }
	} else {
		pc, err := net.ListenPacket("udp", cfg.Listen)
		if err != nil {
			return nil, fmt.Errorf("patients: SIP socket: %w", err)
		}
		conn, localAddr, port = pc, pc.LocalAddr().String(), pc.LocalAddr().(*net.UDPAddr).Port
		serve = func(srv *sipgo.Server) error { return srv.ServeUDP(pc) }
	}
	hostname := ip.String()
	if ip.IsUnspecified() {
		hostname = localIPToward(netip.MustParseAddrPort("192.0.2.1:5060")).String()
	}
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("richiamo-patients"), sipgo.WithUserAgentHostname(hostname),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(log)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(log)))
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("patients: %w", err)
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(log))
	if err != nil {
		ua.Close()
		conn.Close()
		return nil, fmt.Errorf("patients: %w", err)
	}
	clientOpts := []sipgo.ClientOption{sipgo.WithClientHostname(hostname), sipgo.WithClientPort(port)}
	if cfg.TLS == nil {
		clientOpts = append(clientOpts, sipgo.WithClientConnectionAddr(localAddr))
	}
	client, err := sipgo.NewClient(ua, clientOpts...)
	if err != nil {
		ua.Close()
		conn.Close()
		return nil, fmt.Errorf("patients: %w", err)
	}
	contact := sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "patient", Host: hostname, Port: port}}
	if cfg.TLS != nil {
		contact.Address.UriParams = sip.NewParams()
		contact.Address.UriParams.Add("transport", "tls")
	}
	maxCall := cfg.Mix.MaxCall
	if maxCall <= 0 {
		maxCall = 5 * time.Minute
	}
	ctx, stop := context.WithCancel(context.Background())
	s := &Server{
		log:     log,
		picker:  picker,
		maxCall: maxCall,
		ip:      ip,
		addr:    localAddr,
		conn:    conn,
		ua:      ua,
		dialogs: &sipgo.DialogUA{Client: client, ContactHDR: contact, RewriteContact: cfg.TLS != nil},
		ctx:     ctx,
		stop:    stop,
		counts:  map[Behaviour]int{},
	}
	srv.OnInvite(s.invite)
	srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) {
		if sess := s.session(req); sess != nil {
			_ = sess.ReadAck(req, tx)
		}
	})
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		sess := s.session(req)
		if sess == nil || sess.ReadBye(req, tx) != nil {
			_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
		}
	})
	srv.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
		// Standing in for a trunk: it answers the engine's keep-alive.
		res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
		res.AppendHeader(sip.NewHeader("Allow", "INVITE, ACK, BYE, CANCEL, OPTIONS"))
		_ = tx.Respond(res)
	})
	s.serving.Go(func() { _ = serve(srv) })
	return s, nil
}

// session is the call a request within a dialog belongs to.
func (s *Server) session(req *sip.Request) *sipgo.DialogServerSession {
	id, err := sip.DialogIDFromRequestUAS(req)
	if err != nil {
		return nil
	}
	v, ok := s.byID.Load(id)
	if !ok {
		return nil
	}
	return v.(*sipgo.DialogServerSession)
}

// Addr is the SIP address the patients answer on, host:port.
func (s *Server) Addr() string { return s.addr }

// Seed is the seed of the mix's sequence, given or drawn.
func (s *Server) Seed() uint64 { return s.picker.Seed() }

// Override scripts the patients behind numbers ending in o.EndsWith from
// the next call on (see Picker.Override).
func (s *Server) Override(o Override) error { return s.picker.Override(o) }

// Summary counts the calls received so far.
func (s *Server) Summary() Summary {
	s.mu.Lock()
	defer s.mu.Unlock()
	sum := Summary{Seed: s.picker.Seed(), Calls: s.total, By: map[Behaviour]int{}, Heard: s.heard.load()}
	for _, b := range Behaviours {
		sum.By[b] = s.counts[b]
	}
	return sum
}

// Heard is the callers' audio the patients have received so far.
func (s *Server) Heard() Heard { return s.heard.load() }

// Close hangs up the calls in progress (BYE when answered, 480 when still
// ringing) and stops the user agent.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	s.stop()
	s.calls.Wait()
	err := s.conn.Close()
	s.ua.Close()
	s.serving.Wait()
	return err
}

func (s *Server) invite(req *sip.Request, tx sip.ServerTransaction) {
	if s.ctx.Err() != nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusServiceUnavailable, "Service Unavailable", nil))
		return
	}
	if req.To() != nil && req.To().Params.Has("tag") {
		// A re-INVITE: the patients keep the audio where it is.
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusNotAcceptableHere, "Not Acceptable Here", nil))
		return
	}
	number := req.Recipient.User
	b, rule := s.picker.Pick(number)
	s.mu.Lock()
	s.counts[b]++
	s.total++
	s.mu.Unlock()
	log := s.log.With("to", phone.Mask(number), "behaviour", string(b))
	sess, err := s.dialogs.ReadInvite(req, tx)
	if err != nil {
		log.Warn("patients: INVITE refused", "err", err)
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusBadRequest, "Bad Request", nil))
		return
	}
	s.byID.Store(sess.ID, sess)
	defer s.byID.Delete(sess.ID)
	// sipgo ends the INVITE transaction when the handler returns: the
	// handler lasts as long as the call. A call must not start once Close
	// waits for the calls (WaitGroup.Add racing Wait).
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		sess.Close()
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusServiceUnavailable, "Service Unavailable", nil))
		return
	}
	s.calls.Add(1)
	s.mu.Unlock()
	defer s.calls.Done()
	defer sess.Close()
	s.play(sess, b, rule, log)
}

// play carries out one call's behaviour.
func (s *Server) play(sess *sipgo.DialogServerSession, b Behaviour, rule Rule, log *slog.Logger) {
	callCtx := sess.Context()
	if b == NeverAnswer || rule.Ring > 0 {
		if err := sess.Respond(sip.StatusRinging, "Ringing", nil); err != nil {
			log.Warn("patients: 180 not sent", "err", err)
			return
		}
	}
	if b == NeverAnswer {
		select {
		case <-callCtx.Done():
			log.Info("patients: cancelled while ringing")
		case <-s.ctx.Done():
			_ = sess.Respond(sip.StatusTemporarilyUnavailable, "Temporarily Unavailable", nil)
		}
		return
	}
	if !wait(callCtx, s.ctx, rule.Ring) {
		if s.ctx.Err() != nil {
			_ = sess.Respond(sip.StatusTemporarilyUnavailable, "Temporarily Unavailable", nil)
		}
		return
	}
	if b == Busy {
		if err := sess.Respond(sip.StatusBusyHere, "Busy Here", nil); err != nil {
			log.Warn("patients: 486 not sent", "err", err)
		}
		log.Info("patients: busy")
		return
	}
	if b == WrongNumber {
		if err := sess.Respond(sip.StatusNotFound, "Not Found", nil); err != nil {
			log.Warn("patients: 404 not sent", "err", err)
		}
		log.Info("patients: wrong number")
		return
	}

	offer, err := voice.ParseOffer(sess.InviteRequest.Body())
	if err != nil {
		log.Warn("patients: offer without usable audio", "err", err)
		_ = sess.Respond(sip.StatusNotAcceptableHere, "Not Acceptable Here", nil)
		return
	}
	ip := s.ip
	if ip.IsUnspecified() {
		ip = localIPToward(offer.Addr)
	}
	rtpConn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, 0)))
	if err != nil {
		log.Error("patients: no RTP port", "err", err)
		_ = sess.Respond(sip.StatusInternalServerError, "Server Internal Error", nil)
		return
	}
	defer rtpConn.Close()
	answer, err := voice.AnswerSDP(ip, rtpConn.LocalAddr().(*net.UDPAddr).Port, rand.Uint64()>>1, 1, offer)
	if err != nil {
		_ = sess.Respond(sip.StatusInternalServerError, "Server Internal Error", nil)
		return
	}
	// RespondSDP returns once the ACK has come (or the retransmissions
	// gave up on it).
	if err := sess.RespondSDP(answer); err != nil {
		log.Warn("patients: answer not acknowledged", "err", err)
		return
	}
	log.Info("patients: answered", "codec", offer.Codec.String(), "events", offer.Events)

	mediaCtx, stopMedia := context.WithCancel(callCtx)
	st := newStream(rtpConn, offer, &s.heard)
	var media sync.WaitGroup
	media.Go(func() { st.run(mediaCtx) })
	defer func() {
		stopMedia()
		rtpConn.Close()
		media.Wait()
	}()

	hangUp := func(why string) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := sess.Bye(ctx); err != nil {
			log.Warn("patients: BYE", "err", err)
		}
		log.Info("patients: hung up", "why", why)
	}
	if !wait(callCtx, s.ctx, rule.After) {
		if s.ctx.Err() != nil {
			hangUp("shutdown")
		}
		return
	}
	switch b {
	case HangUpDuringPrompt:
		hangUp("during the prompt")
		return
	case AnswerAndPress, InvalidKey:
		st.press <- rule.Digits
	}
	maxCall := time.NewTimer(s.maxCall)
	defer maxCall.Stop()
	select {
	case <-callCtx.Done():
		log.Info("patients: the caller hung up")
	case <-s.ctx.Done():
		hangUp("shutdown")
	case <-maxCall.C:
		hangUp("longest call reached")
	}
}

// wait sleeps d unless the call or the server ends first; it says whether
// d elapsed.
func wait(call, server context.Context, d time.Duration) bool {
	if d <= 0 {
		return call.Err() == nil && server.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-call.Done():
	case <-server.Done():
	}
	return false
}

// localIPToward is the local address that routes to a, for the SDP when
// listening on every interface.
func localIPToward(a netip.AddrPort) netip.Addr {
	conn, err := net.Dial("udp", net.JoinHostPort(a.Addr().String(), strconv.Itoa(int(max(a.Port(), 1)))))
	if err != nil {
		return netip.AddrFrom4([4]byte{127, 0, 0, 1})
	}
	defer conn.Close()
	return conn.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap()
}
