package testkit

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// EnvPostgresDSN names the variable holding the DSN of the throwaway
// PostgreSQL server that scripts/with-postgres.sh starts for the tests.
const EnvPostgresDSN = "RICHIAMO_TEST_POSTGRES_DSN"

// EnvChromium, when set, is the Chromium the browser tests start.
const EnvChromium = "RICHIAMO_CHROMIUM"

// A dependency is something outside Go that some tests need.
type dependency struct {
	// find returns where the dependency is (a path, a DSN), or "".
	find func(getenv func(string) string) string
	// missing says what is wrong and how to put it right.
	missing string
}

var dependencies = map[string]dependency{
	"sipp": {
		find:    lookPath("sipp"),
		missing: "SIPp is not installed (apt-get install sip-tester)",
	},
	// The RFC 4733 DTMF captures that Debian's sip-tester ships.
	"sipp-captures": {
		find:    existing("/usr/share/sip-tester"),
		missing: "sip-tester's RTP captures are not installed (apt-get install sip-tester)",
	},
	// SIPp's play_pcap_audio sends through a raw socket.
	"raw-sockets": {
		find: func(func(string) string) string {
			if os.Geteuid() == 0 {
				return "root"
			}
			return ""
		},
		missing: "SIPp's play_pcap_audio needs root (or CAP_NET_RAW for sipp)",
	},
	"chromium": {
		find: func(getenv func(string) string) string {
			if p := getenv(EnvChromium); p != "" {
				return p
			}
			if p := existing("/usr/bin/chromium", "/usr/bin/chromium-browser")(getenv); p != "" {
				return p
			}
			return lookPath("chromium")(getenv)
		},
		missing: "chromium is not installed (apt-get install chromium, or set " + EnvChromium + ")",
	},
	"pdftotext": {
		find:    lookPath("pdftotext"),
		missing: "pdftotext is not installed (apt-get install poppler-utils)",
	},
	"postgres": {
		find:    func(getenv func(string) string) string { return getenv(EnvPostgresDSN) },
		missing: EnvPostgresDSN + " is not set (run the tests with scripts/with-postgres.sh)",
	},
}

func lookPath(name string) func(func(string) string) string {
	return func(func(string) string) string {
		p, _ := exec.LookPath(name)
		return p
	}
}

func existing(paths ...string) func(func(string) string) string {
	return func(func(string) string) string {
		for _, p := range paths {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
		return ""
	}
}

// Need returns where the named dependency is: the path of a program or a
// directory, or the DSN of the PostgreSQL server. When it is missing, the
// test is skipped with a message saying how to provide it, except under
// CI=true, where the test fails: there every test must run. make test
// installs what it can. The names are sipp, sipp-captures, raw-sockets,
// chromium, pdftotext and postgres.
func Need(t testing.TB, name string) string {
	t.Helper()
	return need(t, name, os.Getenv)
}

// skipper is the part of testing.TB that need uses.
type skipper interface {
	Helper()
	Skipf(format string, args ...any)
	Fatalf(format string, args ...any)
}

func need(t skipper, name string, getenv func(string) string) string {
	t.Helper()
	d, ok := dependencies[name]
	if !ok {
		names := make([]string, 0, len(dependencies))
		for n := range dependencies {
			names = append(names, n)
		}
		slices.Sort(names)
		t.Fatalf("testkit: no dependency %q (there are %s)", name, strings.Join(names, ", "))
		return ""
	}
	if p := d.find(getenv); p != "" {
		return p
	}
	if getenv("CI") == "true" {
		t.Fatalf("%s; under CI=true the test must run", d.missing)
	} else {
		t.Skipf("%s: test skipped", d.missing)
	}
	return ""
}
