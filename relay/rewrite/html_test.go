package rewrite

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/dncgate/dncgate/internal/testbrowser"
	"golang.org/x/net/html"
)

// hidingBodies are HTML bodies that leave open, where the footer would go,
// something that hides what follows.
var hidingBodies = map[string]string{
	"display none":        `<html><body><p>Hi</p><div style="display:none">secret</body></html>`,
	"hidden attribute":    `<html><body><p>Hi</p><div hidden>secret</body></html>`,
	"visibility hidden":   `<body><p>Hi<span style="visibility:hidden"><div>x</span></body>`,
	"textarea":            `<html><body><p>Hi</p><textarea>secret</body></html>`,
	"title":               `<body><p>Hi</p><title>x</body>`,
	"style":               `<body><p>Hi</p><style>p{}</body>`,
	"xmp":                 `<body><p>Hi</p><xmp>x</body>`,
	"noscript":            `<body><p>Hi</p><noscript>x</body>`,
	"iframe":              `<body><p>Hi</p><iframe>x</body>`,
	"template":            `<body><p>Hi</p><template><p>x</body>`,
	"select":              `<body><p>Hi</p><select><option>a</body>`,
	"details":             `<body><p>Hi</p><details><p>x</body>`,
	"comment":             `<body><p>Hi</p><!-- </body></html>`,
	"comment no body":     `<p>Hi</p><!-- x`,
	"attribute":           `<body><p>Hi</p><img alt="</body></html>`,
	"script":              `<html><body><p>Hi</p><script><!--<script>x</body></html>`,
	"plaintext":           `<html><head><title>t</title></head><body><p>Hi</p><plaintext>x</body></html>`,
	"svg cdata":           `<body><p>Hi</p><svg><![CDATA[x</body>`,
	"svg":                 `<body><p>Hi</p><svg width="0" height="0"><g>x</body>`,
	"table cell":          `<body><div hidden><table><tr><td>x</div></body>`,
	"unclosed table":      `<body><table><tr><td><div hidden>x</td></tr></body>`,
	"formatting reopened": `<body><div><b style="display:none"></div>text</body>`,
	"adoption agency":     `<body><b style="display:none"><div>x</b>y</body>`,
	"font":                `<body><font style="font-size:0"><p>x</p></body>`,
	"link":                `<body><a href="https://x.example/" style="display:none">x</body>`,
	"list item":           `<body><ul><li hidden>a<li>b</body>`,
	"deep":                `<body>` + strings.Repeat(`<div hidden>`, maxOpenElements+10) + `x</body>`,
	"object":              `<body><object data="x.bin" width="0" height="0">x</body>`,
	"long names":          `<body>` + strings.Repeat(`<div hidden><x-`+strings.Repeat("n", 200)+`>`, 20) + `x</body>`,
}

// footedHTML renders body as an HTML-only message and returns its footed
// HTML.
func footedHTML(t *testing.T, body string) string {
	t.Helper()
	in := msg("From: a@b.example", "To: c@d.example", "Subject: x", "MIME-Version: 1.0",
		"Content-Type: text/html; charset=utf-8", "Content-Transfer-Encoding: quoted-printable", "")
	in = append(in, appendQP(nil, []byte(strings.ReplaceAll(body, "\n", "\r\n")+"\r\n"))...)
	return bodyOf(t, render(t, in, footerEN, testSet), "")
}

// hiding reports the first ancestor of n that hides it, as a browser's
// tree builder (x/net/html follows HTML 5 §13.2) places it.
func hiding(n *html.Node) string {
	for a := n.Parent; a != nil; a = a.Parent {
		if a.Type != html.ElementNode {
			continue
		}
		switch a.Data {
		case "html", "body":
			continue
		case "p", "div", "a", "span":
			// the footer's own elements are fine if they do not hide
		default:
			return a.Data
		}
		for _, at := range a.Attr {
			v := strings.ToLower(strings.ReplaceAll(at.Val, " ", ""))
			if at.Key == "hidden" || (at.Key == "style" && (strings.Contains(v, "display:none") ||
				strings.Contains(v, "visibility:hidden") || strings.Contains(v, "font-size:0"))) {
				return a.Data + " " + at.Key + "=" + at.Val
			}
		}
	}
	return ""
}

func findLink(n *html.Node, href string) *html.Node {
	if n.Type == html.ElementNode && n.Data == "a" {
		for _, a := range n.Attr {
			if a.Key == "href" && a.Val == href {
				return n
			}
		}
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if f := findLink(c, href); f != nil {
			return f
		}
	}
	return nil
}

const footerLink = "https://u.acme.example/u/" + testToken

// The footer's link lands in the tree outside anything that hides it.
func TestHTMLFooterOutsideHidingElements(t *testing.T) {
	for name, body := range hidingBodies {
		out := footedHTML(t, body)
		doc, err := html.Parse(strings.NewReader(out))
		if err != nil {
			t.Fatal(err)
		}
		a := findLink(doc, footerLink)
		if a == nil {
			t.Errorf("%s: no footer link in the tree of\n%s", name, out)
			continue
		}
		if h := hiding(a); h != "" {
			t.Errorf("%s: the footer is inside <%s>:\n%s", name, h, out)
		}
	}
}

// A well-formed body keeps its footer before </body>, with nothing added.
func TestHTMLFooterPlainBodyUnchanged(t *testing.T) {
	out := footedHTML(t, `<html><body><div><p>Hi</p></div></body></html>`)
	if !strings.Contains(out, "</div>"+HTMLMarker) || !strings.HasSuffix(strings.TrimSpace(out), "</p>\r\n</body></html>") {
		t.Errorf("footer not right before </body>:\n%s", out)
	}
}

// In headless Chromium, the footer of every hostile body is rendered:
// in the body's visible text, with a box of its own, and visible by the
// browser's own test.
func TestHTMLFooterVisibleInChromium(t *testing.T) {
	ctx := testbrowser.New(t)
	const check = `(() => {
		const a = [...document.querySelectorAll('a')].find(e => e.href === '` + footerLink + `');
		if (!a) return 'no footer link';
		const r = a.getBoundingClientRect();
		if (r.width < 1 || r.height < 1) return 'no box: ' + r.width + 'x' + r.height;
		if (!a.checkVisibility({opacityProperty: true, visibilityProperty: true, contentVisibilityAuto: true})) return 'not visible';
		if (parseFloat(getComputedStyle(a).fontSize) < 6) return 'font size ' + getComputedStyle(a).fontSize;
		if (!document.body.innerText.includes('Unsubscribe')) return 'not in the visible text';
		return 'ok';
	})()`
	for name, body := range hidingBodies {
		out := footedHTML(t, body)
		url := "data:text/html;charset=utf-8;base64," + base64.StdEncoding.EncodeToString([]byte(out))
		if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := testbrowser.Run(t, ctx, chromedp.Evaluate[string](check)); got != "ok" {
			t.Errorf("%s: %s:\n%s", name, got, out)
		}
	}
}
