// Command benchremind measures the reminder job on this machine and prints,
// as its last line:
//
//	plan rows=… seconds=… rss_mb=… send_rate=… limit=… ratio=…
//
// The plan figures time `richiamo remind --dry-run` of a generated
// million-row extract on an embedded SQLite store (wall time and peak RSS of
// that process). The send figures run `richiamo remind` on a generated
// 20,000-booking extract against an in-process imitation of Twilio's REST
// API, with sms.rate_per_second set to the limit; send_rate is the pace the
// provider saw, ratio its share of the limit.
//
// Run it through scripts/bench-remind.sh (make bench-remind).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/cup/synth"
	"github.com/richiamo/richiamo/internal/sms/twiliotest"
)

const (
	account = "AC0123456789abcdef0123456789abcdef"
	token   = "0123456789abcdef0123456789abcdef"
)

func main() {
	var (
		bin   = flag.String("bin", "bin/richiamo", "richiamo binary")
		rows  = flag.Int("rows", 1_000_000, "rows of the planning extract")
		sends = flag.Int("send", 20_000, "messages of the sending run")
		limit = flag.Float64("limit", 500, "sms.rate_per_second of the sending run")
		work  = flag.String("dir", "", "working directory (default: a temporary one, removed)")
	)
	flag.Parse()
	if err := run(*bin, *rows, *sends, *limit, *work); err != nil {
		fmt.Fprintln(os.Stderr, "benchremind:", err)
		os.Exit(1)
	}
}

func run(bin string, rows, sends int, limit float64, dir string) error {
	bin, err := filepath.Abs(bin)
	if err != nil {
		return err
	}
	if dir == "" {
		if dir, err = os.MkdirTemp("", "richiamo-bench-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	day := time.Now().In(cup.Rome).AddDate(0, 0, 2)
	day = time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, cup.Rome)
	if day.Weekday() == time.Sunday {
		day = day.AddDate(0, 0, 1)
	}
	forDate := day.Format("2006-01-02")

	// Planning: a million rows with the usual mess in them.
	big := filepath.Join(dir, "plan.csv")
	if err := write(big, synth.Options{Rows: rows, Seed: 1, Day: day, Days: 1, BadRate: 0.02, DupRate: 0.01, MultiRate: 0.03}); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "planning %d rows (dry run)…\n", rows)
	if err := os.WriteFile(filepath.Join(dir, "plan.yaml"), []byte("store:\n  sqlite: plan.db\n"), 0o644); err != nil {
		return err
	}
	start := time.Now()
	cmd := exec.Command(bin, "remind", "--config", filepath.Join(dir, "plan.yaml"), "--extract", big, "--for-date", forDate, "--dry-run", "--json")
	cmd.Dir = dir
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("plan run: %v\n%s", err, stderr.String())
	}
	planSecs := time.Since(start).Seconds()
	rssMB := float64(cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss) / 1024
	var plan struct {
		Rows, Messages int
	}
	if err := json.Unmarshal(out.Bytes(), &plan); err != nil {
		return fmt.Errorf("plan output: %w", err)
	}
	fmt.Fprintf(os.Stderr, "  %d rows, %d messages planned in %.1f s, peak RSS %.0f MB\n", plan.Rows, plan.Messages, planSecs, rssMB)

	// Sending: clean bookings, one per patient, through the real client.
	small := filepath.Join(dir, "send.csv")
	if err := write(small, synth.Options{Rows: sends, Seed: 2, Day: day, Days: 1}); err != nil {
		return err
	}
	fake := twiliotest.NewServer(twiliotest.Options{AccountSID: account, AuthToken: token})
	defer fake.Close()
	cfg := fmt.Sprintf(`store:
  sqlite: send.db
sms:
  rate_per_second: %g
  concurrency: 32
  twilio:
    account_sid: %s
    messaging_service_sid: MG0123456789abcdef0123456789abcdef
    base_url: %s
`, limit, account, fake.URL())
	if err := os.WriteFile(filepath.Join(dir, "send.yaml"), []byte(cfg), 0o644); err != nil {
		return err
	}
	// Send at any hour: the benchmark must not depend on when it runs.
	camp := "name: bench\nschedule: \"0 10 * * *\"\nsend_hours: {from: \"00:00\", to: \"24:00\"}\nmin_notice: 1m\n" +
		"template: \"CUP: le ricordiamo l'appuntamento di {{(index .Appuntamenti 0).Quando}}, prenotazione {{(index .Appuntamenti 0).Codice}}.\"\n"
	if err := os.MkdirAll(filepath.Join(dir, "campaigns"), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "campaigns", "reminder.yaml"), []byte(camp), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "sending a %d-booking extract at a limit of %g/s…\n", sends, limit)
	cmd = exec.Command(bin, "remind", "--config", filepath.Join(dir, "send.yaml"), "--extract", small, "--for-date", forDate, "--json")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "RICHIAMO_TWILIO_AUTH_TOKEN="+token)
	stderr.Reset()
	out.Reset()
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("send run: %v\n%s", err, stderr.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = fake.WaitAccepted(ctx, 1)
	at := fake.AcceptedTimes()
	if len(at) < 2 {
		return fmt.Errorf("the provider accepted %d messages", len(at))
	}
	rate := float64(len(at)-1) / at[len(at)-1].Sub(at[0]).Seconds()
	fmt.Fprintf(os.Stderr, "  the provider accepted %d messages at %.1f/s\n", len(at), rate)
	fmt.Printf("plan rows=%d seconds=%.1f rss_mb=%.0f send_rate=%.1f limit=%g ratio=%.3f\n",
		plan.Rows, planSecs, rssMB, rate, limit, rate/limit)
	return nil
}

func write(path string, o synth.Options) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := synth.Write(f, o); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
