package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/cup/mssql/tdstest"
	"github.com/richiamo/richiamo/internal/sms/twiliotest"
)

var viewColumns = []tdstest.Column{
	{Name: "codice_prenotazione", Type: tdstest.NVarChar, Size: 30},
	{Name: "cellulare", Type: tdstest.VarChar, Size: 30},
	{Name: "data_ora_appuntamento", Type: tdstest.DateTime2},
	{Name: "struttura", Type: tdstest.NVarChar, Size: 200},
}

const viewQuery = `SELECT codice_prenotazione, cellulare, data_ora_appuntamento, struttura
  FROM dbo.richiamo_prenotazioni WHERE data_ora_appuntamento >= @from AND data_ora_appuntamento < @to`

// nodeCLI configures two CUP nodes served by test TDS servers with the
// bookings of tomorrow.
func nodeCLI(t *testing.T) (*cli, map[string]*tdstest.Server, []string, []string) {
	t.Helper()
	c := newCLI(t, twiliotest.Options{})
	tomorrow := testNow.In(cup.Rome).AddDate(0, 0, 1)
	wall := func(h int) time.Time {
		return time.Date(tomorrow.Year(), tomorrow.Month(), tomorrow.Day(), h, 0, 0, 0, time.UTC)
	}
	rows := map[string][][]any{
		"ASL1": {{"A-1", "3331000001", wall(9), "Poliambulatorio Città Nuova"}, {"A-2", "3331000002", wall(10), "Poliambulatorio Città Nuova"},
			{"A-3", "06 1234 5678", wall(11), "Poliambulatorio Città Nuova"}},
		"AO": {{"O-1", "3332000001", wall(15), "Ospedale Sant'Antonio"}, {"O-2", "3332000002", wall(16), "Ospedale Sant'Antonio"}},
	}
	srvs := map[string]*tdstest.Server{}
	cfg, _ := os.ReadFile(c.config)
	cfg = append(cfg, "cup:\n  nodes:\n"...)
	var env []string
	for _, name := range []string{"ASL1", "AO"} {
		s := tdstest.Start(t, tdstest.Options{Columns: viewColumns, Rows: rows[name], Encryption: tdstest.EncryptionOffered})
		srvs[name] = s
		ca := filepath.Join(c.dir, name+"-ca.pem")
		if err := os.WriteFile(ca, s.CertificatePEM(), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg = append(cfg, fmt.Sprintf("    - name: %s\n      server: %s\n      port: %d\n      database: %s\n      user: %s\n      ca_file: %s\n      connect_timeout: 3s\n      query_timeout: 3s\n      query: %q\n",
			name, s.Host(), s.Port(), s.Database(), s.User(), ca, viewQuery)...)
		env = append(env, fmt.Sprintf("RICHIAMO_CUP_%s_PASSWORD=%s", name, s.Password()))
	}
	if err := os.WriteFile(c.config, cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	return c, srvs, env, []string{"+393331000001", "+393331000002", "+393332000001", "+393332000002"}
}

func runJSON(t *testing.T, cmd *exec.Cmd, v any) int {
	t.Helper()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, _ := cmd.Output()
	if err := json.Unmarshal(out, v); err != nil {
		t.Fatalf("%v\nstdout: %s\nstderr: %s", err, out, stderr.String())
	}
	return cmd.ProcessState.ExitCode()
}

func TestRemindFromCUPNodesGoesOnWhenOneNodeFails(t *testing.T) {
	t.Parallel()
	c, srvs, env, phones := nodeCLI(t)
	srvs["AO"].SetFault(tdstest.Fault{Kind: tdstest.RefuseLogin})
	day := testNow.In(cup.Rome).AddDate(0, 0, 1).Format("2006-01-02")
	remindCmd := func() *exec.Cmd {
		cmd := c.cmd("remind", "--config", c.config, "--nodes", "--for-date", day, "--json")
		cmd.Env = append(cmd.Env, env...)
		return cmd
	}
	var rep struct {
		Messages int `json:"messages"`
		Rejected []struct {
			File   string `json:"file"`
			Line   int    `json:"line"`
			Reason string `json:"reason"`
		} `json:"rejected"`
		Nodes []struct {
			Node  string `json:"node"`
			OK    bool   `json:"ok"`
			Cause string `json:"cause"`
		} `json:"nodes"`
	}
	if code := runJSON(t, remindCmd(), &rep); code != 3 {
		t.Fatalf("exit %d, want 3 (a node not read)", code)
	}
	if len(rep.Nodes) != 2 || !rep.Nodes[0].OK || rep.Nodes[1].OK || rep.Nodes[1].Cause != "login" {
		t.Fatalf("nodes %+v", rep.Nodes)
	}
	if rep.Messages != 2 || len(rep.Rejected) != 1 || rep.Rejected[0].File != "node ASL1" || rep.Rejected[0].Line != 3 || rep.Rejected[0].Reason != "landline" {
		t.Fatalf("report %+v", rep)
	}
	// The node is back: the next run reminds its patients, and nobody
	// twice.
	srvs["AO"].SetFault(tdstest.Fault{})
	rep.Nodes = nil
	if code := runJSON(t, remindCmd(), &rep); code != 0 {
		t.Fatalf("second run exit %d: %+v", code, rep)
	}
	if rep.Messages != 2 {
		t.Fatalf("second run planned %d messages, want AO's 2", rep.Messages)
	}
	for _, p := range phones {
		if n := c.fake.CountTo(p); n != 1 {
			t.Errorf("%s received %d reminders", p, n)
		}
	}
}

func TestCUPCheckReportsEachNode(t *testing.T) {
	t.Parallel()
	c, srvs, env, _ := nodeCLI(t)
	srvs["AO"].SetFault(tdstest.Fault{Kind: tdstest.QueryError})
	cmd := c.cmd("cup", "check", "--config", c.config, "--json")
	cmd.Env = append(cmd.Env, env...)
	var out struct {
		Nodes []struct {
			Node     string `json:"node"`
			OK       bool   `json:"ok"`
			Version  string `json:"server_version"`
			Bookings int    `json:"bookings_tomorrow"`
			Rejected int    `json:"rejected_tomorrow"`
			Cause    string `json:"cause"`
		} `json:"nodes"`
	}
	if code := runJSON(t, cmd, &out); code != 1 {
		t.Fatalf("exit %d, want 1 with a failing node", code)
	}
	if len(out.Nodes) != 2 {
		t.Fatalf("nodes %+v", out.Nodes)
	}
	a, o := out.Nodes[0], out.Nodes[1]
	if !a.OK || a.Version == "" || a.Bookings != 2 || a.Rejected != 1 {
		t.Fatalf("ASL1 %+v", a)
	}
	if o.OK || o.Cause != "query" {
		t.Fatalf("AO %+v", o)
	}
}

func TestNodeWithoutPasswordIsNamed(t *testing.T) {
	t.Parallel()
	c, _, _, _ := nodeCLI(t)
	out, err := c.cmd("cup", "check", "--config", c.config).CombinedOutput()
	if err == nil || !bytes.Contains(out, []byte("RICHIAMO_CUP_ASL1_PASSWORD")) {
		t.Fatalf("%v\n%s", err, out)
	}
}
