package engine

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/richiamo/richiamo/campaigns/prompts"
	"github.com/richiamo/richiamo/internal/config"
	"github.com/richiamo/richiamo/internal/cup/mssql"
	"github.com/richiamo/richiamo/internal/dialer"
	"github.com/richiamo/richiamo/internal/remind"
	"github.com/richiamo/richiamo/internal/sla"
	"github.com/richiamo/richiamo/internal/slareport"
	"github.com/richiamo/richiamo/internal/sms"
	"github.com/richiamo/richiamo/internal/urgent"
	"github.com/richiamo/richiamo/internal/voice"
	"github.com/richiamo/richiamo/internal/voice/say"
	"github.com/richiamo/richiamo/internal/web"
	"github.com/richiamo/richiamo/internal/yamlfile"
)

// loadFile writes yaml as a configuration file and loads it as serve does.
func loadFile(t *testing.T, yaml string, env map[string]string) (config.Config, error) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "richiamo.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return LoadConfig(p, func(k string) string { return env[k] })
}

func TestSettingsAcrossPackagesNameTheKeyAndTheLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"RTP range upside down", "voice:\n  rtp_port_min: 20000\n  rtp_port_max: 10000\n",
			"line 3: voice.rtp_port_max: 10000 must be above voice.rtp_port_min (20000)"},
		{"RTP range smaller than the channels", "voice:\n  rtp_port_min: 10000\n  rtp_port_max: 10019\n  channels: 60\n",
			"line 3: voice.rtp_port_max: the RTP ports 10000–10019 hold 10 calls, fewer than voice.channels (60)"},
		{"RTP range smaller than the default channels", "voice:\n  rtp_port_min: 19990\n",
			"voice.rtp_port_max: the RTP ports 19990–20000 hold 5 calls, fewer than voice.channels (60)"},
		{"more channels than the default RTP range holds", "voice:\n  channels: 6000\n",
			"line 2: voice.channels: the RTP ports 10000–20000 hold 5000 calls, fewer than voice.channels (6000)"},
		{"RTP minimum above the default maximum", "voice:\n  rtp_port_min: 30000\n",
			"voice.rtp_port_max: 20000 must be above voice.rtp_port_min (30000)"},
		{"idle timeout longer than the default sign-in", "web:\n  idle_timeout: 24h\n",
			"line 2: web.idle_timeout: 24h0m0s is longer than web.session_ttl (12h0m0s)"},
		{"idle timeout longer than the sign-in", "web:\n  session_ttl: 30m\n  idle_timeout: 1h\n",
			"line 3: web.idle_timeout: 1h0m0s is longer than web.session_ttl (30m0s)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := loadFile(t, tc.yaml, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestGoodSettingsAcrossPackagesLoad(t *testing.T) {
	t.Parallel()
	for _, yaml := range []string{
		"",
		"voice:\n  rtp_port_min: 30000\n  rtp_port_max: 30999\n  channels: 500\n",
		"web:\n  session_ttl: 30m\n  idle_timeout: 30m\n",
	} {
		if _, err := loadFile(t, yaml, nil); err != nil {
			t.Errorf("%q: %v", yaml, err)
		}
	}
}

func TestVoiceConfigLeavesWhatIsUnsetToTheVoicePackage(t *testing.T) {
	t.Parallel()
	cfg, err := loadFile(t, `voice:
  bind: 10.1.2.3:5070
  trunk:
    proxy: sips:sbc.example.it:5061
    transport: tls
    username: cup
    tls_ca_file: trunk-ca.pem
  ring_timeout: 25s
`, map[string]string{config.EnvSIPPassword: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	v := VoiceConfig(cfg)
	if v.Bind != "10.1.2.3:5070" || v.Proxy != "sips:sbc.example.it:5061" || v.Transport != "tls" || v.Username != "cup" ||
		v.Password != "s3cret" || v.RingTimeout != 25*time.Second {
		t.Fatalf("mapped %+v", v)
	}
	if v.TLSCAFile != filepath.Join(cfg.Dir, "trunk-ca.pem") {
		t.Errorf("the CA file is not resolved against the file's directory: %s", v.TLSCAFile)
	}
	if v.MaxDuration != 0 || v.RTPPortMin != 0 || v.RegisterExpires != 0 {
		t.Errorf("settings left out must reach voice as zero, its defaults: %+v", v)
	}
	if v.NoRTPTimeout != 30*time.Second {
		t.Errorf("the file's no_rtp_timeout default is lost: %s", v.NoRTPTimeout)
	}
}

func TestCUPNodeReadsFromASecondaryUnlessTold(t *testing.T) {
	t.Parallel()
	cfg, err := loadFile(t, `cup:
  nodes:
    - name: ASL1
      server: db1
      database: CUP
      user: ro
      ca_file: cup-ca.pem
      query: select 1 where a >= @from and a < @to
    - name: AO
      server: db2
      database: CUP
      user: ro
      read_only_intent: false
      port: 1533
      query_timeout: 5m
      query: select 1 where a >= @from and a < @to
`, map[string]string{"RICHIAMO_CUP_ASL1_PASSWORD": "p1"})
	if err != nil {
		t.Fatal(err)
	}
	a, b := CUPNode(cfg, cfg.CUP.Nodes[0]), CUPNode(cfg, cfg.CUP.Nodes[1])
	if !a.ReadOnlyIntent || a.Password != "p1" || a.Port != 0 || a.QueryTimeout != 0 || a.CAFile != filepath.Join(cfg.Dir, "cup-ca.pem") {
		t.Errorf("ASL1: %+v", a)
	}
	if b.ReadOnlyIntent || b.Port != 1533 || b.QueryTimeout != 5*time.Minute {
		t.Errorf("AO: %+v", b)
	}
	if err := a.Validate(); err != nil {
		t.Errorf("a node with the defaults does not validate: %v", err)
	}
}

// TestTheExampleFileStatesTheDefaults reads richiamo.example.yaml, which
// writes every setting out with its default, and compares each with the
// default of the one place that owns it.
func TestTheExampleFileStatesTheDefaults(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("..", "..", "richiamo.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var ex config.Config
	if err := yamlfile.Decode(data, &ex); err != nil {
		t.Fatal(err)
	}
	// The CUP node is an example in comments: read it uncommented.
	var node config.Node
	if err := yamlfile.Decode([]byte(commentedNode(t, string(data))), &node); err != nil {
		t.Fatalf("the commented CUP node: %v", err)
	}
	def := config.Default()
	for _, c := range []struct {
		key         string
		file, owner any
	}{
		{"voice.bind", ex.Voice.Bind, voice.DefaultBind},
		{"voice.trunk.transport", ex.Voice.Trunk.Transport, voice.DefaultTransport},
		{"voice.trunk.register_expires", ex.Voice.Trunk.RegisterExpires.D(), voice.DefaultRegisterExpires},
		{"voice.rtp_port_min", ex.Voice.RTPPortMin, voice.DefaultRTPPortMin},
		{"voice.rtp_port_max", ex.Voice.RTPPortMax, voice.DefaultRTPPortMax},
		{"voice.ring_timeout", ex.Voice.RingTimeout.D(), voice.DefaultRingTimeout},
		{"voice.max_duration", ex.Voice.MaxDuration.D(), voice.DefaultMaxDuration},
		{"voice.no_rtp_timeout", ex.Voice.NoRTPTimeout, def.Voice.NoRTPTimeout},
		{"voice.channels", ex.Voice.Channels, dialer.DefaultChannels},
		{"voice.calls_per_second", ex.Voice.CallsPerSecond, float64(dialer.DefaultCallsPerSecond)},
		{"voice.probe_interval", ex.Voice.ProbeInterval, def.Voice.ProbeInterval},
		{"urgent.recent", ex.Urgent.Recent.D(), urgent.DefaultSettings.Recent},
		{"urgent.history", ex.Urgent.History.D(), urgent.DefaultSettings.History},
		{"cup.nodes[].port", node.Port, mssql.DefaultPort},
		{"cup.nodes[].encrypt", node.Encrypt, mssql.DefaultEncrypt},
		{"cup.nodes[].read_only_intent", node.ReadOnlyIntent != nil && *node.ReadOnlyIntent, mssql.DefaultReadOnlyIntent},
		{"cup.nodes[].connect_timeout", node.ConnectTimeout.D(), mssql.DefaultConnectTimeout},
		{"cup.nodes[].query_timeout", node.QueryTimeout.D(), mssql.DefaultQueryTimeout},
		{"sms.provider", ex.SMS.Provider, def.SMS.Provider},
		{"sms.rate_per_second", ex.SMS.RatePerSecond, float64(remind.DefaultRate)},
		{"sms.concurrency", ex.SMS.Concurrency, remind.DefaultConcurrency},
		{"sms.max_attempts", ex.SMS.MaxAttempts, remind.DefaultMaxAttempts},
		{"sms.retry_base", ex.SMS.RetryBase.D(), remind.DefaultRetryBase},
		{"sms.reconcile_after", ex.SMS.ReconcileAfter, def.SMS.ReconcileAfter},
		{"sms.lease", ex.SMS.Lease.D(), remind.DefaultLease},
		{"sms.twilio.timeout", ex.SMS.Twilio.Timeout.D(), sms.DefaultTimeout},
		{"web.listen", ex.Web.Listen, def.Web.Listen},
		{"web.session_ttl", ex.Web.SessionTTL.D(), web.DefaultSessionTTL},
		{"web.idle_timeout", ex.Web.IdleTimeout.D(), web.DefaultIdleTimeout},
		{"web.trusted_proxies", strings.Join(ex.Web.TrustedProxies, " "), strings.Join(def.Web.TrustedProxies, " ")},
		{"log.level", ex.Log.Level, def.Log.Level},
		{"log.format", ex.Log.Format, def.Log.Format},
		{"campaigns.reminder", ex.Campaigns.Reminder, def.Campaigns.Reminder},
		{"sla.profile", ex.SLA.Profile, def.SLA.Profile},
		{"sla.reply_target", ex.SLA.ReplyTarget, sla.Profiles[def.SLA.Profile].ReplyTarget},
		{"sla.penalty_cap_pct", ex.SLA.PenaltyCapPct, float64(slareport.DefaultPenaltyCapPct)},
		{"sla.reports.at", ex.SLA.Reports.At, def.SLA.Reports.At},
		{"sla.reports.weekly", ex.SLA.Reports.Weekly, def.SLA.Reports.Weekly},
		{"sla.reports.monthly", ex.SLA.Reports.Monthly, def.SLA.Reports.Monthly},
	} {
		if c.file != c.owner {
			t.Errorf("richiamo.example.yaml says %s: %v, its default is %v", c.key, c.file, c.owner)
		}
	}
}

// commentedNode returns the example CUP node of the file, uncommented.
func commentedNode(t *testing.T, file string) string {
	t.Helper()
	start := strings.Index(file, "  # - name: ")
	if start < 0 {
		t.Fatal("richiamo.example.yaml has no commented CUP node")
	}
	var b strings.Builder
	for i, line := range strings.Split(file[start:], "\n") {
		if strings.TrimSpace(line) == "" {
			break
		}
		line = strings.Replace(line, "# ", "", 1)
		if i == 0 {
			line = strings.Replace(line, "- ", "  ", 1)
		}
		b.WriteString(line[4:] + "\n")
	}
	return b.String()
}

// TestOnlyTheEngineMapsTheConfiguration keeps the domain packages on their
// own Config structs: none of them may depend on internal/config, directly
// or through another package, nor may their tests import it.
func TestOnlyTheEngineMapsTheConfiguration(t *testing.T) {
	t.Parallel()
	gobin := filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	if _, err := os.Stat(gobin); err != nil {
		if gobin, err = exec.LookPath("go"); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatal("no go command to list the imports")
			}
			t.Skip("no go command to list the imports")
		}
	}
	const module = "github.com/richiamo/richiamo/"
	cmd := exec.Command(gobin, "list", "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}{{range .TestImports}} {{.}}{{end}}{{range .XTestImports}} {{.}}{{end}}`, "./...")
	cmd.Dir = filepath.Join("..", "..")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	allowed := map[string]bool{module + "internal/config": true, module + "internal/engine": true,
		// The demo writes a configuration as an operator would and hands
		// it to the engine: it maps nothing itself.
		module + "internal/demo": true}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, " ")
		// The commands (cmd/richiamo and its packages under internal/cli)
		// read the file and hand it to the engine.
		if !strings.HasPrefix(pkg, module+"internal/") || allowed[pkg] || strings.HasPrefix(pkg, module+"internal/cli/") {
			continue
		}
		checked++
		for _, imp := range strings.Fields(imports) {
			if imp == module+"internal/config" {
				t.Errorf("%s depends on internal/config: give it its own Config, and map the file's settings onto it in internal/engine", strings.TrimPrefix(pkg, module))
			}
		}
	}
	if checked < 5 {
		t.Fatalf("go list listed %d packages under internal/: %s", checked, out)
	}
}

func TestUrgentHistoryShorterThanRecentStopsStartUp(t *testing.T) {
	t.Parallel()
	cfg, err := loadFile(t, "store:\n  sqlite: x.db\nurgent:\n  recent: 48h\n  history: 24h\n", nil)
	if err == nil {
		err = CheckSettings(cfg)
	}
	if err == nil || !strings.Contains(err.Error(), "urgent.history") || !strings.Contains(err.Error(), "line 5") {
		t.Fatalf("err %v", err)
	}
	if _, err := loadFile(t, "store:\n  sqlite: x.db\nurgent:\n  recent: -1h\n", nil); err == nil || !strings.Contains(err.Error(), "urgent.recent") {
		t.Fatalf("a negative urgent.recent: %v", err)
	}
	cfg, err = loadFile(t, "store:\n  sqlite: x.db\nurgent:\n  recent: 720h\n", nil)
	if err != nil || UrgentSettings(cfg).Recent != 720*time.Hour || UrgentSettings(cfg).History != urgent.DefaultSettings.History {
		t.Fatalf("%v %+v", err, UrgentSettings(cfg))
	}
}

// voice.recordings adds the segments that name the agendas' facilities:
// an agenda mapping a facility to a recording found there loads, one with
// no such recording stops start-up, and so does a broken recording,
// naming the key and its line. (Not parallel: the recordings are the
// process's.)
func TestRecordingsGiveTheFacilitiesTheirSegments(t *testing.T) {
	t.Cleanup(func() { _ = say.UseRecordings("") })
	dir := t.TempDir()
	wav, err := fs.ReadFile(prompts.Italian, "frase-buongiorno.wav")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "registrazioni"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "registrazioni", "struttura-castello.wav"), wav, 0o644); err != nil {
		t.Fatal(err)
	}
	agendas := func(segment string) string {
		return "agende:\n  - name: rx\n    node: ASL1\n    codes: [RX]\n    calendar: \"0 9 * * 1\"\n" +
			"    window: {from_days: 7, to_days: 14}\n    facilities:\n      \"Ospedale di Città di Castello\": " + segment + "\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "agende.yaml"), []byte(agendas("struttura-castello")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "agende-senza.yaml"), []byte(agendas("struttura-assente")), 0o644); err != nil {
		t.Fatal(err)
	}
	load := func(yaml string) (config.Config, error) {
		p := filepath.Join(dir, "richiamo.yaml")
		if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		return LoadConfig(p, func(string) string { return "" })
	}

	cfg, err := load("voice:\n  recordings: registrazioni\ncampaigns:\n  recall_agendas: agende.yaml\n")
	if err != nil {
		t.Fatal(err)
	}
	as, err := RecallAgendas(cfg)
	if err != nil || len(as) != 1 || as[0].Facilities["Ospedale di Città di Castello"] != "struttura-castello" {
		t.Fatalf("agendas %+v, %v", as, err)
	}
	cfg.Campaigns.RecallAgendas = "agende-senza.yaml"
	if _, err := RecallAgendas(cfg); err == nil || !strings.Contains(err.Error(), "struttura-assente") {
		t.Fatalf("a facility without its recording: %v", err)
	}

	if err := os.WriteFile(filepath.Join(dir, "registrazioni", "rotta.wav"), []byte("RIFF"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = load("store:\n  sqlite: x.db\nvoice:\n  recordings: registrazioni\n")
	if err == nil || !strings.Contains(err.Error(), "line 4: voice.recordings") || !strings.Contains(err.Error(), "rotta") {
		t.Fatalf("a broken recording: %v, want voice.recordings at line 4 naming the file", err)
	}
}
