// Command benchremind measures the reminder job on this machine, next to
// the bulk tools of each database on the same rows, and prints a growth
// table and, as its last line:
//
//	plan rows=… seconds=… rss_mb=… send_rate=… limit=… ratio=… import_s=… sqlite3_s=… import_ratio=… pg_import_s=… copy_s=… pg_ratio=… console_worst_ms=… webhook_worst_ms=… sqlite3_indexed_s=… indexed_ratio=… copy_indexed_s=… pg_indexed_ratio=… reimport_s=… pg_reimport_s=… alone_import_s=… alone_ratio=… alone_indexed_ratio=… scheduled_import_s=… scheduled_ratio=… scheduled_indexed_ratio=… scheduled_console_worst_ms=… scheduled_webhook_worst_ms=… serve_rss_mb=…
//
// The plan figures time `richiamo remind --dry-run` of a generated
// million-row extract on an embedded SQLite store (wall time and peak RSS of
// that process). import_s times the same command without --dry-run: the
// plan stored, nothing sent, because the clock is pinned (RICHIAMO_NOW) at
// 03:00 of the day before the appointments, outside the sending hours.
// sqlite3_s times the sqlite3 shell's .import of the same rows into a table
// of the extract's columns, in one transaction; import_ratio is import_s
// over it. pg_import_s and copy_s are the same on PostgreSQL (the store at
// RICHIAMO_TEST_POSTGRES_DSN, which scripts/with-postgres.sh provides, and
// psql's \copy); without a DSN they are left out. The bulk tools get the
// rows with the extract's number of fields (COPY stops at any other) and
// check nothing else, where the import validates, deduplicates, groups and
// renders every row.
//
// sqlite3_indexed_s and copy_indexed_s time the same tools importing the
// extract's distinct bookings into a table keyed and indexed as the store's
// bookings table (without its messages and reminders): what the indexes
// the console, the recall and the offers read cost the database itself.
// indexed_ratio and pg_indexed_ratio are the imports over them.
//
// While the SQLite import runs, `richiamo serve` on the same store is
// asked for the console's overview and sent a signed patient's reply (a
// write) every -probe-every, one of each at a time: console_worst_ms and
// webhook_worst_ms are their slowest answers during the import, and the
// answers that were not 2xx or 3xx are reported. reimport_s and
// pg_reimport_s time a second import of the same extract (nothing
// changed). alone_import_s is the first SQLite import again, into a new
// store with no serve beside it, and alone_ratio and alone_indexed_ratio
// are it over sqlite3_s and sqlite3_indexed_s: a webhook's write makes
// SQLite drop the import's page cache at its next transaction, so the
// probed import_s is the slower of the two.
//
// scheduled_import_s is the same first import as serve runs it at night,
// into a new store: the extract dropped into serve's inbox and picked up
// by its schedule, the console and the webhooks probed meanwhile (their
// slowest answers in scheduled_console_worst_ms and
// scheduled_webhook_worst_ms). It is the time from the import's start to
// its end as the store records them; the webhooks' writes go through the
// import's own connection there, and do not empty its page cache.
// serve_rss_mb is that serve's peak RSS.
//
// The growth table has the plan and the import, time and peak RSS, at
// each -growth size. The send figures run `richiamo remind` on a generated
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
	"slices"
	"strconv"
	"strings"
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
		bin     = flag.String("bin", "bin/richiamo", "richiamo binary")
		rows    = flag.Int("rows", 1_000_000, "rows of the extract planned, imported and compared with the bulk tools")
		growth  = flag.String("growth", "100000,1000000,4000000", "extract sizes of the growth table, comma-separated (\"\": -rows only)")
		sends   = flag.Int("send", 20_000, "messages of the sending run")
		limit   = flag.Float64("limit", 500, "sms.rate_per_second of the sending run")
		work    = flag.String("dir", "", "working directory (default: a temporary one, removed)")
		sqlite3 = flag.String("sqlite3", "sqlite3", "the sqlite3 shell")
		psql    = flag.String("psql", "psql", "PostgreSQL's psql")
		pgDSN   = flag.String("postgres", os.Getenv("RICHIAMO_TEST_POSTGRES_DSN"), "PostgreSQL DSN of the PostgreSQL import (\"\": left out)")
		every   = flag.Duration("probe-every", 200*time.Millisecond, "pause between two requests of each probe during the import")
	)
	flag.Parse()
	sizes, err := parseSizes(*growth, *rows)
	if err == nil {
		b := &bencher{bin: *bin, rows: *rows, sizes: sizes, sends: *sends, limit: *limit, dir: *work,
			sqlite3: *sqlite3, psql: *psql, pgDSN: *pgDSN, every: *every}
		err = b.run()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchremind:", err)
		os.Exit(1)
	}
}

func parseSizes(list string, rows int) ([]int, error) {
	sizes := []int{rows}
	for f := range strings.SplitSeq(list, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(strings.ReplaceAll(f, "_", ""))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("-growth: %q is not a number of rows", f)
		}
		sizes = append(sizes, n)
	}
	slices.Sort(sizes)
	return slices.Compact(sizes), nil
}

type bencher struct {
	bin           string
	rows          int
	sizes         []int
	sends         int
	limit         float64
	dir           string
	sqlite3, psql string
	pgDSN         string
	every         time.Duration
	env           []string
	day           time.Time
	fake          *twiliotest.Server
}

// measured is one run of richiamo: wall time, peak RSS, its JSON report.
type measured struct {
	secs, rssMB float64
	rep         struct {
		Rows, Messages int
		Updated        int `json:"updated_messages"`
		Sent           *struct{ Sent int64 }
	}
}

// growthRow is one line of the growth table.
type growthRow struct {
	rows         int
	plan, stored measured
}

func (b *bencher) run() error {
	var err error
	if b.bin, err = filepath.Abs(b.bin); err != nil {
		return err
	}
	if b.sqlite3, err = exec.LookPath(b.sqlite3); err != nil {
		return fmt.Errorf("%w (apt-get install sqlite3)", err)
	}
	if b.pgDSN != "" {
		if b.psql, err = exec.LookPath(b.psql); err != nil {
			return err
		}
	}
	if b.dir == "" {
		if b.dir, err = os.MkdirTemp("", "richiamo-bench-"); err != nil {
			return err
		}
		defer os.RemoveAll(b.dir)
	}
	// A fixed day: the figures must not depend on the day they are taken.
	// At 03:00 of the day before, the reminders are planned and none is
	// due (the sending hours start at 09:00): a real import sends nothing.
	b.day = time.Date(2027, 3, 10, 0, 0, 0, 0, cup.Rome)
	now := b.day.Add(-21 * time.Hour)
	b.env = append(os.Environ(), "RICHIAMO_NOW="+now.Format(time.RFC3339), "RICHIAMO_TWILIO_AUTH_TOKEN="+token)
	b.fake = twiliotest.NewServer(twiliotest.Options{AccountSID: account, AuthToken: token})
	defer b.fake.Close()

	var (
		table           []growthRow
		ref             growthRow
		sqlite3D, copyD time.Duration
		sqlite3I, copyI time.Duration
		pgImport        measured
		again, pgAgain  measured
		alone           measured
		sched           scheduled
		worst           *probes
	)
	for _, n := range b.sizes {
		g, err := b.growth(n, n == b.rows)
		if err != nil {
			return err
		}
		table = append(table, g.growthRow)
		if n == b.rows {
			ref, worst, sqlite3D, copyD, pgImport = g.growthRow, g.probes, g.sqlite3, g.copy, g.pg
			sqlite3I, copyI = g.sqlite3Idx, g.copyIdx
			again, pgAgain, alone, sched = g.again, g.pgAgain, g.alone, g.sched
		}
	}
	rate, err := b.send()
	if err != nil {
		return err
	}

	fmt.Println("machine:", machine())
	fmt.Println("growth (plan: dry run; import: stored, nothing sent; SQLite)")
	fmt.Printf("%10s %8s %12s %10s %14s\n", "rows", "plan_s", "plan_rss_mb", "import_s", "import_rss_mb")
	for _, g := range table {
		fmt.Printf("%10d %8.1f %12.0f %10.1f %14.0f\n", g.rows, g.plan.secs, g.plan.rssMB, g.stored.secs, g.stored.rssMB)
	}
	line := fmt.Sprintf("plan rows=%d seconds=%.1f rss_mb=%.0f send_rate=%.1f limit=%g ratio=%.3f import_s=%.1f sqlite3_s=%.1f import_ratio=%.1f",
		ref.plan.rep.Rows, ref.plan.secs, ref.plan.rssMB, rate, b.limit, rate/b.limit,
		ref.stored.secs, sqlite3D.Seconds(), ref.stored.secs/sqlite3D.Seconds())
	if b.pgDSN != "" {
		line += fmt.Sprintf(" pg_import_s=%.1f copy_s=%.1f pg_ratio=%.1f", pgImport.secs, copyD.Seconds(), pgImport.secs/copyD.Seconds())
	}
	line += fmt.Sprintf(" console_worst_ms=%d webhook_worst_ms=%d", worst.console.Milliseconds(), worst.webhook.Milliseconds())
	line += fmt.Sprintf(" sqlite3_indexed_s=%.1f indexed_ratio=%.1f", sqlite3I.Seconds(), ref.stored.secs/sqlite3I.Seconds())
	if b.pgDSN != "" {
		line += fmt.Sprintf(" copy_indexed_s=%.1f pg_indexed_ratio=%.1f", copyI.Seconds(), pgImport.secs/copyI.Seconds())
	}
	line += fmt.Sprintf(" reimport_s=%.1f", again.secs)
	if b.pgDSN != "" {
		line += fmt.Sprintf(" pg_reimport_s=%.1f", pgAgain.secs)
	}
	line += fmt.Sprintf(" alone_import_s=%.1f alone_ratio=%.1f alone_indexed_ratio=%.1f", alone.secs, alone.secs/sqlite3D.Seconds(), alone.secs/sqlite3I.Seconds())
	line += fmt.Sprintf(" scheduled_import_s=%.1f scheduled_ratio=%.1f scheduled_indexed_ratio=%.1f scheduled_console_worst_ms=%d scheduled_webhook_worst_ms=%d serve_rss_mb=%.0f",
		sched.secs, sched.secs/sqlite3D.Seconds(), sched.secs/sqlite3I.Seconds(), sched.probes.console.Milliseconds(), sched.probes.webhook.Milliseconds(), sched.rssMB)
	fmt.Println(line)
	return nil
}

// sizeRun is what was measured at one size.
type sizeRun struct {
	growthRow
	probes        *probes
	sqlite3, copy time.Duration
	// the same bulk tools into a table indexed as the store's bookings
	sqlite3Idx, copyIdx time.Duration
	pg                  measured
	// the same extract imported again: the next day's run when nothing
	// changed at the CUP
	again, pgAgain measured
	// the first import again, into a new store nobody else uses
	alone measured
	// and again, by serve's schedule, probed
	sched scheduled
}

// reimport imports csvPath a second time into the store of cfg, which
// must plan nothing new.
func (b *bencher) reimport(dir, cfg, csvPath, store string) (measured, error) {
	fmt.Fprintf(os.Stderr, "importing the same rows again into %s (nothing changed)…\n", store)
	m, err := b.remind(dir, cfg, csvPath, false)
	if err != nil {
		return m, err
	}
	if m.rep.Messages != 0 || m.rep.Updated != 0 {
		return m, fmt.Errorf("importing the same extract again planned %d messages and updated %d", m.rep.Messages, m.rep.Updated)
	}
	fmt.Fprintf(os.Stderr, "  %.1f s, peak RSS %.0f MB\n", m.secs, m.rssMB)
	return m, nil
}

// growth plans and imports an extract of n rows; with compare, it also
// probes serve during the import, and has the bulk tools import the same
// rows.
func (b *bencher) growth(n int, compare bool) (sizeRun, error) {
	r := sizeRun{growthRow: growthRow{rows: n}}
	csvPath := filepath.Join(b.dir, fmt.Sprintf("extract-%d.csv", n))
	fmt.Fprintf(os.Stderr, "generating a %d-row extract…\n", n)
	if err := write(csvPath, synth.Options{Rows: n, Seed: 1, Day: b.day, Days: 1, BadRate: 0.02, DupRate: 0.01, MultiRate: 0.03}); err != nil {
		return r, err
	}
	defer os.Remove(csvPath)
	sub := filepath.Join(b.dir, strconv.Itoa(n))
	if err := os.MkdirAll(sub, 0o755); err != nil {
		return r, err
	}
	defer os.RemoveAll(sub)

	cfg, err := b.config(sub, "plan", "store:\n  sqlite: plan.db\n", "")
	if err != nil {
		return r, err
	}
	fmt.Fprintf(os.Stderr, "planning %d rows (dry run)…\n", n)
	if r.plan, err = b.remind(sub, cfg, csvPath, true); err != nil {
		return r, err
	}
	fmt.Fprintf(os.Stderr, "  %d rows, %d messages planned in %.1f s, peak RSS %.0f MB\n", r.plan.rep.Rows, r.plan.rep.Messages, r.plan.secs, r.plan.rssMB)

	web := ""
	var base string
	if compare {
		addr, err := freeAddr()
		if err != nil {
			return r, err
		}
		base = "http://" + addr
		// serve wants an inbox: an empty one, so that it imports nothing itself.
		if err := os.MkdirAll(filepath.Join(sub, "inbox"), 0o755); err != nil {
			return r, err
		}
		web = fmt.Sprintf("web:\n  listen: %s\n  public_url: %s\nextract:\n  inbox: inbox/*.csv\n", addr, base)
	}
	if cfg, err = b.config(sub, "import", "store:\n  sqlite: import.db\n", web); err != nil {
		return r, err
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var srv *server
	wait := func() {}
	if compare {
		if srv, err = startServe(b.bin, sub, cfg, b.env, base); err != nil {
			return r, err
		}
		defer srv.stop()
		r.probes, wait = srv.probe(ctx, b.every)
	}
	fmt.Fprintf(os.Stderr, "importing %d rows (stored, nothing sent)%s…\n", n, map[bool]string{true: ", the console and the webhooks probed meanwhile"}[compare])
	r.stored, err = b.remind(sub, cfg, csvPath, false)
	stop()
	wait()
	if err != nil {
		return r, err
	}
	fmt.Fprintf(os.Stderr, "  %d messages stored in %.1f s, peak RSS %.0f MB\n", r.stored.rep.Messages, r.stored.secs, r.stored.rssMB)
	if r.stored.rep.Sent != nil && r.stored.rep.Sent.Sent > 0 {
		return r, fmt.Errorf("the import sent %d messages: the pinned clock should have kept them for the sending hours", r.stored.rep.Sent.Sent)
	}
	if !compare {
		return r, nil
	}
	p := r.probes
	fmt.Fprintf(os.Stderr, "  during the import: console %d requests, worst %d ms, %d failed; webhook %d requests, worst %d ms, %d failed\n",
		p.consoleN, p.console.Milliseconds(), p.consoleBad, p.webhookN, p.webhook.Milliseconds(), p.webhookBad)
	srv.stop()
	if r.again, err = b.reimport(sub, cfg, csvPath, "SQLite"); err != nil {
		return r, err
	}
	// The same first import with nobody else using the store: another
	// connection's write makes SQLite drop the import's page cache at its
	// next transaction, so the probes' webhooks cost the import more than
	// their own work.
	if cfg, err = b.config(sub, "alone", "store:\n  sqlite: alone.db\n", ""); err != nil {
		return r, err
	}
	fmt.Fprintf(os.Stderr, "importing %d rows again into a new SQLite store, with nobody else using it…\n", n)
	if r.alone, err = b.remind(sub, cfg, csvPath, false); err != nil {
		return r, err
	}
	fmt.Fprintf(os.Stderr, "  %d messages stored in %.1f s, peak RSS %.0f MB\n", r.alone.rep.Messages, r.alone.secs, r.alone.rssMB)
	if r.sched, err = b.scheduledImport(sub, csvPath, n); err != nil {
		return r, err
	}

	shaped := filepath.Join(b.dir, "same-shape.csv")
	unique := filepath.Join(b.dir, "same-shape-unique.csv")
	kept, dropped, distinct, err := sameShape(csvPath, shaped, unique)
	if err != nil {
		return r, err
	}
	defer os.Remove(shaped)
	defer os.Remove(unique)
	fmt.Fprintf(os.Stderr, "sqlite3 .import of the %d rows with %d fields (%d others left out)…\n", kept, len(extractColumns()), dropped)
	if r.sqlite3, err = sqlite3Import(b.sqlite3, b.dir, shaped, false); err != nil {
		return r, err
	}
	fmt.Fprintf(os.Stderr, "  %.1f s\n", r.sqlite3.Seconds())
	fmt.Fprintf(os.Stderr, "sqlite3 .import of the %d distinct bookings into a table keyed and indexed as the store's bookings…\n", distinct)
	if r.sqlite3Idx, err = sqlite3Import(b.sqlite3, b.dir, unique, true); err != nil {
		return r, err
	}
	fmt.Fprintf(os.Stderr, "  %.1f s\n", r.sqlite3Idx.Seconds())
	if b.pgDSN == "" {
		fmt.Fprintln(os.Stderr, "no PostgreSQL DSN (-postgres or RICHIAMO_TEST_POSTGRES_DSN): PostgreSQL left out")
		return r, nil
	}
	storeDSN, drop, err := pgSchema(b.psql, b.pgDSN, "richiamo_bench_store")
	if err != nil {
		return r, err
	}
	defer drop()
	if cfg, err = b.config(sub, "pg", "store:\n  postgres: "+storeDSN+"\n", ""); err != nil {
		return r, err
	}
	fmt.Fprintf(os.Stderr, "importing %d rows into PostgreSQL…\n", n)
	if r.pg, err = b.remind(sub, cfg, csvPath, false); err != nil {
		return r, err
	}
	fmt.Fprintf(os.Stderr, "  %d messages stored in %.1f s, peak RSS %.0f MB\n", r.pg.rep.Messages, r.pg.secs, r.pg.rssMB)
	if r.pgAgain, err = b.reimport(sub, cfg, csvPath, "PostgreSQL"); err != nil {
		return r, err
	}
	fmt.Fprintf(os.Stderr, "psql \\copy of the same %d rows…\n", kept)
	if r.copy, err = pgCopy(b.psql, b.pgDSN, shaped, false); err != nil {
		return r, err
	}
	fmt.Fprintf(os.Stderr, "  %.1f s\n", r.copy.Seconds())
	fmt.Fprintf(os.Stderr, "psql \\copy of the %d distinct bookings into a table keyed and indexed as the store's bookings…\n", distinct)
	if r.copyIdx, err = pgCopy(b.psql, b.pgDSN, unique, true); err != nil {
		return r, err
	}
	fmt.Fprintf(os.Stderr, "  %.1f s\n", r.copyIdx.Seconds())
	return r, nil
}

// config writes name.yaml in dir: store, the provider's imitation (a real
// run refuses to start without a gateway), and extra.
func (b *bencher) config(dir, name, storeKey, extra string) (string, error) {
	cfg := storeKey + fmt.Sprintf(`sms:
  twilio:
    account_sid: %s
    messaging_service_sid: MG0123456789abcdef0123456789abcdef
    base_url: %s
log:
  level: error
`, account, b.fake.URL()) + extra
	p := filepath.Join(dir, name+".yaml")
	return p, os.WriteFile(p, []byte(cfg), 0o644)
}

// remind runs `richiamo remind` on csvPath for the benchmark's day.
func (b *bencher) remind(dir, cfg, csvPath string, dry bool) (measured, error) {
	args := []string{"remind", "--config", cfg, "--extract", csvPath, "--for-date", b.day.Format("2006-01-02"), "--json"}
	if dry {
		args = append(args, "--dry-run")
	}
	cmd := exec.Command(b.bin, args...)
	cmd.Dir, cmd.Env = dir, b.env
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	start := time.Now()
	err := cmd.Run()
	m := measured{secs: time.Since(start).Seconds()}
	if err != nil {
		return m, fmt.Errorf("remind %s: %v\n%s", strings.Join(args[1:], " "), err, stderr.String())
	}
	m.rssMB = float64(cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss) / 1024
	if err := json.Unmarshal(out.Bytes(), &m.rep); err != nil {
		return m, fmt.Errorf("remind output: %w", err)
	}
	return m, nil
}

// send runs the sending figures: clean bookings, one per patient, through
// the real client, on the wall clock.
func (b *bencher) send() (float64, error) {
	day := time.Now().In(cup.Rome).AddDate(0, 0, 2)
	day = time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, cup.Rome)
	if day.Weekday() == time.Sunday {
		day = day.AddDate(0, 0, 1)
	}
	forDate := day.Format("2006-01-02")
	dir := b.dir
	small := filepath.Join(dir, "send.csv")
	if err := write(small, synth.Options{Rows: b.sends, Seed: 2, Day: day, Days: 1}); err != nil {
		return 0, err
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
`, b.limit, account, fake.URL())
	if err := os.WriteFile(filepath.Join(dir, "send.yaml"), []byte(cfg), 0o644); err != nil {
		return 0, err
	}
	// Send at any hour: the benchmark must not depend on when it runs.
	camp := "name: bench\nschedule: \"0 10 * * *\"\nsend_hours: {from: \"00:00\", to: \"24:00\"}\nmin_notice: 1m\n" +
		"template: \"CUP: le ricordiamo l'appuntamento di {{(index .Appuntamenti 0).Quando}}, prenotazione {{(index .Appuntamenti 0).Codice}}.\"\n"
	if err := os.MkdirAll(filepath.Join(dir, "campaigns"), 0o755); err != nil {
		return 0, err
	}
	if err := os.WriteFile(filepath.Join(dir, "campaigns", "reminder.yaml"), []byte(camp), 0o644); err != nil {
		return 0, err
	}
	fmt.Fprintf(os.Stderr, "sending a %d-booking extract at a limit of %g/s…\n", b.sends, b.limit)
	cmd := exec.Command(b.bin, "remind", "--config", filepath.Join(dir, "send.yaml"), "--extract", small, "--for-date", forDate, "--json")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "RICHIAMO_TWILIO_AUTH_TOKEN="+token)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("send run: %v\n%s", err, stderr.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = fake.WaitAccepted(ctx, 1)
	at := fake.AcceptedTimes()
	if len(at) < 2 {
		return 0, fmt.Errorf("the provider accepted %d messages", len(at))
	}
	rate := float64(len(at)-1) / at[len(at)-1].Sub(at[0]).Seconds()
	fmt.Fprintf(os.Stderr, "  the provider accepted %d messages at %.1f/s\n", len(at), rate)
	return rate, nil
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
