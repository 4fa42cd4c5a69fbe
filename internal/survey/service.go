package survey

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/richiamo/richiamo/internal/calendar"
	"github.com/richiamo/richiamo/internal/calllog"
	"github.com/richiamo/richiamo/internal/phone"
	"github.com/richiamo/richiamo/internal/script"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/voice/say"
)

// CampaignName is the call campaign the survey's calls are made in.
const CampaignName = "questionario-soddisfazione"

// WorkKind is the kind of the follow-up work items (worklist.Survey).
const WorkKind = "survey"

// Store is what the survey needs of the engine's database; *store.Store
// has it.
type Store interface {
	RecordInboundCalls(ctx context.Context, calls []store.InboundCall, now time.Time) (int, error)
	InboundCallsOfDay(ctx context.Context, day string) ([]store.InboundCall, error)
	SurveyHistoryBetween(ctx context.Context, since, until time.Time) (store.SurveyHistory, error)
	AddSurveySamples(ctx context.Context, campaignID int64, samples []store.NewSurveySample, now time.Time) (int, error)
	ExpireSurveySamples(ctx context.Context, now time.Time) (int, error)
	RefuseSurveys(ctx context.Context, phone string, now time.Time) error
	SurveyInterviews(ctx context.Context, from, to time.Time) ([]store.SurveyInterview, error)
	SetSurveyFollowUp(ctx context.Context, callID string, item int64) error
	AddWorkItem(ctx context.Context, w store.NewWorkItem) (int64, bool, error)
	LoadCampaign(ctx context.Context, l store.CampaignLoad, now time.Time) (int64, bool, error)
	SetCampaignState(ctx context.Context, id int64, state string) (bool, error)
}

// Service runs the survey while the day goes on: it takes the phone
// system's calls (the inbox files, and those the endpoint records), draws
// the day's sample and gives each new sampled call a contact of the survey
// campaign, expires the calls not made in time, refuses the numbers that
// asked so, and opens a follow-up for each low rating.
type Service struct {
	Config Config
	Store  Store
	// Script is the interview the campaign runs (campaigns/survey.yaml).
	Script []byte
	// Inbox is the glob of the phone system's CSV files ("" for none);
	// Layout how they are written.
	Inbox  string
	Layout calllog.Layout
	// Every is how often the service runs (default a minute).
	Every time.Duration
	Now   func() time.Time
	Log   *slog.Logger

	mu       sync.Mutex
	campaign int64
	read     map[string]time.Time // inbox files read, by their modification time
}

// Validate fills the defaults and says what cannot work.
func (s *Service) Validate() error {
	s.Config = s.Config.WithDefaults()
	if err := s.Config.Validate(); err != nil {
		return err
	}
	if s.Store == nil || s.Now == nil || s.Log == nil || len(s.Script) == 0 {
		return errors.New("survey: the service needs a store, a clock, a logger and the interview")
	}
	if s.Every == 0 {
		s.Every = time.Minute
	}
	text, err := withAttempts(s.Script, s.Config.Attempts)
	if err != nil {
		return err
	}
	if _, err := script.LoadInterview(text, say.Italian()); err != nil {
		return err
	}
	s.Script = text
	if s.Inbox != "" {
		if _, err := calllog.Files(s.Inbox); err != nil {
			return err
		}
	}
	return s.Layout.Validate()
}

// Run runs the service every s.Every until ctx ends; a failed round is
// logged and the next one tries again.
func (s *Service) Run(ctx context.Context) error {
	if err := s.Validate(); err != nil {
		return err
	}
	t := time.NewTicker(s.Every)
	defer t.Stop()
	for {
		if _, err := s.Round(ctx); err != nil && ctx.Err() == nil {
			s.Log.Error("survey: round failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// RecordCall keeps one call the endpoint received; calllog.Endpoint calls
// it.
func (s *Service) RecordCall(ctx context.Context, c calllog.Call, now time.Time) error {
	_, err := s.Store.RecordInboundCalls(ctx, []store.InboundCall{toStore(c)}, now)
	return err
}

func toStore(c calllog.Call) store.InboundCall {
	ms := func(t time.Time) int64 {
		if t.IsZero() {
			return 0
		}
		return t.UnixMilli()
	}
	return store.InboundCall{CallID: c.ID, Caller: c.Caller, StartedAt: ms(c.Start), AnsweredAt: ms(c.Answer), EndedAt: ms(c.End),
		Operator: c.Operator, Queue: c.Queue, Outcome: c.Outcome, Day: c.End.In(calendar.Rome).Format(time.DateOnly)}
}

func fromStore(c store.InboundCall) calllog.Call {
	t := func(v int64) time.Time {
		if v == 0 {
			return time.Time{}
		}
		return time.UnixMilli(v).In(calendar.Rome)
	}
	return calllog.Call{ID: c.CallID, Caller: c.Caller, Start: t(c.StartedAt), Answer: t(c.AnsweredAt), End: t(c.EndedAt),
		Operator: c.Operator, Queue: c.Queue, Outcome: c.Outcome}
}

// Rounded is what one round did.
type Rounded struct {
	CallsRead  int
	Rejections []calllog.Rejection
	Sampled    int // new calls drawn
	Expired    int
	Refusals   int
	FollowUps  int
}

// Round does one pass of the service.
func (s *Service) Round(ctx context.Context) (Rounded, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var r Rounded
	now := s.Now()
	if s.campaign == 0 {
		id, created, err := s.Store.LoadCampaign(ctx, store.CampaignLoad{Name: CampaignName, Kind: "survey", Script: string(s.Script)}, now)
		if err != nil {
			return r, err
		}
		// The survey is hot or not at all: its campaign is dialled from
		// the start. Paused later by an operator, it stays paused.
		if created {
			if _, err := s.Store.SetCampaignState(ctx, id, store.CampaignActive); err != nil {
				return r, err
			}
		}
		s.campaign = id
	}
	if err := s.readInbox(ctx, now, &r); err != nil {
		return r, err
	}
	day := now.In(calendar.Rome).Format(time.DateOnly)
	n, err := s.draw(ctx, day, now)
	if err != nil {
		return r, err
	}
	r.Sampled = n
	if r.Expired, err = s.Store.ExpireSurveySamples(ctx, now); err != nil {
		return r, err
	}
	if r.Expired > 0 {
		s.Log.Info("survey: calls not made in time expired", "expired", r.Expired)
	}
	if err := s.followUps(ctx, now, &r); err != nil {
		return r, err
	}
	return r, nil
}

// readInbox records the calls of the inbox files new or changed since
// they were read.
func (s *Service) readInbox(ctx context.Context, now time.Time, r *Rounded) error {
	if s.Inbox == "" {
		return nil
	}
	if s.read == nil {
		s.read = map[string]time.Time{}
	}
	names, err := calllog.Files(s.Inbox)
	if err != nil {
		return err
	}
	for _, name := range names {
		fi, err := os.Stat(name)
		if err != nil || s.read[name].Equal(fi.ModTime()) {
			continue
		}
		var batch []store.InboundCall
		rej, err := calllog.ReadFiles([]string{name}, s.Layout, func(c calllog.Call) error {
			batch = append(batch, toStore(c))
			return nil
		})
		for _, x := range rej {
			s.Log.Warn("survey: call log row not used", "file", x.File, "line", x.Line, "reason", x.Reason)
		}
		r.Rejections = append(r.Rejections, rej...)
		if err != nil {
			s.Log.Error("survey: call log file not read", "err", err)
			continue
		}
		if _, err := s.Store.RecordInboundCalls(ctx, batch, now); err != nil {
			return err
		}
		r.CallsRead += len(batch)
		s.read[name] = fi.ModTime()
	}
	return nil
}

// draw draws day's sample on the calls known so far and adds the calls
// not drawn before.
func (s *Service) draw(ctx context.Context, day string, now time.Time) (int, error) {
	calls, err := s.Store.InboundCallsOfDay(ctx, day)
	if err != nil || len(calls) == 0 {
		return 0, err
	}
	start, _ := time.ParseInLocation(time.DateOnly, day, calendar.Rome)
	h, err := s.Store.SurveyHistoryBetween(ctx, start.AddDate(0, 0, -s.Config.QuietDays), start)
	if err != nil {
		return 0, err
	}
	mem := &Memory{QuietDays: s.Config.QuietDays, DoNotCall: h.DoNotCall, Refusals: h.Refusals, Last: map[string]time.Time{}}
	for p, at := range h.Last {
		t := time.UnixMilli(at).In(calendar.Rome)
		mem.Last[p] = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, calendar.Rome)
	}
	sm, err := NewSampler(s.Config, mem, true)
	if err != nil {
		return 0, err
	}
	for _, c := range calls {
		sm.Add(fromStore(c))
	}
	d := sm.Draw(day)
	var add []store.NewSurveySample
	for _, x := range d.Sampled {
		from, until := s.Config.Window(x.EndedAt)
		payload, err := json.Marshal(script.SurveyPayload{CallID: x.CallID, Operator: x.Operator, Queue: x.Call.Queue, EndedAt: x.EndedAt, NotAfter: until})
		if err != nil {
			return 0, err
		}
		add = append(add, store.NewSurveySample{CallID: x.CallID, Day: day, Operator: x.Operator, Phone: x.Number,
			EndedAt: x.EndedAt, DueAt: from, NotAfter: until, Payload: string(payload)})
	}
	n, err := s.Store.AddSurveySamples(ctx, s.campaign, add, now)
	if n > 0 {
		s.Log.Info("survey: calls drawn", "day", day, "new", n, "eligible", d.Eligible, "handled", d.Handled)
	}
	return n, err
}

// followUps refuses the numbers that pressed the refusal key and opens a
// work item for each interview with a low rating, once.
func (s *Service) followUps(ctx context.Context, now time.Time, r *Rounded) error {
	ivs, err := s.Store.SurveyInterviews(ctx, now.Add(-s.Config.MaxDelay-24*time.Hour), now.Add(time.Minute))
	if err != nil {
		return err
	}
	for _, iv := range ivs {
		if iv.Result == script.RefusedSurveys {
			if err := s.Store.RefuseSurveys(ctx, iv.Phone, now); err != nil {
				return err
			}
			r.Refusals++
			continue
		}
		if iv.FollowUp != 0 || !FollowUp(iv.Answers, s.Config.FollowUpBelow) {
			continue
		}
		id, added, err := s.Store.AddWorkItem(ctx, store.NewWorkItem{Kind: WorkKind, RefID: iv.ContactID, Phone: iv.Phone,
			Body: FollowUpText(iv), ArrivedAt: now})
		if err != nil {
			return err
		}
		if added {
			if err := s.Store.SetSurveyFollowUp(ctx, iv.CallID, id); err != nil {
				return err
			}
			r.FollowUps++
			s.Log.Info("survey: follow-up opened", "phone", phone.Mask(iv.Phone), "operator", iv.Operator, "item", id)
		}
	}
	return nil
}

// questionLabels are the shipped interview's questions as an operator
// reads them.
var questionLabels = map[string]string{
	"servizio":   "servizio",
	"cortesia":   "cortesia dell'operatore",
	"competenza": "competenza dell'operatore",
	"risolto":    "problema risolto",
}

// FollowUpText is what the operator reads on the follow-up item: the
// answers and the original call.
func FollowUpText(iv store.SurveyInterview) string {
	var b strings.Builder
	ended := time.UnixMilli(iv.EndedAt).In(calendar.Rome)
	fmt.Fprintf(&b, "Questionario del %s: telefonata delle %s con l'operatore %s", ended.Format("02/01/2006"), ended.Format("15:04"), iv.Operator)
	if iv.Queue != "" {
		fmt.Fprintf(&b, " (coda %s)", iv.Queue)
	}
	b.WriteString(". Voti:")
	for i, a := range iv.Answers {
		label := questionLabels[a.Question]
		if label == "" {
			label = a.Question
		}
		v := a.Value
		if v == "" {
			v = "nessuna risposta"
		}
		sep := ","
		if i == 0 {
			sep = ""
		}
		fmt.Fprintf(&b, "%s %s %s", sep, label, v)
	}
	b.WriteString(".")
	return b.String()
}

// withAttempts is the interview text with retry.max_attempts set to n, so
// that survey.attempts is what the dialer follows.
func withAttempts(text []byte, n int) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(text, &doc); err != nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("survey: the interview is not a YAML mapping")
	}
	root := doc.Content[0]
	var retry *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "retry" {
			retry = root.Content[i+1]
		}
	}
	if retry == nil {
		retry = &yaml.Node{Kind: yaml.MappingNode}
		root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "retry"}, retry)
	}
	value := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(n)}
	set := false
	for i := 0; i+1 < len(retry.Content); i += 2 {
		if retry.Content[i].Value == "max_attempts" {
			retry.Content[i+1], set = value, true
		}
	}
	if !set {
		retry.Content = append(retry.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "max_attempts"}, value)
	}
	return yaml.Marshal(&doc)
}
