package remind

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/sms/twiliotest"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/store/storetest"
	"github.com/richiamo/richiamo/internal/testkit"
)

// sqliteBundle runs the sending tests on the embedded store; the store
// suite covers both dialects' outbox queries.
func sqliteBundle(t *testing.T) *bundle {
	t.Helper()
	return setup(t, storetest.SQLite(t))
}

func (b *bundle) waitStatus(t *testing.T, phone, status string) store.MessageRow {
	t.Helper()
	var ms []store.MessageRow
	testkit.WaitFor(t, func() error {
		if ms = b.messages(t, phone); len(ms) > 0 && ms[0].Status == status {
			return nil
		}
		return fmt.Errorf("message to %s: %+v, want status %s", phone, ms, status)
	}, 10*time.Second)
	return ms[0]
}

func TestSendGoesThroughTheProviderAndDeliveryIsRecorded(t *testing.T) {
	t.Parallel()
	b := sqliteBundle(t)
	b.plan(t, Options{}, row("ASL1", "A-1", "3331234567", "01/12/2026 10:30"), row("ASL1", "A-2", "3339876543", "01/12/2026 11:00"))
	st := b.drain(t)
	if st.Sent != 2 {
		t.Fatalf("sent %d, want 2", st.Sent)
	}
	got := b.fake.Messages()
	if len(got) != 2 {
		t.Fatalf("provider has %d messages", len(got))
	}
	for _, m := range got {
		ours := b.messages(t, m.To)
		if len(ours) != 1 || ours[0].Body != m.Body {
			t.Fatalf("provider got %q for %s, outbox has %+v", m.Body, m.To, ours)
		}
	}
	// The delivery report arrives on the signed status webhook.
	m := b.waitStatus(t, "+393331234567", store.StatusDelivered)
	if m.ProviderID == "" || m.Attempts != 1 {
		t.Fatalf("delivered message: %+v", m)
	}
}

func TestRateLimitedSendIsRetriedOnce(t *testing.T) {
	t.Parallel()
	b := sqliteBundle(t)
	b.fake.Script("+393331234567", twiliotest.Status(429, 20429, "Too Many Requests"))
	b.plan(t, Options{}, row("ASL1", "A-1", "3331234567", "01/12/2026 10:30"))
	st := b.drain(t)
	if st.Retried != 1 || st.Sent != 1 {
		t.Fatalf("stats %+v, want 1 retry then 1 sent", st)
	}
	if n := b.fake.CountTo("+393331234567"); n != 1 {
		t.Fatalf("provider holds %d messages, want 1", n)
	}
	if m := b.messages(t, "+393331234567")[0]; m.Attempts != 2 {
		t.Fatalf("attempts %d, want 2", m.Attempts)
	}
}

func TestPermanentErrorIsRecordedWithItsCodeAndNeverRetried(t *testing.T) {
	t.Parallel()
	b := sqliteBundle(t)
	b.fake.Script("+393331234567", twiliotest.Status(400, 21614, "'To' number is not a valid mobile number"))
	b.plan(t, Options{}, row("ASL1", "A-1", "3331234567", "01/12/2026 10:30"))
	st := b.drain(t)
	if st.Failed != 1 || st.Sent != 0 || st.Retried != 0 {
		t.Fatalf("stats %+v", st)
	}
	m := b.messages(t, "+393331234567")[0]
	if m.Status != store.StatusFailed || m.ErrorCode != 21614 || m.Attempts != 1 {
		t.Fatalf("message %+v", m)
	}
	if n := b.fake.Received(); n != 1 {
		t.Fatalf("provider received %d requests, want 1", n)
	}
}

func TestUnsubscribedRecipientIsOptedOut(t *testing.T) {
	t.Parallel()
	b := sqliteBundle(t)
	b.fake.Script("+393331234567", twiliotest.Status(400, 21610, "Attempt to send to unsubscribed recipient"))
	b.plan(t, Options{}, row("ASL1", "A-1", "3331234567", "01/12/2026 10:30"))
	b.drain(t)
	out, err := b.st.IsOptedOut(context.Background(), "+393331234567")
	if err != nil || !out {
		t.Fatalf("opted out: %v %v", out, err)
	}
}

func TestLostAnswerIsReconciledNotResent(t *testing.T) {
	t.Parallel()
	b := sqliteBundle(t)
	b.fake.Script("+393331234567", twiliotest.AcceptThenDrop())
	b.plan(t, Options{}, row("ASL1", "A-1", "3331234567", "01/12/2026 10:30"))
	st := b.drain(t)
	if st.Unknown != 1 || st.Reconciled != 1 {
		t.Fatalf("stats %+v, want one unknown outcome reconciled", st)
	}
	if n := b.fake.CountTo("+393331234567"); n != 1 {
		t.Fatalf("provider holds %d messages, want exactly 1", n)
	}
	if m := b.messages(t, "+393331234567")[0]; m.ProviderID == "" {
		t.Fatalf("reconciled message has no provider id: %+v", m)
	}
}

func TestServerErrorNotAtTheProviderIsSentAgain(t *testing.T) {
	t.Parallel()
	b := sqliteBundle(t)
	// A 500 may or may not mean the message was taken: the sender must
	// ask before resending. Here the provider does not have it.
	b.fake.Script("+393331234567", twiliotest.Status(500, 20500, "Internal Server Error"))
	b.plan(t, Options{}, row("ASL1", "A-1", "3331234567", "01/12/2026 10:30"))
	st := b.drain(t)
	if st.Unknown != 1 || st.Resent != 1 || st.Sent != 1 {
		t.Fatalf("stats %+v", st)
	}
	if n := b.fake.CountTo("+393331234567"); n != 1 {
		t.Fatalf("provider holds %d messages, want 1", n)
	}
}

func TestBadCredentialsStopSendingAndLoseNothing(t *testing.T) {
	t.Parallel()
	b := sqliteBundle(t)
	b.fake.ScriptNext(twiliotest.Status(401, 20003, "Authenticate"))
	b.plan(t, Options{}, row("ASL1", "A-1", "3331234567", "01/12/2026 10:30"), row("ASL1", "A-2", "3339876543", "01/12/2026 11:00"))
	b.sender.Concurrency = 1
	_, err := b.sender.Drain(context.Background())
	if !errors.Is(err, ErrFatal) {
		t.Fatalf("drain: %v, want ErrFatal", err)
	}
	for _, p := range []string{"+393331234567", "+393339876543"} {
		if m := b.messages(t, p)[0]; m.Status != store.StatusPlanned {
			t.Fatalf("message to %s left %s, want planned", p, m.Status)
		}
	}
}

func TestSendingIsPacedByTheConfiguredRate(t *testing.T) {
	t.Parallel()
	b := setupWith(t, storetest.SQLite(t), twiliotest.Options{AccountSID: testAccount, AuthToken: testToken})
	var rows []string
	for i := range 60 {
		rows = append(rows, row("ASL1", fmt.Sprintf("P-%d", i), fmt.Sprintf("33312%05d", i), "01/12/2026 10:30"))
	}
	b.plan(t, Options{}, rows...)
	b.sender.Rate = 40
	b.sender.Concurrency = 8
	if st := b.drain(t); st.Sent != 60 {
		t.Fatalf("sent %d", st.Sent)
	}
	// Delays on the way can only spread arrivals out, so the provider
	// never sees more than the configured rate over the run, however
	// loaded the machine is.
	at := b.fake.AcceptedTimes()
	if len(at) != 60 {
		t.Fatalf("provider accepted %d", len(at))
	}
	span := at[len(at)-1].Sub(at[0])
	if rate := float64(len(at)-1) / span.Seconds(); rate > 40*1.1 {
		t.Fatalf("provider saw %.1f messages/s, configured 40", rate)
	}
}
