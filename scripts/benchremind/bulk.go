package main

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/richiamo/richiamo/internal/cup/synth"
)

// extractColumns are the extract's columns, in order: the bulk tools'
// table has these and nothing else, all text.
func extractColumns() []string { return strings.Split(synth.Header, ";") }

// sameShape writes to dst the rows of src (the extract, header included)
// that have as many fields as the header: COPY stops at the first row
// with too few or too many, and the bulk tools validate nothing else. It
// returns the data rows kept and dropped.
func sameShape(src, dst string) (kept, dropped int, err error) {
	in, err := os.Open(src)
	if err != nil {
		return 0, 0, err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return 0, 0, err
	}
	r := csv.NewReader(bufio.NewReaderSize(in, 1<<20))
	r.Comma, r.LazyQuotes, r.FieldsPerRecord, r.ReuseRecord = ';', true, -1, true
	bw := bufio.NewWriterSize(out, 1<<20)
	w := csv.NewWriter(bw)
	w.Comma = ';'
	n := len(extractColumns())
	for first := true; ; first = false {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil || len(rec) != n {
			if !first {
				dropped++
			}
			continue
		}
		if err := w.Write(rec); err != nil {
			out.Close()
			return 0, 0, err
		}
		if !first {
			kept++
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		out.Close()
		return 0, 0, err
	}
	if err := bw.Flush(); err != nil {
		out.Close()
		return 0, 0, err
	}
	return kept, dropped, out.Close()
}

func createTable(name string) string {
	cols := extractColumns()
	for i, c := range cols {
		cols[i] = c + " TEXT"
	}
	return "CREATE TABLE " + name + " (" + strings.Join(cols, ", ") + ");"
}

// sqlite3Import times the sqlite3 shell importing csvPath (header first)
// into a table of the extract's columns in a new database, in one
// transaction. The table is created before the clock starts.
func sqlite3Import(bin, dir, csvPath string) (time.Duration, error) {
	db := filepath.Join(dir, "sqlite3-import.db")
	_ = os.Remove(db)
	defer os.Remove(db)
	if out, err := exec.Command(bin, db, "PRAGMA journal_mode=WAL;", createTable("extract")).CombinedOutput(); err != nil {
		return 0, fmt.Errorf("sqlite3: %v: %s", err, out)
	}
	script := "BEGIN;\n.mode csv\n.separator ;\n.import --skip 1 " + csvPath + " extract\nCOMMIT;\n"
	cmd := exec.Command(bin, "-bail", db)
	cmd.Stdin = strings.NewReader(script)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	d := time.Since(start)
	if err != nil {
		return d, fmt.Errorf("sqlite3 .import: %v: %s", err, out)
	}
	return d, nil
}

// pgCopy times psql's \copy of csvPath into a fresh table of the
// extract's columns in the database at dsn, in one transaction.
func pgCopy(bin, dsn, csvPath string) (time.Duration, error) {
	setup := "DROP TABLE IF EXISTS bench_extract; " + createTable("bench_extract")
	if out, err := exec.Command(bin, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", dsn, "-c", setup).CombinedOutput(); err != nil {
		return 0, fmt.Errorf("psql: %v: %s", err, out)
	}
	script := "BEGIN;\n\\copy bench_extract FROM '" + csvPath + "' WITH (FORMAT csv, DELIMITER ';', HEADER true)\nCOMMIT;\n"
	cmd := exec.Command(bin, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", dsn)
	cmd.Stdin = strings.NewReader(script)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	d := time.Since(start)
	if err != nil {
		return d, fmt.Errorf("psql \\copy: %v: %s", err, out)
	}
	_ = exec.Command(bin, "-X", "-q", "-d", dsn, "-c", "DROP TABLE bench_extract").Run()
	return d, nil
}

// machine names the CPU and the cores the figures were taken on.
func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for l := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("%s, %d cores", model, runtime.NumCPU())
}
