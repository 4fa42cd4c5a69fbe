package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/config"
	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/engine"
	"github.com/richiamo/richiamo/internal/sms/twiliotest"
	"github.com/richiamo/richiamo/internal/store"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// serveCLI configures `serve` with an inbox, a schedule that fires every
// second, and webhooks on a loopback port.
func serveCLI(t *testing.T, fo twiliotest.Options) (*cli, string) {
	t.Helper()
	c := newCLI(t, fo)
	addr := freeAddr(t)
	camp := strings.Replace(testCampaign, `schedule: "0 10 * * *"`, `schedule: "@every 1s"`, 1)
	camp = strings.Replace(camp, "days_before: [1]", "days_before: [2]", 1)
	if err := os.WriteFile(filepath.Join(c.dir, "reminder.yaml"), []byte(camp), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := os.ReadFile(c.config)
	if err != nil {
		t.Fatal(err)
	}
	cfg = append(cfg, fmt.Sprintf("extract:\n  inbox: inbox/*.csv\n  done: done\nweb:\n  listen: %s\n  public_url: http://%s\n", addr, addr)...)
	cfg = bytes.Replace(cfg, []byte("rate_per_second: 300"), []byte("rate_per_second: 100"), 1)
	if err := os.WriteFile(c.config, cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(c.dir, "inbox"), 0o755); err != nil {
		t.Fatal(err)
	}
	return c, "http://" + addr
}

type serving struct {
	cmd    *exec.Cmd
	stderr bytes.Buffer
	done   chan error
}

func (c *cli) serve(t *testing.T) *serving {
	t.Helper()
	s := &serving{cmd: c.cmd("serve", "--config", c.config), done: make(chan error, 1)}
	s.cmd.Stderr = &s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	t.Cleanup(func() { s.cmd.Process.Kill() })
	return s
}

// stop sends SIGTERM and expects a clean exit.
func (s *serving) stop(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("serve exited with %v\n%s", err, s.stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not stop after SIGTERM\n%s", s.stderr.String())
	}
	if !strings.Contains(s.stderr.String(), "stopped") {
		t.Fatalf("no clean stop in the log:\n%s", s.stderr.String())
	}
}

func TestServeRunsTheScheduleSendsAndStopsCleanlyOnSIGTERM(t *testing.T) {
	t.Parallel()
	c, public := serveCLI(t, twiliotest.Options{Latency: 2 * time.Millisecond, DeliveryDelay: time.Millisecond})
	// The extract is written to the inbox under another name first, so
	// that the schedule never sees half a file.
	path, _, phones := c.extract(t, 300)
	if err := os.Rename(path, filepath.Join(c.dir, "inbox", "estratto.csv")); err != nil {
		t.Fatal(err)
	}
	// The engine has recorded since two months before: the reports due at
	// the pinned now are of periods after its first record, so serve
	// keeps them (it keeps none of a period before it).
	seed, err := engine.OpenStore(context.Background(), config.Config{Dir: c.dir, Store: config.Store{SQLite: "richiamo.db"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := seed.RecordProbe(context.Background(), store.Probe{At: testNow.AddDate(0, -2, 0), Target: store.ProbeUA, Up: true}); err != nil {
		t.Fatal(err)
	}
	seed.Close()
	s := c.serve(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := c.fake.WaitAccepted(ctx, 60); err != nil {
		t.Fatalf("%v\n%s", err, s.stderr.String())
	}
	// Stopped in the middle of sending: what was in flight is recorded.
	s.stop(t)
	if _, err := os.Stat(filepath.Join(c.dir, "inbox", "estratto.csv")); !os.IsNotExist(err) {
		t.Fatalf("the processed extract is still in the inbox: %v", err)
	}
	s = c.serve(t)
	if err := c.fake.WaitAccepted(ctx, len(phones)); err != nil {
		t.Fatalf("%v\n%s", err, s.stderr.String())
	}
	// A patient answers through the signed inbound webhook.
	resp, err := c.fake.Inbound(ctx, public+"/webhooks/twilio/inbound", phones[0], "+390000000000", "Sì, confermo")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "conferma") {
		t.Fatalf("reply webhook: %s %s", resp.Status, body)
	}
	// Health answers while serving.
	hr, err := http.Get(public + "/healthz")
	if err != nil || hr.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %v %v", hr, err)
	}
	hr.Body.Close()
	s.stop(t)
	for _, p := range phones {
		if n := c.fake.CountTo(p); n != 1 {
			t.Errorf("%s received %d reminders", p, n)
		}
	}
	// The schedule made and kept the latest monthly service-level report,
	// once, although serve started twice.
	st, err := store.Open(ctx, store.Options{SQLitePath: filepath.Join(c.dir, "richiamo.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	reps, err := st.SLAReports(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := engine.ReportPlan(config.Default().SLA).Due(testNow, cup.Rome)
	if len(reps) != len(want) {
		t.Fatalf("kept reports %+v, want %d", reps, len(want))
	}
	for _, r := range reps {
		if r.CreatedBy != "serve" || r.Profile != "piano-2021" {
			t.Errorf("kept report %+v", r)
		}
	}
}

func TestServeRefusesToStartWithoutAPublicURL(t *testing.T) {
	t.Parallel()
	c := newCLI(t, twiliotest.Options{})
	out, err := c.cmd("serve", "--config", c.config).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "web.public_url") {
		t.Fatalf("serve started or did not name the setting: %v\n%s", err, out)
	}
}
