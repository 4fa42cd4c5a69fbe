// Command genextract writes a synthetic CUP extract for demos, tests and
// load runs, and prints what it wrote as one JSON line on stdout:
//
//	go run ./scripts/genextract -rows 4000 -day 2026-12-01 -days 1 -seed 20261201 \
//	    -bad 0.02 -dup 0.005 -multi 0.03 -cp1252 -o testdata/extract-demo.csv
//
// Its phone numbers are random Italian mobiles: never send its extracts to a
// real SMS gateway.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"
	"unicode/utf8"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/cup/synth"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "genextract:", err)
		os.Exit(2)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("genextract", flag.ContinueOnError)
	var (
		o      synth.Options
		day    = fs.String("day", "", "first appointment day, YYYY-MM-DD (required)")
		delim  = fs.String("delim", ";", `cell delimiter: one character, or "tab"`)
		output = fs.String("o", "", "file to write (required)")
	)
	fs.IntVar(&o.Rows, "rows", 1000, "data rows")
	fs.IntVar(&o.Days, "days", 1, "consecutive days of appointments, Sundays skipped")
	fs.Int64Var(&o.Seed, "seed", 1, "random seed: the same flags write the same file")
	fs.Float64Var(&o.BadRate, "bad", 0.02, "chance that a row is unusable")
	fs.Float64Var(&o.DupRate, "dup", 0.01, "chance that a row is written twice")
	fs.Float64Var(&o.MultiRate, "multi", 0.03, "chance that a patient has 2 or 3 bookings on the same day")
	fs.BoolVar(&o.Windows1252, "cp1252", false, "encode as Windows-1252, as Italian Excel exports are")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *output == "" {
		return errors.New("-o is required")
	}
	if *day == "" {
		return errors.New("-day is required")
	}
	d, err := time.ParseInLocation(time.DateOnly, *day, cup.Rome)
	if err != nil {
		return fmt.Errorf("-day: %w", err)
	}
	o.Day = d
	switch {
	case *delim == "tab" || *delim == `\t`:
		o.Delimiter = '\t'
	case utf8.RuneCountInString(*delim) == 1:
		o.Delimiter, _ = utf8.DecodeRuneInString(*delim)
	default:
		return fmt.Errorf("-delim %q: want one character or \"tab\"", *delim)
	}

	f, err := os.Create(*output)
	if err != nil {
		return err
	}
	stats, err := synth.Write(f, o)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", *output, err)
	}
	return json.NewEncoder(stdout).Encode(stats)
}
