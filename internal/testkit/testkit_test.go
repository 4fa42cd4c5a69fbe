package testkit

import (
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var epoch = time.Date(2026, 11, 30, 9, 30, 0, 0, time.UTC)

func TestClockShowsWhatItIsSetTo(t *testing.T) {
	t.Parallel()
	c := NewClock(epoch)
	if got := c.Now(); !got.Equal(epoch) {
		t.Fatalf("a new clock shows %s, want %s", got, epoch)
	}
	if got := c.Advance(90 * time.Minute); !got.Equal(epoch.Add(90 * time.Minute)) {
		t.Errorf("Advance returns %s", got)
	}
	if got := c.Now(); !got.Equal(epoch.Add(90 * time.Minute)) {
		t.Errorf("after Advance the clock shows %s", got)
	}
	c.Set(epoch.Add(-time.Hour))
	if got := c.Now(); !got.Equal(epoch.Add(-time.Hour)) {
		t.Errorf("after Set back the clock shows %s", got)
	}
}

func TestClockIsSafeForConcurrentUse(t *testing.T) {
	t.Parallel()
	c := NewClock(epoch)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				c.Advance(time.Second)
				_ = c.Now()
			}
		})
	}
	wg.Wait()
	if got := c.Now(); !got.Equal(epoch.Add(800 * time.Second)) {
		t.Errorf("800 advances of a second from %s end at %s", epoch, got)
	}
}

func TestRunningClockStartsWhereItIsTold(t *testing.T) {
	t.Parallel()
	now := RunningClock(epoch)
	first := now()
	if first.Before(epoch) || first.Sub(epoch) > time.Hour {
		t.Fatalf("first reading %s, want about %s", first, epoch)
	}
	if second := now(); second.Before(first) {
		t.Errorf("the clock went back from %s to %s", first, second)
	}
}

func TestLoggerDropsLinesAfterTheTest(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	w := &testWriter{out: &out}
	if _, err := w.Write([]byte("during\n")); err != nil {
		t.Fatal(err)
	}
	w.end()
	if n, err := w.Write([]byte("after\n")); err != nil || n != len("after\n") {
		t.Errorf("a line after the end: %d, %v", n, err)
	}
	if out.String() != "during\n" {
		t.Errorf("the test's output got %q", out.String())
	}
}

// recorder is a testing.TB that records a failure instead of stopping.
type recorder struct {
	testing.TB
	mu      sync.Mutex
	fatal   string
	skipped string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fatal = fmt.Sprintf(format, args...)
}

func (r *recorder) Skipf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.skipped = fmt.Sprintf(format, args...)
}

func TestWaitForReturnsOnceTheConditionHolds(t *testing.T) {
	t.Parallel()
	r := &recorder{TB: t}
	polls := 0
	WaitFor(r, func() error {
		polls++
		if polls < 3 {
			return fmt.Errorf("poll %d", polls)
		}
		return nil
	}, time.Minute)
	if r.fatal != "" || polls != 3 {
		t.Errorf("after %d polls: %q", polls, r.fatal)
	}
}

func TestWaitForFailsWithTheLastStateSeen(t *testing.T) {
	t.Parallel()
	r := &recorder{TB: t}
	polls := 0
	WaitFor(r, func() error {
		polls++
		return fmt.Errorf("%d calls, want 1", polls-1)
	}, 10*time.Millisecond)
	if want := fmt.Sprintf("%d calls, want 1", polls-1); !strings.Contains(r.fatal, want) {
		t.Errorf("the failure says %q, want it to end with %q", r.fatal, want)
	}
}

func TestNeedSkipsHereAndFailsUnderCI(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, dep string
		env       map[string]string
		want      string
		skip      bool
		fail      string
	}{
		{name: "the server's DSN is returned", dep: "postgres",
			env: map[string]string{EnvPostgresDSN: "postgres://t@127.0.0.1/t", "CI": "true"}, want: "postgres://t@127.0.0.1/t"},
		{name: "without the server the test is skipped", dep: "postgres",
			env: map[string]string{}, skip: true},
		{name: "CI=false is not CI", dep: "postgres",
			env: map[string]string{"CI": "false"}, skip: true},
		{name: "under CI a missing server fails the test", dep: "postgres",
			env: map[string]string{"CI": "true"}, fail: EnvPostgresDSN + " is not set"},
		{name: "the browser named in the environment is used", dep: "chromium",
			env: map[string]string{EnvChromium: "/opt/chromium/chrome", "CI": "true"}, want: "/opt/chromium/chrome"},
		{name: "a dependency the kit does not know fails the test", dep: "sql-server",
			env: map[string]string{}, fail: `no dependency "sql-server"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := &recorder{TB: t}
			got := need(r, tt.dep, func(k string) string { return tt.env[k] })
			if got != tt.want {
				t.Errorf("need returned %q, want %q", got, tt.want)
			}
			if skipped := r.skipped != ""; skipped != tt.skip {
				t.Errorf("skipped: %q, want a skip %v", r.skipped, tt.skip)
			}
			if tt.fail == "" && r.fatal != "" || !strings.Contains(r.fatal, tt.fail) {
				t.Errorf("failure %q, want one saying %q", r.fatal, tt.fail)
			}
		})
	}
}

// TestOnlyTestsImportTheKit keeps the kit out of the program: a file that
// imports it is a test, or belongs to a package of test support, one that
// imports testing itself.
func TestOnlyTestsImportTheKit(t *testing.T) {
	t.Parallel()
	const kit = "github.com/richiamo/richiamo/internal/testkit"
	root := filepath.Join("..", "..")
	var checked int
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		checked++
		var kitImported, testingImported bool
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			kitImported = kitImported || p == kit
			testingImported = testingImported || p == "testing"
		}
		if kitImported && !testingImported {
			t.Errorf("%s imports the test kit but is not test support", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked == 0 {
		t.Fatal("no Go file found to check")
	}
}
