package main

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/url"
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
// with too few or too many, and the bulk tools validate nothing else. To
// unique it writes the same rows less those repeating an earlier row's
// (nodo, codice_prenotazione) or lacking either, for the tables keyed as
// the store's bookings are. It returns the data rows kept and dropped, and how many
// of the kept are in unique.
func sameShape(src, dst, unique string) (kept, dropped, distinct int, err error) {
	in, err := os.Open(src)
	if err != nil {
		return 0, 0, 0, err
	}
	defer in.Close()
	all, err := newCSVFile(dst)
	if err != nil {
		return 0, 0, 0, err
	}
	defer all.f.Close()
	uniq, err := newCSVFile(unique)
	if err != nil {
		return 0, 0, 0, err
	}
	defer uniq.f.Close()
	r := csv.NewReader(bufio.NewReaderSize(in, 1<<20))
	r.Comma, r.LazyQuotes, r.FieldsPerRecord, r.ReuseRecord = ';', true, -1, true
	n := len(extractColumns())
	seen := map[string]bool{}
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
		if err := all.w.Write(rec); err != nil {
			return 0, 0, 0, err
		}
		// A row without its key is one the store rejects.
		key := rec[0] + ";" + rec[2]
		if first || (rec[0] != "" && rec[2] != "" && !seen[key]) {
			seen[key] = true
			if err := uniq.w.Write(rec); err != nil {
				return 0, 0, 0, err
			}
			if !first {
				distinct++
			}
		}
		if !first {
			kept++
		}
	}
	if err := all.close(); err != nil {
		return 0, 0, 0, err
	}
	return kept, dropped, distinct, uniq.close()
}

type csvFile struct {
	f  *os.File
	bw *bufio.Writer
	w  *csv.Writer
}

func newCSVFile(path string) (*csvFile, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	w := csv.NewWriter(bw)
	w.Comma = ';'
	return &csvFile{f, bw, w}, nil
}

func (c *csvFile) close() error {
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return err
	}
	if err := c.bw.Flush(); err != nil {
		return err
	}
	return c.f.Close()
}

func createTable(name string) string {
	return "CREATE TABLE " + name + " (" + columnsDDL() + ");"
}

// columnsDDL declares the extract's columns, all text.
func columnsDDL() string {
	cols := extractColumns()
	for i, c := range cols {
		cols[i] = c + " TEXT"
	}
	return strings.Join(cols, ", ")
}

// createIndexedTable is createTable keyed and indexed as the store's
// bookings are (migrations 001, 002, 010 and 012): the key (node, code),
// then code, the offer ranking, (phone, time) and (node, agenda, time).
// Its import is what the same rows cost the database itself once it keeps
// the indexes the console, the recall and the offers read.
func createIndexedTable(name string, sqlite bool) string {
	t := "CREATE TABLE " + name + " (" + columnsDDL() + ", PRIMARY KEY (nodo, codice_prenotazione))"
	if sqlite {
		t += " WITHOUT ROWID"
	}
	return t + ";\n" +
		"CREATE INDEX " + name + "_code ON " + name + " (codice_prenotazione);\n" +
		"CREATE INDEX " + name + "_offer_rank ON " + name + " (nodo, agenda, " +
		"(CASE classe_priorita WHEN 'U' THEN 0 WHEN 'B' THEN 1 WHEN 'D' THEN 2 WHEN 'P' THEN 3 ELSE 4 END), " +
		"(CASE WHEN data_prenotazione = '' THEN '9999-12-31' ELSE data_prenotazione END), " +
		"data_ora_appuntamento DESC, codice_prenotazione);\n" +
		"CREATE INDEX " + name + "_by_phone ON " + name + " (cellulare, data_ora_appuntamento);\n" +
		"CREATE INDEX " + name + "_agenda ON " + name + " (nodo, agenda, data_ora_appuntamento);\n"
}

// sqlite3Import times the sqlite3 shell importing csvPath (header first)
// into a table of the extract's columns in a new database, in one
// transaction; with indexed, keyed and indexed as the store's bookings
// (csvPath's keys then distinct), with the store's page cache. The table
// is created before the clock starts.
func sqlite3Import(bin, dir, csvPath string, indexed bool) (time.Duration, error) {
	db := filepath.Join(dir, "sqlite3-import.db")
	_ = os.Remove(db)
	defer os.Remove(db)
	table := createTable("extract")
	if indexed {
		table = createIndexedTable("extract", true)
	}
	if out, err := exec.Command(bin, db, "PRAGMA journal_mode=WAL;", table).CombinedOutput(); err != nil {
		return 0, fmt.Errorf("sqlite3: %v: %s", err, out)
	}
	script := "BEGIN;\n.mode csv\n.separator ;\n.import --skip 1 " + csvPath + " extract\nCOMMIT;\n"
	if indexed {
		script = "PRAGMA cache_size=-65536;\n" + script
	}
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
// extract's columns in the database at dsn, in one transaction; with
// indexed, keyed and indexed as the store's bookings.
func pgCopy(bin, dsn, csvPath string, indexed bool) (time.Duration, error) {
	table := createTable("bench_extract")
	if indexed {
		table = createIndexedTable("bench_extract", false)
	}
	setup := "DROP TABLE IF EXISTS bench_extract; " + table
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

// pgSchema creates (anew) the schema name at dsn and returns a DSN whose
// connections work in it, so that the store's first import goes into an
// empty store whatever the database already holds; drop removes it.
func pgSchema(bin, dsn, name string) (string, func(), error) {
	run := func(sql string) error {
		if out, err := exec.Command(bin, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", dsn, "-c", sql).CombinedOutput(); err != nil {
			return fmt.Errorf("psql: %v: %s", err, out)
		}
		return nil
	}
	if err := run("DROP SCHEMA IF EXISTS " + name + " CASCADE; CREATE SCHEMA " + name); err != nil {
		return "", nil, err
	}
	drop := func() { _ = run("DROP SCHEMA IF EXISTS " + name + " CASCADE") }
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		q := u.Query()
		q.Set("search_path", name)
		u.RawQuery = q.Encode()
		return u.String(), drop, nil
	}
	return dsn + " search_path=" + name, drop, nil
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
