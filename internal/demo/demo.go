// Package demo is the end-to-end demonstration: the engine built as serve
// builds it, on a temporary store, with the SMS provider's imitation, the
// simulated patients and a simulated clock swapped in, all on 127.0.0.1.
// It plans and sends the reminders of a synthetic extract, takes delivery
// reports and patients' replies, calls a recall campaign over three days,
// recalls a monitored agenda whose freed slot is offered and refilled,
// runs a morning's satisfaction survey, and makes the month's service-level
// report; the summary it returns says what happened and checks its own
// claims.
package demo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/richiamo/richiamo/internal/clock"
	"github.com/richiamo/richiamo/internal/config"
	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/cup/synth"
	"github.com/richiamo/richiamo/internal/engine"
	"github.com/richiamo/richiamo/internal/phone"
	"github.com/richiamo/richiamo/internal/progress"
	"github.com/richiamo/richiamo/internal/remind"
	"github.com/richiamo/richiamo/internal/slareport"
	"github.com/richiamo/richiamo/internal/sms"
	"github.com/richiamo/richiamo/internal/sms/twiliotest"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/voice/patients"
	"github.com/richiamo/richiamo/internal/web"
)

// Start is the simulated instant the demo begins at: the shipped extract
// holds the appointments of the next day, Tuesday 1 December 2026.
var Start = time.Date(2026, time.November, 30, 9, 30, 0, 0, cup.Rome)

// apptDay is the shipped extract's appointment day.
const apptDay = "2026-12-01"

// Options choose what the demo does.
type Options struct {
	// Extract is the extract file to remind; "" is the synthetic
	// extract built in (synth.Demo, the same as testdata/extract-demo.csv).
	Extract string
	// Rate is the messages per second the engine may send
	// (sms.rate_per_second).
	Rate float64
	// NoCalls leaves out what needs calls: the recall campaign, the
	// monitored agenda's recall with its offers, and the survey.
	NoCalls bool
	// Progress, if set, shows what is being done.
	Progress *progress.Line
	// Log receives the engine's errors; nil discards them.
	Log *slog.Logger
}

// Demo is one run; Close removes its store unless kept.
type Demo struct {
	o      Options
	Dir    string
	eng    *engine.Engine
	st     *store.Store
	fake   *twiliotest.Server
	pts    *patients.Server
	srv    *http.Server
	public string
	clock  *clock.Sim
	// The patients the scenes use, chosen once from the planned messages.
	singles, multis []string
	// codes masks the booking codes in what the demo prints; codeList
	// are those codes.
	codes    *strings.Replacer
	codeList []string
}

// remindedCodes are the booking codes of the given days' reminders.
func remindedCodes(ctx context.Context, st *store.Store, days []string) ([]string, error) {
	var codes []string
	err := st.View().EachReminder(ctx, days, func(_, code string, _ time.Time, _ int) { codes = append(codes, code) })
	return codes, err
}

// addCodes masks codes too, as the logs do, in the texts the demo prints;
// the longest code is tried first.
func (d *Demo) addCodes(codes []string) {
	d.codeList = append(d.codeList, codes...)
	sort.Slice(d.codeList, func(i, j int) bool { return len(d.codeList[i]) > len(d.codeList[j]) })
	pairs := make([]string, 0, 2*len(d.codeList))
	for _, c := range d.codeList {
		pairs = append(pairs, c, phone.MaskCode(c))
	}
	d.codes = strings.NewReplacer(pairs...)
}

// Summary is what the demo prints.
type Summary struct {
	Day        string              `json:"simulated_day"`
	Import     *remind.Report      `json:"import"`
	Reimport   *remind.Report      `json:"reimport"`
	Send       remind.SendStats    `json:"send"`
	ByStatus   []store.StatusCount `json:"by_status"`
	Failures   []store.Failure     `json:"failures"`
	Exchanges  []Exchange          `json:"replies"`
	Inbox      int                 `json:"inbox"`
	Confirmed  int                 `json:"confirmed"`
	Cancelled  int                 `json:"cancellation_requests"`
	Sample     []string            `json:"sample_messages"`
	ProviderRx int                 `json:"provider_received"`
	Calls      *Calls              `json:"calls,omitempty"`
	Offers     *Offers             `json:"offers,omitempty"`
	Survey     *Survey             `json:"survey,omitempty"`
	Levels     *Levels             `json:"service_levels"`
	Twice      int                 `json:"numbers_sent_twice"`
}

// Exchange is one patient's reply and the engine's answer.
type Exchange struct {
	From   string `json:"from"`
	Says   string `json:"says"`
	Answer string `json:"answer"`
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// New prepares a demo: a temporary folder, the provider's imitation, the
// simulated patients (unless NoCalls), and the engine configured as
// serve's default with only their addresses and the simulated clock put in.
func New(ctx context.Context, o Options) (_ *Demo, err error) {
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	d := &Demo{o: o, clock: clock.NewSim(Start)}
	if d.Dir, err = os.MkdirTemp("", "richiamo-demo-"); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			d.Close(false)
		}
	}()
	account, token := "AC"+randomHex(16), randomHex(16)
	d.fake = twiliotest.NewServer(twiliotest.Options{AccountSID: account, AuthToken: token, DeliveryDelay: 20 * time.Millisecond})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	d.public = "http://" + ln.Addr().String()

	cfg := config.Default()
	cfg.Dir = d.Dir
	cfg.Store.SQLite = "richiamo.db"
	cfg.Web.Listen = ln.Addr().String()
	cfg.Web.PublicURL = d.public
	cfg.SMS.RatePerSecond = o.Rate
	// The survey reads the phone system's call log from its inbox.
	cfg.Survey.Seed, cfg.CallLog.Inbox = DemoSurveySeed, "chiamate/*.csv"
	t := &cfg.SMS.Twilio
	t.AccountSID, t.AuthToken, t.MessagingServiceSID, t.BaseURL = account, token, "MG"+randomHex(16), d.fake.URL()
	if !o.NoCalls {
		if d.pts, err = newPatients(); err != nil {
			return nil, err
		}
		host, _, _ := net.SplitHostPort(d.pts.Addr())
		v := &cfg.Voice
		v.Bind, v.Advertise = "127.0.0.1:0", host
		v.Trunk.Proxy, v.Trunk.CallerID = "sip:"+d.pts.Addr(), "+390000000000"
		v.RingTimeout = config.Duration(4 * time.Second)
		v.MaxDuration = config.Duration(45 * time.Second)
		v.RTPPortMin, v.RTPPortMax = 40000, 40999
	}
	if err := cfg.Validate(); err != nil {
		ln.Close()
		return nil, fmt.Errorf("demo: %w", err)
	}
	if d.eng, err = engine.New(ctx, cfg, engine.Deps{Now: d.clock.Now, Log: o.Log}); err != nil {
		ln.Close()
		return nil, err
	}
	d.st = d.eng.Store
	d.srv = web.NewHTTPServer(d.eng.Handler())
	go func() { _ = d.srv.Serve(ln) }()
	return d, nil
}

// Close stops everything; keep leaves the store in Dir.
func (d *Demo) Close(keep bool) {
	if d.srv != nil {
		_ = d.srv.Close()
	}
	if d.eng != nil {
		d.eng.Close()
	}
	if d.pts != nil {
		d.pts.Close()
	}
	if d.fake != nil {
		d.fake.Close()
	}
	if !keep {
		_ = os.RemoveAll(d.Dir)
	}
}

// Run is the whole demonstration.
func (d *Demo) Run(ctx context.Context) (*Summary, *slareport.Report, error) {
	sum, err := d.reminders(ctx)
	if err != nil {
		return nil, nil, err
	}
	// The reminders' messages: the offers' come later, two to a patient
	// who takes a slot (the offer, then the move's confirmation).
	perPhone := map[string]int{}
	for _, m := range d.fake.Messages() {
		perPhone[m.To]++
		sum.ProviderRx++
	}
	for _, n := range perPhone {
		if n > 1 {
			sum.Twice++
		}
	}
	if d.pts != nil {
		if sum.Calls, err = d.calls(ctx); err != nil {
			return nil, nil, err
		}
		if sum.Offers, err = d.offersScene(ctx); err != nil {
			return nil, nil, err
		}
		if sum.Survey, err = d.surveyScene(ctx); err != nil {
			return nil, nil, err
		}
	}
	rep, err := d.levels(ctx, sum)
	if err != nil {
		return nil, nil, err
	}
	return sum, rep, nil
}

func (d *Demo) reminders(ctx context.Context) (*Summary, error) {
	name, f, err := d.extract()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sum := &Summary{Day: remind.Giorno(Start) + " " + remind.Ora(Start)}
	pl := d.eng.Reminders.Planner()
	pl.Progress = func(n int) { d.o.Progress.Printf("reading %s: %d rows", name, n) }
	if sum.Import, err = pl.Plan(ctx, []remind.Source{{Name: name, R: f}}, remind.Options{}); err != nil {
		return nil, err
	}
	d.o.Progress.Done()
	codes, err := remindedCodes(ctx, d.st, sum.Import.Days)
	if err != nil {
		return nil, err
	}
	d.addCodes(codes)

	// A realistic day has trouble in it: a number whose owner told the
	// provider STOP, a phone that is off, a rate-limit answer, and a
	// response lost on the way back that must be reconciled, not resent.
	if err := d.scriptTrouble(ctx); err != nil {
		return nil, err
	}
	if sum.Send, err = d.drain(ctx); err != nil {
		return nil, err
	}
	d.o.Progress.Done()
	if err := d.waitDelivery(ctx); err != nil {
		return nil, err
	}
	if err := d.replies(ctx, sum); err != nil {
		return nil, err
	}
	// The same extract again, as when the CUP drops it twice: nothing new, and
	// the number that answered STOP is now refused as opted_out.
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	if sum.Reimport, err = pl.Plan(ctx, []remind.Source{{Name: name, R: f}}, remind.Options{}); err != nil {
		return nil, err
	}
	if sum.ByStatus, err = d.st.MessageCounts(ctx, apptDay, apptDay); err != nil {
		return nil, err
	}
	if sum.Failures, err = d.st.Failures(ctx, apptDay, apptDay, 20); err != nil {
		return nil, err
	}
	for i := range sum.Failures {
		sum.Failures[i].Phone = phone.Mask(sum.Failures[i].Phone)
		sum.Failures[i].Reason = sms.ErrorText(sum.Failures[i].ErrorCode)
	}
	inbox, err := d.st.Inbox(ctx, 100)
	if err != nil {
		return nil, err
	}
	sum.Inbox = len(inbox)
	rs, err := d.st.Responses(ctx, "")
	if err != nil {
		return nil, err
	}
	for _, r := range rs {
		if r.Kind == store.ResponseConfirm {
			sum.Confirmed++
		} else {
			sum.Cancelled++
		}
	}
	return sum, nil
}

// BuiltIn names the synthetic extract the demo uses when given none.
const BuiltIn = "extract-demo.csv"

// extract opens the extract to remind: the file given, or the synthetic
// one written into the demo's folder, so that the binary needs no file
// beside it.
func (d *Demo) extract() (string, *os.File, error) {
	if d.o.Extract != "" {
		f, err := os.Open(d.o.Extract)
		if err != nil {
			return "", nil, fmt.Errorf("demo extract: %w", err)
		}
		return d.o.Extract, f, nil
	}
	f, err := os.Create(filepath.Join(d.Dir, BuiltIn))
	if err != nil {
		return "", nil, err
	}
	if _, err := synth.Write(f, synth.Demo); err != nil {
		f.Close()
		return "", nil, fmt.Errorf("demo extract: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return "", nil, err
	}
	return BuiltIn, f, nil
}

// drain sends with serve's sender until nothing is due or in flight. The
// sender's waits (a retry's backoff, the quiet time before a lost answer is
// reconciled) are minutes of the sender's settings: while the sender has
// nothing to do, the simulated clock is moved on instead of waiting them out.
func (d *Demo) drain(ctx context.Context) (remind.SendStats, error) {
	snd := d.eng.Sender
	due, _, err := d.st.PendingCount(ctx, d.clock.Now())
	if err != nil {
		return remind.SendStats{}, err
	}
	var moved atomic.Int64
	snd.Progress = func(sent, failed int64) {
		moved.Add(1)
		d.o.Progress.Count("sending", sent+failed, int64(due), fmt.Sprintf("%d refused", failed))
	}
	ffCtx, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		last := int64(-1)
		for {
			select {
			case <-ffCtx.Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
			if n := moved.Load(); n != last {
				last = n
				continue
			}
			if due, _, err := d.st.PendingCount(ffCtx, d.clock.Now()); err == nil && due == 0 {
				d.clock.Advance(5 * time.Second)
			}
		}
	}()
	return snd.Drain(ctx)
}

// pick returns phones of sent-to-be messages: singles listed one booking,
// multis more.
func (d *Demo) pick(ctx context.Context) (singles, multis []string, err error) {
	if d.singles != nil {
		return d.singles, d.multis, nil
	}
	defer func() { d.singles, d.multis = singles, multis }()
	msgs, err := d.st.Messages(ctx, "", 100000)
	if err != nil {
		return nil, nil, err
	}
	sort.Slice(msgs, func(i, j int) bool { return msgs[i].ID < msgs[j].ID })
	for _, m := range msgs {
		if strings.Contains(m.Body, "gli appuntamenti") {
			multis = append(multis, m.Phone)
		} else {
			singles = append(singles, m.Phone)
		}
	}
	if len(singles) < 12 || len(multis) < 1 {
		return nil, nil, errors.New("demo: the extract has too few bookings for the demo's scenes")
	}
	return singles, multis, nil
}

func (d *Demo) scriptTrouble(ctx context.Context) error {
	singles, _, err := d.pick(ctx)
	if err != nil {
		return err
	}
	d.fake.Script(singles[0], twiliotest.Status(400, 21610, "Attempt to send to unsubscribed recipient"))
	d.fake.Script(singles[1], twiliotest.DeliveryFails(30003))
	d.fake.Script(singles[2], twiliotest.DeliveryFails(30005))
	d.fake.Script(singles[3], twiliotest.Status(429, 20429, "Too Many Requests"))
	d.fake.Script(singles[4], twiliotest.AcceptThenDrop())
	return nil
}

// waitDelivery waits for the provider's delivery reports of every accepted
// message, polling the store (the reports arrive over HTTP).
func (d *Demo) waitDelivery(ctx context.Context) error {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		counts, err := d.st.MessageCounts(ctx, "0000-00-00", "9999-99-99")
		if err != nil {
			return err
		}
		waiting := 0
		for _, c := range counts {
			if c.Status == store.StatusSent {
				waiting = c.Messages
			}
		}
		if waiting == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil // what is still 'sent' is reported as such
}

func (d *Demo) replies(ctx context.Context, sum *Summary) error {
	singles, multis, err := d.pick(ctx)
	if err != nil {
		return err
	}
	say := func(from, body string) error {
		ans, err := d.say(ctx, from, body)
		if err != nil {
			return err
		}
		sum.Exchanges = append(sum.Exchanges, Exchange{From: phone.Mask(from), Says: body, Answer: d.codes.Replace(ans)})
		return nil
	}
	for _, r := range []struct{ from, says string }{
		{singles[6], "Sì, confermo!"}, {singles[7], "SI"}, {singles[8], "annullo"},
		{singles[9], "Posso spostare l'appuntamento al pomeriggio?"}, {multis[0], "ANNULLA"},
	} {
		if err := say(r.from, r.says); err != nil {
			return err
		}
	}
	// The patient answers the question with the digits asked for.
	last := sum.Exchanges[len(sum.Exchanges)-1].Answer
	if i := strings.Index(last, "per esempio ANNULLA "); i >= 0 {
		hint := strings.Fields(last[i+len("per esempio ANNULLA "):])[0]
		if err := say(multis[0], "annulla "+strings.Trim(hint, ".;,")); err != nil {
			return err
		}
	}
	if err := say(singles[10], "STOP"); err != nil {
		return err
	}
	msgs, err := d.st.Messages(ctx, "", 100000)
	if err != nil {
		return err
	}
	seen := map[bool]bool{}
	for _, m := range msgs {
		multi := strings.Contains(m.Body, "gli appuntamenti")
		if !seen[multi] && m.Status == store.StatusDelivered {
			seen[multi] = true
			sum.Sample = append(sum.Sample, d.codes.Replace(m.Body))
		}
	}
	return nil
}

// say is a patient's SMS to the engine, through the provider's webhook; it
// returns the engine's answer ("" for none).
func (d *Demo) say(ctx context.Context, from, body string) (string, error) {
	resp, err := d.fake.Inbound(ctx, d.public+remind.InboundPath, from, "+390000000000", body)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("demo: reply webhook answered %s", resp.Status)
	}
	ans := string(raw)
	i := strings.Index(ans, "<Message>")
	if i < 0 {
		return "", nil
	}
	ans = strings.TrimSuffix(ans[i+len("<Message>"):], "</Message></Response>")
	return strings.NewReplacer("&#39;", "'", "&apos;", "'", "&amp;", "&", "&lt;", "<", "&gt;", ">", "&#34;", "\"", "&quot;", "\"").Replace(ans), nil
}

// Levels is the month's service levels in the summary.
type Levels struct {
	Month       string  `json:"month"`
	Profile     string  `json:"profile"`
	Report      int64   `json:"kept_report_id"`
	Calls       int     `json:"calls"`
	Positive    int     `json:"positive_contacts"`
	Acquisition float64 `json:"acquisition"`
	Packages    int     `json:"packages"`
	Written     int     `json:"written_contacts"`
	// UncappedPct is the levels' penalties added up; PenaltyPct what is
	// charged, the cap (CapPct) when Capped.
	UncappedPct float64 `json:"uncapped_penalty_pct"`
	CapPct      float64 `json:"penalty_cap_pct"`
	Capped      bool    `json:"capped"`
	PenaltyPct  float64 `json:"penalty_pct"`
}

// levels makes and keeps November's service-level report from what the
// demo recorded, as serve does on the 1st of the month.
func (d *Demo) levels(ctx context.Context, sum *Summary) (*slareport.Report, error) {
	from := time.Date(2026, 11, 1, 0, 0, 0, 0, cup.Rome)
	p := slareport.Period{Kind: slareport.Monthly, From: from, To: from.AddDate(0, 1, 0)}
	id, _, err := slareport.Keep(ctx, *d.eng.Levels, p, "demo", d.clock.Now())
	if err != nil {
		return nil, err
	}
	rep, err := slareport.Kept(ctx, d.st, id)
	if err != nil {
		return nil, err
	}
	a := rep.Outbound.Acquisition
	sum.Levels = &Levels{Month: rep.Title(), Profile: rep.Profile.Name, Report: id, Calls: a.Calls, Positive: a.Positive,
		Acquisition: a.Value, Packages: len(rep.Outbound.Packages), Written: rep.Replies.Received,
		UncappedPct: rep.Penalties.UncappedPct, CapPct: rep.Penalties.CapPct, Capped: rep.Penalties.Capped, PenaltyPct: rep.Penalties.TotalPct}
	return rep, nil
}

// StorePath is where the demo's store is (kept with Close(true)).
func (d *Demo) StorePath() string { return filepath.Join(d.Dir, "richiamo.db") }

// WriteConfig writes, beside the store, a configuration that points every
// command at it, and returns its path: a kept demo store can then be read
// with --config.
func (d *Demo) WriteConfig() (string, error) {
	path := filepath.Join(d.Dir, "richiamo.yaml")
	text := "# The demo's store, kept: richiamo COMMAND --config " + path + "\nstore:\n  sqlite: richiamo.db\n"
	return path, os.WriteFile(path, []byte(text), 0o600)
}
