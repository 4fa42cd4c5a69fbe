package remind

import (
	"context"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/sms/twiliotest"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/testkit"
)

// Delivery reports sent while the webhook is down are lost; the
// confirmer asks Twilio's message resource and records what it says.
func TestConfirmerRecoversReportsLostWhileTheWebhookWasDown(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		b.web.Close() // serve is down: every callback is refused
		b.fake.Script("+393331110002", twiliotest.DeliveryFails(30003))
		b.plan(t, Options{},
			row("N1", "PR-1", "+393331110001", "01/12/2026 09:00"),
			row("N1", "PR-2", "+393331110002", "01/12/2026 10:00"))
		if st := b.drain(t); st.Sent != 2 {
			t.Fatalf("sent %d, want 2", st.Sent)
		}
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := b.fake.WaitFinal(wctx, 2); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{"+393331110001", "+393331110002"} {
			if ms := b.messages(t, p); len(ms) != 1 || ms[0].Status != store.StatusSent {
				t.Fatalf("%s: %+v, want one message still 'sent' (its report was lost)", p, ms)
			}
		}
		later := func() time.Time { return b.now().Add(store.ConfirmAfter / 2) }
		c := &Confirmer{Store: b.st, Gateway: b.gw, Now: later, Log: testkit.Logger(t)}
		if got, err := c.Pass(ctx); err != nil || got.Asked != 0 {
			t.Fatalf("asked %+v (%v) before ConfirmAfter", got, err)
		}
		c.Now = func() time.Time { return b.now().Add(store.ConfirmAfter + time.Minute) }
		if g, err := b.st.GatewayHealth(ctx, c.Now(), time.Hour); err != nil || g.Unconfirmed != 2 {
			t.Fatalf("the overview counts %d unconfirmed (%v), want 2", g.Unconfirmed, err)
		}
		got, err := c.Pass(ctx)
		if err != nil || got.Asked != 2 || got.Final != 2 {
			t.Fatalf("pass: %+v, %v; want both asked and final", got, err)
		}
		want := map[string]string{"+393331110001": store.StatusDelivered, "+393331110002": store.StatusUndelivered}
		for p, w := range want {
			if ms := b.messages(t, p); len(ms) != 1 || ms[0].Status != w {
				t.Errorf("%s: %+v, want %s", p, ms, w)
			}
		}
		if got, err := c.Pass(ctx); err != nil || got.Asked != 0 {
			t.Errorf("a second pass asked %+v (%v): nothing is left unconfirmed", got, err)
		}
		if g, err := b.st.GatewayHealth(ctx, c.Now(), time.Hour); err != nil || g.Unconfirmed != 0 {
			t.Errorf("the overview still counts %d unconfirmed (%v)", g.Unconfirmed, err)
		}
	})
}
