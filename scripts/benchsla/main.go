// Command benchsla writes a synthetic attempt log and times `richiamo sla`
// over it; its last line is
//
//	sla attempts=… seconds=…
//
// Run it through scripts/bench-sla.sh (make bench-sla).
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/richiamo/richiamo/internal/sla"
)

func main() {
	bin := flag.String("bin", "bin/richiamo", "richiamo binary")
	n := flag.Int("attempts", 1_000_000, "attempts in the log")
	flag.Parse()
	if err := run(*bin, *n); err != nil {
		fmt.Fprintln(os.Stderr, "benchsla:", err)
		os.Exit(1)
	}
}

func run(bin string, n int) error {
	dir, err := os.MkdirTemp("", "richiamo-benchsla-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "attempts.csv")
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	rome, _ := time.LoadLocation("Europe/Rome")
	start := time.Date(2026, 11, 2, 8, 0, 0, 0, rome)
	rng := rand.New(rand.NewPCG(1, 2))
	outcomes := []string{"busy", "no_answer", "unavailable"}
	var as []sla.Attempt
	written, seq, contact := 0, 0, 0
	campaigns := []string{"recall-rm-asl1", "recall-tc-ao", "recall-eco-asl2", "pulitura-irccs", "survey"}
	header := true
	for written < n {
		contact++
		seq++
		camp := campaigns[contact%len(campaigns)]
		loaded := start.Add(time.Duration(contact/5/100) * 40 * time.Minute)
		tries := 1 + rng.IntN(4)
		t := loaded.Add(time.Duration(rng.IntN(120)) * time.Minute)
		for k := 1; k <= tries && written < n; k++ {
			last := k == tries
			a := sla.Attempt{Campaign: camp, Contact: fmt.Sprintf("c%07d", contact), Seq: contact/len(campaigns) + 1,
				LoadedAt: loaded, Attempt: k, StartedAt: t, EndedAt: t.Add(time.Duration(20+rng.IntN(120)) * time.Second),
				Outcome: outcomes[rng.IntN(len(outcomes))]}
			if last && rng.IntN(10) < 9 {
				a.Final, a.Positive, a.Outcome = true, rng.IntN(10) < 8, "confirmed"
			}
			as = append(as, a)
			written++
			t = t.Add(time.Duration(15+rng.IntN(180)) * time.Minute)
		}
		if len(as) >= 10000 || written >= n {
			var buf bytes.Buffer
			if err := sla.WriteAttempts(&buf, as); err != nil {
				return err
			}
			b := buf.Bytes()
			if !header {
				b = b[bytes.IndexByte(b, '\n')+1:]
			}
			header = false
			if _, err := w.Write(b); err != nil {
				return err
			}
			as = as[:0]
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "computing the service levels of %d attempts…\n", n)
	t0 := time.Now()
	cmd := exec.Command(bin, "sla", "--attempts", path, "--from", "2026-11-01", "--to", "2026-11-30", "--json")
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = nil, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%v\n%s", err, stderr.String())
	}
	fmt.Printf("sla attempts=%d seconds=%.1f\n", n, time.Since(t0).Seconds())
	return nil
}
