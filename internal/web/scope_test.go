package web

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/phone"
	"github.com/richiamo/richiamo/internal/store"
)

func TestACUPManagerCorrectsOnlyItsNodesRejectedRows(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.signedIn(t, roleUsers[RoleCUPManager]) // node ASL2: one landline in the extract
	p := c.get(fmt.Sprintf("/promemoria/importazioni/%d/scarti", b.importID))
	text := strings.Join(strings.Fields(visibleText(p.body)), " ")
	if p.status != http.StatusOK || !strings.Contains(text, "Numero fisso") || !strings.Contains(text, "1 scartata del nodo CUP ASL2 (6 in tutto il file)") {
		t.Fatalf("a CUP manager's rejected rows: %d\n%s", p.status, p.body)
	}
	for _, other := range []string{"Cellulare mancante", "Codice prenotazione mancante", "Data o ora non valida"} {
		if strings.Contains(text, other) {
			t.Errorf("a CUP manager of ASL2 sees another node's %q", other)
		}
	}
	csv := c.get(fmt.Sprintf("/promemoria/importazioni/%d/scarti.csv", b.importID))
	lines := strings.Split(strings.TrimSpace(csv.body), "\n")
	if csv.status != http.StatusOK || len(lines) != 2 || !strings.Contains(lines[1], "landline") ||
		!strings.Contains(csv.header.Get("Content-Disposition"), "-ASL2.csv") {
		t.Fatalf("a CUP manager's export: %d %q\n%s", csv.status, csv.header.Get("Content-Disposition"), csv.body)
	}
	all := b.signedIn(t, roleUsers[RoleOperator]).get(fmt.Sprintf("/promemoria/importazioni/%d/scarti.csv", b.importID))
	if n := len(strings.Split(strings.TrimSpace(all.body), "\n")); n != 1+len(allReasons) {
		t.Fatalf("the back office's export has %d lines, want every rejected row and the header", n)
	}
}

// gatewayAttempts reads the overview's SMS gateway box: its heading and
// the attempts it counts.
var gatewayBox = regexp.MustCompile(`(?s)<h2>(Gateway SMS[^<]*)</h2>.*?Tentativi nell'ultima ora</dt><dd>(\d+)</dd>`)

func TestTheOverviewsSMSBoxShowsTheNodesFigures(t *testing.T) {
	t.Parallel()
	for _, pg := range []bool{false, true} {
		t.Run(map[bool]string{false: "sqlite", true: "postgres"}[pg], func(t *testing.T) {
			t.Parallel()
			b := setupWith(t, setupOpts{postgres: pg})
			box := func(name string) (string, string) {
				p := b.signedIn(t, name).get("/panoramica")
				m := gatewayBox.FindStringSubmatch(p.body)
				if m == nil {
					t.Fatalf("no gateway box for %s:\n%s", name, p.body)
				}
				return m[1], m[2]
			}
			// Five reminders went to the provider, one of them ASL2's.
			if h, n := box(roleUsers[RoleAdmin]); h != "Gateway SMS" || n != "5" {
				t.Errorf("the Region's box: %q with %s attempts, want 5", h, n)
			}
			if h, n := box(roleUsers[RoleCUPManager]); h != "Gateway SMS · nodo ASL2" || n != "1" {
				t.Errorf("ASL2's box: %q with %s attempts, want the node's heading and 1", h, n)
			}
		})
	}
}

// seedNodeCalls loads a campaign with two contacts of ASL1 and one of
// ASL2, and a campaign of ASL1 only, and calls the first three now: the
// ASL1 ones answer, ASL2's is busy.
func seedNodeCalls(t *testing.T, b *bundle) (mixed, asl1 int64) {
	t.Helper()
	ctx := context.Background()
	var err error
	if mixed, err = b.st.AddCampaign(ctx, "richiamo-tac", "recall", b.now()); err != nil {
		t.Fatal(err)
	}
	if asl1, err = b.st.AddCampaign(ctx, "richiamo-eco-asl1", "recall", b.now()); err != nil {
		t.Fatal(err)
	}
	if err := b.st.LoadContacts(ctx, mixed, []store.NewContact{{Phone: "+393336000001", Node: "ASL1"}, {Phone: "+393336000002", Node: "ASL1"},
		{Phone: "+393336000003", Node: "ASL2"}}, b.now()); err != nil {
		t.Fatal(err)
	}
	if err := b.st.LoadContacts(ctx, asl1, []store.NewContact{{Phone: "+393336000004", Node: "ASL1"}}, b.now()); err != nil {
		t.Fatal(err)
	}
	cs, err := b.st.ClaimContacts(ctx, "dialer", mixed, b.now(), b.now().Add(time.Hour), 3)
	if err != nil || len(cs) != 3 {
		t.Fatalf("claimed %d: %v", len(cs), err)
	}
	for i, c := range cs {
		r := store.AttemptRecord{ContactID: c.ID, Owner: "dialer", Counted: true, StartedAt: b.now(), EndedAt: b.now().Add(time.Minute),
			Outcome: "answered", SIPCode: 200, AnsweredAt: b.now(), Result: "confirmed", Final: true, Positive: true}
		if i == 2 {
			r = store.AttemptRecord{ContactID: c.ID, Owner: "dialer", Counted: true, StartedAt: b.now(), EndedAt: b.now().Add(time.Minute),
				Outcome: "busy", SIPCode: 486, NextAttemptAt: b.now().Add(time.Hour)}
		}
		if err := b.st.RecordAttempt(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	return mixed, asl1
}

// callsBox reads the overview's calls box: its heading and today's calls
// made and answered.
var callsBox = regexp.MustCompile(`(?s)<h2>(Chiamate[^<]*)</h2>.*?<th scope="row">Oggi</th><td class="n">(\d+)</td><td class="n ok">(\d+)</td>`)

func TestACUPManagerSeesTheCallsOfItsNode(t *testing.T) {
	t.Parallel()
	for _, pg := range []bool{false, true} {
		t.Run(map[bool]string{false: "sqlite", true: "postgres"}[pg], func(t *testing.T) {
			t.Parallel()
			b := setupWith(t, setupOpts{postgres: pg})
			mixed, asl1 := seedNodeCalls(t, b)
			region, cup := b.signedIn(t, roleUsers[RoleAuditor]), b.signedIn(t, roleUsers[RoleCUPManager])
			box := func(c *client) []string {
				m := callsBox.FindStringSubmatch(c.get("/panoramica").body)
				if m == nil {
					t.Fatal("no calls box on the overview")
				}
				return m[1:]
			}
			// The Region counts the seeded calls (4, of no node) and these 3.
			if got := box(region); got[0] != "Chiamate" || got[1] != "7" || got[2] != "6" {
				t.Errorf("the Region's calls box %q", got)
			}
			if got := box(cup); got[0] != "Chiamate · nodo ASL2" || got[1] != "1" || got[2] != "0" {
				t.Errorf("ASL2's calls box %q, want its one busy call", got)
			}

			text := campaignText(t, cup, "/campagne")
			if !strings.Contains(text, "Dati del nodo CUP ASL2") || !strings.Contains(text, "richiamo-tac") || strings.Contains(text, "richiamo-eco-asl1") {
				t.Errorf("ASL2's campaigns:\n%s", text)
			}
			page := campaignText(t, cup, fmt.Sprintf("/campagne/%d", mixed))
			if !strings.Contains(page, phone.Mask("+393336000003")) || strings.Contains(page, phone.Mask("+393336000001")) {
				t.Errorf("ASL2's contacts of the campaign:\n%s", page)
			}
			if p := cup.get(fmt.Sprintf("/campagne/%d", asl1)); p.status != http.StatusNotFound {
				t.Errorf("ASL2 opens a campaign of ASL1 only: %d", p.status)
			}
			if all := campaignText(t, region, fmt.Sprintf("/campagne/%d", mixed)); !strings.Contains(all, phone.Mask("+393336000001")) {
				t.Errorf("the Region's contacts of the campaign:\n%s", all)
			}

			live := campaignText(t, cup, "/tempo-reale")
			if !strings.Contains(live, "Dati del nodo CUP ASL2") || !strings.Contains(live, "Oggi 1 0 0,0%") || strings.Contains(live, "richiamo-eco-asl1") {
				t.Errorf("ASL2's live view:\n%s", live)
			}
			if all := campaignText(t, region, "/tempo-reale"); !strings.Contains(all, "Oggi 7 6") {
				t.Errorf("the Region's live view:\n%s", all)
			}
		})
	}
}
