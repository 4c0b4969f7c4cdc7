// Package chart draws the console's bar charts on the server as SVG,
// with a title, a description, a legend and an HTML table of the same
// numbers for screen readers, so a page needs no script to show them.
package chart

import (
	"bytes"
	"html/template"
	"math"
	"strconv"
)

// Bar is one bar: its label (a day) and one value per category, in the
// chart's order; Tick, when set, is the shorter label under the axis.
// Negative values count as zero.
type Bar struct {
	Label  string
	Tick   string
	Values []int64
}

// Chart is a stacked bar chart; with one category, a plain one.
type Chart struct {
	ID          string   // unique on the page: the title's and description's ids derive from it
	Title, Desc string   // the SVG's <title> and <desc>, and the table's caption
	Categories  []string // legend order, bottom of the stack first
	Bars        []Bar
	// Headers of the table's first and last columns ("Day", "Total").
	LabelHeader, TotalHeader string
	// Empty is shown in place of bars when every value is zero.
	Empty string
}

// Geometry of the drawing, in SVG user units; the SVG scales to its box.
const (
	width      = 720
	height     = 260
	padLeft    = 48
	padRight   = 8
	padTop     = 12
	padBottom  = 28
	plotWidth  = width - padLeft - padRight
	plotHeight = height - padTop - padBottom
	barGap     = 0.2 // share of a slot left between bars
	maxXLabels = 10
)

// Palette is the categories' colours, in order: the Okabe–Ito set, told
// apart with the common colour blindnesses, each dark enough on white
// (the yellow of the set is left out). Beyond it colours repeat; the
// legend and the table still tell them apart by name.
var Palette = []string{"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"}

// Colour is the colour of the i-th category.
func Colour(i int) string { return Palette[i%len(Palette)] }

// Segment is one category's part of a bar.
type Segment struct {
	Category int
	Value    int64
	Y, H     float64
}

// Column is one bar laid out.
type Column struct {
	Label    string
	Tick     string // under the axis
	X, W     float64
	Total    int64
	Segments []Segment // bottom first; zero values left out
	ShowX    bool      // its label is drawn under the axis
}

// Tick is one value on the y axis.
type Tick struct {
	Value int64
	Y     float64
}

// Layout is the chart in coordinates.
type Layout struct {
	Max     int64 // the top of the y axis
	Columns []Column
	Ticks   []Tick
}

// Lay computes the coordinates: bar heights proportional to their
// totals, the axis topped at a round number.
func (c Chart) Lay() Layout {
	var l Layout
	var peak int64
	for _, b := range c.Bars {
		peak = max(peak, total(c.values(b)))
	}
	l.Max = niceCeil(peak)
	scale := float64(plotHeight) / float64(l.Max)
	slot := float64(plotWidth) / float64(max(len(c.Bars), 1))
	every := (len(c.Bars) + maxXLabels - 1) / maxXLabels
	for i, b := range c.Bars {
		tick := b.Tick
		if tick == "" {
			tick = b.Label
		}
		col := Column{Label: b.Label, Tick: tick, X: padLeft + float64(i)*slot + slot*barGap/2, W: slot * (1 - barGap),
			Total: total(c.values(b)), ShowX: every > 0 && (len(c.Bars)-1-i)%every == 0}
		y := float64(padTop + plotHeight)
		for k, v := range c.values(b) {
			if v <= 0 {
				continue
			}
			h := float64(v) * scale
			y -= h
			col.Segments = append(col.Segments, Segment{Category: k, Value: v, Y: y, H: h})
		}
		l.Columns = append(l.Columns, col)
	}
	for _, v := range []int64{0, l.Max / 2, l.Max} {
		l.Ticks = append(l.Ticks, Tick{Value: v, Y: float64(padTop+plotHeight) - float64(v)*scale})
	}
	return l
}

// values are b's values of the chart's categories: one without a
// category would be drawn with no name in the legend or the table.
func (c Chart) values(b Bar) []int64 {
	if len(b.Values) > len(c.Categories) {
		return b.Values[:len(c.Categories)]
	}
	return b.Values
}

func total(vs []int64) int64 {
	var n int64
	for _, v := range vs {
		if v > 0 {
			n += v
		}
	}
	return n
}

// niceCeil is the smallest of 1, 2, 5 or 10 times a power of ten at
// least n (and at least 2, so the middle tick is a whole number).
func niceCeil(n int64) int64 {
	if n <= 2 {
		return 2
	}
	p := int64(math.Pow(10, math.Floor(math.Log10(float64(n)))))
	for _, m := range []int64{1, 2, 5, 10} {
		if m*p >= n {
			return m * p
		}
	}
	return 10 * p
}

var svgTmpl = template.Must(template.New("svg").Funcs(template.FuncMap{
	"f":      func(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) },
	"colour": Colour,
	"cat":    func(c Chart, i int) string { return c.Categories[i] },
	"add":    func(a, b float64) float64 { return a + b },
	"half":   func(v float64) float64 { return v / 2 },
}).Parse(`<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {{.W}} {{.Height}}" role="img" aria-label="{{.C.Title}}" aria-labelledby="{{.C.ID}}-title {{.C.ID}}-desc" preserveAspectRatio="xMidYMid meet">
<title id="{{.C.ID}}-title">{{.C.Title}}</title>
<desc id="{{.C.ID}}-desc">{{.C.Desc}}</desc>
<g class="axis" stroke="#595959" font-size="11" fill="#333">
{{- range .L.Ticks}}
<line x1="{{$.Left}}" x2="{{$.Right}}" y1="{{f .Y}}" y2="{{f .Y}}" stroke-opacity="0.25"/>
<text x="{{$.TickX}}" y="{{f .Y}}" text-anchor="end" dominant-baseline="middle" stroke="none">{{.Value}}</text>
{{- end}}
{{- range .L.Columns}}{{if .ShowX}}
<text x="{{f (add .X (half .W))}}" y="{{$.LabelY}}" text-anchor="middle" stroke="none">{{.Tick}}</text>
{{- end}}{{end}}
</g>
{{- if .Empty}}
<text x="{{$.MidX}}" y="{{$.MidY}}" text-anchor="middle" font-size="14" fill="#333">{{.C.Empty}}</text>
{{- end}}
<g class="bars">
{{- range .L.Columns}}{{$col := .}}
{{- range .Segments}}
<rect x="{{f $col.X}}" y="{{f .Y}}" width="{{f $col.W}}" height="{{f .H}}" fill="{{colour .Category}}"><title>{{$col.Label}}: {{cat $.C .Category}} {{.Value}}</title></rect>
{{- end}}
{{- end}}
</g>
</svg>
<ul class="legend">
{{- range $i, $c := .C.Categories}}
<li><svg width="12" height="12" aria-hidden="true" focusable="false"><rect width="12" height="12" fill="{{colour $i}}"/></svg> {{$c}}</li>
{{- end}}
</ul>`))

// SVG is the chart and its legend, escaped for HTML: every label, title
// and category is text, whatever it holds.
func (c Chart) SVG() template.HTML {
	l := c.Lay()
	empty := true
	for _, col := range l.Columns {
		empty = empty && col.Total == 0
	}
	var b bytes.Buffer
	err := svgTmpl.Execute(&b, map[string]any{
		"C": c, "L": l, "W": width, "Height": height, "Empty": empty && c.Empty != "",
		"Left": padLeft, "Right": width - padRight, "TickX": padLeft - 4,
		"LabelY": height - padBottom + 16, "MidX": padLeft + plotWidth/2, "MidY": padTop + plotHeight/2,
	})
	if err != nil {
		// The template is fixed and its data typed: an error is a bug.
		panic("chart: " + err.Error())
	}
	return template.HTML(b.String())
}

var tableTmpl = template.Must(template.New("table").Parse(`<table class="chart-data">
<caption>{{.Title}}</caption>
<thead><tr><th scope="col">{{.LabelHeader}}</th>{{range .Categories}}<th scope="col">{{.}}</th>{{end}}<th scope="col">{{.TotalHeader}}</th></tr></thead>
<tbody>
{{- range .Rows}}
<tr><th scope="row">{{.Label}}</th>{{range .Values}}<td>{{.}}</td>{{end}}<td>{{.Total}}</td></tr>
{{- end}}
</tbody>
</table>`))

type tableRow struct {
	Label  string
	Values []int64
	Total  int64
}

// Table is the chart's numbers as an HTML table, one row per bar.
func (c Chart) Table() template.HTML {
	rows := make([]tableRow, 0, len(c.Bars))
	for _, b := range c.Bars {
		vs := make([]int64, len(c.Categories))
		for i := range vs {
			if i < len(b.Values) {
				vs[i] = max(b.Values[i], 0)
			}
		}
		rows = append(rows, tableRow{Label: b.Label, Values: vs, Total: total(c.values(b))})
	}
	var b bytes.Buffer
	err := tableTmpl.Execute(&b, map[string]any{"Title": c.Title, "LabelHeader": c.LabelHeader,
		"TotalHeader": c.TotalHeader, "Categories": c.Categories, "Rows": rows})
	if err != nil {
		panic("chart: " + err.Error())
	}
	return template.HTML(b.String())
}
