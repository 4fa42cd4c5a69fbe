package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/cup/mssql"
	"github.com/richiamo/richiamo/internal/cup/mssql/tdstest"
	"github.com/richiamo/richiamo/internal/group"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/testkit"
)

// groupCF is a valid codice fiscale numbered n.
func groupCF(n int) string {
	base := fmt.Sprintf("TSTTST08A01H%03d", n%1000)
	for c := 'A'; c <= 'Z'; c++ {
		if cf, ok := cup.FiscalCode(base + string(c)); ok {
			return cf
		}
	}
	panic("no check character")
}

const athletesHeader = "cognome;nome;data_nascita;codice_fiscale;cellulare;tipo_visita;societa\n"

// clubList is a list of two clubs, with a bad codice fiscale on line 4
// and a landline on line 7; the five others are usable. On the slots
// below, the non-competitive visits are on the 14th only, where there is
// no room for all three of ASD Virtus: the plan takes two days, one per
// club.
func clubList() string {
	return athletesHeader +
		"Rossi;Marco;01/02/2008;" + groupCF(1) + ";333 5550001;agonistica;ASD Virtus\n" +
		"Bianchi;Luca;02/03/2008;" + groupCF(2) + ";;agonistica;ASD Virtus\n" +
		"Neri;Paolo;01/01/2008;RSSMRA80A01H501X;;agonistica;ASD Virtus\n" +
		"Verdi;Sara;03/04/2009;" + groupCF(3) + ";333 5550003;agonistica;ASD Virtus\n" +
		"Russo;Anna;04/05/2009;" + groupCF(4) + ";333 5550004;non agonistica;Polisportiva Aurora\n" +
		"Gallo;Rita;05/06/2009;" + groupCF(5) + ";06 1234567;agonistica;ASD Virtus\n" +
		"Costa;Elia;06/07/2010;" + groupCF(6) + ";;non agonistica;Polisportiva Aurora\n"
}

const groupSlots = "data;ora;tipo_visita;posti;struttura\n" +
	"14/12/2026;09:00;agonistica;2;Medicina dello sport, via Roma 1\n" +
	"14/12/2026;11:00;non agonistica;2;Medicina dello sport, via Roma 1\n" +
	"15/12/2026;09:00;agonistica;4;Medicina dello sport, via Roma 1\n"

// upload posts a multipart form with the anti-forgery token and files.
func (c *client) upload(path, csrf string, fields map[string]string, files map[string]string) page {
	c.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("csrf", csrf)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	for field, content := range files {
		fw, err := mw.CreateFormFile(field, field+".csv")
		if err != nil {
			c.t.Fatal(err)
		}
		_, _ = fw.Write([]byte(content))
	}
	if err := mw.Close(); err != nil {
		c.t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, c.base+path, &body)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return c.do(req)
}

var groupLink = regexp.MustCompile(`^/gruppi/(\d+)\?esito=piano-pronto$`)

// uploadPlan uploads files as the signed-in client and returns the new
// plan's path.
func uploadPlan(t *testing.T, c *client, path string, files map[string]string) string {
	t.Helper()
	tok := c.csrf(c.get("/gruppi"))
	p := c.upload(path, tok, map[string]string{"nodo": "ASL1", "agenda": "MEDSPORT"}, files)
	m := groupLink.FindStringSubmatch(p.header.Get("Location"))
	if p.status != http.StatusSeeOther || m == nil {
		t.Fatalf("upload to %s: %d %q\n%s", path, p.status, p.header.Get("Location"), p.body)
	}
	return "/gruppi/" + m[1]
}

func plainText(p page) string { return strings.Join(strings.Fields(visibleText(p.body)), " ") }

func TestAClubsListFromUploadToTheAthletesSMS(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	tl := b.signedIn(t, roleUsers[RoleTeamLeader])
	path := uploadPlan(t, tl, "/gruppi", map[string]string{"atleti": clubList(), "orari": groupSlots})

	text := plainText(tl.get(path))
	for _, want := range []string{"bozza da confermare", "5 nell'elenco, 5 assegnati in 2 giorni",
		"elenco degli atleti 4 codice fiscale non valido", "elenco degli atleti 7 il cellulare è un numero fisso",
		"lun 14/12/2026: 2 atleti", "mar 15/12/2026: 3 atleti", "Conferma il piano"} {
		if !strings.Contains(text, want) {
			t.Errorf("the draft lacks %q:\n%s", want, text)
		}
	}
	if ps, err := b.st.GroupPlans(ctx, false, 10); err != nil || len(ps) != 0 {
		t.Fatalf("a draft is listed as a plan: %+v %v", ps, err)
	}
	if p := tl.get(path + "/prenotazioni-cup.csv"); p.status != http.StatusConflict {
		t.Fatalf("the CUP list of a draft: %d", p.status)
	}
	tok := tl.csrf(tl.get(path))
	if p := tl.post(path+"/conferma", url.Values{"csrf": {tok}}); p.status != http.StatusSeeOther {
		t.Fatalf("confirm: %d\n%s", p.status, p.body)
	}
	if p := tl.post(path+"/conferma", url.Values{"csrf": {tok}}); p.status != http.StatusConflict {
		t.Fatalf("confirmed twice: %d", p.status)
	}
	cupList := tl.get(path + "/prenotazioni-cup.csv")
	if cupList.status != http.StatusOK || !strings.HasPrefix(cupList.body, "\ufeffcognome;nome;data_nascita;codice_fiscale;cellulare;tipo_visita;societa;data;ora;struttura\n") ||
		!strings.Contains(cupList.body, "Rossi;Marco;01/02/2008;"+groupCF(1)+";+393335550001;agonistica;ASD Virtus;15/12/2026;09:00;Medicina dello sport, via Roma 1\n") ||
		strings.Count(cupList.body, "\n") != 6 {
		t.Fatalf("CUP list: %d\n%s", cupList.status, cupList.body)
	}
	club := tl.get(path + "/societa.csv")
	if club.status != http.StatusOK || !strings.Contains(club.body, "Polisportiva Aurora;Russo;Anna;"+groupCF(4)+";non agonistica;assegnato;14/12/2026;11:00;") {
		t.Fatalf("club list: %d\n%s", club.status, club.body)
	}

	// Two team leaders say at once that the bookings are made: each
	// athlete with a mobile is told once.
	other := b.signedIn(t, roleUsers[RoleAdmin])
	otherTok := other.csrf(other.get(path))
	var wg sync.WaitGroup
	for _, c := range []struct {
		cl  *client
		tok string
	}{{tl, tok}, {other, otherTok}, {tl, tok}} {
		wg.Go(func() {
			if p := c.cl.post(path+"/prenotazioni", url.Values{"csrf": {c.tok}}); p.status != http.StatusSeeOther {
				t.Errorf("booked: %d\n%s", p.status, p.body)
			}
		})
	}
	wg.Wait()
	var msgs []string
	if err := b.st.DB().Select(&msgs, `SELECT phone FROM messages WHERE kind = 'group' ORDER BY phone`); err != nil ||
		strings.Join(msgs, " ") != "+393335550001 +393335550003 +393335550004" {
		t.Fatalf("SMS to %v (%v)", msgs, err)
	}
	if text := plainText(tl.get(path)); !strings.Contains(text, "0 da prenotare nel CUP") || strings.Contains(text, "Prenotazioni fatte nel CUP") {
		t.Fatalf("after booking:\n%s", text)
	}

	// The club drops Verdi and adds Moro: only that changes.
	changed := strings.Replace(clubList(), "Verdi;Sara;03/04/2009;"+groupCF(3)+";333 5550003;agonistica;ASD Virtus\n",
		"Moro;Ivo;07/08/2008;"+groupCF(7)+";333 5550007;agonistica;ASD Virtus\n", 1)
	next := uploadPlan(t, tl, path+"/lista", map[string]string{"atleti": changed})
	text = plainText(tl.get(next))
	for _, want := range []string{"0 spostati, 1 aggiunto, 1 tolto", "Verdi Sara ASD Virtus", "prenotato: da disdire", "Moro Ivo ASD Virtus", "nuovo"} {
		if !strings.Contains(text, want) {
			t.Errorf("the changed plan lacks %q:\n%s", want, text)
		}
	}
	ntok := tl.csrf(tl.get(next))
	if p := tl.post(next+"/conferma", url.Values{"csrf": {ntok}}); p.status != http.StatusSeeOther {
		t.Fatalf("confirm the changed plan: %d\n%s", p.status, p.body)
	}
	if text := plainText(tl.get(path)); !strings.Contains(text, "sostituito da una lista modificata") {
		t.Fatalf("the first plan once replaced:\n%s", text)
	}
	cupList = tl.get(next + "/prenotazioni-cup.csv")
	if cupList.status != http.StatusOK || strings.Count(cupList.body, "\n") != 2 || !strings.Contains(cupList.body, "Moro;Ivo;") {
		t.Fatalf("the changed plan's CUP list has only the new booking: %d\n%s", cupList.status, cupList.body)
	}
	// Verdi's visit, booked under the first plan, is to be cancelled.
	if text := plainText(tl.get(next)); !strings.Contains(text, "Scarica le disdette da fare nel CUP (1 visita, CSV)") {
		t.Errorf("the changed plan does not offer the cancellations:\n%s", text)
	}
	cancels := tl.get(next + "/disdette-cup.csv")
	if cancels.status != http.StatusOK || strings.Count(cancels.body, "\n") != 2 ||
		!strings.Contains(cancels.body, "Verdi;Sara;"+groupCF(3)+";agonistica;ASD Virtus;") || !strings.Contains(cancels.body, ";tolto dall'elenco della società") {
		t.Fatalf("the cancellations: %d\n%s", cancels.status, cancels.body)
	}
	if first := tl.get(path + "/disdette-cup.csv"); first.status != http.StatusOK || strings.Count(first.body, "\n") != 1 {
		t.Fatalf("the first plan has nothing to cancel: %d\n%s", first.status, first.body)
	}
	if p := tl.post(next+"/prenotazioni", url.Values{"csrf": {ntok}}); p.status != http.StatusSeeOther {
		t.Fatalf("book the changed plan: %d", p.status)
	}
	if err := b.st.DB().Select(&msgs, `SELECT phone FROM messages WHERE kind = 'group' ORDER BY phone`); err != nil || len(msgs) != 4 || msgs[3] != "+393335550007" {
		t.Fatalf("after the changed plan, SMS to %v (%v)", msgs, err)
	}
	es, err := b.st.AuditEntries(ctx, store.AuditFilter{Action: actionGroup})
	if err != nil || len(es) != 8 { // upload, confirm, three clicks, changed list, confirm, book (the downloads are exports)
		t.Fatalf("audit %d entries %v", len(es), err)
	}
}

func TestGroupUploadsAreChecked(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tl := b.signedIn(t, roleUsers[RoleTeamLeader])
	tok := tl.csrf(tl.get("/gruppi"))
	for _, tc := range []struct {
		name   string
		files  map[string]string
		status int
		want   string
	}{
		{"no slots file", map[string]string{"atleti": clubList()}, http.StatusBadRequest, "Scelga il file degli atleti e quello degli orari"},
		{"a column missing", map[string]string{"atleti": "cognome;nome\nRossi;Marco\n", "orari": groupSlots}, http.StatusBadRequest,
			"Nel file elenco degli atleti manca la colonna data_nascita, codice_fiscale, cellulare, tipo_visita, societa"},
		{"no usable athlete", map[string]string{"atleti": athletesHeader + "Neri;Paolo;01/01/2008;RSSMRA80A01H501X;;agonistica;ASD Virtus\n", "orari": groupSlots},
			http.StatusBadRequest, "si può usare: le corregga e carichi di nuovo il file. File Riga Problema elenco degli atleti 2 codice fiscale non valido"},
		{"a quote left open", map[string]string{"atleti": clubList() + "\"Rossi;Marco\n", "orari": groupSlots}, http.StatusBadRequest, "virgolette non chiuse"},
		{"oversize", map[string]string{"atleti": clubList() + strings.Repeat("x", MaxUploadBody), "orari": groupSlots}, http.StatusRequestEntityTooLarge, "superano 1024 KiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tl.upload("/gruppi", tok, nil, tc.files)
			if p.status != tc.status || !strings.Contains(plainText(p), tc.want) {
				t.Fatalf("%d, want %d with %q:\n%s", p.status, tc.status, tc.want, plainText(p))
			}
		})
	}
	if p := tl.upload("/gruppi", tok, map[string]string{"nodo": "ALTROVE"}, map[string]string{"atleti": clubList(), "orari": groupSlots}); p.status != http.StatusBadRequest ||
		!strings.Contains(p.body, "Scelga un nodo CUP") {
		t.Fatalf("unknown node: %d", p.status)
	}
	if p := tl.upload("/gruppi", "sbagliato", nil, map[string]string{"atleti": clubList(), "orari": groupSlots}); p.status != http.StatusForbidden {
		t.Fatalf("without the anti-forgery token: %d", p.status)
	}
	if ps, err := b.st.GroupPlans(context.Background(), true, 10); err != nil || len(ps) != 0 {
		t.Fatalf("a refused upload stored %+v %v", ps, err)
	}
	// Without slots for the non-competitive visits, those athletes are
	// listed without one, with the reason.
	onlyA := "data;ora;tipo_visita;posti\n15/12/2026;09:00;agonistica;4\n"
	if text := plainText(tl.get(uploadPlan(t, tl, "/gruppi", map[string]string{"atleti": clubList(), "orari": onlyA}))); !strings.Contains(text,
		"Atleti senza orario 2 Atleta Società Visita Codice fiscale Motivo Russo Anna Polisportiva Aurora non agonistica ***04T nessun orario concordato per la visita non agonistica") {
		t.Fatalf("the athletes without a slot:\n%s", text)
	}
	path := uploadPlan(t, tl, "/gruppi", map[string]string{"atleti": clubList(), "orari": groupSlots})

	// Only team leaders and administrators work the clubs' bookings.
	for _, role := range []Role{RoleOperator, RoleCUPManager, RoleAuditor} {
		c := b.signedIn(t, roleUsers[role])
		home := c.get("/panoramica")
		if strings.Contains(home.body, `href="/gruppi"`) {
			t.Errorf("%s has the page in the navigation", role)
		}
		for _, p := range []string{"/gruppi", path, path + "/societa.csv"} {
			if got := c.get(p); got.status != http.StatusForbidden {
				t.Errorf("%s opens %s: %d", role, p, got.status)
			}
		}
		if got := c.upload("/gruppi", c.csrf(home), nil, map[string]string{"atleti": clubList(), "orari": groupSlots}); got.status != http.StatusForbidden {
			t.Errorf("%s uploads: %d", role, got.status)
		}
		if got := c.post(path+"/conferma", url.Values{"csrf": {c.csrf(home)}}); got.status != http.StatusForbidden {
			t.Errorf("%s confirms: %d", role, got.status)
		}
	}
	if home := tl.get("/panoramica"); !strings.Contains(home.body, `href="/gruppi"`) {
		t.Error("a team leader lacks the page in the navigation")
	}
}

func TestOnlyTheClubsUploadsTakeMultipartBodies(t *testing.T) {
	t.Parallel()
	h := LimitBody(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }), MaxRequestBody)
	for _, tc := range []struct {
		path   string
		size   int
		status int
	}{
		{"/gruppi", 200 << 10, http.StatusNoContent},
		{"/gruppi/12/lista", 200 << 10, http.StatusNoContent},
		{"/gruppi", MaxUploadBody + 1, http.StatusRequestEntityTooLarge},
		{"/gruppi/12/conferma", 10, http.StatusUnsupportedMediaType},
		{"/gruppi/x/lista", 10, http.StatusUnsupportedMediaType},
		{"/posta", 10, http.StatusUnsupportedMediaType},
	} {
		req := httptest.NewRequest(http.MethodPost, tc.path, strings.NewReader(strings.Repeat("x", tc.size)))
		req.Header.Set("Content-Type", "multipart/form-data; boundary=x")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tc.status {
			t.Errorf("%s with %d bytes: %d, want %d", tc.path, tc.size, rec.Code, tc.status)
		}
	}
}

// tdsBooker books through one node's write-back, as the engine's booker
// does (engine.CUPBooker, which this package cannot import).
type tdsBooker struct{ x *mssql.Executor }

func (b tdsBooker) CanBook(node string) bool { return node == b.x.Node.Name }
func (b tdsBooker) Book(ctx context.Context, bk cup.Booking) error {
	err := b.x.Book(ctx, bk)
	if errors.Is(err, mssql.ErrSlotTaken) {
		return fmt.Errorf("%w: %w", group.ErrSlotTaken, err)
	}
	return err
}

// With a node that declares write_back.book, the console books the plan
// in the CUP itself; an athlete whose slot the CUP refuses stays to book
// and is not told, and the others are told once.
func TestAPlanIsBookedThroughTheNodesWriteBack(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var mu sync.Mutex
	taken := map[string]bool{groupCF(2): true}
	var booked []string
	srv := tdstest.Start(t, tdstest.Options{Exec: func(q tdstest.Query) (int64, *tdstest.Error) {
		mu.Lock()
		defer mu.Unlock()
		code, _ := q.Params["fiscal_code"].Value.(string)
		if taken[code] {
			return 0, &tdstest.Error{Number: 50001, State: 1, Class: 16, Message: "slot taken"}
		}
		agenda, _ := q.Params["agenda"].Value.(string)
		at, _ := q.Params["at"].Value.(time.Time)
		booked = append(booked, code+" "+agenda+" "+at.Format("02/01 15:04"))
		return 1, nil
	}})
	node := mssql.Node{Name: "ASL1", Server: srv.Host(), Port: srv.Port(), Database: srv.Database(), User: srv.User(), Password: srv.Password(),
		Encrypt: mssql.EncryptFalse, ConnectTimeout: 10 * time.Second, QueryTimeout: 10 * time.Second}
	con, err := New(Config{Store: b.st, Log: testkit.Logger(t), Now: b.now, BcryptCost: MinBcryptCost, Refresh: 10 * time.Minute,
		Groups: tdsBooker{&mssql.Executor{Node: node, WB: mssql.WriteBack{Book: "EXEC dbo.prenota @agenda = @agenda, @ora = @at, @cf = @fiscal_code"}}}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	con.Register(mux)
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	tl := (&bundle{st: b.st, now: b.now, srv: hs}).signedIn(t, roleUsers[RoleTeamLeader])
	path := uploadPlan(t, tl, "/gruppi", map[string]string{"atleti": clubList(), "orari": groupSlots})
	tok := tl.csrf(tl.get(path))
	if p := tl.post(path+"/conferma", url.Values{"csrf": {tok}}); p.status != http.StatusSeeOther {
		t.Fatalf("confirm: %d", p.status)
	}
	if text := plainText(tl.get(path)); !strings.Contains(text, "Prenota nel CUP") {
		t.Fatalf("no write-back button:\n%s", text)
	}
	// Two clicks at once: the CUP is asked once for each athlete it takes.
	var wg sync.WaitGroup
	var partly atomic.Int32
	for range 2 {
		wg.Go(func() {
			p := tl.post(path+"/prenotazioni", url.Values{"csrf": {tok}})
			if p.status != http.StatusSeeOther {
				t.Errorf("book: %d %q", p.status, p.header.Get("Location"))
			}
			if p.header.Get("Location") == path+"?esito=prenotazioni-in-parte" {
				partly.Add(1)
			}
		})
	}
	wg.Wait()
	if partly.Load() == 0 {
		t.Error("no click says the CUP refused a booking")
	}
	mu.Lock()
	if len(booked) != 4 || !slices.Contains(booked, groupCF(1)+" MEDSPORT 15/12 09:00") {
		t.Errorf("the CUP booked %q", booked)
	}
	delete(taken, groupCF(2))
	mu.Unlock()
	if text := plainText(tl.get(path)); !strings.Contains(text, "1 da prenotare nel CUP") {
		t.Fatalf("after a refusal:\n%s", text)
	}
	if p := tl.post(path+"/prenotazioni", url.Values{"csrf": {tok}}); p.header.Get("Location") != path+"?esito=prenotazioni-fatte" {
		t.Fatalf("book again: %d %q", p.status, p.header.Get("Location"))
	}
	mu.Lock()
	if len(booked) != 5 {
		t.Errorf("the CUP booked %q, want each athlete once", booked)
	}
	mu.Unlock()
	var msgs int
	if err := b.st.DB().Get(&msgs, `SELECT COUNT(*) FROM messages WHERE kind = 'group'`); err != nil || msgs != 3 {
		t.Fatalf("%d SMS (%v), want one to each of the three mobiles", msgs, err)
	}
}

// Two engine processes on one PostgreSQL store, a team leader on each,
// say at the same moment that the bookings are made: each athlete is
// told once.
func TestTwoProcessesBookingAPlanTellEachAthleteOnce(t *testing.T) {
	t.Parallel()
	b := setupWith(t, setupOpts{postgres: true})
	con, err := New(Config{Store: b.st, Log: testkit.Logger(t), Now: b.now, BcryptCost: MinBcryptCost, Refresh: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	con.Register(mux)
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	tl := b.signedIn(t, roleUsers[RoleTeamLeader])
	admin := (&bundle{st: b.st, now: b.now, srv: hs}).signedIn(t, roleUsers[RoleAdmin])
	path := uploadPlan(t, tl, "/gruppi", map[string]string{"atleti": clubList(), "orari": groupSlots})
	tok := tl.csrf(tl.get(path))
	if p := tl.post(path+"/conferma", url.Values{"csrf": {tok}}); p.status != http.StatusSeeOther {
		t.Fatalf("confirm: %d", p.status)
	}
	adminTok := admin.csrf(admin.get(path))
	for range 3 {
		var wg sync.WaitGroup
		for _, c := range []struct {
			cl  *client
			tok string
		}{{tl, tok}, {admin, adminTok}} {
			wg.Go(func() {
				if p := c.cl.post(path+"/prenotazioni", url.Values{"csrf": {c.tok}}); p.status != http.StatusSeeOther {
					t.Errorf("booked: %d\n%s", p.status, p.body)
				}
			})
		}
		wg.Wait()
	}
	var msgs []string
	if err := b.st.DB().Select(&msgs, `SELECT phone FROM messages WHERE kind = 'group' ORDER BY phone`); err != nil ||
		strings.Join(msgs, " ") != "+393335550001 +393335550003 +393335550004" {
		t.Fatalf("SMS to %v (%v)", msgs, err)
	}
}
