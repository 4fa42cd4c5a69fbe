package sms_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/richiamo/richiamo/internal/sms"
	"github.com/richiamo/richiamo/internal/sms/twiliotest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	patient = "+393331234567"
	sender  = "+15005550006"
	service = "MG00000000000000000000000000000001"
)

type bundle struct {
	fake *twiliotest.Server
	gw   *sms.Twilio
	cfg  sms.TwilioConfig
}

// setup starts a fake Twilio and a gateway pointed at it; change adjusts
// the gateway's config before it is built.
func setup(t *testing.T, opts twiliotest.Options, change func(*sms.TwilioConfig)) bundle {
	t.Helper()
	fake := twiliotest.NewServer(opts)
	t.Cleanup(fake.Close)
	cfg := sms.TwilioConfig{AccountSID: fake.AccountSID(), AuthToken: fake.AuthToken(), From: sender, BaseURL: fake.URL()}
	if change != nil {
		change(&cfg)
	}
	gw, err := sms.NewTwilio(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(gw.CloseIdleConnections)
	return bundle{fake: fake, gw: gw, cfg: cfg}
}

func TestTwilioConfigValidate(t *testing.T) {
	t.Parallel()
	good := sms.TwilioConfig{AccountSID: twiliotest.DefaultAccountSID, AuthToken: twiliotest.DefaultAuthToken, From: sender}
	tests := []struct {
		name   string
		change func(*sms.TwilioConfig)
		field  string // "" when valid
	}{
		{"number sender is valid", func(*sms.TwilioConfig) {}, ""},
		{"alphanumeric sender is valid", func(c *sms.TwilioConfig) { c.From = "CUP Lazio" }, ""},
		{"messaging service is valid", func(c *sms.TwilioConfig) { c.From, c.MessagingServiceSID = "", service }, ""},
		{"https callback is valid", func(c *sms.TwilioConfig) { c.StatusCallback = "https://cup.example.org/sms/status" }, ""},
		{"http callback on loopback is valid", func(c *sms.TwilioConfig) { c.StatusCallback = "http://127.0.0.1:8080/sms/status" }, ""},
		{"http callback on localhost is valid", func(c *sms.TwilioConfig) { c.StatusCallback = "http://localhost/sms/status" }, ""},
		{"missing account SID", func(c *sms.TwilioConfig) { c.AccountSID = "" }, "AccountSID"},
		{"account SID without AC", func(c *sms.TwilioConfig) { c.AccountSID = "MG" + c.AccountSID[2:] }, "AccountSID"},
		{"short account SID", func(c *sms.TwilioConfig) { c.AccountSID = "AC123" }, "AccountSID"},
		{"missing auth token", func(c *sms.TwilioConfig) { c.AuthToken = "" }, "AuthToken"},
		{"auth token with symbols", func(c *sms.TwilioConfig) { c.AuthToken = "s3cr3t!" }, "AuthToken"},
		{"no sender at all", func(c *sms.TwilioConfig) { c.From = "" }, "MessagingServiceSID or From"},
		{"both senders", func(c *sms.TwilioConfig) { c.MessagingServiceSID = service }, "only one of MessagingServiceSID and From"},
		{"messaging service without MG", func(c *sms.TwilioConfig) { c.From, c.MessagingServiceSID = "", "AC"+service[2:] }, "MessagingServiceSID"},
		{"alphanumeric sender over 11 characters", func(c *sms.TwilioConfig) { c.From = "CUP Regione Lazio" }, "From"},
		{"number without plus", func(c *sms.TwilioConfig) { c.From = "3331234567" }, "From"},
		{"plain http callback on the internet", func(c *sms.TwilioConfig) { c.StatusCallback = "http://cup.example.org/sms/status" }, "StatusCallback"},
		{"relative callback", func(c *sms.TwilioConfig) { c.StatusCallback = "/sms/status" }, "StatusCallback"},
		{"ftp callback", func(c *sms.TwilioConfig) { c.StatusCallback = "ftp://cup.example.org/x" }, "StatusCallback"},
		{"base URL without scheme", func(c *sms.TwilioConfig) { c.BaseURL = "127.0.0.1:8080" }, "BaseURL"},
		{"negative timeout", func(c *sms.TwilioConfig) { c.Timeout = -time.Second }, "Timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := good
			tt.change(&c)
			err := c.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.field) {
				t.Fatalf("Validate() = %v, want an error naming %s", err, tt.field)
			}
			if c.AuthToken != "" && strings.Contains(err.Error(), c.AuthToken) {
				t.Errorf("the error repeats the auth token: %v", err)
			}
			if _, nerr := sms.NewTwilio(c); nerr == nil {
				t.Error("NewTwilio accepted the config")
			}
		})
	}
}

func TestTwilioSend(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		change  func(*sms.TwilioConfig)
		faults  []twiliotest.Fault
		to      string
		want    sms.Class // "" for a success
		status  int
		code    int
		created bool // whether the fake holds the message afterwards
	}{
		{name: "accepted reminder", created: true},
		{name: "messaging service send is accepted", change: func(c *sms.TwilioConfig) { c.From, c.MessagingServiceSID = "", service }, created: true},
		{name: "number without country code is permanent", to: "3331234567", want: sms.Permanent, status: 400, code: 21211},
		{name: "recipient who sent STOP is permanent", faults: []twiliotest.Fault{twiliotest.Status(400, 21610, "Attempt to send to unsubscribed recipient")}, want: sms.Permanent, status: 400, code: 21610},
		{name: "landline is permanent", faults: []twiliotest.Fault{twiliotest.Status(400, 21614, "'To' number is not a valid mobile number")}, want: sms.Permanent, status: 400, code: 21614},
		{name: "region not enabled is permanent", faults: []twiliotest.Fault{twiliotest.Status(400, 21408, "Permission to send an SMS has not been enabled for the region")}, want: sms.Permanent, status: 400, code: 21408},
		{name: "rate limit is transient", faults: []twiliotest.Fault{twiliotest.Status(429, 20429, "Too Many Requests")}, want: sms.Transient, status: 429, code: 20429},
		{name: "Twilio unavailable is transient", faults: []twiliotest.Fault{twiliotest.Status(503, 20503, "Service Unavailable")}, want: sms.Transient, status: 503, code: 20503},
		{name: "Twilio internal error is unknown", faults: []twiliotest.Fault{twiliotest.Status(500, 20500, "Internal Server Error")}, want: sms.Unknown, status: 500, code: 20500},
		{name: "bad gateway is unknown", faults: []twiliotest.Fault{twiliotest.Status(502, 0, "Bad Gateway")}, want: sms.Unknown, status: 502},
		{name: "gateway timeout is unknown", faults: []twiliotest.Fault{twiliotest.Status(504, 0, "Gateway Timeout")}, want: sms.Unknown, status: 504},
		{name: "forbidden is fatal", faults: []twiliotest.Fault{twiliotest.Status(403, 20003, "Forbidden")}, want: sms.Fatal, status: 403, code: 20003},
		{name: "sender not owned is fatal", faults: []twiliotest.Fault{twiliotest.Status(400, 21606, "The 'From' phone number provided is not a valid message-capable Twilio phone number")}, want: sms.Fatal, status: 400, code: 21606},
		{name: "wrong auth token is fatal", change: func(c *sms.TwilioConfig) { c.AuthToken = "wrong0token" }, want: sms.Fatal, status: 401, code: 20003},
		{name: "wrong account is fatal", change: func(c *sms.TwilioConfig) { c.AccountSID = "AC" + strings.Repeat("9", 32) }, want: sms.Fatal, status: 401, code: 20003},
		{name: "connection dropped after accepting is unknown", faults: []twiliotest.Fault{twiliotest.AcceptThenDrop()}, want: sms.Unknown, created: true},
		{name: "no answer before the timeout is unknown", change: func(c *sms.TwilioConfig) { c.Timeout = 50 * time.Millisecond }, faults: []twiliotest.Fault{twiliotest.Stall(time.Hour)}, want: sms.Unknown, created: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, twiliotest.Options{}, tt.change)
			to := tt.to
			if to == "" {
				to = patient
			}
			b.fake.Script(to, tt.faults...)
			sent, err := b.gw.Send(context.Background(), sms.Message{OutboxID: 1, To: to, Body: "Promemoria: visita il 3/4 alle 9:30"})
			if got := sms.Classify(err); got != tt.want {
				t.Fatalf("Send() error %v has class %q, want %q", err, got, tt.want)
			}
			if err != nil {
				var se *sms.SendError
				if !errors.As(err, &se) {
					t.Fatalf("error %T is not a *SendError", err)
				}
				if se.HTTPStatus != tt.status || se.Code != tt.code {
					t.Errorf("HTTP %d code %d, want HTTP %d code %d", se.HTTPStatus, se.Code, tt.status, tt.code)
				}
				if strings.Contains(err.Error(), "333") {
					t.Errorf("the error text leaks the number: %v", err)
				}
			} else {
				msgs := b.fake.Messages()
				if len(msgs) != 1 || sent.ProviderID != msgs[0].Sid {
					t.Fatalf("sent %+v, fake has %+v", sent, msgs)
				}
				wantStatus, wantSegments := "queued", 1
				if b.cfg.MessagingServiceSID != "" {
					wantStatus, wantSegments = "accepted", 0
				}
				if sent.Status != wantStatus || sent.Segments != wantSegments {
					t.Errorf("sent %+v, want status %s and %d segments", sent, wantStatus, wantSegments)
				}
			}
			if created := b.fake.CountTo(to) == 1; created != tt.created {
				t.Errorf("message created = %v, want %v", created, tt.created)
			}
		})
	}
}

func TestTwilioSendBeforeTheRequestIsWritten(t *testing.T) {
	t.Parallel()
	// A port that nobody listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedURL := "http://" + ln.Addr().String()
	ln.Close()
	noDNS := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return nil, &net.DNSError{Err: "no such host", Name: "api.twilio.com", IsNotFound: true}
		},
	}}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()

	tests := []struct {
		name   string
		ctx    context.Context
		change func(*sms.TwilioConfig)
		msg    sms.Message
		want   sms.Class
	}{
		{"connection refused is transient", context.Background(), func(c *sms.TwilioConfig) { c.BaseURL = closedURL }, sms.Message{To: patient, Body: "x"}, sms.Transient},
		{"DNS failure is transient", context.Background(), func(c *sms.TwilioConfig) { c.BaseURL, c.HTTPClient = "", noDNS }, sms.Message{To: patient, Body: "x"}, sms.Transient},
		{"context cancelled before sending is transient", cancelled, nil, sms.Message{To: patient, Body: "x"}, sms.Transient},
		{"message without recipient is permanent", context.Background(), nil, sms.Message{Body: "x"}, sms.Permanent},
		{"message without body is permanent", context.Background(), nil, sms.Message{To: patient}, sms.Permanent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, twiliotest.Options{}, tt.change)
			_, err := b.gw.Send(tt.ctx, tt.msg)
			if got := sms.Classify(err); got != tt.want {
				t.Fatalf("Send() error %v has class %q, want %q", err, got, tt.want)
			}
			if b.fake.Received() != 0 {
				t.Errorf("the fake received %d requests", b.fake.Received())
			}
		})
	}
}

func TestTwilioSendCancelledWhileWaitingIsUnknown(t *testing.T) {
	t.Parallel()
	b := setup(t, twiliotest.Options{}, nil)
	b.fake.ScriptNext(twiliotest.Stall(time.Hour))
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := b.gw.Send(ctx, sms.Message{To: patient, Body: "x"})
		errc <- err
	}()
	if err := b.fake.WaitAccepted(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-errc; sms.Classify(err) != sms.Unknown {
		t.Fatalf("Send() error %v has class %q, want unknown", err, sms.Classify(err))
	}
}

func TestTwilioSendAnswersThatAreNotTwilio(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		body   string
		want   sms.Class
	}{
		{"proxy's 502 page is unknown", 502, "<html>Bad Gateway</html>", sms.Unknown},
		{"proxy's 503 page is transient", 503, "<html>Service Unavailable</html>", sms.Transient},
		{"proxy's 504 page is unknown", 504, "<html>Gateway Timeout</html>", sms.Unknown},
		{"proxy's 407 page is permanent", 407, "Proxy Authentication Required", sms.Permanent},
		{"success without a message SID is unknown", 201, "{}", sms.Unknown},
		{"success with a body cut short is unknown", 201, `{"sid": "SM`, sms.Unknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				fmt.Fprint(w, tt.body)
			}))
			defer proxy.Close()
			gw, err := sms.NewTwilio(sms.TwilioConfig{AccountSID: twiliotest.DefaultAccountSID, AuthToken: twiliotest.DefaultAuthToken, From: sender, BaseURL: proxy.URL})
			if err != nil {
				t.Fatal(err)
			}
			defer gw.CloseIdleConnections()
			_, err = gw.Send(context.Background(), sms.Message{To: patient, Body: "x"})
			if got := sms.Classify(err); got != tt.want {
				t.Fatalf("Send() error %v has class %q, want %q", err, got, tt.want)
			}
			var se *sms.SendError
			if errors.As(err, &se) && se.HTTPStatus != tt.status {
				t.Errorf("HTTPStatus = %d, want %d", se.HTTPStatus, tt.status)
			}
		})
	}
}

// statusHook records signed status callbacks.
type statusHook struct {
	mu     sync.Mutex
	got    []string
	srv    *httptest.Server
	public string
}

func newStatusHook(t *testing.T, token string) *statusHook {
	h := &statusHook{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Validated against the configured URL without the outbox query:
		// the request's own query is put back by ValidateWebhook.
		if err := sms.ValidateWebhook(token, h.public, r); err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		h.mu.Lock()
		h.got = append(h.got, r.URL.Query().Get(sms.OutboxParam)+":"+r.PostForm.Get("MessageStatus"))
		h.mu.Unlock()
	}))
	h.public = h.srv.URL + "/sms/status"
	t.Cleanup(h.srv.Close)
	return h
}

func TestTwilioStatusCallbackCarriesTheOutboxID(t *testing.T) {
	t.Parallel()
	var hook *statusHook
	b := setup(t, twiliotest.Options{}, func(c *sms.TwilioConfig) {
		hook = newStatusHook(t, c.AuthToken)
		c.StatusCallback = hook.public
	})
	if _, err := b.gw.Send(context.Background(), sms.Message{OutboxID: 42, To: patient, Body: "x"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := b.fake.WaitFinal(ctx, 1); err != nil {
		t.Fatal(err)
	}
	hook.mu.Lock()
	defer hook.mu.Unlock()
	if got := fmt.Sprint(hook.got); got != "[42:sent 42:delivered]" {
		t.Errorf("callbacks %s, want sent then delivered for outbox 42", got)
	}
}

func TestTwilioFind(t *testing.T) {
	t.Parallel()
	t.Run("finds the message whose answer was lost", func(t *testing.T) {
		t.Parallel()
		b := setup(t, twiliotest.Options{}, nil)
		before := time.Now()
		b.fake.ScriptNext(twiliotest.AcceptThenDrop())
		_, err := b.gw.Send(context.Background(), sms.Message{To: patient, Body: "Promemoria"})
		if sms.Classify(err) != sms.Unknown {
			t.Fatalf("Send() = %v, want an unknown outcome", err)
		}
		if _, err := b.gw.Send(context.Background(), sms.Message{To: "+393339999999", Body: "someone else"}); err != nil {
			t.Fatal(err)
		}
		found, err := b.gw.Find(context.Background(), patient, before)
		if err != nil {
			t.Fatal(err)
		}
		if len(found) != 1 || found[0].ProviderID != b.fake.Messages()[0].Sid || found[0].Body != "Promemoria" || found[0].To != patient {
			t.Fatalf("found %+v", found)
		}
		if found[0].Created.Before(before.Add(-time.Second)) || found[0].Status == "" {
			t.Errorf("found %+v, created before the send", found[0])
		}
	})
	t.Run("finds a message still queued at Twilio", func(t *testing.T) {
		t.Parallel()
		b := setup(t, twiliotest.Options{DeliveryDelay: time.Hour}, nil)
		if _, err := b.gw.Send(context.Background(), sms.Message{To: patient, Body: "x"}); err != nil {
			t.Fatal(err)
		}
		found, err := b.gw.Find(context.Background(), patient, time.Now().Add(-time.Hour))
		if err != nil || len(found) != 1 || found[0].Status != "queued" {
			t.Fatalf("found %+v, %v; want the queued message", found, err)
		}
	})
	t.Run("reads across pages", func(t *testing.T) {
		t.Parallel()
		b := setup(t, twiliotest.Options{}, nil)
		for i := range 120 {
			if _, err := b.gw.Send(context.Background(), sms.Message{To: patient, Body: fmt.Sprint(i)}); err != nil {
				t.Fatal(err)
			}
		}
		found, err := b.gw.Find(context.Background(), patient, time.Now().Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if len(found) != 120 || found[0].Body != "119" || found[119].Body != "0" {
			t.Fatalf("found %d messages, first %q; want 120, newest first", len(found), found[0].Body)
		}
	})
	t.Run("tolerates two minutes of clock skew and no more", func(t *testing.T) {
		t.Parallel()
		b := setup(t, twiliotest.Options{}, nil)
		if _, err := b.gw.Send(context.Background(), sms.Message{To: patient, Body: "x"}); err != nil {
			t.Fatal(err)
		}
		// Our clock a minute ahead of Twilio's still finds it.
		if found, err := b.gw.Find(context.Background(), patient, time.Now().Add(time.Minute)); err != nil || len(found) != 1 {
			t.Errorf("since a minute ahead: found %d, %v; want 1", len(found), err)
		}
		if found, err := b.gw.Find(context.Background(), patient, time.Now().Add(10*time.Minute)); err != nil || len(found) != 0 {
			t.Errorf("since ten minutes ahead: found %d, %v; want 0", len(found), err)
		}
	})
	t.Run("wrong credentials are fatal", func(t *testing.T) {
		t.Parallel()
		b := setup(t, twiliotest.Options{}, func(c *sms.TwilioConfig) { c.AuthToken = "wrong0token" })
		_, err := b.gw.Find(context.Background(), patient, time.Now())
		if sms.Classify(err) != sms.Fatal {
			t.Fatalf("Find() = %v, class %q; want fatal", err, sms.Classify(err))
		}
	})
	t.Run("network error does not leak the number", func(t *testing.T) {
		t.Parallel()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		closedURL := "http://" + ln.Addr().String()
		ln.Close()
		b := setup(t, twiliotest.Options{}, func(c *sms.TwilioConfig) { c.BaseURL = closedURL })
		_, err = b.gw.Find(context.Background(), patient, time.Now())
		// Any run of the number's own digits would show it: the port the
		// dial names is random and may contain a short one like "333".
		if err == nil || strings.Contains(err.Error(), patient[3:]) || strings.Contains(err.Error(), "1234567") {
			t.Fatalf("Find() = %v, want an error without the number", err)
		}
	})
}

func TestValidateWebhook(t *testing.T) {
	t.Parallel()
	const token = twiliotest.DefaultAuthToken
	const public = "https://cup.example.org/sms/inbound"
	form := url.Values{"MessageSid": {"SM1"}, "From": {patient}, "Body": {"Sì, confermo!"}, "NumMedia": {"0"}}
	tests := []struct {
		name     string
		target   string // where the request arrives
		body     url.Values
		signURL  string
		sigToken string
		noSig    bool
		want     error
	}{
		{"signature on the public URL is valid behind a proxy", "http://10.0.0.5:8080/sms/inbound", form, public, token, false, nil},
		{"query of the request is part of the signed URL", "http://10.0.0.5:8080/sms/inbound?outbox=7", form, public + "?outbox=7", token, false, nil},
		{"port 443 written out is still valid", "http://10.0.0.5:8080/sms/inbound", form, "https://cup.example.org:443/sms/inbound", token, false, nil},
		{"signature for another URL is refused", "http://10.0.0.5:8080/sms/inbound", form, "https://evil.example.org/sms/inbound", token, false, sms.ErrBadSignature},
		{"signature with another token is refused", "http://10.0.0.5:8080/sms/inbound", form, public, "another0token", false, sms.ErrBadSignature},
		{"tampered body is refused", "http://10.0.0.5:8080/sms/inbound", url.Values{"MessageSid": {"SM1"}, "From": {patient}, "Body": {"NO"}, "NumMedia": {"0"}}, public, token, false, sms.ErrBadSignature},
		{"missing signature is refused", "http://10.0.0.5:8080/sms/inbound", form, public, token, true, sms.ErrNoSignature},
		{"without a token nothing is valid, not even a signature with the empty key", "http://10.0.0.5:8080/sms/inbound", form, public, "", false, sms.ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodPost, tt.target, strings.NewReader(tt.body.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if !tt.noSig {
				r.Header.Set("X-Twilio-Signature", twiliotest.Signature(tt.sigToken, tt.signURL, form))
			}
			ours := token
			if tt.sigToken == "" {
				ours = "" // serve without SMS settings
			}
			if err := sms.ValidateWebhook(ours, public, r); !errors.Is(err, tt.want) {
				t.Fatalf("ValidateWebhook() = %v, want %v", err, tt.want)
			}
			if tt.want == nil && r.PostForm.Get("Body") != "Sì, confermo!" {
				t.Errorf("the form is not usable afterwards: %v", r.PostForm)
			}
		})
	}
}

func TestPatientReplyReachesTheWebhook(t *testing.T) {
	t.Parallel()
	fake := twiliotest.NewServer(twiliotest.Options{})
	defer fake.Close()
	replies := make(chan sms.Reply, 1)
	var hook *httptest.Server
	hook = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := sms.ValidateWebhook(fake.AuthToken(), hook.URL+"/sms/inbound", r); err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		replies <- sms.ParseReply(r.PostForm.Get("Body"))
	}))
	defer hook.Close()
	resp, err := fake.Inbound(context.Background(), hook.URL+"/sms/inbound", patient, sender, "ANNULLA 345")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("webhook answered %d", resp.StatusCode)
	}
	if got := <-replies; got != (sms.Reply{Kind: sms.ReplyCancel, CodeHint: "345"}) {
		t.Errorf("reply read as %+v", got)
	}
}
