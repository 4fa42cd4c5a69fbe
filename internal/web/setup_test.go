package web

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/richiamo/richiamo/campaigns"
	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/remind"
	"github.com/richiamo/richiamo/internal/sms"
	"github.com/richiamo/richiamo/internal/sms/twiliotest"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/store/storetest"
	"github.com/richiamo/richiamo/internal/testkit"
)

const (
	testAccount = "AC0123456789abcdef0123456789abcdef"
	testToken   = "0123456789abcdef0123456789abcdef"
	// testPassword is every test account's password.
	testPassword = "password-di-prova-1"
)

// mondayMorning is the seeded day: Monday 30 November 2026, 09:30 in Rome,
// the day before the extract's appointments.
var mondayMorning = time.Date(2026, 11, 30, 9, 30, 0, 0, cup.Rome)

// The seeded patients. Each row of the extract below plays one part.
const (
	phoneDelivered   = "+393331000001" // ASL1, delivered, writes a free-text question
	phoneUndelivered = "+393331000002" // ASL1, undelivered 30003
	phoneCancels     = "+393471000001" // ASL2, delivered, answers ANNULLA
	phoneRefused     = "+393201000001" // AO, refused at send 21614
	phoneIRCCS       = "+393381000001" // IRCCS, delivered
	phoneOptedOut    = "+393391000009" // opted out before the run
	phoneStranger    = "+393339999999" // never reminded, writes to the inbox

	codeDelivered = "ASL1-2026-0000001"
	codeCancelled = "ASL2-2026-0000001"
)

// seededPhones are every whole number the seed puts in the store, in the
// forms a page could print them.
var seededPhones = []string{phoneDelivered, phoneUndelivered, phoneCancels, phoneRefused, phoneIRCCS, phoneOptedOut, phoneStranger}

const extractHeader = "nodo;agenda;codice_prenotazione;cellulare;data_ora_appuntamento;prestazione;struttura;indirizzo;cognome;nome\n"

// extractRows has one booking per outcome and one bad row per reason.
var extractRows = []string{
	"ASL1;CARDIOLOGIA;" + codeDelivered + ";333 100 0001;01/12/2026 10:30;Visita cardiologica;Poliambulatorio Città Nuova;Via Nazionale 12;Rossi;Mario",
	"ASL1;ECOGRAFIA;ASL1-2026-0000002;3331000002;01/12/2026 11:00;Ecografia addome;Poliambulatorio Città Nuova;Via Nazionale 12;Bianchi;Anna",
	"ASL2;ORTOPEDIA;" + codeCancelled + ";+39 347 1000001;01/12/2026 15:00;Visita ortopedica;Poliambulatorio Porta Romana;Corso Vittorio Emanuele II 101;Greco;Antonio",
	"AO;TC;AO-2026-0000001;320 1000001;01/12/2026 12:15;TC torace;Ospedale Sant'Antonio Abate;Via Machiavelli 20;Della Rocca;Zoè",
	"IRCCS;SENOLOGIA;IRCCS-2026-0000001;3381000001;01/12/2026 09:45;Mammografia;Istituto Oncologico Regionale;Via Carducci 7;Cantù;Teresa",
	"IRCCS;SENOLOGIA;IRCCS-2026-0000002;;01/12/2026 12:00;Mammografia;Istituto Oncologico Regionale;Via Carducci 7;Conti;Giulia",
	"IRCCS;SENOLOGIA;IRCCS-2026-0000003;N.D.;01/12/2026 12:15;Mammografia;Istituto Oncologico Regionale;Via Carducci 7;Lombardi;Paolo",
	"ASL2;ORTOPEDIA;ASL2-2026-0000002;075 1234567;01/12/2026 14:30;Visita ortopedica;Poliambulatorio Porta Romana;Corso Vittorio Emanuele II 101;Neri;Luca",
	"ASL1;OCULISTICA;;3387654321;01/12/2026 15:00;Visita oculistica;Ospedale Civile;Viale della Repubblica 45;Ferri;Sara",
	"ASL1;DERMATOLOGIA;ASL1-2026-0000003;339 2468135;31/11/2026 09:00;Visita dermatologica;Ospedale Civile;Viale della Repubblica 45;Galli;Piero",
	"AO;NEUROLOGIA;AO-2026-0000002;339 1000009;01/12/2026 17:40;Visita neurologica;Ospedale Sant'Antonio Abate;Via Machiavelli 20;Mosè;Gioele",
}

// allReasons are the rejection reasons the extract above produces.
var allReasons = []cup.Reason{cup.ReasonMissingPhone, cup.ReasonInvalidPhone, cup.ReasonLandline,
	cup.ReasonMissingBookingCode, cup.ReasonBadDatetime, cup.ReasonOptedOut}

// roleUsers are the seeded accounts, one per role, a second operator and a
// disabled one.
var roleUsers = map[Role]string{RoleOperator: "operatore", RoleTeamLeader: "coordinatore", RoleCUPManager: "referente.asl2", RoleAuditor: "revisore", RoleAdmin: "amministratore"}

const (
	otherOperator = "operatore2"
	disabledUser  = "ex.operatore"
)

type bundle struct {
	st  *store.Store
	now func() time.Time
	// shift moves the console's clock ahead of the running one (advance).
	shift    atomic.Int64
	console  *Console
	srv      *httptest.Server
	importID int64
}

type setupOpts struct {
	login    LoginLimits
	postgres bool
	nodes    func(ctx context.Context) []NodeHealth
	calls    ConsoleCalls
	// offers builds the console's OfferDesk on the bundle's store and
	// clock; nil gives none.
	offers func(st *store.Store, now func() time.Time) OfferDesk
}

// setup seeds a SQLite store through the real reminder job, sender and
// webhooks, creates the accounts, and serves the console on 127.0.0.1.
func setup(t *testing.T) *bundle {
	return setupWith(t, setupOpts{})
}

func setupWith(t *testing.T, o setupOpts) *bundle {
	t.Helper()
	var st *store.Store
	if o.postgres {
		st = storetest.Postgres(t)
	} else {
		st = storetest.SQLite(t)
	}
	b := &bundle{st: st}
	running := testkit.RunningClock(mondayMorning) // the pages show the same day whenever the tests run
	b.now = func() time.Time { return running().Add(time.Duration(b.shift.Load())) }
	b.importID = seed(t, st, b.now, !o.postgres)
	seedCalls(t, st)
	for role, name := range roleUsers {
		node := ""
		if role == RoleCUPManager {
			node = "ASL2"
		}
		addUser(t, st, name, role, node, b.now())
	}
	addUser(t, st, otherOperator, RoleOperator, "", b.now())
	addUser(t, st, disabledUser, RoleOperator, "", b.now())
	if err := SetAccountDisabled(context.Background(), st, disabledUser, true, cliActor, b.now()); err != nil {
		t.Fatal(err)
	}
	var desk OfferDesk
	if o.offers != nil {
		desk = o.offers(st, b.now)
	}
	var err error
	b.console, err = New(Config{Store: st, Offers: desk, Log: testkit.Logger(t), Now: b.now, BcryptCost: MinBcryptCost, Login: o.login,
		// Long enough that a page never reloads itself under a test.
		Refresh: 10 * time.Minute,
		Levels:  levelSources(t, st),
		Nodes:   o.nodes,
		Calls:   o.calls,
		NextRuns: func(now time.Time) []ScheduledRun {
			return []ScheduledRun{{Name: "Promemoria SMS (promemoria)", At: time.Date(2026, 12, 1, 10, 0, 0, 0, cup.Rome)}}
		}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	b.console.Register(mux)
	b.srv = httptest.NewServer(mux)
	t.Cleanup(b.srv.Close)
	return b
}

// advance moves the console's clock forward by d.
func (b *bundle) advance(d time.Duration) { b.shift.Add(int64(d)) }

// cliActor is who creates the seeded accounts, as `richiamo user add` does.
var cliActor = Actor{Name: "cli:root", Role: "cli"}

// testHash is testPassword's hash, made once and at bcrypt's lowest cost:
// every sign-in of the tests compares against it, and at the console's
// minimum cost each comparison takes a second under the race detector.
// Accounts made through the console or the command line get the real
// cost (TestAdminAddsAnAccount checks it).
var testHash = sync.OnceValue(func() string {
	h, err := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	if err != nil {
		panic(err)
	}
	return string(h)
})

// addUser creates a seeded account with the store's own function and the
// shared hash; TestAdminAddsAnAccount goes through AddAccount itself.
func addUser(t *testing.T, st *store.Store, name string, role Role, node string, now time.Time) {
	t.Helper()
	if _, err := st.CreateUser(context.Background(), store.User{Name: name, Role: string(role), Node: node, PasswordHash: testHash()}, now); err != nil {
		t.Fatal(err)
	}
}

// seed runs the reminder job on the extract above, sends through the
// Twilio imitation with two scripted failures, waits for the delivery
// reports, and receives three patients' messages. It returns the import.
//
// Unless reports is set, a message the provider accepted counts as settled
// without its delivery report: on PostgreSQL a report that arrives while
// the send is being recorded can be left in pending_statuses (MarkSent and
// ApplyStatus race under READ COMMITTED), and the console's tests there do
// not depend on delivery outcomes.
func seed(t *testing.T, st *store.Store, now func() time.Time, reports bool) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	camp, err := remind.ParseCampaign(campaigns.Reminder)
	if err != nil {
		t.Fatal(err)
	}
	fake := twiliotest.NewServer(twiliotest.Options{AccountSID: testAccount, AuthToken: testToken, DeliveryDelay: time.Millisecond})
	t.Cleanup(fake.Close)
	hooks := &remind.Webhooks{Store: st, Log: testkit.Logger(t), Now: now, AuthToken: testToken}
	mux := http.NewServeMux()
	hooks.Register(mux)
	web := httptest.NewServer(mux)
	t.Cleanup(web.Close)
	hooks.PublicURL = web.URL
	gw, err := sms.NewTwilio(sms.TwilioConfig{AccountSID: testAccount, AuthToken: testToken,
		MessagingServiceSID: "MG0123456789abcdef0123456789abcdef", StatusCallback: web.URL + remind.StatusPath,
		BaseURL: fake.URL(), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	fake.Script(phoneRefused, twiliotest.Status(400, 21614, "'To' number is not a valid mobile number"))
	fake.Script(phoneUndelivered, twiliotest.DeliveryFails(30003))
	if _, err := st.OptOut(ctx, phoneOptedOut, "sms", now()); err != nil {
		t.Fatal(err)
	}
	pl := &remind.Planner{Store: st, Campaign: camp, Log: testkit.Logger(t), Now: now}
	rep, err := pl.Plan(ctx, []remind.Source{{Name: "estratto-2026-11-30.csv", R: strings.NewReader(extractHeader + strings.Join(extractRows, "\n") + "\n")}}, remind.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rejected) != len(allReasons) {
		t.Fatalf("the extract should reject one row per reason, got %+v", rep.Rejected)
	}
	snd := &remind.Sender{Store: st, Gateway: gw, Log: testkit.Logger(t), Now: now, Rate: 1000, Concurrency: 2,
		MaxAttempts: 3, RetryBase: 10 * time.Millisecond, ReconcileAfter: 10 * time.Millisecond, Lease: 5 * time.Second}
	if _, err := snd.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	// Four messages reach the provider; wait for their reports to land.
	want := map[string]string{phoneDelivered: store.StatusDelivered, phoneUndelivered: store.StatusUndelivered,
		phoneCancels: store.StatusDelivered, phoneIRCCS: store.StatusDelivered, phoneRefused: store.StatusFailed}
	deadline, _ := ctx.Deadline()
	for p, status := range want {
		testkit.WaitFor(t, func() error {
			ms, err := st.Messages(ctx, p, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(ms) == 1 && (ms[0].Status == status || (!reports && ms[0].Status == store.StatusSent)) {
				return nil
			}
			return fmt.Errorf("%s: messages %+v, want one %s", p, ms, status)
		}, time.Until(deadline))
	}
	for i, m := range []struct{ from, body string }{
		{phoneDelivered, "Buongiorno, posso spostare l'appuntamento a giovedì?"},
		{phoneCancels, "ANNULLA"},
		{phoneStranger, "Chi siete? Non ho prenotato nulla"},
	} {
		if _, err := hooks.HandleReply(ctx, fmt.Sprintf("SM%032d", i+1), m.from, m.body); err != nil {
			t.Fatal(err)
		}
	}
	return rep.ImportID
}

// client is a browser-like HTTP client: cookies, no automatic redirects.
type client struct {
	t    *testing.T
	base string
	hc   *http.Client
}

func (b *bundle) client(t *testing.T) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: b.srv.URL, hc: &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type page struct {
	status int
	body   string
	header http.Header
}

func (c *client) do(req *http.Request) page {
	c.t.Helper()
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	// Pages are compared as a person reads them: "&#43;39" is "+39".
	return page{status: resp.StatusCode, body: html.UnescapeString(string(body)), header: resp.Header}
}

func (c *client) get(path string) page {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.base+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.do(req)
}

func (c *client) post(path string, form url.Values) page {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf reads the anti-forgery token from a page's form.
func (c *client) csrf(p page) string {
	c.t.Helper()
	m := csrfInput.FindStringSubmatch(p.body)
	if m == nil {
		c.t.Fatalf("no anti-forgery token in the page:\n%s", p.body)
	}
	return m[1]
}

// login signs in through the form and returns the answer to the POST.
func (c *client) login(name, password string) page {
	c.t.Helper()
	form := c.get("/accesso")
	return c.post("/accesso", url.Values{"csrf": {c.csrf(form)}, "nome": {name}, "password": {password}})
}

// signedIn signs in and fails the test unless it worked.
func (b *bundle) signedIn(t *testing.T, name string) *client {
	t.Helper()
	c := b.client(t)
	if p := c.login(name, testPassword); p.status != http.StatusSeeOther {
		t.Fatalf("sign-in as %s: %d\n%s", name, p.status, p.body)
	}
	return c
}

// openItems lists every open work item due now, as the store keeps them.
func (b *bundle) openItems(t *testing.T) []store.WorkItem {
	t.Helper()
	items, err := b.st.OpenWorkItems(context.Background(), store.WorkFilter{Now: b.now(), Limit: 10_000})
	if err != nil {
		t.Fatal(err)
	}
	return items
}
