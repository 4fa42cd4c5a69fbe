package slareport

import (
	"embed"
	"fmt"
	"html/template"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/richiamo/richiamo/internal/sla"
)

// Links gives the address of the list of contacts behind a figure (see
// Figures); nil draws no links.
type Links func(figure string, q url.Values) string

// The figures whose contacts can be listed.
const (
	FigCalls    = "chiamate"  // attempts made in the period
	FigAnswered = "risposte"  // of which answered
	FigPositive = "positivi"  // closed positive in the period
	FigContacts = "contatti"  // contacts worked: their last attempt in the period
	FigPackage  = "pacchetto" // q: campagna, n
	FigHour     = "ora"       // q: h
	FigWeekday  = "giorno-settimana"
	FigDay      = "giorno"  // q: d
	FigWritten  = "scritti" // q: esito = in-tempo | in-ritardo | in-corso | (all)
)

//go:embed report.html report.css
var tmplFS embed.FS

// CSS is the report's style sheet, for pages that embed the fragment.
var CSS = func() string {
	b, err := tmplFS.ReadFile("report.css")
	if err != nil {
		panic(err)
	}
	return string(b)
}()

var page = template.Must(template.New("report.html").Funcs(template.FuncMap{
	"pct":   Pct,
	"smean": surveyMean,
	"hours": Hours,
	"eur":   EUR,
	"num":   func(v float64) string { return strings.ReplaceAll(strconv.FormatFloat(v, 'f', -1, 64), ".", ",") },
	"date":  func(t time.Time) string { return t.Format("02/01/2006") },
	"stamp": func(t time.Time) string { return t.Format("02/01/2006 15:04") },
	"stampp": func(t *time.Time) string {
		if t == nil {
			return "aperto"
		}
		return t.Format("02/01/2006 15:04")
	},
	"esito": func(notMeasurable, met bool) template.HTML {
		switch {
		case notMeasurable:
			return `<span class="nodata">non misurabile</span>`
		case met:
			return `<span class="met">rispettato</span>`
		}
		return `<span class="notmet">non rispettato</span>`
	},
	"reading":  Reading,
	"capnote":  CapNote,
	"packages": packagesText,
	"refill":   RefillTime,
	"css":      func() template.CSS { return template.CSS(CSS) },
	"failed":   failedNames,
	// fig, figq and figp give a figure with the address of its contacts.
	"fig": func(link func(string, ...string) string, figure string, n int) figView {
		return figView{Text: strconv.Itoa(n), URL: link(figure)}
	},
	"figq": func(link func(string, ...string) string, figure, k, v string, n int) figView {
		return figView{Text: strconv.Itoa(n), URL: link(figure, k, v)}
	},
	"figp": func(link func(string, ...string) string, campaign string, index, n int) figView {
		return figView{Text: strconv.Itoa(n), URL: link(FigPackage, "campagna", campaign, "n", strconv.Itoa(index))}
	},
}).ParseFS(tmplFS, "report.html"))

// Pct shows a share as an Italian percentage: "61,54%".
func Pct(v float64) string { return strings.ReplaceAll(fmt.Sprintf("%.2f%%", v*100), ".", ",") }

// Hours shows hours: "3,25 h".
func Hours(v float64) string { return strings.ReplaceAll(fmt.Sprintf("%.2f h", v), ".", ",") }

// EUR shows an amount: "€ 1.234,56".
func EUR(v float64) string {
	s := fmt.Sprintf("%.2f", v)
	whole, frac, _ := strings.Cut(s, ".")
	neg := strings.HasPrefix(whole, "-")
	whole = strings.TrimPrefix(whole, "-")
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(r)
	}
	if neg {
		return "€ -" + b.String() + "," + frac
	}
	return "€ " + b.String() + "," + frac
}

// Reading names a reading of the contract in Italian.
func Reading(r string) string {
	switch r {
	case sla.PerCall:
		return "contatti positivi ÷ chiamate effettuate"
	case sla.PerContact:
		return "contatti positivi ÷ contatti lavorati"
	case sla.PerPackage:
		return "ogni pacchetto da 100 entro la soglia"
	case sla.WholeList:
		return "lista intera: N contatti entro ⌈N/100⌉ × la soglia"
	case sla.ChargeStarted:
		return "per punto o ora iniziati"
	case sla.ChargeExact:
		return "in proporzione esatta"
	case sla.ClockContinuous:
		return "24 ore su 24, esclusi i festivi e il sabato dalle 14 alle 24"
	case sla.ClockWorking:
		return "ore lavorative della fascia di servizio"
	}
	return r
}

// CapNote says in Italian which figure is charged: the sum of the
// penalties or the cap.
func CapNote(p Penalties) string {
	if p.CapPct == 0 {
		return "Report prodotto prima del limite delle penali (D.Lgs. 36/2023, art. 126): si applica la somma delle penali."
	}
	if p.Capped {
		return "Si applica il limite: la somma delle penali (" + numIT(p.UncappedPct) + "%) supera il " + numIT(p.CapPct) +
			"% del valore del servizio, oltre il quale le penali non si applicano (D.Lgs. 36/2023, art. 126)."
	}
	return "Si applica la somma delle penali, entro il limite del " + numIT(p.CapPct) + "% del valore del servizio (D.Lgs. 36/2023, art. 126)."
}

// Title is the report's title: "Ottobre 2026", "Settimana dal 12/10/2026
// al 18/10/2026".
func (r *Report) Title() string {
	last := r.LastDay()
	switch r.Kind {
	case Monthly:
		return monthNames[r.From.Month()-1] + " " + strconv.Itoa(r.From.Year())
	case Weekly:
		return "Settimana dal " + r.From.Format("02/01/2006") + " al " + last.Format("02/01/2006")
	}
	return "Dal " + r.From.Format("02/01/2006") + " al " + last.Format("02/01/2006")
}

// LastDay is the period's last day.
func (r *Report) LastDay() time.Time { return r.To.Add(-time.Nanosecond) }

// AuditCommands are the commands that recompute the outbound figures of
// the period from the raw attempt log.
func (r *Report) AuditCommands() string {
	from, to := r.From.Format(time.DateOnly), r.LastDay().Format(time.DateOnly)
	return "richiamo export attempts --from " + from + " --to " + to + " -o tentativi.csv; richiamo sla --attempts tentativi.csv --from " +
		from + " --to " + to + " --profile " + r.Profile.Name
}

var monthNames = []string{"Gennaio", "Febbraio", "Marzo", "Aprile", "Maggio", "Giugno", "Luglio", "Agosto", "Settembre", "Ottobre", "Novembre", "Dicembre"}

// of is the address of a figure's contacts, its query given as key and
// value pairs; "" without links.
func (links Links) of(figure string, kv ...string) string {
	if links == nil {
		return ""
	}
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	return links(figure, q)
}

type figView struct{ Text, URL string }

func failedNames(fs []string) string {
	names := map[string]string{"ua": "user agent del motore", "trunk": "trunk SIP", sla.NoProbe: "motore non attivo"}
	out := make([]string, len(fs))
	for i, f := range fs {
		if n, ok := names[f]; ok {
			out[i] = n
		} else {
			out[i] = f
		}
	}
	return strings.Join(out, ", ")
}

type htmlView struct {
	R      *Report
	Link   func(figure string, kv ...string) string
	Charts map[string]template.HTML
	Late   int
}

// HTML writes the report as an HTML fragment (no <html> or <body>): the
// console puts it in its layout, Document in a page of its own.
func (r *Report) HTML(w io.Writer, links Links) error {
	link := links.of
	v := htmlView{R: r, Link: link, Charts: map[string]template.HTML{}}
	for name, c := range r.barCharts(link) {
		v.Charts[name] = template.HTML(c.svg(700, 180))
	}
	for name, c := range r.lineCharts() {
		v.Charts[name] = template.HTML(c.svg(340, 150))
	}
	return page.ExecuteTemplate(w, "report", v)
}

// Document writes the report as a standalone printable page.
func (r *Report) Document(w io.Writer, links Links) error {
	if err := page.ExecuteTemplate(w, "head", r); err != nil {
		return err
	}
	if err := r.HTML(w, links); err != nil {
		return err
	}
	_, err := io.WriteString(w, "</body>\n</html>\n")
	return err
}

func (r *Report) barCharts(link func(string, ...string) string) map[string]barChart {
	return map[string]barChart{
		"hour": {Title: "Chiamate per ora del giorno", Bars: r.Calls.ByHour, Link: func(i int) string {
			return link(FigHour, "h", strconv.Itoa(i))
		}},
		"weekday": {Title: "Chiamate per giorno della settimana", Bars: r.Calls.ByWeekday, Link: func(i int) string {
			return link(FigWeekday, "g", strconv.Itoa(i))
		}},
		"day": {Title: "Chiamate per giorno", Bars: r.Calls.ByDay, Link: func(i int) string {
			return link(FigDay, "d", r.Calls.ByDay[i].Label)
		}},
	}
}

func (r *Report) lineCharts() map[string]lineChart {
	labels := make([]string, len(r.Trend))
	acq := make([]*float64, len(r.Trend))
	eff := make([]*float64, len(r.Trend))
	cont := make([]*float64, len(r.Trend))
	rep := make([]*float64, len(r.Trend))
	for i, d := range r.Trend {
		labels[i], acq[i], eff[i], cont[i], rep[i] = d.Date, d.Acquisition, d.Efficiency, d.Continuity, d.Replies
	}
	p := r.Profile
	return map[string]lineChart{
		"acquisition": {Title: "Efficacia di acquisizione dati", Labels: labels, Values: acq, Threshold: p.AcquisitionThreshold, Percent: true, HigherIsBetter: true},
		"efficiency":  {Title: "Efficienza operativa (ore del pacchetto più lento)", Labels: labels, Values: eff, Threshold: p.ThresholdHours},
		"continuity":  {Title: "Continuità di funzionamento", Labels: labels, Values: cont, Threshold: p.ContinuityTarget, Percent: true, HigherIsBetter: true},
		"replies":     {Title: "Contatti scritti chiusi in tempo", Labels: labels, Values: rep, Threshold: p.ReplyTarget, Percent: true, HigherIsBetter: true},
	}
}
