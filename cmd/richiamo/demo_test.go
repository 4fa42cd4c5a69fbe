package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/richiamo/richiamo/internal/cup"
)

// TestDemoRunsEndToEnd runs `richiamo demo` as the README tells operators
// to, from a folder with nothing in it (the demo's data is in the binary),
// and checks what it claims.
func TestDemoRunsEndToEnd(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(binary, "demo", "--rate", "2000", "--json")
	cmd.Dir = t.TempDir()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	var s struct {
		Import struct {
			Rows, Messages int
			Rejected       []any          `json:"rejected"`
			ByReason       map[string]int `json:"rejected_by_reason"`
		} `json:"import"`
		Reimport struct {
			Messages int            `json:"messages"`
			ByReason map[string]int `json:"rejected_by_reason"`
		} `json:"reimport"`
		Send struct {
			Sent       int64 `json:"sent"`
			Failed     int64 `json:"failed"`
			Retried    int64 `json:"retried"`
			Reconciled int64 `json:"reconciled_found"`
		} `json:"send"`
		ProviderRx int `json:"provider_received"`
		Twice      int `json:"numbers_sent_twice"`
		Confirmed  int `json:"confirmed"`
		Cancelled  int `json:"cancellation_requests"`
		Inbox      int `json:"inbox"`
		Replies    []struct {
			Says, Answer string
		} `json:"replies"`
		Calls struct {
			Contacts int            `json:"contacts"`
			Days     int            `json:"days"`
			Attempts int            `json:"attempts"`
			Outcomes map[string]int `json:"outcomes"`
			Results  map[string]int `json:"results"`
			Patients struct {
				Calls int `json:"calls"`
			} `json:"patients"`
		} `json:"calls"`
		Levels struct {
			Report   int64   `json:"kept_report_id"`
			Calls    int     `json:"calls"`
			Positive int     `json:"positive_contacts"`
			Value    float64 `json:"acquisition"`
			Written  int     `json:"written_contacts"`
			Uncapped float64 `json:"uncapped_penalty_pct"`
			Cap      float64 `json:"penalty_cap_pct"`
			Capped   bool    `json:"capped"`
			Penalty  float64 `json:"penalty_pct"`
		} `json:"service_levels"`
	}
	if err := json.Unmarshal(out, &s); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	// Booking codes are shown masked, as in the logs.
	for _, code := range demoCodes(t) {
		if bytes.Contains(out, []byte(code)) {
			t.Fatalf("the demo prints booking code %s in full", code)
		}
	}
	masked := false
	for _, r := range s.Replies {
		masked = masked || strings.Contains(r.Answer, "(prenotazione ***")
	}
	if !masked {
		t.Fatalf("no answer shows a masked booking code: %+v", s.Replies)
	}
	if s.Import.Rows != 4000 || len(s.Import.ByReason) != 5 || s.Import.Messages == 0 {
		t.Fatalf("import %+v", s.Import)
	}
	if s.Twice != 0 || int64(s.ProviderRx) != s.Send.Sent || s.Send.Failed != 1 || s.Send.Reconciled != 1 || s.Send.Retried != 1 {
		t.Fatalf("send %+v, provider %d, twice %d", s.Send, s.ProviderRx, s.Twice)
	}
	// One number told the provider STOP, one patient answered STOP.
	if s.Reimport.Messages != 0 || s.Reimport.ByReason["opted_out"] != 2 {
		t.Fatalf("re-import %+v", s.Reimport)
	}
	if s.Confirmed != 2 || s.Cancelled != 2 || s.Inbox != 1 || len(s.Replies) != 7 {
		t.Fatalf("replies: %d confirmed, %d cancelled, %d in the inbox, %d exchanges", s.Confirmed, s.Cancelled, s.Inbox, len(s.Replies))
	}
	// Every contact of the recall campaign was called over SIP, on up to
	// three days, each retry after a busy or unanswered call; the
	// simulated patients saw each call.
	c := s.Calls
	total := 0
	for _, n := range c.Outcomes {
		total += n
	}
	retries := c.Outcomes["busy"] + c.Outcomes["no_answer"]
	if c.Contacts != 24 || c.Attempts < 24 || total != c.Attempts || c.Patients.Calls != c.Attempts ||
		c.Outcomes["answered"] == 0 || c.Results["confirmed"] == 0 || (retries > 0 && c.Days < 2) || c.Days > 3 {
		t.Fatalf("calls %+v", c)
	}
	// The month's report was made and kept from those calls: its calls
	// are the campaign's attempts, its positive contacts the confirmed.
	l := s.Levels
	if l.Report == 0 || l.Calls != c.Attempts || l.Positive != c.Results["confirmed"] || l.Written != s.Inbox ||
		l.Value != float64(int(float64(l.Positive)/float64(l.Calls)*1e6+0.5))/1e6 {
		t.Fatalf("service levels %+v (calls %+v)", l, c)
	}
	// The charge never exceeds the cap the law sets.
	if l.Cap != 10 || l.Penalty > l.Cap || l.Capped != (l.Uncapped > l.Cap) || (!l.Capped && l.Penalty != l.Uncapped) {
		t.Fatalf("penalties: %v%% charged of %v%%, cap %v%%, capped %v", l.Penalty, l.Uncapped, l.Cap, l.Capped)
	}
}

// demoCodes are the booking codes of the demo's extract.
func demoCodes(t *testing.T) []string {
	t.Helper()
	f, err := os.Open("../../testdata/extract-demo.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := cup.NewExtractReader(f, "extract-demo.csv", cup.Layout{})
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for {
		b, rej, err := r.Next()
		if err == io.EOF {
			return codes
		}
		if err != nil {
			t.Fatal(err)
		}
		if rej == nil {
			codes = append(codes, b.Code)
		}
	}
}
