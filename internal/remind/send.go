package remind

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/richiamo/richiamo/internal/phone"
	"github.com/richiamo/richiamo/internal/sms"
	"github.com/richiamo/richiamo/internal/store"
)

// SendStats counts what a sender did.
type SendStats struct {
	Sent        int64   `json:"sent"`
	Retried     int64   `json:"retried"`
	Failed      int64   `json:"failed"`
	Unknown     int64   `json:"unknown"`
	Reconciled  int64   `json:"reconciled_found"`
	Resent      int64   `json:"reconciled_not_found"`
	Expired     int64   `json:"expired"`
	Scheduled   int     `json:"scheduled_later"`
	ElapsedMS   int64   `json:"elapsed_ms"`
	RatePerSec  float64 `json:"rate_per_second"`
	FatalReason string  `json:"fatal,omitempty"`
}

// The sending discipline a Sender follows where it leaves a setting at zero.
const (
	DefaultRate        = 10 // messages a second
	DefaultConcurrency = 8
	DefaultMaxAttempts = 5
	DefaultRetryBase   = 30 * time.Second
	DefaultLease       = 2 * time.Minute
)

// Sender drains the outbox through a gateway, paced, with retries for
// transient failures and reconciliation for unknown outcomes.
type Sender struct {
	Store   *store.Store
	Gateway sms.Gateway
	Log     *slog.Logger
	Now     func() time.Time
	// Rate is the most messages a second handed to the gateway.
	Rate float64
	// Concurrency is how many sends may wait on the gateway at once.
	Concurrency int
	// MaxAttempts bounds the retries of a message after transient failures.
	MaxAttempts int
	// RetryBase is the first wait after a transient failure; it doubles.
	RetryBase time.Duration
	// ReconcileAfter is how long a send with an unknown outcome waits before
	// the provider is asked for it; 0 asks at once, so it has no default.
	ReconcileAfter time.Duration
	// Lease is how long the Sender owns a message it has claimed.
	Lease time.Duration
	// Owner names this process in leases; unique per process.
	Owner string
	// Progress, if set, is called after each settled send.
	Progress func(sent, failed int64)

	limiter *rate.Limiter
	stats   SendStats
	fatal   atomic.Pointer[error]
}

// DefaultOwner names this process for leases.
func DefaultOwner() string {
	h, _ := os.Hostname()
	return h + ":" + strconv.Itoa(os.Getpid()) + ":" + strconv.FormatUint(rand.Uint64()&0xffffff, 16)
}

func (s *Sender) init() {
	if s.Rate == 0 {
		s.Rate = DefaultRate
	}
	if s.Concurrency == 0 {
		s.Concurrency = DefaultConcurrency
	}
	if s.MaxAttempts == 0 {
		s.MaxAttempts = DefaultMaxAttempts
	}
	if s.RetryBase == 0 {
		s.RetryBase = DefaultRetryBase
	}
	if s.Lease == 0 {
		s.Lease = DefaultLease
	}
	if s.limiter == nil {
		// Burst 1: the gateway sees an even pace, not bursts at the
		// start of every second.
		s.limiter = rate.NewLimiter(rate.Limit(s.Rate), 1)
	}
	if s.Owner == "" {
		s.Owner = DefaultOwner()
	}
	if s.Concurrency < 1 {
		s.Concurrency = 1
	}
}

// ErrFatal wraps a gateway failure that makes every send fail the same way
// (credentials, account); sending stops.
var ErrFatal = errors.New("remind: sending stopped")

// Drain sends every message due now, retries and reconciles until none is
// left due or in flight, and returns. Messages planned for later (outside
// the sending hours) are left to the scheduled sender.
func (s *Sender) Drain(ctx context.Context) (SendStats, error) {
	s.init()
	start := time.Now()
	for {
		if err := s.housekeep(ctx); err != nil {
			return s.snapshot(start), err
		}
		n, err := s.pass(ctx)
		if err != nil {
			return s.snapshot(start), err
		}
		if f := s.fatal.Load(); f != nil {
			return s.snapshot(start), *f
		}
		if n > 0 {
			continue
		}
		due, inflight, err := s.Store.PendingCount(ctx, s.Now())
		if err != nil {
			return s.snapshot(start), err
		}
		if due == 0 && inflight == 0 {
			st := s.snapshot(start)
			return st, nil
		}
		// Something is waiting: a retry backoff, a quiet period before
		// reconciliation, or another process's lease.
		select {
		case <-ctx.Done():
			return s.snapshot(start), ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Run sends until ctx is cancelled; in-flight sends finish before it
// returns.
func (s *Sender) Run(ctx context.Context) error {
	s.init()
	for {
		if err := s.housekeep(ctx); err != nil && ctx.Err() == nil {
			s.Log.Error("outbox housekeeping", "err", err)
		}
		n, err := s.pass(ctx)
		if err != nil && ctx.Err() == nil {
			s.Log.Error("sending", "err", err)
		}
		if f := s.fatal.Load(); f != nil {
			return *f
		}
		wait := time.Second
		if n > 0 {
			wait = 0
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

func (s *Sender) snapshot(start time.Time) SendStats {
	st := SendStats{
		Sent: atomic.LoadInt64(&s.stats.Sent), Retried: atomic.LoadInt64(&s.stats.Retried),
		Failed: atomic.LoadInt64(&s.stats.Failed), Unknown: atomic.LoadInt64(&s.stats.Unknown),
		Reconciled: atomic.LoadInt64(&s.stats.Reconciled), Resent: atomic.LoadInt64(&s.stats.Resent),
		Expired: atomic.LoadInt64(&s.stats.Expired),
	}
	el := time.Since(start)
	st.ElapsedMS = el.Milliseconds()
	if el > 0 {
		st.RatePerSec = float64(st.Sent) / el.Seconds()
	}
	if f := s.fatal.Load(); f != nil {
		st.FatalReason = (*f).Error()
	}
	return st
}

// housekeep releases abandoned claims, expires reminders that are too late,
// and reconciles unknown outcomes.
func (s *Sender) housekeep(ctx context.Context) error {
	now := s.Now()
	if _, err := s.Store.ReleaseExpiredClaims(ctx, now); err != nil {
		return err
	}
	n, err := s.Store.ExpirePlanned(ctx, now)
	if err != nil {
		return err
	}
	atomic.AddInt64(&s.stats.Expired, n)
	return s.reconcile(ctx)
}

// reconcile asks the provider about each send with an unknown outcome: if
// the provider has it, it was sent; if not, it may be retried. Never a blind
// resend.
func (s *Sender) reconcile(ctx context.Context) error {
	msgs, err := s.Store.ToReconcile(ctx, s.Now(), s.ReconcileAfter, 200)
	if err != nil {
		return err
	}
	for _, m := range msgs {
		since := store.FromMillis(m.SendingAt)
		if since.IsZero() {
			since = store.FromMillis(m.CreatedAt)
		}
		// The provider's clock is the wall clock; ours may be shifted (the
		// demo runs on a simulated day). Ask for what the provider received
		// since the send, as an age, with two minutes' margin for skew.
		age := s.Now().Sub(since)
		found, err := s.Gateway.Find(ctx, m.Phone, time.Now().Add(-age-2*time.Minute))
		if err != nil {
			// Cannot tell: leave it unknown and ask again next time.
			s.Log.Warn("reconciliation failed; will ask again", "message", m.ID, "to", phone.Mask(m.Phone), "err", err)
			continue
		}
		var match *sms.Found
		for i := range found {
			if found[i].Body == m.Body {
				match = &found[i]
				break
			}
		}
		now := s.Now()
		if match != nil {
			if err := s.Store.MarkSent(ctx, m.ID, match.ProviderID, match.Status, now); err != nil {
				return err
			}
			s.expectAnswer(ctx, m.ID, now)
			if match.Status == "delivered" || match.Status == "undelivered" || match.Status == "failed" {
				if _, err := s.Store.ApplyStatus(ctx, match.ProviderID, match.Status, match.ErrorCode, now); err != nil {
					return err
				}
			}
			atomic.AddInt64(&s.stats.Reconciled, 1)
			atomic.AddInt64(&s.stats.Sent, 1)
			s.Log.Info("unknown send found at the provider", "message", m.ID, "to", phone.Mask(m.Phone))
			continue
		}
		atomic.AddInt64(&s.stats.Resent, 1)
		if m.Attempts >= s.MaxAttempts {
			if err := s.Store.MarkFailed(ctx, m.ID, 0, "outcome unknown and attempts exhausted", now); err != nil {
				return err
			}
			atomic.AddInt64(&s.stats.Failed, 1)
			continue
		}
		s.Log.Info("unknown send not at the provider; it will be sent again", "message", m.ID, "to", phone.Mask(m.Phone))
		if err := s.Store.MarkRetry(ctx, m.ID, now, 0, "not found at the provider after an unknown outcome", now); err != nil {
			return err
		}
	}
	return nil
}

// pass claims due messages and sends them; it returns how many it claimed.
func (s *Sender) pass(ctx context.Context) (int, error) {
	if ctx.Err() != nil {
		return 0, nil
	}
	batch := s.Concurrency * 4
	now := s.Now()
	msgs, err := s.Store.Claim(ctx, s.Owner, now, now.Add(s.Lease), batch)
	if err != nil || len(msgs) == 0 {
		return 0, err
	}
	work := make(chan store.OutMsg)
	var wg sync.WaitGroup
	var firstErr atomic.Pointer[error]
	for range min(s.Concurrency, len(msgs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for m := range work {
				if err := s.sendOne(ctx, m); err != nil {
					firstErr.CompareAndSwap(nil, &err)
				}
			}
		}()
	}
	i := 0
feed:
	for ; i < len(msgs); i++ {
		if s.fatal.Load() != nil || firstErr.Load() != nil {
			break
		}
		select {
		case <-ctx.Done():
			break feed
		case work <- msgs[i]:
		}
	}
	close(work)
	wg.Wait()
	// Claimed but never attempted: hand back at once rather than wait for
	// the lease, so another process (or the next run) can take them.
	rel := context.WithoutCancel(ctx)
	for ; i < len(msgs); i++ {
		if err := s.Store.Release(rel, msgs[i].ID, s.Now()); err != nil {
			return len(msgs), err
		}
	}
	if e := firstErr.Load(); e != nil {
		return len(msgs), *e
	}
	return len(msgs), nil
}

func (s *Sender) sendOne(ctx context.Context, m store.OutMsg) error {
	if err := s.limiter.Wait(ctx); err != nil {
		return s.Store.Release(context.WithoutCancel(ctx), m.ID, s.Now())
	}
	if s.fatal.Load() != nil {
		return s.Store.Release(context.WithoutCancel(ctx), m.ID, s.Now())
	}
	// Once 'sending' is committed the message may reach the provider;
	// from here on this send completes even if the process is asked to
	// stop, so its outcome gets recorded.
	ctx = context.WithoutCancel(ctx)
	ok, err := s.Store.MarkSending(ctx, m.ID, s.Owner, s.Now())
	if err != nil || !ok {
		return err // lease lost: another owner has it now
	}
	res, err := s.Gateway.Send(ctx, sms.Message{OutboxID: m.ID, To: m.Phone, Body: m.Body})
	now := s.Now()
	if err == nil {
		if err := s.Store.MarkSent(ctx, m.ID, res.ProviderID, res.Status, now); err != nil {
			return err
		}
		s.expectAnswer(ctx, m.ID, now)
		sent := atomic.AddInt64(&s.stats.Sent, 1)
		if s.Progress != nil {
			s.Progress(sent, atomic.LoadInt64(&s.stats.Failed))
		}
		return nil
	}
	var se *sms.SendError
	code := 0
	if errors.As(err, &se) {
		code = se.Code
	}
	attempts := m.Attempts + 1
	switch sms.Classify(err) {
	case sms.Transient:
		if attempts >= s.MaxAttempts {
			atomic.AddInt64(&s.stats.Failed, 1)
			return s.Store.MarkFailed(ctx, m.ID, code, "gave up after "+strconv.Itoa(attempts)+" attempts: "+err.Error(), now)
		}
		atomic.AddInt64(&s.stats.Retried, 1)
		return s.Store.MarkRetry(ctx, m.ID, now.Add(s.backoff(attempts)), code, err.Error(), now)
	case sms.Permanent:
		atomic.AddInt64(&s.stats.Failed, 1)
		s.Log.Info("message refused by the provider", "message", m.ID, "to", phone.Mask(m.Phone), "code", code)
		if code == 21610 { // the recipient replied STOP to the provider
			if _, err := s.Store.OptOut(ctx, m.Phone, "provider", now); err != nil {
				return err
			}
		}
		return s.Store.MarkFailed(ctx, m.ID, code, err.Error(), now)
	case sms.Fatal:
		fe := fmt.Errorf("%w: the provider refuses this account or sender (%v); check sms.twilio settings", ErrFatal, err)
		s.fatal.CompareAndSwap(nil, &fe)
		// Certainly not accepted: the message goes back untouched.
		return s.Store.MarkRetry(ctx, m.ID, now, code, err.Error(), now)
	default:
		atomic.AddInt64(&s.stats.Unknown, 1)
		s.Log.Warn("send outcome unknown; will reconcile before any retry", "message", m.ID, "to", phone.Mask(m.Phone), "err", err)
		return s.Store.MarkUnknown(ctx, m.ID, err.Error(), now)
	}
}

// expectAnswer records that a sent reminder waits for its patient's
// confirmation or cancellation, so that the answer reaches it. A failure
// loses no message: the answer then goes to an operator.
func (s *Sender) expectAnswer(ctx context.Context, id int64, now time.Time) {
	if err := s.Store.ExpectReminderAnswer(ctx, id, now); err != nil {
		s.Log.Warn("reminder sent, but its answer will go to the operators", "message", id, "err", err)
	}
}

// backoff doubles from RetryBase, capped at 30 minutes, with jitter so that
// a provider's outage does not end in a synchronised burst.
func (s *Sender) backoff(attempts int) time.Duration {
	d := s.RetryBase << min(attempts-1, 10)
	if d > 30*time.Minute || d <= 0 {
		d = 30 * time.Minute
	}
	return d/2 + rand.N(d/2+1)
}
