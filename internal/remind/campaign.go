// Package remind owns the daily SMS reminder job: planning one reminder per
// booking and offset from the CUP extracts, grouping a patient's bookings of
// a day into one message, sending through the outbox with pacing, retries and
// reconciliation, and understanding patients' replies.
package remind

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"text/template"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/sms"
	"github.com/richiamo/richiamo/internal/yamlfile"
)

// Campaign is the reminder campaign file (campaigns/reminder.yaml).
type Campaign struct {
	Name string `yaml:"name"`
	// Schedule is a cron expression in Europe/Rome.
	Schedule string `yaml:"schedule"`
	// DaysBefore lists the reminders of a booking, in days before it.
	DaysBefore []int `yaml:"days_before"`
	// SendHours bounds when messages may go out (Europe/Rome).
	SendHours struct {
		From string `yaml:"from"`
		To   string `yaml:"to"`
	} `yaml:"send_hours"`
	// MinNotice: no reminder goes out later than this before the appointment.
	MinNotice yamlfile.Duration `yaml:"min_notice"`
	// Sender is an alphanumeric sender or number; "" uses the SMS settings.
	Sender string `yaml:"sender"`
	// MaxSegments refuses templates that could produce longer messages.
	MaxSegments int `yaml:"max_segments"`
	// MaxPerMessage is how many of a patient's bookings of a day one message
	// lists; more are split across messages.
	MaxPerMessage int `yaml:"max_per_message"`
	// Transliterate replaces characters outside GSM-7 that have a faithful
	// GSM-7 form, so that a stray "È" does not triple the cost of a message.
	Transliterate *bool `yaml:"transliterate"`
	// FieldLimits caps booking fields (in characters) before rendering.
	FieldLimits map[string]int `yaml:"field_limits"`
	// ShortNames gives a facility's name as the extract writes it the
	// shorter name a message may use (StrutturaBreve), so that a message
	// listing several bookings stays readable without cutting names.
	ShortNames map[string]string `yaml:"short_names"`
	Template   string            `yaml:"template"`

	tmpl     *template.Template
	shows    map[string]bool // template fields the text refers to
	sched    cron.Schedule
	from, to time.Duration  // offsets from midnight
	lines    yamlfile.Lines // where each key was written, for the messages
}

// Field names a template sees for each appointment, with their default caps.
var defaultLimits = map[string]int{
	"Codice": 30, "Prestazione": 60, "Struttura": 60, "Indirizzo": 60,
	"Agenda": 60, "Nome": 30, "Cognome": 30, "Nodo": 12,
}

// LoadCampaign reads and checks a reminder campaign file.
func LoadCampaign(path string) (*Campaign, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("campaign: %w", err)
	}
	c, err := ParseCampaign(data)
	if err != nil {
		return nil, fmt.Errorf("campaign %s: %w", path, err)
	}
	return c, nil
}

// ParseCampaign parses and validates a campaign; a template that can exceed
// the segment limit is refused with the reason.
func ParseCampaign(data []byte) (*Campaign, error) {
	c := &Campaign{}
	lines, err := yamlfile.DecodeLines(data, c)
	if err != nil {
		return nil, err
	}
	c.lines = lines
	if err := c.init(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Campaign) init() error {
	var errs []error
	bad := func(key, f string, a ...any) { errs = append(errs, c.lines.At(key, f, a...)) }
	if c.Name == "" {
		c.Name = "promemoria"
	}
	if c.Schedule == "" {
		bad("schedule", "required (cron expression, e.g. \"0 10 * * 1-6\")")
	} else {
		s, err := cron.ParseStandard("CRON_TZ=Europe/Rome " + c.Schedule)
		if err != nil {
			bad("schedule", "%q: %v", c.Schedule, err)
		}
		c.sched = s
	}
	if len(c.DaysBefore) == 0 {
		c.DaysBefore = []int{1}
	}
	seen := map[int]bool{}
	for i, d := range c.DaysBefore {
		if d < 0 || d > 30 {
			bad(fmt.Sprintf("days_before[%d]", i), "%d is not between 0 and 30", d)
		}
		if seen[d] {
			bad(fmt.Sprintf("days_before[%d]", i), "%d appears twice", d)
		}
		seen[d] = true
	}
	if c.SendHours.From == "" {
		c.SendHours.From = "09:00"
	}
	if c.SendHours.To == "" {
		c.SendHours.To = "20:00"
	}
	var err error
	if c.from, err = clock(c.SendHours.From); err != nil {
		bad("send_hours.from", "%v", err)
	}
	if c.to, err = clock(c.SendHours.To); err != nil {
		bad("send_hours.to", "%v", err)
	}
	if c.from >= c.to && err == nil {
		bad("send_hours", "from %s is not before to %s", c.SendHours.From, c.SendHours.To)
	}
	if c.MinNotice == 0 {
		c.MinNotice = yamlfile.Duration(2 * time.Hour)
	}
	if c.MinNotice < 0 {
		bad("min_notice", "must not be negative")
	}
	if c.MaxSegments == 0 {
		c.MaxSegments = 3
	}
	if c.MaxSegments < 1 || c.MaxSegments > 10 {
		bad("max_segments", "%d is not between 1 and 10", c.MaxSegments)
	}
	if c.MaxPerMessage == 0 {
		c.MaxPerMessage = 3
	}
	if c.MaxPerMessage < 1 || c.MaxPerMessage > 10 {
		bad("max_per_message", "%d is not between 1 and 10", c.MaxPerMessage)
	}
	if c.Transliterate == nil {
		t := true
		c.Transliterate = &t
	}
	limits := map[string]int{}
	for k, v := range defaultLimits {
		limits[k] = v
	}
	for k, v := range c.FieldLimits {
		if _, ok := defaultLimits[k]; !ok {
			bad(fmt.Sprintf("field_limits[%q]", k), "unknown field (known: Codice, Prestazione, Struttura, Indirizzo, Agenda, Nome, Cognome, Nodo)")
			continue
		}
		if v < 4 || v > 200 {
			bad(fmt.Sprintf("field_limits[%q]", k), "%d is not between 4 and 200", v)
		}
		limits[k] = v
	}
	c.FieldLimits = limits
	for full, short := range c.ShortNames {
		if n := len([]rune(short)); short == "" || n > limits["Struttura"] {
			bad(fmt.Sprintf("short_names[%q]", full), "%q must have 1 to %d characters (field_limits.Struttura)", short, limits["Struttura"])
		}
	}
	if strings.TrimSpace(c.Template) == "" {
		bad("template", "required")
	} else {
		t, err := template.New(c.Name).Option("missingkey=error").Funcs(funcs).Parse(c.Template)
		if err != nil {
			bad("template", "%v", err)
		} else {
			c.tmpl = t
			c.shows = map[string]bool{}
			for f := range defaultLimits {
				c.shows[f] = regexp.MustCompile(`\.` + f + `\b`).MatchString(c.Template)
			}
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return c.checkWorstCase()
}

func clock(s string) (time.Duration, error) {
	if s == "24:00" { // "until midnight"
		return 24 * time.Hour, nil
	}
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, fmt.Errorf("%q is not HH:MM", s)
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

var funcs = template.FuncMap{
	// tronca shortens a field for a template that needs it shorter than its
	// cap; the load-time check accounts for it.
	"tronca": func(n int, s string) string { return truncate(s, n) },
}

// truncate shortens s to at most n characters, never in the middle of a
// word: what is left is whole words and "...". A single word longer than
// n (a code) is cut where it must be.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	if n <= 3 {
		return string(r[:n])
	}
	keep := r[:n-3]
	if r[n-3] != ' ' {
		if i := lastSpace(keep); i > 0 {
			keep = keep[:i]
		}
	}
	return strings.TrimRight(string(keep), " ,.;:-–") + "..."
}

func lastSpace(r []rune) int {
	for i := len(r) - 1; i >= 0; i-- {
		if r[i] == ' ' {
			return i
		}
	}
	return -1
}

// Appuntamento is what a template sees of one booking (Italian names,
// because the people who edit templates are Italian operators).
type Appuntamento struct {
	Quando, Giorno, Ora, Data                 string
	Codice, CodiceBreve                       string
	Prestazione, Struttura, Indirizzo, Agenda string
	// StrutturaBreve is the facility's short name (short_names), or its
	// name when none is given.
	StrutturaBreve      string
	Nome, Cognome, Nodo string
}

// Dati is the whole template input.
type Dati struct {
	Giorno       string // the day, "martedì 1 dicembre"
	Appuntamenti []Appuntamento
	// Struttura and Indirizzo are the facility and address every booking
	// of the message shares, so that a text can say them once; both are
	// empty when the bookings are at different facilities.
	Struttura, Indirizzo string
}

func (c *Campaign) appuntamento(b cup.Booking) Appuntamento {
	l := c.FieldLimits
	code := truncate(b.Code, l["Codice"])
	short := code
	if r := []rune(b.Code); len(r) > 6 {
		short = string(r[len(r)-6:])
	}
	breve := truncate(b.Facility, l["Struttura"])
	if n, ok := c.ShortNames[strings.TrimSpace(b.Facility)]; ok {
		breve = n
	}
	return Appuntamento{
		Quando: Quando(b.At), Giorno: Giorno(b.At), Ora: Ora(b.At), Data: b.At.In(cup.Rome).Format("02/01/2006"),
		Codice: code, CodiceBreve: short, StrutturaBreve: breve,
		Prestazione: truncate(b.Service, l["Prestazione"]), Struttura: truncate(b.Facility, l["Struttura"]),
		Indirizzo: truncate(b.Address, l["Indirizzo"]), Agenda: truncate(b.Agenda, l["Agenda"]),
		Nome: truncate(b.Name, l["Nome"]), Cognome: truncate(b.Surname, l["Cognome"]), Nodo: truncate(b.Node, l["Nodo"]),
	}
}

// Rendered is a message text with its cost.
type Rendered struct {
	Body string
	Info sms.Info
}

// Render writes the message for one patient's bookings of one day.
func (c *Campaign) Render(bs []cup.Booking) (Rendered, error) {
	if len(bs) == 0 {
		return Rendered{}, errors.New("campaign: nothing to render")
	}
	d := Dati{Giorno: Giorno(bs[0].At)}
	same := true
	for _, b := range bs {
		a := c.appuntamento(b)
		d.Appuntamenti = append(d.Appuntamenti, a)
		first := d.Appuntamenti[0]
		same = same && a.Struttura == first.Struttura && a.Indirizzo == first.Indirizzo
	}
	if same {
		d.Struttura, d.Indirizzo = d.Appuntamenti[0].Struttura, d.Appuntamenti[0].Indirizzo
	}
	return c.render(d)
}

func (c *Campaign) render(d Dati) (Rendered, error) {
	var sb strings.Builder
	if err := c.tmpl.Execute(&sb, d); err != nil {
		return Rendered{}, fmt.Errorf("campaign %s: template: %w", c.Name, err)
	}
	body := strings.TrimSpace(sb.String())
	if *c.Transliterate {
		body = sms.Transliterate(body)
	}
	return Rendered{Body: body, Info: sms.Analyze(body)}, nil
}

// checkWorstCase renders the template with every field at its cap, for one
// to MaxPerMessage bookings, on the longest Italian day name, and refuses it
// if any can exceed MaxSegments.
func (c *Campaign) checkWorstCase() error {
	long := time.Date(2026, time.September, 30, 10, 30, 0, 0, cup.Rome) // "mercoledì 30 settembre"
	fill := func(n int) string { return strings.Repeat("W", n) }
	l := c.FieldLimits
	a := Appuntamento{
		Quando: Quando(long), Giorno: Giorno(long), Ora: Ora(long), Data: "30/09/2026",
		Codice: fill(l["Codice"]), CodiceBreve: fill(6),
		Prestazione: fill(l["Prestazione"]), Struttura: fill(l["Struttura"]), Indirizzo: fill(l["Indirizzo"]),
		StrutturaBreve: fill(l["Struttura"]),
		Agenda:         fill(l["Agenda"]), Nome: fill(l["Nome"]), Cognome: fill(l["Cognome"]), Nodo: fill(l["Nodo"]),
	}
	// Bookings at one facility, and at different ones.
	for n := 1; n <= c.MaxPerMessage; n++ {
		for _, shared := range []bool{true, false} {
			d := Dati{Giorno: Giorno(long)}
			if shared {
				d.Struttura, d.Indirizzo = a.Struttura, a.Indirizzo
			}
			for range n {
				d.Appuntamenti = append(d.Appuntamenti, a)
			}
			r, err := c.render(d)
			if err != nil {
				return fmt.Errorf("template: %w", err)
			}
			if r.Info.Segments > c.MaxSegments {
				return fmt.Errorf("template: with %d booking(s) and every field at its limit the message is %d characters, %d segments (%s), more than max_segments %d; shorten the text, lower field_limits or use tronca, or lower max_per_message",
					n, r.Info.Chars, r.Info.Segments, r.Info.Encoding, c.MaxSegments)
			}
		}
	}
	return nil
}

// Shows says whether the template can show a field of Appuntamento, so
// that planning need not keep the ones it never shows.
func (c *Campaign) Shows(field string) bool { return c.shows[field] }

// CronSchedule is the parsed schedule, in Europe/Rome.
func (c *Campaign) CronSchedule() cron.Schedule { return c.sched }

// Next returns the next scheduled run after t.
func (c *Campaign) Next(t time.Time) time.Time { return c.sched.Next(t) }

// SendWindow returns when a message planned at now may go out: now inside
// the sending hours, else the next opening.
func (c *Campaign) SendWindow(now time.Time) time.Time {
	local := now.In(cup.Rome)
	midnight := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, cup.Rome)
	open := midnight.Add(c.from)
	close := midnight.Add(c.to)
	switch {
	case local.Before(open):
		return open
	case local.Before(close):
		return now
	default:
		next := time.Date(local.Year(), local.Month(), local.Day()+1, 0, 0, 0, 0, cup.Rome)
		return next.Add(c.from)
	}
}

// InSendHours says whether t is inside the sending hours.
func (c *Campaign) InSendHours(t time.Time) bool { return c.SendWindow(t).Equal(t) }
