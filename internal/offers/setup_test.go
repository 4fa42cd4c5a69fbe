package offers_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/inbound"
	"github.com/richiamo/richiamo/internal/offers"
	"github.com/richiamo/richiamo/internal/remind"
	"github.com/richiamo/richiamo/internal/sms"
	"github.com/richiamo/richiamo/internal/sms/twiliotest"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/store/storetest"
	"github.com/richiamo/richiamo/internal/testkit"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const (
	testAccount = "AC0123456789abcdef0123456789abcdef"
	testToken   = "0123456789abcdef0123456789abcdef"
)

// mondayMorning: Monday 30 November 2026, 09:30 in Rome, inside the
// contact hours.
var mondayMorning = time.Date(2026, 11, 30, 9, 30, 0, 0, cup.Rome)

// The slot of most tests: an MRI on Wednesday 20 January 2027 at 10:00;
// an exam, so its candidates are booked from 30 January 2027 (day 61).
var slotAt = time.Date(2027, 1, 20, 10, 0, 0, 0, cup.Rome)

const (
	node   = "ASL1"
	agenda = "RM-TORACE"
)

// cupAgenda stands for the CUP's own agenda behind the write-back: a
// table where a time holds one booking, so that a move into a time the
// front office has booked fails as the CUP's statement would.
type cupAgenda struct {
	st    *store.Store
	calls atomic.Int32
	fail  atomic.Bool // the CUP does not answer
}

func newCUPAgenda(t *testing.T, st *store.Store) *cupAgenda {
	t.Helper()
	if _, err := st.DB().Exec(`CREATE TABLE test_cup_agenda (node TEXT NOT NULL, agenda TEXT NOT NULL, at BIGINT NOT NULL, code TEXT NOT NULL,
		PRIMARY KEY (node, agenda, at))`); err != nil {
		t.Fatal(err)
	}
	return &cupAgenda{st: st}
}

// book is the front office booking a time.
func (c *cupAgenda) book(t *testing.T, at time.Time, code string) {
	t.Helper()
	if _, err := c.st.DB().Exec(c.st.DB().Rebind(`INSERT INTO test_cup_agenda (node, agenda, at, code) VALUES (?, ?, ?, ?)`), node, agenda, at.UnixMilli(), code); err != nil {
		t.Fatal(err)
	}
}

func (c *cupAgenda) Move(ctx context.Context, r offers.MoveRequest) error {
	c.calls.Add(1)
	if c.fail.Load() {
		return errors.New("cup: connection reset")
	}
	_, err := c.st.DB().ExecContext(ctx, c.st.DB().Rebind(`INSERT INTO test_cup_agenda (node, agenda, at, code) VALUES (?, ?, ?, ?)`),
		r.Node, r.Agenda, r.To.UnixMilli(), r.Code)
	if err != nil {
		if strings.Contains(err.Error(), "UNIQUE") || strings.Contains(err.Error(), "duplicate key") {
			return fmt.Errorf("cup: %w", offers.ErrSlotTaken)
		}
		return err
	}
	return nil
}

func (c *cupAgenda) holder(t *testing.T, at time.Time) string {
	t.Helper()
	var code string
	err := c.st.DB().Get(&code, c.st.DB().Rebind(`SELECT code FROM test_cup_agenda WHERE node = ? AND agenda = ? AND at = ?`), node, agenda, at.UnixMilli())
	if err != nil {
		return ""
	}
	return code
}

type bundle struct {
	st     *store.Store
	clock  *testkit.Clock
	fake   *twiliotest.Server
	sender *remind.Sender
	web    *httptest.Server
	svc    *offers.Service
	cup    *cupAgenda
}

type opts struct {
	cfg     offers.Config
	noMover bool
}

func setup(t *testing.T, st *store.Store, o opts) *bundle {
	t.Helper()
	return setupShared(t, st, newCUPAgenda(t, st), testkit.NewClock(mondayMorning), o)
}

// setupShared is a second engine process: its own store handle, service
// and webhooks, the same CUP and the same clock.
func setupShared(t *testing.T, st *store.Store, c *cupAgenda, clock *testkit.Clock, o opts) *bundle {
	t.Helper()
	b := &bundle{st: st, clock: clock, cup: c}
	var mover offers.Mover = b.cup
	if o.noMover {
		mover = nil
	}
	var err error
	b.svc, err = offers.New(o.cfg, offers.Deps{Store: st, Mover: mover, Log: testkit.Logger(t), Now: b.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	b.fake = twiliotest.NewServer(twiliotest.Options{AccountSID: testAccount, AuthToken: testToken, DeliveryDelay: time.Millisecond})
	t.Cleanup(b.fake.Close)
	hooks := &remind.Webhooks{Store: st, Log: testkit.Logger(t), Now: b.clock.Now, AuthToken: testToken,
		Handlers: map[string]inbound.Handler{store.JobOffer: b.svc.Handler()}}
	mux := http.NewServeMux()
	hooks.Register(mux)
	b.web = httptest.NewServer(mux)
	t.Cleanup(b.web.Close)
	hooks.PublicURL = b.web.URL
	gw, err := sms.NewTwilio(sms.TwilioConfig{AccountSID: testAccount, AuthToken: testToken,
		MessagingServiceSID: "MG0123456789abcdef0123456789abcdef", StatusCallback: b.web.URL + remind.StatusPath,
		BaseURL: b.fake.URL(), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	b.sender = &remind.Sender{Store: st, Gateway: gw, Log: testkit.Logger(t), Now: b.clock.Now, Rate: 1000, Concurrency: 4,
		MaxAttempts: 3, RetryBase: 10 * time.Millisecond, ReconcileAfter: 10 * time.Millisecond, Lease: 5 * time.Second}
	return b
}

func openStore(t *testing.T, dsn string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), store.Options{PostgresDSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}

func each(t *testing.T, o opts, fn func(t *testing.T, b *bundle)) {
	storetest.Each(t, func(t *testing.T, st *store.Store) { fn(t, setup(t, st, o)) })
}

// patient is a booking of the agenda, later than the slot.
type patient struct {
	code, phone, at, priority, booked string
}

func (b *bundle) seed(t *testing.T, ps ...patient) {
	t.Helper()
	ctx := context.Background()
	var bs []cup.Booking
	for _, p := range ps {
		at, err := time.ParseInLocation("2006-01-02 15:04", p.at, cup.Rome)
		if err != nil {
			t.Fatal(err)
		}
		bk := cup.Booking{Node: node, Code: p.code, Phone: p.phone, At: at, Agenda: agenda, Priority: p.priority,
			ServiceType: cup.ServiceInstrumental, Service: "RM torace", Facility: "Ospedale San Carlo"}
		if p.booked != "" {
			bk.BookedOn, _ = time.ParseInLocation(time.DateOnly, p.booked, cup.Rome)
		}
		bs = append(bs, bk)
	}
	err := b.st.InTx(ctx, func(tx *store.Tx) error {
		id, err := tx.StartImport(ctx, "test", b.clock.Now())
		if err != nil {
			return err
		}
		return tx.UpsertBookings(ctx, id, bs, b.clock.Now())
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (b *bundle) free(t *testing.T) store.FreedSlot {
	t.Helper()
	sl, added, err := b.svc.Free(context.Background(), node, agenda, slotAt)
	if err != nil || !added {
		t.Fatalf("free: %v %v", added, err)
	}
	return sl
}

func (b *bundle) tick(t *testing.T) offers.TickStats {
	t.Helper()
	ts, err := b.svc.Tick(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

func (b *bundle) drain(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := b.sender.Drain(ctx); err != nil {
		t.Fatal(err)
	}
}

// reply sends a patient's SMS through the Twilio imitation's signed
// webhook and returns the engine's answer.
func (b *bundle) reply(t *testing.T, from, body string) string {
	t.Helper()
	resp, err := b.fake.Inbound(context.Background(), b.web.URL+remind.InboundPath, from, "+390000000000", body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("inbound webhook: %s %s", resp.Status, raw)
	}
	s := string(raw)
	i := strings.Index(s, "<Message>")
	if i < 0 {
		return ""
	}
	s = strings.TrimSuffix(s[i+len("<Message>"):], "</Message></Response>")
	return strings.NewReplacer("&#39;", "'", "&#34;", "\"", "&amp;", "&").Replace(s)
}

// sent lists the SMS the imitation received for to, in order.
func (b *bundle) sent(to string) []string {
	var out []string
	for _, m := range b.fake.Messages() {
		if m.To == to {
			out = append(out, m.Body)
		}
	}
	return out
}

func (b *bundle) offerOf(t *testing.T, slotID int64, phone string) store.Offer {
	t.Helper()
	os, err := b.st.SlotOffers(context.Background(), slotID)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range os {
		if o.Phone == phone {
			return o
		}
	}
	t.Fatalf("no offer of slot %d to %s", slotID, phone)
	return store.Offer{}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if string(want) != got {
		t.Fatalf("%s differs:\n--- got\n%s\n--- want\n%s", p, got, want)
	}
}
