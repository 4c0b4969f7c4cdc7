// Package stamp makes each recipient's copy of a message: the privacy
// notice and opt-out footer in the recipient's language, the
// List-Unsubscribe headers with a token of that recipient's own, a
// Message-ID when the message has none, and a DKIM signature when
// configured. The gateway's wiring makes it the relay's Stamper; the
// package does not import the relay.
package stamp

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/mail"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/dncgate/dncgate/country"
	"github.com/dncgate/dncgate/footer"
	"github.com/dncgate/dncgate/lists"
	"github.com/dncgate/dncgate/relay/rewrite"
	"github.com/dncgate/dncgate/smtpreply"
	"github.com/dncgate/dncgate/unsubscribe/token"
)

// Header values of one-click unsubscribe (RFC 8058 §3.1).
const (
	hdrListUnsub     = "List-Unsubscribe"
	hdrListUnsubPost = "List-Unsubscribe-Post"
	oneClick         = "List-Unsubscribe=One-Click"
	// unsubPath is where the web side serves tokens: BASE/u/TOKEN.
	unsubPath = "/u/"
	// mailtoLocal is the local part of the mailto URI, before "+TOKEN".
	mailtoLocal = "unsubscribe"
	// minKeyLen is the shortest marker key accepted, as for any HMAC key
	// (RFC 2104 §3).
	minKeyLen = 32
)

// Options configure a Stamper. Templates, Keyring, BaseURL and Key are
// required unless NoFooter is set.
type Options struct {
	Templates *footer.Templates
	// Details are the footer's fixed variables; UnsubscribeURL and RepName
	// are filled in for each copy.
	Details      footer.Vars
	Keyring      *token.Keyring
	Org          string // organisation sealed into every token
	BaseURL      string // "https://u.acme.example": links are BASE/u/TOKEN
	MailtoDomain string // "" adds no mailto URI to List-Unsubscribe
	// PrivacyPage, when set (no [footer] privacy_url), makes the footer's
	// privacy link BASE/privacy?lang=LANG, the gateway's own processing
	// page in the copy's language, instead of Details.PrivacyURL.
	PrivacyPage bool
	Signed      rewrite.SignedPolicy
	// NoFooter leaves the body and the unsubscribe headers alone: only the
	// DKIM signature is added.
	NoFooter bool
	DKIM     *DKIM // nil signs nothing
	// Key authenticates the marker of a footed message and seeds the
	// Message-ID; every instance must share it (the digest key serves).
	Key []byte
	Now func() time.Time // default time.Now
}

// Stamper prepares messages. It is safe for concurrent use.
type Stamper struct {
	o       Options
	footers footerCache
}

// New checks the options and returns a Stamper.
func New(o Options) (*Stamper, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.DKIM != nil {
		if err := o.DKIM.check(); err != nil {
			return nil, err
		}
	}
	if o.NoFooter {
		return &Stamper{o: o}, nil
	}
	switch {
	case o.Templates == nil:
		return nil, errors.New("stamp: no footer templates")
	case o.Keyring == nil:
		return nil, errors.New("stamp: no token keyring")
	case len(o.Key) < minKeyLen:
		return nil, fmt.Errorf("stamp: the marker key is %d bytes, want at least %d", len(o.Key), minKeyLen)
	case !strings.HasPrefix(o.BaseURL, "http://") && !strings.HasPrefix(o.BaseURL, "https://"):
		return nil, fmt.Errorf("stamp: base URL %q is not http(s)", o.BaseURL)
	}
	o.BaseURL = strings.TrimRight(o.BaseURL, "/")
	return &Stamper{o: o}, nil
}

// Prepared is one message, parsed once for all its recipients.
type Prepared struct {
	s       *Stamper
	raw     []byte
	msg     *rewrite.Message // the message without any incoming marker
	marks   marks            // the incoming markers, to verify per recipient
	repName footer.Text

	keptOnce sync.Once // msg as it came, parsed when a marker verifies
	kept     *rewrite.Message
	keptErr  error
}

// Prepare parses body once. rep is the AUTH identity; the footer names the
// rep by the From display name, which is what the recipient sees. A signed
// message under the refuse policy, or one too deeply nested to rewrite, is
// refused with an *smtpreply.Error.
//
// Every copy loses the message's Bcc and Resent-Bcc fields, footer or not.
func (s *Stamper) Prepare(body []byte, rep string) (*Prepared, error) {
	body = dropBlind(body)
	p := &Prepared{s: s, raw: body}
	if s.o.NoFooter {
		return p, nil
	}
	p.repName = footer.NewText(fromName(body))
	stripped, marks := stripMarkers(body)
	p.marks = marks
	msg, err := rewrite.Parse(stripped, s.parseOptions(body, rep))
	if err != nil {
		return nil, refusal(err)
	}
	p.msg = msg
	return p, nil
}

// parseOptions seeds the Message-ID and boundaries from the message, so a
// client's retry of the same message gives its other recipients the same
// Message-ID as the first ones: replies then name one id however often it
// was retried. The seed costs a pass over the body, made only when the
// rewriter asks for random bytes.
func (s *Stamper) parseOptions(body []byte, rep string) rewrite.Options {
	seed := func() [32]byte {
		m := hmac.New(sha256.New, s.o.Key)
		m.Write([]byte("dncgate message-id\x00" + rep + "\x00"))
		m.Write(body)
		var b [32]byte
		copy(b[:], m.Sum(nil))
		return b
	}
	return rewrite.Options{Signed: s.o.Signed, Rand: &seeded{seed: seed}}
}

// seeded is a deterministic random stream whose seed is made on first use.
type seeded struct {
	seed func() [32]byte
	r    *rand.ChaCha8
}

func (z *seeded) Read(p []byte) (int, error) {
	if z.r == nil {
		z.r = rand.NewChaCha8(z.seed())
	}
	return z.r.Read(p)
}

// refusal turns a Parse or Render error into the reply the client gets.
func refusal(err error) error {
	switch {
	case errors.Is(err, rewrite.ErrSigned):
		return smtpreply.New(smtpreply.Denied, smtpreply.Footer,
			"Signed or encrypted message: the opt-out footer cannot be added without breaking it; send it unsigned", err)
	case errors.Is(err, rewrite.ErrTooDeep):
		return smtpreply.New(smtpreply.BadMedia, smtpreply.Footer,
			"MIME parts nested too deeply to add the opt-out footer", err)
	case errors.Is(err, rewrite.ErrTooManyParts):
		return smtpreply.New(smtpreply.BadMedia, smtpreply.Footer,
			fmt.Sprintf("Too many MIME parts to add the opt-out footer (limit %d)", rewrite.DefaultMaxParts), err)
	case errors.Is(err, rewrite.ErrTooLarge):
		return smtpreply.New(smtpreply.TooBig, smtpreply.Footer,
			"Message would grow too much with the opt-out footer (a body must be re-encoded whole); send it as UTF-8 or quoted-printable", err)
	}
	return fmt.Errorf("stamp: %w", err)
}

// MessageID returns the Message-ID every copy gets because the message has
// none, or "" when it has one.
func (p *Prepared) MessageID() string {
	if p.msg == nil {
		return ""
	}
	return p.msg.MessageID()
}

// For returns rcpt's copy. language is the one the recipient's CRM
// contact reads ("" unknown); else cc, the recipient's country when known,
// else the address's country-code TLD decides the footer's language. The
// token of the unsubscribe link carries that language, so the page the
// link opens speaks it too. The token names rcpt's normalised form, the
// key of the opt-out list: an address that has none is refused (553
// 5.1.3), never given a token under another key.
func (p *Prepared) For(rcpt string, cc country.Code, language string) ([]byte, error) {
	if p.s.o.NoFooter {
		return p.s.sign(p.raw)
	}
	who, err := lists.NormaliseEmail(rcpt)
	if err != nil {
		// The recipient check refuses such an address before DATA; a
		// token under any other key would opt out someone else.
		return nil, smtpreply.New(smtpreply.MailboxSyntax, smtpreply.NoToken,
			"Recipient address has no normalised form; no unsubscribe link can be made for it", err)
	}
	lang := p.s.Language(rcpt, cc, language)
	tok := p.s.o.Keyring.SealClaims(token.Claims{Recipient: who, Org: p.s.o.Org, Issued: p.s.o.Now(), Lang: footer.Primary(lang)})
	msg, err := p.messageFor(who)
	if err != nil {
		return nil, err
	}
	f, err := p.s.renderFooter(lang, p.repName, tok)
	if err != nil {
		return nil, err
	}
	// Room for the largest copy Render allows and the sealed marker, so
	// the buffer is allocated once.
	set := p.s.headers(tok)
	var out bytes.Buffer
	out.Grow(len(p.raw) + rewrite.Allowance(f, set) + 2*macLen)
	if err := msg.Render(&out, f, set); err != nil {
		return nil, refusal(err)
	}
	return p.s.sign(p.s.sealMarker(out.Bytes(), who))
}

// messageFor is the message to render for who: as it came when a marker
// proves the gateway already footed it for who (so it is not footed
// twice), else the message without any incoming marker.
func (p *Prepared) messageFor(who string) (*rewrite.Message, error) {
	if !p.s.verifies(p.marks, who) {
		return p.msg, nil
	}
	p.keptOnce.Do(func() {
		p.kept, p.keptErr = rewrite.Parse(p.raw, p.s.parseOptions(p.raw, ""))
	})
	if p.keptErr != nil {
		return nil, refusal(p.keptErr)
	}
	return p.kept, nil
}

// Language is the language of rcpt's footer: the one of cc, the country
// the recipient check found, else of the country the address's TLD names,
// as the footer templates have it; for a country of several languages
// (Belgium) several joined by "+", the first of which the unsubscribe
// page speaks. A language the CRM contact gives wins over the country,
// and gives one footer. It is decided here, once a copy.
func (s *Stamper) Language(rcpt string, cc country.Code, language string) string {
	if language != "" {
		return s.o.Templates.Resolve(language)
	}
	if !cc.Known() {
		cc, _ = country.FromAddress(rcpt)
	}
	return s.o.Templates.Resolve(footer.FooterLanguages(cc))
}

func (s *Stamper) unsubURL(tok string) string { return s.o.BaseURL + unsubPath + tok }

// privacyPath is where the web listener serves the processing page.
const privacyPath = "/privacy"

// privacyURL is the footer's privacy link for a copy in lang.
func (s *Stamper) privacyURL(lang string) footer.Text {
	if !s.o.PrivacyPage {
		return s.o.Details.PrivacyURL
	}
	return footer.NewText(s.o.BaseURL + privacyPath + "?lang=" + url.QueryEscape(lang))
}

// headers are the one-click unsubscribe fields (RFC 2369 §3.2, RFC 8058
// §3.1): the https (or http) URI first, then the mailto one, replacing any
// the client wrote.
func (s *Stamper) headers(tok string) []rewrite.Header {
	v := "<" + s.unsubURL(tok) + ">"
	if s.o.MailtoDomain != "" {
		v += ", <mailto:" + mailtoLocal + "+" + tok + "@" + s.o.MailtoDomain + ">"
	}
	return []rewrite.Header{{Key: hdrListUnsub, Value: v}, {Key: hdrListUnsubPost, Value: oneClick}}
}

// fromName is the display name of the message's From address, or "".
func fromName(body []byte) string {
	m, err := mail.ReadMessage(bytes.NewReader(body))
	if err != nil {
		return ""
	}
	a, err := mail.ParseAddress(m.Header.Get("From"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(a.Name)
}
