package yamlfile

import (
	"errors"
	"strings"
	"testing"
	"time"
)

type trunk struct {
	Transport string   `yaml:"transport"`
	Expires   Duration `yaml:"register_expires"`
	Password  string   `yaml:"-"`
}

type node struct {
	Name    string   `yaml:"name"`
	Port    int      `yaml:"port"`
	Timeout Duration `yaml:"query_timeout"`
}

type file struct {
	Voice struct {
		Channels       int      `yaml:"channels"`
		CallsPerSecond float64  `yaml:"calls_per_second"`
		MaxDuration    Duration `yaml:"max_duration"`
		Trunk          trunk    `yaml:"trunk"`
	} `yaml:"voice"`
	CUP struct {
		Nodes []node `yaml:"nodes"`
	} `yaml:"cup"`
	Web struct {
		TrustedProxies []string `yaml:"trusted_proxies"`
	} `yaml:"web"`
	Limits   map[string]int `yaml:"field_limits"`
	Weekly   bool           `yaml:"weekly"`
	Optional *bool          `yaml:"transliterate"`
}

func TestBadValuesNameTheKeyAndTheLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, yaml string
		line       int
		key, msg   string
	}{
		{"duration that is a word", "voice:\n  channels: 10\n  max_duration: forever\n", 3, "voice.max_duration", `"forever" is not a duration`},
		{"duration without a unit", "voice:\n  max_duration: 30\n", 2, "voice.max_duration", `"30" is not a duration`},
		{"nested duration", "voice:\n  trunk:\n    transport: udp\n    register_expires: soon\n", 4, "voice.trunk.register_expires", `"soon" is not a duration`},
		{"decimal number of channels", "voice:\n  channels: 2.5\n", 2, "voice.channels", "2.5 is not a whole number"},
		{"whole number written with a decimal point", "voice:\n  channels: 60.0\n", 2, "voice.channels", "60.0 is not a whole number"},
		{"word where a whole number goes", "voice:\n  channels: many\n", 2, "voice.channels", `"many" is not a whole number`},
		{"word where a rate goes", "voice:\n  calls_per_second: fast\n", 2, "voice.calls_per_second", `"fast" is not a number`},
		{"whole number too large", "voice:\n  channels: 99999999999999999999\n", 2, "voice.channels", "out of range"},
		{"list where a number goes", "voice:\n  channels: [1, 2]\n", 2, "voice.channels", "is a whole number, not a list"},
		{"unknown key", "voice:\n  chanels: 5\n", 2, "voice", `unknown key "chanels"`},
		{"unknown top-level key", "vioce:\n  channels: 5\n", 1, "", `unknown key "vioce"`},
		{"key that never comes from the file", "voice:\n  trunk:\n    password: s3cret\n", 3, "voice.trunk", `unknown key "password"`},
		{"CUP node port as a decimal, named by the node", "cup:\n  nodes:\n    - name: ASL1\n      port: 1433.5\n", 4, "cup.nodes[ASL1].port", "1433.5 is not a whole number"},
		{"CUP node without a name, by position", "cup:\n  nodes:\n    - port: 1433\n    - port: x\n", 4, "cup.nodes[1].port", `"x" is not a whole number`},
		{"section where text goes", "web:\n  trusted_proxies: [{a: b}]\n", 2, "web.trusted_proxies[0]", "is text, not a section of keys"},
		{"text where a list goes", "web:\n  trusted_proxies: 10.0.0.0/8\n", 2, "web.trusted_proxies", "is a list"},
		{"map value that is a decimal", "field_limits:\n  Nome: 2.5\n", 2, `field_limits["Nome"]`, "2.5 is not a whole number"},
		{"flag that is a word", "weekly: sometimes\n", 1, "weekly", `"sometimes" is not true or false`},
		{"optional flag that is a number", "transliterate: 2\n", 1, "transliterate", `"2" is not true or false`},
		{"text where a section goes", "voice: loud\n", 1, "voice", "is a section of keys"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var f file
			err := Decode([]byte(tc.yaml), &f)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not an *Error", err)
			}
			if e.Line != tc.line || e.Key != tc.key || !strings.Contains(e.Msg, tc.msg) {
				t.Fatalf("got line %d key %q %q, want line %d key %q %q", e.Line, e.Key, e.Msg, tc.line, tc.key, tc.msg)
			}
		})
	}
}

func TestEveryBadValueIsReported(t *testing.T) {
	t.Parallel()
	var f file
	err := Decode([]byte("voice:\n  channels: 2.5\n  max_duration: forever\n  trunk:\n    expires: 1m\n"), &f)
	for _, want := range []string{"line 2: voice.channels", "line 3: voice.max_duration", `line 5: voice.trunk: unknown key "expires"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not say %q", err, want)
		}
	}
}

func TestGoodFileIsDecodedAndItsLinesKept(t *testing.T) {
	t.Parallel()
	f := file{}
	f.Voice.Channels = 60 // what a key left out keeps
	lines, err := DecodeLines([]byte(`# comment
voice:
  calls_per_second: 5
  max_duration: 10m
  trunk:
    transport: tcp
cup:
  nodes:
    - name: AO
      port: 1433
weekly: yes
transliterate: false
field_limits: {Nome: 20}
`), &f)
	if err != nil {
		t.Fatal(err)
	}
	if f.Voice.Channels != 60 || f.Voice.CallsPerSecond != 5 || f.Voice.MaxDuration.D() != 10*time.Minute || f.Voice.Trunk.Transport != "tcp" ||
		len(f.CUP.Nodes) != 1 || f.CUP.Nodes[0].Port != 1433 || !f.Weekly || f.Optional == nil || *f.Optional || f.Limits["Nome"] != 20 {
		t.Fatalf("decoded %+v", f)
	}
	for key, line := range map[string]int{"voice.calls_per_second": 3, "voice.trunk.transport": 6, "cup.nodes[AO].port": 10, `field_limits["Nome"]`: 13} {
		if lines.Line(key) != line {
			t.Errorf("%s: line %d, want %d", key, lines.Line(key), line)
		}
	}
	if lines.Written("voice.channels") {
		t.Error("voice.channels is not in the file")
	}
	if e := lines.At("voice.trunk.transport", "%q is not udp", "tcp"); e.Error() != `line 6: voice.trunk.transport: "tcp" is not udp` {
		t.Errorf("At: %v", e)
	}
	if e := lines.At("cup.nodes[AO].server", "required"); e.Error() != "line 9: cup.nodes[AO].server: required" {
		t.Errorf("a setting left out is placed at its section: %v", e)
	}
	if e := lines.At("store.sqlite", "required"); e.Error() != "store.sqlite: required" {
		t.Errorf("a section left out has no line: %v", e)
	}
}

func TestEmptyFileKeepsWhatItHad(t *testing.T) {
	t.Parallel()
	for _, data := range []string{"", "# only a comment\n", "voice:\n"} {
		var f file
		f.Voice.Channels = 60
		if err := Decode([]byte(data), &f); err != nil || f.Voice.Channels != 60 {
			t.Errorf("%q: %v, channels %d", data, err, f.Voice.Channels)
		}
	}
}

func TestBrokenYAMLNamesTheLine(t *testing.T) {
	t.Parallel()
	var f file
	err := Decode([]byte("voice:\n  channels: 5\n bad: [\n"), &f)
	var e *Error
	if !errors.As(err, &e) || e.Line == 0 {
		t.Fatalf("error %v has no line", err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add("voice:\n  channels: 2.5\n")
	f.Add("cup:\n  nodes:\n    - name: A\n      port: 1\n")
	f.Fuzz(func(t *testing.T, data string) {
		var v file
		_ = Decode([]byte(data), &v)
	})
}
