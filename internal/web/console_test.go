package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/richiamo/richiamo/internal/phone"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/store/storetest"
)

func TestFormWithoutTheAntiForgeryTokenIsRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.signedIn(t, roleUsers[RoleOperator])
	inbox := c.get("/posta")
	token := c.csrf(inbox)
	items := b.openItems(t)
	if len(items) == 0 {
		t.Fatalf("inbox: %v", items)
	}
	claim := fmt.Sprintf("/posta/%s/%d/prendi", kindPath(items[0].Kind), items[0].ID)
	for _, tc := range []struct {
		name string
		form url.Values
	}{
		{"no token", url.Values{}},
		{"empty token", url.Values{"csrf": {""}}},
		{"another session's token", url.Values{"csrf": {strings.Repeat("A", len(token))}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if p := c.post(claim, tc.form); p.status != http.StatusForbidden {
				t.Fatalf("claim without a valid token: %d, want 403", p.status)
			}
		})
	}
	it, err := b.st.WorkItemByID(context.Background(), items[0].ID)
	if err != nil || it.ClaimedBy != "" {
		t.Fatalf("a refused form changed the item: %+v %v", it, err)
	}
	t.Run("sign-out without token", func(t *testing.T) {
		if p := c.post("/esci", nil); p.status != http.StatusForbidden {
			t.Fatalf("sign-out without token: %d", p.status)
		}
	})
	t.Run("sign-in without the form's token", func(t *testing.T) {
		fresh := b.client(t)
		p := fresh.post("/accesso", url.Values{"nome": {roleUsers[RoleOperator]}, "password": {testPassword}})
		if p.status != http.StatusForbidden {
			t.Fatalf("sign-in without token: %d", p.status)
		}
	})
	t.Run("cross-site post", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, b.srv.URL+claim, strings.NewReader(url.Values{"csrf": {token}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		if p := c.do(req); p.status != http.StatusForbidden {
			t.Fatalf("cross-site post: %d", p.status)
		}
	})
	// The same form with its token goes through.
	if p := c.post(claim, url.Values{"csrf": {token}}); p.status != http.StatusSeeOther {
		t.Fatalf("claim with token: %d\n%s", p.status, p.body)
	}
}

func TestDisabledAccountCannotSignIn(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.client(t)
	p := c.login(disabledUser, testPassword)
	if p.status != http.StatusUnauthorized || !strings.Contains(p.body, "non validi") {
		t.Fatalf("disabled account: %d\n%s", p.status, p.body)
	}
	if p := c.get("/panoramica"); p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/accesso") {
		t.Fatalf("disabled account reached the overview: %d", p.status)
	}
	// An unknown name gets the same answer, so the form tells nobody which
	// accounts exist or are disabled.
	if u := c.login("nessuno", testPassword); u.status != p.status || errorText(u.body) != errorText(p.body) {
		t.Fatalf("unknown account: %d %q, disabled: %d %q", u.status, errorText(u.body), p.status, errorText(p.body))
	}
	// Disabling a signed-in account ends its session at once.
	op := b.signedIn(t, otherOperator)
	if p := op.get("/panoramica"); p.status != http.StatusOK {
		t.Fatalf("overview: %d", p.status)
	}
	admin := b.signedIn(t, roleUsers[RoleAdmin])
	u, err := b.st.UserByName(context.Background(), otherOperator)
	if err != nil {
		t.Fatal(err)
	}
	users := admin.get("/utenti")
	if p := admin.post(fmt.Sprintf("/utenti/%d/disattiva", u.ID), url.Values{"csrf": {admin.csrf(users)}}); p.status != http.StatusSeeOther {
		t.Fatalf("disable: %d\n%s", p.status, p.body)
	}
	if p := op.get("/panoramica"); p.status != http.StatusSeeOther {
		t.Fatalf("a disabled account's session still works: %d", p.status)
	}
	if p := b.client(t).login(otherOperator, testPassword); p.status != http.StatusUnauthorized {
		t.Fatalf("disabled account signed in: %d", p.status)
	}
	es, err := b.st.AuditEntries(context.Background(), store.AuditFilter{Action: actionUserDisable})
	if err != nil || len(es) != 2 || es[0].Actor != roleUsers[RoleAdmin] || es[0].Target != "utente "+otherOperator {
		t.Fatalf("audit of the disabling: %+v %v", es, err)
	}
}

func TestAdminAddsAnAccount(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := b.signedIn(t, roleUsers[RoleAdmin])
	tok := admin.csrf(admin.get("/utenti"))
	form := func(name, role, node, pw, again string) url.Values {
		return url.Values{"csrf": {tok}, "nome": {name}, "ruolo": {role}, "nodo": {node}, "password": {pw}, "conferma": {again}}
	}
	for _, tc := range []struct {
		name string
		form url.Values
		want string
	}{
		{"passwords differ", form("lbianchi", "operator", "", testPassword, testPassword+"x"), "non coincidono"},
		{"short password", form("lbianchi", "operator", "", "breve", "breve"), "almeno 12 caratteri"},
		{"CUP manager without node", form("lbianchi", "cup_manager", "", testPassword, testPassword), "nodo CUP"},
		{"operator with a node", form("lbianchi", "operator", "AO", testPassword, testPassword), "Solo un referente CUP"},
		{"name taken", form(roleUsers[RoleAuditor], "auditor", "", testPassword, testPassword), "Esiste già"},
		{"unknown role", form("lbianchi", "root", "", testPassword, testPassword), "Ruolo"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := admin.post("/utenti", tc.form)
			if p.status != http.StatusBadRequest || !strings.Contains(p.body, tc.want) {
				t.Fatalf("%d, want 400 with %q", p.status, tc.want)
			}
		})
	}
	if p := admin.post("/utenti", form("referente.ao", "cup_manager", "AO", testPassword, testPassword)); p.status != http.StatusSeeOther {
		t.Fatalf("add: %d\n%s", p.status, p.body)
	}
	u, err := b.st.UserByName(context.Background(), "referente.ao")
	if err != nil || u.Role != "cup_manager" || u.Node != "AO" || !strings.HasPrefix(u.PasswordHash, "$2") || strings.Contains(u.PasswordHash, testPassword) {
		t.Fatalf("stored account %+v %v", u, err)
	}
	if cost, _ := bcryptCost(u.PasswordHash); cost < MinBcryptCost {
		t.Fatalf("bcrypt cost %d", cost)
	}
	es, _ := b.st.AuditEntries(context.Background(), store.AuditFilter{Action: actionUserAdd})
	if len(es) != 1 || es[0].Actor != roleUsers[RoleAdmin] || es[0].Detail != "ruolo Referente CUP, nodo AO" {
		t.Fatalf("audit %+v", es)
	}
	b.signedIn(t, "referente.ao")
}

func TestAuditLogRecordsSignInsAndExports(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	bad := b.client(t)
	if p := bad.login(roleUsers[RoleOperator], "not-the-password"); p.status != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", p.status)
	}
	c := b.signedIn(t, roleUsers[RoleOperator])
	p := c.get(fmt.Sprintf("/promemoria/importazioni/%d/scarti.csv", b.importID))
	if p.status != http.StatusOK || !strings.HasPrefix(p.header.Get("Content-Type"), "text/csv") {
		t.Fatalf("export: %d %s", p.status, p.header.Get("Content-Type"))
	}
	lines := strings.Split(strings.TrimSpace(strings.TrimPrefix(p.body, "\ufeff")), "\n")
	if len(lines) != 1+len(allReasons) || !strings.HasPrefix(lines[0], "file;riga;motivo") {
		t.Fatalf("export has %d lines:\n%s", len(lines), p.body)
	}
	for _, r := range allReasons {
		if !strings.Contains(p.body, ";"+string(r)+";") {
			t.Errorf("export lacks reason %s", r)
		}
	}
	for _, tc := range []struct {
		action, actor, target string
	}{
		{actionLoginFailed, roleUsers[RoleOperator], ""},
		{actionLoginOK, roleUsers[RoleOperator], ""},
		{actionExport, roleUsers[RoleOperator], fmt.Sprintf("importazione %d", b.importID)},
	} {
		es, err := b.st.AuditEntries(ctx, store.AuditFilter{Action: tc.action})
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != 1 || es[0].Actor != tc.actor || es[0].Target != tc.target || es[0].Remote != "127.0.0.1" || es[0].At == 0 {
			t.Errorf("audit %s: %+v", tc.action, es)
		}
	}
	// The auditor reads the same on the audit page.
	page := b.signedIn(t, roleUsers[RoleAuditor]).get("/registro")
	for _, want := range []string{"accesso riuscito", "accesso non riuscito", "esportazione", fmt.Sprintf("importazione %d", b.importID)} {
		if !strings.Contains(page.body, want) {
			t.Errorf("audit page lacks %q", want)
		}
	}
}

// TestNoPageShowsAFullPhoneNumberToAnAuditor walks every page an auditor can
// open, following its links, and looks for the seeded numbers in any form.
func TestNoPageShowsAFullPhoneNumberToAnAuditor(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.signedIn(t, roleUsers[RoleAuditor])
	seen := map[string]bool{}
	queue := []string{"/panoramica", "/promemoria/cerca?codice=" + codeDelivered, "/promemoria/cerca?codice=" + codeCancelled,
		"/promemoria/cerca?codice=AO-2026-0000001", "/posta"}
	for len(queue) > 0 {
		path := queue[0]
		queue = queue[1:]
		if seen[path] {
			continue
		}
		seen[path] = true
		p := c.get(path)
		if p.status != http.StatusOK {
			if p.status != http.StatusForbidden {
				t.Errorf("%s: %d", path, p.status)
			}
			continue
		}
		for _, ph := range seededPhones {
			national := strings.TrimPrefix(ph, "+39")
			spaced := national[:3] + " " + national[3:6] + " " + national[6:]
			for _, form := range []string{ph, national, spaced} {
				if strings.Contains(p.body, form) {
					t.Errorf("%s shows %s to an auditor", path, form)
				}
			}
		}
		for _, m := range linkRe.FindAllStringSubmatch(p.body, -1) {
			l := m[1]
			if strings.HasPrefix(l, "/") && !strings.HasPrefix(l, "/static/") && !seen[l] {
				queue = append(queue, l)
			}
		}
	}
	if len(seen) < 8 {
		t.Fatalf("only %d pages visited: %v", len(seen), seen)
	}
	// An operator, who calls patients back, does see the whole number.
	op := b.signedIn(t, roleUsers[RoleOperator]).get("/posta")
	if !strings.Contains(op.body, phoneStranger) {
		t.Fatalf("the operator's inbox does not show the number to call back")
	}
}

var linkRe = regexp.MustCompile(`href="([^"]+)"`)

var errorPara = regexp.MustCompile(`<p class="error"[^>]*>([^<]*)</p>`)

func errorText(body string) string {
	if m := errorPara.FindStringSubmatch(body); m != nil {
		return m[1]
	}
	return ""
}

func TestClientAddressBehindATrustedProxy(t *testing.T) {
	t.Parallel()
	c := &Console{}
	for _, p := range []string{"127.0.0.0/8", "10.1.0.0/16"} {
		c.proxies = append(c.proxies, netip.MustParsePrefix(p))
	}
	for _, tc := range []struct {
		name, remote, xff, want string
	}{
		{"direct client", "192.168.5.5:4000", "1.2.3.4", "192.168.5.5"},
		{"through the local proxy", "127.0.0.1:4000", "192.168.5.5", "192.168.5.5"},
		{"through two proxies", "127.0.0.1:4000", "192.168.5.5, 10.1.2.3", "192.168.5.5"},
		{"a forged hop before the client's", "127.0.0.1:4000", "6.6.6.6, 192.168.5.5", "192.168.5.5"},
		{"proxy without the header", "127.0.0.1:4000", "", "127.0.0.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &http.Request{RemoteAddr: tc.remote, Header: http.Header{}}
			if tc.xff != "" {
				r.Header.Set("X-Forwarded-For", tc.xff)
			}
			if got := c.clientIP(r); got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestSignInAttemptsAreRateLimited(t *testing.T) {
	t.Parallel()
	b := setupWith(t, setupOpts{login: LoginLimits{PerAccount: 3, PerIP: 100, Window: time.Hour}})
	c := b.client(t)
	for i := range 3 {
		if p := c.login(roleUsers[RoleOperator], "wrong-password-"+fmt.Sprint(i)); p.status != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i, p.status)
		}
	}
	// Blocked now, even with the right password.
	p := c.login(roleUsers[RoleOperator], testPassword)
	if p.status != http.StatusTooManyRequests || !strings.Contains(p.body, "Troppi tentativi") {
		t.Fatalf("fourth attempt: %d", p.status)
	}
	// Another account from the same address is not blocked.
	if p := c.login(roleUsers[RoleAuditor], testPassword); p.status != http.StatusSeeOther {
		t.Fatalf("another account: %d", p.status)
	}
	es, _ := b.st.AuditEntries(context.Background(), store.AuditFilter{Action: actionLoginBlocked})
	if len(es) != 1 {
		t.Fatalf("blocked attempt not audited: %+v", es)
	}
}

func TestRateLimiterCountsPerAccountAndPerAddress(t *testing.T) {
	t.Parallel()
	l := newLoginLimiter(LoginLimits{PerAccount: 2, PerIP: 3, Window: time.Minute})
	t0 := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	blocked := func(name, ip string, at time.Time) time.Duration {
		wait, _ := l.blocked(name, ip, at)
		return wait
	}
	l.fail("mario", "10.0.0.1", t0)
	l.fail("mario", "10.0.0.2", t0)
	if blocked("MARIO", "10.0.0.9", t0) == 0 {
		t.Fatal("account not blocked after its limit, whatever the case of the name")
	}
	if blocked("anna", "10.0.0.1", t0) != 0 {
		t.Fatal("an address with one failure is blocked")
	}
	l.fail("anna", "10.0.0.1", t0)
	l.fail("luca", "10.0.0.1", t0)
	if blocked("paola", "10.0.0.1", t0) == 0 {
		t.Fatal("address not blocked after its limit")
	}
	if blocked("mario", "10.0.0.9", t0.Add(time.Minute)) != 0 {
		t.Fatal("still blocked after the window")
	}
	l.succeed("anna")
	if _, ok := l.fails[accountKey("anna")]; ok {
		t.Fatal("a success did not clear the account's failures")
	}
}

func TestInboxClaimAnswerAndClose(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	op := b.signedIn(t, roleUsers[RoleOperator])
	op2 := b.signedIn(t, otherOperator)
	items := b.openItems(t)
	var reply, cancel store.WorkItem
	for _, it := range items {
		switch {
		case it.Kind == store.InboxReply && it.Phone == phoneDelivered:
			reply = it
		case it.Kind == store.InboxCancel:
			cancel = it
		}
	}
	if reply.ID == 0 || cancel.ID == 0 || cancel.Code != codeCancelled || cancel.Phone != phoneCancels {
		t.Fatalf("seeded inbox: %+v", items)
	}
	path := func(it store.WorkItem) string { return fmt.Sprintf("/posta/%s/%d", kindPath(it.Kind), it.ID) }
	tok := op.csrf(op.get("/posta"))
	tok2 := op2.csrf(op2.get("/posta"))
	if p := op.post(path(reply)+"/prendi", url.Values{"csrf": {tok}}); p.status != http.StatusSeeOther {
		t.Fatalf("claim: %d %s", p.status, p.body)
	}
	// One operator at a time.
	for _, action := range []string{"prendi", "chiudi", "rispondi"} {
		if p := op2.post(path(reply)+"/"+action, url.Values{"csrf": {tok2}, "testo": {"x"}}); p.status != http.StatusConflict {
			t.Errorf("%s by a second operator: %d", action, p.status)
		}
	}
	if p := op.get(path(reply) + "/rispondi"); p.status != http.StatusOK || !strings.Contains(p.body, "Testo dell'SMS") || !strings.Contains(p.body, "giovedì") {
		t.Fatalf("answer form: %d\n%s", p.status, p.body)
	}
	// Too long for three SMS: refused, the text kept for editing.
	long := strings.Repeat("Gentile paziente, ", 30)
	if p := op.post(path(reply)+"/rispondi", url.Values{"csrf": {tok}, "testo": {long}}); p.status != http.StatusBadRequest || !strings.Contains(p.body, "lo accorci") {
		t.Fatalf("long answer: %d", p.status)
	}
	// The answer is queued in the outbox and the sender's claim picks it
	// up at once.
	answer := "Buongiorno, per spostare l'appuntamento chiami il CUP al numero verde. Grazie."
	if p := op.post(path(reply)+"/rispondi", url.Values{"csrf": {tok}, "testo": {answer}}); p.status != http.StatusSeeOther {
		t.Fatalf("answer: %d %s", p.status, p.body)
	}
	it, err := b.st.WorkItemByID(ctx, reply.ID)
	if err != nil {
		t.Fatal(err)
	}
	if it.Open() || it.Outcome != store.ClosureAnswered || it.ClosedBy != roleUsers[RoleOperator] || it.ClosedAt == 0 || it.Answer != answer {
		t.Fatalf("answered item: %+v", it)
	}
	if w := it.Waited(time.Time{}); w <= 0 || w > time.Minute {
		t.Fatalf("time to closure %s", w)
	}
	due, err := b.st.Claim(ctx, "test-sender", b.now(), b.now().Add(time.Minute), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 1 || due[0].Phone != phoneDelivered || due[0].Body != answer {
		t.Fatalf("the sender would send %+v", due)
	}
	// The cancellation request is closed without an answer.
	if p := op.post(path(cancel)+"/prendi", url.Values{"csrf": {tok}}); p.status != http.StatusSeeOther {
		t.Fatalf("claim cancel: %d", p.status)
	}
	if p := op.post(path(cancel)+"/chiudi", url.Values{"csrf": {tok}}); p.status != http.StatusSeeOther {
		t.Fatalf("close cancel: %d", p.status)
	}
	if p := op.post(path(cancel)+"/chiudi", url.Values{"csrf": {tok}}); p.status != http.StatusConflict {
		t.Fatalf("closing twice: %d", p.status)
	}
	page := op.get("/posta")
	if !strings.Contains(page.body, "risposta via SMS") || !strings.Contains(page.body, "gestita") {
		t.Fatalf("closed items not listed:\n%s", page.body)
	}
	for _, a := range []string{actionClaim, actionAnswer, actionClose} {
		if es, _ := b.st.AuditEntries(ctx, store.AuditFilter{Action: a, Actor: roleUsers[RoleOperator]}); len(es) == 0 {
			t.Errorf("%s not audited", a)
		}
	}
}

func TestAnswerToAnOptedOutNumberIsRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	if _, err := b.st.OptOut(ctx, phoneStranger, "sms", b.now()); err != nil {
		t.Fatal(err)
	}
	items := b.openItems(t)
	var it store.WorkItem
	for _, x := range items {
		if x.Phone == phoneStranger {
			it = x
		}
	}
	op := b.signedIn(t, roleUsers[RoleOperator])
	tok := op.csrf(op.get("/posta"))
	p := op.post(fmt.Sprintf("/posta/risposte/%d/rispondi", it.ID), url.Values{"csrf": {tok}, "testo": {"Buongiorno"}})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "STOP") {
		t.Fatalf("answer to an opted-out number: %d", p.status)
	}
	if got, _ := b.st.WorkItemByID(ctx, it.ID); !got.Open() {
		t.Fatal("the item was closed")
	}
}

func TestCUPManagerSeesOnlyItsNode(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.signedIn(t, roleUsers[RoleCUPManager]) // node ASL2
	inbox := c.get("/posta")
	if !strings.Contains(inbox.body, codeCancelled) || strings.Contains(inbox.body, "giovedì") {
		t.Fatalf("a CUP manager's inbox should hold its node's cancellation only:\n%s", inbox.body)
	}
	if p := c.get("/promemoria/cerca?codice=" + codeDelivered); !strings.Contains(p.body, "Nessuna prenotazione") {
		t.Fatalf("a CUP manager found another node's booking")
	}
	if p := c.get("/promemoria/cerca?codice=" + codeCancelled); !strings.Contains(p.body, phone.Mask(phoneCancels)) {
		t.Fatalf("a CUP manager cannot find its node's booking")
	}
	p := c.get(fmt.Sprintf("/promemoria/importazioni/%d", b.importID))
	if p.status != http.StatusOK || !strings.Contains(p.body, "ASL2") || strings.Contains(p.body, "IRCCS") {
		t.Fatalf("run page for a CUP manager: %d\n%s", p.status, p.body)
	}
	if p := c.get("/promemoria/mancate-consegne?dal=2026-11-01&al=2026-12-31"); strings.Contains(p.body, "30003") || strings.Contains(p.body, "21614") {
		t.Fatalf("a CUP manager sees other nodes' failures")
	}
	items := b.openItems(t)
	tok := c.csrf(inbox)
	for _, it := range items {
		p := c.post(fmt.Sprintf("/posta/%s/%d/prendi", kindPath(it.Kind), it.ID), url.Values{"csrf": {tok}})
		want := http.StatusNotFound
		if it.Kind == store.InboxCancel && it.Node == "ASL2" {
			want = http.StatusSeeOther
		}
		if p.status != want {
			t.Errorf("claim %s %d: %d, want %d", it.Kind, it.ID, p.status, want)
		}
	}
}

func TestPagesShowTheSeededFacts(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.signedIn(t, roleUsers[RoleAdmin])
	for _, tc := range []struct {
		path string
		want []string
	}{
		{"/panoramica", []string{"Ultima ora", "Questo mese", "Gateway SMS", "Promemoria SMS (promemoria)", "ASL1", "IRCCS", "dai file di estratto"}},
		{"/promemoria", []string{"estratto-2026-11-30.csv", "mar 01/12/2026"}},
		{fmt.Sprintf("/promemoria/importazioni/%d", b.importID), []string{"ASL1", "ASL2", "AO", "IRCCS"}},
		{fmt.Sprintf("/promemoria/importazioni/%d/scarti", b.importID), []string{"Cellulare mancante", "Numero fisso", "colonna cellulare"}},
		{"/promemoria/mancate-consegne", []string{"30003", "telefono spento o non raggiungibile", "21614", "non è un numero di cellulare", phone.Mask(phoneUndelivered)}},
		{"/promemoria/cerca?codice=" + codeDelivered, []string{"Rossi Mario", phone.Mask(phoneDelivered), "consegnato"}},
		{"/utenti", []string{roleUsers[RoleCUPManager], "Referente CUP", "disattivato"}},
	} {
		p := c.get(tc.path)
		if p.status != http.StatusOK {
			t.Errorf("%s: %d", tc.path, p.status)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(p.body, w) {
				t.Errorf("%s lacks %q", tc.path, w)
			}
		}
	}
}

// TestEveryPageOnPostgres opens every page and works an inbox item on a
// PostgreSQL store, the one several engine processes share.
func TestEveryPageOnPostgres(t *testing.T) {
	t.Parallel()
	b := setupWith(t, setupOpts{postgres: true})
	c := b.signedIn(t, roleUsers[RoleAdmin])
	run := fmt.Sprintf("/promemoria/importazioni/%d", b.importID)
	for _, p := range []string{"/panoramica", "/promemoria", run, run + "/scarti", run + "/scarti.csv", "/promemoria/mancate-consegne",
		"/promemoria/cerca?codice=" + codeCancelled, "/posta", "/utenti", "/registro", "/metrics", "/readyz"} {
		if pg := c.get(p); pg.status != http.StatusOK {
			t.Errorf("%s: %d\n%s", p, pg.status, pg.body)
		}
	}
	items := b.openItems(t)
	if len(items) != 3 {
		t.Fatalf("inbox %+v", items)
	}
	tok := c.csrf(c.get("/posta"))
	for _, it := range items {
		path := fmt.Sprintf("/posta/%s/%d", kindPath(it.Kind), it.ID)
		if p := c.post(path+"/prendi", url.Values{"csrf": {tok}}); p.status != http.StatusSeeOther {
			t.Fatalf("claim: %d", p.status)
		}
		if p := c.post(path+"/rispondi", url.Values{"csrf": {tok}, "testo": {"Grazie, la richiamiamo noi."}}); p.status != http.StatusSeeOther {
			t.Fatalf("answer: %d %s", p.status, p.body)
		}
	}
	if p := c.get("/posta"); !strings.Contains(p.body, "Niente da gestire") {
		t.Fatalf("inbox after answering everything:\n%s", p.body)
	}
}

func TestMetricsAndReadiness(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.console.Metrics().WebhookErrors.WithLabelValues("status", "signature").Inc()
	c := b.client(t)
	m := c.get("/metrics")
	for _, want := range []string{
		`richiamo_sms_messages{status="delivered"} 3`,
		`richiamo_sms_messages{status="failed"} 1`,
		`richiamo_sms_messages{status="undelivered"} 1`,
		`richiamo_inbox_open_items{kind="reply"} 2`,
		`richiamo_inbox_open_items{kind="cancel"} 1`,
		`richiamo_webhook_errors_total{reason="signature",webhook="status"} 1`,
		`richiamo_import_last_rows{outcome="rejected"} 6`,
		`richiamo_store_up 1`,
	} {
		if !strings.Contains(m.body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if p := c.get("/readyz"); p.status != http.StatusOK {
		t.Fatalf("readyz: %d %s", p.status, p.body)
	}
	if _, err := b.st.DB().Exec(`DELETE FROM schema_migrations WHERE version = 2`); err != nil {
		t.Fatal(err)
	}
	if p := c.get("/readyz"); p.status != http.StatusServiceUnavailable {
		t.Fatalf("readyz on an old schema: %d", p.status)
	}
}

func TestBadSettingsFailAtStartNamingThem(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"no store", Config{}, "Config.Store"},
		{"weak hashes", Config{Store: st, BcryptCost: 4}, "Config.BcryptCost"},
		{"idle longer than the session", Config{Store: st, SessionTTL: time.Hour, IdleTimeout: 2 * time.Hour}, "Config.IdleTimeout"},
		{"public URL", Config{Store: st, PublicURL: "console.example"}, "Config.PublicURL"},
		{"proxy", Config{Store: st, TrustedProxies: []string{"10.0.0.1"}}, "Config.TrustedProxies"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error naming %s", err, tc.want)
			}
		})
	}
}

func TestAMissingPageFailsAtStart(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{"templates/layout.html": {Data: []byte(`{{define "layout"}}{{template "content" .}}{{end}}`)}}
	for _, n := range pageNames[:len(pageNames)-1] {
		fsys["templates/"+n+".html"] = &fstest.MapFile{Data: []byte(`{{define "content"}}x{{end}}`)}
	}
	_, err := parsePages(fsys)
	if err == nil || !strings.Contains(err.Error(), pageNames[len(pageNames)-1]) {
		t.Fatalf("a missing page did not stop start-up: %v", err)
	}
}

func TestSessionCookieFlags(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.client(t)
	p := c.login(roleUsers[RoleOperator], testPassword)
	var ck *http.Cookie
	for _, x := range (&http.Response{Header: p.header}).Cookies() {
		if x.Name == sessionCookie && x.Value != "" {
			ck = x
		}
	}
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" {
		t.Fatalf("session cookie %+v", ck)
	}
	if ck.Secure {
		t.Fatal("Secure on plain http without an https public URL: the browser would drop it")
	}
	// Behind a TLS proxy the public URL makes it Secure.
	secure, err := New(Config{Store: b.st, Now: b.now, BcryptCost: MinBcryptCost, PublicURL: "https://cup.regione.example"})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	secure.setCookie(rec, &http.Request{}, sessionCookie, "x", 0, http.SameSiteLaxMode)
	if !strings.Contains(rec.Header().Get("Set-Cookie"), "Secure") {
		t.Fatalf("cookie %q not Secure", rec.Header().Get("Set-Cookie"))
	}
}

func TestHideNumbersInFreeText(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"mi chiami al 333 123 4567 grazie":  "mi chiami al ***67 grazie",
		"numero +393331234567":              "numero +39 333 ***4567",
		"prenotazione delle 10:30 del 1/12": "prenotazione delle 10:30 del 1/12",
	} {
		if got := hideNumbers(in); got != want {
			t.Errorf("hideNumbers(%q) = %q, want %q", in, got, want)
		}
	}
}

func bcryptCost(hash string) (int, error) { return bcrypt.Cost([]byte(hash)) }

func TestTheOverviewListsCheckedNodesAndThoseOnlyInFiles(t *testing.T) {
	t.Parallel()
	b := setupWith(t, setupOpts{nodes: func(context.Context) []NodeHealth {
		return []NodeHealth{{Name: "ASL1", OK: true, CheckedAt: mondayMorning}, {Name: "NODO-X", Detail: "login failed"}}
	}})
	c := b.signedIn(t, roleUsers[RoleAdmin])
	p := c.get("/panoramica")
	for _, want := range []string{"ASL1</strong> · raggiungibile", "NODO-X</strong> · non raggiungibile (login failed)", "IRCCS</strong> · <span class=\"muted\">dai file di estratto"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the overview lacks %q", want)
		}
	}
	if strings.Count(p.body, "ASL1</strong>") != 1 {
		t.Error("a checked node is listed twice")
	}
}
