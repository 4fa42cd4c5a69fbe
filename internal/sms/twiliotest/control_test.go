package twiliotest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/richiamo/richiamo/internal/sms/twiliotest"
	"github.com/twilio/twilio-go/client"
)

func control(t *testing.T, srv *twiliotest.Server, user, pass, method, path string, form url.Values) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL()+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(user, pass)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("decoding the answer: %v", err)
	}
	return resp.StatusCode, body
}

// The control endpoints forward a patient's reply, signed, to the inbound
// URL, queue faults for the next sends and count what happened; without
// the account's credentials they refuse.
func TestControlEndpoints(t *testing.T) {
	t.Parallel()
	type hit struct {
		form   url.Values
		signed bool
	}
	hits := make(chan hit, 1)
	validator := client.NewRequestValidator(twiliotest.DefaultAuthToken)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		signed := validator.Validate("http://"+r.Host+r.URL.Path, map[string]string{
			"From": r.PostForm.Get("From"), "To": r.PostForm.Get("To"), "Body": r.PostForm.Get("Body"), "MessageSid": r.PostForm.Get("MessageSid"),
			"SmsSid": r.PostForm.Get("SmsSid"), "SmsMessageSid": r.PostForm.Get("SmsMessageSid"), "AccountSid": r.PostForm.Get("AccountSid"),
			"NumMedia": r.PostForm.Get("NumMedia"), "NumSegments": r.PostForm.Get("NumSegments"), "SmsStatus": r.PostForm.Get("SmsStatus"),
			"ApiVersion": r.PostForm.Get("ApiVersion"),
		}, r.Header.Get("X-Twilio-Signature"))
		hits <- hit{r.PostForm, signed}
		w.Header().Set("Content-Type", "text/xml")
		_, _ = io.WriteString(w, "<Response><Message>Grazie</Message></Response>")
	}))
	defer hook.Close()
	srv, err := twiliotest.Start(twiliotest.Options{Control: true, InboundURL: hook.URL + "/sms/inbound"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	sid, tok := srv.AccountSID(), srv.AuthToken()

	if code, _ := control(t, srv, sid, "wrong", http.MethodGet, "/control/stats", nil); code != http.StatusUnauthorized {
		t.Errorf("stats without the token: %d", code)
	}
	code, ans := control(t, srv, sid, tok, http.MethodPost, "/control/inbound", url.Values{"from": {"+393331234567"}, "to": {"+390000000000"}, "body": {"Sì, confermo"}})
	if code != http.StatusOK || ans["status"] != float64(200) || !strings.Contains(ans["answer"].(string), "Grazie") {
		t.Errorf("inbound: %d %v", code, ans)
	}
	if h := <-hits; !h.signed || h.form.Get("Body") != "Sì, confermo" || h.form.Get("From") != "+393331234567" {
		t.Errorf("the webhook got %v, signed %v", h.form, h.signed)
	}
	if code, _ := control(t, srv, sid, tok, http.MethodPost, "/control/fault", url.Values{"fault": {"overheat"}}); code != http.StatusBadRequest {
		t.Errorf("an unknown fault: %d", code)
	}
	if code, _ := control(t, srv, sid, tok, http.MethodPost, "/control/fault", url.Values{"fault": {"429"}, "count": {"2"}}); code != http.StatusOK {
		t.Errorf("fault: %d", code)
	}
	form := url.Values{"To": {"+393331234567"}, "From": {"+15005550006"}, "Body": {"ciao"}}
	for i, want := range []int{429, 429, 201} {
		if status, _ := rawPost(t, srv, sid, tok, form); status != want {
			t.Errorf("send %d: %d, want %d", i+1, status, want)
		}
	}
	_, st := control(t, srv, sid, tok, http.MethodGet, "/control/stats", nil)
	if st["send_requests"] != float64(3) || st["accepted"] != float64(1) || st["faults_injected"] != float64(2) || st["inbound_forwarded"] != float64(1) {
		t.Errorf("stats %v", st)
	}
}

func TestParseFault(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]string{"429": "Status(429, 20429)", "503": "Status(503, 20503)", "drop": "Drop", "LOST": "AcceptThenDrop",
		"undelivered": "DeliveryFails(30003)"} {
		f, err := twiliotest.ParseFault(name)
		if err != nil || f.String() != want {
			t.Errorf("%s: %v, %v; want %s", name, f, err, want)
		}
	}
	if _, err := twiliotest.ParseFault("slow"); err == nil {
		t.Error("slow was taken for a fault")
	}
}
