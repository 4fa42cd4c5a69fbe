// Package twiliotest is a protocol-level fake of Twilio's Programmable
// Messaging REST API (2010-04-01 Messages resource) and of the webhooks
// Twilio sends: signed status callbacks and inbound messages. Tests use it
// through twilio-go exactly as they would use Twilio, and the demo command
// runs the product against it, so it is an ordinary package.
//
// It answers with Twilio's JSON shapes and error codes, checks HTTP basic
// auth, can rate-limit with Twilio's 429, and can be scripted to fail sends
// in the ways that matter to a sender: an error answer, a lost answer after
// the message was created, a slow answer, a failed delivery.
package twiliotest

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/richiamo/richiamo/internal/sms"
)

// Credentials used when Options leave them empty.
const (
	DefaultAccountSID = "AC00000000000000000000000000000001"
	DefaultAuthToken  = "0123456789abcdef0123456789abcdef"
)

const (
	apiVersion    = "2010-04-01"
	serviceSender = "+15005550006" // sender a messaging service "picks" when it sends
	maxBody       = 1600
	maxPageSize   = 1000
	dateLayout    = time.RFC1123Z // Twilio's date format, always in +0000
)

// ErrClosed is returned by the Wait methods once the server is closed.
var ErrClosed = errors.New("twiliotest: server closed")

// Options configure the fake.
type Options struct {
	AccountSID string // DefaultAccountSID when empty
	AuthToken  string // DefaultAuthToken when empty
	// RateLimit is the number of messages accepted per second; beyond it a
	// send is answered 429 with Twilio's error 20429. 0 means unlimited.
	RateLimit float64
	// Burst is how many sends may arrive at once without being limited; the
	// default is a tenth of a second of RateLimit, at least 1, so that a
	// client going too fast is seen within a short test.
	Burst int
	// Latency delays every API request before it is handled.
	Latency time.Duration
	// DeliveryDelay is the time between accepting a message and reporting
	// it sent (then delivered, or undelivered).
	DeliveryDelay time.Duration
	// Logf, if set, receives one line per notable event; phone numbers and
	// bodies are never logged.
	Logf func(format string, args ...any)
	// Listen is the address to listen on (Start only; NewServer and the
	// default take 127.0.0.1, port 0).
	Listen string
	// StatusCallback receives the delivery reports of the messages that
	// name no StatusCallback of their own ("": none).
	StatusCallback string
	// Control serves the control endpoints under /control/ (see
	// ControlHelp), behind the account's basic auth; InboundURL is where
	// /control/inbound forwards patients' replies.
	Control    bool
	InboundURL string
}

// Msg is a message the fake accepted, as it stands now.
type Msg struct {
	Sid                 string
	AccountSid          string
	To                  string
	From                string // "" until sent when a messaging service was used
	MessagingServiceSid string
	Body                string
	StatusCallback      string
	Status              string // queued/accepted, sent, delivered, undelivered, failed
	ErrorCode           int
	NumSegments         int
	Created             time.Time
	Sent                time.Time // zero until sent
	Updated             time.Time
}

type record struct {
	Msg
	idx      int // position in Server.msgs
	failCode int // scripted delivery failure, 0 for none
}

type waitKind int

const (
	waitAccepted waitKind = iota
	waitFinal
)

type waiter struct {
	kind waitKind
	n    int
	ch   chan struct{}
}

// Server is the fake, listening on 127.0.0.1 on a port of its own.
type Server struct {
	opts   Options
	burst  float64
	url    string
	srv    *http.Server
	client *http.Client // for status callbacks and Inbound
	ctx    context.Context
	cancel context.CancelFunc
	salt   uint64

	serveDone chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup // deliveries in flight

	received    atomic.Int64
	rejected429 atomic.Int64
	faults      atomic.Int64
	inbound     atomic.Int64
	callbackErr atomic.Int64

	mu      sync.Mutex
	closed  bool
	seq     uint64
	msgs    []*record
	bySid   map[string]*record
	countTo map[string]int
	times   []time.Time
	final   int
	scripts map[string][]Fault
	next    []Fault
	tokens  float64
	refill  time.Time
	waiters []waiter
}

// NewServer starts a fake on 127.0.0.1, port 0. It panics if it cannot
// listen, as httptest.NewServer does, since it is a test fixture.
func NewServer(opts Options) *Server {
	opts.Listen = ""
	s, err := Start(opts)
	if err != nil {
		panic(err.Error())
	}
	return s
}

// Start starts a fake on opts.Listen (default 127.0.0.1, port 0): the one
// `richiamo simulate twilio` runs as a process of its own.
func Start(opts Options) (*Server, error) {
	if opts.AccountSID == "" {
		opts.AccountSID = DefaultAccountSID
	}
	if opts.AuthToken == "" {
		opts.AuthToken = DefaultAuthToken
	}
	addr := opts.Listen
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("twiliotest: listening: %w", err)
	}
	var salt [8]byte
	_, _ = rand.Read(salt[:])
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		opts:      opts,
		url:       "http://" + ln.Addr().String(),
		ctx:       ctx,
		cancel:    cancel,
		salt:      binary.BigEndian.Uint64(salt[:]),
		serveDone: make(chan struct{}),
		bySid:     map[string]*record{},
		countTo:   map[string]int{},
		scripts:   map[string][]Fault{},
		refill:    time.Now(),
	}
	if opts.RateLimit > 0 {
		s.burst = float64(opts.Burst)
		if s.burst <= 0 {
			s.burst = math.Max(1, math.Floor(opts.RateLimit/10))
		}
		s.tokens = s.burst
	}
	// Callbacks go to one or two local hosts at up to thousands a second:
	// keep connections alive rather than exhaust ephemeral ports.
	s.client = &http.Client{
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
			MaxIdleConns:        128,
			MaxIdleConnsPerHost: 64,
			MaxConnsPerHost:     64,
			IdleConnTimeout:     30 * time.Second,
		},
		Timeout: 30 * time.Second,
	}

	mux := http.NewServeMux()
	base := "/" + apiVersion + "/Accounts/{account}/"
	mux.HandleFunc("POST "+base+"Messages.json", s.create)
	mux.HandleFunc("GET "+base+"Messages.json", s.list)
	mux.HandleFunc("GET "+base+"Messages/{file}", s.fetch)
	if opts.Control {
		s.control(mux)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
	})
	s.srv = &http.Server{Handler: s.withLatency(mux), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(s.serveDone)
		_ = s.srv.Serve(ln)
	}()
	return s, nil
}

// URL is the base URL to give the client (TwilioConfig.BaseURL).
func (s *Server) URL() string { return s.url }

// AccountSID is the account the fake serves, for the client's config.
func (s *Server) AccountSID() string { return s.opts.AccountSID }

// AuthToken is the token the fake checks and signs its webhooks with.
func (s *Server) AuthToken() string { return s.opts.AuthToken }

// Close stops the server: stalled answers and pending deliveries are cut
// short, callbacks in flight are cancelled, and Close returns once every
// goroutine of the fake has ended.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		for _, w := range s.waiters {
			close(w.ch)
		}
		s.waiters = nil
		s.mu.Unlock()

		s.cancel()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.srv.Shutdown(ctx) // handlers return promptly: they watch s.ctx
		_ = s.srv.Close()
		<-s.serveDone
		s.wg.Wait()
		s.client.CloseIdleConnections()
	})
}

func (s *Server) logf(format string, args ...any) {
	if s.opts.Logf != nil {
		s.opts.Logf("twiliotest: "+format, args...)
	}
}

// Script queues faults for the next sends to one recipient; they are used
// before those queued by ScriptNext.
func (s *Server) Script(to string, faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scripts[to] = append(s.scripts[to], faults...)
}

// ScriptNext queues faults for the next sends, whatever the recipient.
func (s *Server) ScriptNext(faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next = append(s.next, faults...)
}

// Messages returns the accepted messages in the order they were accepted.
func (s *Server) Messages() []Msg {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Msg, len(s.msgs))
	for i, r := range s.msgs {
		out[i] = r.Msg
	}
	return out
}

// CountTo is the number of messages accepted for one recipient.
func (s *Server) CountTo(to string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.countTo[to]
}

// Received is the number of send requests that arrived, whatever the answer.
func (s *Server) Received() int { return int(s.received.Load()) }

// Rejected429 is the number of sends refused by the rate limit (scripted
// Status faults are not counted).
func (s *Server) Rejected429() int { return int(s.rejected429.Load()) }

// AcceptedTimes are the times the messages were accepted, in order, from
// which a benchmark computes the rate it achieved.
func (s *Server) AcceptedTimes() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.times...)
}

// WaitAccepted returns once n messages have been accepted, or with the
// context's error, or ErrClosed.
func (s *Server) WaitAccepted(ctx context.Context, n int) error {
	return s.wait(ctx, waitAccepted, n)
}

// WaitFinal returns once n messages have reached a final status (delivered,
// undelivered or failed) and their last status callback has been answered.
func (s *Server) WaitFinal(ctx context.Context, n int) error {
	return s.wait(ctx, waitFinal, n)
}

func (s *Server) wait(ctx context.Context, kind waitKind, n int) error {
	s.mu.Lock()
	if s.countLocked(kind) >= n {
		s.mu.Unlock()
		return nil
	}
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	ch := make(chan struct{})
	s.waiters = append(s.waiters, waiter{kind: kind, n: n, ch: ch})
	s.mu.Unlock()

	select {
	case <-ch:
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.countLocked(kind) >= n {
			return nil
		}
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Server) countLocked(kind waitKind) int {
	if kind == waitFinal {
		return s.final
	}
	return len(s.msgs)
}

// notifyLocked wakes the waiters whose count has been reached.
func (s *Server) notifyLocked() {
	if len(s.waiters) == 0 {
		return
	}
	kept := s.waiters[:0]
	for _, w := range s.waiters {
		if s.countLocked(w.kind) >= w.n {
			close(w.ch)
			continue
		}
		kept = append(kept, w)
	}
	s.waiters = kept
}

// pause waits for d unless the request or the server ends first.
func (s *Server) pause(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.ctx.Done():
		return false
	}
}

func (s *Server) withLatency(h http.Handler) http.Handler {
	if s.opts.Latency <= 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.pause(r.Context(), s.opts.Latency) {
			h.ServeHTTP(w, r)
		}
	})
}

// authorized answers 401 or 404 as Twilio does when the credentials or the
// account in the path are wrong.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	user, pass, ok := r.BasicAuth()
	if !ok || subtle.ConstantTimeCompare([]byte(user), []byte(s.opts.AccountSID)) != 1 ||
		subtle.ConstantTimeCompare([]byte(pass), []byte(s.opts.AuthToken)) != 1 {
		writeError(w, http.StatusUnauthorized, 20003, "Authenticate")
		return false
	}
	if r.PathValue("account") != s.opts.AccountSID {
		writeError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
		return false
	}
	return true
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	s.received.Add(1)
	if !s.authorized(w, r) {
		return
	}
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, 20001, "Invalid form body")
		return
	}
	f := r.PostForm
	to, body, from, service := f.Get("To"), f.Get("Body"), f.Get("From"), f.Get("MessagingServiceSid")
	switch {
	case to == "":
		writeError(w, http.StatusBadRequest, 21604, "A 'To' phone number is required.")
		return
	case body == "":
		writeError(w, http.StatusBadRequest, 21602, "Message body is required.")
		return
	case from == "" && service == "":
		writeError(w, http.StatusBadRequest, 21603, "A 'From' or 'MessagingServiceSid' parameter is required to send a message.")
		return
	case !e164.MatchString(to):
		writeError(w, http.StatusBadRequest, 21211, fmt.Sprintf("The 'To' number %s is not a valid phone number.", to))
		return
	case len([]rune(body)) > maxBody:
		writeError(w, http.StatusBadRequest, 21617, "The concatenated message body exceeds the 1600 character limit.")
		return
	}
	if !s.allow() {
		s.rejected429.Add(1)
		writeError(w, http.StatusTooManyRequests, 20429, "Too Many Requests")
		return
	}
	fault := s.popFault(to)
	if fault.kind != faultNone {
		s.faults.Add(1)
	}
	switch fault.kind {
	case faultStatus:
		s.logf("scripted %s", fault)
		writeError(w, fault.status, fault.code, fault.msg)
		return
	case faultDropBefore:
		s.logf("scripted %s", fault)
		hangUp(w)
		return
	}
	failCode := 0
	if fault.kind == faultDelivery {
		failCode = fault.code
	}
	answer := s.accept(Msg{
		AccountSid:          s.opts.AccountSID,
		To:                  to,
		From:                from,
		MessagingServiceSid: service,
		Body:                body,
		StatusCallback:      f.Get("StatusCallback"),
	}, failCode)

	switch fault.kind {
	case faultDrop:
		s.logf("scripted %s for %s", fault, answer.Sid)
		hangUp(w)
		return
	case faultStall:
		s.logf("scripted %s for %s", fault, answer.Sid)
		if !s.pause(r.Context(), fault.d) {
			return
		}
	}
	writeJSON(w, http.StatusCreated, answer)
}

// hangUp closes the connection without an answer.
func hangUp(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// allow takes a token from the rate limit's bucket.
func (s *Server) allow() bool {
	if s.opts.RateLimit <= 0 {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	s.tokens = math.Min(s.burst, s.tokens+now.Sub(s.refill).Seconds()*s.opts.RateLimit)
	s.refill = now
	if s.tokens >= 1 {
		s.tokens--
		return true
	}
	return false
}

func (s *Server) popFault(to string) Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	if q := s.scripts[to]; len(q) > 0 {
		s.scripts[to] = q[1:]
		return q[0]
	}
	if len(s.next) > 0 {
		f := s.next[0]
		s.next = s.next[1:]
		return f
	}
	return Fault{}
}

// accept records the message, schedules its delivery and returns the JSON
// Twilio answers with.
func (s *Server) accept(m Msg, failCode int) messageJSON {
	now := time.Now().UTC()
	m.Created, m.Updated = now, now
	if m.MessagingServiceSid != "" {
		m.Status = "accepted" // a service picks the sender, and counts segments, later
	} else {
		m.Status = "queued"
		m.NumSegments = sms.Analyze(m.Body).Segments
	}

	s.mu.Lock()
	s.seq++
	m.Sid = fmt.Sprintf("SM%016x%016x", s.salt, s.seq)
	rec := &record{Msg: m, idx: len(s.msgs), failCode: failCode}
	s.msgs = append(s.msgs, rec)
	s.bySid[m.Sid] = rec
	s.countTo[m.To]++
	s.times = append(s.times, now)
	s.notifyLocked()
	// Checked under the lock that Close takes before waiting, so that no
	// delivery starts after Close began to wait for them.
	if !s.closed {
		s.wg.Add(1)
		go s.deliver(rec)
	}
	answer := s.jsonLocked(rec)
	s.mu.Unlock()
	s.logf("accepted %s (%d segments)", m.Sid, m.NumSegments)
	return answer
}

// deliver moves a message through its statuses and posts a callback for
// each, in order, never retrying one.
func (s *Server) deliver(rec *record) {
	defer s.wg.Done()
	if !s.pause(s.ctx, s.opts.DeliveryDelay) {
		return
	}
	code := rec.failCode
	if code != 0 && failsBeforeSending[code] {
		s.report(rec, "failed", code)
	} else {
		s.report(rec, "sent", 0)
		final := "delivered"
		if code != 0 {
			final = "undelivered"
		}
		s.report(rec, final, code)
	}
	s.mu.Lock()
	s.final++
	s.notifyLocked()
	s.mu.Unlock()
}

// report sets a status and posts the status callback for it.
func (s *Server) report(rec *record, status string, code int) {
	s.mu.Lock()
	now := time.Now().UTC()
	rec.Status, rec.ErrorCode, rec.Updated = status, code, now
	if status == "sent" {
		rec.Sent = now
		if rec.From == "" {
			rec.From = serviceSender
		}
		if rec.NumSegments == 0 {
			rec.NumSegments = sms.Analyze(rec.Body).Segments
		}
	}
	callback := rec.StatusCallback
	if callback == "" {
		callback = s.opts.StatusCallback
	}
	form := url.Values{
		"MessageSid":    {rec.Sid},
		"SmsSid":        {rec.Sid},
		"MessageStatus": {status},
		"SmsStatus":     {status},
		"To":            {rec.To},
		"From":          {rec.From},
		"AccountSid":    {rec.AccountSid},
		"ApiVersion":    {apiVersion},
	}
	if rec.MessagingServiceSid != "" {
		form.Set("MessagingServiceSid", rec.MessagingServiceSid)
	}
	if code != 0 {
		form.Set("ErrorCode", strconv.Itoa(code))
	}
	sid := rec.Sid
	s.mu.Unlock()

	if callback == "" {
		return
	}
	resp, err := s.post(s.ctx, callback, form)
	if err != nil {
		s.callbackErr.Add(1)
		s.logf("status callback %s for %s: %v", status, sid, err)
		return
	}
	if resp.StatusCode >= 300 {
		s.callbackErr.Add(1)
		s.logf("status callback %s for %s: answered %s", status, sid, resp.Status)
	}
	drain(resp)
}

// post sends a signed webhook, as Twilio does.
func (s *Server) post(ctx context.Context, target string, form url.Values) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "TwilioProxy/1.1")
	req.Header.Set("X-Twilio-Signature", Signature(s.opts.AuthToken, target, form))
	return s.client.Do(req)
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
}

// Inbound posts a signed inbound-message webhook to target, as Twilio does
// when a patient replies from `from` to our number `to`. The caller closes
// the response body.
func (s *Server) Inbound(ctx context.Context, target, from, to, body string) (*http.Response, error) {
	s.mu.Lock()
	s.seq++
	sid := fmt.Sprintf("SM%016x%016x", s.salt, s.seq)
	s.mu.Unlock()
	form := url.Values{
		"MessageSid":    {sid},
		"SmsSid":        {sid},
		"SmsMessageSid": {sid},
		"AccountSid":    {s.opts.AccountSID},
		"From":          {from},
		"To":            {to},
		"Body":          {body},
		"NumMedia":      {"0"},
		"NumSegments":   {strconv.Itoa(sms.Analyze(body).Segments)},
		"SmsStatus":     {"received"},
		"ApiVersion":    {apiVersion},
	}
	s.inbound.Add(1)
	resp, err := s.post(ctx, target, form)
	if err != nil {
		return nil, fmt.Errorf("twiliotest: inbound webhook: %w", err)
	}
	return resp, nil
}

func (s *Server) fetch(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	sid, ok := strings.CutSuffix(r.PathValue("file"), ".json")
	s.mu.Lock()
	rec := s.bySid[sid]
	var answer messageJSON
	if rec != nil {
		answer = s.jsonLocked(rec)
	}
	s.mu.Unlock()
	if !ok || rec == nil {
		writeError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
		return
	}
	writeJSON(w, http.StatusOK, answer)
}

// list serves the Messages list, newest first, with Twilio's filters on To,
// From and the day the message was sent (a message not sent yet has no such
// day and matches no date filter), and Twilio's paging: Page and PageSize,
// and a PageToken naming the last message of the previous page.
func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	q := r.URL.Query()
	filters := url.Values{}
	for _, k := range []string{"To", "From", "DateSent", "DateSent>", "DateSent<"} {
		if v := q.Get(k); v != "" {
			filters.Set(k, v)
		}
	}
	var on, after, before time.Time
	for k, dst := range map[string]*time.Time{"DateSent": &on, "DateSent>": &after, "DateSent<": &before} {
		if v := filters.Get(k); v != "" {
			d, ok := parseDay(v)
			if !ok {
				writeError(w, http.StatusBadRequest, 20001, "Invalid date value.")
				return
			}
			*dst = d
		}
	}
	pageSize := 50
	if v := q.Get("PageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeError(w, http.StatusBadRequest, 20001, "Invalid PageSize")
			return
		}
		pageSize = min(n, maxPageSize)
	}
	page, _ := strconv.Atoi(q.Get("Page"))
	page = max(page, 0)
	token := q.Get("PageToken")

	match := func(m *record) bool {
		if to := filters.Get("To"); to != "" && m.To != to {
			return false
		}
		if from := filters.Get("From"); from != "" && m.From != from {
			return false
		}
		if on.IsZero() && after.IsZero() && before.IsZero() {
			return true
		}
		if m.Sent.IsZero() {
			return false
		}
		day := dayOf(m.Sent)
		return (on.IsZero() || day.Equal(on)) && (after.IsZero() || !day.Before(after)) && (before.IsZero() || !day.After(before))
	}

	s.mu.Lock()
	start := len(s.msgs) - 1
	skip := page * pageSize
	if sid, ok := strings.CutPrefix(token, "PA"); ok {
		if rec := s.bySid[sid]; rec != nil {
			start, skip = rec.idx-1, 0
		}
	}
	msgs := make([]messageJSON, 0, min(pageSize, 64))
	more := false
	for i := start; i >= 0; i-- {
		rec := s.msgs[i]
		if !match(rec) {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		if len(msgs) == pageSize {
			more = true
			break
		}
		msgs = append(msgs, s.jsonLocked(rec))
	}
	s.mu.Unlock()

	path := r.URL.Path
	pageURI := func(p int, token string) string {
		v := url.Values{}
		for k, vs := range filters {
			v[k] = vs
		}
		v.Set("PageSize", strconv.Itoa(pageSize))
		v.Set("Page", strconv.Itoa(p))
		if token != "" {
			v.Set("PageToken", token)
		}
		return path + "?" + v.Encode()
	}
	answer := listJSON{
		FirstPageURI: pageURI(0, ""),
		URI:          pageURI(page, token),
		Page:         page,
		PageSize:     pageSize,
		Start:        page * pageSize,
		End:          page*pageSize + max(len(msgs)-1, 0),
		Messages:     msgs,
	}
	if more {
		next := pageURI(page+1, "PA"+msgs[len(msgs)-1].Sid)
		answer.NextPageURI = &next
	}
	if page > 0 {
		prev := pageURI(page-1, "")
		answer.PreviousPageURI = &prev
	}
	writeJSON(w, http.StatusOK, answer)
}

// parseDay reads a DateSent filter: Twilio documents YYYY-MM-DD and accepts
// a full timestamp (twilio-go sends RFC 3339), of which only the UTC day
// counts.
func parseDay(v string) (time.Time, bool) {
	if d, err := time.Parse(time.DateOnly, v); err == nil {
		return d, true
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return dayOf(t), true
	}
	return time.Time{}, false
}

func dayOf(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// messageJSON is Twilio's Message resource; pointers are the fields Twilio
// sends as null.
type messageJSON struct {
	AccountSid          string            `json:"account_sid"`
	APIVersion          string            `json:"api_version"`
	Body                string            `json:"body"`
	DateCreated         string            `json:"date_created"`
	DateSent            *string           `json:"date_sent"`
	DateUpdated         string            `json:"date_updated"`
	Direction           string            `json:"direction"`
	ErrorCode           *int              `json:"error_code"`
	ErrorMessage        *string           `json:"error_message"`
	From                *string           `json:"from"`
	MessagingServiceSid *string           `json:"messaging_service_sid"`
	NumMedia            string            `json:"num_media"`
	NumSegments         string            `json:"num_segments"`
	Price               *string           `json:"price"`
	PriceUnit           string            `json:"price_unit"`
	Sid                 string            `json:"sid"`
	Status              string            `json:"status"`
	SubresourceURIs     map[string]string `json:"subresource_uris"`
	To                  string            `json:"to"`
	URI                 string            `json:"uri"`
}

type listJSON struct {
	End             int           `json:"end"`
	FirstPageURI    string        `json:"first_page_uri"`
	NextPageURI     *string       `json:"next_page_uri"`
	Page            int           `json:"page"`
	PageSize        int           `json:"page_size"`
	PreviousPageURI *string       `json:"previous_page_uri"`
	Start           int           `json:"start"`
	URI             string        `json:"uri"`
	Messages        []messageJSON `json:"messages"`
}

type errorJSON struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

func (s *Server) jsonLocked(rec *record) messageJSON {
	uri := "/" + apiVersion + "/Accounts/" + rec.AccountSid + "/Messages/" + rec.Sid
	m := messageJSON{
		AccountSid:      rec.AccountSid,
		APIVersion:      apiVersion,
		Body:            rec.Body,
		DateCreated:     rec.Created.Format(dateLayout),
		DateUpdated:     rec.Updated.Format(dateLayout),
		Direction:       "outbound-api",
		NumMedia:        "0",
		NumSegments:     strconv.Itoa(rec.NumSegments),
		PriceUnit:       "USD",
		Sid:             rec.Sid,
		Status:          rec.Status,
		SubresourceURIs: map[string]string{"media": uri + "/Media.json", "feedback": uri + "/Feedback.json"},
		To:              rec.To,
		URI:             uri + ".json",
	}
	if !rec.Sent.IsZero() {
		sent := rec.Sent.Format(dateLayout)
		m.DateSent = &sent
	}
	if rec.ErrorCode != 0 {
		code := rec.ErrorCode
		m.ErrorCode = &code
	}
	if rec.From != "" {
		from := rec.From
		m.From = &from
	}
	if rec.MessagingServiceSid != "" {
		service := rec.MessagingServiceSid
		m.MessagingServiceSid = &service
	}
	return m
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status, code int, msg string) {
	writeJSON(w, status, errorJSON{
		Code:     code,
		Message:  msg,
		MoreInfo: fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code),
		Status:   status,
	})
}
