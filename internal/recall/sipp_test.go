package recall_test

import (
	"context"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/recall"
	"github.com/richiamo/richiamo/internal/store/storetest"
	"github.com/richiamo/richiamo/internal/testkit"
)

// freePort is a UDP port of 127.0.0.1 free a moment ago, with the three
// above it (SIPp's media takes them) as free as luck allows.
func freePort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// A patient played by SIPp answers the recall call and presses 1 then 2
// through its RFC 4733 captures: the first of the number's bookings is
// confirmed, the second cancelled in the CUP over TDS.
func TestRecallCallToSIPpPressingKeys(t *testing.T) {
	t.Parallel()
	bin := testkit.Need(t, "sipp")
	st := storetest.SQLite(t)
	b := setup(t, st, [][]any{
		row("RX-TORACE", "B-1", "+393331110001", 9, 8),
		row("RX-TORACE", "B-2", "+393331110001", 11, 10),
	})
	clock := testkit.RunningClock(monday9.Add(time.Hour))
	j := b.job(t, "engine-a", clock)
	rx, _ := recall.Find(b.agendas, "rx")
	ctx := context.Background()
	rep, err := j.Build(ctx, rx, recall.Options{Day: monday9})
	if err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := exec.CommandContext(sctx, bin, "-sf", filepath.Join("..", "..", "testdata", "sipp", "answer_digits.xml"),
		"-i", "127.0.0.1", "-p", strconv.Itoa(port), "-mp", strconv.Itoa(freePort(t)), "-m", "1", "-nostdin",
		"-timeout", "30s", "-timeout_error")
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	dialAll(t, st, "sip:127.0.0.1:"+strconv.Itoa(port), rep.CampaignID, clock)
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("SIPp: the call did not go as its scenario expects: %v\n%s", err, out.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("SIPp did not finish its call")
	}
	if _, err := j.Settle.SettleAll(ctx); err != nil {
		t.Fatal(err)
	}
	got := outcomes(t, st, rep.CampaignID)
	if got["B-1"] != "confirmed/" || got["B-2"] != "cancelled/done" {
		t.Errorf("outcomes %v, want B-1 confirmed and B-2 cancelled in the CUP", got)
	}
}
