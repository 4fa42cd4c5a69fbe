package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/richiamo/richiamo/internal/config"
	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/cup/mssql"
	"github.com/richiamo/richiamo/internal/dialer/campaigns"
	"github.com/richiamo/richiamo/internal/remind"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/voice"
	"github.com/richiamo/richiamo/internal/web"
)

func cmdServe(ctx context.Context, e *env, args []string) error {
	var c common
	fs := newFlags(e, "serve", "[--config FILE] [--json]", `
Run the engine: the reminder schedule (the campaign's cron expression, in
Europe/Rome), the sender that drains the outbox, and the webhooks for
delivery reports and patients' replies on web.listen. Several processes may
share one PostgreSQL store: each schedule fires once, each message is sent
once.

With voice configured (voice.trunk.proxy set) it also dials every active
campaign (campaign start / pause, noticed within a few seconds), each with
its stored script, within voice.channels and voice.calls_per_second shared
by all, inside the operating window; and every voice.probe_interval it sends
a SIP OPTIONS to its own SIP user agent and to the trunk, recording the
answers for the continuity level. Without it, no call is placed.

It makes and keeps the monthly service-level report on the 1st (for the
month before) and the weekly one on Mondays, at sla.reports.at, and serves
them in the web console with the current month and week.

SIGTERM or Ctrl-C stops it after the sends and calls in flight end and are
recorded; contacts claimed but not yet called are given back. With --json
the log is written as JSON lines.`, &c)
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(e, c)
	if err != nil {
		return err
	}
	if c.json {
		// A service reports through its log: --json makes it JSON lines.
		cfg.Log.Format = "json"
	}
	if cfg.Web.PublicURL == "" {
		return errors.New("config: web.public_url: required by serve (the https address the SMS provider calls back)")
	}
	if cfg.Extract.Inbox == "" && len(cfg.CUP.Nodes) == 0 {
		return errors.New("config: extract.inbox: required by serve when no cup.nodes are configured (a glob of the extract files to pick up)")
	}
	if _, err := nodes(cfg, "", nil); err != nil {
		return err
	}
	camp, err := loadCampaign(cfg)
	if err != nil {
		return err
	}
	gw, err := newGateway(cfg, camp)
	if err != nil {
		return err
	}
	log := newLogger(e.stderr, cfg)
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()

	ln, err := net.Listen("tcp", cfg.Web.Listen)
	if err != nil {
		return fmt.Errorf("web.listen: %w", err)
	}
	s := &server{cfg: cfg, camp: camp, st: st, log: log, owner: remind.DefaultOwner(), now: time.Now}
	mux := http.NewServeMux()
	hooks := &remind.Webhooks{Store: st, Log: log, Now: time.Now, AuthToken: cfg.SMS.Twilio.AuthToken, PublicURL: cfg.Web.PublicURL}
	hooks.Register(mux)
	health := newNodeHealth(cfg, log)
	levels, err := levelSources(cfg, st)
	if err != nil {
		return err
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if err := st.DB().PingContext(r.Context()); err != nil {
			http.Error(w, "store unavailable", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	// The console, /metrics and /readyz share the webhooks' listener. A
	// TLS proxy on this host reports the client's address, which the
	// sign-in limit and the audit log need.
	console, err := web.New(web.Config{Store: st, Log: log, PublicURL: cfg.Web.PublicURL,
		TrustedProxies: cfg.Web.TrustedProxies, SessionTTL: cfg.Web.SessionTTL.D(), IdleTimeout: cfg.Web.IdleTimeout.D(),
		NextRuns: func(now time.Time) []web.ScheduledRun {
			return []web.ScheduledRun{{Name: "Promemoria SMS (" + camp.Name + ")", At: camp.Next(now)}}
		},
		Nodes: health.get, Levels: levels})
	if err != nil {
		return err
	}
	console.Register(mux)
	hooks.OnError = func(webhook, reason string) { console.Metrics().WebhookErrors.WithLabelValues(webhook, reason).Inc() }
	go health.run(ctx)
	srv := web.NewHTTPServer(mux)

	sched := cron.New(cron.WithLocation(cup.Rome))
	sched.Schedule(camp.CronSchedule(), cron.FuncJob(func() { s.runReminder(ctx) }))

	snd := newSender(cfg, st, gw, log, time.Now)
	snd.Owner = s.owner
	calls, err := s.newCalls(log)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	errc := make(chan error, 3)
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("web: %w", err)
		}
	}()
	sendCtx, stopSend := context.WithCancel(ctx)
	go func() {
		defer wg.Done()
		if err := snd.Run(sendCtx); err != nil {
			errc <- err
		}
	}()
	callCtx, stopCalls := context.WithCancel(ctx)
	if calls != nil {
		wg.Go(func() {
			if err := calls.runner.Run(callCtx); err != nil {
				errc <- fmt.Errorf("calls: %w", err)
			}
		})
		wg.Go(func() { calls.probe(callCtx) })
	}
	sched.Start()
	// The weekly and monthly service-level reports, made and kept on time
	// (and at start when one was missed while the engine was down).
	wg.Go(func() { runReportSchedule(ctx, levels, cfg.SLA, log, time.Now) })
	log.Info("serving", "listen", ln.Addr().String(), "campaign", camp.Name,
		"next_run", camp.Next(time.Now()).In(cup.Rome).Format(time.DateTime), "store", st.Dialect())

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("stopping: finishing sends and calls in flight")
	case runErr = <-errc:
		log.Error("stopping", "err", runErr)
	}
	<-sched.Stop().Done()
	stopSend()
	stopCalls()
	shutCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutCtx)
	wg.Wait()
	if calls != nil {
		// After the dialer: Close would hang up the calls it waits for.
		calls.caller.Close()
	}
	log.Info("stopped")
	return runErr
}

type server struct {
	cfg   config.Config
	camp  *remind.Campaign
	st    *store.Store
	log   *slog.Logger
	owner string
	now   func() time.Time
}

// runReminder is the scheduled job: under a leader lease, plan reminders
// from the extracts in the inbox and move them aside. Sending is the
// sender's business.
func (s *server) runReminder(ctx context.Context) {
	now := s.now()
	ok, err := s.st.AcquireLease(ctx, "remind", s.owner, now, now.Add(30*time.Minute))
	if err != nil {
		s.log.Error("reminder job: lease", "err", err)
		return
	}
	if !ok {
		s.log.Info("reminder job: another engine process is running it")
		return
	}
	defer s.st.ReleaseLease(context.WithoutCancel(ctx), "remind", s.owner)
	var files []string
	if s.cfg.Extract.Inbox != "" {
		var err error
		if files, err = filepath.Glob(s.cfg.Path(s.cfg.Extract.Inbox)); err != nil {
			s.log.Error("reminder job: extract.inbox", "err", err)
			return
		}
		sort.Strings(files)
	}
	pl := &remind.Planner{Store: s.st, Campaign: s.camp, Layout: layout(s.cfg), Log: s.log, Now: s.now}
	var sources []remind.Source
	var nodeReports []remind.NodeReport
	if len(s.cfg.CUP.Nodes) > 0 {
		ns, err := nodes(s.cfg, "", s.log)
		if err != nil {
			s.log.Error("reminder job: cup.nodes", "err", err)
		}
		days, err := pl.Days(remind.Options{})
		if err != nil {
			s.log.Error("reminder job", "err", err)
			return
		}
		var release func()
		sources, nodeReports, release = fetchNodes(ctx, ns, days, s.log)
		defer release()
	}
	if len(files) == 0 && len(sources) == 0 {
		s.log.Warn("reminder job: no extract in the inbox and no CUP node read; nothing planned", "inbox", s.cfg.Extract.Inbox)
		return
	}
	for _, p := range files {
		f, err := os.Open(p)
		if err != nil {
			s.log.Error("reminder job: extract", "file", p, "err", err)
			continue
		}
		defer f.Close()
		sources = append(sources, remind.Source{Name: p, R: f})
	}
	rep, err := pl.Plan(ctx, sources, remind.Options{})
	if err != nil {
		s.log.Error("reminder job failed; the extracts stay in the inbox", "err", err)
		return
	}
	for _, r := range rep.Rejected {
		s.log.Warn("extract row rejected", "file", r.File, "line", r.Line, "reason", r.Reason, "detail", r.Detail)
	}
	for _, n := range nodeReports {
		if n.OK {
			s.log.Info("CUP node read", "node", n.Node, "rows", n.Rows, "bookings", n.Bookings, "rejected", n.Rejected)
		}
	}
	if s.cfg.Extract.Done == "" {
		return
	}
	done := s.cfg.Path(s.cfg.Extract.Done)
	if err := os.MkdirAll(done, 0o750); err != nil {
		s.log.Error("reminder job: extract.done", "err", err)
		return
	}
	for _, p := range files {
		dst := filepath.Join(done, now.In(cup.Rome).Format("20060102-150405-")+filepath.Base(p))
		if err := os.Rename(p, dst); err != nil {
			// Harmless: re-importing plans nothing new.
			s.log.Warn("reminder job: could not move the extract aside", "file", p, "err", err)
		}
	}
}

// nodeHealth keeps the console's view of the CUP nodes: each is checked
// every few minutes in the background, so that a page never waits on a
// database.
type nodeHealth struct {
	cfg config.Config
	log *slog.Logger
	mu  sync.Mutex
	got []web.NodeHealth
}

func newNodeHealth(cfg config.Config, log *slog.Logger) *nodeHealth {
	h := &nodeHealth{cfg: cfg, log: log}
	for _, n := range cfg.CUP.Nodes {
		h.got = append(h.got, web.NodeHealth{Name: n.Name, Detail: "non ancora verificato"})
	}
	return h
}

func (h *nodeHealth) get(context.Context) []web.NodeHealth {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]web.NodeHealth(nil), h.got...)
}

func (h *nodeHealth) run(ctx context.Context) {
	if len(h.cfg.CUP.Nodes) == 0 {
		return
	}
	t := time.NewTicker(5 * time.Minute)
	defer t.Stop()
	for {
		ns, _ := nodes(h.cfg, "", nil)
		var got []web.NodeHealth
		for _, n := range ns {
			r := mssql.Check(ctx, n, time.Now().In(cup.Rome).AddDate(0, 0, 1))
			nh := web.NodeHealth{Name: n.Name, OK: r.OK, CheckedAt: time.Now()}
			if r.OK {
				nh.Detail = fmt.Sprintf("%.0f ms, %d prenotazioni per domani", r.LatencyMS, r.Bookings)
			} else {
				nh.Detail = r.Cause + ": " + r.Error
			}
			got = append(got, nh)
		}
		if ctx.Err() != nil {
			return
		}
		h.mu.Lock()
		h.got = got
		h.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// calls is serve's telephony: one Caller, the dialer of the active
// campaigns and the continuity probe.
type calls struct {
	caller   *voice.Caller
	runner   *campaigns.Runner
	st       *store.Store
	log      *slog.Logger
	interval time.Duration
}

// newCalls starts the SIP user agent and builds the dialer when voice is
// configured (a trunk to call numbers through); nil otherwise.
func (s *server) newCalls(log *slog.Logger) (*calls, error) {
	if s.cfg.Voice.Trunk.Proxy == "" {
		log.Info("calls disabled: voice.trunk.proxy is not set; no campaign is dialled and continuity is not probed")
		return nil, nil
	}
	cal, err := newCalendar(s.cfg)
	if err != nil {
		return nil, err
	}
	vc := voice.ConfigFor(s.cfg)
	vc.Log = log
	caller, err := voice.NewCaller(vc)
	if err != nil {
		return nil, err
	}
	r, err := campaigns.New(campaigns.Config{Store: s.st, Caller: caller, Calendar: cal,
		Channels: s.cfg.Voice.Channels, CallsPerSecond: s.cfg.Voice.CallsPerSecond, Owner: s.owner, Log: log})
	if err != nil {
		caller.Close()
		return nil, err
	}
	return &calls{caller: caller, runner: r, st: s.st, log: log, interval: s.cfg.Voice.ProbeInterval.D()}, nil
}

// probe sends the continuity probes until ctx ends: every interval, at the
// middle of it (second 30 of each minute by default), so that each minute
// holds exactly one probe per target.
func (c *calls) probe(ctx context.Context) {
	up := map[string]bool{store.ProbeUA: true, store.ProbeTrunk: true}
	for {
		now := time.Now()
		at := now.Truncate(c.interval).Add(c.interval / 2)
		if !at.After(now) {
			at = at.Add(c.interval)
		}
		t := time.NewTimer(at.Sub(now))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		for _, p := range c.probeOnce(ctx) {
			if ctx.Err() != nil {
				// Cut short by the stop: not a failure of the service.
				return
			}
			if err := c.st.RecordProbe(ctx, p); err != nil {
				c.log.Error("continuity probe: record", "target", p.Target, "err", err)
			}
			switch {
			case up[p.Target] && !p.Up:
				c.log.Warn("continuity probe: target down", "target", p.Target, "sip_code", p.SIPCode, "detail", p.Detail)
			case !up[p.Target] && p.Up:
				c.log.Info("continuity probe: target up again", "target", p.Target, "rtt_ms", p.RTT.Milliseconds())
			}
			up[p.Target] = p.Up
		}
	}
}

// probeOnce probes the user agent and the trunk at once, each for at most
// half the interval (5 s at most).
func (c *calls) probeOnce(ctx context.Context) []store.Probe {
	pctx, cancel := context.WithTimeout(ctx, min(c.interval/2, 5*time.Second))
	defer cancel()
	at := time.Now()
	var (
		mu  sync.Mutex
		out []store.Probe
		wg  sync.WaitGroup
	)
	for target, probe := range map[string]func(context.Context) (voice.OptionsResult, bool){
		store.ProbeUA: c.caller.ProbeSelf, store.ProbeTrunk: c.caller.ProbeTrunk,
	} {
		wg.Go(func() {
			r, ok := probe(pctx)
			if !ok {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			out = append(out, store.Probe{At: at, Target: target, Up: r.Up, SIPCode: r.Code, RTT: r.RTT, Detail: r.Detail})
		})
	}
	wg.Wait()
	sort.Slice(out, func(i, j int) bool { return out[i].Target > out[j].Target })
	return out
}
