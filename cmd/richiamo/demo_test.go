package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

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
		Offers struct {
			Recall map[string]int `json:"recall_outcomes"`
			Calls  []struct {
				Result string `json:"result"`
			} `json:"recall_calls"`
			Slot       time.Time `json:"slot"`
			OfferedOn  string    `json:"offered_on"`
			MinDays    int       `json:"min_days"`
			TooSoon    int       `json:"too_soon"`
			Candidates []struct {
				At       time.Time `json:"at"`
				Priority string    `json:"priority"`
				Channel  string    `json:"channel"`
			} `json:"candidates"`
			Offered  int                             `json:"offered"`
			Replies  []struct{ Says, Answer string } `json:"replies"`
			Statuses map[string]int                  `json:"offer_statuses"`
			Moved    string                          `json:"moved_booking"`
			Confirm  string                          `json:"confirmation"`
			Cascade  int                             `json:"cascade_slots"`
			Figures  struct {
				Freed, Offered, Taken, Moved, Expired int
				Refill                                int64 `json:"mean_refill_ns"`
			} `json:"figures"`
		} `json:"offers"`
		Survey struct {
			Read       int      `json:"calls_read"`
			BadRows    []string `json:"bad_rows"`
			K          int      `json:"k"`
			Sampled    int      `json:"sampled"`
			Interviews []struct {
				Result   string   `json:"result"`
				Answers  []string `json:"answers"`
				FollowUp bool     `json:"follow_up"`
			} `json:"interviews"`
			FollowUps []string `json:"follow_ups"`
			Operators []struct {
				Operator                                      string
				Handled, Eligible, Sampled, Called, Completed int
				FollowUps                                     int `json:"follow_ups_opened"`
				Questions                                     map[string]struct {
					Answers int
					Mean    float64
				}
			} `json:"by_operator"`
		} `json:"survey"`
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
	// Booking codes and numbers are shown masked, as in the logs.
	for _, code := range append(demoCodes(t), "ASL1-2026-RX") {
		if bytes.Contains(out, []byte(code)) {
			t.Fatalf("the demo prints booking code %s in full", code)
		}
	}
	if n := regexp.MustCompile(`\+39 ?3\d\d ?\d{3} ?\d{4}`).Find(out); n != nil {
		t.Fatalf("the demo prints number %s in full", n)
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
	// A recall call gave a booking up; its slot went, by SMS, to the
	// candidates booked beyond day 61 in priority order; one acceptance
	// took it and the later one was turned away; the move was confirmed
	// before the patient was told, and the old slot freed in turn.
	o := s.Offers
	if o.Recall["cancelled"] != 1 || len(o.Calls) != o.Recall["cancelled"]+o.Recall["confirmed"] {
		t.Fatalf("the agenda's recall %+v", o)
	}
	on, err := time.ParseInLocation(time.DateOnly, o.OfferedOn, cup.Rome)
	if err != nil {
		t.Fatal(err)
	}
	earliest := on.AddDate(0, 0, o.MinDays)
	rank := map[string]int{"U": 0, "B": 1, "D": 2, "P": 3}
	for i, c := range o.Candidates {
		if c.At.Before(earliest) || c.Channel != "sms" || (i > 0 && rank[c.Priority] < rank[o.Candidates[i-1].Priority]) {
			t.Fatalf("candidate %d %+v (earliest %s): %+v", i, c, earliest, o.Candidates)
		}
	}
	if o.MinDays != 61 || o.TooSoon != 1 || len(o.Candidates) != 4 || o.Offered != 3 {
		t.Fatalf("ranking: min days %d, %d too soon, %d candidates, %d offered", o.MinDays, o.TooSoon, len(o.Candidates), o.Offered)
	}
	if len(o.Replies) != 2 || o.Statuses["moved"] != 1 || o.Statuses["late"] != 1 || o.Statuses["superseded"] != o.Offered-2 {
		t.Fatalf("one acceptance moves, one is too late: statuses %v, replies %+v", o.Statuses, o.Replies)
	}
	if !strings.Contains(o.Replies[1].Answer, "preso da un altro paziente") || o.Moved == "" || o.Confirm == "" || o.Cascade != 1 {
		t.Fatalf("offers %+v", o)
	}
	f := o.Figures
	if f.Freed != 1+o.Cascade || f.Offered != 1 || f.Taken != 1 || f.Moved != 1 || f.Expired != 0 || f.Refill <= 0 {
		t.Fatalf("refill figures %+v", f)
	}

	// The survey drew one eligible call in k per operator, called each
	// back, and the one low rating opened the one follow-up.
	sv := s.Survey
	if sv.Read == 0 || len(sv.BadRows) != 1 || sv.K != 10 || len(sv.Interviews) != sv.Sampled {
		t.Fatalf("survey %+v", sv)
	}
	perOperator, all := 0, -1
	for i, r := range sv.Operators {
		if r.Operator == "*" {
			all = i
			continue
		}
		perOperator += r.Sampled
		if r.Sampled < r.Eligible/sv.K || r.Sampled > (r.Eligible+sv.K-1)/sv.K || r.Called != r.Sampled {
			t.Errorf("operator %s: %d sampled of %d eligible, %d called", r.Operator, r.Sampled, r.Eligible, r.Called)
		}
	}
	if all < 0 || perOperator != sv.Sampled || sv.Sampled != 6 || len(sv.Operators) != 4 {
		t.Fatalf("survey figures %+v, %d sampled", sv.Operators, sv.Sampled)
	}
	day := sv.Operators[all]
	low, completed := 0, 0
	for _, iv := range sv.Interviews {
		below := false
		for _, a := range iv.Answers {
			below = below || strings.HasSuffix(a, " 1") || strings.HasSuffix(a, " 2")
		}
		if below != iv.FollowUp {
			t.Errorf("interview %+v: a rating below 3 is %v, follow-up %v", iv, below, iv.FollowUp)
		}
		if below {
			low++
		}
		if iv.Result == "completed" {
			completed++
		}
	}
	if low != 1 || len(sv.FollowUps) != 1 || day.FollowUps != 1 || day.Completed != completed || day.Called != sv.Sampled {
		t.Fatalf("%d low ratings, follow-ups %q, figures %+v", low, sv.FollowUps, day)
	}
	if q := day.Questions["cortesia"]; q.Answers != completed || q.Mean < 1 || q.Mean > 5 {
		t.Errorf("cortesia %+v", q)
	}

	// The month's report was made and kept from those calls: its calls
	// are every campaign's attempts, its positive contacts the answers.
	l := s.Levels
	calls := c.Attempts + len(o.Calls) + day.Called
	positive := c.Results["confirmed"] + len(o.Calls) + completed
	if l.Report == 0 || l.Calls != calls || l.Positive != positive || l.Written != s.Inbox ||
		l.Value != float64(int(float64(l.Positive)/float64(l.Calls)*1e6+0.5))/1e6 {
		t.Fatalf("service levels %+v (calls %+v)", l, c)
	}
	// The charge never exceeds the cap the law sets.
	if l.Cap != 10 || l.Penalty > l.Cap || l.Capped != (l.Uncapped > l.Cap) || (!l.Capped && l.Penalty != l.Uncapped) {
		t.Fatalf("penalties: %v%% charged of %v%%, cap %v%%, capped %v", l.Penalty, l.Uncapped, l.Cap, l.Capped)
	}
}

// Without calls the demo leaves out the recall, the offers and the survey,
// which all start from a call, and still reminds and reports.
func TestDemoWithoutCallsLeavesOutWhatNeedsCalls(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(binary, "demo", "--no-calls", "--rate", "2000", "--json")
	cmd.Dir = t.TempDir()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	var s map[string]json.RawMessage
	if err := json.Unmarshal(out, &s); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"calls", "offers", "survey"} {
		if _, ok := s[k]; ok {
			t.Errorf("--no-calls still shows %s", k)
		}
	}
	if _, ok := s["service_levels"]; !ok || len(s["import"]) < 3 {
		t.Errorf("--no-calls lost the reminders or the report: %s", out)
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
