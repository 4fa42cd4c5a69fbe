// Package web owns the console that operators, CUP managers, the Region's
// auditors and administrators use in a browser: sign-in with server-side
// sessions, roles, the reminders desk, the operators' inbox, the live
// overview, the audit log, and the /metrics and /readyz endpoints. Pages
// are html/template files embedded in the binary and parsed once at start;
// there is no JavaScript build step and nothing is fetched from outside.
package web

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"github.com/richiamo/richiamo/internal/urgent"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/richiamo/richiamo/campaigns"
	"github.com/richiamo/richiamo/internal/calendar"
	"github.com/richiamo/richiamo/internal/dialer"
	"github.com/richiamo/richiamo/internal/group"
	"github.com/richiamo/richiamo/internal/job"
	"github.com/richiamo/richiamo/internal/slareport"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/survey"
	"github.com/richiamo/richiamo/internal/worklist"
)

//go:embed templates
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// ScheduledRun is a job the engine will run next.
type ScheduledRun struct {
	Name string
	At   time.Time
}

// NodeHealth is the state of one CUP node's connection as its checker last
// saw it.
type NodeHealth struct {
	Name      string
	OK        bool
	Detail    string
	CheckedAt time.Time
	// FilesOnly: the node is known from its extract files, and the engine
	// has no connection to its database to check.
	FilesOnly bool
}

// LoginLimits bound sign-in attempts. Failures are counted in memory, per
// process: several engine processes behind a balancer each allow as many.
type LoginLimits struct {
	// PerAccount failures within Window block the account name.
	PerAccount int
	// PerIP failures within Window block the client address.
	PerIP  int
	Window time.Duration
}

// Config is what the console needs. New fills the zero fields with the
// defaults and refuses a bad value naming it.
type Config struct {
	Store Store
	// Urgent ranks the numbers of urgent moves (zero: urgent.DefaultSettings).
	Urgent urgent.Settings
	Log    *slog.Logger
	Now    func() time.Time
	// PublicURL is the address users reach the engine at; an https URL makes
	// the session cookie Secure even when TLS ends at a proxy.
	PublicURL string
	// SessionTTL is the longest a sign-in lasts; IdleTimeout ends it sooner
	// when the browser makes no request for that long.
	SessionTTL  time.Duration
	IdleTimeout time.Duration
	// BcryptCost is the work factor of new password hashes, at least 10.
	BcryptCost int
	Login      LoginLimits
	// TrustedProxies are the addresses (CIDR) of reverse proxies whose
	// X-Forwarded-For is believed, for the per-address sign-in limit and
	// the audit log.
	TrustedProxies []string
	// Refresh is how often the overview reloads itself.
	Refresh time.Duration
	// NextRuns tells the scheduled jobs to come; nil shows none.
	NextRuns func(now time.Time) []ScheduledRun
	// Nodes reports the health of the CUP nodes whose databases are
	// read; the nodes known only from the imports are listed after them,
	// without a state.
	Nodes func(ctx context.Context) []NodeHealth
	// Levels are what the service-level reports are made from; nil leaves
	// the service-level pages out.
	Levels *slareport.Sources
	// Calendar and Channels are the dialer's, for the campaign pages to
	// say why it waits; nil is the contract's window with the national
	// holidays, 0 dialer.DefaultChannels.
	Calendar *calendar.Calendar
	Channels int
	// CleanUpScript is the call script of the clean-up campaigns an
	// accepted request makes; the shipped recall script when empty.
	CleanUpScript job.Script
	// Survey is the satisfaction survey's settings the figures are
	// counted with; the zero value is the defaults.
	Survey survey.Config
	// Calls places the calls of "Chiama"; nil leaves only the tel: link.
	Calls ConsoleCalls
	// Offers acts on the offers' work items as they are closed; nil
	// closes them without acting.
	Offers OfferDesk
	// Groups books sports-medicine visits through the nodes' write-back;
	// nil, or a node without a book statement, leaves the bookings to the
	// back office.
	Groups group.Booker
}

// Defaults.
const (
	DefaultSessionTTL  = 12 * time.Hour
	DefaultIdleTimeout = time.Hour
	DefaultBcryptCost  = 12
	MinBcryptCost      = 10
	DefaultRefresh     = 30 * time.Second
)

func (c *Config) fill() error {
	if c.Store == nil {
		return errors.New("web: Config.Store is required")
	}
	if c.Log == nil {
		c.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.SessionTTL == 0 {
		c.SessionTTL = DefaultSessionTTL
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.BcryptCost == 0 {
		c.BcryptCost = DefaultBcryptCost
	}
	if c.Login.PerAccount == 0 {
		c.Login.PerAccount = 5
	}
	if c.Login.PerIP == 0 {
		c.Login.PerIP = 30
	}
	if c.Login.Window == 0 {
		c.Login.Window = 15 * time.Minute
	}
	if c.Refresh == 0 {
		c.Refresh = DefaultRefresh
	}
	if c.Calendar == nil {
		c.Calendar = defaultCalendar()
	}
	if c.Channels == 0 {
		c.Channels = dialer.DefaultChannels
	}
	if len(c.CleanUpScript.Text) == 0 {
		c.CleanUpScript = job.Script{Name: "campaigns/recall.yaml", Text: campaigns.Recall}
	}
	switch {
	case c.SessionTTL < time.Minute:
		return fmt.Errorf("web: Config.SessionTTL %s is shorter than a minute", c.SessionTTL)
	case c.IdleTimeout < time.Minute || c.IdleTimeout > c.SessionTTL:
		return fmt.Errorf("web: Config.IdleTimeout %s must be between a minute and SessionTTL (%s)", c.IdleTimeout, c.SessionTTL)
	case c.BcryptCost < MinBcryptCost || c.BcryptCost > bcrypt.MaxCost:
		return fmt.Errorf("web: Config.BcryptCost %d is not between %d and %d", c.BcryptCost, MinBcryptCost, bcrypt.MaxCost)
	case c.Login.PerAccount < 1 || c.Login.PerIP < 1 || c.Login.Window <= 0:
		return fmt.Errorf("web: Config.Login %+v: limits and window must be positive", c.Login)
	case c.Channels < 0:
		return fmt.Errorf("web: Config.Channels %d is negative", c.Channels)
	case c.Refresh < time.Second:
		return fmt.Errorf("web: Config.Refresh %s is shorter than a second", c.Refresh)
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("web: Config.PublicURL %q is not an absolute http(s) URL", c.PublicURL)
		}
	}
	for _, p := range c.TrustedProxies {
		if _, err := netip.ParsePrefix(p); err != nil {
			return fmt.Errorf("web: Config.TrustedProxies: %q is not an address range (CIDR): %w", p, err)
		}
	}
	return nil
}

// Console serves the web console.
type Console struct {
	cfg       Config
	st        Store
	wl        *worklist.List
	log       *slog.Logger
	now       func() time.Time
	pages     map[string]*template.Template
	secure    bool
	proxies   []netip.Prefix
	limiter   *loginLimiter
	metrics   *Metrics
	crossSite *http.CrossOriginProtection
	// dummyHash is compared against when an account does not exist, so
	// that a wrong name costs as long as a wrong password. It is made at
	// the first such sign-in, not at start.
	dummyHash func() []byte
}

// New checks cfg, parses every page and prepares the metrics; a page that
// is missing or does not parse stops start-up here, not at its first
// request.
func New(cfg Config) (*Console, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	c := &Console{cfg: cfg, st: cfg.Store, wl: worklist.New(cfg.Store, cfg.Now), log: cfg.Log, now: cfg.Now,
		limiter: newLoginLimiter(cfg.Login), crossSite: http.NewCrossOriginProtection()}
	c.secure = strings.HasPrefix(cfg.PublicURL, "https://")
	for _, p := range cfg.TrustedProxies {
		c.proxies = append(c.proxies, netip.MustParsePrefix(p))
	}
	pages, err := parsePages(templateFS)
	if err != nil {
		return nil, err
	}
	c.pages = pages
	c.dummyHash = sync.OnceValue(func() []byte {
		h, err := bcrypt.GenerateFromPassword([]byte(randomToken()), cfg.BcryptCost)
		if err != nil {
			panic(err) // only for a cost out of range, which fill refused
		}
		return h
	})
	c.metrics = newMetrics(cfg.Store, cfg.Now)
	return c, nil
}

// Metrics returns the console's Prometheus registry and the collectors
// other parts of the engine may update.
func (c *Console) Metrics() *Metrics { return c.metrics }

// Register adds the console's routes, /metrics and /readyz to mux.
// /healthz is left to the caller, who owns the process.
func (c *Console) Register(mux *http.ServeMux) {
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err) // the directory is embedded above
	}
	mux.Handle("GET /static/", c.headers(http.StripPrefix("/static/", http.FileServerFS(static)), true))
	mux.Handle("GET /metrics", c.metrics.Handler())
	mux.HandleFunc("GET /readyz", c.readyz)

	mux.Handle("GET /{$}", c.headers(http.RedirectHandler("/panoramica", http.StatusSeeOther), false))
	mux.Handle("GET /accesso", c.headers(http.HandlerFunc(c.loginForm), false))
	mux.Handle("POST /accesso", c.headers(c.crossSite.Handler(http.HandlerFunc(c.login)), false))
	c.route(mux, "POST /esci", permAny, c.logout)

	c.route(mux, "GET /panoramica", permOverview, c.overview)

	c.route(mux, "GET /promemoria", permDesk, c.desk)
	c.route(mux, "GET /promemoria/importazioni/{id}", permDesk, c.run)
	c.route(mux, "GET /promemoria/importazioni/{id}/scarti", permQuality, c.rejections)
	c.route(mux, "GET /promemoria/importazioni/{id}/scarti.csv", permQuality, c.rejectionsCSV)
	c.route(mux, "GET /promemoria/mancate-consegne", permDesk, c.failures)
	c.route(mux, "GET /promemoria/cerca", permDesk, c.search)

	c.route(mux, "GET /posta", permInbox, c.inbox)
	c.route(mux, "POST /posta/{kind}/{id}/prendi", permWorkInbox, c.claim)
	c.route(mux, "POST /posta/{kind}/{id}/rilascia", permWorkInbox, c.release)
	c.route(mux, "POST /posta/{kind}/{id}/chiudi", permWorkInbox, c.closeItem)
	c.route(mux, "POST /posta/{kind}/{id}/richiama", permWorkInbox, c.callBack)
	c.route(mux, "GET /posta/{kind}/{id}/rispondi", permWorkInbox, c.answerForm)
	c.route(mux, "POST /posta/{kind}/{id}/rispondi", permWorkInbox, c.answer)

	c.route(mux, "GET /lavoro", permWork, c.work)
	c.route(mux, "POST /lavoro/prossimo", permWork, c.takeNext)
	c.route(mux, "GET /lavoro/cerca", permWork, c.searchWork)
	c.route(mux, "GET /lavoro/{id}", permWork, c.workItemPage)
	c.route(mux, "POST /lavoro/{id}/prendi", permWork, c.takeItem)
	c.route(mux, "POST /lavoro/{id}/rilascia", permWork, c.releaseWork)
	c.route(mux, "POST /lavoro/{id}/esito", permWork, c.recordOutcome)
	c.route(mux, "POST /lavoro/{id}/richiama", permWork, c.callBackWork)
	c.route(mux, "POST /lavoro/{id}/chiama", permWork, c.callPatient)

	c.route(mux, "GET /tempo-reale", permLive, c.live)
	c.route(mux, "GET /campagne", permCampaigns, c.campaignList)
	c.route(mux, "GET /campagne/{id}", permCampaigns, c.campaignPage)
	c.route(mux, "POST /campagne/{id}/avvia", permRunCampaign, c.setCampaignState(store.CampaignActive))
	c.route(mux, "POST /campagne/{id}/pausa", permRunCampaign, c.setCampaignState(store.CampaignPaused))

	c.route(mux, "GET /pulizie", permCleanUps, c.cleanUps)
	c.route(mux, "POST /pulizie", permFileCleanUp, c.fileCleanUp)
	c.route(mux, "GET /pulizie/{id}", permCleanUps, c.cleanUpPage)
	c.route(mux, "GET /pulizie/{id}/esiti.csv", permCleanUps, c.cleanUpCSV)
	c.route(mux, "POST /pulizie/{id}/accetta", permDecideCleanUp, c.decideCleanUp(true))
	c.route(mux, "POST /pulizie/{id}/rifiuta", permDecideCleanUp, c.decideCleanUp(false))
	c.route(mux, "GET /urgenti", permCleanUps, c.urgents)
	c.route(mux, "POST /urgenti", permFileCleanUp, c.fileUrgent)
	c.route(mux, "GET /urgenti/{id}", permCleanUps, c.urgentPage)
	c.route(mux, "GET /urgenti/{id}/esiti.csv", permCleanUps, c.urgentCSV)

	c.route(mux, "GET /gruppi", permGroups, c.groups)
	c.route(mux, "POST /gruppi", permGroups, c.uploadGroup)
	c.route(mux, "GET /gruppi/{id}", permGroups, c.groupPage)
	c.route(mux, "POST /gruppi/{id}/conferma", permGroups, c.confirmGroup)
	c.route(mux, "POST /gruppi/{id}/prenotazioni", permGroups, c.bookGroup)
	c.route(mux, "POST /gruppi/{id}/lista", permGroups, c.replanGroup)
	c.route(mux, "GET /gruppi/{id}/prenotazioni-cup.csv", permGroups, c.groupCSV(true))
	c.route(mux, "GET /gruppi/{id}/societa.csv", permGroups, c.groupCSV(false))
	c.route(mux, "GET /gruppi/{id}/disdette-cup.csv", permGroups, c.groupCancelCSV)

	c.route(mux, "GET /utenti", permUsers, c.users)
	c.route(mux, "POST /utenti", permManageUsers, c.addUser)
	c.route(mux, "POST /utenti/{id}/disattiva", permManageUsers, c.disableUser)
	c.route(mux, "POST /utenti/{id}/riattiva", permManageUsers, c.enableUser)

	c.route(mux, "GET /registro", permAudit, c.auditLog)

	c.route(mux, "GET /questionario", permSurvey, c.surveyPage)
	c.route(mux, "GET /questionario/risposte.csv", permSurvey, c.surveyAnswersCSV)
	c.route(mux, "POST /utenti/{id}/codice-operatore", permManageUsers, c.setOperatorCode)

	if c.cfg.Levels != nil {
		mux.Handle("GET /static/livelli.css", c.headers(http.HandlerFunc(serveReportCSS), true))
		c.route(mux, "GET /livelli", permLevels, c.levels)
		c.route(mux, "GET /livelli/contatti", permLevels, c.levelContacts)
		c.route(mux, "GET /livelli/periodo", permLevels, c.levelPeriod)
		c.route(mux, "GET /livelli/{id}", permLevels, c.level)
		c.route(mux, "GET /livelli/{id}/{file}", permLevels, c.levelFile)
	}
}

// readyz answers 200 when the store answers and its schema is the one this
// binary expects, so that a balancer sends no user to a process that
// cannot serve them.
func (c *Console) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if err := c.st.Ping(ctx); err != nil {
		http.Error(w, "store unavailable", http.StatusServiceUnavailable)
		return
	}
	if err := c.st.SchemaCurrent(ctx); err != nil {
		http.Error(w, "schema not current", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, "ready\n")
}

// headers sets what every console response carries: nothing framed,
// nothing sniffed, scripts and styles only from here, and for pages no
// caching, because they show health data.
func (c *Console) headers(h http.Handler, cacheable bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "same-origin")
		if cacheable {
			hd.Set("Cache-Control", "private, max-age=3600")
		} else {
			hd.Set("Cache-Control", "no-store")
		}
		if c.secure || r.TLS != nil {
			hd.Set("Strict-Transport-Security", "max-age=31536000")
		}
		h.ServeHTTP(w, r)
	})
}
