// Package config owns the engine's settings: one YAML file, strict about
// unknown keys and bad values, with secrets taken from the environment so
// that none lives in the file.
package config

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/richiamo/richiamo/internal/yamlfile"
)

// Duration is a time.Duration written as "30s", "5m" in YAML.
type Duration = yamlfile.Duration

// Config is the whole engine configuration.
type Config struct {
	Store     Store     `yaml:"store"`
	Extract   Extract   `yaml:"extract"`
	CUP       CUP       `yaml:"cup"`
	Calendar  Calendar  `yaml:"calendar"`
	Campaigns Campaigns `yaml:"campaigns"`
	SMS       SMS       `yaml:"sms"`
	Web       Web       `yaml:"web"`
	Log       Log       `yaml:"log"`
	Voice     Voice     `yaml:"voice"`
	SLA       SLA       `yaml:"sla"`
	Survey    Survey    `yaml:"survey"`
	CallLog   CallLog   `yaml:"call_log"`
	Offers    Offers    `yaml:"offers"`
	Urgent    Urgent    `yaml:"urgent"`

	// Dir is the directory of the configuration file; relative paths in the
	// file are resolved against it.
	Dir string `yaml:"-"`

	// lines says where each setting was written, for the messages.
	lines yamlfile.Lines
}

// Store says where the engine keeps its state.
type Store struct {
	// SQLite is the database file of the embedded store.
	SQLite string `yaml:"sqlite"`
	// Postgres is a DSN; when set, PostgreSQL is used instead of SQLite.
	// Usually given as RICHIAMO_POSTGRES_DSN so the password stays out of the file.
	Postgres string `yaml:"postgres"`
}

// Extract describes the CUP extract files.
type Extract struct {
	// Inbox is a glob of files `serve` picks up at each scheduled run.
	Inbox string `yaml:"inbox"`
	// Done is where processed files are moved ("" keeps them in place).
	Done        string            `yaml:"done"`
	Delimiter   string            `yaml:"delimiter"`
	Encoding    string            `yaml:"encoding"`
	DefaultNode string            `yaml:"default_node"`
	Columns     map[string]string `yaml:"columns"`
}

// Calendar adds local closing days to the national holidays; the
// operating window is the contract's (Mon–Fri 08:00–20:00, Sat 08:00–14:00).
type Calendar struct {
	// LocalHolidays: "MM-DD Name" every year (a patron saint), or
	// "YYYY-MM-DD Name" once.
	LocalHolidays []string `yaml:"local_holidays"`
}

// CUP lists the CUP nodes' databases the engine reads directly.
type CUP struct {
	Nodes []Node `yaml:"nodes"`
}

// Node is one CUP node's SQL Server database. Its password is never in the
// file: it comes from RICHIAMO_CUP_<NAME>_PASSWORD.
type Node struct {
	Name     string `yaml:"name"`
	Server   string `yaml:"server"`
	Port     int    `yaml:"port"`
	Database string `yaml:"database"`
	User     string `yaml:"user"`
	// Encrypt: "true" (default), "strict" (TDS 8), or "false" to allow an
	// unencrypted connection, which is logged at every start.
	Encrypt string `yaml:"encrypt"`
	// TrustServerCertificate skips certificate verification; logged.
	TrustServerCertificate bool   `yaml:"trust_server_certificate"`
	CAFile                 string `yaml:"ca_file"`
	ServerName             string `yaml:"server_name"`
	// ReadOnlyIntent sends ApplicationIntent=ReadOnly so that an
	// availability group routes the reads to a readable secondary.
	ReadOnlyIntent *bool    `yaml:"read_only_intent"`
	ConnectTimeout Duration `yaml:"connect_timeout"`
	QueryTimeout   Duration `yaml:"query_timeout"`
	// Query returns the extract's columns for appointments in [@from, @to).
	Query string `yaml:"query"`
	// RecallQuery returns the same columns for the recall of monitored
	// agendas: appointments in [@from, @to) of the agendas in @agende
	// (their codes, comma-separated). Empty: the node's agendas are
	// recalled from extract files only.
	RecallQuery string `yaml:"recall_query"`
	// WriteBack are the statements the node's DBA provides for changing
	// bookings in the CUP; without them a change is a work item.
	WriteBack WriteBack `yaml:"write_back"`
	// Password is filled from the environment.
	Password string `yaml:"-"`
}

// WriteBack are a node's write-back statements: parameterised T-SQL
// (typically EXEC of a stored procedure), each optional.
type WriteBack struct {
	// Cancel cancels booking @code.
	Cancel string `yaml:"cancel"`
	// Move moves booking @code from @at to @new_at, failing when the slot
	// is not free.
	Move string `yaml:"move"`
	// Book books @agenda at @at.
	Book string `yaml:"book"`
}

// NodePasswordEnv names the variable holding a node's password.
func NodePasswordEnv(name string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(name) {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return "RICHIAMO_CUP_" + b.String() + "_PASSWORD"
}

// Campaigns points at the campaign definitions.
type Campaigns struct {
	Reminder string `yaml:"reminder"`
	// RecallAgendas lists the monitored agendas; the shipped list when
	// the default file does not exist.
	RecallAgendas string `yaml:"recall_agendas"`
}

// SMS holds the gateway and the sending discipline.
type SMS struct {
	Provider string `yaml:"provider"`
	// RatePerSecond is the most messages a second handed to the gateway.
	RatePerSecond float64 `yaml:"rate_per_second"`
	// Concurrency is how many sends may be waiting on the gateway at once.
	Concurrency int `yaml:"concurrency"`
	// MaxAttempts bounds transient-failure retries of one message.
	MaxAttempts int `yaml:"max_attempts"`
	// RetryBase is the first backoff after a transient failure; it doubles.
	RetryBase Duration `yaml:"retry_base"`
	// ReconcileAfter is how long a send with an unknown outcome waits before
	// the provider is asked whether it has it.
	ReconcileAfter Duration `yaml:"reconcile_after"`
	// Lease is how long a sender owns a claimed message.
	Lease  Duration `yaml:"lease"`
	Twilio Twilio   `yaml:"twilio"`
}

// Twilio are the Twilio account settings.
type Twilio struct {
	AccountSID          string   `yaml:"account_sid"`
	AuthToken           string   `yaml:"auth_token"`
	MessagingServiceSID string   `yaml:"messaging_service_sid"`
	From                string   `yaml:"from"`
	StatusCallback      string   `yaml:"status_callback"`
	BaseURL             string   `yaml:"base_url"`
	Timeout             Duration `yaml:"timeout"`
}

// Web is the HTTP listener for webhooks (and later the console).
type Web struct {
	Listen string `yaml:"listen"`
	// PublicURL is the address Twilio is configured to call; signatures are
	// computed over it, not over the address a request arrives on.
	PublicURL string `yaml:"public_url"`
	// SessionTTL is the longest a console sign-in lasts; IdleTimeout ends it
	// sooner without activity.
	SessionTTL  Duration `yaml:"session_ttl"`
	IdleTimeout Duration `yaml:"idle_timeout"`
	// TrustedProxies (CIDR) may tell the client's address in
	// X-Forwarded-For; the sign-in limits and the audit log use it. None
	// by default.
	TrustedProxies []string `yaml:"trusted_proxies"`
}

// Log settings.
type Log struct {
	Level  string `yaml:"level"`
	Format string `yaml:"format"`
}

// Default returns the configuration used when no file is given: an embedded
// SQLite store in the working directory and the shipped reminder campaign.
//
// A setting that belongs to a package's Config (the voice timeouts and
// ports, the dialer's channels and pace, a CUP node's port and timeouts,
// the SMS sender's pace and retries, the Twilio timeout, the console's
// sessions) is left at zero here, which
// the package reads as its own default: each has one, in one place.
func Default() Config {
	return Config{
		Store:     Store{SQLite: "richiamo.db"},
		Campaigns: Campaigns{Reminder: "campaigns/reminder.yaml", RecallAgendas: "campaigns/recall-agende.yaml"},
		// The sender's other defaults are the remind package's; a
		// reconcile_after of 0 means at once, so its default is here.
		SMS: SMS{Provider: "twilio", ReconcileAfter: Duration(30 * time.Second)},
		// No proxy is trusted unless named: a local one is not assumed,
		// since anything else on the host could then forge addresses.
		Web:   Web{Listen: "127.0.0.1:8080"},
		Log:   Log{Level: "info", Format: "text"},
		Voice: defaultVoice(),
		SLA:   SLA{Profile: "piano-2021", Reports: SLAReports{Weekly: true, Monthly: true, At: "06:00"}},
		Dir:   ".",
	}
}

// Environment variables that override the file; secrets belong here.
const (
	EnvPostgresDSN      = "RICHIAMO_POSTGRES_DSN"
	EnvTwilioAccountSID = "RICHIAMO_TWILIO_ACCOUNT_SID"
	EnvTwilioAuthToken  = "RICHIAMO_TWILIO_AUTH_TOKEN"
)

// Load reads a configuration file over the defaults, applies environment
// overrides and validates. An unknown key or a bad value is an error that
// names it.
func Load(path string, getenv func(string) string) (Config, error) {
	c := Default()
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return Config{}, fmt.Errorf("config: %w", err)
		}
		if err := secretsInFile(data); err != nil {
			return Config{}, fmt.Errorf("config %s: %w", path, err)
		}
		lines, err := yamlfile.DecodeLines(data, &c)
		if err != nil {
			return Config{}, fmt.Errorf("config %s: %w", path, err)
		}
		c.lines = lines
		c.Dir = filepath.Dir(path)
	}
	c.applyEnv(getenv)
	if err := c.Validate(); err != nil {
		if path != "" {
			return Config{}, fmt.Errorf("config %s: %w", path, err)
		}
		return Config{}, fmt.Errorf("config: %w", err)
	}
	return c, nil
}

// Lines says where each setting was written in the file Load read; empty
// for a configuration built in code.
func (c Config) Lines() yamlfile.Lines { return c.lines }

func (c *Config) applyEnv(getenv func(string) string) {
	if getenv == nil {
		return
	}
	if v := getenv(EnvPostgresDSN); v != "" {
		c.Store.Postgres = v
	}
	if v := getenv(EnvTwilioAccountSID); v != "" {
		c.SMS.Twilio.AccountSID = v
	}
	if v := getenv(EnvTwilioAuthToken); v != "" {
		c.SMS.Twilio.AuthToken = v
	}
	c.Voice.Trunk.Password = getenv(EnvSIPPassword)
	c.Survey.Seed = getenv(EnvSurveySeed)
	c.CallLog.Secret = getenv(EnvCallLogSecret)
	for i := range c.CUP.Nodes {
		n := &c.CUP.Nodes[i]
		n.Password = getenv(NodePasswordEnv(n.Name))
	}
}

// Path resolves a path from the file against the file's directory.
func (c Config) Path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.Dir, p)
}

// Validate checks every value that can be checked without the network. The
// error names the key, and the line when the configuration came from a
// file. A package's setting left out of the file is not checked here: it is
// the package's default.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, a ...any) {
		errs = append(errs, c.lines.At(key, format, a...))
	}
	// set says whether a package's setting was given: written in the file
	// (a 0 written is a choice, and checked) or not zero.
	set := func(key string, zero bool) bool { return !zero || c.lines.Written(key) }
	if c.Store.SQLite == "" && c.Store.Postgres == "" {
		bad("store.sqlite", "set a database file, or store.postgres")
	}
	if c.Store.Postgres != "" {
		if _, err := url.Parse(c.Store.Postgres); err != nil || !(strings.HasPrefix(c.Store.Postgres, "postgres://") || strings.HasPrefix(c.Store.Postgres, "postgresql://") || strings.Contains(c.Store.Postgres, "=")) {
			bad("store.postgres", "not a PostgreSQL DSN (postgres://user@host/db or key=value form)")
		}
	}
	switch c.Extract.Delimiter {
	case "", ";", ",", "tab", "|":
	default:
		bad("extract.delimiter", "%q is not one of \";\", \",\", \"|\", \"tab\" (empty: detect)", c.Extract.Delimiter)
	}
	switch strings.ToLower(c.Extract.Encoding) {
	case "", "utf-8", "windows-1252":
	default:
		bad("extract.encoding", "%q is not utf-8 or windows-1252 (empty: detect per line)", c.Extract.Encoding)
	}
	for i, h := range c.Calendar.LocalHolidays {
		if _, err := ParseLocalHoliday(h); err != nil {
			bad(fmt.Sprintf("calendar.local_holidays[%d]", i), "%v", err)
		}
	}
	names := map[string]bool{}
	for i, n := range c.CUP.Nodes {
		key := fmt.Sprintf("cup.nodes[%d]", i)
		if n.Name != "" {
			key = fmt.Sprintf("cup.nodes[%s]", n.Name)
		}
		switch {
		case n.Name == "":
			bad(key+".name", "required")
		case names[n.Name]:
			bad(key+".name", "%q appears twice", n.Name)
		}
		names[n.Name] = true
		if n.Server == "" {
			bad(key+".server", "required")
		}
		if n.Database == "" {
			bad(key+".database", "required")
		}
		if n.User == "" {
			bad(key+".user", "required (a read-only login)")
		}
		if set(key+".port", n.Port == 0) && (n.Port < 1 || n.Port > 65535) {
			bad(key+".port", "%d is not a TCP port", n.Port)
		}
		switch n.Encrypt {
		case "", "true", "strict", "false":
		default:
			bad(key+".encrypt", "%q is not true, strict or false", n.Encrypt)
		}
		if set(key+".connect_timeout", n.ConnectTimeout == 0) && n.ConnectTimeout.D() <= 0 {
			bad(key+".connect_timeout", "%s must be positive", n.ConnectTimeout.D())
		}
		if set(key+".query_timeout", n.QueryTimeout == 0) && n.QueryTimeout.D() <= 0 {
			bad(key+".query_timeout", "%s must be positive", n.QueryTimeout.D())
		}
		q := strings.ToLower(n.Query)
		if !strings.Contains(q, "@from") || !strings.Contains(q, "@to") {
			bad(key+".query", "must select the appointments in [@from, @to)")
		}
	}
	if c.Campaigns.Reminder == "" {
		bad("campaigns.reminder", "the reminder campaign file is required")
	}
	if c.SMS.Provider != "twilio" {
		bad("sms.provider", "%q is not a supported provider (twilio)", c.SMS.Provider)
	}
	if set("sms.rate_per_second", c.SMS.RatePerSecond == 0) && (c.SMS.RatePerSecond <= 0 || c.SMS.RatePerSecond > 10000) {
		bad("sms.rate_per_second", "%v must be above 0 and at most 10000", c.SMS.RatePerSecond)
	}
	if set("sms.concurrency", c.SMS.Concurrency == 0) && (c.SMS.Concurrency < 1 || c.SMS.Concurrency > 256) {
		bad("sms.concurrency", "%d must be between 1 and 256", c.SMS.Concurrency)
	}
	if set("sms.max_attempts", c.SMS.MaxAttempts == 0) && (c.SMS.MaxAttempts < 1 || c.SMS.MaxAttempts > 50) {
		bad("sms.max_attempts", "%d must be between 1 and 50", c.SMS.MaxAttempts)
	}
	if set("sms.retry_base", c.SMS.RetryBase == 0) && c.SMS.RetryBase.D() <= 0 {
		bad("sms.retry_base", "must be positive")
	}
	if c.SMS.ReconcileAfter.D() < 0 {
		bad("sms.reconcile_after", "must not be negative")
	}
	if set("sms.lease", c.SMS.Lease == 0) && c.SMS.Lease.D() < 5*time.Second {
		bad("sms.lease", "%s is too short (at least 5s)", c.SMS.Lease.D())
	}
	if set("sms.twilio.timeout", c.SMS.Twilio.Timeout == 0) && c.SMS.Twilio.Timeout.D() <= 0 {
		bad("sms.twilio.timeout", "must be positive")
	}
	if u := c.SMS.Twilio.BaseURL; u != "" {
		if p, err := url.Parse(u); err != nil || p.Scheme == "" || p.Host == "" {
			bad("sms.twilio.base_url", "%q is not an absolute URL", u)
		}
	}
	if c.Web.Listen != "" {
		if _, _, err := net.SplitHostPort(c.Web.Listen); err != nil {
			bad("web.listen", "%q is not host:port", c.Web.Listen)
		}
	}
	if u := c.Web.PublicURL; u != "" {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
			bad("web.public_url", "%q is not an absolute http(s) URL", u)
		}
	}
	// That idle_timeout is no longer than session_ttl is the console's
	// check, which knows its defaults for the one left out.
	if set("web.session_ttl", c.Web.SessionTTL == 0) && c.Web.SessionTTL.D() < time.Minute {
		bad("web.session_ttl", "%s must be at least 1m", c.Web.SessionTTL.D())
	}
	if set("web.idle_timeout", c.Web.IdleTimeout == 0) && c.Web.IdleTimeout.D() < time.Minute {
		bad("web.idle_timeout", "%s must be at least 1m", c.Web.IdleTimeout.D())
	}
	for i, p := range c.Web.TrustedProxies {
		if _, _, err := net.ParseCIDR(p); err != nil {
			bad(fmt.Sprintf("web.trusted_proxies[%d]", i), "%q is not a CIDR such as 10.0.0.0/8", p)
		}
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "%q is not debug, info, warn or error", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		bad("log.format", "%q is not text or json", c.Log.Format)
	}
	c.Voice.validate(bad, set)
	c.SLA.validate(bad)
	c.Survey.validate(bad, set)
	c.CallLog.validate(bad)
	c.Offers.validate(bad, set)
	c.Urgent.validate(bad, set)
	return errors.Join(errs...)
}

// TwilioReady reports what is missing before real messages can be sent, so
// that commands that only plan can run without an account.
func (c Config) TwilioReady() error {
	t := c.SMS.Twilio
	var errs []error
	if t.AccountSID == "" {
		errs = append(errs, fmt.Errorf("sms.twilio.account_sid: not set (or %s)", EnvTwilioAccountSID))
	}
	if t.AuthToken == "" {
		errs = append(errs, fmt.Errorf("sms.twilio.auth_token: not set; put it in %s, not in the file", EnvTwilioAuthToken))
	}
	if t.MessagingServiceSID == "" && t.From == "" {
		errs = append(errs, errors.New("sms.twilio.messaging_service_sid: set it or sms.twilio.from"))
	}
	return errors.Join(errs...)
}

// LocalHoliday is a parsed calendar.local_holidays entry.
type LocalHoliday struct {
	Date string // "MM-DD" or "YYYY-MM-DD"
	Name string
}

// ParseLocalHoliday reads "01-29 San Costanzo" or "2026-06-24 San Giovanni".
func ParseLocalHoliday(s string) (LocalHoliday, error) {
	date, name, _ := strings.Cut(strings.TrimSpace(s), " ")
	layout := "01-02"
	if len(date) == len("2006-01-02") {
		layout = "2006-01-02"
	}
	if _, err := time.Parse(layout, date); err != nil {
		return LocalHoliday{}, fmt.Errorf("%q: the date must be MM-DD (every year) or YYYY-MM-DD (once), then the name", s)
	}
	return LocalHoliday{Date: date, Name: strings.TrimSpace(name)}, nil
}

// EnvSIPPassword holds the trunk's digest password, which never lives in
// the file.
const EnvSIPPassword = "RICHIAMO_SIP_PASSWORD"

// Voice is the telephony of outbound calls: the local SIP socket, the trunk
// the calls go through, the RTP ports and the limits of one call.
type Voice struct {
	// Bind is the local address of the SIP socket, host:port. Port 0 picks
	// a free port, which suits one-off test calls.
	Bind string `yaml:"bind"`
	// Advertise is the IP address written into Contact, Via and the SDP
	// when Bind's host is a wildcard or the engine is behind NAT; empty: the
	// address Bind names, or the one that routes to the trunk.
	Advertise string `yaml:"advertise"`
	Trunk     Trunk  `yaml:"trunk"`
	// RTPPortMin and RTPPortMax bound the UDP ports of the calls' audio; a
	// call takes an even port and leaves the odd one above it to RTCP.
	RTPPortMin int `yaml:"rtp_port_min"`
	RTPPortMax int `yaml:"rtp_port_max"`
	// RingTimeout is how long a call may go unanswered before it is
	// cancelled and recorded as not answered.
	RingTimeout Duration `yaml:"ring_timeout"`
	// MaxDuration hangs up an answered call that runs longer.
	MaxDuration Duration `yaml:"max_duration"`
	// NoRTPTimeout hangs up an answered call when no audio has arrived for
	// this long (a line that died without a BYE); 0 never does.
	NoRTPTimeout Duration `yaml:"no_rtp_timeout"`
	// Channels is the most calls in progress at once (the trunk's lines).
	Channels int `yaml:"channels"`
	// CallsPerSecond is the most new calls a second offered to the trunk.
	CallsPerSecond float64 `yaml:"calls_per_second"`
	// ProbeInterval is how often serve sends a SIP OPTIONS to its own user
	// agent and to the trunk for the continuity level (1s to 1m: a minute
	// without a probe counts as down).
	ProbeInterval Duration `yaml:"probe_interval"`
	// Operators maps a console account to its SIP extension, a sip: URI
	// or an extension of the trunk's domain: "Chiama" on a worklist item
	// rings it, then the patient, and joins the two. An account without
	// one calls from its own phone (the number is a tel: link).
	Operators map[string]string `yaml:"operators"`
	// Recordings is a directory of recorded segments (NAME.wav, 8 kHz
	// mono) laid over the built-in ones: a recording replaces the segment
	// of its name, and adds the segments that name facilities
	// (recall agendas' facilities). Empty: the built-in segments only.
	Recordings string `yaml:"recordings"`
}

// Trunk is the contact centre's SIP trunk. Without a proxy, calls go
// straight to the SIP URI they are given and numbers cannot be called.
type Trunk struct {
	// Proxy is the trunk's outbound proxy, a SIP URI such as
	// sip:sbc.operatore.it:5060; every call is sent there.
	Proxy string `yaml:"proxy"`
	// Domain is the host of the request URI of a number; empty: the
	// proxy's host and port.
	Domain string `yaml:"domain"`
	// Transport is udp, tcp or tls.
	Transport string `yaml:"transport"`
	// CallerID is the number the patient sees, in the From header.
	CallerID string `yaml:"caller_id"`
	// PAssertedIdentity, when set, is sent as the P-Asserted-Identity a
	// trusted trunk presents instead of From: a number, or a sip:/tel: URI.
	PAssertedIdentity string `yaml:"p_asserted_identity"`
	// Username is the digest authentication user the trunk challenges for.
	Username string `yaml:"username"`
	// Password is filled from RICHIAMO_SIP_PASSWORD.
	Password string `yaml:"-"`
	// Registrar, when set, is the SIP URI the engine registers with
	// (sip:registrar.operatore.it:5060) at start, refreshes before the
	// registration lapses and unregisters from at shutdown, authenticating
	// as Username.
	Registrar string `yaml:"registrar"`
	// RegisterExpires is the registration time asked for (default 10m);
	// the registrar's own figure is the one followed.
	RegisterExpires Duration `yaml:"register_expires"`
	// TLSCAFile is a PEM file of the certificates that may sign the
	// trunk's (transport tls); empty: the system's roots.
	TLSCAFile string `yaml:"tls_ca_file"`
	// TLSServerName is the name the trunk's certificate must carry;
	// empty: the host of the proxy (or of the URI called).
	TLSServerName string `yaml:"tls_server_name"`
	// TLSCertFile and TLSKeyFile are this side's certificate and key (PEM),
	// for a trunk that wants a client certificate.
	TLSCertFile string `yaml:"tls_cert_file"`
	TLSKeyFile  string `yaml:"tls_key_file"`
}

// defaultVoice holds the voice settings no package has a default for: the
// others (bind, transport, registration, RTP ports, ring and call limits,
// channels and pace) are left to the voice and dialer packages.
func defaultVoice() Voice {
	return Voice{
		// A Caller's zero NoRTPTimeout never hangs up a silent line; the
		// file's default does, after 30s.
		NoRTPTimeout:  Duration(30 * time.Second),
		ProbeInterval: Duration(time.Minute),
	}
}

// validate reports every bad voice setting through bad, naming the key; a
// setting the packages default is checked only when set.
func (v Voice) validate(bad func(key, format string, a ...any), set func(key string, zero bool) bool) {
	if set("voice.bind", v.Bind == "") {
		if host, port, err := net.SplitHostPort(v.Bind); err != nil {
			bad("voice.bind", "%q is not host:port", v.Bind)
		} else if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
			bad("voice.bind", "%q does not end in a UDP/TCP port", v.Bind)
		} else if host != "" && net.ParseIP(host) == nil {
			bad("voice.bind", "%q: the host must be an IP address of this machine", v.Bind)
		}
	}
	if v.Advertise != "" {
		if ip := net.ParseIP(v.Advertise); ip == nil || ip.IsUnspecified() {
			bad("voice.advertise", "%q is not an IP address others can reach", v.Advertise)
		}
	}
	t := v.Trunk
	if t.Proxy != "" {
		if u, err := url.Parse(t.Proxy); err != nil || (u.Scheme != "sip" && u.Scheme != "sips") || u.Opaque == "" || strings.Contains(u.Opaque, "@") {
			bad("voice.trunk.proxy", "%q is not a SIP URI of a host (sip:sbc.example.it:5060)", t.Proxy)
		}
	}
	if t.Domain != "" && (strings.ContainsAny(t.Domain, "@:/; ") || t.Proxy == "") {
		bad("voice.trunk.domain", "%q must be a host name, used with voice.trunk.proxy", t.Domain)
	}
	switch t.Transport {
	case "", "udp", "tcp", "tls":
	default:
		bad("voice.trunk.transport", "%q is not udp, tcp or tls", t.Transport)
	}
	if t.CallerID != "" && !isDialString(t.CallerID) {
		bad("voice.trunk.caller_id", "%q is not a number (digits, optionally after +)", t.CallerID)
	}
	if p := t.PAssertedIdentity; p != "" && !isDialString(p) &&
		!strings.HasPrefix(p, "sip:") && !strings.HasPrefix(p, "sips:") && !strings.HasPrefix(p, "tel:") {
		bad("voice.trunk.p_asserted_identity", "%q is neither a number nor a sip:, sips: or tel: URI", p)
	}
	if t.Password != "" && t.Username == "" {
		bad("voice.trunk.username", "required when %s is set", EnvSIPPassword)
	}
	if t.Registrar != "" {
		if u, err := url.Parse(t.Registrar); err != nil || (u.Scheme != "sip" && u.Scheme != "sips") || u.Opaque == "" || strings.Contains(u.Opaque, "@") {
			bad("voice.trunk.registrar", "%q is not a SIP URI of a host (sip:registrar.example.it:5060)", t.Registrar)
		}
	}
	if d := t.RegisterExpires.D(); set("voice.trunk.register_expires", d == 0) && (d < time.Minute || d > 24*time.Hour) {
		bad("voice.trunk.register_expires", "%s must be between 1m and 24h", d)
	}
	if t.Transport != "tls" {
		transport := t.Transport
		if transport == "" {
			transport = "udp"
		}
		for _, kv := range [][2]string{{"tls_ca_file", t.TLSCAFile}, {"tls_server_name", t.TLSServerName}, {"tls_cert_file", t.TLSCertFile}, {"tls_key_file", t.TLSKeyFile}} {
			if kv[1] != "" {
				bad("voice.trunk."+kv[0], "set, but voice.trunk.transport is %q, not tls", transport)
			}
		}
	}
	if (t.TLSCertFile == "") != (t.TLSKeyFile == "") {
		bad("voice.trunk.tls_key_file", "tls_cert_file and tls_key_file go together")
	}
	if n := t.TLSServerName; n != "" && strings.ContainsAny(n, "@:/; ") {
		bad("voice.trunk.tls_server_name", "%q is not a host name", n)
	}
	// The range as a whole, against voice.channels, is the engine's check:
	// it knows the voice and dialer packages' defaults for what is left out.
	if set("voice.rtp_port_min", v.RTPPortMin == 0) && (v.RTPPortMin < 1024 || v.RTPPortMin > 65534) {
		bad("voice.rtp_port_min", "%d must be between 1024 and 65534", v.RTPPortMin)
	}
	if set("voice.rtp_port_max", v.RTPPortMax == 0) && (v.RTPPortMax < 1025 || v.RTPPortMax > 65535) {
		bad("voice.rtp_port_max", "%d must be between 1025 and 65535", v.RTPPortMax)
	}
	if d := v.RingTimeout.D(); set("voice.ring_timeout", d == 0) && (d < time.Second || d > 10*time.Minute) {
		bad("voice.ring_timeout", "%s must be between 1s and 10m", d)
	}
	if d := v.MaxDuration.D(); set("voice.max_duration", d == 0) && (d < time.Second || d > 24*time.Hour) {
		bad("voice.max_duration", "%s must be between 1s and 24h", d)
	}
	if d := v.NoRTPTimeout.D(); d < 0 || (d > 0 && d < time.Second) {
		bad("voice.no_rtp_timeout", "%s must be 0 (never) or at least 1s", d)
	}
	if set("voice.channels", v.Channels == 0) && (v.Channels < 1 || v.Channels > 10000) {
		bad("voice.channels", "%d must be between 1 and 10000", v.Channels)
	}
	if set("voice.calls_per_second", v.CallsPerSecond == 0) && (v.CallsPerSecond <= 0 || v.CallsPerSecond > 1000) {
		bad("voice.calls_per_second", "%v must be above 0 and at most 1000", v.CallsPerSecond)
	}
	if d := v.ProbeInterval.D(); d < time.Second || d > time.Minute {
		bad("voice.probe_interval", "%s must be between 1s and 1m: the continuity level counts a minute without a probe as down", d)
	}
	for _, account := range slices.Sorted(maps.Keys(v.Operators)) {
		key := "voice.operators[" + strconv.Quote(account) + "]"
		ext := strings.TrimSpace(v.Operators[account])
		switch {
		case strings.TrimSpace(account) == "":
			bad(key, "the account name is empty")
		case ext == "":
			bad(key, "no extension given (an extension such as 201, or sip:201@pbx.example.it)")
		case strings.HasPrefix(ext, "sip:") || strings.HasPrefix(ext, "sips:"):
			u, err := url.Parse(ext)
			user, host, _ := strings.Cut(u.Opaque, "@")
			if err != nil || user == "" || host == "" || strings.ContainsAny(host, "@/ ") {
				bad(key, "%q is not a SIP URI of an extension (sip:201@pbx.example.it)", ext)
			}
		case !isExtension(ext):
			bad(key, "%q is neither an extension (digits) nor a sip: URI", ext)
		case v.Trunk.Proxy == "":
			bad(key, "extension %q needs voice.trunk.proxy, or write it as sip:%s@host", ext, ext)
		}
	}
}

// isExtension accepts a PBX extension: 2 to 20 digits.
func isExtension(s string) bool {
	if len(s) < 2 || len(s) > 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isDialString accepts what a trunk takes as a number: digits, optionally
// after a +, 3 to 20 of them.
func isDialString(s string) bool {
	d := strings.TrimPrefix(s, "+")
	if len(d) < 3 || len(d) > 20 {
		return false
	}
	for i := 0; i < len(d); i++ {
		if d[i] < '0' || d[i] > '9' {
			return false
		}
	}
	return true
}
