package slareport

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/sla"
)

func TestItalianFormats(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{EUR(1234567.5), "€ 1.234.567,50"},
		{EUR(0), "€ 0,00"},
		{EUR(-12.3), "€ -12,30"},
		{EUR(999), "€ 999,00"},
		{Pct(0.567929), "56,79%"},
		{Hours(3.25), "3,25 h"},
		{lineChart{Percent: true}.axis(0.875), "87,5%"},
		{lineChart{}.axis(10), "10 h"},
		{packagesText(1), "1 pacchetto"},
		{packagesText(3), "3 pacchetti"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
	for v, want := range map[float64]float64{0: 1, 1: 1, 3: 4, 342: 400, 500: 800, 801: 1000, 24: 40} {
		if got := niceMax(v); got != want {
			t.Errorf("niceMax(%v) = %v, want %v", v, got, want)
		}
	}
}

func TestTitles(t *testing.T) {
	rome, _ := time.LoadLocation("Europe/Rome")
	oct := time.Date(2026, 10, 1, 0, 0, 0, 0, rome)
	week := time.Date(2026, 10, 26, 0, 0, 0, 0, rome)
	for _, tc := range []struct {
		r    Report
		want string
	}{
		{Report{Kind: Monthly, From: oct, To: oct.AddDate(0, 1, 0)}, "Ottobre 2026"},
		// The week the clocks go back: 7 days, 169 hours.
		{Report{Kind: Weekly, From: week.AddDate(0, 0, -7), To: week}, "Settimana dal 19/10/2026 al 25/10/2026"},
		{Report{Kind: Custom, From: oct, To: oct.AddDate(0, 0, 3)}, "Dal 01/10/2026 al 03/10/2026"},
	} {
		if got := tc.r.Title(); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.r.Kind, got, tc.want)
		}
	}
}

// An empty period still renders in every form: no division by zero, no
// chart without bars failing.
func TestEmptyReportRenders(t *testing.T) {
	rome, _ := time.LoadLocation("Europe/Rome")
	from := time.Date(2026, 2, 1, 0, 0, 0, 0, rome)
	r := &Report{Kind: Monthly, From: from, To: from.AddDate(0, 1, 0), MadeAt: from.AddDate(0, 1, 0), Profile: sla.Profiles["capitolato-2016"],
		Outbound: &sla.Report{Packages: []sla.Package{}}, Calls: CallCharts{ByHour: make([]Bar, 24), ByWeekday: make([]Bar, 7)}}
	var h, p, c bytes.Buffer
	if err := r.Document(&h, nil); err != nil {
		t.Fatal(err)
	}
	if err := r.PDF(&p, nil); err != nil {
		t.Fatal(err)
	}
	if err := r.CSV(&c); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(h.String(), "Febbraio 2026") || !strings.Contains(h.String(), "Nessun pacchetto") || strings.Contains(h.String(), "href=") {
		t.Errorf("page without links:\n%s", h.String())
	}
	if !bytes.HasPrefix(p.Bytes(), []byte("%PDF-")) || !strings.Contains(c.String(), "continuity,,measured,false") {
		t.Errorf("PDF %.10q, CSV %s", p.String(), c.String())
	}
}
