package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/richiamo/richiamo/campaigns"
	"github.com/richiamo/richiamo/internal/calendar"
	"github.com/richiamo/richiamo/internal/config"
	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/cup/mssql"
	"github.com/richiamo/richiamo/internal/recall"
	"github.com/richiamo/richiamo/internal/remind"
	"github.com/richiamo/richiamo/internal/script"
	"github.com/richiamo/richiamo/internal/sla"
	"github.com/richiamo/richiamo/internal/slareport"
	"github.com/richiamo/richiamo/internal/sms"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/voice/say"
)

// This file maps the configuration file's settings onto the packages' own
// types: the one place that knows both.

// NewLogger is the configured log: its level and format, written to w.
func NewLogger(w io.Writer, cfg config.Config) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.Log.Level))
	o := &slog.HandlerOptions{Level: lvl, ReplaceAttr: romeTime}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, o))
	}
	return slog.New(slog.NewTextHandler(w, o))
}

// romeTime writes a log line's time on Rome's clock, with its offset, as
// the console and the reports show times.
func romeTime(groups []string, a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey && len(groups) == 0 && a.Value.Kind() == slog.KindTime {
		a.Value = slog.TimeValue(a.Value.Time().In(calendar.Rome))
	}
	return a
}

// OpenStore opens and migrates the configured store.
func OpenStore(ctx context.Context, cfg config.Config) (*store.Store, error) {
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

// ExtractLayout is how the configured extract files are read.
func ExtractLayout(cfg config.Config) cup.Layout {
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

// ReminderCampaign reads the configured campaign file; when the setting is
// the default and no such file exists, the campaign built into the binary
// is used, so that the binary runs on its own.
func ReminderCampaign(cfg config.Config) (*remind.Campaign, error) {
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

// CUPNodes turns the configured CUP nodes into the SQL Server source's
// form; name selects one ("" for all). A node without its password is
// refused here, naming the variable, so that the mistake shows before any
// connection. The valid nodes come back with the errors of the others.
func CUPNodes(cfg config.Config, name string, log *slog.Logger) ([]mssql.Node, error) {
	var out []mssql.Node
	var errs []error
	for _, n := range cfg.CUP.Nodes {
		if name != "" && n.Name != name {
			continue
		}
		mn := CUPNode(cfg, n)
		if n.Password == "" {
			errs = append(errs, fmt.Errorf("cup.nodes[%s]: no password: set %s", n.Name, config.NodePasswordEnv(n.Name)))
			continue
		}
		if err := mn.Validate(); err != nil {
			errs = append(errs, err)
			continue
		}
		// Weakened transport security is a choice someone must see.
		if log != nil && (n.Encrypt == mssql.EncryptFalse || n.TrustServerCertificate) {
			log.Warn("CUP node connection is not fully verified", "node", n.Name,
				"encrypt", n.Encrypt, "trust_server_certificate", n.TrustServerCertificate)
		}
		out = append(out, mn)
	}
	if name != "" && len(out) == 0 && len(errs) == 0 {
		return nil, fmt.Errorf("no CUP node named %q in cup.nodes", name)
	}
	return out, errors.Join(errs...)
}

// Calendar is the operating window with the configured local holidays.
func Calendar(cfg config.Config) (*calendar.Calendar, error) { return CalendarWith(cfg, nil) }

// CalendarWith is a calendar of these weekly windows (nil: the operating
// window) with the configured local holidays.
func CalendarWith(cfg config.Config, windows []calendar.Window) (*calendar.Calendar, error) {
	var locals []calendar.LocalHoliday
	for _, h := range cfg.Calendar.LocalHolidays {
		lh, err := config.ParseLocalHoliday(h)
		if err != nil {
			return nil, err
		}
		locals = append(locals, calendar.LocalHoliday{Date: lh.Date, Name: lh.Name})
	}
	return calendar.New(calendar.Config{Windows: windows, ExtraHolidays: locals})
}

// LevelSources are what the service-level reports are made from: the
// store, the configured contract profile, the operating window and the
// reply-time clock.
func LevelSources(cfg config.Config, st *store.Store) (*slareport.Sources, error) {
	p, err := cfg.SLA.ProfileOf()
	if err != nil {
		return nil, err
	}
	working, err := Calendar(cfg)
	if err != nil {
		return nil, err
	}
	clock := working
	if p.ReplyClock == sla.ClockContinuous {
		if clock, err = CalendarWith(cfg, calendar.ReplyWindows(p.ReplyExcludeSundays)); err != nil {
			return nil, err
		}
	}
	src := &slareport.Sources{Store: st, Profile: p, Working: working, ReplyClock: clock, Location: cup.Rome,
		PenaltyCapPct: cfg.SLA.PenaltyCapPct}
	if cfg.Survey.Seed != "" {
		sc := SurveyConfig(cfg)
		src.Survey = &sc
	}
	return src, nil
}

// ReportPlan is which periodic reports the configuration asks for.
func ReportPlan(s config.SLA) slareport.Plan {
	h, m := s.ReportTime()
	p := slareport.Plan{Monthly: s.Reports.Monthly, Weekly: s.Reports.Weekly, Hour: h, Minute: m}
	if until, err := time.ParseInLocation(time.DateOnly, s.Reports.WeeklyUntil, cup.Rome); s.Reports.WeeklyUntil != "" && err == nil {
		p.WeeklyUntil = until
	}
	return p
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

// Gateway is the configured SMS provider account; camp's sender, when it
// names one, replaces the configured sender.
func Gateway(cfg config.Config, camp *remind.Campaign) (*sms.Twilio, error) {
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

// NewSender is the outbox sender with the configured pace and retries.
func NewSender(cfg config.Config, st *store.Store, gw sms.Gateway, log *slog.Logger, now func() time.Time, owner string) *remind.Sender {
	return &remind.Sender{
		Store: st, Gateway: gw, Log: log, Now: now, Owner: owner,
		Rate: cfg.SMS.RatePerSecond, Concurrency: cfg.SMS.Concurrency, MaxAttempts: cfg.SMS.MaxAttempts,
		RetryBase: cfg.SMS.RetryBase.D(), ReconcileAfter: cfg.SMS.ReconcileAfter.D(), Lease: cfg.SMS.Lease.D(),
	}
}

// RetryWarnings say why a campaign script's retry rules cannot meet the
// efficiency threshold of the configured contract profile (sla.profile);
// none when they can, or when the script or the profile does not load
// (that error is reported where they are loaded).
func RetryWarnings(cfg config.Config, scriptText []byte) []string {
	p, err := cfg.SLA.ProfileOf()
	if err != nil {
		return nil
	}
	s, err := script.Load(scriptText, say.Italian())
	if err != nil {
		return nil
	}
	return s.EfficiencyWarnings(p)
}

// RecallAgendas reads the configured monitored agendas; when the setting
// is the default and no such file exists, the shipped list is used.
func RecallAgendas(cfg config.Config) ([]recall.Agenda, error) {
	p := cfg.Path(cfg.Campaigns.RecallAgendas)
	if cfg.Campaigns.RecallAgendas == config.Default().Campaigns.RecallAgendas {
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			return recall.Load("")
		}
	}
	return recall.Load(p)
}

// RecallNodes are the configured CUP nodes as the recall uses them (their
// recall query and write-back), for the nodes in ns (those whose settings
// and password are complete).
func RecallNodes(cfg config.Config, ns []mssql.Node) map[string]recall.Node {
	ok := map[string]mssql.Node{}
	for _, n := range ns {
		ok[n.Name] = n
	}
	out := map[string]recall.Node{}
	for _, n := range cfg.CUP.Nodes {
		if db, found := ok[n.Name]; found {
			out[n.Name] = recall.Node{DB: db, RecallQuery: n.RecallQuery, WriteBack: WriteBack(n)}
		}
	}
	return out
}

// NewRecall is the recall job of the monitored agendas, with the settler
// that acts on its outcomes (cancellations through the nodes' write-back).
func NewRecall(cfg config.Config, st *store.Store, as []recall.Agenda, ns []mssql.Node, log *slog.Logger, now func() time.Time, owner string) *recall.Job {
	nodes := RecallNodes(cfg, ns)
	exec := map[string]*mssql.Executor{}
	for name, n := range nodes {
		exec[name] = &mssql.Executor{Node: n.DB, WB: n.WriteBack}
	}
	return &recall.Job{Store: st, Agendas: as, Nodes: nodes, Layout: ExtractLayout(cfg), Owner: owner, Log: log, Now: now,
		Settle: &recall.Settler{Store: st, Agendas: as, Exec: exec, Log: log, Now: now}}
}
