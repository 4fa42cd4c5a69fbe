package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/clock"
	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/sms/twiliotest"
	"go.uber.org/goleak"

	"github.com/richiamo/richiamo/internal/cli/base"
)

var binary string

// testNow is the clock of every command under test, in-process and in the
// built binary (through RICHIAMO_NOW), so that no test depends on the day
// it runs. It is pinned in 2027; RICHIAMO_TEST_NOW (RFC 3339) moves it, to
// run the suite as on another day.
var testNow = pinnedNow()

func pinnedNow() time.Time {
	if v := os.Getenv("RICHIAMO_TEST_NOW"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			panic("RICHIAMO_TEST_NOW: " + err.Error())
		}
		return t
	}
	return time.Date(2027, time.March, 10, 9, 30, 0, 0, cup.Rome)
}

// testEnv is a command's environment under test: buffers, no variables,
// the pinned clock.
func testEnv(stdout, stderr io.Writer) *base.Env {
	return &base.Env{Stdout: stdout, Stderr: stderr, Getenv: func(string) string { return "" }, Now: clock.From(testNow)}
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "richiamo-bin-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "richiamo")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	// What the in-process commands start must stop with them.
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

const (
	account = "AC0123456789abcdef0123456789abcdef"
	token   = "0123456789abcdef0123456789abcdef"
)

// testCampaign sends at any hour, so that the tests do not depend on when
// they run.
const testCampaign = `name: prova
schedule: "0 10 * * *"
days_before: [1]
send_hours: {from: "00:00", to: "24:00"}
min_notice: 1m
template: "CUP: appuntamento di {{(index .Appuntamenti 0).Quando}}, prenotazione {{(index .Appuntamenti 0).Codice}}."
`

type cli struct {
	dir, config string
	fake        *twiliotest.Server
}

func newCLI(t *testing.T, fo twiliotest.Options) *cli {
	t.Helper()
	c := &cli{dir: t.TempDir()}
	fo.AccountSID, fo.AuthToken = account, token
	c.fake = twiliotest.NewServer(fo)
	t.Cleanup(c.fake.Close)
	if err := os.WriteFile(filepath.Join(c.dir, "reminder.yaml"), []byte(testCampaign), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`store:
  sqlite: richiamo.db
campaigns:
  reminder: reminder.yaml
sms:
  rate_per_second: 300
  concurrency: 4
  retry_base: 50ms
  reconcile_after: 0s
  lease: 5s
  twilio:
    account_sid: %s
    messaging_service_sid: MG0123456789abcdef0123456789abcdef
    base_url: %s
    timeout: 3s
`, account, c.fake.URL())
	c.config = filepath.Join(c.dir, "richiamo.yaml")
	if err := os.WriteFile(c.config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return c
}

func (c *cli) cmd(args ...string) *exec.Cmd {
	cmd := exec.Command(binary, args...)
	cmd.Dir = c.dir
	cmd.Env = append(os.Environ(), "RICHIAMO_TWILIO_AUTH_TOKEN="+token, clock.EnvVar+"="+testNow.Format(time.RFC3339))
	return cmd
}

// extract writes n bookings, one per patient, on the day after tomorrow.
func (c *cli) extract(t *testing.T, n int) (string, string, []string) {
	t.Helper()
	day := testNow.In(cup.Rome).AddDate(0, 0, 2)
	var sb strings.Builder
	sb.WriteString("codice_prenotazione;cellulare;data_ora_appuntamento\n")
	var phones []string
	for i := range n {
		p := fmt.Sprintf("+39333%07d", i)
		phones = append(phones, p)
		fmt.Fprintf(&sb, "PR-%06d;%s;%s %02d:%02d\n", i, p, day.Format("02/01/2006"), 8+i%10, (i*5)%60)
	}
	path := filepath.Join(c.dir, "estratto.csv")
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, day.Format("2006-01-02"), phones
}

func TestEngineKilledWhileSendingSendsEveryReminderExactlyOnce(t *testing.T) {
	t.Parallel()
	// Latency keeps several sends in flight at the provider when the
	// process dies, which is the case that matters.
	c := newCLI(t, twiliotest.Options{Latency: 3 * time.Millisecond})
	path, day, phones := c.extract(t, 400)
	args := []string{"remind", "--config", c.config, "--extract", path, "--for-date", day, "--json"}

	for _, killAt := range []int{60, 190} {
		cmd := c.cmd(args...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		err := c.fake.WaitAccepted(ctx, killAt)
		cancel()
		if err != nil {
			cmd.Process.Kill()
			t.Fatalf("waiting for %d sends: %v", killAt, err)
		}
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
		t.Logf("killed after the provider accepted %d", len(c.fake.Messages()))
	}
	final := c.cmd(args...)
	var stderr bytes.Buffer
	final.Stderr = &stderr
	out, err := final.Output()
	if err != nil {
		t.Fatalf("final run: %v\n%s", err, stderr.String())
	}
	var rep struct {
		Messages int `json:"messages"`
		Sent     struct {
			Sent       int `json:"sent"`
			Reconciled int `json:"reconciled_found"`
		} `json:"sent"`
	}
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if rep.Messages != 0 {
		t.Fatalf("the restarted run planned %d new messages; re-import must plan none", rep.Messages)
	}
	total := len(c.fake.Messages())
	for _, p := range phones {
		if n := c.fake.CountTo(p); n != 1 {
			t.Errorf("%s received %d reminders", p, n)
		}
	}
	if total != len(phones) {
		t.Fatalf("provider holds %d messages for %d patients", total, len(phones))
	}
	t.Logf("final run sent %d, of which %d found at the provider by reconciliation", rep.Sent.Sent, rep.Sent.Reconciled)
}

func TestRemindJSON(t *testing.T) {
	t.Parallel()
	c := newCLI(t, twiliotest.Options{})
	sample, err := filepath.Abs(filepath.Join("..", "..", "testdata", "extract-sample.csv"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.cmd("remind", "--config", c.config, "--extract", sample, "--for-date", testNow.In(cup.Rome).AddDate(0, 0, 1).Format("2006-01-02"), "--dry-run", "--json").Output()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var rep map[string]any
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, k := range []string{"rows", "valid", "duplicates", "rejected", "bookings", "messages", "segments", "gsm7", "ucs2"} {
		if _, ok := rep[k]; !ok {
			t.Errorf("--json lacks %q", k)
		}
	}
	rej := rep["rejected"].([]any)
	first := rej[0].(map[string]any)
	if first["file"] != sample || first["line"].(float64) != 7 || first["reason"] != "missing_phone" {
		t.Fatalf("first rejection %v", first)
	}
	if len(c.fake.Messages()) != 0 {
		t.Fatal("a dry run sent messages")
	}
}

func TestRemindRefusesAPastDayOnce(t *testing.T) {
	t.Parallel()
	var out, errb bytes.Buffer
	yesterday := testNow.In(cup.Rome).AddDate(0, 0, -1).Format("2006-01-02")
	code := run(context.Background(), testEnv(&out, &errb), []string{"remind", "--extract", "x.csv", "--for-date", yesterday, "--dry-run"})
	msg := errb.String()
	if code != base.ExitUsage || !strings.Contains(msg, "--for-date "+yesterday+" is before today") || strings.Count(msg, "remind:") != 1 {
		t.Fatalf("exit %d: %q", code, msg)
	}
}

func TestEveryCommandHasHelp(t *testing.T) {
	t.Parallel()
	for _, cmd := range commands {
		t.Run(cmd.Name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(context.Background(), testEnv(&out, &errb), []string{cmd.Name, "--help"})
			if code != 0 || !strings.Contains(out.String(), "Usage: richiamo "+cmd.Name) || !strings.Contains(out.String(), "-json") {
				t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out.String(), errb.String())
			}
		})
	}
}

func TestWrongSettingStopsStartUpNamingIt(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "richiamo.yaml")
	os.WriteFile(cfg, []byte("sms:\n  rate_per_second: -3\n"), 0o644)
	var out, errb bytes.Buffer
	code := run(context.Background(), testEnv(&out, &errb),
		[]string{"migrate", "--config", cfg})
	if code == 0 || !strings.Contains(errb.String(), "sms.rate_per_second") {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
}

var update = flag.Bool("update", false, "rewrite golden files")

// TestRemindOutputGolden pins what an operator reads after a run. The
// sample's appointment day is moved to the day after tomorrow so that the
// test does not age; the date is put back as a placeholder.
func TestRemindOutputGolden(t *testing.T) {
	t.Parallel()
	c := newCLI(t, twiliotest.Options{})
	cfg := "store:\n  sqlite: richiamo.db\n" // the shipped campaign, built in
	if err := os.WriteFile(c.config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	sample, err := os.ReadFile(filepath.Join("..", "..", "testdata", "extract-sample.csv"))
	if err != nil {
		t.Fatal(err)
	}
	day := testNow.In(cup.Rome).AddDate(0, 0, 2)
	text := strings.ReplaceAll(string(sample), "01/12/2026", day.Format("02/01/2006"))
	if err := os.WriteFile(filepath.Join(c.dir, "estratto.csv"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := c.cmd("remind", "--config", c.config, "--extract", "estratto.csv", "--for-date", day.Format("2006-01-02"), "--dry-run")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	got := strings.ReplaceAll(string(out), day.Format("2006-01-02"), "DAY")
	path := filepath.Join("testdata", "remind-dry-run.golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if got != string(want) {
		t.Fatalf("output differs from %s (go test -update rewrites it):\n%s", path, got)
	}
}

func TestMistakesAreOneLineWithTheNearestName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"remnd"}, `richiamo: unknown command "remnd" (did you mean remind?); richiamo --help lists the commands`},
		{[]string{"remind", "--extrct", "x.csv"}, "richiamo remind: unknown flag --extrct (did you mean --extract?); richiamo remind --help lists the flags"},
		{[]string{"campaign", "strat"}, `richiamo campaign: unknown subcommand "strat" (did you mean start?) (load, start, pause, list, run)`},
		{[]string{"sla", "--form", "2027-03-01"}, "richiamo sla: unknown flag --form (did you mean --from?); richiamo sla --help lists the flags"},
		{[]string{"remind", "--zzzzzz"}, "richiamo remind: unknown flag --zzzzzz; richiamo remind --help lists the flags"},
	} {
		var out, errb strings.Builder
		if code := run(context.Background(), testEnv(&out, &errb), tc.args); code != base.ExitUsage {
			t.Errorf("%v: exit %d, want %d", tc.args, code, base.ExitUsage)
		}
		if got := strings.TrimSpace(errb.String()); got != tc.want || out.Len() != 0 {
			t.Errorf("%v:\n got %q\nwant %q\n(and nothing on stdout: %q)", tc.args, got, tc.want, out.String())
		}
	}
}

func TestAFailureAskedForJSONIsJSON(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "richiamo.yaml")
	if err := os.WriteFile(cfg, []byte("store:\n  sqlite: "+filepath.Join(dir, "r.db")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb strings.Builder
	code := run(context.Background(), testEnv(&out, &errb), []string{"cup", "check", "--config", cfg, "--json"})
	var got struct {
		Error    string `json:"error"`
		ExitCode int    `json:"exit_code"`
	}
	if err := json.Unmarshal([]byte(out.String()), &got); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, out.String())
	}
	if code != 1 || got.ExitCode != 1 || !strings.Contains(got.Error, "no CUP node configured") {
		t.Errorf("exit %d, %+v", code, got)
	}
	out.Reset()
	run(context.Background(), testEnv(&out, &errb), []string{"cup", "check", "--config", cfg})
	if out.Len() != 0 {
		t.Errorf("without --json the failure went to stdout: %q", out.String())
	}
}

func TestMigrateWithoutConfigurationSaysWhereTheStoreIs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cmd := exec.Command(binary, "migrate")
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v\n%s", err, errb.String())
	}
	db, _ := filepath.EvalSymlinks(dir)
	if !strings.Contains(errb.String(), "no configuration file") || !strings.Contains(out.String()+errb.String(), "richiamo.db") {
		t.Errorf("a store was made in %s without a word:\nstdout %s\nstderr %s", db, out.String(), errb.String())
	}
}

// A run that plans nothing says why, and one outside the sending hours
// says how many wait and until when.
func TestRemindSaysWhyNothingWentOut(t *testing.T) {
	t.Parallel()
	c := newCLI(t, twiliotest.Options{})
	cfg, err := os.ReadFile(c.config)
	if err != nil {
		t.Fatal(err)
	}
	// The shipped campaign: sending hours 09:00–20:00, reminders the day before.
	shipped := strings.Replace(string(cfg), "campaigns:\n  reminder: reminder.yaml\n", "", 1)
	if err := os.WriteFile(c.config, []byte(shipped), 0o644); err != nil {
		t.Fatal(err)
	}
	path, day, _ := c.extract(t, 3) // the day after tomorrow
	remind := func(now time.Time, args ...string) string {
		cmd := exec.Command(binary, append([]string{"remind", "--config", c.config, "--extract", path}, args...)...)
		cmd.Dir = c.dir
		cmd.Env = append(os.Environ(), "RICHIAMO_TWILIO_AUTH_TOKEN="+token, clock.EnvVar+"="+now.Format(time.RFC3339))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		return string(out)
	}
	out := remind(testNow, "--dry-run")
	tomorrow := testNow.In(cup.Rome).AddDate(0, 0, 1).Format(time.DateOnly)
	if want := "No new reminder: the run reminds the appointments of " + tomorrow + ", and the bookings read are of " + day + " (3)."; !strings.Contains(out, want) {
		t.Errorf("a dry run planning nothing does not say why:\n%s\nwant %q", out, want)
	}
	early := time.Date(testNow.Year(), testNow.Month(), testNow.Day()+1, 7, 0, 0, 0, cup.Rome) // the day before the appointments, 07:00
	out = remind(early)
	if want := "waiting             3, to go out from " + early.Format("02/01/2006") + " 09:00"; !strings.Contains(out, want) {
		t.Errorf("a run before the sending hours does not say what waits:\n%s\nwant %q", out, want)
	}
}
