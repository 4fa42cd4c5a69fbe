// Package offers owns freed slots and their offers: a slot given up in an
// agenda (by a cancelled booking, or declared by hand) is offered, in
// waves, to the patients of the same agenda booked much later, ranked by
// priority class and waiting time; the first valid acceptance takes it,
// whichever way it comes (SMS, a key in a call, an operator), on any
// engine process, by one conditional write in the store. The acceptance
// is a move request for the CUP: the patient is told the move is done
// only once the CUP has done it.
package offers

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/richiamo/richiamo/internal/calendar"
	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/phone"
	"github.com/richiamo/richiamo/internal/store"
)

// Defaults of the settings under offers.* in the configuration file.
const (
	DefaultMinDaysVisit = 31
	DefaultMinDaysExam  = 61
	DefaultWaveSize     = 3
	DefaultWaveInterval = 30 * time.Minute
	DefaultCutoffDays   = 2 // working days before the slot
	DefaultHold         = 2 * time.Hour
	DefaultLease        = time.Minute
	DefaultTick         = 30 * time.Second
	DefaultMoveTimeout  = 30 * time.Second
)

// Config holds the offer rules. A zero field means its default.
type Config struct {
	// MinDaysVisit and MinDaysExam: a candidate's appointment is at least
	// this many calendar days after the day of the offer, for a specialist
	// visit (V) and an instrumental exam (S): beyond the D class's wait.
	MinDaysVisit int
	MinDaysExam  int
	// WaveSize candidates are offered at once; the next wave follows
	// WaveInterval later if nobody took the slot.
	WaveSize     int
	WaveInterval time.Duration
	// CutoffDays: no offer stands later than this many working days
	// before the slot, when patients may still cancel without charge.
	CutoffDays int
	// Hold is how long an offer stands (or until the cutoff, if sooner).
	Hold time.Duration
	// NoCascade keeps the old slot of a patient who moved up from being
	// offered in turn.
	NoCascade bool
	// Lease is how long a process owns a slot while it sends its wave.
	Lease time.Duration
	// Tick is how often Run looks for due waves and ended offers.
	Tick time.Duration
	// MoveTimeout bounds one move request to the CUP.
	MoveTimeout time.Duration
	// Owner names this process in leases.
	Owner string
}

func (c Config) withDefaults() Config {
	c.MinDaysVisit = cmp.Or(c.MinDaysVisit, DefaultMinDaysVisit)
	c.MinDaysExam = cmp.Or(c.MinDaysExam, DefaultMinDaysExam)
	c.WaveSize = cmp.Or(c.WaveSize, DefaultWaveSize)
	c.WaveInterval = cmp.Or(c.WaveInterval, DefaultWaveInterval)
	c.CutoffDays = cmp.Or(c.CutoffDays, DefaultCutoffDays)
	c.Hold = cmp.Or(c.Hold, DefaultHold)
	c.Lease = cmp.Or(c.Lease, DefaultLease)
	c.Tick = cmp.Or(c.Tick, DefaultTick)
	c.MoveTimeout = cmp.Or(c.MoveTimeout, DefaultMoveTimeout)
	return c
}

// Problem is a setting that is wrong, by its key in the configuration
// file (offers.wave_size), so that the engine can give its line.
type Problem struct {
	Key, Message string
}

func (p Problem) Error() string { return p.Key + ": " + p.Message }

// Problems lists the settings that are wrong.
func (c Config) Problems() []Problem {
	c = c.withDefaults()
	var ps []Problem
	bad := func(key, format string, a ...any) { ps = append(ps, Problem{key, fmt.Sprintf(format, a...)}) }
	if c.MinDaysVisit < 1 || c.MinDaysVisit > 365 {
		bad("offers.min_days_visit", "%d is not between 1 and 365", c.MinDaysVisit)
	}
	if c.MinDaysExam < 1 || c.MinDaysExam > 365 {
		bad("offers.min_days_exam", "%d is not between 1 and 365", c.MinDaysExam)
	}
	if c.WaveSize < 1 || c.WaveSize > 50 {
		bad("offers.wave_size", "%d is not between 1 and 50", c.WaveSize)
	}
	if c.WaveInterval < time.Minute {
		bad("offers.wave_interval", "%s is under a minute", c.WaveInterval)
	}
	if c.CutoffDays < 0 || c.CutoffDays > 30 {
		bad("offers.cutoff", "%d working days is not between 0 and 30", c.CutoffDays)
	}
	if c.Hold < 5*time.Minute {
		bad("offers.hold", "%s is under 5 minutes", c.Hold)
	}
	return ps
}

// Validate names the settings that are wrong.
func (c Config) Validate() error {
	var errs []error
	for _, p := range c.Problems() {
		errs = append(errs, p)
	}
	return errors.Join(errs...)
}

// Deps are what a Service works with.
type Deps struct {
	Store    *store.Store
	Calendar *calendar.Calendar
	// Mover carries a move out in the CUP; nil makes every move a work
	// item for the back office.
	Mover Mover
	Log   *slog.Logger
	Now   func() time.Time
}

// Service offers freed slots.
type Service struct {
	cfg   Config
	st    *store.Store
	cal   *calendar.Calendar
	mover Mover
	log   *slog.Logger
	now   func() time.Time
}

// New checks cfg and returns the service.
func New(cfg Config, d Deps) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if d.Store == nil {
		return nil, errors.New("offers: Deps.Store is required")
	}
	if d.Calendar == nil {
		cal, err := calendar.New(calendar.Config{})
		if err != nil {
			return nil, err
		}
		d.Calendar = cal
	}
	if d.Log == nil {
		d.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	cfg = cfg.withDefaults()
	if cfg.Owner == "" {
		cfg.Owner = fmt.Sprintf("offers-%p", d.Store)
	}
	return &Service{cfg: cfg, st: d.Store, cal: d.Calendar, mover: d.Mover, log: d.Log, now: d.Now}, nil
}

// Config is the service's settings with defaults filled.
func (s *Service) Config() Config { return s.cfg }

// FreedSlot is a slot given up by a cancelled booking of an agenda whose
// slots are offered: what the recall (or any cancellation) hands over.
type FreedSlot struct {
	Node, Agenda string
	At           time.Time
	ServiceType  cup.ServiceType
	BookingCode  string
}

// Source says where a freed slot came from.
const (
	SourceCancel  = "cancel"
	SourceManual  = "manual"
	SourceCascade = "cascade"
)

// OnFreed records the slot of a cancelled booking, to be offered from the
// next tick. A slot already recorded for the same booking is left as is;
// a slot too close to offer (within the cutoff) is left out, which is no
// error for the cancellation that freed it.
func (s *Service) OnFreed(ctx context.Context, f FreedSlot) error {
	_, _, err := s.free(ctx, f, SourceCancel)
	if errors.Is(err, ErrTooLate) {
		s.log.Info("freed slot not offered: within the cutoff", "node", f.Node, "agenda", f.Agenda, "booking", phone.MaskCode(f.BookingCode))
		return nil
	}
	return err
}

// Free declares a slot by hand: its type, service and facility are those
// of the agenda's bookings in the store.
func (s *Service) Free(ctx context.Context, node, agenda string, at time.Time) (store.FreedSlot, bool, error) {
	return s.free(ctx, FreedSlot{Node: node, Agenda: agenda, At: at}, SourceManual)
}

// ErrTooLate is a slot too close to offer: its cutoff has passed.
var ErrTooLate = errors.New("offers: the slot is within the cutoff")

func (s *Service) free(ctx context.Context, f FreedSlot, source string) (store.FreedSlot, bool, error) {
	if f.Node == "" || f.Agenda == "" || f.At.IsZero() {
		return store.FreedSlot{}, false, errors.New("offers: a freed slot needs a node, an agenda and a time")
	}
	now := s.now()
	cutoff := s.Cutoff(f.At)
	if !now.Before(cutoff) {
		return store.FreedSlot{}, false, fmt.Errorf("%w (%s)", ErrTooLate, cutoff.In(cup.Rome).Format("02/01/2006 15:04"))
	}
	n := store.NewSlot{Node: f.Node, Agenda: f.Agenda, At: f.At, ServiceType: string(f.ServiceType), Source: source,
		FromCode: f.BookingCode, FreedAt: now, CutoffAt: cutoff}
	if b, err := s.st.Booking(ctx, f.Node, f.BookingCode); err == nil && f.BookingCode != "" {
		n.Service, n.Facility, n.Address = b.Service, b.Facility, b.Address
		if n.ServiceType == "" {
			n.ServiceType = string(b.ServiceType)
		}
	}
	if n.ServiceType == "" || n.Facility == "" {
		if p, err := s.st.AgendaProfile(ctx, f.Node, f.Agenda); err == nil {
			n.ServiceType = cmp.Or(n.ServiceType, p.ServiceType)
			n.Service = cmp.Or(n.Service, p.Service)
			n.Facility = cmp.Or(n.Facility, p.Facility)
			n.Address = cmp.Or(n.Address, p.Address)
		} else if !errors.Is(err, store.ErrNotFound) {
			return store.FreedSlot{}, false, err
		}
	}
	sl, added, err := s.st.AddFreedSlot(ctx, n)
	if err != nil {
		return store.FreedSlot{}, false, err
	}
	if added {
		s.log.Info("slot freed", "slot", sl.ID, "node", sl.Node, "agenda", sl.Agenda, "at", f.At.In(cup.Rome).Format(time.DateTime),
			"source", source, "booking", phone.MaskCode(f.BookingCode))
	}
	return sl, added, nil
}

// Cutoff is the last moment an offer of a slot at may stand: CutoffDays
// working days before it, at the same time of day.
func (s *Service) Cutoff(at time.Time) time.Time {
	t := at.In(s.cal.Location())
	d := calendar.DateOf(t)
	for n := 0; n < s.cfg.CutoffDays; {
		d = d.AddDays(-1)
		if s.workingDay(d) {
			n++
		}
	}
	return time.Date(d.Year, d.Month, d.Day, t.Hour(), t.Minute(), 0, 0, s.cal.Location())
}

// workingDay: the contact centre is open some time of the day.
func (s *Service) workingDay(d calendar.Date) bool {
	start := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, s.cal.Location())
	next := s.cal.NextOpen(start)
	return calendar.DateOf(next.In(s.cal.Location())) == d
}

// Run sends due waves, ends offers and slots whose time has come, every
// Tick, until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	t := time.NewTicker(s.cfg.Tick)
	defer t.Stop()
	for {
		if _, err := s.Tick(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("offers: tick failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
