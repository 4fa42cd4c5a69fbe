package slareport

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// A chart is drawn from one model twice: as SVG in the page and with PDF
// operators in the PDF, so that both show the same thing.

// barChart is pairs of bars: calls made and answered.
type barChart struct {
	Title string
	Bars  []Bar
	// Link is the address of the contacts behind bar i; "" for none.
	Link func(i int) string
}

// lineChart is one level's daily value against its threshold.
type lineChart struct {
	Title     string
	Labels    []string
	Values    []*float64
	Threshold float64
	// Percent values are shares shown as %; otherwise hours.
	Percent bool
	// HigherIsBetter: a share must reach the threshold, hours stay below.
	HigherIsBetter bool
}

const (
	colMade     = "#5b7fa6"
	colAnswered = "#3f9d5a"
	colLine     = "#1f4e79"
	colLimit    = "#c0392b"
	colGrid     = "#d9d9d9"
	colText     = "#333333"
)

func (c barChart) max() int {
	m := 1
	for _, b := range c.Bars {
		m = max(m, b.Made, b.Answered)
	}
	return m
}

// niceMax rounds an axis maximum up to 1, 2, 4, 8 or 10 times a power of
// ten, so that its quarters are round numbers.
func niceMax(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 4, 8, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

func (c lineChart) bounds() (lo, hi float64) {
	if c.Percent {
		lo = 1
		for _, v := range c.Values {
			if v != nil {
				lo = min(lo, *v)
			}
		}
		lo = min(lo, c.Threshold)
		lo = math.Floor(lo*10) / 10
		if lo > 0.9 {
			lo = 0.9
		}
		return lo, 1
	}
	hi = c.Threshold
	for _, v := range c.Values {
		if v != nil {
			hi = max(hi, *v)
		}
	}
	return 0, niceMax(hi * 1.1)
}

// svg draws the bars in a w×h box.
func (c barChart) svg(w, h float64) string {
	var b strings.Builder
	left, bottom, top := 36.0, 22.0, 8.0
	plotW, plotH := w-left-6, h-bottom-top
	m := niceMax(float64(c.max()))
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" role="img" aria-label="%s">`, w, h, w, h, html.EscapeString(c.Title))
	for i := 0; i <= 4; i++ {
		y := top + plotH - plotH*float64(i)/4
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="0.5"/>`, left, y, left+plotW, y, colGrid)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="9" text-anchor="end" fill="%s">%s</text>`, left-4, y+3, colText, axisNumber(m*float64(i)/4))
	}
	n := float64(max(len(c.Bars), 1))
	slot := plotW / n
	bw := slot * 0.38
	every := int(math.Ceil(n / 16))
	for i, bar := range c.Bars {
		x := left + slot*float64(i) + slot*0.1
		hm := plotH * float64(bar.Made) / m
		ha := plotH * float64(bar.Answered) / m
		link := ""
		if c.Link != nil {
			link = c.Link(i)
		}
		if link != "" {
			fmt.Fprintf(&b, `<a href="%s">`, html.EscapeString(link))
		}
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s: %d effettuate</title></rect>`,
			x, top+plotH-hm, bw, hm, colMade, html.EscapeString(bar.Label), bar.Made)
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s: %d con risposta</title></rect>`,
			x+bw, top+plotH-ha, bw, ha, colAnswered, html.EscapeString(bar.Label), bar.Answered)
		if link != "" {
			b.WriteString(`</a>`)
		}
		if i%every == 0 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="9" text-anchor="middle" fill="%s">%s</text>`,
				x+bw, h-8, colText, html.EscapeString(shortLabel(bar.Label)))
		}
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// svg draws the line in a w×h box.
func (c lineChart) svg(w, h float64) string {
	var b strings.Builder
	left, bottom, top := 42.0, 22.0, 8.0
	plotW, plotH := w-left-6, h-bottom-top
	lo, hi := c.bounds()
	y := func(v float64) float64 { return top + plotH - plotH*(v-lo)/(hi-lo) }
	n := float64(max(len(c.Labels)-1, 1))
	x := func(i int) float64 { return left + plotW*float64(i)/n }
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" role="img" aria-label="%s">`, w, h, w, h, html.EscapeString(c.Title))
	for i := 0; i <= 4; i++ {
		v := lo + (hi-lo)*float64(i)/4
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="0.5"/>`, left, y(v), left+plotW, y(v), colGrid)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="9" text-anchor="end" fill="%s">%s</text>`, left-4, y(v)+3, colText, c.axis(v))
	}
	fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="1.2" stroke-dasharray="5 3"><title>soglia %s</title></line>`,
		left, y(c.Threshold), left+plotW, y(c.Threshold), colLimit, c.axis(c.Threshold))
	var path []string
	for i, v := range c.Values {
		if v == nil {
			continue
		}
		path = append(path, fmt.Sprintf("%.1f,%.1f", x(i), y(*v)))
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="2.2" fill="%s"><title>%s: %s</title></circle>`, x(i), y(*v), colLine, html.EscapeString(c.Labels[i]), c.axis(*v))
	}
	if len(path) > 1 {
		fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="1.5"/>`, strings.Join(path, " "), colLine)
	}
	every := int(math.Ceil(float64(len(c.Labels)) / 10))
	for i, l := range c.Labels {
		if i%every == 0 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="9" text-anchor="middle" fill="%s">%s</text>`, x(i), h-8, colText, html.EscapeString(shortLabel(l)))
		}
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// axis writes a value the Italian way: "87,5%", "10 h".
func (c lineChart) axis(v float64) string {
	unit := " h"
	if c.Percent {
		v, unit = v*100, "%"
	}
	s := strings.TrimSuffix(strings.TrimSuffix(fmt.Sprintf("%.1f", v), "0"), ".")
	return strings.ReplaceAll(s, ".", ",") + unit
}

func axisNumber(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

// shortLabel shows a day as "05/10".
func shortLabel(l string) string {
	if len(l) == 10 && l[4] == '-' && l[7] == '-' {
		return l[8:10] + "/" + l[5:7]
	}
	return l
}
