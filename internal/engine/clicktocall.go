package engine

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/richiamo/richiamo/internal/phone"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/voice"
	"github.com/richiamo/richiamo/internal/web"
)

// ClickToCall places the console's calls: the operator's extension
// (voice.operators) rings, then the patient, and the two are joined; the
// patient's leg is recorded as an attempt on the work item's contact. One
// call at a time per account.
type ClickToCall struct {
	Store     *store.Store
	Log       *slog.Logger
	Operators map[string]string
	// RingTimeout and MaxDuration bound each leg; zero takes the Caller's.
	RingTimeout, MaxDuration time.Duration

	mu     sync.Mutex
	caller *voice.Caller
	calls  map[string]*web.ConsoleCall // by account, the latest
	ctx    context.Context
	stop   context.CancelFunc
	wg     sync.WaitGroup
}

// refusal is why a console call is not placed, a sentence in Italian
// the console shows as it is.
type refusal string

func (r refusal) Error() string { return string(r) }

// The refusals of a console call.
const (
	errNoExtension refusal = "Al suo account non è associato alcun interno (voice.operators)."
	errNoCalls     refusal = "Le chiamate non sono attive: manca il trunk (voice.trunk.proxy)."
	errOnACall     refusal = "Ha già una chiamata in corso."
)

// SetCaller gives the calls their user agent, once started.
func (cc *ClickToCall) SetCaller(c *voice.Caller) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	cc.caller = c
}

// HasExtension says whether account may call from the console.
func (cc *ClickToCall) HasExtension(account string) bool {
	_, ok := cc.Operators[account]
	return ok
}

// State is account's latest console call, if any.
func (cc *ClickToCall) State(account string) (web.ConsoleCall, bool) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	c, ok := cc.calls[account]
	if !ok {
		return web.ConsoleCall{}, false
	}
	return *c, true
}

// Call starts account's call to the patient of it; it returns once the
// call is under way, and the call goes on without the request. ended, when
// not nil, is told the call's last state once it is over and recorded.
func (cc *ClickToCall) Call(ctx context.Context, account string, it store.WorkItem, ended func(web.ConsoleCall)) error {
	ext, ok := cc.Operators[account]
	if !ok {
		return errNoExtension
	}
	contact, err := cc.Store.WorkItemContact(ctx, it)
	if err != nil {
		return err
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.caller == nil {
		return errNoCalls
	}
	if c, ok := cc.calls[account]; ok && c.State != string(voice.BridgeEnded) {
		return errOnACall
	}
	if cc.calls == nil {
		cc.calls = map[string]*web.ConsoleCall{}
		cc.ctx, cc.stop = context.WithCancel(context.Background())
	}
	call := &web.ConsoleCall{ItemID: it.ID, State: string(voice.BridgeRingingOperator)}
	cc.calls[account] = call
	caller, callCtx := cc.caller, cc.ctx
	log := cc.Log.With("account", account, "item", it.ID, "to", phone.Mask(it.Phone))
	cc.wg.Go(func() {
		res, err := caller.Bridge(callCtx, voice.BridgeRequest{
			Operator: ext, Patient: it.Phone, RingTimeout: cc.RingTimeout, MaxDuration: cc.MaxDuration,
			OnState: func(s voice.BridgeState) {
				cc.mu.Lock()
				call.State = string(s)
				cc.mu.Unlock()
			},
		})
		outcome := res.Patient.Outcome
		if errors.Is(err, voice.ErrOperatorUnreached) {
			log.Info("console call: the operator's extension did not answer", "outcome", string(res.Operator.Outcome))
		} else if err != nil {
			log.Warn("console call not placed", "err", err)
		}
		cc.mu.Lock()
		call.Outcome, call.OperatorOutcome = string(outcome), string(res.Operator.Outcome)
		call.State = string(voice.BridgeEnded)
		last := *call
		cc.mu.Unlock()
		if ended != nil {
			defer ended(last)
		}
		if !res.PatientCalled() || contact == 0 {
			return
		}
		p := res.Patient
		if err := cc.Store.RecordConsoleAttempt(context.Background(), store.ConsoleAttempt{
			ContactID: contact, Operator: account, Counted: outcome != voice.Congestion,
			StartedAt: p.Start, RingingAt: p.Ringing, AnsweredAt: p.Answer, EndedAt: p.End,
			SIPCode: p.SIPCode, Outcome: string(outcome),
		}); err != nil {
			log.Error("console call not recorded", "err", err)
			return
		}
		log.Info("console call", "outcome", string(outcome), "talk_ms", p.TalkMS)
	})
	return nil
}

// Close hangs up the console's calls and waits for them to be recorded.
func (cc *ClickToCall) Close() {
	cc.mu.Lock()
	if cc.stop != nil {
		cc.stop()
	}
	cc.mu.Unlock()
	cc.wg.Wait()
}
