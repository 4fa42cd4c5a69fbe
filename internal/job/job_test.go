package job_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/richiamo/richiamo/campaigns"
	"github.com/richiamo/richiamo/internal/calendar"
	"github.com/richiamo/richiamo/internal/job"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/store/storetest"
)

var monday10 = time.Date(2026, 11, 30, 10, 0, 0, 0, calendar.Rome)

func recallScript(t *testing.T) job.Script {
	t.Helper()
	p := filepath.Join("..", "..", "campaigns", "recall.yaml")
	text, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return job.Script{Name: p, Text: text}
}

const bookings = "codice_prenotazione;cellulare;data_ora_appuntamento\n" +
	"PR-1;3330000001;01/12/2026 08:00\n" +
	"PR-2;3330000002;01/12/2026 08:30\n" +
	"PR-3;3330000099;01/12/2026 09:00\n"

func recallFile(t *testing.T, s job.Script, csv string) job.RecallFile {
	return job.RecallFile{CallScript: s, Name: "bookings.csv", CSV: strings.NewReader(csv)}
}

// failOn makes the store refuse, inside the creation's transaction, the
// contact with this number: a failure after the campaign row and some
// contacts are written.
func failOn(t *testing.T, st *store.Store, phone string) {
	t.Helper()
	stmts := []string{`CREATE TRIGGER refuse BEFORE INSERT ON contacts WHEN NEW.phone = '` + phone + `' BEGIN SELECT RAISE(ABORT, 'refused'); END`}
	if st.Dialect() == store.Postgres {
		stmts = []string{
			`CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.phone = '` + phone + `' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$`,
			`CREATE TRIGGER refuse BEFORE INSERT ON contacts FOR EACH ROW EXECUTE FUNCTION refuse()`,
		}
	}
	for _, q := range stmts {
		if _, err := st.DB().Exec(q); err != nil {
			t.Fatal(err)
		}
	}
}

type counts struct {
	Campaigns int    `db:"campaigns"`
	Contacts  int    `db:"contacts"`
	Script    string `db:"script"`
}

func count(t *testing.T, st *store.Store) counts {
	t.Helper()
	var c counts
	if err := st.DB().Get(&c, `SELECT (SELECT COUNT(*) FROM campaigns) AS campaigns, (SELECT COUNT(*) FROM contacts) AS contacts,
		COALESCE((SELECT MAX(script) FROM campaigns), '') AS script`); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestAFailedCreationLeavesNothingBehind(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		s := recallScript(t)
		failOn(t, st, "+393330000099")
		if _, err := job.Create(ctx, st, "recall-dicembre", recallFile(t, s, bookings), monday10); err == nil || !strings.Contains(err.Error(), "refused") {
			t.Fatalf("creation with a refused contact: %v, want the store's refusal", err)
		}
		if got := count(t, st); got != (counts{}) {
			t.Fatalf("after the failed creation: %+v, want no campaign and no contact", got)
		}
		// Adding to an existing campaign fails as a whole too: its script
		// and contacts stay as they were.
		made, err := job.Create(ctx, st, "recall-dicembre", recallFile(t, s, bookings[:strings.Index(bookings, "PR-3")]), monday10)
		if err != nil || !made.New || made.Loaded != 2 {
			t.Fatalf("creation: %+v, %v", made, err)
		}
		other := job.Script{Name: s.Name, Text: append([]byte("# another version\n"), s.Text...)}
		if _, err := job.Create(ctx, st, "recall-dicembre", recallFile(t, other, bookings), monday10); err == nil {
			t.Fatal("adding a refused contact succeeded")
		}
		if got := count(t, st); got != (counts{1, 2, string(s.Text)}) {
			t.Errorf("after the failed addition: %d campaigns, %d contacts, script changed %v; want 1, 2, unchanged", got.Campaigns, got.Contacts, got.Script != string(s.Text))
		}
	})
}

func TestCreateStoresTheKindScriptAndContacts(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	ctx := context.Background()
	s := recallScript(t)
	made, err := job.Create(ctx, st, "r", recallFile(t, s, bookings+"PR-1;3330000001;01/12/2026 08:00\n"), monday10)
	if err != nil {
		t.Fatal(err)
	}
	if !made.New || made.Loaded != 3 || len(made.Skipped) != 1 || made.Skipped[0] != (job.Skipped{Line: 5, Reason: "booking code already in the file"}) {
		t.Errorf("created %+v", made)
	}
	c, err := st.CampaignByID(ctx, made.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c.Kind != "recall" || c.Script != string(s.Text) || c.State != store.CampaignPaused {
		t.Errorf("campaign %s, state %s, script stored %v; want a paused recall with its script", c.Kind, c.State, c.Script == string(s.Text))
	}
}

// contactsMustNotBeRead is a job whose contacts fail the test if asked for.
type contactsMustNotBeRead struct {
	job.RecallFile
	t *testing.T
}

func (j contactsMustNotBeRead) Contacts(context.Context, job.Source) ([]store.NewContact, []job.Skipped, error) {
	j.t.Error("the contacts were read although the script does not load")
	return nil, nil, nil
}

func TestABadScriptStopsTheCreationFirst(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	s := recallScript(t)
	bad := job.Script{Name: "bad.yaml", Text: []byte(strings.Replace(string(s.Text), "frase-ripetiamo]", "frase-ripetiamo-ancora]", 1))}
	_, err := job.Create(context.Background(), st, "r", contactsMustNotBeRead{recallFile(t, bad, bookings), t}, monday10)
	if err == nil || !strings.HasPrefix(err.Error(), "bad.yaml: ") || !strings.Contains(err.Error(), "frase-ripetiamo-ancora") {
		t.Errorf("error %v, want the missing segment, naming the script", err)
	}
	if got := count(t, st); got != (counts{}) {
		t.Errorf("after a bad script: %+v", got)
	}
}

func TestKinds(t *testing.T) {
	t.Parallel()
	for _, k := range job.Kinds {
		if got, err := job.ParseKind(string(k)); err != nil || got != k {
			t.Errorf("ParseKind(%q) = %q, %v", k, got, err)
		}
	}
	if _, err := job.ParseKind("sondaggio"); err == nil || !strings.Contains(err.Error(), "recall, offer, survey, follow_up, clean_up, urgent_move") {
		t.Errorf("an unknown kind: %v, want the known ones listed", err)
	}
	if _, err := job.CallsFor("recall"); err != nil {
		t.Errorf("recall calls: %v", err)
	}
	for _, k := range []string{"recall", "offer", "survey", "clean_up", "urgent_move"} {
		if _, err := job.CallsFor(k); err != nil {
			t.Errorf("%s calls: %v", k, err)
		}
	}
	if _, err := job.CallsFor("follow_up"); err == nil || err.Error() != "job: follow_up campaigns are not dialled yet" {
		t.Errorf("follow-up calls (made by operators): %v", err)
	}
	if err := job.Check("survey", "survey.yaml", campaigns.Survey); err != nil {
		t.Errorf("the shipped survey: %v", err)
	}
	if err := job.Check("survey", "recall.yaml", campaigns.Recall); err == nil || !strings.Contains(err.Error(), "recall.yaml") {
		t.Errorf("a recall script run as a survey: %v", err)
	}
	if _, err := job.Plan(store.Campaign{Kind: "recall"}, nil, job.Hooks{}); err == nil {
		t.Error("a campaign without a script was given a plan")
	}
}
