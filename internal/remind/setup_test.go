package remind

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/richiamo/richiamo/campaigns"
	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/sms"
	"github.com/richiamo/richiamo/internal/sms/twiliotest"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/store/storetest"
	"github.com/richiamo/richiamo/internal/testkit"
)

const (
	testAccount = "AC0123456789abcdef0123456789abcdef"
	testToken   = "0123456789abcdef0123456789abcdef"
)

// mondayMorning is the run time of most tests: Monday 30 November 2026,
// 09:30 in Rome, the day before the extracts' appointments.
var mondayMorning = time.Date(2026, 11, 30, 9, 30, 0, 0, cup.Rome)

type bundle struct {
	st      *store.Store
	fake    *twiliotest.Server
	gw      *sms.Twilio
	camp    *Campaign
	planner *Planner
	sender  *Sender
	hooks   *Webhooks
	web     *httptest.Server
	now     func() time.Time
}

func setup(t *testing.T, st *store.Store) *bundle {
	t.Helper()
	return setupWith(t, st, twiliotest.Options{AccountSID: testAccount, AuthToken: testToken, DeliveryDelay: time.Millisecond})
}

func setupWith(t *testing.T, st *store.Store, fo twiliotest.Options) *bundle {
	t.Helper()
	camp, err := ParseCampaign(campaigns.Reminder)
	if err != nil {
		t.Fatal(err)
	}
	b := &bundle{st: st, camp: camp, now: testkit.RunningClock(mondayMorning)} // backoffs and leases expire without sleeping through hours
	b.fake = twiliotest.NewServer(fo)
	t.Cleanup(b.fake.Close)
	b.hooks = &Webhooks{Store: st, Log: testkit.Logger(t), Now: b.now, AuthToken: testToken}
	mux := http.NewServeMux()
	b.hooks.Register(mux)
	b.web = httptest.NewServer(mux)
	t.Cleanup(b.web.Close)
	b.hooks.PublicURL = b.web.URL
	b.gw, err = sms.NewTwilio(sms.TwilioConfig{AccountSID: testAccount, AuthToken: testToken,
		MessagingServiceSID: "MG0123456789abcdef0123456789abcdef", StatusCallback: b.web.URL + StatusPath,
		BaseURL: b.fake.URL(), Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	b.planner = &Planner{Store: st, Campaign: camp, Log: testkit.Logger(t), Now: b.now}
	b.sender = &Sender{Store: st, Gateway: b.gw, Log: testkit.Logger(t), Now: b.now, Rate: 1000, Concurrency: 4,
		MaxAttempts: 3, RetryBase: 10 * time.Millisecond, ReconcileAfter: 10 * time.Millisecond, Lease: 5 * time.Second}
	return b
}

const header = "nodo;agenda;codice_prenotazione;cellulare;data_ora_appuntamento;struttura;indirizzo;cognome;nome\n"

// row writes one extract row for the test extracts.
func row(node, code, phone, when string) string {
	return fmt.Sprintf("%s;AGENDA;%s;%s;%s;Poliambulatorio Città Nuova;Via Nazionale 12;Rossi;Mario\n", node, code, phone, when)
}

func (b *bundle) plan(t *testing.T, o Options, rows ...string) *Report {
	t.Helper()
	rep, err := b.planner.Plan(context.Background(), []Source{{Name: "estratto.csv", R: strings.NewReader(header + strings.Join(rows, ""))}}, o)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func (b *bundle) drain(t *testing.T) SendStats {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := b.sender.Drain(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func (b *bundle) messages(t *testing.T, phone string) []store.MessageRow {
	t.Helper()
	ms, err := b.st.Messages(context.Background(), phone, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func eachStore(t *testing.T, fn func(t *testing.T, b *bundle)) {
	storetest.Each(t, func(t *testing.T, st *store.Store) { fn(t, setup(t, st)) })
}
