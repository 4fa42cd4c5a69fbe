package web

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/phone"
	"github.com/richiamo/richiamo/internal/sla"
	"github.com/richiamo/richiamo/internal/slareport"
	"github.com/richiamo/richiamo/internal/store"
)

var errNotFound = store.ErrNotFound

func badRequest(msg string) error {
	return &httpError{status: http.StatusBadRequest, msg: "Richiesta non valida: " + msg}
}

func serveReportCSS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	_, _ = w.Write([]byte(slareport.CSS))
}

type levelsData struct {
	Reports []keptView
	Periods []periodLink
}

type keptView struct {
	store.SLAReport
	Title string
	Made  time.Time
}

type periodLink struct{ Label, URL string }

// levels lists the kept reports and the periods still open.
func (c *Console) levels(w http.ResponseWriter, r *http.Request, s *session) error {
	rs, err := c.st.SLAReports(r.Context())
	if err != nil {
		return err
	}
	d := levelsData{}
	for _, k := range rs {
		from, _ := time.ParseInLocation(time.DateOnly, k.PeriodFrom, cup.Rome)
		to, _ := time.ParseInLocation(time.DateOnly, k.PeriodTo, cup.Rome)
		rep := slareport.Report{Kind: k.Kind, From: from, To: to.AddDate(0, 0, 1)}
		d.Reports = append(d.Reports, keptView{SLAReport: k, Title: rep.Title(), Made: store.FromMillis(k.CreatedAt)})
	}
	now := c.now().In(cup.Rome)
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, cup.Rome)
	week := time.Date(now.Year(), now.Month(), now.Day()-(int(now.Weekday())+6)%7, 0, 0, 0, 0, cup.Rome)
	d.Periods = []periodLink{
		{"Mese in corso", periodURL(slareport.Monthly, month, month.AddDate(0, 1, 0))},
		{"Settimana in corso", periodURL(slareport.Weekly, week, week.AddDate(0, 0, 7))},
		{"Mese precedente", periodURL(slareport.Monthly, month.AddDate(0, -1, 0), month)},
	}
	c.render(w, r, s, http.StatusOK, "livelli", "Livelli di servizio", d)
	return nil
}

func periodURL(kind string, from, to time.Time) string {
	return "/livelli/periodo?" + url.Values{"tipo": {kind}, "dal": {from.Format(time.DateOnly)}, "al": {to.Format(time.DateOnly)}}.Encode()
}

type levelData struct {
	Body     template.HTML
	PDF, CSV string
	Kept     bool
}

// levelPeriod computes a period's report now, without keeping it.
func (c *Console) levelPeriod(w http.ResponseWriter, r *http.Request, s *session) error {
	q := r.URL.Query()
	from, to, err := periodOf(q)
	if err != nil {
		return badRequest(err.Error())
	}
	kind := q.Get("tipo")
	if kind != slareport.Monthly && kind != slareport.Weekly {
		kind = slareport.Custom
	}
	rep, err := slareport.Build(r.Context(), *c.cfg.Levels, kind, from, to, c.now())
	if err != nil {
		return err
	}
	if f := q.Get("formato"); f != "" {
		return c.writeReportFile(w, r, s, rep, f)
	}
	base := r.URL.Path + "?" + url.Values{"tipo": {kind}, "dal": {q.Get("dal")}, "al": {q.Get("al")}}.Encode()
	return c.showReport(w, r, s, rep, levelData{PDF: base + "&formato=pdf", CSV: base + "&formato=csv"})
}

// level shows a kept report as it was made.
func (c *Console) level(w http.ResponseWriter, r *http.Request, s *session) error {
	rep, id, err := c.keptReport(r)
	if err != nil {
		return err
	}
	return c.showReport(w, r, s, rep, levelData{Kept: true, PDF: fmt.Sprintf("/livelli/%d/report.pdf", id), CSV: fmt.Sprintf("/livelli/%d/report.csv", id)})
}

func (c *Console) levelFile(w http.ResponseWriter, r *http.Request, s *session) error {
	rep, _, err := c.keptReport(r)
	if err != nil {
		return err
	}
	switch r.PathValue("file") {
	case "report.pdf":
		return c.writeReportFile(w, r, s, rep, "pdf")
	case "report.csv":
		return c.writeReportFile(w, r, s, rep, "csv")
	}
	return errNotFound
}

func (c *Console) keptReport(r *http.Request) (*slareport.Report, int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return nil, 0, errNotFound
	}
	rep, err := slareport.Kept(r.Context(), c.st, id)
	return rep, id, err
}

func (c *Console) showReport(w http.ResponseWriter, r *http.Request, s *session, rep *slareport.Report, d levelData) error {
	var buf bytes.Buffer
	if err := rep.HTML(&buf, c.contactLinks(rep, false)); err != nil {
		return err
	}
	d.Body = template.HTML(buf.String())
	c.render(w, r, s, http.StatusOK, "livello", "Livelli di servizio · "+rep.Title(), d, func(v *view) {
		v.Styles = []string{"/static/livelli.css"}
	})
	return nil
}

func (c *Console) writeReportFile(w http.ResponseWriter, r *http.Request, s *session, rep *slareport.Report, format string) error {
	name := "livelli-" + rep.From.Format("2006-01-02") + "-" + rep.Kind
	var buf bytes.Buffer
	switch format {
	case "pdf":
		if err := rep.PDF(&buf, c.contactLinks(rep, true)); err != nil {
			return err
		}
		w.Header().Set("Content-Type", "application/pdf")
		name += ".pdf"
	case "csv":
		if err := rep.CSV(&buf); err != nil {
			return err
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		name += ".csv"
	default:
		return badRequest("formato: pdf o csv")
	}
	c.audit(r, s, actionExport, "livelli di servizio: "+rep.Title(), name)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	_, err := buf.WriteTo(w)
	return err
}

// contactLinks point each figure at the list of its contacts; absolute for
// a PDF, which is read away from the console.
func (c *Console) contactLinks(rep *slareport.Report, absolute bool) slareport.Links {
	return ContactLinks(rep, map[bool]string{true: strings.TrimRight(c.cfg.PublicURL, "/"), false: ""}[absolute])
}

// ContactLinks are the console addresses of the contacts behind a report's
// figures, under base (the console's public address, or "" for relative
// ones).
func ContactLinks(rep *slareport.Report, base string) slareport.Links {
	return func(figure string, q url.Values) string {
		q.Set("figura", figure)
		q.Set("dal", rep.From.Format(time.DateOnly))
		q.Set("al", rep.To.Format(time.DateOnly))
		if figure == slareport.FigWritten {
			q.Set("al_momento", strconv.FormatInt(rep.MadeAt.UnixMilli(), 10))
			q.Set("profilo", rep.Profile.Name)
		}
		return base + "/livelli/contatti?" + q.Encode()
	}
}

func periodOf(q url.Values) (from, to time.Time, err error) {
	from, err = time.ParseInLocation(time.DateOnly, q.Get("dal"), cup.Rome)
	if err != nil {
		return from, to, errors.New("dal: una data AAAA-MM-GG")
	}
	to, err = time.ParseInLocation(time.DateOnly, q.Get("al"), cup.Rome)
	if err != nil || !to.After(from) || to.Sub(from) > 400*24*time.Hour {
		return from, to, errors.New("al: una data AAAA-MM-GG dopo dal, entro un anno")
	}
	return from, to, nil
}

type contactsData struct {
	Title    string
	Attempts []attemptRow
	Written  []writtenRow
	Total    int
	Shown    int
	Back     string
}

type attemptRow struct {
	store.AttemptedContact
	Phone           string
	Started, Ended  time.Time
	FinalOrPositive string
}

type writtenRow struct {
	store.WrittenContact
	Phone            string
	Received, Closed time.Time
	Hours            float64
	State            string
}

const contactsShown = 2000

var figureTitles = map[string]string{
	slareport.FigCalls: "Chiamate effettuate", slareport.FigAnswered: "Chiamate con risposta",
	slareport.FigPositive: "Contatti chiusi con esito positivo", slareport.FigContacts: "Contatti lavorati",
	slareport.FigPackage: "Contatti del pacchetto", slareport.FigHour: "Chiamate dell'ora",
	slareport.FigWeekday: "Chiamate del giorno della settimana", slareport.FigDay: "Chiamate del giorno",
	slareport.FigWritten: "SMS che richiedevano un operatore",
}

// levelContacts lists the contacts behind a figure of a report.
func (c *Console) levelContacts(w http.ResponseWriter, r *http.Request, s *session) error {
	q := r.URL.Query()
	from, to, err := periodOf(q)
	if err != nil {
		return badRequest(err.Error())
	}
	fig := q.Get("figura")
	title, ok := figureTitles[fig]
	if !ok {
		return badRequest("figura: sconosciuta")
	}
	d := contactsData{Title: title + ", dal " + from.Format("02/01/2006") + " al " + to.AddDate(0, 0, -1).Format("02/01/2006")}
	show := func(p string) string {
		if s.acct.can(permFullPhone) {
			return p
		}
		return phone.Mask(p)
	}
	if fig == slareport.FigWritten {
		return c.writtenContacts(w, r, s, q, from, to, d, show)
	}
	f := store.AttemptFilter{From: from, To: to, CountedOnly: true}
	keep := func(a store.AttemptedContact) bool { return true }
	switch fig {
	case slareport.FigAnswered:
		keep = func(a store.AttemptedContact) bool { return a.Outcome == "answered" }
	case slareport.FigPositive:
		keep = func(a store.AttemptedContact) bool { return a.Final && a.Positive }
	case slareport.FigPackage:
		n, err := strconv.Atoi(q.Get("n"))
		if err != nil || n < 1 || q.Get("campagna") == "" {
			return badRequest("campagna e n: il pacchetto")
		}
		size := c.cfg.Levels.Profile.PackageSize
		f = store.AttemptFilter{Campaign: q.Get("campagna"), SeqFrom: (n-1)*size + 1, SeqTo: n * size, LastOnly: true, CountedOnly: true}
		d.Title = fmt.Sprintf("Pacchetto %d della campagna %s: ultimo tentativo di ogni contatto", n, q.Get("campagna"))
	case slareport.FigHour:
		h, err := strconv.Atoi(q.Get("h"))
		if err != nil || h < 0 || h > 23 {
			return badRequest("h: un'ora da 0 a 23")
		}
		d.Title += fmt.Sprintf(", dalle %02d:00 alle %02d:59", h, h)
		keep = func(a store.AttemptedContact) bool { return store.FromMillis(a.StartedAt).In(cup.Rome).Hour() == h }
	case slareport.FigWeekday:
		g, err := strconv.Atoi(q.Get("g"))
		if err != nil || g < 0 || g > 6 {
			return badRequest("g: un giorno della settimana da 0 (lunedì) a 6")
		}
		keep = func(a store.AttemptedContact) bool {
			return (int(store.FromMillis(a.StartedAt).In(cup.Rome).Weekday())+6)%7 == g
		}
	case slareport.FigDay:
		day, err := time.ParseInLocation(time.DateOnly, q.Get("d"), cup.Rome)
		if err != nil {
			return badRequest("d: una data AAAA-MM-GG")
		}
		f.From, f.To = day, day.AddDate(0, 0, 1)
		d.Title = "Chiamate del " + day.Format("02/01/2006")
	}
	rows, err := c.st.AttemptedContacts(r.Context(), f)
	if err != nil {
		return err
	}
	if fig == slareport.FigContacts {
		// Each contact once, with its last attempt of the period.
		last := map[int64]int{}
		var picked []store.AttemptedContact
		for _, a := range rows {
			if i, ok := last[a.ContactID]; ok {
				picked[i] = a
				continue
			}
			last[a.ContactID] = len(picked)
			picked = append(picked, a)
		}
		rows = picked
	}
	for _, a := range rows {
		if !keep(a) {
			continue
		}
		d.Total++
		if len(d.Attempts) == contactsShown {
			continue
		}
		fp := ""
		switch {
		case a.Final && a.Positive:
			fp = "finale, positivo"
		case a.Final:
			fp = "finale"
		}
		d.Attempts = append(d.Attempts, attemptRow{AttemptedContact: a, Phone: show(a.Phone),
			Started: store.FromMillis(a.StartedAt), Ended: store.FromMillis(a.EndedAt), FinalOrPositive: fp})
	}
	d.Shown = len(d.Attempts)
	c.audit(r, s, actionContacts, d.Title, fmt.Sprintf("righe: %d", d.Total))
	c.render(w, r, s, http.StatusOK, "livelli-contatti", "Contatti dietro la cifra", d)
	return nil
}

func (c *Console) writtenContacts(w http.ResponseWriter, r *http.Request, s *session, q url.Values, from, to time.Time, d contactsData, show func(string) string) error {
	asOf := c.now()
	if v, err := strconv.ParseInt(q.Get("al_momento"), 10, 64); err == nil {
		asOf = time.UnixMilli(v)
	}
	p := c.cfg.Levels.Profile
	if name := q.Get("profilo"); name != "" && name != p.Name {
		if known, ok := sla.Profiles[name]; ok {
			p = known
		}
	}
	wcs, err := c.st.WrittenContacts(r.Context(), from, to)
	if err != nil {
		return err
	}
	rs := make([]sla.Reply, len(wcs))
	byID := make(map[int64]store.WrittenContact, len(wcs))
	for i, wc := range wcs {
		rs[i] = sla.Reply{ID: wc.ID, ReceivedAt: store.FromMillis(wc.ReceivedAt), ClosedAt: store.FromMillis(wc.ClosedAt)}
		byID[wc.ID] = wc
	}
	clock := c.cfg.Levels.ReplyClock
	rt := sla.ReplyTimes(rs, from, to, asOf, p, clock)
	want := q.Get("esito")
	for _, it := range rt.Items {
		state := "in-tempo"
		switch {
		case it.Late:
			state = "in-ritardo"
		case it.Pending:
			state = "in-corso"
		}
		if want != "" && want != state {
			continue
		}
		d.Total++
		if len(d.Written) == contactsShown {
			continue
		}
		wc := byID[it.ID]
		d.Written = append(d.Written, writtenRow{WrittenContact: wc, Phone: show(wc.Phone), Received: store.FromMillis(wc.ReceivedAt),
			Closed: store.FromMillis(wc.ClosedAt), Hours: it.Hours, State: map[string]string{"in-tempo": "in tempo", "in-ritardo": "in ritardo", "in-corso": "aperto, in tempo"}[state]})
	}
	d.Shown = len(d.Written)
	c.audit(r, s, actionContacts, d.Title, fmt.Sprintf("messaggi: %d", d.Total))
	c.render(w, r, s, http.StatusOK, "livelli-contatti", "Contatti dietro la cifra", d)
	return nil
}
