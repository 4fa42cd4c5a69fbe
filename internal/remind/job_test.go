package remind

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/store/storetest"
	"github.com/richiamo/richiamo/internal/testkit"
)

// A run the schedule fires while the last one still reads its extract is
// skipped, and the first one plans the extract once and moves it aside.
// The extract is a named pipe, so the first run waits in it for as long as
// the test wants.
func TestARunFiredWhileTheLastIsGoingIsSkipped(t *testing.T) {
	t.Parallel()
	b := setup(t, storetest.SQLite(t))
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "inbox"), 0o755); err != nil {
		t.Fatal(err)
	}
	pipe := filepath.Join(dir, "inbox", "estratto.csv")
	if err := syscall.Mkfifo(pipe, 0o600); err != nil {
		t.Fatal(err)
	}
	var logged lockedBuffer
	j := &Job{Store: b.st, Campaign: b.camp, Inbox: filepath.Join(dir, "inbox", "*.csv"), Done: filepath.Join(dir, "done"),
		Owner: "engine-1", Log: slog.New(slog.NewTextHandler(&logged, nil)), Now: b.now}
	ctx := context.Background()
	first := make(chan struct{})
	go func() { defer close(first); j.RunOnce(ctx) }()
	testkit.WaitFor(t, func() error {
		if !j.running.Load() {
			return os.ErrNotExist
		}
		return nil
	}, 10*time.Second)

	second := make(chan struct{})
	go func() { defer close(second); j.RunOnce(ctx) }()
	select {
	case <-second:
	case <-time.After(10 * time.Second):
		// Unblock both, so that the test ends.
		if w, err := os.OpenFile(pipe, os.O_WRONLY, 0); err == nil {
			w.Close()
		}
		t.Fatal("the second run did not return while the first was going")
	}
	if got := strings.Count(logged.String(), "the last run is still going"); got != 1 {
		t.Errorf("the skip was logged %d times, want 1:\n%s", got, logged.String())
	}

	feed(t, pipe)
	<-first
	if n, err := countMessages(b.st); err != nil || n != 1 {
		t.Errorf("%d messages planned (%v), want 1", n, err)
	}
	if _, err := os.Stat(pipe); !os.IsNotExist(err) {
		t.Errorf("the extract is still in the inbox: %v", err)
	}
	// The flag is down again: the next run goes ahead (and finds nothing).
	j.RunOnce(ctx)
	if !strings.Contains(logged.String(), "no extract in the inbox") {
		t.Errorf("the run after the first did not go ahead:\n%s", logged.String())
	}
}

// A run longer than its lease renews it: another engine process stays
// out while the run goes, and gets the job once it ends.
func TestARunLongerThanItsLeaseKeepsOtherProcessesOut(t *testing.T) {
	t.Parallel()
	b := setup(t, storetest.SQLite(t))
	clock := testkit.NewClock(mondayMorning)
	dir := t.TempDir()
	for _, d := range []string{"inbox", "other"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	pipe := filepath.Join(dir, "inbox", "estratto.csv")
	if err := syscall.Mkfifo(pipe, 0o600); err != nil {
		t.Fatal(err)
	}
	var logged, otherLog lockedBuffer
	j := &Job{Store: b.st, Campaign: b.camp, Inbox: filepath.Join(dir, "inbox", "*.csv"),
		Owner: "engine-1", Log: slog.New(slog.NewTextHandler(&logged, nil)), Now: clock.Now, leaseRenew: time.Millisecond}
	// The other process's inbox is empty: if it gets the job, it says so
	// at once rather than waiting on the pipe.
	other := &Job{Store: b.st, Campaign: b.camp, Inbox: filepath.Join(dir, "other", "*.csv"),
		Owner: "engine-2", Log: slog.New(slog.NewTextHandler(&otherLog, nil)), Now: clock.Now}
	ctx := context.Background()
	first := make(chan struct{})
	go func() { defer close(first); j.RunOnce(ctx) }()
	t.Cleanup(func() {
		// Unblock the first run whatever happened, so that the test ends.
		if w, err := os.OpenFile(pipe, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			w.Close()
		}
		<-first
	})
	renewedAt := func(min int64) {
		t.Helper()
		testkit.WaitFor(t, func() error {
			if j.renewed.Load() < min {
				return os.ErrNotExist
			}
			return nil
		}, 10*time.Second)
	}
	renewedAt(1)
	// Twenty minutes on, the run renews its lease from there...
	clock.Advance(20 * time.Minute)
	renewedAt(j.renewed.Load() + 2) // one wholly after the advance
	// ...so forty minutes on, past the first lease's thirty, it is the
	// first run's still.
	clock.Advance(20 * time.Minute)
	other.RunOnce(ctx)
	if !strings.Contains(otherLog.String(), "another engine process is running it") {
		t.Fatalf("another process got the job while the run was going:\n%s", otherLog.String())
	}

	feed(t, pipe)
	<-first
	if strings.Contains(logged.String(), "lease") {
		t.Errorf("the run logged about its lease:\n%s", logged.String())
	}
	other.RunOnce(ctx)
	if !strings.Contains(otherLog.String(), "no extract in the inbox") {
		t.Errorf("the other process did not get the job once the run ended:\n%s", otherLog.String())
	}
}

// feed writes a one-booking extract into the named pipe a run waits on.
func feed(t *testing.T, pipe string) {
	t.Helper()
	w, err := os.OpenFile(pipe, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteString(header + row("ASL1", "A-1", "3331234567", "01/12/2026 10:30")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}
