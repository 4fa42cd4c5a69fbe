package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/store"
)

func TestTheLiveViewChangesWhileACampaignDials(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	id := seedWaitingCampaign(t, b)
	auditor := b.signedIn(t, roleUsers[RoleAuditor])
	text := campaignText(t, auditor, "/tempo-reale")
	for _, want := range []string{
		"Il dialer è fermo: 3 contatti da chiamare nell'orario di servizio, nessuna chiamata dal lun 30/11/2026 08:03.",
		"Chiamate in corso 0 di 60 canali", "Contatti da chiamare ora 3", "Oggi 4 4 100,0%",
		"richiamo-ecografie richiamo di conferma attiva 3 0 (0,0%) 3 0 nessun motivo di attesa",
		"revisore Revisore",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the live view lacks %q", want)
		}
	}
	if t.Failed() {
		t.Fatalf("live view:\n%s", text)
	}
	if p := auditor.get("/tempo-reale"); !strings.Contains(p.body, "<title>ore 08: 4 effettuate, 4 con risposta</title>") || strings.Count(p.body, "<g><title>ore ") != 24 {
		t.Fatalf("the hourly chart:\n%s", p.body)
	}
	// The dialer takes a contact, and an operator takes an item.
	cs, err := b.st.ClaimContacts(ctx, "dialer", id, b.now(), b.now().Add(time.Hour), 1)
	if err != nil || len(cs) != 1 {
		t.Fatalf("claim %v %v", cs, err)
	}
	op := b.signedIn(t, roleUsers[RoleOperator])
	if p := op.post("/lavoro/prossimo", url.Values{"csrf": {op.csrf(op.get("/lavoro"))}}); p.status != http.StatusSeeOther {
		t.Fatalf("next: %d", p.status)
	}
	text = campaignText(t, auditor, "/tempo-reale")
	for _, want := range []string{"Nessun allarme.", "Chiamate in corso 1 di 60 canali", "Contatti da chiamare ora 2",
		"operatore Operatore", "Risposta del paziente n. "} {
		if !strings.Contains(text, want) {
			t.Errorf("while dialling the live view lacks %q:\n%s", want, text)
		}
	}
	now := b.now().Add(-time.Second) // a call started a moment ago: the page's "now" comes after it
	if err := b.st.RecordAttempt(ctx, store.AttemptRecord{ContactID: cs[0].ID, Owner: "dialer", Counted: true, StartedAt: now, AnsweredAt: now,
		EndedAt: now.Add(30 * time.Second), SIPCode: 200, Outcome: "answered", Result: "confirmed", Final: true, Positive: true}); err != nil {
		t.Fatal(err)
	}
	text = campaignText(t, auditor, "/tempo-reale")
	if p := auditor.get("/tempo-reale"); !strings.Contains(text, "Oggi 5 5 100,0%") || !strings.Contains(p.body, "<title>ore 09: 1 effettuate, 1 con risposta</title>") {
		t.Fatalf("after the call the live view:\n%s", text)
	}
	for role, want := range map[Role]int{RoleAuditor: 200, RoleTeamLeader: 200, RoleAdmin: 200, RoleOperator: 403, RoleCUPManager: 200} {
		if p := b.signedIn(t, roleUsers[role]).get("/tempo-reale"); p.status != want {
			t.Errorf("%s opens the live view: %d, want %d", role, p.status, want)
		}
	}
}
