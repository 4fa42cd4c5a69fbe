package remind

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/testkit"
)

func TestReimportingTheSameExtractPlansNothingNew(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, b *bundle) {
		rows := []string{
			row("ASL1", "A-1", "3331234567", "01/12/2026 10:30"),
			row("ASL1", "A-2", "3339876543", "01/12/2026 11:00"),
		}
		first := b.plan(t, Options{}, rows...)
		if first.Messages != 2 || first.Bookings != 2 {
			t.Fatalf("first import: %d messages for %d bookings, want 2 for 2", first.Messages, first.Bookings)
		}
		again := b.plan(t, Options{}, rows...)
		if again.Messages != 0 || again.Bookings != 0 || again.Updated != 0 || again.Withdrawn != 0 {
			t.Fatalf("re-import planned %+v", again)
		}
		// An overlapping extract (one old row, one new) plans only the new one.
		over := b.plan(t, Options{}, rows[1], row("ASL1", "A-3", "3471112223", "01/12/2026 12:00"))
		if over.Messages != 1 {
			t.Fatalf("overlapping import: %d new messages, want 1", over.Messages)
		}
	})
}

func TestMovedAppointmentGetsANewReminderAndTheOldOneIsWithdrawn(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, b *bundle) {
		b.plan(t, Options{}, row("ASL1", "A-1", "3331234567", "01/12/2026 10:30"))
		rep := b.plan(t, Options{}, row("ASL1", "A-1", "3331234567", "01/12/2026 15:45"))
		if rep.Messages != 1 || rep.Withdrawn != 1 {
			t.Fatalf("moved: %d new, %d withdrawn; want 1 and 1", rep.Messages, rep.Withdrawn)
		}
		ms := b.messages(t, "+393331234567")
		var planned []string
		for _, m := range ms {
			if m.Status == store.StatusPlanned {
				planned = append(planned, m.Body)
			}
		}
		if len(planned) != 1 || !strings.Contains(planned[0], "alle 15:45") {
			t.Fatalf("planned after the move: %q", planned)
		}
	})
}

func TestBookingMissingFromALaterExtractIsWithdrawn(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, b *bundle) {
		b.plan(t, Options{},
			row("ASL1", "A-1", "3331234567", "01/12/2026 10:30"),
			row("ASL1", "A-2", "3339876543", "01/12/2026 11:00"),
			row("ASL2", "B-1", "3405556667", "01/12/2026 11:00"))
		// ASL1's new extract for the same day lacks A-2 (cancelled at the
		// desk). ASL2 is not in it, so B-1 must stay.
		rep := b.plan(t, Options{}, row("ASL1", "A-1", "3331234567", "01/12/2026 10:30"))
		if rep.Withdrawn != 1 {
			t.Fatalf("withdrawn %d, want 1", rep.Withdrawn)
		}
		if ms := b.messages(t, "+393339876543"); len(ms) != 1 || ms[0].Status != store.StatusWithdrawn {
			t.Fatalf("A-2's message: %+v", ms)
		}
		if ms := b.messages(t, "+393405556667"); len(ms) != 1 || ms[0].Status != store.StatusPlanned {
			t.Fatalf("another node's booking was touched: %+v", ms)
		}
	})
}

func TestSeveralBookingsOfADayMakeOneMessage(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, b *bundle) {
		rep := b.plan(t, Options{},
			row("ASL1", "A-2", "347 111 2223", "01/12/2026 11:00"),
			row("ASL1", "A-1", "+39 347 1112223", "01/12/2026 08:30"),
			row("AO", "C-9", "0039 3471112223", "01/12/2026 16:00"))
		if rep.Messages != 1 || rep.Bookings != 3 {
			t.Fatalf("%d messages for %d bookings, want 1 for 3", rep.Messages, rep.Bookings)
		}
		body := b.messages(t, "+393471112223")[0].Body
		i8, i11, i16 := strings.Index(body, "08:30"), strings.Index(body, "11:00"), strings.Index(body, "16:00")
		if i8 < 0 || i11 < i8 || i16 < i11 {
			t.Fatalf("bookings not listed in time order: %q", body)
		}
		// A booking added later joins the message while it is unsent.
		rep = b.plan(t, Options{},
			row("ASL1", "A-2", "347 111 2223", "01/12/2026 11:00"),
			row("ASL1", "A-1", "+39 347 1112223", "01/12/2026 08:30"),
			row("AO", "C-9", "0039 3471112223", "01/12/2026 16:00"),
			row("IRCCS", "D-1", "3471112223", "01/12/2026 17:00"))
		// The shipped campaign lists at most 3 bookings in a message.
		if rep.Messages != 1 || rep.Bookings != 1 {
			t.Fatalf("fourth booking: %d messages for %d bookings, want a second message", rep.Messages, rep.Bookings)
		}
	})
}

// The messages rendered ahead of the plan's transaction assume nothing
// waits for the patient: a booking from another node's extract, all of
// its bookings new, still joins the message waiting with room.
func TestANewBookingFromAnotherNodeJoinsTheMessageWaiting(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, b *bundle) {
		b.plan(t, Options{}, row("ASL1", "A-1", "347 111 2223", "01/12/2026 08:30"))
		rep := b.plan(t, Options{}, row("AO", "C-9", "347 111 2223", "01/12/2026 16:00"))
		if rep.Messages != 0 || rep.Updated != 1 || rep.Withdrawn != 0 {
			t.Fatalf("%d new messages, %d updated, %d withdrawn: want the waiting one updated", rep.Messages, rep.Updated, rep.Withdrawn)
		}
		ms := b.messages(t, "+393471112223")
		if len(ms) != 1 || !strings.Contains(ms[0].Body, "08:30") || !strings.Contains(ms[0].Body, "16:00") {
			t.Fatalf("messages %+v: want one listing 08:30 and 16:00", ms)
		}
	})
}

func TestRejectionsDuplicatesAndOptOuts(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, b *bundle) {
		if _, err := b.st.OptOut(context.Background(), "+393398887776", "sms", b.now()); err != nil {
			t.Fatal(err)
		}
		rep := b.plan(t, Options{},
			row("ASL1", "A-1", "3331234567", "01/12/2026 10:30"),
			row("ASL1", "A-1", "3331234567", "01/12/2026 10:30"), // identical: duplicate
			row("ASL1", "A-2", "", "01/12/2026 10:30"),
			row("ASL1", "A-3", "06 1234 5678", "01/12/2026 10:30"),
			row("ASL1", "A-4", "33312", "01/12/2026 10:30"),
			row("ASL1", "", "3331234567", "01/12/2026 10:30"),
			row("ASL1", "A-6", "3331234567", "31/11/2026 10:30"),
			row("ASL1", "A-7", "339 888 7776", "01/12/2026 10:30"))
		if rep.Rows != 8 || rep.Valid != 1 || rep.Duplicates != 1 {
			t.Fatalf("rows %d valid %d duplicates %d", rep.Rows, rep.Valid, rep.Duplicates)
		}
		want := map[cup.Reason]int{ // line numbers: header is line 1
			cup.ReasonMissingPhone: 4, cup.ReasonLandline: 5, cup.ReasonInvalidPhone: 6,
			cup.ReasonMissingBookingCode: 7, cup.ReasonBadDatetime: 8, cup.ReasonOptedOut: 9,
		}
		if len(rep.Rejected) != len(want) {
			t.Fatalf("rejected %+v", rep.Rejected)
		}
		for _, r := range rep.Rejected {
			if want[r.Reason] != r.Line || r.File != "estratto.csv" {
				t.Errorf("rejection %+v: want line %d", r, want[r.Reason])
			}
		}
	})
}

func TestForDateRemindsExactlyThatDay(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, b *bundle) {
		rows := []string{
			row("ASL1", "A-1", "3331234567", "01/12/2026 10:30"),
			row("ASL1", "A-2", "3339876543", "03/12/2026 11:00"),
		}
		rep := b.plan(t, Options{ForDate: time.Date(2026, 12, 3, 0, 0, 0, 0, cup.Rome)}, rows...)
		if rep.Messages != 1 || len(rep.Days) != 1 || rep.Days[0] != "2026-12-03" {
			t.Fatalf("for-date: %+v", rep)
		}
		if ms := b.messages(t, "+393339876543"); len(ms) != 1 {
			t.Fatalf("the 3 December booking was not planned: %+v", ms)
		}
	})
}

func TestDryRunStoresNothing(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, b *bundle) {
		rep := b.plan(t, Options{DryRun: true}, row("ASL1", "A-1", "3331234567", "01/12/2026 10:30"))
		if rep.Messages != 1 || rep.GSM7+rep.UCS2 != 1 || rep.Segments < 1 {
			t.Fatalf("dry run report: %+v", rep)
		}
		if ms := b.messages(t, ""); len(ms) != 0 {
			t.Fatalf("dry run stored %d messages", len(ms))
		}
		if rep := b.plan(t, Options{}, row("ASL1", "A-1", "3331234567", "01/12/2026 10:30")); rep.Messages != 1 {
			t.Fatalf("real run after dry run planned %d", rep.Messages)
		}
	})
}

func TestRunOutsideSendingHoursWaitsForTheOpening(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, b *bundle) {
		late := time.Date(2026, 11, 30, 21, 15, 0, 0, cup.Rome)
		b.planner.Now = testkit.RunningClock(late)
		// The appointment is on the afternoon of the 1st: the 09:00 opening
		// on the 1st is still more than min_notice before it.
		b.plan(t, Options{RunDay: mondayMorning}, row("ASL1", "A-1", "3331234567", "01/12/2026 16:30"))
		var nb int64
		if err := b.st.DB().Get(&nb, `SELECT not_before FROM messages`); err != nil {
			t.Fatal(err)
		}
		got := store.FromMillis(nb).In(cup.Rome)
		if want := time.Date(2026, 12, 1, 9, 0, 0, 0, cup.Rome); !got.Equal(want) {
			t.Fatalf("not before %s, want %s", got, want)
		}
	})
}

func TestDryRunReportsWhatTheRealRunDoes(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, b *bundle) {
		b.plan(t, Options{},
			row("ASL1", "A-1", "3331234567", "01/12/2026 10:30"),
			row("ASL1", "A-2", "3339876543", "01/12/2026 11:00"),
			row("ASL1", "A-3", "3405556667", "01/12/2026 11:00"),
			row("ASL1", "A-4", "3405556667", "01/12/2026 12:00"))
		// The next extract moves A-1, drops A-2, adds a booking to A-3's
		// patient and brings a new patient.
		next := []string{
			row("ASL1", "A-1", "3331234567", "01/12/2026 16:30"),
			row("ASL1", "A-3", "3405556667", "01/12/2026 11:00"),
			row("ASL1", "A-4", "3405556667", "01/12/2026 12:00"),
			row("ASL1", "A-5", "3405556667", "01/12/2026 13:00"),
			row("ASL1", "A-6", "3471234567", "01/12/2026 09:45"),
			row("ASL1", "A-6", "3471234567", "01/12/2026 09:45"),
			row("ASL1", "A-7", "", "01/12/2026 09:45"),
		}
		dry := b.plan(t, Options{DryRun: true}, next...)
		real := b.plan(t, Options{}, next...)
		dry.DryRun, dry.ImportID, real.ImportID = false, 0, 0
		if fmt.Sprint(*dry) != fmt.Sprint(*real) {
			t.Fatalf("dry run  %+v\nreal run %+v", *dry, *real)
		}
		if real.Messages != 2 || real.Withdrawn != 2 || real.Updated != 1 || real.Bookings != 3 {
			t.Fatalf("real run %+v", *real)
		}
	})
}

// longExtract is n rows of distinct patients, all due on the test's day.
func longExtract(n int) string {
	var sb strings.Builder
	sb.WriteString(header)
	for i := range n {
		sb.WriteString(row("ASL1", fmt.Sprintf("L-%06d", i), fmt.Sprintf("33%08d", i), "01/12/2026 10:30"))
	}
	return sb.String()
}

func TestTheStoreAnswersWhileALongExtractIsRead(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, b *bundle) {
		var probes int
		var failed error
		b.planner.Progress = func(int) {
			// The import's own goroutine asks the store: on a store of one
			// connection this waits for a transaction held by the import.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if _, err := b.st.Messages(ctx, "+393331234567", 10); err != nil && failed == nil {
				failed = err
			}
			probes++
		}
		rep, err := b.planner.Plan(context.Background(), []Source{{Name: "lungo.csv", R: strings.NewReader(longExtract(25000))}}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if failed != nil {
			t.Fatalf("the store did not answer while the extract was read: %v", failed)
		}
		if probes < 3 || rep.Messages != 25000 {
			t.Fatalf("%d probes, %d messages; want at least 3 and 25000", probes, rep.Messages)
		}
	})
}

// failingRows gives the rows of an extract and fails after the first n.
type failingRows struct {
	r    *cup.ExtractReader
	n    int
	seen int
}

func (f *failingRows) Next() (cup.Booking, *cup.Rejection, error) {
	if f.seen == f.n {
		return cup.Booking{}, nil, fmt.Errorf("connection reset")
	}
	f.seen++
	return f.r.Next()
}

func TestAnImportCutShortPlansNothingAndTheNextRunPlansEachReminderOnce(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, b *bundle) {
		text := longExtract(5000)
		er, err := cup.NewExtractReader(strings.NewReader(text), "lungo.csv", cup.Layout{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.planner.Plan(context.Background(), []Source{{Name: "lungo.csv", Rows: &failingRows{r: er, n: 4500}}}, Options{}); err == nil {
			t.Fatal("an extract cut short was taken as whole")
		}
		if ms := b.messages(t, "+393300000001"); len(ms) != 0 {
			t.Fatalf("an import cut short planned %d messages", len(ms))
		}
		rep, err := b.planner.Plan(context.Background(), []Source{{Name: "lungo.csv", R: strings.NewReader(text)}}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		again := b.plan(t, Options{}, strings.Split(strings.TrimSuffix(text, "\n"), "\n")[1:][0]+"\n")
		if ms := b.messages(t, "+393300000001"); len(ms) != 1 {
			t.Fatalf("after the cut, one patient has %d messages, want 1", len(ms))
		}
		if rep.Messages != 5000 || again.Messages != 0 {
			t.Fatalf("after the cut: %d messages, then %d; want 5000, then 0", rep.Messages, again.Messages)
		}
	})
}

func TestTwoRunsOfOneExtractAtOncePlanEachReminderOnce(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, b *bundle) {
		text := longExtract(6000)
		reps := make([]*Report, 4)
		errs := make([]error, 4)
		var wg sync.WaitGroup
		for i := range reps {
			wg.Go(func() {
				p := *b.planner
				reps[i], errs[i] = p.Plan(context.Background(), []Source{{Name: "lungo.csv", R: strings.NewReader(text)}}, Options{})
			})
		}
		wg.Wait()
		total := 0
		for i := range reps {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			total += reps[i].Messages
		}
		var n int
		for _, ph := range []string{"+393300000000", "+393300002999", "+393300005999"} {
			n += len(b.messages(t, ph))
		}
		if total != 6000 || n != 3 {
			t.Fatalf("four runs at once planned %d messages (want 6000), %d for three patients (want 3)", total, n)
		}
	})
}

func TestThePlanIsCommittedAChunkAtATime(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, b *bundle) {
		const n = 6000
		var firstDone, firstSeen int
		b.planner.Planning = func(done, total int) {
			if firstDone != 0 {
				return
			}
			// Called after a transaction of the plan: what it wrote is
			// there for everyone, while the rest is still to come.
			firstDone = done
			var err error
			if firstSeen, err = countMessages(b.st); err != nil {
				t.Error(err)
			}
		}
		rep, err := b.planner.Plan(context.Background(), []Source{{Name: "lungo.csv", R: strings.NewReader(longExtract(n))}}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Messages != n || firstDone == 0 || firstDone >= n || firstSeen != firstDone {
			t.Fatalf("%d messages; after the first transaction %d of %d patients planned and %d messages stored; want part of the plan stored",
				rep.Messages, firstDone, n, firstSeen)
		}
	})
}

func TestAPlanCutShortKeepsWhatItWroteAndTheNextRunPlansTheRestOnce(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, b *bundle) {
		const n = 6000
		text := longExtract(n)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		p := *b.planner
		p.Planning = func(done, total int) { cancel() }
		if _, err := p.Plan(ctx, []Source{{Name: "lungo.csv", R: strings.NewReader(text)}}, Options{}); err == nil {
			t.Fatal("a plan cut short reported no error")
		}
		kept, err := countMessages(b.st)
		if err != nil {
			t.Fatal(err)
		}
		if kept == 0 || kept >= n {
			t.Fatalf("the cut plan kept %d messages of %d; want its first transaction's", kept, n)
		}
		rep, err := b.planner.Plan(context.Background(), []Source{{Name: "lungo.csv", R: strings.NewReader(text)}}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		total, err := countMessages(b.st)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Messages != n-kept || total != n {
			t.Fatalf("the next run planned %d (want %d), %d messages in all (want %d)", rep.Messages, n-kept, total, n)
		}
		for _, ph := range []string{"+393300000000", "+393300002999", "+393300005999"} {
			if ms := b.messages(t, ph); len(ms) != 1 {
				t.Fatalf("%s has %d messages, want 1", ph, len(ms))
			}
		}
	})
}

func TestABookingJoiningAMessageAsItIsSentIsNeverLeftOut(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, b *bundle) {
		const patients = 60
		var first, second strings.Builder
		for i := range patients {
			first.WriteString(row("ASL1", fmt.Sprintf("J-%03d-A", i), fmt.Sprintf("33%08d", i), "01/12/2026 10:30"))
			second.WriteString(row("ASL1", fmt.Sprintf("J-%03d-B", i), fmt.Sprintf("33%08d", i), "01/12/2026 16:45"))
		}
		b.plan(t, Options{}, first.String())
		var wg sync.WaitGroup
		var rep *Report
		var planErr error
		wg.Go(func() {
			rep, planErr = b.planner.Plan(context.Background(), []Source{{Name: "secondo.csv",
				R: strings.NewReader(header + first.String() + second.String())}}, Options{})
		})
		wg.Go(func() { b.drain(t) })
		wg.Wait()
		if planErr != nil {
			t.Fatal(planErr)
		}
		b.drain(t)
		// Every afternoon booking is in the text of the message its
		// reminder names, whether it joined the morning's message or came
		// in one of its own.
		var rows []struct {
			Code string `db:"code"`
			Body string `db:"body"`
		}
		if err := b.st.DB().Select(&rows, `SELECT r.code, m.body FROM reminders r JOIN messages m ON m.id = r.message_id WHERE r.code LIKE 'J-%-B'`); err != nil {
			t.Fatal(err)
		}
		if len(rows) != patients {
			t.Fatalf("%d afternoon bookings reminded, want %d (%+v)", len(rows), patients, rep)
		}
		for _, r := range rows {
			if !strings.Contains(r.Body, "16:45") {
				t.Fatalf("booking %s is reminded by a message that does not name it: %q", r.Code, r.Body)
			}
		}
	})
}

func countMessages(st *store.Store) (int, error) {
	var n int
	err := st.DB().Get(&n, `SELECT count(*) FROM messages`)
	return n, err
}

// sortedExtract is rows of patients with one to three bookings over two
// days, some rows repeated as they are and some with another time.
func sortedExtract(n int, moved func(i int) bool, dropped func(i int) bool) []string {
	var rows []string
	for i := range n {
		if dropped(i) {
			continue
		}
		day := "01"
		if i%4 == 3 {
			day = "02"
		}
		hm := 8*60 + (i%50)*10
		if moved(i) {
			hm += 5
		}
		r := row("ASL1", fmt.Sprintf("C-%05d", i), fmt.Sprintf("33%08d", i/3), fmt.Sprintf("%s/12/2026 %02d:%02d", day, hm/60, hm%60))
		rows = append(rows, r)
		switch {
		case i%37 == 0:
			rows = append(rows, r)
		case i%53 == 0:
			rows = append(rows, row("ASL1", fmt.Sprintf("C-%05d", i), fmt.Sprintf("33%08d", i/3), fmt.Sprintf("%s/12/2026 19:45", day)))
		}
	}
	return rows
}

func TestAPlanLargerThanItsMemoryIsTheSameAsOneHeldInMemory(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, b *bundle) {
		never := func(int) bool { return false }
		first := sortedExtract(4000, never, never)
		// The next extract moves some bookings and leaves some out.
		next := sortedExtract(4000, func(i int) bool { return i%11 == 0 }, func(i int) bool { return i%13 == 0 })
		compare := func(what string, rows []string) *Report {
			t.Helper()
			b.planner.sortMemory = 0
			held := b.plan(t, Options{DryRun: true}, rows...)
			b.planner.sortMemory = 1 // 1,024 rows a sorted run
			spilled := b.plan(t, Options{DryRun: true}, rows...)
			if fmt.Sprint(*held) != fmt.Sprint(*spilled) {
				t.Fatalf("%s: held in memory %+v\nwritten to files %+v", what, *held, *spilled)
			}
			stored := b.plan(t, Options{}, rows...)
			held.DryRun, held.ImportID, stored.ImportID = false, 0, 0
			if fmt.Sprint(*held) != fmt.Sprint(*stored) {
				t.Fatalf("%s: dry run %+v\nstored %+v", what, *held, *stored)
			}
			return stored
		}
		dups, conflicts := 0, 0
		for i := range 4000 {
			switch {
			case i%37 == 0:
				dups++
			case i%53 == 0:
				dups++
				conflicts++
			}
		}
		rep := compare("first extract", first)
		if rep.Duplicates != dups || rep.Conflicts != conflicts || rep.Valid != 4000 || rep.NotDue["2026-12-02"] != 1000 || rep.Messages == 0 {
			t.Fatalf("first extract: %+v", *rep)
		}
		// The first row of a booking repeated with another time is kept.
		var at int64
		if err := b.st.DB().Get(&at, b.st.DB().Rebind(`SELECT at FROM bookings WHERE node = 'ASL1' AND code = 'C-00053'`)); err != nil {
			t.Fatal(err)
		}
		if got, want := store.FromMillis(at).In(cup.Rome), time.Date(2026, 12, 1, 8, 30, 0, 0, cup.Rome); !got.Equal(want) {
			t.Fatalf("C-00053 stored at %s, want the first row's %s", got, want)
		}
		rep = compare("next extract", next)
		if rep.Withdrawn == 0 || rep.Updated == 0 || rep.Messages == 0 {
			t.Fatalf("next extract: %+v", *rep)
		}
	})
}

// An import that takes bookings out of their messages while the sender
// claims the same messages: each message is either claimed with all its
// bookings, or withdrawn and never claimed; none is claimed after its
// booking was taken out of it.
func TestAWithdrawalRacingTheSenderNeverLeavesAClaimedMessageWithoutItsBooking(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, b *bundle) {
		const n = 600
		// The next extract of the same node and day keeps the odd bookings
		// only: the even ones were cancelled at the desk.
		var all, kept []string
		for i := range n {
			r := row("ASL1", fmt.Sprintf("L-%06d", i), fmt.Sprintf("33%08d", i), "01/12/2026 10:30")
			all = append(all, r)
			if i%2 == 1 {
				kept = append(kept, r)
			}
		}
		b.plan(t, Options{}, all...)
		ctx := context.Background()
		at := b.camp.SendWindow(b.now())
		claimed := map[int64]bool{}
		var wg sync.WaitGroup
		var claimErr error
		wg.Go(func() {
			for {
				got, err := b.st.Claim(ctx, "mittente", at, at.Add(time.Hour), 5)
				if err != nil {
					claimErr = err
					return
				}
				if len(got) == 0 {
					return
				}
				for _, m := range got {
					claimed[m.ID] = true
				}
			}
		})
		rep := b.plan(t, Options{}, kept...)
		wg.Wait()
		if claimErr != nil {
			t.Fatal(claimErr)
		}
		withdrawn := 0
		for i := 0; i < n; i += 2 {
			found, err := b.st.FindBookings(ctx, fmt.Sprintf("L-%06d", i), "ASL1")
			if err != nil {
				t.Fatal(err)
			}
			if len(found) != 1 || len(found[0].Reminders) != 1 {
				t.Fatalf("booking %d: %+v", i, found)
			}
			r := found[0].Reminders[0]
			switch {
			case claimed[r.MessageID] && (r.Status != "planned" || r.MessageStatus != store.StatusClaimed):
				t.Errorf("booking %d: its message was claimed, then the reminder is %s and the message %s", i, r.Status, r.MessageStatus)
			case !claimed[r.MessageID] && (r.Status != "withdrawn" || r.MessageStatus != store.StatusWithdrawn):
				t.Errorf("booking %d: its message was not claimed, and the reminder is %s, the message %s; want both withdrawn", i, r.Status, r.MessageStatus)
			case !claimed[r.MessageID]:
				withdrawn++
			}
		}
		if rep.Withdrawn != withdrawn {
			t.Errorf("the import withdrew %d messages, %d found withdrawn", rep.Withdrawn, withdrawn)
		}
		t.Logf("%d claimed, %d withdrawn of %d cancelled bookings", n/2-withdrawn, withdrawn, n/2)
	})
}

// The messages of a day's first import are rendered ahead of the plan's
// transactions; on the same extract again, where every booking is
// reminded already, only the first chunk's are and, rendered while the
// first is written, the second's, and nothing is planned.
func TestAReimportStopsRenderingAheadAfterItsFirstChunk(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, b *bundle) {
		var rows []string
		for i := range 9000 { // 9,000 patients, in 9 chunks
			rows = append(rows, row("ASL1", fmt.Sprintf("R-%05d", i), fmt.Sprintf("33%08d", i), fmt.Sprintf("01/12/2026 %02d:%02d", 8+i%10, i%60)))
		}
		var ahead atomic.Int64
		b.planner.renderedAhead, b.planner.chunkSize = &ahead, 1000
		first := b.plan(t, Options{}, rows...)
		if first.Messages != 9000 || ahead.Load() != 9000 {
			t.Fatalf("first import: %d messages, %d rendered ahead; want 9000 of each", first.Messages, ahead.Load())
		}
		ahead.Store(0)
		again := b.plan(t, Options{}, rows...)
		if again.Messages != 0 || again.Updated != 0 {
			t.Fatalf("the same extract again planned %d messages and updated %d", again.Messages, again.Updated)
		}
		if n := ahead.Load(); n < 1000 || n > 2000 {
			t.Fatalf("the same extract again rendered %d messages ahead; want the first one or two chunks' (1,000 to 2,000)", n)
		}
	})
}
