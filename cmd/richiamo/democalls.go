package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/richiamo/richiamo/internal/calendar"
	"github.com/richiamo/richiamo/internal/config"
	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/dialer"
	"github.com/richiamo/richiamo/internal/script"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/voice"
	"github.com/richiamo/richiamo/internal/voice/patients"
	"github.com/richiamo/richiamo/internal/voice/say"
)

// demoCalls is the call part of the demo: a recall campaign on a few of the
// day's bookings, dialled over real SIP and RTP on loopback to simulated
// patients who answer as demoMix says.
type demoCalls struct {
	Contacts int              `json:"contacts"`
	Days     int              `json:"days"`
	Attempts int              `json:"attempts"`
	Outcomes map[string]int   `json:"outcomes"`
	Results  map[string]int   `json:"results"`
	Patients patients.Summary `json:"patients"`
	Calls    []demoCallLine   `json:"calls"`
}

type demoCallLine struct {
	Contact int64  `json:"contact"`
	Outcome string `json:"outcome"`
	Result  string `json:"result,omitempty"`
	SIPCode int    `json:"sip_code"`
	Digits  string `json:"digits,omitempty"`
}

const demoCallContacts = 24

// demoMix is testdata/patients-mix.yaml without its slow cases (a wrong key
// makes the script ask again, twice, for half a minute), so that the demo's
// calls take as long as one conversation.
const demoMix = `seed: 20261130
behaviours:
  answer_and_press: {weight: 60, digits: "1", after: 2s, ring: 1s}
  busy: {weight: 15}
  never_answer: {weight: 10}
  hang_up_during_prompt: {weight: 15, after: 1s, ring: 1s}
max_call: 1m
`

func (d *demo) runCalls(ctx context.Context, contacts []store.NewContact) (*demoCalls, error) {
	out := &demoCalls{Outcomes: map[string]int{}, Results: map[string]int{}}
	mix, err := patients.ParseMix([]byte(demoMix))
	if err != nil {
		return nil, fmt.Errorf("demo calls: %w", err)
	}
	pts, err := patients.NewServer(patients.Config{Listen: "127.0.0.1:0", Mix: mix})
	if err != nil {
		return nil, fmt.Errorf("demo calls: simulated patients: %w", err)
	}
	defer pts.Close()

	data, err := os.ReadFile(filepath.Join("campaigns", "recall.yaml"))
	if err != nil {
		return nil, fmt.Errorf("demo calls: %w", err)
	}
	s, err := script.Load(data, say.Italian())
	if err != nil {
		return nil, fmt.Errorf("demo calls: campaigns/recall.yaml: %w", err)
	}
	host, _, _ := net.SplitHostPort(pts.Addr())
	vc := config.Default().Voice
	vc.Bind = "127.0.0.1:0"
	vc.Advertise = host
	vc.Trunk.Proxy = "sip:" + pts.Addr()
	vc.Trunk.CallerID = "+390000000000"
	vc.RingTimeout = config.Duration(4 * time.Second)
	vc.MaxDuration = config.Duration(45 * time.Second)
	vc.RTPPortMin, vc.RTPPortMax = 40000, 40999
	cfg := voice.ConfigFrom(vc)
	cfg.Log = d.log
	caller, err := voice.NewCaller(cfg)
	if err != nil {
		return nil, fmt.Errorf("demo calls: %w", err)
	}
	defer caller.Close()

	// The campaign was loaded on the Thursday before and worked on three
	// days: each day's round calls every contact then due, and the rules
	// (busy again in 15 minutes, no answer in 2 hours, at most 3 attempts
	// over at least 2 days) leave the retries to the next round.
	rounds := []time.Time{
		time.Date(2026, 11, 26, 10, 0, 0, 0, cup.Rome),
		time.Date(2026, 11, 27, 15, 0, 0, 0, cup.Rome),
		time.Date(2026, 11, 30, 8, 30, 0, 0, cup.Rome),
	}
	loaded := rounds[0].Add(-time.Hour)
	camp, err := d.st.AddCampaign(ctx, "richiamo-demo", "recall", loaded)
	if err != nil {
		return nil, err
	}
	if err := d.st.LoadContacts(ctx, camp, contacts, loaded); err != nil {
		return nil, err
	}
	out.Contacts = len(contacts)
	cal, err := calendar.New(calendar.Config{})
	if err != nil {
		return nil, err
	}
	rules, maxAttempts := s.Rules()
	rec := &demoRecorder{Store: d.st, out: out, final: map[int64]bool{}}
	due := len(contacts)
	for _, start := range rounds {
		if due == 0 {
			break
		}
		realStart := time.Now()
		clock := func() time.Time { return start.Add(time.Since(realStart)) }
		dl, err := dialer.New(dialer.Config{
			Store: rec, Call: script.CallFunc(caller, s, 0), Positive: s.Positive,
			Calendar: cal, Channels: demoCallContacts, CallsPerSecond: 20, MaxAttempts: maxAttempts, Rules: rules,
			Campaign: camp, Now: clock, Log: d.log,
		})
		if err != nil {
			return nil, err
		}
		before := rec.count()
		runCtx, stop := context.WithTimeout(ctx, 2*time.Minute)
		go func() {
			for runCtx.Err() == nil {
				if rec.count()-before >= due {
					stop()
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
		}()
		err = dl.Run(runCtx)
		stop()
		if err != nil && ctx.Err() == nil {
			return nil, err
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		out.Days++
		due = len(contacts) - rec.finals()
	}
	out.Patients = pts.Summary()
	sort.SliceStable(out.Calls, func(i, j int) bool { return out.Calls[i].Contact < out.Calls[j].Contact })
	return out, nil
}

// demoRecorder notes each attempt for the summary on its way to the store.
type demoRecorder struct {
	*store.Store
	mu    sync.Mutex
	out   *demoCalls
	n     int
	final map[int64]bool
}

func (r *demoRecorder) finals() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.final)
}

func (r *demoRecorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

func (r *demoRecorder) RecordAttempt(ctx context.Context, a store.AttemptRecord) error {
	if err := r.Store.RecordAttempt(ctx, a); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	if a.Final {
		r.final[a.ContactID] = true
	}
	r.out.Attempts++
	r.out.Outcomes[a.Outcome]++
	if a.Result != "" {
		r.out.Results[a.Result]++
	}
	r.out.Calls = append(r.out.Calls, demoCallLine{Contact: a.ContactID, Outcome: a.Outcome, Result: a.Result, SIPCode: a.SIPCode, Digits: a.Digits})
	return nil
}

// demoContacts picks the day's single-booking patients for the campaign.
func demoContacts(msgs []store.MessageRow, n int) []store.NewContact {
	var out []store.NewContact
	for _, m := range msgs {
		if len(out) == n {
			break
		}
		p, _ := json.Marshal(script.Payload{Code: fmt.Sprintf("DEMO-%d", m.ID), Appointment: demoStart.Add(24*time.Hour + time.Hour)})
		out = append(out, store.NewContact{Phone: m.Phone, Payload: string(p)})
	}
	return out
}

func (c *demoCalls) print(w io.Writer) {
	fmt.Fprintf(w, "\nRecall calls (SIP and RTP on loopback to simulated patients): %d contacts, %d attempts over %d days\n", c.Contacts, c.Attempts, c.Days)
	for _, k := range slices.Sorted(maps.Keys(c.Outcomes)) {
		fmt.Fprintf(w, "  %-16s %d\n", k, c.Outcomes[k])
	}
	if len(c.Results) > 0 {
		fmt.Fprintln(w, "  script results:")
		for _, k := range slices.Sorted(maps.Keys(c.Results)) {
			fmt.Fprintf(w, "    %-14s %d\n", k, c.Results[k])
		}
	}
	for _, l := range c.Calls {
		fmt.Fprintf(w, "  contact %-3d %-14s SIP %3d  keys %-4q %s\n", l.Contact, l.Outcome, l.SIPCode, l.Digits, l.Result)
	}
}
