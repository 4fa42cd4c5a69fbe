package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/sms/twiliotest"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/voice/patients"
)

// waitHealthy waits until serve answers on its web address.
func waitHealthy(t *testing.T, s *serving, public string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(public + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case err := <-s.done:
			t.Fatalf("serve exited: %v\n%s", err, s.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("serve did not come up")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestServeWithVoiceProbesItsUserAgentAndTheTrunk(t *testing.T) {
	t.Parallel()
	c, public := serveCLI(t, twiliotest.Options{})
	mix, err := patients.ParseMix([]byte("seed: 1\nbehaviours:\n  busy: {weight: 1}\n"))
	if err != nil {
		t.Fatal(err)
	}
	// The simulated patients stand in for the trunk and answer its
	// OPTIONS keep-alive.
	pts, err := patients.NewServer(patients.Config{Listen: "127.0.0.1:0", Mix: mix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pts.Close() })
	cfg, err := os.ReadFile(c.config)
	if err != nil {
		t.Fatal(err)
	}
	cfg = fmt.Appendf(cfg, "voice:\n  bind: 127.0.0.1:0\n  advertise: 127.0.0.1\n  rtp_port_min: 46000\n  rtp_port_max: 46999\n"+
		"  channels: 4\n  probe_interval: 1s\n  trunk:\n    proxy: sip:%s\n    caller_id: \"+390000000000\"\n", pts.Addr())
	if err := os.WriteFile(c.config, cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	s := c.serve(t)
	waitHealthy(t, s, public)
	st := openTestStore(t, c)
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	var ps []store.Probe
	for {
		ps, err = st.Probes(ctx, testNow.Add(-time.Hour), testNow.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		n := map[string]int{}
		for _, p := range ps {
			n[p.Target]++
		}
		if n[store.ProbeUA] >= 3 && n[store.ProbeTrunk] >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("probes recorded: %+v", ps)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, p := range ps {
		want := map[string]int{store.ProbeUA: 200, store.ProbeTrunk: 200}[p.Target]
		if !p.Up || p.SIPCode != want || p.Detail != "" {
			t.Errorf("probe %+v, want up with %d", p, want)
		}
		// Mid-interval, so that each minute holds one probe per target.
		if ms := p.At.Nanosecond() / 1e6; ms < 400 || ms > 900 {
			t.Errorf("probe at %s, not near the middle of its second", p.At.Format("15:04:05.000"))
		}
	}
	s.stop(t)
	if strings.Contains(s.stderr.String(), "calls disabled") {
		t.Errorf("voice configured, yet calls are disabled:\n%s", s.stderr.String())
	}
}

func TestServeWithoutVoiceSaysCallsAreDisabled(t *testing.T) {
	t.Parallel()
	c, public := serveCLI(t, twiliotest.Options{})
	s := c.serve(t)
	waitHealthy(t, s, public)
	s.stop(t)
	if n := strings.Count(s.stderr.String(), "calls disabled: voice.trunk.proxy is not set"); n != 1 {
		t.Errorf("the log says %d times that calls are disabled, want once:\n%s", n, s.stderr.String())
	}
	st := openTestStore(t, c)
	if first, err := st.FirstProbe(context.Background()); err != nil || !first.IsZero() {
		t.Errorf("probed without voice: %v %v", first, err)
	}
}

func TestAProbeIntervalOverAMinuteIsRefused(t *testing.T) {
	t.Parallel()
	c := campaignCLI(t)
	if err := os.WriteFile(c.config, []byte("store:\n  sqlite: richiamo.db\nvoice:\n  probe_interval: 5m\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := c.cmd("migrate", "--config", c.config).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "voice.probe_interval") || !strings.Contains(string(out), "a minute without a probe") {
		t.Fatalf("accepted or did not name the setting: %v\n%s", err, out)
	}
}
