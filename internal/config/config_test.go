package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/yamlfile"
)

func load(t *testing.T, yaml string, env map[string]string) (Config, error) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "richiamo.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return Load(p, func(k string) string { return env[k] })
}

func TestBadSettingsStopStartUpNamingTheKey(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, yaml, key string
	}{
		{"unknown top-level key", "stor:\n  sqlite: x.db\n", `"stor"`},
		{"unknown nested key", "sms:\n  rate_per_secnd: 5\n", `"rate_per_secnd"`},
		{"rate of zero", "sms:\n  rate_per_second: 0\n", "sms.rate_per_second"},
		{"lease of a second", "sms:\n  lease: 1s\n", "sms.lease"},
		{"no attempts", "sms:\n  max_attempts: 0\n", "sms.max_attempts"},
		{"duration that is not one", "sms:\n  retry_base: soon\n", "soon"},
		{"delimiter that is not one", "extract:\n  delimiter: \"#\"\n", "extract.delimiter"},
		{"encoding not supported", "extract:\n  encoding: latin9\n", "extract.encoding"},
		{"listen without port", "web:\n  listen: localhost\n", "web.listen"},
		{"public URL that is not absolute", "web:\n  public_url: richiamo.example.it\n", "web.public_url"},
		{"log level", "log:\n  level: loud\n", "log.level"},
		{"trusted proxy that is not a network", "web:\n  trusted_proxies: [\"proxy.local\"]\n", "web.trusted_proxies[0]"},
		{"word where a number is expected", "sms:\n  concurrency: many\n", "many"},
		{"local holiday that is not a date", "calendar:\n  local_holidays: [\"29 gennaio San Costanzo\"]\n", "calendar.local_holidays[0]"},
		{"CUP node without a server", "cup:\n  nodes:\n    - name: ASL1\n      database: CUP\n      user: ro\n      query: select 1 where a >= @from and a < @to\n", "cup.nodes[ASL1].server"},
		{"CUP node query without parameters", "cup:\n  nodes:\n    - name: AO\n      server: db\n      database: CUP\n      user: ro\n      query: select * from v\n", "cup.nodes[AO].query"},
		{"CUP node encryption misspelt", "cup:\n  nodes:\n    - name: AO\n      server: db\n      database: CUP\n      user: ro\n      encrypt: yes please\n      query: select 1 where a >= @from and a < @to\n", "cup.nodes[AO].encrypt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(t, tc.yaml, nil)
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tc.key) {
				t.Fatalf("error %q does not name %s", err, tc.key)
			}
		})
	}
}

func TestSecretsComeFromTheEnvironment(t *testing.T) {
	t.Parallel()
	c, err := load(t, "sms:\n  twilio:\n    account_sid: ACfile\n    messaging_service_sid: MGx\n", map[string]string{
		EnvTwilioAuthToken: "tok", EnvPostgresDSN: "postgres://u@db/richiamo",
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.SMS.Twilio.AuthToken != "tok" || c.Store.Postgres != "postgres://u@db/richiamo" || c.SMS.Twilio.AccountSID != "ACfile" {
		t.Fatalf("overrides not applied: %+v", c)
	}
	if err := c.TwilioReady(); err != nil {
		t.Fatalf("ready: %v", err)
	}
}

func TestMissingTwilioSettingsAreNamed(t *testing.T) {
	t.Parallel()
	err := Default().TwilioReady()
	for _, key := range []string{"sms.twilio.account_sid", "sms.twilio.auth_token", "RICHIAMO_TWILIO_AUTH_TOKEN", "sms.twilio.messaging_service_sid"} {
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("error %v does not name %s", err, key)
		}
	}
}

func TestTheAnnotatedExampleLoads(t *testing.T) {
	t.Parallel()
	c, err := Load(filepath.Join("..", "..", "richiamo.example.yaml"), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if c.SMS.RetryBase.D() != 30*time.Second {
		t.Fatalf("retry_base %s", c.SMS.RetryBase.D())
	}
	if got := c.Path("campaigns/reminder.yaml"); got != filepath.Join("..", "..", "campaigns", "reminder.yaml") {
		t.Fatalf("relative paths resolve against the file: %s", got)
	}
}

func TestEmptyFileKeepsDefaults(t *testing.T) {
	t.Parallel()
	c, err := load(t, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Store.SQLite != "richiamo.db" || c.SMS.Provider != "twilio" || c.SMS.ReconcileAfter.D() != 30*time.Second {
		t.Fatalf("defaults lost: %+v", c)
	}
}

func TestNodePasswordComesFromItsOwnVariable(t *testing.T) {
	t.Parallel()
	c, err := load(t, "cup:\n  nodes:\n    - name: asl-1\n      server: db\n      database: CUP\n      user: ro\n      query: select 1 where a >= @from and a < @to\n",
		map[string]string{"RICHIAMO_CUP_ASL_1_PASSWORD": "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	// What the file leaves out stays unset: the CUP package's defaults.
	n := c.CUP.Nodes[0]
	if n.Password != "s3cret" || n.Port != 0 || n.Encrypt != "" || n.ReadOnlyIntent != nil || n.QueryTimeout != 0 {
		t.Fatalf("node %+v", n)
	}
}

func TestBadVoiceSettingsAreNamed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, yaml, key string
		env             map[string]string
	}{
		{"bind without a port", "voice:\n  bind: 10.0.0.5\n", "voice.bind", nil},
		{"bind on a host name", "voice:\n  bind: pbx.local:5060\n", "voice.bind", nil},
		{"advertised address that is a wildcard", "voice:\n  advertise: 0.0.0.0\n", "voice.advertise", nil},
		{"proxy that is a web address", "voice:\n  trunk:\n    proxy: https://sbc.example.it\n", "voice.trunk.proxy", nil},
		{"proxy with a user part", "voice:\n  trunk:\n    proxy: sip:cup@sbc.example.it\n", "voice.trunk.proxy", nil},
		{"domain without a proxy", "voice:\n  trunk:\n    domain: example.it\n", "voice.trunk.domain", nil},
		{"transport misspelt", "voice:\n  trunk:\n    transport: sctp\n", "voice.trunk.transport", nil},
		{"caller ID with letters", "voice:\n  trunk:\n    caller_id: CUP Regione\n", "voice.trunk.caller_id", nil},
		{"P-Asserted-Identity that is a name", "voice:\n  trunk:\n    p_asserted_identity: Regione\n", "voice.trunk.p_asserted_identity", nil},
		{"password without a user", "voice:\n  trunk:\n    proxy: sip:sbc.example.it\n", "voice.trunk.username", map[string]string{EnvSIPPassword: "s3cret"}},
		{"password written in the file", "voice:\n  trunk:\n    password: s3cret\n", "voice.trunk.password", nil},
		{"RTP ports below 1024", "voice:\n  rtp_port_min: 80\n", "voice.rtp_port_min", nil},
		{"ring timeout of zero", "voice:\n  ring_timeout: 0s\n", "voice.ring_timeout", nil},
		{"ring timeout that is not a duration", "voice:\n  ring_timeout: thirty\n", "thirty", nil},
		{"maximum duration of zero", "voice:\n  max_duration: 0s\n", "voice.max_duration", nil},
		{"no-RTP timeout under a second", "voice:\n  no_rtp_timeout: 200ms\n", "voice.no_rtp_timeout", nil},
		{"no channels", "voice:\n  channels: 0\n", "voice.channels", nil},
		{"RTP port above 65535", "voice:\n  rtp_port_max: 70000\n", "voice.rtp_port_max", nil},
		{"registration of zero written out", "voice:\n  trunk:\n    register_expires: 0s\n", "voice.trunk.register_expires", nil},
		{"CUP query timeout of zero written out", "cup:\n  nodes:\n    - name: AO\n      server: db\n      database: CUP\n      user: ro\n      query_timeout: 0s\n      query: select 1 where a >= @from and a < @to\n", "cup.nodes[AO].query_timeout", nil},
		{"no calls per second", "voice:\n  calls_per_second: 0\n", "voice.calls_per_second", nil},
		{"registrar that is a host name only", "voice:\n  trunk:\n    registrar: registrar.example.it\n", "voice.trunk.registrar", nil},
		{"registrar with a user part", "voice:\n  trunk:\n    registrar: sip:cup@registrar.example.it\n", "voice.trunk.registrar", nil},
		{"registration of 10 seconds", "voice:\n  trunk:\n    register_expires: 10s\n", "voice.trunk.register_expires", nil},
		{"registration that is not a duration", "voice:\n  trunk:\n    register_expires: forever\n", "forever", nil},
		{"CA file without TLS", "voice:\n  trunk:\n    tls_ca_file: ca.pem\n", "voice.trunk.tls_ca_file", nil},
		{"certificate without its key", "voice:\n  trunk:\n    transport: tls\n    tls_cert_file: me.pem\n", "voice.trunk.tls_key_file", nil},
		{"operator extension with letters", "voice:\n  trunk:\n    proxy: sip:sbc.example.it\n  operators:\n    mario.rossi: interno201\n", `voice.operators["mario.rossi"]`, nil},
		{"operator extension without a trunk", "voice:\n  operators:\n    mario.rossi: \"201\"\n", `voice.operators["mario.rossi"]`, nil},
		{"operator SIP URI without a user", "voice:\n  operators:\n    mario.rossi: sip:pbx.example.it\n", `voice.operators["mario.rossi"]`, nil},
		{"operator without an extension", "voice:\n  operators:\n    mario.rossi: \"\"\n", `voice.operators["mario.rossi"]`, nil},
		{"server name that is a URI", "voice:\n  trunk:\n    transport: tls\n    tls_server_name: sip:sbc.example.it\n", "voice.trunk.tls_server_name", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := load(t, tc.yaml, tc.env)
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tc.key) {
				t.Fatalf("error %q does not name %s", err, tc.key)
			}
		})
	}
}

func TestOperatorsExtensions(t *testing.T) {
	t.Parallel()
	c, err := load(t, "voice:\n  trunk:\n    proxy: sip:sbc.example.it\n  operators:\n    mario.rossi: \"201\"\n    anna.bianchi: sip:202@pbx.example.it\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Voice.Operators["mario.rossi"] != "201" || c.Voice.Operators["anna.bianchi"] != "sip:202@pbx.example.it" {
		t.Fatalf("operators %v", c.Voice.Operators)
	}
	// The line of a bad entry is named.
	_, err = load(t, "voice:\n  trunk:\n    proxy: sip:sbc.example.it\n  operators:\n    mario.rossi: \"201\"\n    anna.bianchi: anna\n", nil)
	if err == nil || !strings.Contains(err.Error(), `line 6: voice.operators["anna.bianchi"]`) {
		t.Fatalf("error %v", err)
	}
}

func TestVoiceDefaultsAndTrunkPassword(t *testing.T) {
	t.Parallel()
	c, err := load(t, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	// The voice and dialer packages own these defaults; the file's own
	// are the ones no package has.
	v := c.Voice
	if v.RingTimeout != 0 || v.Channels != 0 || v.Trunk.Transport != "" || v.Trunk.Proxy != "" ||
		v.NoRTPTimeout.D() != 30*time.Second || v.ProbeInterval.D() != time.Minute {
		t.Fatalf("voice defaults: %+v", v)
	}
	c, err = load(t, `voice:
  bind: 10.1.2.3:5070
  trunk:
    proxy: sip:sbc.example.it:5060
    transport: tcp
    caller_id: "+390612345678"
    p_asserted_identity: sip:+390612345678@example.it
    username: cup
  rtp_port_min: 30000
  rtp_port_max: 30999
  ring_timeout: 25s
  no_rtp_timeout: 0s
`, map[string]string{EnvSIPPassword: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	v = c.Voice
	if v.Trunk.Password != "s3cret" || v.Trunk.Username != "cup" || v.RingTimeout.D() != 25*time.Second || v.NoRTPTimeout != 0 || v.Bind != "10.1.2.3:5070" {
		t.Fatalf("voice: %+v", v)
	}
}

func TestTrunkRegistrationAndTLS(t *testing.T) {
	t.Parallel()
	c, err := load(t, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if tr := c.Voice.Trunk; tr.Registrar != "" || tr.RegisterExpires != 0 {
		t.Fatalf("registration defaults: %+v", tr)
	}
	c, err = load(t, `voice:
  trunk:
    proxy: sips:sbc.example.it:5061
    transport: tls
    username: cup
    registrar: sips:registrar.example.it:5061
    register_expires: 1h
    tls_ca_file: trunk-ca.pem
    tls_server_name: sbc.example.it
    tls_cert_file: richiamo.pem
    tls_key_file: richiamo.key
`, map[string]string{EnvSIPPassword: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	tr := c.Voice.Trunk
	if tr.Registrar != "sips:registrar.example.it:5061" || tr.RegisterExpires.D() != time.Hour ||
		tr.TLSCAFile != "trunk-ca.pem" || tr.TLSServerName != "sbc.example.it" || tr.TLSCertFile != "richiamo.pem" || tr.TLSKeyFile != "richiamo.key" {
		t.Fatalf("trunk: %+v", tr)
	}
}

func TestSLASettings(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"sla: {profile: piano-2030}", `sla.profile: "piano-2030" is not a known contract profile`},
		{"sla: {charge: rounded}", "sla.charge: must be started or exact"},
		{"sla: {reply_target: 1.5}", "sla.reply_target: must be in (0, 1]"},
		{"sla: {service_value_eur: -1}", "sla.service_value_eur: must not be negative"},
		{"sla: {penalty_cap_pct: 120}", "sla.penalty_cap_pct: 120: must be a percentage above 0 and at most 100"},
		{"sla: {penalty_cap_pct: -10}", "sla.penalty_cap_pct: -10: must be a percentage"},
		{"sla: {reports: {at: '25:00'}}", `sla.reports.at: "25:00" is not a time of day`},
		{"sla: {reports: {weekly_until: 31/03/2027}}", `sla.reports.weekly_until: "31/03/2027" is not a date`},
	} {
		var c Config = Default()
		if err := yamlfile.Decode([]byte(tc.yaml), &c); err != nil {
			t.Fatalf("%s: %v", tc.yaml, err)
		}
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.yaml, err, tc.want)
		}
	}
	c := Default()
	if err := yamlfile.Decode([]byte("sla: {profile: capitolato-2016, service_value_eur: 120000, charge: exact, reply_exclude_sundays: true}"), &c); err != nil {
		t.Fatal(err)
	}
	p, err := c.SLA.ProfileOf()
	if err != nil || c.Validate() != nil {
		t.Fatal(err, c.Validate())
	}
	if p.Name != "capitolato-2016" || p.ServiceValueEUR != 120000 || p.Charge != "exact" || !p.ReplyExcludeSundays || p.ThresholdHours != 24 {
		t.Errorf("profile %+v", p)
	}
}

func TestBadValuesNameTheKeyAndTheLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"registration that is not a duration", "voice:\n  trunk:\n    register_expires: forever\n",
			`line 3: voice.trunk.register_expires: "forever" is not a duration`},
		{"call limit that is not a duration", "log:\n  level: info\nvoice:\n  max_duration: a while\n",
			`line 4: voice.max_duration: "a while" is not a duration`},
		{"decimal number of channels", "voice:\n  channels: 2.5\n", "line 2: voice.channels: 2.5 is not a whole number"},
		{"decimal number of SMS sends at once", "sms:\n  concurrency: 7.5\n", "line 2: sms.concurrency: 7.5 is not a whole number"},
		{"decimal CUP port", "cup:\n  nodes:\n    - name: ASL1\n      port: 1433.0\n", "line 4: cup.nodes[ASL1].port: 1433.0 is not a whole number"},
		{"word where a rate goes", "sms:\n  rate_per_second: lots\n", `line 2: sms.rate_per_second: "lots" is not a number`},
		{"transport misspelt", "voice:\n  trunk:\n    transport: sctp\n", `line 3: voice.trunk.transport: "sctp" is not udp, tcp or tls`},
		{"log level misspelt", "\nlog:\n  level: loud\n", `line 3: log.level: "loud" is not debug, info, warn or error`},
		{"calls per second of zero", "voice:\n  calls_per_second: 0\n", "line 2: voice.calls_per_second: 0 must be above 0"},
		{"CUP node without a server, at the node", "cup:\n  nodes:\n    - name: ASL1\n      database: CUP\n      user: ro\n      query: select 1 where a >= @from and a < @to\n",
			"line 3: cup.nodes[ASL1].server: required"},
		{"unknown key", "sms:\n  rate: 5\n", `line 2: sms: unknown key "rate"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := load(t, tc.yaml, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestSettingsLeftOutAreThePackagesDefaults(t *testing.T) {
	t.Parallel()
	c, err := load(t, "voice:\n  trunk:\n    proxy: sip:sbc.example.it\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	v := c.Voice
	if v.Bind != "" || v.RTPPortMin != 0 || v.RTPPortMax != 0 || v.MaxDuration != 0 || v.CallsPerSecond != 0 ||
		v.Trunk.RegisterExpires != 0 || c.SMS.Twilio.Timeout != 0 || c.Web.SessionTTL != 0 || c.Web.IdleTimeout != 0 ||
		c.SMS.RatePerSecond != 0 || c.SMS.Lease != 0 {
		t.Fatalf("a setting the file leaves out is filled here: %+v", c)
	}
	if !c.Lines().Written("voice.trunk.proxy") || c.Lines().Written("voice.channels") {
		t.Fatalf("lines %v", c.Lines())
	}
}

func TestNoProxyIsTrustedUnlessNamed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{
		{"no setting trusts no proxy, not even one on this host", "", nil},
		{"a named proxy is trusted", "web:\n  trusted_proxies: [\"10.0.0.5/32\"]\n", []string{"10.0.0.5/32"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := load(t, tc.yaml, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(c.Web.TrustedProxies, tc.want) {
				t.Fatalf("trusted proxies %q, want %q", c.Web.TrustedProxies, tc.want)
			}
		})
	}
}

func TestSecretsInTheFileStopStartUp(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, yaml string
		says       []string
	}{
		{"Twilio auth token", "sms:\n  twilio:\n    account_sid: ACx\n    auth_token: s3cr3t-token\n",
			[]string{"sms.twilio.auth_token", "line 4", EnvTwilioAuthToken}},
		{"PostgreSQL URL with a password", "store:\n  postgres: postgres://richiamo:s3cr3t-token@db/richiamo\n",
			[]string{"store.postgres", "line 2", EnvPostgresDSN}},
		{"PostgreSQL URL with a password parameter", "store:\n  postgres: postgres://richiamo@db/richiamo?sslmode=require&password=s3cr3t-token\n",
			[]string{"store.postgres", EnvPostgresDSN}},
		{"PostgreSQL key=value DSN with a password", "store:\n  postgres: host=db user=richiamo password=s3cr3t-token dbname=richiamo\n",
			[]string{"store.postgres", EnvPostgresDSN}},
		{"CUP node password", "cup:\n  nodes:\n    - name: asl-1\n      server: db\n      password: s3cr3t-token\n",
			[]string{"cup.nodes[asl-1].password", "line 5", "RICHIAMO_CUP_ASL_1_PASSWORD"}},
		{"SIP trunk password", "voice:\n  trunk:\n    username: richiamo\n    password: s3cr3t-token\n",
			[]string{"voice.trunk.password", "line 4", EnvSIPPassword}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(t, tc.yaml, nil)
			if err == nil {
				t.Fatal("a secret in the file was accepted")
			}
			for _, s := range tc.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %s", err, s)
				}
			}
			if strings.Contains(err.Error(), "s3cr3t-token") {
				t.Errorf("error %q repeats the secret", err)
			}
		})
	}
	for _, tc := range []struct{ name, yaml string }{
		{"an empty auth token, as in the example", "sms:\n  twilio:\n    auth_token: \"\"\n"},
		{"a PostgreSQL URL without a password", "store:\n  postgres: postgres://richiamo@db/richiamo?sslmode=require\n"},
		{"a key=value DSN without a password", "store:\n  postgres: host=db user=richiamo dbname=richiamo\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := load(t, tc.yaml, nil); err != nil {
				t.Fatalf("refused: %v", err)
			}
		})
	}
}
