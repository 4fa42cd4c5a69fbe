package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/richiamo/richiamo/campaigns"
	"github.com/richiamo/richiamo/internal/config"
	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/engine"
	"github.com/richiamo/richiamo/internal/remind"
	"github.com/richiamo/richiamo/internal/sms"
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
	if path == "" {
		if _, err := os.Stat("richiamo.yaml"); err == nil {
			path = "richiamo.yaml"
		}
	}
	return engine.LoadConfig(path, e.getenv)
}

func newLogger(w io.Writer, cfg config.Config) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.Log.Level))
	o := &slog.HandlerOptions{Level: lvl}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, o))
	}
	return slog.New(slog.NewTextHandler(w, o))
}

// openStore opens and migrates the configured store.
func openStore(ctx context.Context, cfg config.Config) (*store.Store, error) {
	st, err := store.Open(ctx, store.Options{SQLitePath: cfg.Path(cfg.Store.SQLite), PostgresDSN: cfg.Store.Postgres})
	if err != nil {
		return nil, err
	}
	if _, err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

// openConfigured loads the configuration the flags name and opens its
// store, as most commands begin.
func openConfigured(ctx context.Context, e *env, c common) (config.Config, *store.Store, error) {
	cfg, err := loadConfig(e, c)
	if err != nil {
		return cfg, nil, err
	}
	st, err := openStore(ctx, cfg)
	return cfg, st, err
}

func layout(cfg config.Config) cup.Layout {
	l := cup.Layout{Columns: cfg.Extract.Columns, Encoding: strings.ToLower(cfg.Extract.Encoding), DefaultNode: cfg.Extract.DefaultNode}
	switch cfg.Extract.Delimiter {
	case "tab":
		l.Delimiter = '\t'
	case "":
	default:
		l.Delimiter = rune(cfg.Extract.Delimiter[0])
	}
	return l
}

// loadCampaign reads the configured campaign file; when the setting is the
// default and no such file exists, the campaign built into the binary is
// used, so that the binary runs on its own.
func loadCampaign(cfg config.Config) (*remind.Campaign, error) {
	p := cfg.Path(cfg.Campaigns.Reminder)
	if cfg.Campaigns.Reminder == config.Default().Campaigns.Reminder {
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			c, err := remind.ParseCampaign(campaigns.Reminder)
			if err != nil {
				return nil, fmt.Errorf("built-in campaign: %w", err)
			}
			return c, nil
		}
	}
	return remind.LoadCampaign(p)
}

// statusCallback is the URL the provider reports delivery to.
func statusCallback(cfg config.Config) string {
	if cfg.SMS.Twilio.StatusCallback != "" {
		return cfg.SMS.Twilio.StatusCallback
	}
	if cfg.Web.PublicURL != "" {
		return strings.TrimRight(cfg.Web.PublicURL, "/") + remind.StatusPath
	}
	return ""
}

func newGateway(cfg config.Config, camp *remind.Campaign) (*sms.Twilio, error) {
	if err := cfg.TwilioReady(); err != nil {
		return nil, err
	}
	t := cfg.SMS.Twilio
	from, svc := t.From, t.MessagingServiceSID
	if camp != nil && camp.Sender != "" {
		from, svc = camp.Sender, ""
	}
	gw, err := sms.NewTwilio(sms.TwilioConfig{
		AccountSID: t.AccountSID, AuthToken: t.AuthToken, MessagingServiceSID: svc, From: from,
		StatusCallback: statusCallback(cfg), BaseURL: t.BaseURL, Timeout: t.Timeout.D(),
	})
	if err != nil {
		return nil, fmt.Errorf("sms.twilio: %w", err)
	}
	return gw, nil
}

func newSender(cfg config.Config, st *store.Store, gw sms.Gateway, log *slog.Logger, now func() time.Time) *remind.Sender {
	return &remind.Sender{
		Store: st, Gateway: gw, Log: log, Now: now,
		Rate: cfg.SMS.RatePerSecond, Concurrency: cfg.SMS.Concurrency, MaxAttempts: cfg.SMS.MaxAttempts,
		RetryBase: cfg.SMS.RetryBase.D(), ReconcileAfter: cfg.SMS.ReconcileAfter.D(), Lease: cfg.SMS.Lease.D(),
	}
}
