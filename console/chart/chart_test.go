package chart

import (
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/quick"
)

// random builds a chart from quick's numbers: up to 60 bars of up to 9
// categories, values that may be zero, negative or huge.
func random(r *rand.Rand) Chart {
	c := Chart{ID: "c", Title: "t", Desc: "d", LabelHeader: "Day", TotalHeader: "Total", Empty: "none"}
	nc := r.IntN(9) + 1
	for i := range nc {
		c.Categories = append(c.Categories, fmt.Sprintf("reason-%d", i))
	}
	for i := range r.IntN(61) {
		b := Bar{Label: fmt.Sprintf("d%d", i)}
		for range r.IntN(nc + 2) { // sometimes more values than categories
			switch r.IntN(5) {
			case 0:
				b.Values = append(b.Values, 0)
			case 1:
				b.Values = append(b.Values, -r.Int64N(100))
			case 2:
				b.Values = append(b.Values, r.Int64N(1<<40))
			default:
				b.Values = append(b.Values, r.Int64N(1000))
			}
		}
		c.Bars = append(c.Bars, b)
	}
	return c
}

func TestLayoutProperties(t *testing.T) {
	prop := func(seed uint64) bool {
		c := random(rand.New(rand.NewPCG(seed, 7)))
		l := c.Lay()
		if l.Max <= 0 || len(l.Columns) != len(c.Bars) {
			t.Logf("max %d, %d columns for %d bars", l.Max, len(l.Columns), len(c.Bars))
			return false
		}
		scale := float64(plotHeight) / float64(l.Max)
		for _, col := range l.Columns {
			var sum float64
			var tot int64
			for _, s := range col.Segments {
				for _, v := range []float64{s.Y, s.H, col.X, col.W} {
					if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
						t.Logf("bad coordinate %v in %+v", v, s)
						return false
					}
				}
				if s.Value <= 0 || s.Category >= len(c.Categories) {
					t.Logf("segment %+v drawn", s)
					return false
				}
				sum += s.H
				tot += s.Value
			}
			if tot != col.Total {
				t.Logf("segments sum to %d, total %d", tot, col.Total)
				return false
			}
			if math.Abs(sum-float64(col.Total)*scale) > 1e-6*float64(plotHeight) {
				t.Logf("heights sum to %v, want %v", sum, float64(col.Total)*scale)
				return false
			}
			if sum > plotHeight+1e-9 {
				t.Logf("bar of %v overflows the plot", sum)
				return false
			}
			if n := len(col.Segments); n > 0 && col.Segments[n-1].Y < padTop-1e-9 {
				t.Logf("bar top %v above the plot", col.Segments[n-1].Y)
				return false
			}
		}
		return wellFormed(t, c.SVG()) && wellFormed(t, c.Table())
	}
	if err := quick.Check(prop, &quick.Config{MaxCount: 300}); err != nil {
		t.Error(err)
	}
}

// wellFormed: the output parses as XML and holds no NaN.
func wellFormed[S ~string](t *testing.T, s S) bool {
	if strings.Contains(string(s), "NaN") || strings.Contains(string(s), "Inf") {
		t.Logf("NaN or Inf in %s", s)
		return false
	}
	d := xml.NewDecoder(strings.NewReader("<root>" + string(s) + "</root>"))
	for {
		_, err := d.Token()
		if err == io.EOF {
			return true
		}
		if err != nil {
			t.Logf("not well formed: %v\n%s", err, s)
			return false
		}
	}
}

func TestEmptyRanges(t *testing.T) {
	for _, c := range []Chart{
		{ID: "none", Title: "No days"},
		{ID: "zeros", Title: "Zeros", Categories: []string{"a"}, Bars: []Bar{{Label: "1"}, {Label: "2", Values: []int64{0}}}, Empty: "Nothing in this range"},
	} {
		svg := string(c.SVG())
		if !wellFormed(t, svg) || !wellFormed(t, c.Table()) {
			t.Errorf("%s: not well formed", c.ID)
		}
		if strings.Contains(svg, "<rect x=") {
			t.Errorf("%s: bars drawn for nothing:\n%s", c.ID, svg)
		}
		if c.Empty != "" && !strings.Contains(svg, c.Empty) {
			t.Errorf("%s: the empty text is missing", c.ID)
		}
	}
}

func TestAccessible(t *testing.T) {
	c := Chart{ID: "refusals", Title: "Refusals per day", Desc: "by reason", Categories: []string{"opt-out", "list:x"},
		Bars: []Bar{{Label: "2026-06-01", Values: []int64{3, 4}}}, LabelHeader: "Day", TotalHeader: "Total"}
	svg, table := string(c.SVG()), string(c.Table())
	for _, want := range []string{`role="img"`, `aria-label="Refusals per day"`, `aria-labelledby="refusals-title refusals-desc"`,
		`<title id="refusals-title">Refusals per day</title>`, `<desc id="refusals-desc">by reason</desc>`,
		`<ul class="legend">`, "opt-out", "list:x", `fill="#0072B2"`, `fill="#D55E00"`} {
		if !strings.Contains(svg, want) {
			t.Errorf("SVG lacks %s:\n%s", want, svg)
		}
	}
	for _, want := range []string{"<caption>Refusals per day</caption>", `<th scope="col">opt-out</th>`,
		`<th scope="row">2026-06-01</th><td>3</td><td>4</td><td>7</td>`} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %s:\n%s", want, table)
		}
	}
}

// Labels, categories and titles are text: markup in them is escaped.
func TestEscapes(t *testing.T) {
	evil := `<script>alert("x")</script>'"&`
	c := Chart{ID: `x" onload="alert(1)`, Title: evil, Desc: evil, Categories: []string{evil}, Empty: evil,
		Bars: []Bar{{Label: evil, Values: []int64{1}}}, LabelHeader: evil, TotalHeader: evil}
	for name, out := range map[string]string{"svg": string(c.SVG()), "table": string(c.Table())} {
		if strings.Contains(out, "<script>") || strings.Contains(out, `" onload="`) {
			t.Errorf("%s: markup not escaped:\n%s", name, out)
		}
		if !strings.Contains(out, "&lt;script&gt;") {
			t.Errorf("%s: the text is not shown escaped:\n%s", name, out)
		}
	}
}

func TestNiceCeil(t *testing.T) {
	for n, want := range map[int64]int64{0: 2, 1: 2, 3: 5, 7: 10, 10: 10, 11: 20, 199: 200, 201: 500, 999: 1000, 1001: 2000} {
		if got := niceCeil(n); got != want {
			t.Errorf("niceCeil(%d) = %d, want %d", n, got, want)
		}
	}
}
