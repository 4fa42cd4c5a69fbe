package main

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
	"time"

	"github.com/richiamo/richiamo/campaigns"
	"github.com/richiamo/richiamo/internal/config"
	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/phone"
	"github.com/richiamo/richiamo/internal/remind"
	"github.com/richiamo/richiamo/internal/slareport"
	"github.com/richiamo/richiamo/internal/sms"
	"github.com/richiamo/richiamo/internal/sms/twiliotest"
	"github.com/richiamo/richiamo/internal/store"
)

// demoDay is the simulated day of the demo: the shipped extract holds the
// appointments of the next day, Tuesday 1 December 2026.
var demoStart = time.Date(2026, time.November, 30, 9, 30, 0, 0, cup.Rome)

func cmdDemo(ctx context.Context, e *env, args []string) error {
	var (
		c       common
		extract string
		keep    bool
		rateArg float64
	)
	fs := newFlags(e, "demo", "[--extract FILE] [--rate N] [--keep] [--json]", `
Run the reminder job end to end with nothing to set up: a temporary SQLite
store, the synthetic extract shipped in testdata/ (four CUP nodes, a few
thousand bookings and a sprinkling of bad rows), an in-process imitation of
the SMS provider's REST API reached through the real client library, its
delivery reports, and a few patients' replies, all on 127.0.0.1; then a
small recall campaign calls a dozen of the patients over real SIP and RTP
to simulated patients who answer, press keys, are busy or never answer,
over three days. Last, the service-level report of November 2026 is made
from what the demo recorded, and kept in the store (--pdf and --html write
it out). The clock is set to Monday 30 November 2026, 09:30, the day before
the appointments.`, &c)
	fs.StringVar(&extract, "extract", filepath.Join("testdata", "extract-demo.csv"), "extract to use")
	fs.BoolVar(&keep, "keep", false, "keep the temporary store and print where it is")
	fs.Float64Var(&rateArg, "rate", 400, "messages per second the engine may send")
	var noCalls bool
	fs.BoolVar(&noCalls, "no-calls", false, "leave out the recall calls to simulated patients")
	var pdfOut, htmlOut string
	fs.StringVar(&pdfOut, "pdf", "", "write the month's service-level report as PDF here")
	fs.StringVar(&htmlOut, "html", "", "write the month's service-level report as a printable HTML page here")
	if err := parse(fs, args); err != nil {
		return err
	}
	d, err := newDemo(e, rateArg)
	if err != nil {
		return err
	}
	d.noCalls = noCalls
	defer d.close(keep)
	sum, err := d.run(ctx, extract)
	if err != nil {
		return err
	}
	rep, err := d.levels(ctx, sum)
	if err != nil {
		return err
	}
	if pdfOut != "" {
		if err := writeFileAtomic(pdfOut, func(f *os.File) error { return rep.PDF(f, nil) }); err != nil {
			return err
		}
	}
	if htmlOut != "" {
		if err := writeFileAtomic(htmlOut, func(f *os.File) error { return rep.Document(f, nil) }); err != nil {
			return err
		}
	}
	if c.json {
		return writeJSON(e.stdout, sum)
	}
	sum.print(e.stdout)
	if keep {
		fmt.Fprintf(e.stdout, "\nStore kept at %s\n", d.dir)
	}
	return nil
}

type demo struct {
	e       *env
	dir     string
	st      *store.Store
	fake    *twiliotest.Server
	srv     *http.Server
	public  string
	camp    *remind.Campaign
	gw      *sms.Twilio
	log     *slog.Logger
	now     func() time.Time
	rate    float64
	noCalls bool
	// The patients the scenes use, chosen once from the planned messages.
	singles, multis []string
	// codes masks the booking codes in what the demo prints.
	codes *strings.Replacer
}

// codeMask masks the booking codes of the given days as the logs do, for
// the texts the demo prints; the longest code is tried first.
func codeMask(ctx context.Context, st *store.Store, days []string) (*strings.Replacer, error) {
	var codes []string
	err := st.View().EachReminder(ctx, days, func(_, code string, _ time.Time, _ int) { codes = append(codes, code) })
	if err != nil {
		return nil, err
	}
	sort.Slice(codes, func(i, j int) bool { return len(codes[i]) > len(codes[j]) })
	pairs := make([]string, 0, 2*len(codes))
	for _, c := range codes {
		pairs = append(pairs, c, phone.MaskCode(c))
	}
	return strings.NewReplacer(pairs...), nil
}

func newDemo(e *env, rate float64) (*demo, error) {
	d := &demo{e: e, rate: rate}
	var err error
	if d.dir, err = os.MkdirTemp("", "richiamo-demo-"); err != nil {
		return nil, err
	}
	realStart := time.Now()
	d.now = func() time.Time { return demoStart.Add(time.Since(realStart)) }
	// The demo stages its own trouble (a lost answer, a rate limit): its
	// warnings would drown the summary, which reports them. Errors show.
	d.log = slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	return d, nil
}

func (d *demo) close(keep bool) {
	if d.srv != nil {
		_ = d.srv.Close()
	}
	if d.fake != nil {
		d.fake.Close()
	}
	if d.st != nil {
		_ = d.st.Close()
	}
	if !keep {
		_ = os.RemoveAll(d.dir)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// demoSummary is what the demo prints.
type demoSummary struct {
	Day        string              `json:"simulated_day"`
	Import     *remind.Report      `json:"import"`
	Reimport   *remind.Report      `json:"reimport"`
	Send       remind.SendStats    `json:"send"`
	ByStatus   []store.StatusCount `json:"by_status"`
	Failures   []store.Failure     `json:"failures"`
	Exchanges  []exchange          `json:"replies"`
	Inbox      int                 `json:"inbox"`
	Confirmed  int                 `json:"confirmed"`
	Cancelled  int                 `json:"cancellation_requests"`
	Sample     []string            `json:"sample_messages"`
	ProviderRx int                 `json:"provider_received"`
	Calls      *demoCalls          `json:"calls,omitempty"`
	Levels     *demoLevels         `json:"service_levels"`
	Twice      int                 `json:"numbers_sent_twice"`
}

type exchange struct {
	From   string `json:"from"`
	Says   string `json:"says"`
	Answer string `json:"answer"`
}

func (d *demo) run(ctx context.Context, extract string) (*demoSummary, error) {
	f, err := os.Open(extract)
	if err != nil {
		return nil, fmt.Errorf("demo extract: %w (run the demo from the repository root, or give --extract)", err)
	}
	defer f.Close()

	if d.st, err = store.Open(ctx, store.Options{SQLitePath: filepath.Join(d.dir, "richiamo.db")}); err != nil {
		return nil, err
	}
	if _, err := d.st.Migrate(ctx); err != nil {
		return nil, err
	}
	if d.camp, err = remind.ParseCampaign(campaigns.Reminder); err != nil {
		return nil, err
	}

	account, token := "AC"+randomHex(16), randomHex(16)
	d.fake = twiliotest.NewServer(twiliotest.Options{AccountSID: account, AuthToken: token, DeliveryDelay: 20 * time.Millisecond})

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	d.public = "http://" + ln.Addr().String()
	hooks := &remind.Webhooks{Store: d.st, Log: d.log, Now: d.now, AuthToken: token, PublicURL: d.public}
	mux := http.NewServeMux()
	hooks.Register(mux)
	d.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = d.srv.Serve(ln) }()

	if d.gw, err = sms.NewTwilio(sms.TwilioConfig{AccountSID: account, AuthToken: token,
		MessagingServiceSID: "MG" + randomHex(16), StatusCallback: d.public + remind.StatusPath,
		BaseURL: d.fake.URL(), Timeout: 5 * time.Second}); err != nil {
		return nil, err
	}

	sum := &demoSummary{Day: remind.Giorno(demoStart) + " " + remind.Ora(demoStart)}
	prog := newProgress(d.e, false)
	pl := &remind.Planner{Store: d.st, Campaign: d.camp, Log: d.log, Now: d.now,
		Progress: func(n int) { prog.printf("reading %s: %d rows", extract, n) }}
	if sum.Import, err = pl.Plan(ctx, []remind.Source{{Name: extract, R: f}}, remind.Options{}); err != nil {
		return nil, err
	}
	prog.done()
	if d.codes, err = codeMask(ctx, d.st, sum.Import.Days); err != nil {
		return nil, err
	}

	// A realistic day has trouble in it: a number whose owner told the
	// provider STOP, a phone that is off, a rate-limit answer, and a
	// response lost on the way back that must be reconciled, not resent.
	if err := d.scriptTrouble(ctx); err != nil {
		return nil, err
	}
	snd := &remind.Sender{Store: d.st, Gateway: d.gw, Log: d.log, Now: d.now, Rate: d.rate, Concurrency: 16,
		MaxAttempts: 5, RetryBase: 200 * time.Millisecond, ReconcileAfter: 300 * time.Millisecond, Lease: 10 * time.Second}
	snd.Progress = func(sent, failed int64) { prog.printf("sending: %d sent, %d refused", sent, failed) }
	if sum.Send, err = snd.Drain(ctx); err != nil {
		return nil, err
	}
	prog.done()
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
	if sum.Reimport, err = pl.Plan(ctx, []remind.Source{{Name: extract, R: f}}, remind.Options{}); err != nil {
		return nil, err
	}

	if sum.ByStatus, err = d.st.MessageCounts(ctx, "2026-12-01", "2026-12-01"); err != nil {
		return nil, err
	}
	if sum.Failures, err = d.st.Failures(ctx, "2026-12-01", "2026-12-01", 20); err != nil {
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
	// A recall campaign on a few of the day's patients, by telephone.
	if !d.noCalls {
		msgs, err := d.st.Messages(ctx, "", demoCallContacts*4)
		if err != nil {
			return nil, err
		}
		if sum.Calls, err = d.runCalls(ctx, demoContacts(msgs, demoCallContacts)); err != nil {
			return nil, err
		}
	}
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
	return sum, nil
}

// pick returns phones of sent-to-be messages: singles listed one booking,
// multis more.
func (d *demo) pick(ctx context.Context) (singles, multis []string, err error) {
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

func (d *demo) scriptTrouble(ctx context.Context) error {
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
func (d *demo) waitDelivery(ctx context.Context) error {
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

func (d *demo) replies(ctx context.Context, sum *demoSummary) error {
	singles, multis, err := d.pick(ctx)
	if err != nil {
		return err
	}
	to := "+390000000000"
	say := func(from, body string) error {
		resp, err := d.fake.Inbound(ctx, d.public+remind.InboundPath, from, to, body)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("demo: reply webhook answered %s", resp.Status)
		}
		ans := string(raw)
		if i := strings.Index(ans, "<Message>"); i >= 0 {
			ans = strings.TrimSuffix(ans[i+len("<Message>"):], "</Message></Response>")
			ans = strings.NewReplacer("&#39;", "'", "&apos;", "'", "&amp;", "&", "&lt;", "<", "&gt;", ">", "&#34;", "\"", "&quot;", "\"").Replace(ans)
		} else {
			ans = ""
		}
		sum.Exchanges = append(sum.Exchanges, exchange{From: phone.Mask(from), Says: body, Answer: d.codes.Replace(ans)})
		return nil
	}
	if err := say(singles[6], "Sì, confermo!"); err != nil {
		return err
	}
	if err := say(singles[7], "SI"); err != nil {
		return err
	}
	if err := say(singles[8], "annullo"); err != nil {
		return err
	}
	if err := say(singles[9], "Posso spostare l'appuntamento al pomeriggio?"); err != nil {
		return err
	}
	if err := say(multis[0], "ANNULLA"); err != nil {
		return err
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

func (s *demoSummary) print(w io.Writer) {
	fmt.Fprintf(w, "Richiamo demo — simulated day: %s (Europe/Rome)\n\n", s.Day)
	r := s.Import
	fmt.Fprintf(w, "Extract: %d rows, %d valid bookings, %d duplicates, %d rejected\n", r.Rows, r.Valid, r.Duplicates, len(r.Rejected))
	reasons := make([]string, 0, len(r.ByReason))
	for k := range r.ByReason {
		reasons = append(reasons, k)
	}
	sort.Strings(reasons)
	for _, k := range reasons {
		fmt.Fprintf(w, "  %-21s %d\n", k, r.ByReason[k])
	}
	for i, rj := range r.Rejected {
		if i == 5 {
			fmt.Fprintf(w, "  … %d more\n", len(r.Rejected)-5)
			break
		}
		fmt.Fprintf(w, "  e.g. %s\n", rj.Error())
	}
	fmt.Fprintf(w, "\nPlanned: %d messages for %d bookings (%d segments; %d GSM-7, %d UCS-2)\n", r.Messages, r.Bookings, r.Segments, r.GSM7, r.UCS2)
	fmt.Fprintf(w, "Sent: %d accepted at %.0f/s; %d refused, %d retried after a rate limit, %d reconciled after a lost answer\n",
		s.Send.Sent, s.Send.RatePerSec, s.Send.Failed, s.Send.Retried, s.Send.Reconciled)
	if s.Twice == 0 {
		fmt.Fprintf(w, "The provider holds %d messages, no number more than once.\n", s.ProviderRx)
	} else {
		fmt.Fprintf(w, "The provider holds %d messages; %d numbers got more than one!\n", s.ProviderRx, s.Twice)
	}
	fmt.Fprintf(w, "Same extract imported again after the replies: %d new messages; %d row(s) now refused as opted_out.\n",
		s.Reimport.Messages, s.Reimport.ByReason[string(cup.ReasonOptedOut)])
	fmt.Fprintln(w, "\nBy status:")
	for _, c := range s.ByStatus {
		fmt.Fprintf(w, "  %-12s %5d\n", c.Status, c.Messages)
	}
	if len(s.Failures) > 0 {
		fmt.Fprintln(w, "\nNot delivered:")
		for _, f := range s.Failures {
			fmt.Fprintf(w, "  %s  %-11s %5d  %s\n", f.Phone, f.Status, f.ErrorCode, f.Reason)
		}
	}
	fmt.Fprintln(w, "\nSample messages:")
	for _, m := range s.Sample {
		fmt.Fprintf(w, "  %s\n", m)
	}
	fmt.Fprintln(w, "\nPatients' replies:")
	for _, x := range s.Exchanges {
		fmt.Fprintf(w, "  %s: %q\n", x.From, x.Says)
		if x.Answer != "" {
			fmt.Fprintf(w, "      ← %s\n", x.Answer)
		}
	}
	fmt.Fprintf(w, "\n%d confirmations, %d cancellation requests for the CUP, %d replies in the operators' inbox.\n", s.Confirmed, s.Cancelled, s.Inbox)
	if s.Calls != nil {
		s.Calls.print(w)
	}
	if s.Levels != nil {
		s.Levels.print(w)
	}
}

// demoLevels is the month's service levels in the summary.
type demoLevels struct {
	Month       string  `json:"month"`
	Profile     string  `json:"profile"`
	Report      int64   `json:"kept_report_id"`
	Calls       int     `json:"calls"`
	Positive    int     `json:"positive_contacts"`
	Acquisition float64 `json:"acquisition"`
	Packages    int     `json:"packages"`
	Written     int     `json:"written_contacts"`
	PenaltyPct  float64 `json:"penalty_pct"`
}

// levels makes and keeps November's service-level report from what the
// demo recorded, as serve does on the 1st of the month.
func (d *demo) levels(ctx context.Context, sum *demoSummary) (*slareport.Report, error) {
	cfg := config.Default()
	src, err := levelSources(cfg, d.st)
	if err != nil {
		return nil, err
	}
	from := time.Date(2026, 11, 1, 0, 0, 0, 0, cup.Rome)
	p := reportPeriod{slareport.Monthly, from, from.AddDate(0, 1, 0)}
	id, _, err := keepReport(ctx, src, p, "demo", d.now())
	if err != nil {
		return nil, err
	}
	rep, err := slareport.Kept(ctx, d.st, id)
	if err != nil {
		return nil, err
	}
	a := rep.Outbound.Acquisition
	sum.Levels = &demoLevels{Month: rep.Title(), Profile: rep.Profile.Name, Report: id, Calls: a.Calls, Positive: a.Positive,
		Acquisition: a.Value, Packages: len(rep.Outbound.Packages), Written: rep.Replies.Received, PenaltyPct: rep.Penalties.TotalPct}
	return rep, nil
}

func (l *demoLevels) print(w io.Writer) {
	fmt.Fprintf(w, "\nService levels of %s (profile %s), kept as report %d:\n", l.Month, l.Profile, l.Report)
	fmt.Fprintf(w, "  %d calls, %d contacts closed positive: %.2f%% per call; %d package(s); %d written contact(s); penalties %.2f%%\n",
		l.Calls, l.Positive, l.Acquisition*100, l.Packages, l.Written, l.PenaltyPct)
	fmt.Fprintln(w, "  (demo --pdf FILE writes it; with --keep, richiamo sla report --id N shows it from the kept store)")
}
