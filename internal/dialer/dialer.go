// Package dialer owns when and whom the engine calls: it claims due contacts
// from the store with a lease, places their calls within the channel limit,
// the call rate and the operating window, and records every attempt with the
// contact's next state under the retry rules. How a call is placed and what
// is said in it belong to the Call function it is given, so the dialer runs
// the same against a SIP trunk and against a fake in tests.
package dialer

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/richiamo/richiamo/internal/calendar"
	"github.com/richiamo/richiamo/internal/phone"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/voice"
)

// Store is what the dialer needs of the engine's database; *store.Store has
// it.
type Store interface {
	// ClaimContactsWithin claims up to limit due contacts, leaving no more
	// than channels in progress across every dialer on the store.
	ClaimContactsWithin(ctx context.Context, owner string, campaign int64, now, until time.Time, limit, channels int) ([]store.Contact, error)
	// RenewLeases extends owner's leases on ids to until and returns the
	// ids still owner's.
	RenewLeases(ctx context.Context, owner string, ids []int64, until time.Time) ([]int64, error)
	RecordAttempt(ctx context.Context, a store.AttemptRecord) error
	ReleaseContact(ctx context.Context, id int64, owner string, next time.Time) error
	ReleaseExpired(ctx context.Context, now time.Time) (int64, error)
}

// Rule is what follows an attempt with a given outcome.
type Rule struct {
	// Final closes the contact.
	Final bool
	// After is how long after the attempt's end the contact is due again
	// when the outcome is not final.
	After time.Duration
}

// DefaultRules are the retry rules when a campaign sets none: a busy line is
// tried again soon, a phone that rang out or was off later; a number that
// does not exist or a patient who refused is not called again.
func DefaultRules() map[voice.Outcome]Rule {
	return map[voice.Outcome]Rule{
		voice.Answered:      {Final: true},
		voice.Busy:          {After: 15 * time.Minute},
		voice.NoAnswer:      {After: 2 * time.Hour},
		voice.Unavailable:   {After: time.Hour},
		voice.Rejected:      {Final: true},
		voice.InvalidNumber: {Final: true},
		voice.Congestion:    {After: time.Minute},
		voice.Failed:        {After: time.Hour},
	}
}

var outcomes = []voice.Outcome{voice.Answered, voice.Busy, voice.NoAnswer, voice.Rejected, voice.Unavailable, voice.InvalidNumber, voice.Congestion, voice.Failed}

// The most calls in progress, and started per second, when a Config leaves
// them at zero.
const (
	DefaultChannels       = 60
	DefaultCallsPerSecond = 5
)

// Config is a Dialer's settings. New fills the defaults named here and
// rejects a bad setting with an error that names it.
type Config struct {
	// Store holds the contacts and receives the attempts. Required.
	Store Store
	// Call places one call to a contact and reports how it went and what
	// its script collected. Required. It is called with a context that is
	// not cancelled when Run's is, so that a call in progress ends
	// normally.
	Call func(ctx context.Context, c store.Contact) Attempt
	// Positive says whether a final answered call achieved its purpose;
	// nil: every answered call is positive.
	Positive func(a Attempt) bool
	// Calendar says when calls may be placed; nil: the contract's
	// operating window with the national holidays.
	Calendar *calendar.Calendar
	// Channels is the most calls in progress at once (DefaultChannels), counted
	// over every dialer on the store: dialers of several engine processes
	// share it, as they share the trunk.
	Channels int
	// CallsPerSecond is the most calls started per second
	// (DefaultCallsPerSecond).
	CallsPerSecond float64
	// MaxAttempts is the most attempts per contact (default 3), spread
	// over at least two days: the last one is never on the same day as all
	// the earlier ones. Congestion does not count.
	MaxAttempts int
	// SameDay lets every attempt fall on one day: the last is not moved to
	// another day. The contract's efficiency level (a package of 100 within
	// a few working hours) may want that.
	SameDay bool
	// Rules per outcome; an outcome left out takes DefaultRules' rule.
	Rules map[voice.Outcome]Rule
	// Lease is how long a claimed contact stays ours without a renewal
	// (default 15m). The dialer renews the lease of every contact it holds
	// each Renew while it holds it, so a call keeps its contact however
	// long it lasts; a lease lapses, and its contact waits again for any
	// dialer, only when its dialer stopped renewing (it died, hung, or lost
	// the store for longer than Lease).
	Lease time.Duration
	// Renew is how often the leases held are renewed, on the real clock
	// whatever Now says: a call lasts real time (default Lease/3). It must
	// be shorter than Lease.
	Renew time.Duration
	// Poll is how often to look for due contacts when there are none and
	// no call is in progress (default 5s).
	Poll time.Duration
	// Owner names this dialer in leases (default host:pid).
	Owner string
	// Campaign limits the dialer to one campaign's contacts (0: every
	// campaign's; store.AnyActive: the active campaigns').
	Campaign int64
	// Plan, when set, gives the plan of each claimed contact's campaign,
	// asked just before its call: the plan's Call, Positive, MaxAttempts
	// and Rules take the place of the Config's, so that one Dialer works
	// several campaigns, each its own way, within one channel limit and one
	// call rate. When it returns false the campaign is not to be called
	// now (it was paused): the contact is given back, due after Poll.
	Plan func(ctx context.Context, campaign int64) (Plan, bool)
	// Now and Sleep are the clock; tests give a fake one. Sleep returns
	// early with ctx's error when ctx ends.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// Log receives a line per attempt, numbers masked; nil discards.
	Log *slog.Logger
}

// Attempt is what a call gives back: how the call went, and what the
// job's script made of it. The dialer stores both with the attempt.
type Attempt struct {
	Call voice.Result
	// Result is the script's result for the whole call, such as
	// "confermato"; empty when no script ran (the call was not answered).
	Result string
	// Answers are what the script collected, question by question.
	Answers []store.Answer
}

// Plan is how the contacts of one campaign are called: the fields of the
// same names in Config, with the same defaults.
type Plan struct {
	Call        func(ctx context.Context, c store.Contact) Attempt
	Positive    func(a Attempt) bool
	MaxAttempts int
	SameDay     bool
	Rules       map[voice.Outcome]Rule
}

func (p Plan) withDefaults() Plan {
	if p.MaxAttempts == 0 {
		p.MaxAttempts = 3
	}
	rules := DefaultRules()
	for o, r := range p.Rules {
		rules[o] = r
	}
	p.Rules = rules
	if p.Positive == nil {
		p.Positive = func(a Attempt) bool { return a.Call.Outcome == voice.Answered }
	}
	return p
}

// Validate checks a plan as Config.Validate checks the same fields.
func (p Plan) Validate() error {
	if p.Call == nil {
		return errors.New("dialer: Call is required")
	}
	return Config{Store: noStore{}, Call: p.Call, MaxAttempts: p.MaxAttempts, Rules: p.Rules}.Validate()
}

// noStore stands in for the store when a Plan alone is validated.
type noStore struct{ Store }

func (c Config) withDefaults() (Config, error) {
	if c.Channels == 0 {
		c.Channels = DefaultChannels
	}
	if c.CallsPerSecond == 0 {
		c.CallsPerSecond = DefaultCallsPerSecond
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = 3
	}
	rules := DefaultRules()
	for o, r := range c.Rules {
		rules[o] = r
	}
	c.Rules = rules
	if c.Lease == 0 {
		c.Lease = 15 * time.Minute
	}
	if c.Renew == 0 {
		c.Renew = c.Lease / 3
	}
	if c.Poll == 0 {
		c.Poll = 5 * time.Second
	}
	if c.Owner == "" {
		// A random part: a process restarted in the same container has
		// the same host and pid, and must not renew the leases of the
		// calls its previous self left behind.
		host, _ := os.Hostname()
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		c.Owner = fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b))
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Sleep == nil {
		c.Sleep = sleep
	}
	if c.Log == nil {
		c.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.Positive == nil {
		c.Positive = func(a Attempt) bool { return a.Call.Outcome == voice.Answered }
	}
	if c.Calendar == nil {
		cal, err := calendar.New(calendar.Config{})
		if err != nil {
			return c, err
		}
		c.Calendar = cal
	}
	return c, nil
}

// Validate checks the settings as New would use them.
func (c Config) Validate() error {
	switch {
	case c.Store == nil:
		return errors.New("dialer: Store is required")
	case c.Call == nil && c.Plan == nil:
		return errors.New("dialer: Call (or Plan) is required")
	case c.Channels < 0:
		return fmt.Errorf("dialer: Channels is %d, must be at least 1", c.Channels)
	case c.CallsPerSecond < 0:
		return fmt.Errorf("dialer: CallsPerSecond is %g, must be positive", c.CallsPerSecond)
	case c.MaxAttempts < 0:
		return fmt.Errorf("dialer: MaxAttempts is %d, must be at least 1", c.MaxAttempts)
	case c.Lease < 0:
		return fmt.Errorf("dialer: Lease is %s, must be positive", c.Lease)
	case c.Renew < 0:
		return fmt.Errorf("dialer: Renew is %s, must be positive", c.Renew)
	case c.Renew > 0 && c.Renew >= cmp.Or(c.Lease, 15*time.Minute):
		return fmt.Errorf("dialer: Renew is %s, must be shorter than Lease (%s)", c.Renew, cmp.Or(c.Lease, 15*time.Minute))
	case c.Poll < 0:
		return fmt.Errorf("dialer: Poll is %s, must be positive", c.Poll)
	}
	for o, r := range c.Rules {
		known := false
		for _, k := range outcomes {
			known = known || o == k
		}
		if !known {
			return fmt.Errorf("dialer: Rules[%q]: not an outcome", o)
		}
		if r.After < 0 {
			return fmt.Errorf("dialer: Rules[%q].After is %s, must not be negative", o, r.After)
		}
		if o == voice.Congestion && r.Final {
			return errors.New("dialer: Rules[congestion].Final: a trunk failure cannot close a contact")
		}
	}
	return nil
}

// Dialer places the calls of the contacts in its store. Several Dialers, in
// one process or several, may share a store.
type Dialer struct {
	cfg  Config
	lim  *rate.Limiter
	done chan struct{} // a call ended and was recorded

	mu   sync.Mutex
	held map[int64]bool // contacts leased to us, not yet recorded or given back; true once the lease was found lost
}

// New checks the configuration and builds a Dialer.
func New(cfg Config) (*Dialer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("dialer: calendar: %w", err)
	}
	// A burst of one spaces the calls evenly: no second ever holds more
	// than CallsPerSecond starts.
	return &Dialer{cfg: cfg, lim: rate.NewLimiter(rate.Limit(cfg.CallsPerSecond), 1), done: make(chan struct{}, cfg.Channels),
		held: map[int64]bool{}}, nil
}

// Config is the configuration in effect, defaults filled.
func (d *Dialer) Config() Config { return d.cfg }

// Run places calls until ctx ends, then waits for the calls in progress to
// end and be recorded, gives back the contacts it had claimed but not
// called, and returns nil. An error from the store stops it.
func (d *Dialer) Run(ctx context.Context) error {
	// The leases are renewed until the last call is recorded: the
	// deferred calls run in reverse, wg.Wait first.
	stop := make(chan struct{})
	var renewing sync.WaitGroup
	renewing.Go(func() { d.renew(stop) })
	defer renewing.Wait()
	defer close(stop)
	slots := make(chan struct{}, d.cfg.Channels)
	var wg sync.WaitGroup
	defer wg.Wait()
	for ctx.Err() == nil {
		now := d.cfg.Now()
		if !d.cfg.Calendar.Open(now) {
			next := d.cfg.Calendar.NextOpen(now)
			if next.IsZero() {
				return errors.New("dialer: the calendar never opens")
			}
			d.cfg.Log.Info("dialer: closed, waiting", "until", next)
			_ = d.cfg.Sleep(ctx, next.Sub(now))
			continue
		}
		// Take a free channel, waiting for one, then every other free one:
		// a claim asks for as many contacts as can be called now.
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		free := 1
	more:
		for {
			select {
			case slots <- struct{}{}:
				free++
			default:
				break more
			}
		}
		now = d.cfg.Now()
		if _, err := d.cfg.Store.ReleaseExpired(ctx, now); err != nil && ctx.Err() == nil {
			return err
		}
		cs, err := d.cfg.Store.ClaimContactsWithin(ctx, d.cfg.Owner, d.cfg.Campaign, now, now.Add(d.cfg.Lease), free, d.cfg.Channels)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		d.hold(cs)
		for range free - len(cs) {
			<-slots
		}
		if len(cs) == 0 {
			if len(slots) > 0 {
				// A call ending may make its number, or a retry, due; a
				// campaign started meanwhile is seen at the next poll.
				t := time.NewTimer(d.cfg.Poll)
				select {
				case <-d.done:
				case <-ctx.Done():
				case <-t.C:
				}
				t.Stop()
			} else {
				_ = d.cfg.Sleep(ctx, d.cfg.Poll)
			}
			continue
		}
		for i, c := range cs {
			at, ok := d.pace(ctx)
			if !ok {
				d.release(cs[i:], d.cfg.Now())
				for range len(cs) - i {
					<-slots
				}
				break
			}
			p, ok := d.plan(ctx, c.CampaignID)
			if !ok {
				// Due again after a poll, not at once: the next claim
				// would hand it straight back.
				d.release(cs[i:i+1], d.cfg.Now().Add(d.cfg.Poll))
				<-slots
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-slots }()
				d.call(context.WithoutCancel(ctx), c, at, p)
			}()
		}
	}
	return nil
}

// pace waits for the call rate to allow a call and returns the moment it
// may start, or false when ctx ended or the window closed meanwhile.
func (d *Dialer) pace(ctx context.Context) (time.Time, bool) {
	now := d.cfg.Now()
	if wait := d.lim.ReserveN(now, 1).DelayFrom(now); wait > 0 {
		if d.cfg.Sleep(ctx, wait) != nil {
			return time.Time{}, false
		}
		now = d.cfg.Now()
	}
	return now, ctx.Err() == nil && d.cfg.Calendar.Open(now)
}

// release gives back contacts claimed but not called, due at next.
func (d *Dialer) release(cs []store.Contact, next time.Time) {
	for _, c := range cs {
		d.drop(c.ID)
		if err := d.cfg.Store.ReleaseContact(context.Background(), c.ID, d.cfg.Owner, next); err != nil {
			d.cfg.Log.Error("dialer: release", "contact", c.ID, "err", err)
		}
	}
}

// hold notes claimed contacts, whose leases renew keeps.
func (d *Dialer) hold(cs []store.Contact) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range cs {
		d.held[c.ID] = false
	}
}

// drop forgets a contact recorded or given back.
func (d *Dialer) drop(id int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.held, id)
}

// renew extends the leases of the contacts held every Renew until stop
// closes. A contact whose lease was found lost (the store was out of reach
// for longer than Lease, and another dialer may be calling it) is logged
// once; its call goes on and is recorded all the same.
func (d *Dialer) renew(stop <-chan struct{}) {
	t := time.NewTicker(d.cfg.Renew)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		d.mu.Lock()
		var ids []int64
		for id, lost := range d.held {
			if !lost {
				ids = append(ids, id)
			}
		}
		d.mu.Unlock()
		if len(ids) == 0 {
			continue
		}
		kept, err := d.cfg.Store.RenewLeases(context.Background(), d.cfg.Owner, ids, d.cfg.Now().Add(d.cfg.Lease))
		if err != nil {
			d.cfg.Log.Error("dialer: renewing leases", "contacts", len(ids), "err", err)
			continue
		}
		ok := make(map[int64]bool, len(kept))
		for _, id := range kept {
			ok[id] = true
		}
		d.mu.Lock()
		for _, id := range ids {
			if _, still := d.held[id]; still && !ok[id] {
				d.held[id] = true
				d.cfg.Log.Warn("dialer: lease lost while holding the contact", "contact", id)
			}
		}
		d.mu.Unlock()
	}
}

// base is the plan of the Config's own fields.
func (d *Dialer) base() Plan {
	return Plan{Call: d.cfg.Call, Positive: d.cfg.Positive, MaxAttempts: d.cfg.MaxAttempts, SameDay: d.cfg.SameDay, Rules: d.cfg.Rules}
}

// plan is how to call a contact of campaign, and whether to call it now.
func (d *Dialer) plan(ctx context.Context, campaign int64) (Plan, bool) {
	if d.cfg.Plan == nil {
		return d.base(), true
	}
	p, ok := d.cfg.Plan(ctx, campaign)
	if !ok || p.Call == nil {
		return Plan{}, false
	}
	return p.withDefaults(), true
}

func (d *Dialer) call(ctx context.Context, c store.Contact, at time.Time, p Plan) {
	defer func() {
		select {
		case d.done <- struct{}{}:
		default:
		}
	}()
	a := p.Call(ctx, c)
	r := &a.Call
	// The dialer's clock is the record's: the call's own times (the wall
	// clock) give only the durations. They differ when the dialer runs on
	// another clock, as the demo's simulated day does, and retries must be
	// scheduled on the clock that claims them.
	if !r.Start.IsZero() {
		shift := at.Sub(r.Start)
		for _, t := range []*time.Time{&r.Ringing, &r.Answer, &r.End} {
			if !t.IsZero() {
				*t = t.Add(shift)
			}
		}
	}
	r.Start = at
	if r.End.IsZero() || r.End.Before(r.Start) {
		r.End = r.Start
	}
	rec := d.next(p, c, a)
	rec.Owner = d.cfg.Owner
	// No longer renewed from here: the lease has at least two renewals'
	// worth left, and a renewal racing the record would find it gone.
	d.drop(c.ID)
	if err := d.cfg.Store.RecordAttempt(ctx, rec); err != nil {
		d.cfg.Log.Error("dialer: record attempt", "contact", c.ID, "phone", phone.Mask(c.Phone), "err", err)
		return
	}
	d.cfg.Log.Info("dialer: attempt", "contact", c.ID, "phone", phone.Mask(c.Phone), "attempt", c.Attempts+1,
		"outcome", r.Outcome, "sip_code", r.SIPCode, "final", rec.Final)
}

// Next is the attempt record of a call to c with result r: whether it
// counts, whether it closes the contact, and when the contact is due again,
// under the Config's own rules.
func (d *Dialer) Next(c store.Contact, r voice.Result) store.AttemptRecord {
	return d.next(d.base(), c, Attempt{Call: r})
}

func (d *Dialer) next(p Plan, c store.Contact, a Attempt) store.AttemptRecord {
	r := a.Call
	rec := store.AttemptRecord{
		ContactID: c.ID, Counted: r.Outcome.CountsAsAttempt(),
		StartedAt: r.Start, RingingAt: r.Ringing, AnsweredAt: r.Answer, EndedAt: r.End,
		SIPCode: r.SIPCode, Outcome: string(r.Outcome), Digits: r.Digits,
		Result: a.Result, Answers: a.Answers,
	}
	rule, ok := p.Rules[r.Outcome]
	if !ok {
		rule = p.Rules[voice.Failed]
	}
	n := c.Attempts
	if rec.Counted {
		n++
	}
	switch {
	case rule.Final && rec.Counted:
		rec.Final = true
		rec.Positive = r.Outcome == voice.Answered && p.Positive(a)
	case rec.Counted && n >= p.MaxAttempts:
		rec.Final = true
	}
	if rec.Final {
		return rec
	}
	rec.NextAttemptAt = r.End.Add(rule.After)
	if !p.SameDay && rec.Counted && n == p.MaxAttempts-1 && p.MaxAttempts > 1 {
		first := r.Start
		if c.FirstAttemptAt != 0 {
			first = store.FromMillis(c.FirstAttemptAt)
		}
		// Every attempt so far fell on one day: the last must not.
		if sameDay(first, r.Start, d.cfg.Calendar.Location()) {
			if nextDay := nextMidnight(r.Start, d.cfg.Calendar.Location()); rec.NextAttemptAt.Before(nextDay) {
				rec.NextAttemptAt = d.cfg.Calendar.NextOpen(nextDay)
			}
		}
	}
	return rec
}

func sameDay(a, b time.Time, loc *time.Location) bool {
	ya, ma, da := a.In(loc).Date()
	yb, mb, db := b.In(loc).Date()
	return ya == yb && ma == mb && da == db
}

func nextMidnight(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, loc)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
