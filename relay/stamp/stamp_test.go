package stamp

import (
	"bytes"
	"errors"
	"net/textproto"
	"strings"
	"testing"

	"github.com/dncgate/dncgate/country"
	"github.com/dncgate/dncgate/country/countrytest"
	"github.com/dncgate/dncgate/footer"
	"github.com/dncgate/dncgate/relay/rewrite"
	"github.com/dncgate/dncgate/smtpreply"
)

// Both URIs of List-Unsubscribe carry one token, which the footer's text
// and HTML show as the same URL, and which names the normalised recipient.
func TestOneURLInHeadersAndBodies(t *testing.T) {
	s := newStamper(t)
	for name, msg := range map[string]string{"plain": plainMsg, "alternative": altMsg} {
		out := stampFor(t, s, msg, "Jean+promo@Acme.FR", "")
		url, tok := unsubURL(t, readMsg(t, out))
		c, err := testKeyring(t).OpenFresh(tok, testNow, 1)
		if err != nil || c.Recipient != "jean@acme.fr" || c.Org != testOrg {
			t.Errorf("%s: token opens to %+v, %v", name, c, err)
		}
		b := bodies(t, out)
		if !strings.Contains(b["text/plain"], url) {
			t.Errorf("%s: text body lacks %s:\n%s", name, url, b["text/plain"])
		}
		if name == "alternative" && !strings.Contains(b["text/html"], `href="`+url+`"`) {
			t.Errorf("%s: HTML body lacks a link to %s:\n%s", name, url, b["text/html"])
		}
		if strings.Contains(string(out), "client-own") {
			t.Errorf("%s: the client's List-Unsubscribe survived", name)
		}
	}
}

// TestNoTokenWithoutNormalisedForm: every spelling of one person gets a
// token naming the one key; an address with no normalised form gets no
// copy rather than a token under some other key.
func TestNoTokenWithoutNormalisedForm(t *testing.T) {
	p, err := newStamper(t).Prepare([]byte(plainMsg), "rep@acme.example")
	if err != nil {
		t.Fatal(err)
	}
	for _, rcpt := range []string{"Jean.Dupont+1@gmail.com", "jeandupont@googlemail.com"} {
		_, tok := unsubURL(t, readMsg(t, forRcpt(t, p, rcpt, "")))
		if c, err := testKeyring(t).OpenFresh(tok, testNow, 1); err != nil || c.Recipient != "jeandupont@gmail.com" {
			t.Errorf("%s: token opens to %+v, %v; want jeandupont@gmail.com", rcpt, c, err)
		}
	}
	out, err := p.For("jean dupont@acme.fr", "", "")
	var ue *smtpreply.Error
	if !errors.As(err, &ue) || ue.Code != 553 || ue.Enhanced[1] != 1 || ue.Reason != smtpreply.NoToken || out != nil {
		t.Fatalf("For an address without a normalised form = %d bytes, %v; want a 553 5.1.3", len(out), err)
	}
}

func TestNoMailtoWithoutDomain(t *testing.T) {
	s := newStamper(t, func(o *Options) { o.MailtoDomain = "" })
	got := readMsg(t, stampFor(t, s, plainMsg, "jean@acme.fr", "")).Header.Get("List-Unsubscribe")
	if strings.Contains(got, "mailto:") || !strings.HasPrefix(got, "<"+testBase+"/u/") {
		t.Errorf("List-Unsubscribe = %q, want the https URI alone", got)
	}
}

func TestEachRecipientHasItsOwnToken(t *testing.T) {
	p, err := newStamper(t).Prepare([]byte(plainMsg), "rep@acme.example")
	if err != nil {
		t.Fatal(err)
	}
	_, a := unsubURL(t, readMsg(t, forRcpt(t, p, "a@acme.fr", "")))
	_, b := unsubURL(t, readMsg(t, forRcpt(t, p, "b@acme.fr", "")))
	if a == b {
		t.Error("two recipients got the same token")
	}
}

func TestLanguageByCountry(t *testing.T) {
	s := newStamper(t)
	for _, c := range []struct {
		rcpt    string
		country country.Code
		want    string
	}{
		{"jean@acme.fr", "", "Pour ne plus recevoir"},     // from the ccTLD
		{"jean@acme.com", "DE", "keine weiteren E-Mails"}, // the given country wins
		{"jean@acme.com", "", "To stop receiving"},        // unknown: the fallback
		{"piet@acme.be", "", "niet meer ontvangen"},       // Belgium reads Dutch…
		{"marie@acme.be", "", "Pour ne plus recevoir"},    // …and French: both footers
		{"john@acme.co.uk", "", "To stop receiving"},      // .uk is GB, English
		{"anna@acme.de", "IT", "Per non ricevere"},        // country beats TLD
	} {
		out := stampFor(t, s, plainMsg, c.rcpt, c.country)
		text := bodies(t, out)["text/plain"]
		if !strings.Contains(text, c.want) {
			t.Errorf("%s (%q): footer lacks %q:\n%s", c.rcpt, c.country, c.want, text)
		}
		// The link carries the footer's language, for the page.
		_, tok := unsubURL(t, readMsg(t, out))
		claims, err := testKeyring(t).Open(tok)
		if want := footer.Primary(s.Language(c.rcpt, c.country, "")); err != nil || claims.Lang != want {
			t.Errorf("%s (%q): token %+v, %v; want language %s", c.rcpt, c.country, claims, err, want)
		}
	}
}

func TestRepNameFromDisplayName(t *testing.T) {
	text := bodies(t, stampFor(t, newStamper(t), plainMsg, "jean@acme.com", ""))["text/plain"]
	if !strings.Contains(text, "by Sam Rep") {
		t.Errorf("footer does not name the rep:\n%s", text)
	}
	text = bodies(t, stampFor(t, newStamper(t), altMsg, "jean@acme.com", ""))["text/plain"]
	if strings.Contains(text, "sent by") {
		t.Errorf("footer names a rep the From field does not:\n%s", text)
	}
}

// A display name with a bidi override and line separators reaches the
// notice cleaned (the From field encodes them in RFC 2047 words).
func TestRepNameCleaned(t *testing.T) {
	msg := strings.Replace(plainMsg, "From: Sam Rep <", "From: =?utf-8?q?Sam_=E2=80=AEpeR=E2=80=AC=E2=80=A8Evil=C2=85?= <", 1)
	if msg == plainMsg {
		t.Fatal("plainMsg has no From: Sam Rep")
	}
	out := stampFor(t, newStamper(t), msg, "jean@acme.com", "")
	for typ, body := range bodies(t, out) {
		if strings.ContainsAny(body, "\u202e\u202c\u2028\u0085") {
			t.Errorf("%s footer keeps a format or separator character:\n%q", typ, body)
		}
		if !strings.Contains(strings.ReplaceAll(body, "\n", " "), "Sam peR, Evil") {
			t.Errorf("%s footer lacks the cleaned name:\n%s", typ, body)
		}
	}
}

func TestSignedHeadersOnly(t *testing.T) {
	out := stampFor(t, newStamper(t), signedMsg, "jean@acme.fr", "")
	unsubURL(t, readMsg(t, out))
	if !bytes.HasSuffix(out, []byte(signedMsg[strings.Index(signedMsg, "\r\n\r\n"):])) {
		t.Errorf("the signed body changed:\n%s", out)
	}
	if markerCount(t, out) != 0 {
		t.Error("a signed message was marked as footed")
	}
}

func TestSignedRefused(t *testing.T) {
	s := newStamper(t, func(o *Options) { o.Signed = rewrite.Refuse })
	_, err := s.Prepare([]byte(signedMsg), "rep@acme.example")
	var ue *smtpreply.Error
	if !errors.As(err, &ue) || ue.Code != 550 || ue.Enhanced[0] != 5 || ue.Enhanced[1] != 7 || ue.Temporary() {
		t.Fatalf("err = %v, want a permanent 550 5.7.x refusal", err)
	}
	if ue.Reason != smtpreply.Footer {
		t.Errorf("reason %q, want %q", ue.Reason, smtpreply.Footer)
	}
	if !strings.Contains(ue.Text, "Signed") {
		t.Errorf("the reply does not say why: %q", ue.Text)
	}
}

func TestMessageIDAddedOncePerMessage(t *testing.T) {
	s := newStamper(t)
	noID := strings.Replace(plainMsg, "Message-ID: <m1@acme.example>\r\n", "", 1)
	p, err := s.Prepare([]byte(noID), "rep@acme.example")
	if err != nil {
		t.Fatal(err)
	}
	a := readMsg(t, forRcpt(t, p, "a@acme.fr", "")).Header.Get("Message-ID")
	b := readMsg(t, forRcpt(t, p, "b@acme.fr", "")).Header.Get("Message-ID")
	if a == "" || a != b || a != p.MessageID() || !strings.HasSuffix(a, "@acme.example>") {
		t.Errorf("Message-IDs %q and %q, MessageID() %q; want one id at the From domain", a, b, p.MessageID())
	}
	// A retry of the same message gets the same id.
	again, _ := s.Prepare([]byte(noID), "rep@acme.example")
	if c := readMsg(t, forRcpt(t, again, "c@acme.fr", "")).Header.Get("Message-ID"); c != a {
		t.Errorf("retry got Message-ID %q, want %q", c, a)
	}
	kept := readMsg(t, stampFor(t, s, plainMsg, "a@acme.fr", "")).Header["Message-Id"]
	if len(kept) != 1 || kept[0] != "<m1@acme.example>" {
		t.Errorf("Message-ID of a message that had one: %q", kept)
	}
}

// A marker the client wrote does not spare the footer, whatever it holds.
func TestForgedMarkerIsFooted(t *testing.T) {
	s := newStamper(t)
	for _, forged := range []string{"yes", "AAAAAAAAAAAAAAAAAAAAAAAA", ""} {
		msg := "Dncgate-Footer: " + forged + "\r\n" + plainMsg
		out := stampFor(t, s, msg, "jean@acme.fr", "")
		url, _ := unsubURL(t, readMsg(t, out))
		if !strings.Contains(bodies(t, out)["text/plain"], url) {
			t.Errorf("forged marker %q: no footer", forged)
		}
		m := readMsg(t, out).Header[textproto.CanonicalMIMEHeaderKey(rewrite.MarkerHeader)]
		if len(m) != 1 || m[0] == forged || len(m[0]) != 24 {
			t.Errorf("forged marker %q: markers %q, want one of the gateway's", forged, m)
		}
	}
}

// A copy the gateway footed, coming back for the same recipient, is not
// footed again; sent on to someone else, it gets their footer too.
func TestOwnMarkerHonouredForItsRecipient(t *testing.T) {
	s := newStamper(t)
	first := stampFor(t, s, altMsg, "jean@acme.fr", "")
	url1, _ := unsubURL(t, readMsg(t, first))
	again := stampFor(t, s, string(first), "jean@acme.fr", "")
	b := bodies(t, again)
	if strings.Count(b["text/plain"], testBase+"/u/") != 1 || !strings.Contains(b["text/plain"], url1) {
		t.Errorf("footed twice for the same recipient:\n%s", b["text/plain"])
	}
	other := stampFor(t, s, string(first), "marie@acme.fr", "")
	url2, _ := unsubURL(t, readMsg(t, other))
	if !strings.Contains(bodies(t, other)["text/plain"], url2) {
		t.Error("the copy sent on to another recipient lacks that recipient's link")
	}
	// A changed body no longer matches the marker.
	edited := bytes.Replace(first, []byte("Hello"), []byte("Hallo"), 1)
	if b := bodies(t, stampFor(t, s, string(edited), "jean@acme.fr", "")); strings.Count(b["text/plain"], testBase+"/u/") != 2 {
		t.Errorf("an edited body kept the old marker's word:\n%s", b["text/plain"])
	}
}

func TestNoFooterLeavesTheMessage(t *testing.T) {
	s := newStamper(t, func(o *Options) { o.NoFooter = true })
	if out := stampFor(t, s, plainMsg, "jean@acme.fr", ""); string(out) != plainMsg {
		t.Errorf("NoFooter changed the message:\n%s", out)
	}
}

func TestNewRefusesIncompleteOptions(t *testing.T) {
	for name, edit := range map[string]func(*Options){
		"no templates": func(o *Options) { o.Templates = nil },
		"no keyring":   func(o *Options) { o.Keyring = nil },
		"short key":    func(o *Options) { o.Key = []byte("short") },
		"bad base":     func(o *Options) { o.BaseURL = "u.acme.example" },
		"dkim no key":  func(o *Options) { o.DKIM = &DKIM{Domain: "acme.example", Selector: "s"} },
	} {
		o := testOptions(t)
		edit(&o)
		if _, err := New(o); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
}

// TestLanguageTable: with no country from the check, the footer's
// language follows the shared table of domains; a contact's country, from
// the check, wins over the domain.
func TestLanguageTable(t *testing.T) {
	s := newStamper(t)
	for _, c := range countrytest.Domains {
		if got, want := footer.Primary(s.Language("jean@"+c.In, country.None, "")), countrytest.LanguageOf(c.In); got != want {
			t.Errorf("Language(jean@%s) = %q, want %q", c.In, got, want)
		}
		if got := s.Language("jean@"+c.In, "FR", ""); got != "fr" {
			t.Errorf("Language(jean@%s, FR) = %q, want fr", c.In, got)
		}
	}
}

// The cached footer, its stand-in token replaced, is what the templates
// render for the real token.
func TestCachedFooterEqualsRendered(t *testing.T) {
	s := newStamper(t)
	kr := testKeyring(t)
	for _, lang := range []string{"en", "fr", "de", "es", "it", "nl"} {
		for _, rcpt := range []string{"a@b.fr", "jean.very.long.name+x@some-company.example.co.uk"} {
			for _, rep := range []string{"", "Zoë <Z> & co"} {
				tok := kr.Seal(rcpt, testOrg, testNow)
				for range 2 { // a miss, then a hit
					got, err := s.renderFooter(lang, footer.NewText(rep), tok)
					if err != nil {
						t.Fatal(err)
					}
					want, _ := s.renderWith(lang, footer.NewText(rep), s.unsubURL(tok))
					if got != want {
						t.Fatalf("%s %q: cached footer differs:\n%+v\nwant\n%+v", lang, rep, got, want)
					}
				}
			}
		}
	}
}

// The relay asks for several recipients' copies at once.
func TestForConcurrently(t *testing.T) {
	s := newStamper(t)
	first := stampFor(t, s, altMsg, "jean@acme.fr", "")
	p, err := s.Prepare(first, "rep@acme.example")
	if err != nil {
		t.Fatal(err)
	}
	rcpts := []string{"jean@acme.fr", "a@acme.de", "b@acme.it", "c@acme.es", "d@acme.nl", "e@acme.com"}
	errs := make(chan error, len(rcpts))
	for _, r := range rcpts {
		go func() {
			_, err := p.For(r, "", "")
			errs <- err
		}()
	}
	for range rcpts {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// Without a privacy_url the footer links to the gateway's processing
// page in the copy's language; with one, to it.
func TestPrivacyPageLink(t *testing.T) {
	page := newStamper(t, func(o *Options) { o.PrivacyPage = true })
	for rcpt, lang := range map[string]string{"jean@acme.fr": "fr", "piet@acme.be": "nl", "john@acme.com": "en"} {
		b := bodies(t, stampFor(t, page, plainMsg, rcpt, ""))
		want := testOptions(t).BaseURL + "/privacy?lang=" + lang
		if !strings.Contains(b["text/plain"], want) {
			t.Errorf("%s: footer lacks %s:\n%s", rcpt, want, b["text/plain"])
		}
	}
	own := bodies(t, stampFor(t, newStamper(t), plainMsg, "jean@acme.fr", ""))["text/plain"]
	if strings.Contains(own, "/privacy?lang=") || !strings.Contains(own, testOptions(t).Details.PrivacyURL.String()) {
		t.Errorf("with a privacy URL the footer shows:\n%s", own)
	}
}

// The language the CRM contact reads wins over the country's, and gives
// one footer even in Belgium.
func TestContactLanguage(t *testing.T) {
	s := newStamper(t)
	for _, c := range []struct {
		rcpt, lang, want string
		cc               country.Code
	}{
		{"marie@acme.be", "fr", "fr", "BE"},
		{"piet@acme.be", "nl", "nl", ""},
		{"jean@acme.fr", "de", "de", "FR"},
		{"ann@acme.fr", "xx", "en", "FR"}, // no templates: the fallback
	} {
		if got := s.Language(c.rcpt, c.cc, c.lang); got != c.want {
			t.Errorf("Language(%s, %s, %s) = %q, want %q", c.rcpt, c.cc, c.lang, got, c.want)
		}
	}
	p, err := s.Prepare([]byte(plainMsg), "rep@acme.test")
	if err != nil {
		t.Fatal(err)
	}
	out, err := p.For("marie@acme.be", "BE", "fr")
	if err != nil {
		t.Fatal(err)
	}
	text := bodies(t, out)["text/plain"]
	if !strings.Contains(text, "Pour ne plus recevoir") || strings.Contains(text, "niet meer ontvangen") {
		t.Errorf("a French-reading Belgian contact's footer:\n%s", text)
	}
}
