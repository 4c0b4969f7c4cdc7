package stamp

import (
	"fmt"
	"strings"
	"sync"

	"github.com/dncgate/dncgate/footer"
	"github.com/dncgate/dncgate/relay/rewrite"
)

// Rendering the two templates is a fifth of a small message's cost, and
// every recipient's footer differs from another's only by the token. So a
// footer is rendered once per language, rep name and token length with a
// stand-in token, and each copy replaces the stand-in by its own token.
// Tokens are URL-safe base64, which neither html/template's escaping nor
// the text wrapping treats differently from the stand-in of the same
// length, so the result is the footer the templates would have rendered.
const (
	standInChar = "Z"
	// maxCachedFooters bounds the cache; the key space is languages ×
	// reps × a few token lengths, so it is seldom reached.
	maxCachedFooters = 4096
)

type footerKey struct {
	lang   string
	rep    footer.Text
	tokLen int
}

// footerCache holds rendered footers with a stand-in token.
type footerCache struct {
	mu sync.RWMutex
	m  map[footerKey]rewrite.Footer
}

func (c *footerCache) get(k footerKey) (rewrite.Footer, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	f, ok := c.m[k]
	return f, ok
}

func (c *footerCache) put(k footerKey, f rewrite.Footer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCachedFooters {
		c.m = map[footerKey]rewrite.Footer{}
	}
	c.m[k] = f
}

// renderFooter returns the footer for one recipient's token.
func (s *Stamper) renderFooter(lang string, rep footer.Text, tok string) (rewrite.Footer, error) {
	k := footerKey{lang: lang, rep: rep, tokLen: len(tok)}
	standIn := s.unsubURL(strings.Repeat(standInChar, len(tok)))
	f, ok := s.footers.get(k)
	if !ok {
		var err error
		if f, err = s.renderWith(lang, rep, standIn); err != nil {
			return rewrite.Footer{}, err
		}
		if !strings.Contains(f.Text, standIn) || !strings.Contains(f.HTML, standIn) {
			// Escaping changed the URL (an unusual base URL): render as is.
			return s.renderWith(lang, rep, s.unsubURL(tok))
		}
		s.footers.put(k, f)
	}
	url := s.unsubURL(tok)
	return rewrite.Footer{Text: strings.ReplaceAll(f.Text, standIn, url), HTML: strings.ReplaceAll(f.HTML, standIn, url)}, nil
}

func (s *Stamper) renderWith(lang string, rep footer.Text, url string) (rewrite.Footer, error) {
	v := s.o.Details
	v.UnsubscribeURL, v.RepName, v.PrivacyURL = footer.NewText(url), rep, s.privacyURL(footer.Primary(lang))
	text, html, err := s.o.Templates.Render(lang, v)
	if err != nil {
		return rewrite.Footer{}, fmt.Errorf("stamp: %w", err)
	}
	return rewrite.Footer{Text: text, HTML: html}, nil
}
