package sms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"
)

const (
	// DefaultTimeout bounds one Send or one Find when neither the config nor
	// its HTTPClient sets a timeout; a little longer than twilio-go's own
	// 10s, since a Find may read several pages.
	DefaultTimeout = 15 * time.Second
	// ClockSkew is how much earlier than since Find still looks, so that a
	// difference between our clock and Twilio's cannot hide a message.
	ClockSkew = 2 * time.Minute
	// OutboxParam is the query parameter added to the status callback URL
	// with the message's OutboxID, so that a callback can be tied to our
	// outbox row even when the send's outcome, and so its SID, is unknown.
	OutboxParam = "outbox"

	twilioAPIBase = "https://api.twilio.com"
	findPageSize  = 50
	findMaxPages  = 20
)

// TwilioConfig configures the Twilio gateway.
type TwilioConfig struct {
	AccountSID          string
	AuthToken           string
	MessagingServiceSID string // MG…; exactly one of this and From
	From                string // E.164 number or alphanumeric sender ID (≤ 11 characters)
	StatusCallback      string // where Twilio posts delivery reports; "" for none
	BaseURL             string // "" = real Twilio; tests point it at a fake
	// HTTPClient lends its Transport (and its Timeout when Timeout is 0);
	// redirects are never followed, whatever it says.
	HTTPClient *http.Client
	// Timeout bounds one Send or one Find, all pages included; 0 means
	// DefaultTimeout.
	Timeout time.Duration
}

var (
	sidPattern   = regexp.MustCompile(`^[A-Za-z0-9]{34}$`)
	e164Pattern  = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)
	alnumPattern = regexp.MustCompile(`^[A-Za-z0-9 ]{1,11}$`)
	letter       = regexp.MustCompile(`[A-Za-z]`)
	tokenPattern = regexp.MustCompile(`^[A-Za-z0-9]+$`)
)

// Validate reports every bad setting by its field name; secrets are never
// repeated in the message.
func (c TwilioConfig) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("sms: twilio config: "+format, args...))
	}
	if !strings.HasPrefix(c.AccountSID, "AC") || !sidPattern.MatchString(c.AccountSID) {
		bad("AccountSID must start with \"AC\" and be 34 letters or digits")
	}
	// twilio-go refuses to send credentials with other characters.
	if !tokenPattern.MatchString(c.AuthToken) {
		bad("AuthToken must be set and made of letters and digits only")
	}
	switch {
	case c.MessagingServiceSID == "" && c.From == "":
		bad("set MessagingServiceSID or From")
	case c.MessagingServiceSID != "" && c.From != "":
		bad("set only one of MessagingServiceSID and From")
	case c.MessagingServiceSID != "":
		if !strings.HasPrefix(c.MessagingServiceSID, "MG") || !sidPattern.MatchString(c.MessagingServiceSID) {
			bad("MessagingServiceSID must start with \"MG\" and be 34 letters or digits")
		}
	default:
		if !e164Pattern.MatchString(c.From) && !(alnumPattern.MatchString(c.From) && letter.MatchString(c.From)) {
			bad("From must be an E.164 number (+39…) or an alphanumeric sender of at most 11 letters, digits or spaces, with at least one letter")
		}
	}
	if c.StatusCallback != "" {
		if err := checkCallbackURL(c.StatusCallback); err != nil {
			bad("StatusCallback %w", err)
		}
	}
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("BaseURL must be an absolute http or https URL")
		}
	}
	if c.Timeout < 0 {
		bad("Timeout must not be negative")
	}
	return errors.Join(errs...)
}

// checkCallbackURL allows plain http only on loopback, where a local fake
// or a test listens; anywhere else delivery reports would travel in clear.
func checkCallbackURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("is not a URL: %w", err)
	}
	if !u.IsAbs() || u.Host == "" {
		return errors.New("must be an absolute URL")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return errors.New("must use https (http only for loopback hosts)")
	default:
		return errors.New("must use https")
	}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Twilio is the Gateway on Twilio's Programmable Messaging API, through
// twilio-go.
type Twilio struct {
	cfg       TwilioConfig
	creds     *client.Credentials
	transport http.RoundTripper
	timeout   time.Duration
}

var _ Gateway = (*Twilio)(nil)

// NewTwilio validates c and returns the gateway.
func NewTwilio(c TwilioConfig) (*Twilio, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	var base http.RoundTripper
	timeout := c.Timeout
	if c.HTTPClient != nil {
		base = c.HTTPClient.Transport
		if timeout == 0 {
			timeout = c.HTTPClient.Timeout
		}
	}
	if base == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		// The default keeps two idle connections per host, which at hundreds
		// of messages a second to one host means a new connection for most.
		tr.MaxIdleConnsPerHost = 64
		base = tr
	}
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	if c.BaseURL != "" {
		target, _ := url.Parse(c.BaseURL) // checked by Validate
		base = &rewriteTransport{base: base, target: target}
	}
	return &Twilio{
		cfg:       c,
		creds:     client.NewCredentials(c.AccountSID, c.AuthToken),
		transport: base,
		timeout:   timeout,
	}, nil
}

// CloseIdleConnections closes the connections kept alive for later requests.
func (t *Twilio) CloseIdleConnections() {
	type closer interface{ CloseIdleConnections() }
	if c, ok := t.transport.(closer); ok {
		c.CloseIdleConnections()
	}
}

// Send creates the message at Twilio. The status callback, if configured,
// carries the OutboxID as the OutboxParam query parameter.
//
// A failure is a *SendError. Its class is decided from what happened on the
// wire: an error before the whole request was written is Transient, one
// after it is Unknown, and an HTTP error follows its status and Twilio code.
func (t *Twilio) Send(ctx context.Context, m Message) (Sent, error) {
	switch {
	case m.To == "":
		return Sent{}, &SendError{Class: Permanent, Code: 21604, Message: "message has no recipient"}
	case m.Body == "":
		return Sent{}, &SendError{Class: Permanent, Code: 21602, Message: "message has no body"}
	}
	if err := ctx.Err(); err != nil {
		return Sent{}, &SendError{Class: Transient, Err: err}
	}
	api, st, done := t.call(ctx)
	defer done()

	p := &openapi.CreateMessageParams{}
	p.SetTo(m.To)
	p.SetBody(m.Body)
	if t.cfg.MessagingServiceSID != "" {
		p.SetMessagingServiceSid(t.cfg.MessagingServiceSID)
	} else {
		p.SetFrom(t.cfg.From)
	}
	if t.cfg.StatusCallback != "" {
		p.SetStatusCallback(callbackURL(t.cfg.StatusCallback, m.OutboxID))
	}
	msg, err := api.CreateMessage(p)
	if err != nil {
		return Sent{}, sendError(err, st)
	}
	if msg.Sid == nil || *msg.Sid == "" {
		// Something answered with success but not with a message: it may
		// still have been created.
		return Sent{}, &SendError{Class: Unknown, HTTPStatus: int(st.status.Load()), Message: "answer without a message SID"}
	}
	sent := Sent{ProviderID: *msg.Sid}
	if msg.Status != nil {
		sent.Status = *msg.Status
	}
	if msg.NumSegments != nil {
		sent.Segments, _ = strconv.Atoi(*msg.NumSegments)
	}
	return sent, nil
}

func callbackURL(base string, outboxID int64) string {
	if outboxID == 0 {
		return base
	}
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + OutboxParam + "=" + strconv.FormatInt(outboxID, 10)
}

func sendError(err error, st *callState) *SendError {
	redact(err)
	status := int(st.status.Load())
	var re *client.TwilioRestError
	if errors.As(err, &re) {
		if status == 0 {
			status = re.Status // twilio-go's own checks raise errors without HTTP
		}
		return &SendError{Class: classifyHTTP(status, re.Code), HTTPStatus: status, Code: re.Code, Message: re.Message, Err: err}
	}
	var re1 *client.RestErrorV1
	if errors.As(err, &re1) {
		if status == 0 {
			status = re1.HttpStatusCode
		}
		return &SendError{Class: classifyHTTP(status, re1.Code), HTTPStatus: status, Code: re1.Code, Message: re1.Message, Err: err}
	}
	if status != 0 {
		// An answer came whose body was not Twilio's JSON (a proxy's page,
		// a body cut short): the status alone decides, and a success status
		// means the message may exist.
		class := Unknown
		if status >= 400 {
			class = classifyHTTP(status, 0)
		}
		return &SendError{Class: class, HTTPStatus: status, Err: err}
	}
	return &SendError{Class: classifyTransport(err, st), Err: err}
}

// classifyTransport places an error that came without any HTTP answer.
func classifyTransport(err error, st *callState) Class {
	switch {
	case st.wrote.Load():
		return Unknown // Twilio has the whole request and may have acted on it
	case isDialError(err):
		return Transient
	case st.started.Load():
		// The transport traced the attempt and never finished writing the
		// request, so Twilio cannot have a message to create.
		return Transient
	default:
		// A transport that does not report progress: assume the worst.
		return Unknown
	}
}

// redact drops the query of a URL in a transport error: Find's URL carries
// the recipient's number, and errors end up in logs.
func redact(err error) {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			u.RawQuery = ""
			u.User = nil
			ue.URL = u.String()
		}
	}
}

// Find lists the messages Twilio has for to that were created at or after
// since (less ClockSkew), newest first.
//
// It filters on To only and on the creation time client-side, instead of
// using the DateSent filters: those are day-granular and match the date the
// message was sent, which a message still queued at Twilio does not have
// yet; that queued message is exactly the one a reconciliation must find.
// Twilio lists newest first, so paging stops at the first page with nothing
// recent.
func (t *Twilio) Find(ctx context.Context, to string, since time.Time) ([]Found, error) {
	if to == "" {
		return nil, errors.New("sms: twilio find: no recipient")
	}
	api, _, done := t.call(ctx)
	defer done()

	p := &openapi.ListMessageParams{}
	p.SetTo(to)
	p.SetPageSize(findPageSize)
	cutoff := since.Add(-ClockSkew)
	page, err := api.PageMessage(p, "", "")
	var found []Found
	for pages := 1; ; pages++ {
		if err != nil {
			redact(err)
			return nil, fmt.Errorf("sms: twilio find: %w", err)
		}
		recent := false
		for _, m := range page.Messages {
			f := toFound(m)
			// A message whose date cannot be read is kept: it may be ours.
			if !f.Created.IsZero() && f.Created.Before(cutoff) {
				continue
			}
			recent = true
			found = append(found, f)
		}
		if !recent || page.NextPageUri == nil || *page.NextPageUri == "" {
			return found, nil
		}
		if pages == findMaxPages {
			// Returning a partial list could make a sent message look unsent.
			return nil, fmt.Errorf("sms: twilio find: more than %d recent messages to one recipient", findMaxPages*findPageSize)
		}
		page, err = nextPage(api, *page.NextPageUri)
	}
}

// Status fetches one message's resource: what Twilio knows of it now, for
// a message whose delivery report was lost (the webhook was down).
func (t *Twilio) Status(ctx context.Context, providerID string) (Found, error) {
	if providerID == "" {
		return Found{}, errors.New("sms: twilio status: no message id")
	}
	api, _, done := t.call(ctx)
	defer done()
	m, err := api.FetchMessage(providerID, nil)
	if err != nil {
		redact(err)
		return Found{}, fmt.Errorf("sms: twilio status of %s: %w", providerID, err)
	}
	return toFound(*m), nil
}

// nextPage follows Twilio's next_page_uri, which is relative to the API's
// host, the way twilio-go's own paging does.
func nextPage(api *openapi.ApiService, uri string) (*openapi.ListMessageResponse, error) {
	resp, err := api.RequestHandler().Get(twilioAPIBase+"/"+strings.TrimLeft(uri, "/"), nil, nil, "")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var page openapi.ListMessageResponse
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		return nil, fmt.Errorf("decoding a page of messages: %w", err)
	}
	return &page, nil
}

func toFound(m openapi.ApiV2010Message) Found {
	var f Found
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	f.ProviderID = str(m.Sid)
	f.To = str(m.To)
	f.Body = str(m.Body)
	f.Status = str(m.Status)
	if m.ErrorCode != nil {
		f.ErrorCode = *m.ErrorCode
	}
	if m.DateCreated != nil {
		if ts, err := time.Parse(time.RFC1123Z, *m.DateCreated); err == nil {
			f.Created = ts
		} else if ts, err := time.Parse(time.RFC1123, *m.DateCreated); err == nil {
			f.Created = ts
		}
	}
	return f
}

// call prepares one API call. twilio-go builds its requests with a
// background context, so the caller's context (with the timeout and a trace
// that records how far the request got) is put back by a per-call transport;
// the per-call client costs a few small allocations.
func (t *Twilio) call(ctx context.Context) (*openapi.ApiService, *callState, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	st := &callState{}
	ctx = httptrace.WithClientTrace(ctx, st.trace())
	c := &client.Client{
		Credentials: t.creds,
		HTTPClient: &http.Client{
			Transport: &callTransport{base: t.transport, ctx: ctx, st: st},
			// As twilio-go's default client: a redirect is an answer, not
			// something to follow with the credentials.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	c.SetAccountSid(t.cfg.AccountSID)
	return openapi.NewApiServiceWithClient(c), st, cancel
}

// callState records what the transport saw of one call.
type callState struct {
	started atomic.Bool  // the transport began to get a connection
	wrote   atomic.Bool  // a whole request was written
	status  atomic.Int32 // status of the last response, 0 when none
}

func (s *callState) trace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		GetConn: func(string) { s.started.Store(true) },
		WroteRequest: func(i httptrace.WroteRequestInfo) {
			if i.Err == nil {
				s.wrote.Store(true)
			}
		},
	}
}

type callTransport struct {
	base http.RoundTripper
	ctx  context.Context
	st   *callState
}

func (t *callTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req.WithContext(t.ctx))
	if resp != nil {
		t.st.status.Store(int32(resp.StatusCode))
	}
	return resp, err
}

// rewriteTransport sends requests for Twilio's hosts to another base URL,
// since twilio-go's API base URL is fixed.
type rewriteTransport struct {
	base   http.RoundTripper
	target *url.URL
}

func (t *rewriteTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	host := req.URL.Hostname()
	if host != "twilio.com" && !strings.HasSuffix(host, ".twilio.com") {
		return t.base.RoundTrip(req)
	}
	r := req.Clone(req.Context())
	r.URL.Scheme = t.target.Scheme
	r.URL.Host = t.target.Host
	r.URL.Path = strings.TrimSuffix(t.target.Path, "/") + req.URL.Path
	r.URL.RawPath = ""
	r.Host = ""
	return t.base.RoundTrip(r)
}

func (t *rewriteTransport) CloseIdleConnections() {
	type closer interface{ CloseIdleConnections() }
	if c, ok := t.base.(closer); ok {
		c.CloseIdleConnections()
	}
}

// Webhook signature errors.
var (
	ErrNoSignature  = errors.New("sms: webhook has no X-Twilio-Signature")
	ErrBadSignature = errors.New("sms: webhook signature does not match")
)

// ValidateWebhook checks the X-Twilio-Signature of a webhook request against
// publicURL, the URL configured at Twilio, because behind a proxy the URL the
// request arrived on is not the one Twilio signed. When publicURL has no
// query, the request's own query is appended, so that a status callback
// carrying OutboxParam validates against its base URL.
//
// It parses the form with r.ParseForm, so the caller reads the fields from
// r.PostForm (or r.Form) afterwards.
func ValidateWebhook(authToken, publicURL string, r *http.Request) error {
	sig := r.Header.Get("X-Twilio-Signature")
	if sig == "" {
		return ErrNoSignature
	}
	if authToken == "" {
		// A signature made with an empty key proves nothing.
		return fmt.Errorf("%w: no auth token is configured", ErrBadSignature)
	}
	if err := r.ParseForm(); err != nil {
		return fmt.Errorf("sms: webhook form: %w", err)
	}
	u := publicURL
	if !strings.Contains(u, "?") && r.URL.RawQuery != "" {
		u += "?" + r.URL.RawQuery
	}
	params := make(map[string]string, len(r.PostForm))
	for k, v := range r.PostForm {
		params[k] = v[0] // Twilio's webhooks never repeat a field
	}
	v := client.NewRequestValidator(authToken)
	if !v.Validate(u, params, sig) {
		return ErrBadSignature
	}
	return nil
}
