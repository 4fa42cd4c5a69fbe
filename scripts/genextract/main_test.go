package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRun(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		wantErr string
		header  string
	}{
		{"semicolon extract", []string{"-rows", "50", "-day", "2026-12-01"}, "", "nodo;agenda;"},
		{"comma extract", []string{"-rows", "50", "-day", "2026-12-01", "-delim", ","}, "", "nodo,agenda,"},
		{"tab extract", []string{"-rows", "50", "-day", "2026-12-01", "-delim", "tab", "-cp1252"}, "", "nodo\tagenda\t"},
		{"no day", []string{"-rows", "50"}, "-day is required", ""},
		{"day not a date", []string{"-day", "01/12/2026"}, "-day", ""},
		{"two-character delimiter", []string{"-day", "2026-12-01", "-delim", ";;"}, "-delim", ""},
		{"rates over one", []string{"-day", "2026-12-01", "-bad", "0.7", "-multi", "0.7"}, "BadRate", ""},
		{"stray argument", []string{"-day", "2026-12-01", "extra"}, `"extra"`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := filepath.Join(t.TempDir(), "extract.csv")
			var stdout bytes.Buffer
			err := run(append(tt.args, "-o", out), &stdout)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("run() error = %v, want one saying %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var stats struct {
				Rows int            `json:"rows"`
				Good int            `json:"good"`
				Bad  map[string]int `json:"bad"`
			}
			if err := json.Unmarshal(stdout.Bytes(), &stats); err != nil || stats.Rows != 50 || len(stats.Bad) != 5 {
				t.Errorf("stdout %q: want the stats of 50 rows as JSON (%v)", stdout.String(), err)
			}
			if n := strings.Count(stdout.String(), "\n"); n != 1 {
				t.Errorf("stdout has %d lines, want 1", n)
			}
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(data), tt.header) {
				t.Errorf("file starts %q, want %q", data[:min(len(data), 40)], tt.header)
			}
		})
	}
}
