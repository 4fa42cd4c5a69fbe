package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/richiamo/richiamo/internal/remind"
	"github.com/richiamo/richiamo/internal/sms/twiliotest"
)

const (
	consoleUser     = "amministratore"
	consolePassword = "password-del-banco-1"
)

// server is `richiamo serve` on the store being imported into.
type server struct {
	base   string
	cmd    *exec.Cmd
	exited chan struct{} // closed once cmd has been waited for
	stderr bytes.Buffer
	cookie []*http.Cookie
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// startServe adds the console's account, starts serve and signs in.
func startServe(bin, dir, cfgPath string, env []string, base string) (*server, error) {
	add := exec.Command(bin, "user", "add", "--config", cfgPath, "--name", consoleUser, "--role", "admin", "--password-stdin")
	add.Dir, add.Env, add.Stdin = dir, env, strings.NewReader(consolePassword+"\n")
	if out, err := add.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("user add: %v: %s", err, out)
	}
	s := &server{base: base}
	s.cmd = exec.Command(bin, "serve", "--config", cfgPath)
	s.cmd.Dir, s.cmd.Env, s.cmd.Stderr = dir, env, &s.stderr
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	s.exited = make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(s.exited) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("serve not ready on %s: %v\n%s", base, err, s.stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := s.signIn(); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

func (s *server) stop() {
	_ = s.cmd.Process.Kill()
	<-s.exited
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

var noRedirect = &http.Client{Timeout: 2 * time.Minute,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func (s *server) signIn() error {
	resp, err := http.Get(s.base + "/accesso")
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	m := csrfRE.FindSubmatch(body)
	if m == nil {
		return fmt.Errorf("no token in the sign-in form (%s)", resp.Status)
	}
	form := url.Values{"csrf": {string(m[1])}, "nome": {consoleUser}, "password": {consolePassword}}
	req, _ := http.NewRequest(http.MethodPost, s.base+"/accesso", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range resp.Cookies() {
		req.AddCookie(c)
	}
	resp, err = noRedirect.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return fmt.Errorf("sign-in: %s", resp.Status)
	}
	s.cookie = resp.Cookies()
	return nil
}

// probes is what the console and the webhooks answered while probed.
type probes struct {
	mu                     sync.Mutex
	console, webhook       time.Duration // worst latency
	consoleN, webhookN     int
	consoleBad, webhookBad int
}

// probe asks for the console's overview and posts a signed reply from a
// patient (a write: it lands in the inbox) every interval until ctx ends,
// one request of each at a time. wait returns once both have stopped.
func (s *server) probe(ctx context.Context, every time.Duration) (p *probes, wait func()) {
	p = &probes{}
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ctx.Err() == nil; i++ {
			req, _ := http.NewRequest(http.MethodGet, s.base+"/panoramica", nil)
			for _, c := range s.cookie {
				req.AddCookie(c)
			}
			p.add(&p.console, &p.consoleN, &p.consoleBad, req)
			sleep(ctx, every)
		}
	})
	wg.Go(func() {
		for i := 0; ctx.Err() == nil; i++ {
			u := s.base + remind.InboundPath
			form := url.Values{
				"MessageSid": {fmt.Sprintf("SM%032x", i+1)}, "AccountSid": {account},
				"From": {fmt.Sprintf("+39333%07d", 9000000+i)}, "To": {"+15005550006"}, "Body": {"Confermo"},
			}
			req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Twilio-Signature", twiliotest.Signature(token, u, form))
			p.add(&p.webhook, &p.webhookN, &p.webhookBad, req)
			sleep(ctx, every)
		}
	})
	return p, wg.Wait
}

func (p *probes) add(worst *time.Duration, n, bad *int, req *http.Request) {
	start := time.Now()
	resp, err := noRedirect.Do(req)
	d := time.Since(start)
	ok := err == nil && resp.StatusCode < 300
	if err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	*n++
	*worst = max(*worst, d)
	if !ok {
		*bad++
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
