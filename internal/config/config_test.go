package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
		{"duration that is not one", "sms:\n  retry_base: soon\n", "soon"},
		{"delimiter that is not one", "extract:\n  delimiter: \"#\"\n", "extract.delimiter"},
		{"encoding not supported", "extract:\n  encoding: latin9\n", "extract.encoding"},
		{"listen without port", "web:\n  listen: localhost\n", "web.listen"},
		{"public URL that is not absolute", "web:\n  public_url: richiamo.example.it\n", "web.public_url"},
		{"log level", "log:\n  level: loud\n", "log.level"},
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
	if c.Store.SQLite != "richiamo.db" || c.SMS.RatePerSecond != 10 {
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
	n := c.CUP.Nodes[0]
	if n.Password != "s3cret" || n.Port != 1433 || n.Encrypt != "true" || !*n.ReadOnlyIntent {
		t.Fatalf("node %+v", n)
	}
}
