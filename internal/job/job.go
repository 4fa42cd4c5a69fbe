// Package job owns what a call campaign is for and how one is made: its
// kind, how its contacts are built (from a file, from the bookings in the
// store, from another campaign's results), what its call script collects
// and what an attempt's result means. It alone creates campaigns, with
// their contacts and script in one transaction, for the command line and
// the console alike; the dialer places the calls a kind's Calls describe.
package job

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/richiamo/richiamo/internal/dialer"
	"github.com/richiamo/richiamo/internal/script"
	"github.com/richiamo/richiamo/internal/sla"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/voice"
)

// Kind is what a campaign is for; it is stored with the campaign.
type Kind string

// The kinds of campaign the engine knows.
const (
	// Recall asks booked patients of a monitored agenda to confirm or
	// cancel.
	Recall Kind = "recall"
	// Offer offers a freed slot to patients booked later.
	Offer Kind = "offer"
	// Survey is the hot satisfaction survey of a sample of the day's
	// contacts.
	Survey Kind = "survey"
	// FollowUp calls back the patients who gave a survey an insufficient
	// rating.
	FollowUp Kind = "follow_up"
	// CleanUp is a one-off recall of an agenda over a date range, at a CUP
	// manager's request.
	CleanUp Kind = "clean_up"
	// UrgentMove checks patients' numbers when a facility must move their
	// bookings.
	UrgentMove Kind = "urgent_move"
)

// Kinds are every kind, in the order a user would list them.
var Kinds = []Kind{Recall, Offer, Survey, FollowUp, CleanUp, UrgentMove}

// ParseKind reads a stored or typed kind.
func ParseKind(s string) (Kind, error) {
	for _, k := range Kinds {
		if string(k) == s {
			return k, nil
		}
	}
	names := make([]string, len(Kinds))
	for i, k := range Kinds {
		names[i] = string(k)
	}
	return "", fmt.Errorf("job: kind %q is not one of %s", s, strings.Join(names, ", "))
}

// Script is a call script as a job carries it: its text, stored with the
// campaign, and the name errors give it (a file's path).
type Script struct {
	Name string
	Text []byte
}

// Skipped is a row of a job's source left out of its campaign: by line (or
// position) only, as a file's numbers and codes stay in the file.
type Skipped struct {
	Line   int
	Reason string
}

// Source is what a job may read of the store to build its contacts: the
// campaigns and their attempts' results (a follow-up reads the survey's).
type Source interface {
	CampaignByName(ctx context.Context, name string) (store.Campaign, error)
	AttemptResults(ctx context.Context, campaign int64) ([]store.AttemptResult, error)
}

// Job is one way of making a campaign. Each kind of job says where its
// contacts come from; its Kind's Calls say how they are called.
type Job interface {
	// Kind is the kind of campaign the job makes.
	Kind() Kind
	// Script is the call script the campaign runs with.
	Script() Script
	// Contacts builds the contacts, in calling order, with each one's
	// payload for the script. A row that cannot be called is skipped and
	// reported; an error stops the creation.
	Contacts(ctx context.Context, src Source) ([]store.NewContact, []Skipped, error)
}

// Calls is how the campaigns of one kind are called: what their script
// says and collects, and what an attempt's result means.
type Calls interface {
	// Check loads a campaign's script as Plan would, calling no one.
	Check(text []byte) error
	// Plan is the dialer's plan for a campaign run with script text: its
	// Call returns each attempt with the script's result and answers, its
	// Positive says which attempts achieved the campaign's purpose (the
	// service levels count them), its rules when to call again. A kind
	// that acts during the call finds what it acts through in h.
	Plan(text []byte, caller *voice.Caller, h Hooks) (dialer.Plan, error)
}

// calls are the kinds the engine dials so far. A clean-up is a recall of
// one agenda, and an urgent move's call a script with one menu (accept the
// new date, or an operator): their calls go as a recall's do; what follows
// an urgent move's is package urgent's.
var calls = map[Kind]Calls{Recall: recallCalls{}, CleanUp: recallCalls{}, UrgentMove: recallCalls{}, Offer: offerCalls{}, Survey: surveyCalls{}}

// CallsFor is how campaigns of kind are called.
func CallsFor(kind string) (Calls, error) {
	k, err := ParseKind(kind)
	if err != nil {
		return nil, err
	}
	c, ok := calls[k]
	if !ok {
		return nil, fmt.Errorf("job: %s campaigns are not dialled yet", k)
	}
	return c, nil
}

// Check loads a campaign's script as its kind runs it; the error names the
// script.
func Check(kind, name string, text []byte) error {
	c, err := CallsFor(kind)
	if err != nil {
		return err
	}
	if err := c.Check(text); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// Plan is how the contacts of campaign c are called, with its stored
// script, through caller, acting through h during the calls.
func Plan(c store.Campaign, caller *voice.Caller, h Hooks) (dialer.Plan, error) {
	if c.Script == "" {
		return dialer.Plan{}, errors.New("no script stored (load the campaign with --script)")
	}
	k, err := CallsFor(c.Kind)
	if err != nil {
		return dialer.Plan{}, err
	}
	return k.Plan([]byte(c.Script), caller, h)
}

// Created is what Create did.
type Created struct {
	ID int64
	// New says the campaign was created; otherwise the contacts were
	// added to the existing campaign of that name.
	New     bool
	Loaded  int
	Skipped []Skipped
}

// Store is what Create needs of the engine's database; *store.Store has it.
type Store interface {
	Source
	LoadCampaign(ctx context.Context, l store.CampaignLoad, now time.Time) (int64, bool, error)
}

// Create makes campaign name from j, or adds j's contacts to the campaign
// of that name and kind, as paused: it checks j's script first (a script
// that does not load stops everything), builds the contacts, then stores
// the campaign, its script and its contacts in one transaction, so that a
// failure leaves nothing behind.
func Create(ctx context.Context, st Store, name string, j Job, now time.Time) (Created, error) {
	if name == "" {
		return Created{}, errors.New("job: a campaign needs a name")
	}
	s := j.Script()
	if err := Check(string(j.Kind()), s.Name, s.Text); err != nil {
		return Created{}, err
	}
	cs, skipped, err := j.Contacts(ctx, st)
	if err != nil {
		return Created{}, err
	}
	id, created, err := st.LoadCampaign(ctx, store.CampaignLoad{Name: name, Kind: string(j.Kind()), Script: string(s.Text), Contacts: cs}, now)
	if err != nil {
		return Created{}, err
	}
	return Created{ID: id, New: created, Loaded: len(cs), Skipped: skipped}, nil
}

// RetryWarnings are the reasons a campaign's retry rules cannot close a
// package within the profile's efficiency threshold; none for a campaign
// whose script does not load (Plan says why) or whose kind is not called.
func RetryWarnings(c store.Campaign, p sla.Profile) []string {
	if _, err := CallsFor(c.Kind); err != nil || c.Script == "" {
		return nil
	}
	s, err := script.Load([]byte(c.Script), italian())
	if err != nil {
		return nil
	}
	return s.EfficiencyWarnings(p)
}
