package slareport

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/go-pdf/fpdf"

	"github.com/richiamo/richiamo/internal/survey"
)

// PDF writes the report as an A4 PDF. Figures link to the contacts behind
// them when links gives absolute addresses (the console's public one).
func (r *Report) PDF(w io.Writer, links Links) error {
	link := links.of
	d := &pdfDoc{f: fpdf.New("P", "mm", "A4", ""), r: r}
	f := d.f
	d.tr = f.UnicodeTranslatorFromDescriptor("") // cp1252: à è é ì ò ù and €
	f.SetCreationDate(r.MadeAt)
	f.SetModificationDate(r.MadeAt)
	f.SetCatalogSort(true)
	f.SetTitle("Livelli di servizio outbound – "+r.Title(), true)
	f.SetCreator("Richiamo", true)
	f.SetProducer("Richiamo", true)
	f.SetMargins(15, 15, 15)
	f.SetAutoPageBreak(true, 15)
	f.AliasNbPages("")
	f.SetFooterFunc(func() {
		f.SetY(-11)
		d.font("", 8)
		f.SetTextColor(110, 110, 110)
		d.cell(90, 5, "Livelli di servizio outbound – "+r.Title(), "L", "")
		d.cell(90, 5, "pagina "+strconv.Itoa(f.PageNo())+" di {nb}", "R", "")
		f.SetTextColor(0, 0, 0)
	})
	f.AddPage()
	p := r.Profile
	a := r.Outbound.Acquisition
	e := r.Outbound.Efficiency

	d.font("B", 16)
	f.CellFormat(180, 8, d.tr("Livelli di servizio outbound – "+r.Title()), "", 1, "L", false, 0, "")
	d.font("", 9)
	f.SetTextColor(80, 80, 80)
	f.MultiCell(180, 4.5, d.tr(fmt.Sprintf("Periodo dal %s al %s compreso · profilo contrattuale %s · prodotto il %s",
		r.From.Format("02/01/2006"), r.LastDay().Format("02/01/2006"), p.Name, r.MadeAt.Format("02/01/2006 15:04"))), "", "L", false)
	f.SetTextColor(0, 0, 0)

	d.heading("Sintesi")
	cols := []float64{72, 27, 35, 28, 18}
	d.row(cols, true, "", "Livello", "Valore", "Soglia", "Esito", "Penale")
	d.row(cols, false, "", "Efficacia di acquisizione dati", value(a.NotMeasurable, a.Value), "almeno "+Pct(a.Threshold), verdict(a.NotMeasurable, a.Met), pctNum(a.PenaltyPct))
	d.row(cols, false, "", "Efficienza operativa", packagesText(len(r.Outbound.Packages)), "al più "+Hours(e.ThresholdHours), verdict(e.NotMeasurable, e.Met), pctNum(e.PenaltyPct))
	if c := r.Continuity; c != nil {
		d.row(cols, false, "", "Continuità di funzionamento", value(c.NotMeasurable, c.Value), "almeno "+Pct(c.Threshold), verdict(c.NotMeasurable, c.Met), pctNum(c.PenaltyPct))
	} else {
		d.row(cols, false, "", "Continuità di funzionamento", "–", "almeno "+Pct(p.ContinuityTarget), "non misurata", "–")
	}
	rp := r.Replies
	d.row(cols, false, "", "Tempo di risposta ai contatti scritti", value(rp.NotMeasurable, rp.Value), "almeno "+Pct(rp.Target)+" in "+strings.TrimSuffix(Hours(rp.ThresholdHours), " h")+" h", verdict(rp.NotMeasurable, rp.Met), pctNum(rp.PenaltyPct))
	pen := r.Penalties
	amount := func(pct, eur float64) string {
		if pen.ServiceValueEUR > 0 {
			return pctNum(pct) + " = " + EUR(eur)
		}
		return pctNum(pct)
	}
	capState, capPct := "non raggiunto", pctNum(pen.CapPct)
	switch {
	case pen.CapPct == 0:
		capState, capPct = "non previsto", "–"
	case pen.Capped:
		capState = "applicato"
	}
	d.font("", 9)
	d.cell(134, 6, "Somma delle penali", "L", "")
	d.cell(46, 6, amount(pen.UncappedPct, pen.UncappedEUR), "R", "")
	f.Ln(6)
	d.cell(134, 6, "Limite delle penali (D.Lgs. 36/2023, art. 126): "+capState, "L", "")
	d.cell(46, 6, capPct, "R", "")
	f.Ln(6)
	d.font("B", 9)
	d.cell(134, 6, "Penale applicata", "L", "")
	d.cell(46, 6, amount(pen.TotalPct, pen.TotalEUR), "R", "")
	f.Ln(6)
	d.note("Penali in percentuale del valore del servizio outbound" + map[bool]string{true: " (" + EUR(r.Penalties.ServiceValueEUR) + ")", false: ""}[r.Penalties.ServiceValueEUR > 0] + ", calcolate " + Reading(p.Charge) + ".")
	d.note(CapNote(pen))
	if a.NotMeasurable || e.NotMeasurable || rp.NotMeasurable || (r.Continuity != nil && r.Continuity.NotMeasurable) {
		d.note("Un livello senza dati nel periodo risulta non misurabile: non è dichiarato rispettato e non comporta penali.")
	}

	d.heading("Efficacia di acquisizione dati")
	c2 := []float64{90, 30}
	d.row(c2, false, link(FigCalls), "Chiamate effettuate", strconv.Itoa(a.Calls))
	d.row(c2, false, link(FigContacts), "Contatti lavorati", strconv.Itoa(a.Contacts))
	d.row(c2, false, link(FigPositive), "Contatti chiusi con esito positivo", strconv.Itoa(a.Positive))
	d.row(c2, false, "", "Positivi ÷ chiamate", Pct(a.PerCall))
	d.row(c2, false, "", "Positivi ÷ contatti", Pct(a.PerContact))
	n := "Lettura contrattuale applicata: " + Reading(a.Reading) + "."
	if a.NotMeasurable {
		n += " Nessuna chiamata nel periodo: non misurabile."
	} else if !a.Met {
		n += fmt.Sprintf(" %s punti sotto la soglia, %s addebitati.", numIT(a.PointsBelow), numIT(a.Charged))
	}
	d.note(n)

	d.heading("Efficienza operativa")
	if len(r.Outbound.Packages) == 0 {
		d.note("Nessun pacchetto lavorato nel periodo.")
	} else {
		pc := []float64{34, 16, 16, 28, 28, 22, 18, 18}
		d.row(pc, true, "", "Campagna", "Pacchetto", "Contatti", "Caricato", "Completato", "Ore lav.", "Oltre", "Addeb.")
		for _, pk := range r.Outbound.Packages {
			done := "aperto"
			if pk.CompletedAt != nil {
				done = pk.CompletedAt.Format("02/01 15:04")
			}
			over, charged := "", ""
			if pk.OverHours > 0 {
				over, charged = Hours(pk.OverHours), numIT(pk.ChargedHours)
			}
			d.row(pc, false, link(FigPackage, "campagna", pk.Campaign, "n", strconv.Itoa(pk.Index)), pk.Campaign, strconv.Itoa(pk.Index), strconv.Itoa(pk.Contacts),
				pk.LoadedAt.Format("02/01 15:04"), done, Hours(pk.WorkingHours), over, charged)
		}
	}
	d.note(fmt.Sprintf("Pacchetti di %d contatti nell'ordine di caricamento, misurati dal caricamento all'esito finale dell'ultimo contatto nella fascia di servizio. Lettura applicata: %s.",
		p.PackageSize, Reading(e.Reading)))

	d.heading("Continuità di funzionamento")
	if c := r.Continuity; c != nil {
		d.row(c2, false, "", "Minuti contati (manutenzione esclusa)", strconv.Itoa(c.Minutes))
		d.row(c2, false, "", "di cui in disservizio", strconv.Itoa(c.Down))
		d.row(c2, false, "", "Manutenzione dichiarata (minuti)", strconv.Itoa(c.MaintenanceMinutes))
		for i, o := range c.Outages {
			if i == 12 {
				d.note(fmt.Sprintf("… e altri %d disservizi (elenco completo nella pagina web).", len(c.Outages)-i))
				break
			}
			d.row([]float64{60, 20, 100}, false, "", o.From.Format("02/01 15:04")+" – "+o.To.Format("02/01 15:04"), strconv.Itoa(o.Minutes)+" min", failedNames(o.Failed))
		}
	} else {
		d.note("Non misurata: il motore non ha mai interrogato il proprio user agent SIP.")
	}

	d.heading("Tempo di risposta ai contatti scritti (SMS)")
	d.row(c2, false, link(FigWritten), "SMS ricevuti che richiedevano un operatore", strconv.Itoa(rp.Received))
	d.row(c2, false, link(FigWritten, "esito", "in-tempo"), "Chiusi entro "+Hours(rp.ThresholdHours), strconv.Itoa(rp.Within))
	d.row(c2, false, link(FigWritten, "esito", "in-ritardo"), "Chiusi o aperti oltre "+Hours(rp.ThresholdHours), strconv.Itoa(rp.Late))
	d.row(c2, false, link(FigWritten, "esito", "in-corso"), "Aperti ancora entro il tempo (non contati)", strconv.Itoa(rp.Pending))
	d.note("Tempo contato " + Reading(rp.Clock) + ".")

	f.AddPage()
	d.heading("Chiamate effettuate e con risposta")
	d.legend()
	bars := r.barCharts(link)
	// Charts are drawn with page breaks off, each where it fits whole.
	f.SetAutoPageBreak(false, 15)
	d.bars(bars["day"], "Per giorno", 180, 52)
	d.bars(bars["hour"], "Per ora del giorno", 180, 44)
	d.bars(bars["weekday"], "Per giorno della settimana", 100, 40)
	d.need(120)
	d.heading("Andamento dei livelli rispetto alle soglie")
	lines := r.lineCharts()
	y := f.GetY()
	d.line(lines["acquisition"], 15, y, 88, 46)
	d.line(lines["efficiency"], 107, y, 88, 46)
	d.line(lines["continuity"], 15, y+52, 88, 46)
	d.line(lines["replies"], 107, y+52, 88, 46)
	f.SetY(y + 104)
	f.SetAutoPageBreak(true, 15)
	d.note("La linea tratteggiata rossa è la soglia del profilo " + p.Name + ". Efficacia ed efficienza si ricalcolano dal registro grezzo dei tentativi: " + r.AuditCommands() + ".")
	if len(r.Refills) > 0 {
		d.need(40)
		d.heading("Posti liberati e riassegnati")
		rc := []float64{18, 40, 18, 18, 20, 18, 18, 30}
		d.row(rc, true, "", "Nodo", "Agenda", "Liberati", "Offerti", "Accettati", "Spostati", "Scaduti", "Tempo medio")
		for _, rf := range r.Refills {
			d.row(rc, false, "", rf.Node, rf.Agenda, strconv.Itoa(rf.Freed), strconv.Itoa(rf.Offered), strconv.Itoa(rf.Taken),
				strconv.Itoa(rf.Moved), strconv.Itoa(rf.Expired), RefillTime(rf.MeanRefillMinutes, rf.Moved))
		}
		d.note("Un posto accettato è spostato solo quando il CUP conferma lo spostamento; il tempo va dalla liberazione all'accettazione dei posti spostati.")
	}
	if sv := r.Survey; sv != nil {
		d.surveySection(sv)
	}
	if err := f.Error(); err != nil {
		return fmt.Errorf("slareport: pdf: %w", err)
	}
	return f.Output(w)
}

// surveySection writes the satisfaction survey's figures: the calls, then
// each question's mean and share of insufficient ratings.
func (d *pdfDoc) surveySection(sv *SurveySection) {
	d.need(40)
	d.heading("Misurazione a caldo della soddisfazione")
	name := func(op string) string {
		if op == survey.AllOperators {
			return "Tutti"
		}
		return op
	}
	cc := []float64{28, 19, 19, 19, 19, 19, 19, 19, 19}
	d.row(cc, true, "", "Operatore", "Gestite", "Idonee", "Estratte", "Chiamate", "Complete", "Parziali", "Scadute", "Ricontatti")
	for _, o := range sv.Operators {
		d.row(cc, false, "", name(o.Operator), strconv.Itoa(o.Handled), strconv.Itoa(o.Eligible), strconv.Itoa(o.Sampled), strconv.Itoa(o.Called),
			strconv.Itoa(o.Completed), strconv.Itoa(o.Partial), strconv.Itoa(o.Expired), strconv.Itoa(o.FollowUpsOpened)+" / "+strconv.Itoa(o.FollowUpsClosed))
	}
	d.f.Ln(2)
	qc := []float64{28, 38, 38, 38, 38}
	d.row(qc, true, "", "Operatore", "Servizio", "Cortesia", "Competenza", "Problema risolto")
	for _, o := range sv.Operators {
		d.row(qc, false, "", name(o.Operator), surveyMean(o, "servizio"), surveyMean(o, "cortesia"), surveyMean(o, "competenza"), surveyMean(o, "risolto"))
	}
	d.note(fmt.Sprintf("Campione sistematico di una chiamata idonea ogni %d per ciascun operatore, richiamata da %d a %d minuti dopo la fine della chiamata; "+
		"una chiamata non fatta in tempo è scaduta. Voti da 1 a 5; tra parentesi la quota di voti insufficienti (sotto %d). "+
		"Ricontatti: aperti / chiusi per i voti insufficienti. Le risposte grezze: richiamo survey figures --month AAAA-MM --answers FILE.",
		sv.K, sv.DelayMin, sv.MaxDelayMin, sv.Below))
}

type pdfDoc struct {
	f  *fpdf.Fpdf
	r  *Report
	tr func(string) string
}

// need starts a new page unless h millimetres fit on this one.
func (d *pdfDoc) need(h float64) {
	_, pageH := d.f.GetPageSize()
	if d.f.GetY()+h > pageH-15 {
		d.f.AddPage()
	}
}

func (d *pdfDoc) font(style string, size float64) { d.f.SetFont("Helvetica", style, size) }

func (d *pdfDoc) cell(w, h float64, s, align, link string) {
	d.f.CellFormat(w, h, d.tr(s), "", 0, align, false, 0, link)
}

func (d *pdfDoc) heading(s string) {
	d.f.Ln(3)
	d.font("B", 11.5)
	d.f.CellFormat(180, 7, d.tr(s), "B", 1, "L", false, 0, "")
	d.f.Ln(1)
}

func (d *pdfDoc) note(s string) {
	d.font("", 8)
	d.f.SetTextColor(90, 90, 90)
	d.f.MultiCell(180, 3.8, d.tr(s), "", "L", false)
	d.f.SetTextColor(0, 0, 0)
	d.f.Ln(1)
}

// row writes a table row; the first column is text, the others numbers.
// link makes the row's figures a link.
func (d *pdfDoc) row(widths []float64, head bool, link string, cells ...string) {
	if head {
		d.font("B", 8.5)
		d.f.SetFillColor(235, 239, 244)
	} else {
		d.font("", 8.5)
	}
	for i, c := range cells {
		align := "R"
		if i == 0 {
			align = "L"
		}
		l := ""
		if i > 0 && link != "" {
			l = link
			d.f.SetTextColor(31, 78, 121)
		}
		s := d.tr(c)
		if i == 0 && d.f.GetStringWidth(s) > widths[i]-1 {
			for d.f.GetStringWidth(s+"\x85") > widths[i]-1 && len(s) > 1 {
				s = s[:len(s)-1]
			}
			s += "\x85" // … in cp1252
		}
		d.f.CellFormat(widths[i], 5.5, s, "B", 0, align, head, 0, l)
		d.f.SetTextColor(0, 0, 0)
	}
	d.f.Ln(5.5)
}

func (d *pdfDoc) legend() {
	f := d.f
	d.font("", 8)
	x, y := f.GetX(), f.GetY()
	f.SetFillColor(0x5b, 0x7f, 0xa6)
	f.Rect(x, y+1, 3, 3, "F")
	f.SetXY(x+4, y)
	d.cell(22, 5, "effettuate", "L", "")
	f.SetFillColor(0x3f, 0x9d, 0x5a)
	f.Rect(x+27, y+1, 3, 3, "F")
	f.SetXY(x+31, y)
	d.cell(60, 5, "con risposta", "L", "")
	f.Ln(6)
}

func (d *pdfDoc) bars(c barChart, title string, w, h float64) {
	f := d.f
	d.need(h + 8)
	d.font("B", 8.5)
	f.CellFormat(w, 5, d.tr(title), "", 1, "L", false, 0, "")
	x0, y0 := f.GetX(), f.GetY()+2
	left, bottom := 10.0, 5.0
	pw, ph := w-left, h-bottom
	m := niceMax(float64(c.max()))
	d.font("", 6.5)
	f.SetDrawColor(217, 217, 217)
	f.SetLineWidth(0.15)
	for i := 0; i <= 4; i++ {
		y := y0 + ph - ph*float64(i)/4
		f.Line(x0+left, y, x0+w, y)
		f.SetXY(x0, y-1.5)
		f.CellFormat(left-1, 3, axisNumber(m*float64(i)/4), "", 0, "R", false, 0, "")
	}
	n := float64(max(len(c.Bars), 1))
	slot := pw / n
	bw := slot * 0.38
	every := int(math.Ceil(n / 16))
	for i, b := range c.Bars {
		x := x0 + left + slot*float64(i) + slot*0.1
		hm, ha := ph*float64(b.Made)/m, ph*float64(b.Answered)/m
		f.SetFillColor(0x5b, 0x7f, 0xa6)
		if hm > 0 {
			f.Rect(x, y0+ph-hm, bw, hm, "F")
		}
		f.SetFillColor(0x3f, 0x9d, 0x5a)
		if ha > 0 {
			f.Rect(x+bw, y0+ph-ha, bw, ha, "F")
		}
		if c.Link != nil {
			if l := c.Link(i); l != "" && hm > 0 {
				f.LinkString(x, y0+ph-hm, 2*bw, hm, l)
			}
		}
		if i%every == 0 {
			f.SetXY(x-3, y0+ph+0.5)
			f.CellFormat(2*bw+6, 3.5, d.tr(shortLabel(b.Label)), "", 0, "C", false, 0, "")
		}
	}
	f.SetXY(x0, y0+h+2)
}

func (d *pdfDoc) line(c lineChart, x0, y0, w, h float64) {
	f := d.f
	f.SetXY(x0, y0)
	d.font("B", 8)
	f.CellFormat(w, 4.5, d.tr(c.Title), "", 0, "L", false, 0, "")
	y0 += 5
	h -= 5
	left, bottom := 12.0, 5.0
	pw, ph := w-left, h-bottom
	lo, hi := c.bounds()
	yv := func(v float64) float64 { return y0 + ph - ph*(v-lo)/(hi-lo) }
	n := float64(max(len(c.Labels)-1, 1))
	xv := func(i int) float64 { return x0 + left + pw*float64(i)/n }
	d.font("", 6.5)
	f.SetDrawColor(217, 217, 217)
	f.SetLineWidth(0.15)
	for i := 0; i <= 4; i++ {
		v := lo + (hi-lo)*float64(i)/4
		f.Line(x0+left, yv(v), x0+w, yv(v))
		f.SetXY(x0, yv(v)-1.5)
		f.CellFormat(left-1, 3, c.axis(v), "", 0, "R", false, 0, "")
	}
	f.SetDrawColor(0xc0, 0x39, 0x2b)
	f.SetLineWidth(0.35)
	f.SetDashPattern([]float64{1.5, 1}, 0)
	f.Line(x0+left, yv(c.Threshold), x0+w, yv(c.Threshold))
	f.SetDashPattern([]float64{}, 0)
	f.SetDrawColor(0x1f, 0x4e, 0x79)
	f.SetFillColor(0x1f, 0x4e, 0x79)
	f.SetLineWidth(0.4)
	prev := -1
	for i, v := range c.Values {
		if v == nil {
			continue
		}
		if prev >= 0 {
			f.Line(xv(prev), yv(*c.Values[prev]), xv(i), yv(*v))
		}
		f.Circle(xv(i), yv(*v), 0.6, "F")
		prev = i
	}
	every := int(math.Ceil(float64(len(c.Labels)) / 8))
	for i, l := range c.Labels {
		if i%every == 0 {
			f.SetXY(xv(i)-5, y0+ph+0.5)
			f.CellFormat(10, 3.5, shortLabel(l), "", 0, "C", false, 0, "")
		}
	}
	f.SetDrawColor(0, 0, 0)
	f.SetLineWidth(0.2)
}

func packagesText(n int) string {
	if n == 1 {
		return "1 pacchetto"
	}
	return strconv.Itoa(n) + " pacchetti"
}

func verdict(notMeasurable, met bool) string {
	switch {
	case notMeasurable:
		return "non misurabile"
	case met:
		return "rispettato"
	}
	return "non rispettato"
}

// value is a level's share, or a dash when there was nothing to measure.
func value(notMeasurable bool, v float64) string {
	if notMeasurable {
		return "–"
	}
	return Pct(v)
}

func pctNum(v float64) string { return numIT(v) + "%" }

func numIT(v float64) string {
	return strings.ReplaceAll(strconv.FormatFloat(v, 'f', -1, 64), ".", ",")
}
