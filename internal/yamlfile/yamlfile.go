// Package yamlfile reads the YAML files people edit — the engine's
// configuration, the campaigns, the call scripts — strictly: an unknown
// key, a value of the wrong kind, a decimal where a whole number goes or a
// duration that is not one is an error that names the key path
// (voice.max_duration) and the line, so that whoever edits the file can go
// straight to the mistake. It owns the Duration type those files share.
package yamlfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Duration is a time.Duration written as "30s", "5m" or "2h".
type Duration time.Duration

// UnmarshalYAML parses Go duration syntax.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil || n.Kind != yaml.ScalarNode {
		return errors.New("is not a duration (examples: 30s, 5m, 2h)")
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration (examples: 30s, 5m, 2h)", s)
	}
	*d = Duration(v)
	return nil
}

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Error is one bad value in a file: where it is and what is wrong.
type Error struct {
	// Line is the line of the file, from 1; 0 when unknown.
	Line int
	// Key is the path of the setting, such as voice.max_duration or
	// cup.nodes[ASL1].port; empty for the whole file.
	Key string
	// Msg says what is wrong with the value.
	Msg string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Lines gives the line each setting was written on, by key path; a
// setting not in the file has none.
type Lines map[string]int

// Line is the line key was written on, or 0.
func (l Lines) Line(key string) int { return l[key] }

// Written says whether key is in the file.
func (l Lines) Written(key string) bool {
	_, ok := l[key]
	return ok
}

// Decode parses data strictly into v, a pointer to a struct whose fields
// carry yaml tags. Every bad value is reported, each as an *Error; an empty
// file leaves v as it was.
func Decode(data []byte, v any) error {
	_, err := DecodeLines(data, v)
	return err
}

// DecodeLines is Decode that also tells where each setting was written,
// so that a check made after decoding can name the line too.
func DecodeLines(data []byte, v any) (Lines, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, syntaxError(err)
	}
	lines := Lines{}
	if len(doc.Content) == 0 {
		return lines, nil // an empty file keeps what v holds
	}
	t := reflect.TypeOf(v)
	if t == nil || t.Kind() != reflect.Pointer {
		return nil, errors.New("yamlfile: Decode needs a pointer")
	}
	c := checker{lines: lines}
	c.check(doc.Content[0], t.Elem(), "")
	if len(c.errs) > 0 {
		return lines, errors.Join(c.errs...)
	}
	// The check above has refused everything yaml.v3 would be lenient
	// about; the decoder now only fills v.
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return lines, err
	}
	return lines, nil
}

// At returns an *Error for key, with the line it was written on; for a
// setting that was left out, the line of the nearest section written
// (cup.nodes[ASL1] for a missing cup.nodes[ASL1].server).
func (l Lines) At(key, format string, a ...any) error {
	line := 0
	for k := key; k != "" && line == 0; k = parent(k) {
		line = l[k]
	}
	return &Error{Line: line, Key: key, Msg: fmt.Sprintf(format, a...)}
}

// parent strips the last part of a key path: the section of a key, the
// list or map of an element.
func parent(key string) string {
	if strings.HasSuffix(key, "]") {
		if i := strings.LastIndexByte(key, '['); i >= 0 {
			return key[:i]
		}
	}
	if i := strings.LastIndexByte(key, '.'); i >= 0 {
		return key[:i]
	}
	return ""
}

var linePrefix = regexp.MustCompile(`^(?:yaml: )?line (\d+): `)

// syntaxError turns yaml.v3's "yaml: line 3: mapping values are not
// allowed in this context" into an *Error with its line.
func syntaxError(err error) error {
	msg := err.Error()
	if m := linePrefix.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		return &Error{Line: n, Msg: msg[len(m[0]):]}
	}
	return &Error{Msg: strings.TrimPrefix(msg, "yaml: ")}
}

// digits is a whole number too large for an integer, which YAML reads as
// a float.
var digits = regexp.MustCompile(`^[-+]?[0-9]+$`)

var unmarshaler = reflect.TypeFor[yaml.Unmarshaler]()

// checker walks the document beside the type it is decoded into.
type checker struct {
	lines Lines
	errs  []error
}

func (c *checker) bad(line int, key, format string, a ...any) {
	c.errs = append(c.errs, &Error{Line: line, Key: key, Msg: fmt.Sprintf(format, a...)})
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func (c *checker) check(n *yaml.Node, t reflect.Type, key string) {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if isNull(n) {
		return // left out: what the field already holds stays
	}
	if reflect.PointerTo(t).Implements(unmarshaler) {
		if err := n.Decode(reflect.New(t).Interface()); err != nil {
			// The type's own message may already name the line.
			c.bad(n.Line, key, "%s", linePrefix.ReplaceAllString(err.Error(), ""))
		}
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		c.check(n, t.Elem(), key)
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			c.bad(n.Line, key, "is a section of keys, not %s", describe(n))
			return
		}
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			ft, ok := fields[k.Value]
			if !ok {
				c.bad(k.Line, key, "unknown key %q", k.Value)
				continue
			}
			p := join(key, k.Value)
			c.lines[p] = k.Line
			c.check(v, ft, p)
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			c.bad(n.Line, key, "is a section of keys, not %s", describe(n))
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			// An entry's key is the file's data, not a setting's name:
			// menu.keys["0"], field_limits["Nome"].
			k, v := n.Content[i], n.Content[i+1]
			p := key + "[" + strconv.Quote(k.Value) + "]"
			c.lines[p] = k.Line
			c.check(v, t.Elem(), p)
		}
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml.SequenceNode {
			c.bad(n.Line, key, "is a list, not %s", describe(n))
			return
		}
		for i, e := range n.Content {
			p := key + "[" + label(e, i) + "]"
			c.lines[p] = e.Line
			c.check(e, t.Elem(), p)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		switch {
		case n.Kind != yaml.ScalarNode:
			c.bad(n.Line, key, "is a whole number, not %s", describe(n))
		case n.ShortTag() == "!!float" && digits.MatchString(n.Value):
			c.bad(n.Line, key, "%s is out of range", n.Value)
		case n.ShortTag() == "!!float":
			// yaml.v3 would truncate 2.5 to 2 without a word.
			c.bad(n.Line, key, "%s is not a whole number", n.Value)
		case n.ShortTag() != "!!int":
			c.bad(n.Line, key, "%q is not a whole number", n.Value)
		default:
			if err := n.Decode(reflect.New(t).Interface()); err != nil {
				c.bad(n.Line, key, "%s is out of range", n.Value)
			}
		}
	case reflect.Float32, reflect.Float64:
		if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!int" && n.ShortTag() != "!!float") {
			c.bad(n.Line, key, "%s is not a number", quoted(n))
		}
	case reflect.Bool:
		var b bool
		if n.Kind != yaml.ScalarNode || n.Decode(&b) != nil {
			c.bad(n.Line, key, "%s is not true or false", quoted(n))
		}
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			c.bad(n.Line, key, "is text, not %s", describe(n))
		}
	}
}

// yamlFields maps the keys of a struct to their fields' types, as yaml.v3
// names them: the tag's name, or the field's name in lower case.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if strings.Contains(","+opts+",", ",inline,") {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range yamlFields(ft) {
					out[k] = v
				}
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

func join(key, name string) string {
	if key == "" {
		return name
	}
	return key + "." + name
}

// label names a list element by its name key when it has one (the CUP
// nodes), else by its position from 0.
func label(n *yaml.Node, i int) string {
	if n.Kind == yaml.MappingNode {
		for j := 0; j+1 < len(n.Content); j += 2 {
			if k, v := n.Content[j], n.Content[j+1]; k.Value == "name" && v.Kind == yaml.ScalarNode && v.Value != "" && !isNull(v) {
				return v.Value
			}
		}
	}
	return strconv.Itoa(i)
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a section of keys"
	case yaml.SequenceNode:
		return "a list"
	}
	return quoted(n)
}

func quoted(n *yaml.Node) string {
	if n.Kind != yaml.ScalarNode {
		return describe(n)
	}
	return strconv.Quote(n.Value)
}
