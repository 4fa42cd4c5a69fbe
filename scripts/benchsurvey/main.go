// Command benchsurvey measures the survey's sampling on this machine and
// prints, as its last line:
//
//	survey calls=… seconds=… rss_mb=… sampled=…
//
// It writes a year of the CUP's inbound call log (750,000 calls over the
// working days, one file a day, in the default layout, with withheld
// numbers, abandoned, short and repeat calls) and times `richiamo survey
// sample --json` over all of it: wall time and peak RSS of that process.
//
// Run it through scripts/bench-survey.sh (make bench-survey).
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

func main() {
	var (
		bin   = flag.String("bin", "bin/richiamo", "richiamo binary")
		calls = flag.Int("calls", 750_000, "calls in the year's log")
		work  = flag.String("dir", "", "working directory (default: a temporary one, removed)")
	)
	flag.Parse()
	if err := run(*bin, *calls, *work); err != nil {
		fmt.Fprintln(os.Stderr, "benchsurvey:", err)
		os.Exit(1)
	}
}

func run(bin string, calls int, dir string) error {
	bin, err := filepath.Abs(bin)
	if err != nil {
		return err
	}
	if dir == "" {
		if dir, err = os.MkdirTemp("", "richiamo-bench-survey-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	fmt.Fprintf(os.Stderr, "writing a year's call log of %d calls\n", calls)
	if err := writeYear(dir, calls); err != nil {
		return err
	}
	cmd := exec.Command(bin, "survey", "sample", "--calls", filepath.Join(dir, "chiamate-*.csv"), "--json")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "RICHIAMO_SURVEY_SEED=seme-del-banco-di-prova")
	cmd.Stderr = os.Stderr
	out, err := os.Create(filepath.Join(dir, "sample.json"))
	if err != nil {
		return err
	}
	defer out.Close()
	cmd.Stdout = out
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("survey sample: %w", err)
	}
	secs := time.Since(start).Seconds()
	rssMB := float64(cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss) / 1024
	if _, err := out.Seek(0, 0); err != nil {
		return err
	}
	var res struct {
		Calls int `json:"calls"`
		Days  []struct {
			Sampled []json.RawMessage `json:"sampled"`
		} `json:"days"`
	}
	if err := json.NewDecoder(out).Decode(&res); err != nil {
		return fmt.Errorf("reading the sample: %w", err)
	}
	sampled := 0
	for _, d := range res.Days {
		sampled += len(d.Sampled)
	}
	if res.Calls != calls {
		return fmt.Errorf("the command read %d calls of %d", res.Calls, calls)
	}
	fmt.Printf("survey calls=%d seconds=%.1f rss_mb=%.0f sampled=%d\n", res.Calls, secs, rssMB, sampled)
	return nil
}

// writeYear spreads calls over the working days of 2026 (Monday to
// Saturday, Saturdays at half), one file a day.
func writeYear(dir string, calls int) error {
	rome, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		return err
	}
	var days []time.Time
	for d := time.Date(2026, 1, 1, 0, 0, 0, 0, rome); d.Year() == 2026; d = d.AddDate(0, 0, 1) {
		if d.Weekday() != time.Sunday {
			days = append(days, d)
		}
	}
	rng := rand.New(rand.NewPCG(2026, 14))
	per := calls / len(days)
	id := 0
	for i, d := range days {
		n := per
		if i == len(days)-1 {
			n = calls - per*(len(days)-1)
		}
		if err := writeDay(filepath.Join(dir, "chiamate-"+d.Format("2006-01-02")+".csv"), d, n, &id, rng); err != nil {
			return err
		}
	}
	return nil
}

func writeDay(path string, day time.Time, n int, id *int, rng *rand.Rand) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, "id_chiamata;chiamante;inizio;risposta;fine;operatore;coda;esito")
	const layout = "02/01/2006 15:04:05"
	open := day.Add(8 * time.Hour)
	span := 12 * time.Hour
	if day.Weekday() == time.Saturday {
		span = 6 * time.Hour
	}
	for range n {
		*id++
		start := open.Add(time.Duration(rng.Int64N(int64(span))))
		caller := fmt.Sprintf("33%08d", 1_000_000+rng.IntN(400_000)) // repeat callers, across the year too
		switch r := rng.IntN(100); {
		case r < 4:
			caller = "anonymous"
		case r < 5:
			caller = ""
		}
		wait := time.Duration(10+rng.IntN(120)) * time.Second
		talk := time.Duration(rng.IntN(400)) * time.Second
		answer, op, outcome := start.Add(wait), fmt.Sprintf("%03d", 1+rng.IntN(45)), "evasa"
		end := answer.Add(talk)
		ans := answer.Format(layout)
		if rng.IntN(100) < 12 {
			ans, op, outcome, end = "", "", "abbandonata", answer
		}
		fmt.Fprintf(w, "C%08d;%s;%s;%s;%s;%s;prenotazioni;%s\n", *id, caller, start.Format(layout), ans, end.Format(layout), op, outcome)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
