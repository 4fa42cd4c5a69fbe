package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/richiamo/richiamo/campaigns"
	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/job"
	"github.com/richiamo/richiamo/internal/script"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/voice/patients"
)

// Calls is the call part of the demo: a recall campaign on a few of the
// day's bookings, dialled by serve's dialer over real SIP and RTP on
// loopback to simulated patients who answer as mix says.
type Calls struct {
	Contacts int              `json:"contacts"`
	Days     int              `json:"days"`
	Attempts int              `json:"attempts"`
	Outcomes map[string]int   `json:"outcomes"`
	Results  map[string]int   `json:"results"`
	Patients patients.Summary `json:"patients"`
	Calls    []CallLine       `json:"calls"`
}

// CallLine is one attempt.
type CallLine struct {
	Contact int64  `json:"contact"`
	Outcome string `json:"outcome"`
	Result  string `json:"result,omitempty"`
	SIPCode int    `json:"sip_code"`
	Digits  string `json:"digits,omitempty"`
}

const callContacts = 24

// mix is testdata/patients-mix.yaml without its slow cases (a wrong key
// makes the script ask again, twice, for half a minute), so that the demo's
// calls take as long as one conversation.
const mix = `seed: 20261130
behaviours:
  answer_and_press: {weight: 60, digits: "1", after: 2s, ring: 1s}
  busy: {weight: 15}
  never_answer: {weight: 10}
  hang_up_during_prompt: {weight: 15, after: 1s, ring: 1s}
max_call: 1m
`

func newPatients() (*patients.Server, error) {
	m, err := patients.ParseMix([]byte(mix))
	if err != nil {
		return nil, fmt.Errorf("demo calls: %w", err)
	}
	pts, err := patients.NewServer(patients.Config{Listen: "127.0.0.1:0", Mix: m})
	if err != nil {
		return nil, fmt.Errorf("demo calls: simulated patients: %w", err)
	}
	return pts, nil
}

// calls loads the recall campaign on the Thursday before and lets serve's
// dialer work it on three simulated days: each day's round calls every
// contact then due, and the script's rules (busy again in 15 minutes, no
// answer in an hour, at most 3 attempts) leave the retries to the next
// round.
func (d *Demo) calls(ctx context.Context) (*Calls, error) {
	out := &Calls{Outcomes: map[string]int{}, Results: map[string]int{}}
	msgs, err := d.st.Messages(ctx, "", callContacts*4)
	if err != nil {
		return nil, err
	}
	contacts := demoContacts(msgs, callContacts)
	rounds := []time.Time{
		time.Date(2026, 11, 26, 10, 0, 0, 0, cup.Rome),
		time.Date(2026, 11, 27, 15, 0, 0, 0, cup.Rome),
		time.Date(2026, 11, 30, 8, 30, 0, 0, cup.Rome),
	}
	loaded := rounds[0].Add(-time.Hour)
	made, err := job.Create(ctx, d.st, "richiamo-demo", demoRecall{contacts}, loaded)
	if err != nil {
		return nil, err
	}
	camp := made.ID
	out.Contacts = made.Loaded
	due := len(contacts)
	for _, start := range rounds {
		if due == 0 {
			break
		}
		d.clock.Set(start)
		before, _, err := d.attempts(ctx, camp)
		if err != nil {
			return nil, err
		}
		if _, err := d.st.SetCampaignState(ctx, camp, store.CampaignActive); err != nil {
			return nil, err
		}
		runCtx, stop := context.WithTimeout(ctx, 2*time.Minute)
		go func() {
			for runCtx.Err() == nil {
				if n, _, err := d.attempts(runCtx, camp); err == nil && n-before >= due {
					stop()
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
		}()
		err = d.eng.Dialer.Run(runCtx)
		stop()
		if err != nil && ctx.Err() == nil {
			return nil, err
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if _, err := d.st.SetCampaignState(ctx, camp, store.CampaignPaused); err != nil {
			return nil, err
		}
		out.Days++
		_, finals, err := d.attempts(ctx, camp)
		if err != nil {
			return nil, err
		}
		due = len(contacts) - finals
	}
	as, err := d.st.CampaignAttempts(ctx, camp)
	if err != nil {
		return nil, err
	}
	for _, a := range as {
		out.Attempts++
		out.Outcomes[a.Outcome]++
		if a.Result != "" {
			out.Results[a.Result]++
		}
		out.Calls = append(out.Calls, CallLine{Contact: a.ContactID, Outcome: a.Outcome, Result: a.Result, SIPCode: a.SIPCode, Digits: a.Digits})
	}
	out.Patients = d.pts.Summary()
	return out, nil
}

// attempts counts a campaign's recorded attempts and its closed contacts.
func (d *Demo) attempts(ctx context.Context, camp int64) (n, finals int, err error) {
	as, err := d.st.CampaignAttempts(ctx, camp)
	for _, a := range as {
		if a.Final {
			finals++
		}
	}
	return len(as), finals, err
}

// demoRecall is the demo's recall job: the shipped recall script, called
// on contacts picked from the day's reminders.
type demoRecall struct{ contacts []store.NewContact }

func (demoRecall) Kind() job.Kind { return job.Recall }

func (demoRecall) Script() job.Script {
	return job.Script{Name: "campaigns/recall.yaml", Text: campaigns.Recall}
}

func (r demoRecall) Contacts(context.Context, job.Source) ([]store.NewContact, []job.Skipped, error) {
	return r.contacts, nil, nil
}

// demoContacts picks the day's patients for the campaign.
func demoContacts(msgs []store.MessageRow, n int) []store.NewContact {
	var out []store.NewContact
	for _, m := range msgs {
		if len(out) == n {
			break
		}
		p, _ := json.Marshal(script.Payload{Code: fmt.Sprintf("DEMO-%d", m.ID), Appointment: Start.Add(24*time.Hour + time.Hour)})
		out = append(out, store.NewContact{Phone: m.Phone, Payload: string(p)})
	}
	return out
}

// sortedKeys is for printing maps in a stable order.
func sortedKeys(m map[string]int) []string { return slices.Sorted(maps.Keys(m)) }
