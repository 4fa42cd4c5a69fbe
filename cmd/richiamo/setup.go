package main

import (
	"context"
	"encoding/json"
	"io"
	"os"

	"golang.org/x/term"

	"github.com/richiamo/richiamo/internal/config"
	"github.com/richiamo/richiamo/internal/engine"
	"github.com/richiamo/richiamo/internal/progress"
	"github.com/richiamo/richiamo/internal/store"
)

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// loadConfig reads --config, or richiamo.yaml in the working directory when
// it exists, or the built-in defaults.
func loadConfig(e *env, c common) (config.Config, error) {
	path := c.config
	if path == "" && fileExists("richiamo.yaml") {
		path = "richiamo.yaml"
	}
	return engine.LoadConfig(path, e.getenv)
}

// openConfigured loads the configuration the flags name and opens its
// store, as most commands begin.
func openConfigured(ctx context.Context, e *env, c common) (config.Config, *store.Store, error) {
	cfg, err := loadConfig(e, c)
	if err != nil {
		return cfg, nil, err
	}
	st, err := engine.OpenStore(ctx, cfg)
	return cfg, st, err
}

// newProgress is the progress line of a command: on stderr, when it is a
// terminal and no --json was asked for.
func newProgress(e *env, asJSON bool) *progress.Line {
	return progress.New(e.stderr, e.isTerminal && !asJSON)
}
