package base

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strings"

	"golang.org/x/term"

	"github.com/richiamo/richiamo/internal/config"
	"github.com/richiamo/richiamo/internal/engine"
	"github.com/richiamo/richiamo/internal/progress"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/web"
)

// IsTerminal says whether f is a terminal, where progress may be drawn.
func IsTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// WriteJSON prints v as one indented JSON object.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// LoadConfig reads --config, or richiamo.yaml in the working directory when
// it exists, or the built-in defaults.
func LoadConfig(e *Env, c Common) (config.Config, error) {
	path := c.Config
	if path == "" && FileExists("richiamo.yaml") {
		path = "richiamo.yaml"
	}
	return engine.LoadConfig(path, e.Getenv)
}

// OpenConfigured loads the configuration the flags name and opens its
// store, as most commands begin.
func OpenConfigured(ctx context.Context, e *Env, c Common) (config.Config, *store.Store, error) {
	cfg, err := LoadConfig(e, c)
	if err != nil {
		return cfg, nil, err
	}
	st, err := engine.OpenStore(ctx, cfg)
	return cfg, st, err
}

// NewProgress is the progress line of a command: on stderr, when it is a
// terminal and no --json was asked for.
func NewProgress(e *Env, asJSON bool) *progress.Line {
	return progress.New(e.Stderr, e.IsTerminal && !asJSON)
}

// NonNil is s, or an empty slice, so that JSON prints [] rather than null.
func NonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// FileExists says whether path names something that can be stat'ed.
func FileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// MultiFlag is a flag that may be given several times.
type MultiFlag []string

func (m *MultiFlag) String() string     { return strings.Join(*m, ",") }
func (m *MultiFlag) Set(v string) error { *m = append(*m, v); return nil }

// CLIActor names who ran the command in the audit log.
func CLIActor() web.Actor {
	name := "?"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return web.Actor{Name: "cli:" + name, Role: "cli"}
}

// WriteFileAtomic writes beside path and renames, so that a failure never
// leaves a truncated file that looks complete.
func WriteFileAtomic(path string, write func(f *os.File) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if err := write(f); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
