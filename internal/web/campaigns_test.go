package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/store"
)

// seedWaitingCampaign is an active recall campaign of three contacts
// nobody has called yet.
func seedWaitingCampaign(t *testing.T, b *bundle) int64 {
	t.Helper()
	ctx := context.Background()
	id, err := b.st.AddCampaign(ctx, "richiamo-ecografie", "recall", mondayMorning)
	if err != nil {
		t.Fatal(err)
	}
	cs := []store.NewContact{{Phone: "+393335550001"}, {Phone: "+393335550002"}, {Phone: "+393335550003"}}
	if err := b.st.LoadContacts(ctx, id, cs, mondayMorning); err != nil {
		t.Fatal(err)
	}
	if _, err := b.st.SetCampaignState(ctx, id, store.CampaignActive); err != nil {
		t.Fatal(err)
	}
	return id
}

func campaignText(t *testing.T, c *client, path string) string {
	t.Helper()
	p := c.get(path)
	if p.status != http.StatusOK {
		t.Fatalf("%s: %d\n%s", path, p.status, p.body)
	}
	return strings.Join(strings.Fields(visibleText(p.body)), " ")
}

func TestCampaignsShowProgressAndWhyTheDialerWaits(t *testing.T) {
	t.Parallel()
	b := setup(t)
	waiting := seedWaitingCampaign(t, b)
	auditor := b.signedIn(t, roleUsers[RoleAuditor])
	text := campaignText(t, auditor, "/campagne")
	for _, want := range []string{
		"recall-cardiologia richiamo di conferma in pausa 12 0 0 12 (100,0%) confermato 11, disdetto 1",
		"richiamo-ecografie richiamo di conferma attiva 3 3 0 0 (0,0%) — 3 da chiamare ora nessun motivo di attesa",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/campagne lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "Metti in pausa") || strings.Contains(text, "Avvia") {
		t.Error("an auditor is offered to start or pause a campaign")
	}
	// Past 20:00 the dialer waits for the next morning.
	b.advance(11 * time.Hour)
	auditor = b.signedIn(t, roleUsers[RoleAuditor])
	text = campaignText(t, auditor, "/campagne")
	if !strings.Contains(text, "fuori dall'orario di servizio: riprende mar 01/12/2026 08:00") {
		t.Fatalf("after 20:00 /campagne does not say the dialer waits for 08:00:\n%s", text)
	}
	// A campaign's contacts, filtered by outcome.
	if n := strings.Count(auditor.get("/campagne/1?esito=confermato").body, "<td class=\"phone\">"); n != 11 {
		t.Errorf("%d confirmed contacts listed, want 11", n)
	}
	if n := strings.Count(auditor.get("/campagne/1?esito=disdetto").body, "<td class=\"phone\">"); n != 1 {
		t.Errorf("%d cancelled contacts listed, want 1", n)
	}
	if n := strings.Count(auditor.get(fmt.Sprintf("/campagne/%d?stato=in-attesa", waiting)).body, "<td class=\"phone\">"); n != 3 {
		t.Errorf("%d waiting contacts listed, want 3", n)
	}
}

func TestATeamLeaderPausesAndStartsACampaign(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := seedWaitingCampaign(t, b)
	op := b.signedIn(t, roleUsers[RoleOperator])
	list := op.get("/campagne")
	if p := op.post(fmt.Sprintf("/campagne/%d/pausa", id), url.Values{"csrf": {op.csrf(list)}}); p.status != http.StatusForbidden {
		t.Fatalf("an operator paused a campaign: %d", p.status)
	}
	tl := b.signedIn(t, roleUsers[RoleTeamLeader])
	list = tl.get("/campagne")
	if p := tl.post(fmt.Sprintf("/campagne/%d/pausa", id), url.Values{"csrf": {tl.csrf(list)}}); p.status != http.StatusSeeOther {
		t.Fatalf("pause: %d\n%s", p.status, p.body)
	}
	if c, _ := b.st.CampaignByID(context.Background(), id); c.State != store.CampaignPaused {
		t.Fatalf("state after pause: %q", c.State)
	}
	text := campaignText(t, tl, "/campagne?esito=campagna-in-pausa")
	if !strings.Contains(text, "Campagna in pausa") || !strings.Contains(text, "in pausa: nessuna chiamata finché non viene avviata") {
		t.Fatalf("after the pause:\n%s", text)
	}
	if p := tl.post(fmt.Sprintf("/campagne/%d/avvia", id), url.Values{"csrf": {tl.csrf(list)}}); p.status != http.StatusSeeOther {
		t.Fatalf("start: %d", p.status)
	}
	if c, _ := b.st.CampaignByID(context.Background(), id); c.State != store.CampaignActive {
		t.Fatalf("state after start: %q", c.State)
	}
	es, err := b.st.AuditEntries(context.Background(), store.AuditFilter{Action: actionCampaign})
	if err != nil || len(es) != 2 {
		t.Fatalf("audit of the campaign's state: %+v %v", es, err)
	}
}

func TestOnAHolidayTheDialerSaysWhichOne(t *testing.T) {
	t.Parallel()
	b := setup(t)
	seedWaitingCampaign(t, b)
	b.advance(time.Date(2026, 12, 8, 10, 0, 0, 0, cup.Rome).Sub(b.now()))
	text := campaignText(t, b.signedIn(t, roleUsers[RoleAdmin]), "/campagne")
	if !strings.Contains(text, "giorno festivo (") || !strings.Contains(text, "riprende mer 09/12/2026 08:00") {
		t.Fatalf("on 8 December:\n%s", text)
	}
}
