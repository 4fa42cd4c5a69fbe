package engine

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/calendar"
	"github.com/richiamo/richiamo/internal/clock"
	"github.com/richiamo/richiamo/internal/config"
	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/sms/twiliotest"
	"github.com/richiamo/richiamo/internal/store"
)

const (
	account = "AC0123456789abcdef0123456789abcdef"
	token   = "0123456789abcdef0123456789abcdef"
)

// The engine as serve runs it, in-process, on a pinned day: the schedule
// picks the extract up from the inbox, the sender sends each reminder once
// through the provider's imitation, a patient's reply comes back through
// the signed webhook, and a stop returns cleanly.
func TestEngineRunsTheReminderJobEndToEnd(t *testing.T) {
	t.Parallel()
	now := time.Date(2027, time.March, 10, 9, 30, 0, 0, cup.Rome)
	dir := t.TempDir()
	fake := twiliotest.NewServer(twiliotest.Options{AccountSID: account, AuthToken: token})
	t.Cleanup(fake.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	public := "http://" + ln.Addr().String()
	campaign := `name: prova
schedule: "@every 1s"
days_before: [2]
send_hours: {from: "00:00", to: "24:00"}
min_notice: 1m
template: "CUP: appuntamento di {{(index .Appuntamenti 0).Quando}}, prenotazione {{(index .Appuntamenti 0).Codice}}."
`
	if err := os.WriteFile(filepath.Join(dir, "reminder.yaml"), []byte(campaign), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "inbox"), 0o755); err != nil {
		t.Fatal(err)
	}
	day := now.AddDate(0, 0, 2).Format("02/01/2006")
	var sb strings.Builder
	sb.WriteString("codice_prenotazione;cellulare;data_ora_appuntamento\n")
	const n = 40
	var phones []string
	for i := range n {
		p := fmt.Sprintf("+39333%07d", i)
		phones = append(phones, p)
		fmt.Fprintf(&sb, "PR-%06d;%s;%s %02d:%02d\n", i, p, day, 8+i%10, (i*5)%60)
	}
	if err := os.WriteFile(filepath.Join(dir, "inbox", "estratto.csv"), []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Dir = dir
	cfg.Campaigns.Reminder = "reminder.yaml"
	cfg.Extract.Inbox, cfg.Extract.Done = "inbox/*.csv", "done"
	cfg.Web.PublicURL = public
	cfg.SMS.RatePerSecond = 200
	tw := &cfg.SMS.Twilio
	tw.AccountSID, tw.AuthToken, tw.MessagingServiceSID, tw.BaseURL = account, token, "MG0123456789abcdef0123456789abcdef", fake.URL()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	eng, err := New(context.Background(), cfg, Deps{Now: clock.From(now), Log: log})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	// The engine has probed since two months before: the reports due at
	// now are of periods after its first record, so they are kept.
	if err := eng.Store.RecordProbe(context.Background(), store.Probe{At: now.AddDate(0, -2, 0), Target: "ua", Up: true}); err != nil {
		t.Fatal(err)
	}
	svcs, err := eng.Services()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range svcs {
		names = append(names, s.Name)
	}
	if got := strings.Join(names, " "); got != "reminders sender cup-health reports offers confirmations" {
		t.Errorf("services without voice: %s", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx, ln) }()

	wctx, wcancel := context.WithTimeout(ctx, 60*time.Second)
	defer wcancel()
	if err := fake.WaitAccepted(wctx, n); err != nil {
		t.Fatal(err)
	}
	resp, err := fake.Inbound(wctx, public+"/webhooks/twilio/inbound", phones[0], "+390000000000", "SI")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "conferma") {
		t.Errorf("reply webhook: %s %s", resp.Status, body)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	for _, p := range phones {
		if c := fake.CountTo(p); c != 1 {
			t.Errorf("%s received %d reminders", p, c)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "inbox", "estratto.csv")); !os.IsNotExist(err) {
		t.Errorf("the extract is still in the inbox: %v", err)
	}
	// The kept reports are those due on the engine's clock, not the wall
	// clock's.
	reps, err := eng.Store.SLAReports(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := ReportPlan(cfg.SLA).Due(now, cup.Rome); len(reps) != len(want) || reps[0].PeriodFrom[:4] != "2027" {
		t.Errorf("kept reports %+v, want %d of 2027", reps, len(want))
	}
}

func TestServeWithSMSNeedsItsSettings(t *testing.T) {
	t.Parallel()
	cfg := config.Default()
	cfg.SMS.Twilio.AccountSID = "AC0123456789abcdef0123456789abcdef"
	if err := CheckServe(cfg); err == nil || !strings.Contains(err.Error(), "web.public_url") {
		t.Errorf("no public URL: %v", err)
	}
	cfg.Web.PublicURL = "https://cup.example.it"
	if err := CheckServe(cfg); err == nil || !strings.Contains(err.Error(), "extract.inbox") {
		t.Errorf("no inbox and no node: %v", err)
	}
	cfg.Extract.Inbox = "in/*.csv"
	if err := CheckServe(cfg); err != nil {
		t.Error(err)
	}
}

func TestServeRunsWithoutSMSSettings(t *testing.T) {
	t.Parallel()
	cfg := config.Default()
	cfg.Dir = t.TempDir()
	if err := CheckServe(cfg); err != nil {
		t.Fatalf("no SMS settings at all: %v", err)
	}
	eng, err := New(context.Background(), cfg, Deps{Now: clock.From(time.Date(2027, 3, 10, 9, 30, 0, 0, calendar.Rome)), Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	svcs, err := eng.Services()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range svcs {
		names = append(names, s.Name)
	}
	if got := strings.Join(names, " "); got != "cup-health reports" {
		t.Errorf("services without SMS: %s", got)
	}
	// Settings given but unusable still stop start-up.
	cfg.SMS.Twilio.AccountSID = "AC0123456789abcdef0123456789abcdef"
	broken, err := New(context.Background(), cfg, Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer broken.Close()
	if _, err := broken.Services(); err == nil {
		t.Error("an account without its token was accepted")
	}
	if err := CheckServe(cfg); err == nil || !strings.Contains(err.Error(), "web.public_url") {
		t.Errorf("SMS without web.public_url: %v", err)
	}
}
