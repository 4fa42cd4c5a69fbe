// Package inbound routes a patient's SMS to the job waiting for an answer
// from that number: a reminder's confirmation or cancellation, a slot
// offer's acceptance, an operator's conversation. Jobs say what they wait
// for by opening an expectation (phone, job, reference, expiry) in the
// store, and register a Handler for their job name.
//
// The most recent open expectation that takes the message wins. A message
// that two jobs would both take as one of their keywords (a bare "SI" with
// a reminder and an offer that both read SI) is asked back, never guessed;
// a message no job takes goes to the operators' worklist. STOP is an
// opt-out whatever is open.
package inbound

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/richiamo/richiamo/internal/phone"
	"github.com/richiamo/richiamo/internal/sms"
	"github.com/richiamo/richiamo/internal/store"
)

// Match is how a job takes a message.
type Match int

const (
	// No: not an answer this job waits for.
	No Match = iota
	// Keyword: one of the job's own answers (SI, ANNULLA, an offer's word).
	Keyword
	// FreeText: anything, for a person to read (an operator's conversation).
	FreeText
)

// Message is a patient's SMS as a handler receives it.
type Message struct {
	ReplyID    int64
	From       string
	Body       string
	Reply      sms.Reply // the body's reading as a confirmation, cancellation or stop
	ReceivedAt time.Time
}

// Outcome is what a job made of a message.
type Outcome struct {
	// Status is the reply's: store.ReplyHandled, store.ReplyAsked or
	// store.ReplyInbox (a person must read it).
	Status string
	// Answer is sent back to the patient; "" for none. It must say only
	// what was done.
	Answer string
	// Close ends the expectation: it takes no more messages.
	Close bool
}

// Handler is a job that waits for SMS answers.
type Handler interface {
	// Match says whether the job takes the message as an answer.
	Match(m Message) Match
	// Handle acts on the message for the expectation e.
	Handle(ctx context.Context, e store.Expectation, m Message) (Outcome, error)
	// HowToAnswer is the sentence telling the patient how to answer this
	// job, used when a message could be for several ("per confermare
	// l'appuntamento risponda SI").
	HowToAnswer(e store.Expectation) string
}

// Store is what the router needs of the engine's database; *store.Store
// has it.
type Store interface {
	InsertReply(ctx context.Context, r store.Reply) (int64, bool, error)
	SetReplyOutcome(ctx context.Context, id int64, status, answer string) error
	OptOut(ctx context.Context, phone, source string, now time.Time) (int64, error)
	OpenExpectations(ctx context.Context, phone string, now time.Time) ([]store.Expectation, error)
	CloseExpectation(ctx context.Context, id int64, now time.Time) error
}

// Router hands each inbound SMS to the job expecting it.
type Router struct {
	st       Store
	handlers map[string]Handler
	log      *slog.Logger
	now      func() time.Time
}

// Config is what a router needs.
type Config struct {
	Store Store
	// Handlers by job name (store.JobReminder, store.JobConversation, an
	// offer job's name…).
	Handlers map[string]Handler
	Log      *slog.Logger
	Now      func() time.Time
}

// New checks cfg and returns its router.
func New(cfg Config) (*Router, error) {
	if cfg.Store == nil {
		return nil, errors.New("inbound: Config.Store is required")
	}
	for job, h := range cfg.Handlers {
		if job == "" || h == nil {
			return nil, fmt.Errorf("inbound: Config.Handlers: job %q has no handler", job)
		}
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Router{st: cfg.Store, handlers: cfg.Handlers, log: cfg.Log, now: cfg.Now}, nil
}

// Route records a patient's message, hands it to the job expecting it and
// returns the text to answer with ("" for none). A message already seen
// (the provider retried the webhook) is not acted on twice.
func (r *Router) Route(ctx context.Context, providerID, from, body string) (string, error) {
	now := r.now()
	rp := sms.ParseReply(body)
	// Recorded for the worklist first: if anything below fails, a person
	// still reads it.
	id, fresh, err := r.st.InsertReply(ctx, store.Reply{ProviderID: providerID, Phone: from, Body: body,
		Kind: string(rp.Kind), Status: store.ReplyInbox, ReceivedAt: now.UnixMilli()})
	if err != nil || !fresh {
		return "", err
	}
	m := Message{ReplyID: id, From: from, Body: body, Reply: rp, ReceivedAt: now}
	out, job, err := r.route(ctx, m, now)
	if err != nil {
		return "", err
	}
	out.Answer = sms.Transliterate(out.Answer)
	if err := r.st.SetReplyOutcome(ctx, id, out.Status, out.Answer); err != nil {
		return "", err
	}
	r.log.Info("reply received", "from", phone.Mask(from), "kind", rp.Kind, "job", job, "outcome", out.Status)
	return out.Answer, nil
}

func (r *Router) route(ctx context.Context, m Message, now time.Time) (Outcome, string, error) {
	if m.Reply.Kind == sms.ReplyStop {
		if _, err := r.st.OptOut(ctx, m.From, "sms", now); err != nil {
			return Outcome{}, "", err
		}
		// The provider confirms the opt-out itself and blocks anything
		// more to this number, so no answer of ours.
		return Outcome{Status: store.ReplyHandled}, "stop", nil
	}
	open, err := r.st.OpenExpectations(ctx, m.From, now)
	if err != nil {
		return Outcome{}, "", err
	}
	var (
		winner  *store.Expectation
		how     Match
		rivals  []store.Expectation // other jobs that read the message as one of their keywords
		matched = map[string]bool{}
	)
	for i := range open {
		e := open[i]
		h := r.handlers[e.Job]
		if h == nil {
			continue
		}
		mt := h.Match(m)
		if mt == No {
			continue
		}
		if winner == nil {
			winner, how = &open[i], mt
			matched[e.Job] = true
			continue
		}
		if how == Keyword && mt == Keyword && !matched[e.Job] {
			matched[e.Job] = true
			rivals = append(rivals, e)
		}
	}
	if winner == nil {
		// No job waits for this: an operator reads it.
		return Outcome{Status: store.ReplyInbox}, "", nil
	}
	if len(rivals) > 0 {
		return Outcome{Status: store.ReplyAsked, Answer: r.askBack(append([]store.Expectation{*winner}, rivals...))}, "ambiguous", nil
	}
	out, err := r.handlers[winner.Job].Handle(ctx, *winner, m)
	if err != nil {
		return Outcome{}, "", fmt.Errorf("inbound: %s: %w", winner.Job, err)
	}
	if out.Status == "" {
		out.Status = store.ReplyHandled
	}
	if out.Close {
		if err := r.st.CloseExpectation(ctx, winner.ID, now); err != nil {
			return Outcome{}, "", err
		}
	}
	return out, winner.Job, nil
}

// askBack says that nothing was recorded and how to answer each job.
func (r *Router) askBack(es []store.Expectation) string {
	lines := make([]string, 0, len(es))
	for _, e := range es {
		if s := strings.TrimSpace(r.handlers[e.Job].HowToAnswer(e)); s != "" && !slices.Contains(lines, s) {
			lines = append(lines, s)
		}
	}
	return "Abbiamo ricevuto il suo messaggio, ma non sappiamo a quale delle nostre richieste risponde: per ora non abbiamo registrato nulla. " +
		strings.Join(lines, " ")
}
