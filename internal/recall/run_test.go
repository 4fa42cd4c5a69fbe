package recall_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/cup/mssql/tdstest"
	"github.com/richiamo/richiamo/internal/recall"
	"github.com/richiamo/richiamo/internal/script"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/store/storetest"
	"github.com/richiamo/richiamo/internal/testkit"
)

// rows are the CUP's bookings in the tests: a mobile with two bookings of
// the agenda, a landline, a booking outside the window and one of another
// agenda.
var rows = [][]any{
	row("RX-TORACE", "B-1", "+393331110001", 9, 8),
	row("RX-TORACE", "B-2", "+393331110001", 11, 10),
	row("RX-TORACE", "B-3", "075 8521231", 10, 9),
	row("RX-TORACE", "B-LATE", "+393331110004", 20, 9),
	row("ECO", "E-1", "+393331110009", 9, 9),
	row("RX-TORACE", "B-NOPHONE", "", 9, 9),
}

func TestShippedAgendasLoad(t *testing.T) {
	t.Parallel()
	as, err := recall.Load("")
	if err != nil {
		t.Fatal(err)
	}
	if len(as) == 0 || as[0].Schedule() == nil || len(as[0].CallScript().Text) == 0 {
		t.Fatalf("shipped agendas %+v", as)
	}
}

func TestBadAgendasFileNamesKeyAndLine(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ file, want string }{
		{"agende:\n  - name: rx\n    node: ASL1\n    codes: [RX]\n    calendar: \"0 9 * * 1\"\n    window: {from_days: 7, to_days: 7}\n",
			"line 6: agende[rx].window.to_days"},
		{"agende:\n  - name: rx\n    node: ASL1\n    codes: [RX]\n    calendar: \"ogni lunedì\"\n    window: {from_days: 7, to_days: 14}\n",
			"line 5: agende[rx].calendar"},
		{"agende:\n  - name: rx\n    nodo: ASL1\n", "line 3"},
		{"agende:\n  - name: rx\n    node: ASL1\n    codes: [RX]\n    calendar: \"0 9 * * 1\"\n    window: {from_days: 7, to_days: 14}\n    script: nessuno.yaml\n",
			"agende[rx].script"},
	} {
		_, err := recall.Parse([]byte(tt.file), "agende.yaml", t.TempDir())
		if err == nil || !strings.Contains(err.Error(), "agende.yaml") || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("got %v, want %q", err, tt.want)
		}
	}
}

func TestRunBuildsOneContactPerNumberWithItsBookings(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	b := setup(t, st, rows)
	j := b.job(t, "engine-a", func() time.Time { return monday9 })
	ctx := context.Background()
	rx, _ := recall.Find(b.agendas, "rx")

	dry, err := j.Build(ctx, rx, recall.Options{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if dry.Contacts != 2 || dry.Bookings != 3 || dry.Landlines != 1 || dry.CampaignID != 0 {
		t.Fatalf("dry run %+v", dry)
	}
	if _, err := st.CampaignByName(ctx, dry.Campaign); err == nil {
		t.Fatal("a dry run stored a campaign")
	}

	rep, err := j.Build(ctx, rx, recall.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Contacts != 2 || rep.Bookings != 3 || len(rep.Rejected) != 1 || rep.Rejected[0].Reason != "missing_phone" {
		t.Fatalf("report %+v", rep)
	}
	c, err := st.CampaignByID(ctx, rep.CampaignID)
	if err != nil {
		t.Fatal(err)
	}
	if c.Kind != "recall" || c.State != store.CampaignActive || c.Name != "richiamo rx 2026-11-30" {
		t.Errorf("campaign %+v", c)
	}
	var payloads []string
	if err := st.DB().SelectContext(ctx, &payloads, st.DB().Rebind(`SELECT phone || ' ' || payload FROM contacts WHERE campaign_id = ? ORDER BY seq`), rep.CampaignID); err != nil {
		t.Fatal(err)
	}
	if len(payloads) != 2 {
		t.Fatalf("contacts %q", payloads)
	}
	phone, raw, _ := strings.Cut(payloads[0], " ")
	var p script.Payload
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		t.Fatal(err)
	}
	if phone != "+393331110001" || len(p.Bookings) != 2 || p.Bookings[0].Code != "B-1" || p.Bookings[1].Code != "B-2" {
		t.Errorf("first contact %s %+v, want the mobile with B-1 then B-2", phone, p)
	}
	if !strings.HasPrefix(payloads[1], "+390758521231 ") {
		t.Errorf("second contact %q, want the landline", payloads[1])
	}
	// Each contact takes its bookings' CUP node, for the node's CUP manager.
	var ofNode int
	if err := st.DB().GetContext(ctx, &ofNode, st.DB().Rebind(`SELECT COUNT(*) FROM contacts WHERE campaign_id = ? AND node = ?`), rep.CampaignID, rx.Node); err != nil || ofNode != 2 || rx.Node == "" {
		t.Errorf("%d contacts of node %q (%v), want both", ofNode, rx.Node, err)
	}
	if q := b.srv.Queries(); q[len(q)-1].Params["agende"].Value != "RX-TORACE" {
		t.Errorf("agendas sent %#v", q[len(q)-1].Params["agende"])
	}

	again, err := j.Build(ctx, rx, recall.Options{})
	if err != nil || !again.Already {
		t.Fatalf("second build of the day: %+v %v", again, err)
	}
}

func TestRunReadsExtractFilesWithTheAgendaColumn(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	b := setup(t, st, nil)
	b.node.RecallQuery = ""
	j := b.job(t, "engine-a", func() time.Time { return monday9 })
	path := t.TempDir() + "/estrazione.csv"
	csv := "nodo;agenda;codice_prenotazione;cellulare;data_ora_appuntamento\n" +
		"ASL1;RX-TORACE;F-1;+393331110001;09/12/2026 08:30\n" +
		"ASL1;ECO;F-2;+393331110002;09/12/2026 08:30\n" +
		"ASL1;RX-TORACE;F-3;06 1234567;10/12/2026 08:30\n" +
		"ASL1;RX-TORACE;F-4;abc;10/12/2026 08:30\n"
	if err := writeFile(path, csv); err != nil {
		t.Fatal(err)
	}
	rx, _ := recall.Find(b.agendas, "rx")
	type report struct {
		stage       string
		bookings    int
		read, total int64
	}
	var seen []report
	progress := func(stage string, bookings int, read, total int64) {
		seen = append(seen, report{stage, bookings, read, total})
	}
	rep, err := j.Build(context.Background(), rx, recall.Options{DryRun: true, Extracts: []string{path}, Progress: progress})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Bookings != 2 || rep.Landlines != 1 || len(rep.Rejected) != 1 || rep.Rejected[0].Line != 5 {
		t.Errorf("report %+v", rep)
	}
	want := []report{{"reading", 2, int64(len(csv)), int64(len(csv))}}
	if !slices.Equal(seen, want) {
		t.Errorf("dry run's progress %+v, want %+v", seen, want)
	}
	seen = nil
	if _, err := j.Build(context.Background(), rx, recall.Options{Extracts: []string{path}, Progress: progress}); err != nil {
		t.Fatal(err)
	}
	if want = append(want, report{"storing", 2, 0, 0}); !slices.Equal(seen, want) {
		t.Errorf("run's progress %+v, want %+v", seen, want)
	}
}

// Two engine processes on one store fire the same schedule at once: the
// day's campaign is built once.
func TestTwoEnginesBuildTheDaysCampaignOnce(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, rows)
		rx, _ := recall.Find(b.agendas, "rx")
		ctx := context.Background()
		var wg sync.WaitGroup
		for _, owner := range []string{"engine-a", "engine-b", "engine-c"} {
			j := b.job(t, owner, func() time.Time { return monday9 })
			wg.Go(func() { j.RunOnce(ctx, rx) })
		}
		wg.Wait()
		// And once more, after the leases were given back.
		b.job(t, "engine-d", func() time.Time { return monday9.Add(time.Hour) }).RunOnce(ctx, rx)
		runs, err := st.RecallRuns(ctx, "rx", 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) != 1 || runs[0].CampaignID == 0 || runs[0].Contacts != 2 {
			t.Fatalf("runs %+v, want one with its campaign", runs)
		}
		var n int
		if err := st.DB().GetContext(ctx, &n, `SELECT COUNT(*) FROM contacts`); err != nil {
			t.Fatal(err)
		}
		if n != 2 {
			t.Errorf("%d contacts stored, want 2", n)
		}
	})
}

func TestAFacilityMustHaveItsRecording(t *testing.T) {
	t.Parallel()
	file := "agende:\n  - name: rx\n    node: ASL1\n    codes: [RX]\n    calendar: \"0 9 * * 1\"\n    window: {from_days: 7, to_days: 14}\n" +
		"    facilities:\n      \"Ospedale di Città di Castello\": struttura-mai-registrata\n"
	_, err := recall.Parse([]byte(file), "agende.yaml", t.TempDir())
	if err == nil || !strings.Contains(err.Error(), `line 8: agende[rx].facilities["Ospedale di Città di Castello"]`) {
		t.Errorf("got %v, want the facility's key and line", err)
	}
}

// STOP by SMS stops SMS, not calls: a number that sent it is still in the
// recall, and only the do-not-call list keeps a number from being called.
func TestStopBySMSDoesNotStopTheRecallCall(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	b := setup(t, st, [][]any{row("RX-TORACE", "B-1", "+393331110001", 9, 8), row("RX-TORACE", "B-2", "+393331110002", 9, 9)})
	ctx := context.Background()
	if _, err := st.OptOut(ctx, "+393331110001", "STOP", monday9); err != nil {
		t.Fatal(err)
	}
	if err := st.AddDNC(ctx, "+393331110002", monday9); err != nil {
		t.Fatal(err)
	}
	rx, _ := recall.Find(b.agendas, "rx")
	rep, err := b.job(t, "engine-a", func() time.Time { return monday9 }).Build(ctx, rx, recall.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cs, err := st.ClaimContacts(ctx, "dialer", rep.CampaignID, monday9.Add(time.Hour), monday9.Add(2*time.Hour), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 || cs[0].Phone != "+393331110001" {
		t.Errorf("numbers handed to the dialer %+v, want the one that sent STOP and not the do-not-call one", cs)
	}
}

// A run the node could not serve (or the engine was down for) is built
// later the same day, every 15 minutes at most, and not before its hour.
func TestAMissedRunIsBuiltLaterTheSameDay(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	b := setup(t, st, rows)
	clock := testkit.NewClock(monday9.Add(-time.Hour))
	j := b.job(t, "engine-a", clock.Now)
	j.Agendas = j.Agendas[:1]
	ctx := context.Background()
	runs := func() int {
		rs, err := st.RecallRuns(ctx, "rx", 0)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, r := range rs {
			if r.CampaignID != 0 {
				n++
			}
		}
		return n
	}
	j.RunDue(ctx)
	if runs() != 0 {
		t.Fatal("built before the calendar's hour")
	}
	b.srv.SetFault(tdstest.Fault{Kind: tdstest.QueryError})
	clock.Set(monday9.Add(time.Minute))
	j.RunDue(ctx)
	if runs() != 0 {
		t.Fatal("built while the node fails")
	}
	b.srv.SetFault(tdstest.Fault{})
	clock.Set(monday9.Add(10 * time.Minute))
	j.RunDue(ctx)
	if runs() != 0 {
		t.Fatal("tried again before 15 minutes")
	}
	clock.Set(monday9.Add(20 * time.Minute))
	j.RunDue(ctx)
	if runs() != 1 {
		t.Fatal("not built once the node answers")
	}
	clock.Set(monday9.Add(2 * time.Hour))
	j.RunDue(ctx)
	if runs() != 1 {
		t.Fatal("built twice")
	}
}
