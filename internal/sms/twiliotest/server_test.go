package twiliotest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/sms"
	"github.com/richiamo/richiamo/internal/sms/twiliotest"
	"github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type bundle struct {
	srv *twiliotest.Server
	api *openapi.ApiService
}

func setup(t *testing.T, opts twiliotest.Options) bundle {
	t.Helper()
	srv := twiliotest.NewServer(opts)
	t.Cleanup(srv.Close)
	rest := twilio.NewRestClientWithParams(twilio.ClientParams{Client: fakeClient(srv)})
	return bundle{srv: srv, api: rest.Api}
}

// fakeClient is a twilio-go client whose requests go to the fake.
func fakeClient(srv *twiliotest.Server) *client.Client {
	target, _ := url.Parse(srv.URL())
	c := &client.Client{
		Credentials: client.NewCredentials(srv.AccountSID(), srv.AuthToken()),
		HTTPClient:  &http.Client{Transport: rewrite{target}},
	}
	c.SetAccountSid(srv.AccountSID())
	return c
}

// rewrite points twilio-go's fixed base URL at the fake.
type rewrite struct{ target *url.URL }

func (r rewrite) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.URL.Scheme, req.URL.Host, req.Host = r.target.Scheme, r.target.Host, ""
	return http.DefaultTransport.RoundTrip(req)
}

func (b bundle) send(t *testing.T, to, body string) *openapi.ApiV2010Message {
	t.Helper()
	m, err := b.api.CreateMessage((&openapi.CreateMessageParams{}).SetTo(to).SetBody(body).SetFrom("+15005550006"))
	if err != nil {
		t.Fatalf("CreateMessage: %v", err)
	}
	return m
}

// rawPost sends a create request without twilio-go, to see the wire.
func rawPost(t *testing.T, srv *twiliotest.Server, user, pass string, form url.Values) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.URL()+"/2010-04-01/Accounts/"+srv.AccountSID()+"/Messages.json", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(user, pass)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("decoding the answer: %v", err)
	}
	return resp.StatusCode, body
}

func TestCreateAnswersLikeTwilio(t *testing.T) {
	t.Parallel()
	b := setup(t, twiliotest.Options{})
	status, m := rawPost(t, b.srv, b.srv.AccountSID(), b.srv.AuthToken(), url.Values{
		"To": {"+393331234567"}, "From": {"+15005550006"}, "Body": {"Promemoria: visita il 3/4"},
	})
	if status != http.StatusCreated {
		t.Fatalf("status %d, want 201", status)
	}
	if sid, _ := m["sid"].(string); !regexp.MustCompile(`^SM[0-9a-f]{32}$`).MatchString(sid) {
		t.Errorf("sid %q is not SM and 32 hex digits", sid)
	}
	for field, want := range map[string]any{
		"status": "queued", "to": "+393331234567", "from": "+15005550006", "num_segments": "1",
		"direction": "outbound-api", "api_version": "2010-04-01", "error_code": nil, "date_sent": nil,
		"messaging_service_sid": nil, "account_sid": b.srv.AccountSID(),
	} {
		if m[field] != want {
			t.Errorf("%s = %v, want %v", field, m[field], want)
		}
	}
	if _, err := time.Parse(time.RFC1123Z, m["date_created"].(string)); err != nil || !strings.HasSuffix(m["date_created"].(string), "+0000") {
		t.Errorf("date_created %q is not RFC 1123 with +0000: %v", m["date_created"], err)
	}
	if uri := m["uri"].(string); uri != "/2010-04-01/Accounts/"+b.srv.AccountSID()+"/Messages/"+m["sid"].(string)+".json" {
		t.Errorf("uri = %q", uri)
	}
}

func TestCreateRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t, twiliotest.Options{})
	ok := url.Values{"To": {"+393331234567"}, "From": {"+15005550006"}, "Body": {"x"}}
	with := func(k, v string) url.Values {
		f := url.Values{}
		for kk, vv := range ok {
			f[kk] = vv
		}
		if v == "" {
			f.Del(k)
		} else {
			f.Set(k, v)
		}
		return f
	}
	tests := []struct {
		name       string
		user, pass string
		form       url.Values
		status     int
		code       int
	}{
		{"wrong auth token is 401", b.srv.AccountSID(), "nope", ok, 401, 20003},
		{"missing To is 21604", b.srv.AccountSID(), b.srv.AuthToken(), with("To", ""), 400, 21604},
		{"missing Body is 21602", b.srv.AccountSID(), b.srv.AuthToken(), with("Body", ""), 400, 21602},
		{"missing sender is 21603", b.srv.AccountSID(), b.srv.AuthToken(), with("From", ""), 400, 21603},
		{"number without country code is 21211", b.srv.AccountSID(), b.srv.AuthToken(), with("To", "3331234567"), 400, 21211},
		{"body over 1600 characters is 21617", b.srv.AccountSID(), b.srv.AuthToken(), with("Body", strings.Repeat("a", 1601)), 400, 21617},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			status, m := rawPost(t, b.srv, tt.user, tt.pass, tt.form)
			if status != tt.status || m["code"] != float64(tt.code) || m["status"] != float64(tt.status) {
				t.Errorf("got %d %v, want %d with code %d", status, m, tt.status, tt.code)
			}
			if m["more_info"] != fmt.Sprintf("https://www.twilio.com/docs/errors/%d", tt.code) {
				t.Errorf("more_info = %v", m["more_info"])
			}
		})
	}
	if n := len(b.srv.Messages()); n != 0 {
		t.Errorf("%d messages accepted, want none", n)
	}
}

func TestMessagingServiceAnswersAccepted(t *testing.T) {
	t.Parallel()
	b := setup(t, twiliotest.Options{})
	m, err := b.api.CreateMessage((&openapi.CreateMessageParams{}).SetTo("+393331234567").SetBody("x").
		SetMessagingServiceSid("MG00000000000000000000000000000001"))
	if err != nil {
		t.Fatal(err)
	}
	if *m.Status != "accepted" || *m.NumSegments != "0" || m.From != nil {
		t.Errorf("status %q, segments %q, from %v; want accepted, 0, null", *m.Status, *m.NumSegments, m.From)
	}
}

func TestRateLimitAnswers429(t *testing.T) {
	t.Parallel()
	// One message per thousand seconds after a burst of two: the outcome
	// cannot depend on how fast the test runs.
	b := setup(t, twiliotest.Options{RateLimit: 0.001, Burst: 2})
	var codes []int
	for range 4 {
		_, err := b.api.CreateMessage((&openapi.CreateMessageParams{}).SetTo("+393331234567").SetBody("x").SetFrom("+15005550006"))
		if err == nil {
			codes = append(codes, 201)
			continue
		}
		re, ok := err.(*client.TwilioRestError)
		if !ok {
			t.Fatalf("error %T %v", err, err)
		}
		codes = append(codes, re.Code)
	}
	if fmt.Sprint(codes) != "[201 201 20429 20429]" {
		t.Errorf("answers %v, want two accepted then 20429", codes)
	}
	if b.srv.Rejected429() != 2 || b.srv.Received() != 4 || len(b.srv.AcceptedTimes()) != 2 {
		t.Errorf("rejected %d, received %d, accepted %d", b.srv.Rejected429(), b.srv.Received(), len(b.srv.AcceptedTimes()))
	}
}

func TestScriptedFaults(t *testing.T) {
	t.Parallel()
	b := setup(t, twiliotest.Options{})
	b.srv.Script("+393330000001", twiliotest.Status(400, 21610, "Attempt to send to unsubscribed recipient"))
	b.srv.ScriptNext(twiliotest.Status(503, 20503, "Service unavailable"))

	var got []string
	for _, to := range []string{"+393330000001", "+393330000001", "+393330000002", "+393330000002"} {
		_, err := b.api.CreateMessage((&openapi.CreateMessageParams{}).SetTo(to).SetBody("x").SetFrom("+15005550006"))
		if re, ok := err.(*client.TwilioRestError); ok {
			got = append(got, fmt.Sprint(re.Code))
		} else if err != nil {
			t.Fatal(err)
		} else {
			got = append(got, "ok")
		}
	}
	// The recipient's own script comes first; the general one is then
	// taken by the next send, to whoever it goes.
	if want := "[21610 20503 ok ok]"; fmt.Sprint(got) != want {
		t.Errorf("answers %v, want %s", got, want)
	}
	if b.srv.CountTo("+393330000001") != 0 || b.srv.CountTo("+393330000002") != 2 {
		t.Errorf("counts %d and %d", b.srv.CountTo("+393330000001"), b.srv.CountTo("+393330000002"))
	}
}

func TestAcceptThenDropKeepsTheMessage(t *testing.T) {
	t.Parallel()
	b := setup(t, twiliotest.Options{})
	b.srv.ScriptNext(twiliotest.AcceptThenDrop())
	_, err := b.api.CreateMessage((&openapi.CreateMessageParams{}).SetTo("+393331234567").SetBody("x").SetFrom("+15005550006"))
	if err == nil {
		t.Fatal("the send succeeded, want a dropped connection")
	}
	if _, ok := err.(*client.TwilioRestError); ok {
		t.Fatalf("got an answer %v, want none", err)
	}
	if b.srv.CountTo("+393331234567") != 1 {
		t.Errorf("the message was not kept")
	}
}

// callbacks is a webhook that checks signatures and records statuses.
type callbacks struct {
	mu       sync.Mutex
	statuses map[string][]string
	bad      int
	srv      *httptest.Server
}

func newCallbacks(t *testing.T, token string) *callbacks {
	c := &callbacks{statuses: map[string][]string{}}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := sms.ValidateWebhook(token, c.srv.URL+r.URL.Path, r); err != nil {
			c.mu.Lock()
			c.bad++
			c.mu.Unlock()
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		f := r.PostForm
		status := f.Get("MessageStatus")
		if f.Get("SmsStatus") != status || f.Get("SmsSid") != f.Get("MessageSid") || f.Get("AccountSid") == "" || f.Get("ApiVersion") != "2010-04-01" {
			status = "malformed"
		}
		if code := f.Get("ErrorCode"); code != "" {
			status += ":" + code
		}
		c.mu.Lock()
		c.statuses[f.Get("MessageSid")] = append(c.statuses[f.Get("MessageSid")], status)
		c.mu.Unlock()
	}))
	t.Cleanup(c.srv.Close)
	return c
}

func TestStatusCallbacksAreSignedAndInOrder(t *testing.T) {
	t.Parallel()
	b := setup(t, twiliotest.Options{})
	cb := newCallbacks(t, b.srv.AuthToken())
	b.srv.Script("+393330000003", twiliotest.DeliveryFails(30003))
	b.srv.Script("+393330000005", twiliotest.DeliveryFails(30005))
	b.srv.Script("+393330000006", twiliotest.DeliveryFails(30006))
	b.srv.Script("+393330000001", twiliotest.DeliveryFails(30001))

	want := map[string]string{
		"+393331234567": "[sent delivered]",
		"+393330000003": "[sent undelivered:30003]",
		"+393330000005": "[sent undelivered:30005]",
		"+393330000006": "[sent undelivered:30006]",
		"+393330000001": "[failed:30001]",
	}
	sids := map[string]string{}
	for to := range want {
		m, err := b.api.CreateMessage((&openapi.CreateMessageParams{}).SetTo(to).SetBody("x").SetFrom("+15005550006").
			SetStatusCallback(cb.srv.URL + "/status"))
		if err != nil {
			t.Fatal(err)
		}
		sids[to] = *m.Sid
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := b.srv.WaitFinal(ctx, len(want)); err != nil {
		t.Fatal(err)
	}
	cb.mu.Lock()
	defer cb.mu.Unlock()
	if cb.bad != 0 {
		t.Errorf("%d callbacks failed the signature check", cb.bad)
	}
	for to, w := range want {
		if got := fmt.Sprint(cb.statuses[sids[to]]); got != w {
			t.Errorf("callbacks for %s: %s, want %s", to, got, w)
		}
	}
	for _, m := range b.srv.Messages() {
		if m.Status == "queued" {
			t.Errorf("message %s still queued", m.Sid)
		}
	}
}

func TestListPagesNewestFirst(t *testing.T) {
	t.Parallel()
	b := setup(t, twiliotest.Options{})
	var sids []string
	for i := range 120 {
		sids = append(sids, *b.send(t, "+393331234567", fmt.Sprint("n. ", i)).Sid)
		if i%10 == 0 {
			b.send(t, "+393339999999", "someone else")
		}
	}
	got, err := b.api.ListMessage((&openapi.ListMessageParams{}).SetTo("+393331234567").SetPageSize(50))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(sids) {
		t.Fatalf("listed %d messages, want %d", len(got), len(sids))
	}
	for i, m := range got {
		if want := sids[len(sids)-1-i]; *m.Sid != want {
			t.Fatalf("message %d is %s, want %s (newest first)", i, *m.Sid, want)
		}
	}
}

func TestListDateFiltersMatchTheDaySent(t *testing.T) {
	t.Parallel()
	// A long delivery delay keeps the second message queued, with no
	// date_sent, until Close.
	b := setup(t, twiliotest.Options{DeliveryDelay: time.Hour})
	queued := b.send(t, "+393331234567", "still queued")

	now := time.Now().UTC()
	for _, tt := range []struct {
		name   string
		params *openapi.ListMessageParams
		want   int
	}{
		{"no date filter lists the queued message", &openapi.ListMessageParams{}, 1},
		{"date filter leaves out a message not sent yet", (&openapi.ListMessageParams{}).SetDateSentAfter(now.Add(-24 * time.Hour)), 0},
	} {
		got, err := b.api.ListMessage(tt.params.SetTo("+393331234567"))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != tt.want {
			t.Errorf("%s: listed %d, want %d", tt.name, len(got), tt.want)
		}
	}
	m, err := b.api.FetchMessage(*queued.Sid, nil)
	if err != nil || *m.Status != "queued" {
		t.Fatalf("fetch: %v %v", m, err)
	}
}

func TestListDateFiltersOnSentMessages(t *testing.T) {
	t.Parallel()
	b := setup(t, twiliotest.Options{})
	b.send(t, "+393331234567", "x")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := b.srv.WaitFinal(ctx, 1); err != nil {
		t.Fatal(err)
	}
	today := time.Now().UTC()
	for _, tt := range []struct {
		name   string
		params *openapi.ListMessageParams
		want   int
	}{
		{"sent today matches DateSent today", (&openapi.ListMessageParams{}).SetDateSent(today), 1},
		{"sent today matches DateSent> yesterday", (&openapi.ListMessageParams{}).SetDateSentAfter(today.AddDate(0, 0, -1)), 1},
		{"sent today matches DateSent> today, day-granular", (&openapi.ListMessageParams{}).SetDateSentAfter(today.Add(time.Minute)), 1},
		{"sent today does not match DateSent> tomorrow", (&openapi.ListMessageParams{}).SetDateSentAfter(today.AddDate(0, 0, 1)), 0},
		{"sent today does not match DateSent< yesterday", (&openapi.ListMessageParams{}).SetDateSentBefore(today.AddDate(0, 0, -1)), 0},
	} {
		got, err := b.api.ListMessage(tt.params.SetTo("+393331234567"))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != tt.want {
			t.Errorf("%s: listed %d, want %d", tt.name, len(got), tt.want)
		}
	}
}

func TestFetchUnknownMessageIs404(t *testing.T) {
	t.Parallel()
	b := setup(t, twiliotest.Options{})
	_, err := b.api.FetchMessage("SM00000000000000000000000000000000", nil)
	re, ok := err.(*client.TwilioRestError)
	if !ok || re.Status != 404 || re.Code != 20404 {
		t.Errorf("got %v, want 404 with code 20404", err)
	}
}

func TestInboundIsSignedLikeTwilio(t *testing.T) {
	t.Parallel()
	b := setup(t, twiliotest.Options{})
	got := make(chan url.Values, 1)
	var hook *httptest.Server
	hook = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := sms.ValidateWebhook(b.srv.AuthToken(), hook.URL+"/inbound", r); err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		got <- r.PostForm
	}))
	defer hook.Close()

	resp, err := b.srv.Inbound(context.Background(), hook.URL+"/inbound", "+393331234567", "+15005550006", "Sì, confermo!")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("webhook answered %d", resp.StatusCode)
	}
	f := <-got
	if f.Get("Body") != "Sì, confermo!" || f.Get("From") != "+393331234567" || f.Get("NumMedia") != "0" ||
		f.Get("NumSegments") != "1" || !strings.HasPrefix(f.Get("MessageSid"), "SM") || f.Get("SmsSid") != f.Get("MessageSid") {
		t.Errorf("inbound form %v", f)
	}
}

func TestWaitAcceptedEndsOnClose(t *testing.T) {
	t.Parallel()
	srv := twiliotest.NewServer(twiliotest.Options{})
	done := make(chan error, 1)
	go func() { done <- srv.WaitAccepted(context.Background(), 1) }()
	srv.Close()
	if err := <-done; err != twiliotest.ErrClosed {
		t.Errorf("WaitAccepted = %v, want ErrClosed", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := srv.WaitAccepted(ctx, 0); err != nil {
		t.Errorf("WaitAccepted for nothing = %v", err)
	}
}

func TestCloseCutsStallsAndDeliveries(t *testing.T) {
	t.Parallel()
	srv := twiliotest.NewServer(twiliotest.Options{DeliveryDelay: time.Hour})
	api := openapi.NewApiServiceWithClient(fakeClient(srv))
	srv.ScriptNext(twiliotest.Stall(time.Hour))
	errc := make(chan error, 1)
	go func() {
		_, err := api.CreateMessage((&openapi.CreateMessageParams{}).SetTo("+393331234567").SetBody("x").SetFrom("+15005550006"))
		errc <- err
	}()
	if err := srv.WaitAccepted(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	srv.Close() // returns only once the stall and the pending delivery ended
	if err := <-errc; err == nil {
		t.Error("the stalled send succeeded")
	}
}

func TestSignatureAgreesWithTwilioGo(t *testing.T) {
	t.Parallel()
	params := url.Values{"MessageSid": {"SM1"}, "Body": {"Sì & no"}, "From": {"+393331234567"}}
	u := "https://example.org/sms/status?outbox=7"
	flat := map[string]string{}
	for k, v := range params {
		flat[k] = v[0]
	}
	v := client.NewRequestValidator(twiliotest.DefaultAuthToken)
	if !v.Validate(u, flat, twiliotest.Signature(twiliotest.DefaultAuthToken, u, params)) {
		t.Error("twilio-go does not accept the fake's signature")
	}
}

func BenchmarkCreate(b *testing.B) {
	srv := twiliotest.NewServer(twiliotest.Options{})
	defer srv.Close()
	gw, err := sms.NewTwilio(sms.TwilioConfig{
		AccountSID: srv.AccountSID(), AuthToken: srv.AuthToken(), From: "+15005550006", BaseURL: srv.URL(),
	})
	if err != nil {
		b.Fatal(err)
	}
	defer gw.CloseIdleConnections()
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := gw.Send(context.Background(), sms.Message{To: "+393331234567", Body: "Promemoria"}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
