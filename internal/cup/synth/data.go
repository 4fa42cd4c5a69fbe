package synth

// The catalogue below is invented but shaped like a regional CUP's: service
// codes follow the national outpatient catalogue (nomenclatore), facilities
// and streets are plausible, names are common Italian ones with the accents
// and apostrophes that break naive encodings.

type service struct {
	code, name string
	typ        byte   // 'V' visita specialistica, 'S' prestazione strumentale
	agenda     string // the agenda's name stem; the facility code follows
	slot       int    // minutes between appointments: 5, 10, 15 or 20
	weight     int
	hospital   bool // needs a hospital (scanners, endoscopy)
}

var services = []service{
	{"89.7A.3", "Prima visita cardiologica", 'V', "CARDIOLOGIA AMB", 20, 10, false},
	{"95.02", "Prima visita oculistica", 'V', "OCULISTICA", 15, 10, false},
	{"89.7A.7", "Prima visita dermatologica", 'V', "DERMATOLOGIA", 15, 8, false},
	{"89.7B.7", "Prima visita ortopedica", 'V', "ORTOPEDIA", 15, 9, false},
	{"89.13", "Visita neurologica", 'V', "NEUROLOGIA", 20, 6, false},
	{"89.7A.9", "Prima visita gastroenterologica", 'V', "GASTROENTEROLOGIA", 20, 5, false},
	{"88.91.2", "RM encefalo senza e con contrasto", 'S', "RM NEURO", 20, 4, true},
	{"87.41", "TC torace", 'S', "TC", 15, 5, true},
	{"88.76.1", "Ecografia addome completo", 'S', "ECOGRAFIA", 15, 9, false},
	{"87.37.1", "Mammografia bilaterale", 'S', "SENOLOGIA", 15, 6, false},
	{"45.23", "Colonscopia", 'S', "ENDOSCOPIA DIGESTIVA", 20, 4, true},
	{"88.73.5", "Ecocolordoppler tronchi sovraaortici", 'S', "ANGIOLOGIA", 20, 5, false},
	{"89.52", "Elettrocardiogramma", 'S', "ECG", 10, 12, false},
	{"89.37.1", "Spirometria semplice", 'S', "FISIOPATOLOGIA RESP", 10, 4, false},
	{"89.01", "Visita di controllo cardiologica", 'V', "CARDIOLOGIA CTRL", 5, 3, false},
}

var totalWeight = func() int {
	t := 0
	for _, s := range services {
		t += s.weight
	}
	return t
}()

type facility struct {
	code, name, address string
	hospital            bool
}

type node struct {
	code       string
	weight     int // out of 100
	facilities []facility
}

func (n *node) hasHospital() bool {
	for _, f := range n.facilities {
		if f.hospital {
			return true
		}
	}
	return false
}

var nodes = [...]node{
	{"ASL1", 35, []facility{
		{"PCN", "Poliambulatorio Città Nuova", "Via Nazionale 12, Città di Castello", false},
		{"OSL", "Ospedale Civile San Lorenzo", "Viale della Repubblica 45, Umbertide", true},
		{"CSA", "Casa della Comunità Borgo Sant'Anna", "Piazza Garibaldi 3, Gubbio", false},
	}},
	{"ASL2", 30, []facility{
		{"PSM", "Presidio Ospedaliero Santa Maria della Misericordia", "Via dei Cappuccini 8, Foligno", true},
		{"PPR", "Poliambulatorio Porta Romana", "Corso Vittorio Emanuele II 101, Spoleto", false},
		{"DVC", "Distretto Sanitario Valnerina – Sede di Norcia", "Via Fonte Gaia 21, Norcia", false},
	}},
	{"AO", 20, []facility{
		{"SGB", "Azienda Ospedaliera San Giovanni Battista – Padiglione Nord", "Piazzale dell'Università 1, Perugia", true},
		{"SAA", "Ospedale Sant'Antonio Abate", "Via Niccolò Machiavelli 20, Perugia", true},
	}},
	{"IRCCS", 15, []facility{
		{"IOR", "Istituto Oncologico Regionale", "Via Giosuè Carducci 7, Perugia", true},
		{"CPO", "Centro di Prevenzione Oncologica", "Largo Papa Giovanni XXIII 4, Città della Pieve", false},
	}},
}

// mobilePrefixes are ranges of Italian mobile operators.
var mobilePrefixes = []string{
	"320", "324", "327", "328", "329", "330", "331", "333", "334", "335", "336",
	"337", "338", "339", "340", "342", "345", "346", "347", "348", "349", "350",
	"351", "366", "368", "370", "371", "373", "377", "380", "388", "389", "391",
	"392", "393",
}

// invalidPhones are what ends up in the cellulare cell instead of a number.
var invalidPhones = []string{
	"347 12345", "3001234567", "N.D.", "338 123 456 789 0", "1234",
	"333 1234567 mamma", "0", "+39", "non fornito",
}

// areaCodes are Italian geographic prefixes and 800 (toll free), with the
// number of digits that follow, for numbers that are valid but not mobile.
var areaCodes = []struct {
	prefix string
	digits int
}{
	{"06", 8}, {"02", 8}, {"055", 7}, {"075", 7}, {"0577", 6}, {"0578", 6},
	{"081", 7}, {"011", 7}, {"0742", 6}, {"0743", 6}, {"800", 6},
}

var surnames = []string{
	"Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo",
	"Ricci", "Marino", "Greco", "Bruno", "Gallo", "Conti", "De Luca", "Mancini",
	"Costa", "Giordano", "Rizzo", "Lombardi", "Moretti", "Barbieri", "Fontana",
	"Santoro", "Mariani", "Rinaldi", "Caruso", "Ferrara", "Galli", "Martini",
	"Leone", "Longo", "Gentile", "Martinelli", "Vitale", "Serra", "Coppola",
	"De Santis", "D'Angelo", "Marchetti", "Parisi", "Villa", "Conte", "Fabbri",
	"Bianco", "Marini", "Grasso", "Valentini", "Messina", "De Angelis",
	"Pellegrini", "Palumbo", "Sanna", "Farina", "Monti", "Morelli", "Amato",
	"Silvestri", "Mazza", "Testa", "Carbone", "Giuliani", "Benedetti",
	"Barone", "Caputo", "Montanari", "Guerra", "Palmieri", "Bernardi", "Fiore",
	"D'Amico", "Della Rocca", "Dell'Acqua", "Lo Presti", "Cantù", "Lucà",
	"Mosè", "Bellucci", "Tiberi", "Sciarra", "Baldelli", "Cecchetti",
}

var names = []string{
	"Giuseppe", "Maria", "Giovanni", "Anna", "Antonio", "Giuseppina", "Mario",
	"Rosa", "Luigi", "Angela", "Francesco", "Giovanna", "Angelo", "Teresa",
	"Vincenzo", "Lucia", "Pietro", "Carmela", "Salvatore", "Caterina", "Carlo",
	"Francesca", "Franco", "Anna Maria", "Domenico", "Luisa", "Bruno",
	"Maria Grazia", "Paolo", "Elena", "Michele", "Laura", "Giorgio", "Paola",
	"Aldo", "Giulia", "Sergio", "Chiara", "Luca", "Sara", "Marco",
	"Alessandra", "Andrea", "Federica", "Matteo", "Martina", "Lorenzo",
	"Sofia", "Niccolò", "Nicolò", "Mattia", "Noemi", "Gianluca", "Raffaella",
	"Letizia", "Beatrice", "Pasquale", "Rocco", "Ilaria", "Loredana", "Zoè",
	"Gioele", "Ermenegildo", "Fedora",
}
