package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twilio/twilio-go/client"

	"github.com/richiamo/richiamo/internal/cli/base"
	"github.com/richiamo/richiamo/internal/remind"
	"github.com/richiamo/richiamo/internal/sms/twiliotest"
	"github.com/richiamo/richiamo/internal/voice"
	"github.com/richiamo/richiamo/internal/voice/patients"
)

// simBuffer is written by the simulated patients' log while the test
// reads it.
type simBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *simBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *simBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func TestSimulatedPatientsCountTheirCallsUntilStopped(t *testing.T) {
	t.Parallel()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t, 1)))
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var out, errb simBuffer
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, testEnv(&out, &errb),
			[]string{"simulate", "patients", "--listen", addr, "--mix", "../../testdata/patients-mix.yaml", "--json"})
	}()
	for !strings.Contains(errb.String(), "answering on") {
		select {
		case c := <-code:
			t.Fatalf("exited with %d: %s", c, errb.String())
		case <-time.After(10 * time.Millisecond):
		}
	}

	caller, err := voice.NewCaller(voice.Config{Bind: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer caller.Close()
	// The mix file makes a number ending in 0 busy and one ending in 99
	// never answer.
	for number, want := range map[string]voice.Outcome{"3331234560": voice.Busy, "3331234599": voice.NoAnswer} {
		_, res := caller.Place(t.Context(), voice.Request{To: "sip:" + number + "@" + addr, RingTimeout: 300 * time.Millisecond})
		if res.Outcome != want {
			t.Errorf("%s: %s (SIP %d), want %s", number, res.Outcome, res.SIPCode, want)
		}
	}
	stop()
	if c := <-code; c != 0 {
		t.Fatalf("exit status %d: %s", c, errb.String())
	}
	var got patients.Summary
	if err := json.Unmarshal([]byte(out.String()), &got); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	if got.Seed != 20260301 || got.Calls != 2 || got.By[patients.Busy] != 1 || got.By[patients.NeverAnswer] != 1 || got.By[patients.AnswerAndPress] != 0 {
		t.Errorf("summary %+v", got)
	}
}

func TestSimulateRefusesABadMix(t *testing.T) {
	t.Parallel()
	var out, errb bytes.Buffer
	code := run(context.Background(), testEnv(&out, &errb),
		[]string{"simulate", "patients", "--listen", "127.0.0.1:0", "--mix", "no-such-mix.yaml"})
	if code != base.ExitUsage || !strings.Contains(errb.String(), "no-such-mix.yaml") {
		t.Errorf("exit %d, %q", code, errb.String())
	}
}

// webhookLog is the engine's side of the webhooks in the test: it checks
// each request's signature as the engine does and keeps what came.
type webhookLog struct {
	mu       sync.Mutex
	statuses map[string]string // message SID → last status
	inbound  []string          // bodies
	unsigned int
}

func (l *webhookLog) handler(token string) http.Handler {
	v := client.NewRequestValidator(token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		params := map[string]string{}
		for k := range r.PostForm {
			params[k] = r.PostForm.Get(k)
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		if !v.Validate("http://"+r.Host+r.URL.RequestURI(), params, r.Header.Get("X-Twilio-Signature")) {
			l.unsigned++
			http.Error(w, "bad signature", http.StatusForbidden)
			return
		}
		switch r.URL.Path {
		case remind.StatusPath:
			l.statuses[r.PostForm.Get("MessageSid")] = r.PostForm.Get("MessageStatus")
		case remind.InboundPath:
			l.inbound = append(l.inbound, r.PostForm.Get("Body"))
			w.Header().Set("Content-Type", "text/xml")
			_, _ = w.Write([]byte("<Response><Message>Grazie, confermato.</Message></Response>"))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

func (l *webhookLog) delivered() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, s := range l.statuses {
		if s == "delivered" {
			n++
		}
	}
	return n
}

// TestSimulateTwilioTakesRemindersAsItsOwnProcess runs `simulate twilio`
// as a process of its own, as an IT department would, and `richiamo
// remind` sending through it: the messages are accepted after an injected
// 429, delivery reports come back signed to the engine's public URL, a
// patient's reply is forwarded signed on command, and the counters are
// printed as JSON on stop.
func TestSimulateTwilioTakesRemindersAsItsOwnProcess(t *testing.T) {
	t.Parallel()
	hooks := &webhookLog{statuses: map[string]string{}}
	engine := httptest.NewServer(hooks.handler(token))
	defer engine.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	c := newCLI(t, twiliotest.Options{})
	cfg, err := os.ReadFile(c.config)
	if err != nil {
		t.Fatal(err)
	}
	conf := strings.Replace(string(cfg), c.fake.URL(), "http://"+addr, 1) + "web:\n  public_url: " + engine.URL + "\n"
	if err := os.WriteFile(c.config, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	sim := c.cmd("simulate", "twilio", "--listen", addr, "--account-sid", account, "--inbound-url", engine.URL+remind.InboundPath,
		"--delivery-delay", "10ms", "--fault", "429", "--json")
	var simOut, simErr simBuffer
	sim.Stdout, sim.Stderr = &simOut, &simErr
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sim.Process.Kill() }()
	ended := make(chan error, 1)
	go func() { ended <- sim.Wait() }()
	for !strings.Contains(simErr.String(), "Twilio imitation at http://"+addr) {
		select {
		case err := <-ended:
			t.Fatalf("simulate twilio ended (%v): %s", err, simErr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}

	path, day, _ := c.extract(t, 3)
	if out, err := c.cmd("remind", "--config", c.config, "--extract", path, "--for-date", day).CombinedOutput(); err != nil {
		t.Fatalf("remind: %v\n%s\n%s", err, out, simErr.String())
	}
	deadline := time.Now().Add(20 * time.Second)
	for hooks.delivered() < 3 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := hooks.delivered(); n != 3 {
		t.Fatalf("%d messages reported delivered, want 3\n%s", n, simErr.String())
	}

	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/control/inbound",
		strings.NewReader(url.Values{"from": {"+393330000001"}, "to": {"+390000000000"}, "body": {"SI"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(account, token)
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var ans struct {
		Status int    `json:"status"`
		Answer string `json:"answer"`
	}
	err = json.NewDecoder(resp.Body).Decode(&ans)
	resp.Body.Close()
	if err != nil || ans.Status != http.StatusOK || !strings.Contains(ans.Answer, "Grazie") {
		t.Fatalf("control inbound: %v %+v", err, ans)
	}

	if err := sim.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-ended:
		if err != nil {
			t.Fatalf("simulate twilio: %v\n%s", err, simErr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("simulate twilio did not stop on an interrupt\n%s", simErr.String())
	}
	var st twiliotest.Stats
	if err := json.Unmarshal([]byte(simOut.String()), &st); err != nil {
		t.Fatalf("%v: %q", err, simOut.String())
	}
	hooks.mu.Lock()
	defer hooks.mu.Unlock()
	if st.URL != "http://"+addr || st.Accepted != 3 || st.Requests != 4 || st.Faults != 1 || st.Delivered != 3 || st.Inbound != 1 ||
		st.CallbackErrors != 0 || hooks.unsigned != 0 || len(hooks.inbound) != 1 || hooks.inbound[0] != "SI" {
		t.Errorf("counters %+v; webhooks: %d unsigned, inbound %q", st, hooks.unsigned, hooks.inbound)
	}
}

func TestSimulateTwilioWantsTheTokenFromTheEnvironment(t *testing.T) {
	t.Parallel()
	var out, errb bytes.Buffer
	if code := run(context.Background(), testEnv(&out, &errb), []string{"simulate", "twilio", "--listen", "127.0.0.1:0"}); code != 2 ||
		!strings.Contains(errb.String(), "RICHIAMO_TWILIO_AUTH_TOKEN") {
		t.Errorf("exit %d: %s", code, errb.String())
	}
}
