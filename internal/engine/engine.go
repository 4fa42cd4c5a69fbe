// Package engine builds the engine from the configuration and its
// dependencies (store, SMS gateway, clock, logger): every service that
// serve runs, each with Run(ctx) error under one start and stop. serve, the
// demo and the tests build it the same way; the demo swaps in only the
// provider's imitation, the simulated patients and its clock. It is also
// the one package that maps the configuration file onto the packages' own
// settings.
package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/richiamo/richiamo/internal/calllog"
	"github.com/richiamo/richiamo/internal/clock"
	"github.com/richiamo/richiamo/internal/config"
	"github.com/richiamo/richiamo/internal/continuity"
	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/cup/mssql"
	"github.com/richiamo/richiamo/internal/dialer/campaigns"
	"github.com/richiamo/richiamo/internal/inbound"
	"github.com/richiamo/richiamo/internal/job"
	"github.com/richiamo/richiamo/internal/offers"
	"github.com/richiamo/richiamo/internal/phone"
	"github.com/richiamo/richiamo/internal/recall"
	"github.com/richiamo/richiamo/internal/remind"
	"github.com/richiamo/richiamo/internal/slareport"
	"github.com/richiamo/richiamo/internal/sms"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/survey"
	"github.com/richiamo/richiamo/internal/urgent"
	"github.com/richiamo/richiamo/internal/voice"
	"github.com/richiamo/richiamo/internal/web"
)

// Deps are what the engine is given rather than builds from the
// configuration. Every field may be left zero.
type Deps struct {
	// Store: nil opens and migrates the configured one, and Close closes
	// it.
	Store *store.Store
	// Gateway: nil is the configured provider account, when it is
	// configured; without one the engine plans but does not send.
	Gateway sms.Gateway
	// Now: nil is the wall clock.
	Now clock.Func
	// Log: nil discards.
	Log *slog.Logger
	// Owner names this process in leases; "" is host, pid and a random
	// part.
	Owner string
	// Mover moves a booking into a freed slot in the CUP; nil uses the
	// nodes' write_back.move statements, and a node without one has its
	// moves done by the back office (a work item).
	Mover offers.Mover
}

// Engine is every service of one engine process. The fields are its parts,
// for the commands that run one of them once (remind, the demo).
type Engine struct {
	Config config.Config
	Store  *store.Store
	Log    *slog.Logger
	Now    clock.Func
	Owner  string

	// Campaign is the reminder campaign.
	Campaign *remind.Campaign
	// Gateway and Sender are nil when no provider is configured;
	// GatewayErr says why.
	Gateway    sms.Gateway
	GatewayErr error
	Sender     *remind.Sender
	// Confirmer asks the provider for the delivery reports that never
	// came; nil when the gateway cannot be asked.
	Confirmer *remind.Confirmer
	Webhooks  *remind.Webhooks
	// Reminders is the scheduled reminder job.
	Reminders *remind.Job
	// Recall is the recall of the monitored agendas; the slots its
	// cancellations free go to Offers.
	Recall  *recall.Job
	Nodes   *mssql.Health
	Levels  *slareport.Sources
	Reports *slareport.Schedule
	Console *web.Console
	// Offers offers freed slots and takes the answers.
	Offers *offers.Service
	// Caller, Dialer and Prober exist when voice is configured (a trunk
	// to call through).
	Caller *voice.Caller
	Dialer *campaigns.Runner
	Prober *continuity.Prober
	// Urgent carries the bookings of urgent moves on to their next number
	// or their result once a call is over; it runs with the dialer.
	Urgent *urgent.Settler
	// Survey exists when the survey's seed is set; CallLog, the phone
	// system's endpoint, when its secret is set too.
	Survey  *survey.Service
	CallLog *calllog.Endpoint
	// Calls places the console's calls (voice.operators); nil without
	// any operator's extension.
	Calls *ClickToCall

	mux       *http.ServeMux
	ownsStore bool
}

// New builds the engine. A wrong setting is an error naming it.
func New(ctx context.Context, cfg config.Config, d Deps) (*Engine, error) {
	e := &Engine{Config: cfg, Store: d.Store, Log: d.Log, Now: d.Now, Owner: d.Owner, Gateway: d.Gateway}
	if e.Log == nil {
		e.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if e.Now == nil {
		e.Now = clock.Real
	}
	if e.Owner == "" {
		e.Owner = remind.DefaultOwner()
	}
	ns, err := CUPNodes(cfg, "", e.Log)
	if err != nil {
		return nil, err
	}
	if e.Campaign, err = ReminderCampaign(cfg); err != nil {
		return nil, err
	}
	if e.Gateway == nil {
		gw, err := Gateway(cfg, e.Campaign)
		if err != nil {
			e.GatewayErr = err
		} else {
			e.Gateway = gw
		}
	}
	if e.Store == nil {
		if e.Store, err = OpenStore(ctx, cfg); err != nil {
			return nil, err
		}
		e.ownsStore = true
	}
	ok := false
	defer func() {
		if !ok {
			e.Close()
		}
	}()
	if e.Levels, err = LevelSources(cfg, e.Store); err != nil {
		return nil, err
	}
	if e.Gateway != nil {
		e.Sender = NewSender(cfg, e.Store, e.Gateway, e.Log, e.Now, e.Owner)
		if asker, ok := e.Gateway.(sms.StatusAsker); ok {
			e.Confirmer = &remind.Confirmer{Store: e.Store, Gateway: asker, Now: e.Now, Log: e.Log}
		}
	}
	e.Reminders = &remind.Job{Store: e.Store, Campaign: e.Campaign, Layout: ExtractLayout(cfg), Inbox: cfg.Path(cfg.Extract.Inbox),
		Nodes: ns, Owner: e.Owner, Log: e.Log, Now: e.Now}
	if cfg.Extract.Done != "" {
		e.Reminders.Done = cfg.Path(cfg.Extract.Done)
	}
	agendas, err := RecallAgendas(cfg)
	if err != nil {
		return nil, err
	}
	e.Recall = NewRecall(cfg, e.Store, agendas, ns, e.Log, e.Now, e.Owner)
	e.Nodes = &mssql.Health{Nodes: ns, Now: e.Now}
	e.Reports = &slareport.Schedule{Sources: *e.Levels, Plan: ReportPlan(cfg.SLA), Log: e.Log, Now: e.Now}

	e.mux = http.NewServeMux()
	e.Webhooks = &remind.Webhooks{Store: e.Store, Log: e.Log, Now: e.Now, AuthToken: cfg.SMS.Twilio.AuthToken, PublicURL: cfg.Web.PublicURL}
	mover := d.Mover
	if mover == nil {
		mover = CUPMover(e.Recall.Settle.Exec)
	}
	if e.Offers, err = NewOffers(cfg, e.Store, mover, e.Log, e.Now, e.Owner); err != nil {
		return nil, err
	}
	e.Webhooks.Handlers = map[string]inbound.Handler{store.JobOffer: e.Offers.Handler()}
	e.Recall.Settle.OnFreed = e.offerFreed
	e.Webhooks.Register(e.mux)
	e.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if err := e.Store.DB().PingContext(r.Context()); err != nil {
			http.Error(w, "store unavailable", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	// The console, /metrics and /readyz share the webhooks' listener.
	camp := e.Campaign
	// The campaign pages say why the dialer waits with the dialer's own
	// calendar and channels.
	dialCal, err := Calendar(cfg)
	if err != nil {
		return nil, err
	}
	var consoleCalls web.ConsoleCalls
	if len(cfg.Voice.Operators) > 0 {
		e.Calls = &ClickToCall{Store: e.Store, Log: e.Log, Operators: cfg.Voice.Operators,
			RingTimeout: cfg.Voice.RingTimeout.D(), MaxDuration: cfg.Voice.MaxDuration.D()}
		consoleCalls = e.Calls
	}
	e.Console, err = web.New(web.Config{Calls: consoleCalls, Offers: offerDesk{e.Offers}, Store: e.Store, Log: e.Log, Now: e.Now, PublicURL: cfg.Web.PublicURL,
		Calendar: dialCal, Channels: cfg.Voice.Channels,
		TrustedProxies: cfg.Web.TrustedProxies, SessionTTL: cfg.Web.SessionTTL.D(), IdleTimeout: cfg.Web.IdleTimeout.D(),
		NextRuns: func(now time.Time) []web.ScheduledRun {
			return []web.ScheduledRun{{Name: "Promemoria SMS (" + camp.Name + ")", At: camp.Next(now)}}
		},
		Nodes: e.nodeHealth, Levels: e.Levels, Survey: SurveyConfig(cfg), Urgent: UrgentSettings(cfg),
		Groups: CUPBooker(e.Recall.Settle.Exec)})
	if err != nil {
		return nil, err
	}
	e.Console.Register(e.mux)
	e.Webhooks.OnError = func(webhook, reason string) { e.Console.Metrics().WebhookErrors.WithLabelValues(webhook, reason).Inc() }

	if err := e.newCalls(); err != nil {
		return nil, err
	}
	if err := e.newSurvey(); err != nil {
		return nil, err
	}
	ok = true
	return e, nil
}

// offerFreed hands a slot the recall freed to the offers.
func (e *Engine) offerFreed(ctx context.Context, f recall.FreedSlot) {
	err := e.Offers.OnFreed(ctx, offers.FreedSlot{Node: f.Node, Agenda: f.Agenda, At: f.At, ServiceType: f.ServiceType, BookingCode: f.BookingCode})
	if err != nil {
		e.Log.Error("freed slot not recorded for the offers", "node", f.Node, "agenda", f.Agenda, "booking", phone.MaskCode(f.BookingCode), "err", err)
	}
}

func (e *Engine) nodeHealth(ctx context.Context) []web.NodeHealth {
	var out []web.NodeHealth
	for _, s := range e.Nodes.Get(ctx) {
		out = append(out, web.NodeHealth{Name: s.Name, OK: s.OK, Detail: s.Detail, CheckedAt: s.CheckedAt})
	}
	return out
}

// newCalls starts the SIP user agent and builds the dialer and the
// continuity probe when voice is configured.
func (e *Engine) newCalls() error {
	cfg := e.Config
	if cfg.Voice.Trunk.Proxy == "" {
		e.Log.Info("calls disabled: voice.trunk.proxy is not set; no campaign is dialled and continuity is not probed")
		return nil
	}
	cal, err := Calendar(cfg)
	if err != nil {
		return err
	}
	vc := VoiceConfig(cfg)
	vc.Log = e.Log
	if e.Caller, err = voice.NewCaller(vc); err != nil {
		return err
	}
	if e.Calls != nil {
		e.Calls.SetCaller(e.Caller)
	}
	if e.Dialer, err = campaigns.New(campaigns.Config{Store: e.Store, Caller: e.Caller, Calendar: cal, Profile: e.Levels.Profile,
		Channels: cfg.Voice.Channels, CallsPerSecond: cfg.Voice.CallsPerSecond, Owner: e.Owner, Now: e.Now, Log: e.Log,
		Hooks: job.Hooks{Offer: e.Offers.DecideCall}}); err != nil {
		return err
	}
	e.Prober = &continuity.Prober{Targets: continuity.ForCaller(e.Caller), Store: e.Store,
		Interval: cfg.Voice.ProbeInterval.D(), Log: e.Log, Now: e.Now}
	e.Urgent = &urgent.Settler{Store: e.Store, Now: e.Now, Log: e.Log}
	return nil
}

// Handler serves the webhooks, the console, /metrics, /healthz and /readyz.
func (e *Engine) Handler() http.Handler { return e.mux }

// Service is one part of the engine that runs until its context ends.
type Service struct {
	Name string
	Run  func(ctx context.Context) error
}

// Services are what Run runs besides the web server: the reminder
// schedule, the sender, the CUP nodes' health, the service-level reports,
// the recall of the monitored agendas, and with voice the dialer, the
// continuity probe and the urgent moves' settler.
//
// Without SMS settings at all (no sms.twilio.account_sid) the engine runs
// without the reminder job: the console, the reports and the calls still
// serve. SMS settings given but unusable (a missing token) are an error.
func (e *Engine) Services() ([]Service, error) {
	var s []Service
	switch {
	case e.Sender != nil:
		s = append(s, Service{"reminders", e.Reminders.Run}, Service{"sender", e.Sender.Run})
	case e.Config.SMS.Twilio.AccountSID != "":
		return nil, e.GatewayErr
	}
	s = append(s, Service{"cup-health", e.Nodes.Run}, Service{"reports", e.Reports.Run}, Service{"recall", e.Recall.Run})
	if e.Sender != nil {
		// Offers go out by SMS, through the outbox the sender drains.
		s = append(s, Service{"offers", e.Offers.Run})
	}
	if e.Confirmer != nil {
		s = append(s, Service{"confirmations", e.Confirmer.Run})
	}
	if e.Dialer != nil {
		s = append(s, Service{"calls", e.Dialer.Run}, Service{"continuity", e.Prober.Run}, Service{"urgent-moves", e.Urgent.Run})
	}
	if e.Survey != nil {
		s = append(s, Service{"survey", e.Survey.Run})
	}
	return s, nil
}

// Run serves on ln and runs every service until ctx ends or one fails;
// then it stops them all, waiting for the sends and calls in flight to be
// recorded, and returns the first failure.
func (e *Engine) Run(ctx context.Context, ln net.Listener) error {
	svcs, err := e.Services()
	if err != nil {
		return err
	}
	if e.Sender == nil {
		e.Log.Warn("SMS not configured (sms.twilio.account_sid): no reminder is planned or sent; the console, the reports and the calls run")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	srv := web.NewHTTPServer(e.mux)
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	fail := func(err error) {
		once.Do(func() { first = err })
		cancel()
	}
	wg.Go(func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fail(fmt.Errorf("web: %w", err))
		}
	})
	for _, s := range svcs {
		wg.Go(func() {
			if err := s.Run(ctx); err != nil {
				fail(fmt.Errorf("%s: %w", s.Name, err))
			}
		})
	}
	e.Log.Info("serving", "listen", ln.Addr().String(), "campaign", e.Campaign.Name,
		"next_run", e.Campaign.Next(e.Now()).In(cup.Rome).Format(time.DateTime), "store", e.Store.Dialect())
	<-ctx.Done()
	e.Log.Info("stopping: finishing sends and calls in flight")
	shutCtx, stop := context.WithTimeout(context.Background(), 30*time.Second)
	defer stop()
	_ = srv.Shutdown(shutCtx)
	wg.Wait()
	if first != nil {
		e.Log.Error("stopped", "err", first)
	} else {
		e.Log.Info("stopped")
	}
	return first
}

// Close releases the SIP user agent and, when the engine opened it, the
// store. Call it after Run has returned.
func (e *Engine) Close() {
	if e.Calls != nil {
		e.Calls.Close()
	}
	if e.Caller != nil {
		// After the dialer: Close would hang up the calls it waits for.
		e.Caller.Close()
	}
	if e.ownsStore && e.Store != nil {
		e.Store.Close()
	}
}

// CheckServe refuses a configuration serve cannot run on, naming the
// setting.
func CheckServe(cfg config.Config) error {
	if cfg.SMS.Twilio.AccountSID == "" {
		// No reminders: nothing calls back, and no extract is read.
		return nil
	}
	if cfg.Web.PublicURL == "" {
		return errors.New("config: web.public_url: required by serve (the https address the SMS provider calls back)")
	}
	if cfg.Extract.Inbox == "" && len(cfg.CUP.Nodes) == 0 {
		return errors.New("config: extract.inbox: required by serve when no cup.nodes are configured (a glob of the extract files to pick up)")
	}
	return nil
}
