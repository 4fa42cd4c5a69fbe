package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/richiamo/richiamo/campaigns"
)

// scheduled is what serve's own run of the first import measured: the
// time the store gives the import (from its imports table), serve's peak
// RSS over the whole run, and the probes' answers meanwhile.
type scheduled struct {
	measured
	probes *probes
}

// scheduledImport is the first import as it runs at night: the extract
// dropped into serve's inbox, serve's schedule picking it up, the console
// and the webhooks probed meanwhile. The webhooks' writes then go through
// the import's own connection: they do not empty its page cache, as the
// writes of a serve beside a `richiamo remind` do.
func (b *bencher) scheduledImport(sub, csvPath string, n int) (scheduled, error) {
	var r scheduled
	dir := filepath.Join(sub, "scheduled")
	inbox := filepath.Join(dir, "inbox")
	if err := os.MkdirAll(inbox, 0o755); err != nil {
		return r, err
	}
	// The shipped campaign, fired every two seconds: the import starts
	// as soon as the extract is in the inbox. A run fired while the last
	// is going is skipped.
	const daily = `schedule: "0 10 * * *"`
	if !strings.Contains(string(campaigns.Reminder), daily) {
		return r, errors.New("the shipped campaign's schedule is not " + daily)
	}
	camp := strings.Replace(string(campaigns.Reminder), daily, `schedule: "@every 2s"`, 1)
	if err := os.WriteFile(filepath.Join(dir, "reminder.yaml"), []byte(camp), 0o644); err != nil {
		return r, err
	}
	addr, err := freeAddr()
	if err != nil {
		return r, err
	}
	base := "http://" + addr
	web := fmt.Sprintf("web:\n  listen: %s\n  public_url: %s\nextract:\n  inbox: inbox/*.csv\n  done: done\ncampaigns:\n  reminder: reminder.yaml\n", addr, base)
	cfg, err := b.config(dir, "scheduled", "store:\n  sqlite: scheduled.db\n", web)
	if err != nil {
		return r, err
	}
	srv, err := startServe(b.bin, dir, cfg, b.env, base)
	if err != nil {
		return r, err
	}
	defer srv.stop()
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	p, wait := srv.probe(ctx, b.every)
	fmt.Fprintf(os.Stderr, "importing %d rows into a new SQLite store by serve's schedule, the console and the webhooks probed meanwhile…\n", n)
	dropped := filepath.Join(inbox, "estratto.csv")
	if err := os.Link(csvPath, dropped); err != nil {
		return r, err
	}
	// A failed run leaves the extract in the inbox, and the next one
	// tries again: the deadline stops that.
	deadline := time.After(time.Hour)
	for {
		if _, err := os.Stat(dropped); errors.Is(err, os.ErrNotExist) {
			break // moved aside: the run is over
		}
		select {
		case <-srv.exited:
			return r, fmt.Errorf("serve stopped during the import:\n%s", srv.stderr.String())
		case <-deadline:
			srv.stop()
			return r, fmt.Errorf("serve's schedule had not imported the extract after an hour:\n%s", srv.stderr.String())
		case <-time.After(250 * time.Millisecond):
		}
	}
	stop()
	wait()
	r.probes = p
	db := filepath.Join(dir, "scheduled.db")
	out, err := exec.Command(b.sqlite3, "-readonly", db,
		"SELECT finished_at - started_at, rows_read FROM imports WHERE finished_at IS NOT NULL ORDER BY id DESC LIMIT 1;"+
			"SELECT COUNT(*) FROM messages;"+
			"SELECT COUNT(*) FROM messages WHERE status <> 'planned';").CombinedOutput()
	if err != nil {
		return r, fmt.Errorf("reading serve's import back: %v: %s", err, out)
	}
	lines := strings.Fields(strings.ReplaceAll(strings.TrimSpace(string(out)), "|", " "))
	if len(lines) != 4 {
		srv.stop()
		return r, fmt.Errorf("serve's import left no finished import (%q):\n%s", out, srv.stderr.String())
	}
	var v [4]int64
	for i, s := range lines {
		if v[i], err = strconv.ParseInt(s, 10, 64); err != nil {
			return r, fmt.Errorf("reading serve's import back: %q", out)
		}
	}
	if v[1] != int64(n) {
		return r, fmt.Errorf("serve's import read %d rows, want %d", v[1], n)
	}
	if v[3] != 0 {
		return r, fmt.Errorf("serve sent or withdrew %d messages: the pinned clock should have kept them planned", v[3])
	}
	r.secs = float64(v[0]) / 1000
	r.rep.Messages = int(v[2])
	srv.stop()
	r.rssMB = float64(srv.cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss) / 1024
	fmt.Fprintf(os.Stderr, "  %d messages stored in %.1f s, serve's peak RSS %.0f MB\n", r.rep.Messages, r.secs, r.rssMB)
	fmt.Fprintf(os.Stderr, "  during the import: console %d requests, worst %d ms, %d failed; webhook %d requests, worst %d ms, %d failed\n",
		p.consoleN, p.console.Milliseconds(), p.consoleBad, p.webhookN, p.webhook.Milliseconds(), p.webhookBad)
	return r, nil
}
