package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/cli/base"
	"github.com/richiamo/richiamo/internal/clock"
	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/testkit"
)

// sippCall runs one of testdata/sipp's scenarios as the far end of one
// call and returns its URI and a function that waits for SIPp to finish
// and fails the test unless the call went as the scenario expects.
func sippCall(t *testing.T, scenario string) (string, func()) {
	t.Helper()
	bin := testkit.Need(t, "sipp")
	port, media := freePort(t, 1), freePort(t, 4)
	var out bytes.Buffer
	cmd := exec.Command(bin, "-sf", filepath.Join("..", "..", "testdata", "sipp", scenario),
		"-i", "127.0.0.1", "-p", strconv.Itoa(port), "-mp", strconv.Itoa(media),
		"-m", "1", "-nostdin", "-timeout", "20s", "-timeout_error")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
	})
	return fmt.Sprintf("sip:patient@127.0.0.1:%d", port), func() {
		t.Helper()
		if err := <-done; err != nil {
			t.Errorf("SIPp: %v\n%s", err, out.String())
		}
		done <- nil // for the cleanup
	}
}

// freePort finds n consecutive free UDP ports on 127.0.0.1, the first
// even when n > 1.
func freePort(t *testing.T, n int) int {
	t.Helper()
	for range 100 {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		first := c.LocalAddr().(*net.UDPAddr).Port
		c.Close()
		if n > 1 && first%2 == 1 {
			first++
		}
		free := true
		for p := first; p < first+n && free; p++ {
			c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p})
			if err != nil {
				free = false
				continue
			}
			c.Close()
		}
		if free {
			return first
		}
	}
	t.Fatal("no free UDP ports")
	return 0
}

// callConfig is a configuration that places calls from 127.0.0.1.
func callConfig(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "richiamo.yaml")
	cfg := "voice:\n  bind: 127.0.0.1:0\n  rtp_port_min: 20000\n  rtp_port_max: 29999\n"
	if err := os.WriteFile(p, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCallJSONAgainstSIPp(t *testing.T) {
	t.Parallel()
	testkit.Need(t, "raw-sockets")
	uri, wait := sippCall(t, "answer_digits.xml")
	var out, errb bytes.Buffer
	code := run(context.Background(), testEnv(&out, &errb),
		[]string{"call", "--config", callConfig(t), "--to", uri, "--collect", "2", "--json"})
	if code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out.String(), errb.String())
	}
	var got map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, k := range []string{"outcome", "sip_code", "digits", "ring_ms", "talk_ms"} {
		if _, ok := got[k]; !ok {
			t.Errorf("--json lacks %q: %s", k, out.String())
		}
	}
	if got["outcome"] != "answered" || got["sip_code"] != 200.0 || got["digits"] != "12" || got["talk_ms"].(float64) <= 0 {
		t.Errorf("result %s", out.String())
	}
	wait()
}

func TestCallLineForABusyLine(t *testing.T) {
	t.Parallel()
	uri, wait := sippCall(t, "busy.xml")
	var out, errb bytes.Buffer
	code := run(context.Background(), testEnv(&out, &errb),
		[]string{"call", "--config", callConfig(t), "--to", uri})
	const want = `busy sip_code=486 reason="Busy Here" rang=false ring_ms=0 talk_ms=0 cause=final_response` + "\n"
	if code != 0 || out.String() != want {
		t.Fatalf("exit %d, printed %q, want %q\nstderr: %s", code, out.String(), want, errb.String())
	}
	wait()
}

func TestCallNumberNeedsATrunk(t *testing.T) {
	t.Parallel()
	var out, errb bytes.Buffer
	code := run(context.Background(), testEnv(&out, &errb),
		[]string{"call", "--config", callConfig(t), "--to", "333 1234567"})
	if code != base.ExitUsage || !strings.Contains(errb.String(), "voice.trunk.proxy") {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
}

func TestCallingANumberAtNightIsRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "richiamo.yaml")
	if err := os.WriteFile(cfg, []byte("store:\n  sqlite: r.db\nvoice:\n  trunk:\n    proxy: sip:192.0.2.10:5060\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb strings.Builder
	e := testEnv(&out, &errb)
	e.Now = clock.From(time.Date(2027, 3, 10, 3, 5, 0, 0, cup.Rome))
	code := run(context.Background(), e, []string{"call", "--config", cfg, "--to", "3331234567"})
	if code != base.ExitUsage || !strings.Contains(errb.String(), "it is 2027-03-10 03:05 in Rome, outside the operating window") ||
		!strings.Contains(errb.String(), "next opening 2027-03-10 08:00") {
		t.Errorf("exit %d: %s", code, errb.String())
	}
}
