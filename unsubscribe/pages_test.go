package unsubscribe

import (
	"testing"

	"github.com/dncgate/dncgate/country/countrytest"
	"github.com/dncgate/dncgate/unsubscribe/token"
)

// TestPageLanguage: the page speaks the language the token carries, the
// footer's; a token without one (sealed before tokens carried it) gets
// the language of the shared table of domains, then the browser's.
func TestPageLanguage(t *testing.T) {
	p, err := loadPages()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range countrytest.Domains {
		rcpt := "jean@" + c.In
		if got := p.language(token.Claims{Recipient: rcpt, Lang: "fr"}, "nl"); got != "fr" {
			t.Errorf("%s with the footer in fr: page in %s", rcpt, got)
		}
		want := countrytest.LanguageOf(c.In)
		if got := p.language(token.Claims{Recipient: rcpt}, ""); got != want {
			t.Errorf("%s, old token: page in %s, want %s", rcpt, got, want)
		}
		if want == "en" {
			if got := p.language(token.Claims{Recipient: rcpt}, "it-IT,it;q=0.9"); got != "it" {
				t.Errorf("%s, old token, browser in it: page in %s", rcpt, got)
			}
		}
	}
	// A language the pages lack (a footer added in templates_dir) falls
	// back to the guess.
	if got := p.language(token.Claims{Recipient: "a@b.de", Lang: "pt"}, ""); got != "de" {
		t.Errorf("footer in pt: page in %s, want de", got)
	}
}
