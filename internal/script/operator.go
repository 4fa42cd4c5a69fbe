package script

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Operator is the script's optional operator: section, for the contacts
// the IVR could not close and an operator calls by hand: the text the
// operator reads to the patient, and the outcomes the operator may record
// (codes such as confirmed, cancelled, not_reached), in the order offered.
type Operator struct {
	Text     string   `yaml:"text"`
	Outcomes []string `yaml:"outcomes"`
}

// MaxOperatorText bounds the operator's text, in bytes: it is read from a
// page, not a book.
const MaxOperatorText = 8 << 10

var outcomeCode = regexp.MustCompile(`^[a-z][a-z_]{0,39}$`)

// checkOperator refuses an operator section that is empty, too long, or
// whose outcomes are not codes or repeat one.
func (s *Script) checkOperator() error {
	if !s.lines.Written("operator") {
		return nil
	}
	o := s.Operator
	if strings.TrimSpace(o.Text) == "" {
		return s.lines.At("operator.text", "the text the operator reads is needed")
	}
	if len(o.Text) > MaxOperatorText {
		return s.lines.At("operator.text", "%d bytes, at most %d", len(o.Text), MaxOperatorText)
	}
	for i, c := range o.Outcomes {
		key := fmt.Sprintf("operator.outcomes[%d]", i)
		if !outcomeCode.MatchString(c) {
			return s.lines.At(key, "%q is not an outcome code (lower-case letters and _)", c)
		}
		if slices.Index(o.Outcomes, c) != i {
			return s.lines.At(key, "%q is listed twice", c)
		}
	}
	return nil
}

// OperatorSection reads only the operator: section of a script kept with
// its campaign, for the console, which needs neither the recordings nor
// the rest; a script without one gives the zero Operator. The script was
// checked whole when its campaign was loaded.
func OperatorSection(data []byte) (Operator, error) {
	var doc struct {
		Operator Operator `yaml:"operator"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return Operator{}, fmt.Errorf("script: operator section: %w", err)
	}
	return doc.Operator, nil
}
