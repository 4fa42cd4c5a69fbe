// Package recall owns the recall of monitored agendas: which agendas are
// recalled when (campaigns/recall-agende.yaml), the run that builds a day's
// recall campaign from the CUP's bookings (one contact per number, with all
// of its bookings in the window), the outcome of each booking once the
// calls are done, and what follows from it: a cancellation carried out in
// the CUP through the node's write-back or handed to the back office, the
// freed slot announced to whoever offers it, the do-not-call list, and a
// work item for every contact the IVR could not close.
package recall

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/robfig/cron/v3"

	"github.com/richiamo/richiamo/campaigns"
	"github.com/richiamo/richiamo/internal/job"
	"github.com/richiamo/richiamo/internal/voice/say"
	"github.com/richiamo/richiamo/internal/yamlfile"
)

// italian is the prompt library scripts and facilities are checked and
// said with: the embedded segments and the configured recordings.
func italian() *say.Library { return say.Italian() }

// File is a list of monitored agendas as written.
type File struct {
	Agende []Agenda `yaml:"agende"`
}

// Window is which appointments a run confirms: from FromDays to ToDays
// days after the run's day (FromDays included, ToDays excluded).
type Window struct {
	FromDays int `yaml:"from_days"`
	ToDays   int `yaml:"to_days"`
}

// Agenda is one monitored agenda.
type Agenda struct {
	Name string `yaml:"name"`
	Node string `yaml:"node"`
	// Codes are the CUP's agenda codes the recall covers.
	Codes []string `yaml:"codes"`
	// Calendar is a cron expression in Europe/Rome: the days (and time)
	// the recall runs.
	Calendar string `yaml:"calendar"`
	Window   Window `yaml:"window"`
	// Script is the call script's file, relative to the agendas' file;
	// empty for the shipped one.
	Script          string `yaml:"script"`
	OfferFreedSlots bool   `yaml:"offer_freed_slots"`
	// Facilities maps a facility as the CUP writes it (struttura) to the
	// recorded segment that names it ("presso l'Ospedale di …"), said
	// where the script has {facility: true}; a facility not listed is not
	// said.
	Facilities map[string]string `yaml:"facilities"`

	sched      cron.Schedule
	scriptText []byte
	scriptName string
}

// Schedule is the agenda's calendar, parsed.
func (a Agenda) Schedule() cron.Schedule { return a.sched }

// CallScript is the agenda's call script.
func (a Agenda) CallScript() job.Script { return job.Script{Name: a.scriptName, Text: a.scriptText} }

// Covers says whether code is one of the agenda's codes.
func (a Agenda) Covers(code string) bool { return slices.Contains(a.Codes, code) }

// ShippedName names the shipped agendas' file in errors.
const ShippedName = "campaigns/recall-agende.yaml"

// Load reads the agendas' file at path, or the shipped one when path is
// empty. Every error names the file, the key and its line.
func Load(path string) ([]Agenda, error) {
	if path == "" {
		return Parse(campaigns.RecallAgendas, ShippedName, "")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("recall: %w", err)
	}
	return Parse(data, path, filepath.Dir(path))
}

// Parse reads and checks an agendas' file; name names it in errors and dir
// is where its scripts are ("" for the shipped ones only).
func Parse(data []byte, name, dir string) ([]Agenda, error) {
	var f File
	lines, err := yamlfile.DecodeLines(data, &f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	bad := func(key, format string, a ...any) error {
		return fmt.Errorf("%s: %w", name, lines.At(key, format, a...))
	}
	if len(f.Agende) == 0 {
		return nil, bad("agende", "at least one agenda is needed")
	}
	seen := map[string]bool{}
	for i := range f.Agende {
		a := &f.Agende[i]
		key := fmt.Sprintf("agende[%d]", i)
		if a.Name != "" {
			key = fmt.Sprintf("agende[%s]", a.Name)
		}
		switch {
		case strings.TrimSpace(a.Name) == "":
			return nil, bad(key+".name", "required")
		case strings.ContainsAny(a.Name, " \t/\\"):
			return nil, bad(key+".name", "%q has spaces or slashes", a.Name)
		case seen[a.Name]:
			return nil, bad(key+".name", "%q appears twice", a.Name)
		case strings.TrimSpace(a.Node) == "":
			return nil, bad(key+".node", "required: the CUP node of the agenda")
		case len(a.Codes) == 0:
			return nil, bad(key+".codes", "at least one agenda code is needed")
		case a.Window.FromDays < 0:
			return nil, bad(key+".window.from_days", "%d must not be negative", a.Window.FromDays)
		case a.Window.ToDays <= a.Window.FromDays:
			return nil, bad(key+".window.to_days", "%d must be after from_days %d", a.Window.ToDays, a.Window.FromDays)
		case a.Window.ToDays > 366:
			return nil, bad(key+".window.to_days", "%d is more than a year", a.Window.ToDays)
		case a.Calendar == "":
			return nil, bad(key+".calendar", "required (cron expression, e.g. \"0 9 * * 1\")")
		}
		seen[a.Name] = true
		for j, c := range a.Codes {
			if strings.TrimSpace(c) == "" || strings.Contains(c, ",") {
				return nil, bad(fmt.Sprintf("%s.codes[%d]", key, j), "%q is not an agenda code", c)
			}
		}
		s, err := cron.ParseStandard("CRON_TZ=Europe/Rome " + a.Calendar)
		if err != nil {
			return nil, bad(key+".calendar", "%q: %v", a.Calendar, err)
		}
		a.sched = s
		if a.Script == "" {
			a.scriptName, a.scriptText = "campaigns/recall-agende-chiamata.yaml", campaigns.RecallAgendasCall
		} else {
			p := a.Script
			if !filepath.IsAbs(p) {
				if dir == "" {
					return nil, bad(key+".script", "the shipped agendas use the shipped script")
				}
				p = filepath.Join(dir, p)
			}
			text, err := os.ReadFile(p)
			if err != nil {
				return nil, bad(key+".script", "%v", err)
			}
			a.scriptName, a.scriptText = p, text
		}
		for _, f := range slices.Sorted(maps.Keys(a.Facilities)) {
			if _, err := italian().Segment(a.Facilities[f]); err != nil {
				return nil, bad(fmt.Sprintf("%s.facilities[%q]", key, f), "%v", err)
			}
		}
		if err := job.Check(string(job.Recall), a.scriptName, a.scriptText); err != nil {
			return nil, bad(key+".script", "%v", err)
		}
	}
	return f.Agende, nil
}

// Find is the agenda called name.
func Find(as []Agenda, name string) (Agenda, error) {
	for _, a := range as {
		if a.Name == name {
			return a, nil
		}
	}
	names := make([]string, len(as))
	for i, a := range as {
		names[i] = a.Name
	}
	return Agenda{}, fmt.Errorf("recall: no monitored agenda %q (there are: %s)", name, strings.Join(names, ", "))
}
