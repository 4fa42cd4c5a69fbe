package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/phone"
	"github.com/richiamo/richiamo/internal/sms"
	"github.com/richiamo/richiamo/internal/store"
)

// pageNames are the pages the console renders; each is
// templates/<name>.html, parsed with templates/layout.html. Adding a page
// means adding its name here, its file, and its route.
var pageNames = []string{
	"accesso", "errore", "panoramica",
	"promemoria", "importazione", "scarti", "mancate", "cerca",
	"posta", "rispondi", "utenti", "registro",
	"livelli", "livello", "livelli-contatti",
	"lavoro", "lavoro-elemento", "lavoro-cerca",
	"campagne", "campagna", "pulizie", "pulizia", "tempo-reale",
	"questionario", "urgenti", "urgente", "gruppi", "gruppo",
}

func parsePages(fsys fs.FS) (map[string]*template.Template, error) {
	pages := map[string]*template.Template{}
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(funcs).ParseFS(fsys, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("web: page %s: %w", name, err)
		}
		if t.Lookup("content") == nil {
			return nil, fmt.Errorf("web: page %s: templates/%s.html defines no \"content\"", name, name)
		}
		pages[name] = t
	}
	return pages, nil
}

type navItem struct {
	Path, Label string
	Current     bool
}

var nav = []struct {
	path, label string
	need        perm
}{
	{"/panoramica", "Panoramica", permOverview},
	{"/promemoria", "Promemoria SMS", permDesk},
	{"/lavoro", "Lavoro", permWork},
	{"/tempo-reale", "Tempo reale", permLive},
	{"/campagne", "Campagne", permCampaigns},
	{"/pulizie", "Richieste di pulitura", permCleanUps},
	{"/urgenti", "Spostamenti urgenti", permCleanUps},
	{"/gruppi", "Medicina dello sport", permGroups},
	{"/posta", "Posta operatori", permInbox},
	{"/livelli", "Livelli di servizio", permLevels},
	{"/questionario", "Questionario di gradimento", permSurvey},
	{"/utenti", "Utenti", permUsers},
	{"/registro", "Registro attività", permAudit},
}

// view is what every page template receives.
type view struct {
	Title    string
	Acct     *account
	RoleName string
	Nav      []navItem
	CSRF     string
	Refresh  int // seconds; 0 for a page that does not reload itself
	Now      time.Time
	Notice   string
	Data     any
	// Styles are extra style sheets of the page.
	Styles []string
}

func (c *Console) render(w http.ResponseWriter, r *http.Request, s *session, status int, page, title string, data any, opts ...func(*view)) {
	v := &view{Title: title, Now: c.now(), Data: data}
	if s != nil {
		v.Acct = &s.acct
		v.RoleName = s.acct.Role.Label()
		v.CSRF = s.csrf
		for _, n := range nav {
			if n.need == permLevels && c.cfg.Levels == nil {
				continue
			}
			if s.acct.can(n.need) {
				v.Nav = append(v.Nav, navItem{Path: n.path, Label: n.label,
					Current: r.URL.Path == n.path || strings.HasPrefix(r.URL.Path, n.path+"/")})
			}
		}
	}
	v.Notice = notices[r.URL.Query().Get("esito")]
	for _, o := range opts {
		o(v)
	}
	t := c.pages[page]
	if t == nil {
		c.log.Error("console page not declared", "page", page)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		c.log.Error("console page not rendered", "page", page, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

func (c *Console) renderError(w http.ResponseWriter, r *http.Request, s *session, status int, msg string) {
	title := map[int]string{
		http.StatusForbidden:       "Accesso negato",
		http.StatusNotFound:        "Non trovato",
		http.StatusConflict:        "Operazione non possibile",
		http.StatusBadRequest:      "Richiesta non valida",
		http.StatusTooManyRequests: "Troppi tentativi",
	}[status]
	if title == "" {
		title = "Errore"
	}
	c.render(w, r, s, status, "errore", title, struct {
		Status  int
		Message string
	}{status, msg})
}

// notices are the outcomes a redirect after a form reports, by code, so
// that no text from the address bar reaches the page.
var notices = map[string]string{
	"presa":       "Elemento preso in carico.",
	"rilasciata":  "Elemento rilasciato: ora altri operatori possono prenderlo.",
	"chiusa":      "Elemento chiuso. Il tempo di risposta è stato registrato.",
	"risposta":    "Risposta messa in coda per l'invio via SMS; l'elemento è chiuso.",
	"richiamo":    "Elemento rimandato: tornerà nella lista all'ora scelta.",
	"utente":      "Utente creato.",
	"disattivato": "Utente disattivato: le sue sessioni sono state chiuse.",
	"riattivato":  "Utente riattivato.",

	"codice-operatore": "Codice operatore aggiornato.",

	"campagna-avviata":  "Campagna avviata: il dialer la chiama nell'orario di servizio.",
	"campagna-in-pausa": "Campagna in pausa: nessuna nuova chiamata; quelle in corso finiscono normalmente.",

	"urgente-inviato":    "Spostamento urgente avviato: i pazienti ricevono l'SMS e la chiamata prima delle campagne ordinarie.",
	"pulitura-inviata":   "Richiesta inviata: il back office la accetterà o la rifiuterà con una nota.",
	"pulitura-accettata": "Richiesta accettata: la campagna di pulitura è creata in pausa; si avvia da Campagne.",
	"pulitura-rifiutata": "Richiesta rifiutata: il referente CUP vede la nota.",

	"offerta-spostata":      "Posto assegnato e prenotazione spostata nel CUP: il paziente riceve la conferma.",
	"offerta-in-attesa":     "Posto assegnato al paziente. Lo spostamento è ora nella lista, tra gli spostamenti da fare nel CUP: la conferma al paziente parte quando è registrato come fatto.",
	"offerta-persa":         "Il posto non è più disponibile (l'ha preso un altro paziente, il CUP l'ha già assegnato o l'offerta è scaduta): dica al paziente che il suo appuntamento resta quello che ha.",
	"spostamento-fatto":     "Spostamento registrato: il paziente riceve la conferma.",
	"spostamento-non-fatto": "Registrato che il posto non era più libero nel CUP: il paziente viene avvisato che il suo appuntamento resta quello che ha.",
	"piano-pronto":          "Piano pronto: lo controlli e lo confermi; finché non è confermato non vale.",
	"piano-confermato":      "Piano confermato: scarichi gli elenchi e, fatte le prenotazioni nel CUP, lo dica qui per avvisare gli atleti.",
	"prenotazioni-fatte":    "Prenotazioni registrate: ogni atleta con un cellulare riceve l'SMS una sola volta.",
	"prenotazioni-in-parte": "Il CUP ha rifiutato alcune prenotazioni: restano da prenotare; gli altri atleti ricevono l'SMS.",
}

var weekdays = [...]string{"dom", "lun", "mar", "mer", "gio", "ven", "sab"}

func toTime(v any) time.Time {
	switch x := v.(type) {
	case time.Time:
		return x
	case int64:
		return store.FromMillis(x)
	}
	return time.Time{}
}

// whenText shows an instant in Rome: "lun 30/11/2026 09:30".
func whenText(v any) string {
	t := toTime(v)
	if t.IsZero() {
		return "—"
	}
	t = t.In(cup.Rome)
	return weekdays[t.Weekday()] + " " + t.Format("02/01/2006 15:04")
}

// dayText shows a stored day ("2026-12-01") as "mar 01/12/2026".
func dayText(d string) string {
	t, err := time.ParseInLocation(store.DayLayout, d, cup.Rome)
	if err != nil {
		return d
	}
	return weekdays[t.Weekday()] + " " + t.Format("02/01/2006")
}

// durText shows a wait the way operators say it: "45 min", "2 h 05 min",
// "3 g 4 h".
func durText(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d.Seconds())) + " s"
	case d < time.Hour:
		return strconv.Itoa(int(d.Minutes())) + " min"
	case d < 24*time.Hour:
		return fmt.Sprintf("%d h %02d min", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%d g %d h", int(d.Hours())/24, int(d.Hours())%24)
}

// numText groups thousands with a dot, as Italian does.
func numText(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func pctText(part, whole int) string {
	if whole == 0 {
		return "—"
	}
	return strings.Replace(strconv.FormatFloat(100*float64(part)/float64(whole), 'f', 1, 64), ".", ",", 1) + "%"
}

var statusLabels = map[string]string{
	store.StatusPlanned:     "in coda",
	store.StatusClaimed:     "in invio",
	store.StatusSending:     "in invio",
	store.StatusUnknown:     "esito da verificare",
	store.StatusSent:        "inviato",
	store.StatusDelivered:   "consegnato",
	store.StatusUndelivered: "non consegnato",
	store.StatusFailed:      "non riuscito",
	store.StatusWithdrawn:   "ritirato",
	store.StatusExpired:     "scaduto",
	"opted_out":             "opt-out (STOP)",
}

func statusLabel(s string) string {
	if l, ok := statusLabels[s]; ok {
		return l
	}
	return s
}

// reasonInfo says what a rejection reason means and what the CUP must
// correct at the source.
var reasonInfo = map[string][2]string{
	string(cup.ReasonMissingPhone):       {"Cellulare mancante", "Inserire nel CUP il numero di cellulare del paziente."},
	string(cup.ReasonInvalidPhone):       {"Numero non valido", "Correggere il numero nel CUP: cifre mancanti o in più, prefisso errato o testo al posto del numero."},
	string(cup.ReasonLandline):           {"Numero fisso", "Registrare nel CUP un numero di cellulare: un numero fisso non riceve SMS."},
	string(cup.ReasonMissingBookingCode): {"Codice prenotazione mancante", "Verificare l'estrazione del CUP: ogni riga deve avere il codice della prenotazione."},
	string(cup.ReasonBadDatetime):        {"Data o ora non valida", "Correggere data e ora dell'appuntamento (gg/mm/aaaa hh:mm); anche gli orari che non esistono per il passaggio all'ora legale."},
	string(cup.ReasonOptedOut):           {"Paziente che ha chiesto di non ricevere SMS", "Nessuna correzione: il paziente ha risposto STOP e non riceve più promemoria."},
	string(cup.ReasonControlCharacter):   {"Caratteri di controllo nella riga", "Correggere nel CUP il campo indicato: contiene caratteri invisibili (di controllo) che non si possono memorizzare né inviare."},
}

func reasonLabel(r string) string {
	if i, ok := reasonInfo[r]; ok {
		return i[0]
	}
	return r
}

func reasonFix(r string) string {
	if i, ok := reasonInfo[r]; ok {
		return i[1]
	}
	return "Verificare la riga nel CUP."
}

// detailWords put the extract reader's details, written for logs, into
// Italian for the people who fix the rows; unknown text is shown as is.
var detailWords = strings.NewReplacer(
	"column ", "colonna ",
	": empty", ": vuota",
	"not a valid number", "numero non valido",
	"a landline or another number that cannot receive SMS", "numero fisso o che non può ricevere SMS",
	"the number asked for no more messages", "il numero ha chiesto di non ricevere più messaggi",
	" is not a date and time", " non è una data con ora",
	" is not a date", " non è una data valida",
	" has no time", " non ha l'ora",
	" is not a time of day", " non è un'ora valida",
	" does not exist in Europe/Rome: clocks go forward at that hour", " non esiste in Italia: a quell'ora scatta l'ora legale",
)

func detailText(d string) string { return detailWords.Replace(d) }

var kindLabels = map[string]string{
	store.InboxReply:  "Risposta del paziente",
	store.InboxCancel: "Richiesta di disdetta",
	"recall":          "Richiamo da completare",
	"offer":           "Posto da offrire al telefono",
	"move":            "Spostamento da fare nel CUP",
	"survey":          "Questionario da approfondire",
	"urgent":          "Spostamento urgente",
	"reminder":        "promemoria",
	"answer":          "risposta dell'operatore",
}

var funcs = template.FuncMap{
	"when":         whenText,
	"day":          dayText,
	"dur":          durText,
	"num":          numText,
	"pct":          pctText,
	"status":       statusLabel,
	"reason":       reasonLabel,
	"fix":          reasonFix,
	"detail":       detailText,
	"kind":         func(k string) string { return kindLabels[k] },
	"closure":      outcomeLabel,
	"call":         callLabel,
	"result":       resultLabel,
	"state":        stateLabel,
	"jobkind":      jobKindLabel,
	"workstate":    workStateLabel,
	"contactstate": contactStateLabel,
	"outcomeof":    contactOutcomeLabel,
	"action": func(a string) string {
		if l, ok := actionLabels[a]; ok {
			return l
		}
		return a
	},
	"role":     func(r string) string { return Role(r).Label() },
	"question": questionLabel,
	"share": func(v float64) string {
		return strings.Replace(strconv.FormatFloat(100*v, 'f', 0, 64), ".", ",", 1) + "%"
	},
	"mean":      func(v float64) string { return strings.Replace(strconv.FormatFloat(v, 'f', 2, 64), ".", ",", 1) },
	"errorText": sms.ErrorText,
	"mask":      phone.Mask,
	"join":      strings.Join,
	"add":       func(a, b int) int { return a + b },
	"plural": func(n int, one, many string) string {
		if n == 1 {
			return one
		}
		return many
	},
	"every": func(secs int) string {
		if secs%60 == 0 {
			if secs == 60 {
				return "minuto"
			}
			return strconv.Itoa(secs/60) + " minuti"
		}
		return strconv.Itoa(secs) + " secondi"
	},

	"groupstate": func(st string) string { return groupStates[st] },
}
