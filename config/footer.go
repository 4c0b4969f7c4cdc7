package config

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dncgate/dncgate/footer/lang"
)

// Footer is the privacy notice and opt-out footer added to every message.
// The details are the variables of the templates (package footer), which
// make the notice GDPR Art. 14 asks for.
type Footer struct {
	Enabled          bool       `toml:"enabled"`
	Company          string     `toml:"company"`
	PostalAddress    string     `toml:"postal_address"`
	PrivacyURL       string     `toml:"privacy_url"`
	PrivacyContact   string     `toml:"privacy_contact"`
	Source           string     `toml:"source"`
	Purpose          string     `toml:"purpose"`
	LegalBasis       string     `toml:"legal_basis"`
	TemplatesDir     string     `toml:"templates_dir"`
	FallbackLanguage string     `toml:"fallback_language"`
	Signed           SignedMode `toml:"signed"`
	// Lang holds, by language tag ([footer.lang.fr]), the wording of the
	// prose values in that language; the values above are in
	// fallback_language and are shown as written in any language Lang
	// lacks.
	Lang map[string]FooterLocal `toml:"lang"`
}

// FooterLocal is the wording of the footer's prose values in one language.
type FooterLocal struct {
	Source     string `toml:"source"`
	Purpose    string `toml:"purpose"`
	LegalBasis string `toml:"legal_basis"`
}

// SignedMode is what happens to a signed or encrypted message, whose body
// the gateway must not change (RFC 1847 §2.1).
type SignedMode string

const (
	SignedHeadersOnly SignedMode = "headers-only" // forward it with the unsubscribe headers only
	SignedRefuse      SignedMode = "refuse"       // refuse it with a reply that says why
)

// Unsubscribe configures the links every footer and List-Unsubscribe header
// carry.
type Unsubscribe struct {
	// BaseURL prefixes "/u/TOKEN"; empty means http:// and web.listen.
	BaseURL      string   `toml:"base_url"`
	MailtoDomain string   `toml:"mailto_domain"` // empty: no mailto URI
	Org          string   `toml:"org"`           // empty: server.hostname
	KeysFile     string   `toml:"keys_file"`     // empty: DATA_DIR/unsubscribe.keys
	TokenMaxAge  Duration `toml:"token_max_age"`
	// MailtoListen is host:port of the SMTP listener that takes mailto
	// unsubscribes; empty turns it off.
	MailtoListen  string `toml:"mailto_listen"`
	RatePerMinute int    `toml:"rate_per_minute"` // per client address; 0: the default
}

// DKIM signs each recipient's copy after the rewrite; off when Domain is
// empty.
type DKIM struct {
	Domain   string `toml:"domain"`
	Selector string `toml:"selector"`
	KeyFile  string `toml:"key_file"`
}

// DefaultTokenMaxAge is how long an unsubscribe link keeps working: a
// year, longer than anyone keeps a prospecting mail before answering it.
const DefaultTokenMaxAge = 365 * 24 * time.Hour

// Sample footer details, used when no config file is given so that the
// quick start works; they say plainly that they are not real.
const (
	SampleCompany    = "SAMPLE COMPANY (set [footer] company in dncgate.toml)"
	sampleAddress    = "SAMPLE ADDRESS (set [footer] postal_address)"
	sampleSource     = "a sample source (set [footer] source)"
	samplePurpose    = "a sample purpose (set [footer] purpose)"
	sampleLegalBasis = "a sample legal basis (set [footer] legal_basis)"
)

func defaultFooter() Footer {
	return Footer{Enabled: true, FallbackLanguage: lang.Default, Signed: SignedHeadersOnly}
}

// FooterDetails returns the footer settings in force. When the file has no
// [footer] table (or there is no file) and no detail is set, the sample
// details fill in, and samples is true: serve warns about it.
func (c *Config) FooterDetails() (f Footer, samples bool) {
	f = c.Footer
	if !f.Enabled || c.src.wrote("footer") || f.Company != "" {
		return f, false
	}
	f.Company, f.PostalAddress = SampleCompany, sampleAddress
	f.Source, f.Purpose, f.LegalBasis = sampleSource, samplePurpose, sampleLegalBasis
	return f, true
}

// PrivacyPageURL is the footer's privacy link when privacy_url is not
// set: the processing page the web listener serves, BASE/privacy.
func (c *Config) PrivacyPageURL() string { return c.UnsubscribeBaseURL() + "/privacy" }

// UnsubscribeBaseURL is unsubscribe.base_url without its trailing "/", or
// http:// and the web listener's address, or, with no web listener,
// http:// and server.hostname.
func (c *Config) UnsubscribeBaseURL() string {
	switch {
	case c.Unsubscribe.BaseURL != "":
		return strings.TrimRight(c.Unsubscribe.BaseURL, "/")
	case c.Web.Listen != "":
		return "http://" + c.Web.Listen
	}
	return "http://" + c.Server.Hostname
}

// UnsubscribeOrg is the organisation id sealed into tokens.
func (c *Config) UnsubscribeOrg() string {
	if c.Unsubscribe.Org != "" {
		return c.Unsubscribe.Org
	}
	return c.Server.Hostname
}

// UnsubscribeKeysPath is the token key file.
func (c *Config) UnsubscribeKeysPath() string {
	if c.Unsubscribe.KeysFile != "" {
		return c.Unsubscribe.KeysFile
	}
	return filepath.Join(c.Server.DataDir, "unsubscribe.keys")
}

// FooterWarnings lists settings that work but should change before real
// mail goes out; serve logs them.
func (c *Config) FooterWarnings() []string {
	var w []string
	if _, samples := c.FooterDetails(); samples {
		w = append(w, "the footer shows SAMPLE company details: set them in the [footer] table")
	}
	if missing := c.untranslated(); len(missing) > 0 {
		w = append(w, "footers in "+strings.Join(missing, ", ")+" show footer.source, purpose and legal_basis as written in [footer]: "+
			"give each its wording in a [footer.lang.LANG] table (source, purpose, legal_basis)")
	}
	base := c.UnsubscribeBaseURL()
	if !strings.HasPrefix(base, "https://") {
		w = append(w, "unsubscribe links use "+base+": one-click unsubscribe (RFC 8058 §3) needs https; set unsubscribe.base_url")
	}
	if c.Unsubscribe.BaseURL == "" && c.Web.Listen == "" {
		w = append(w, "unsubscribe links point at "+base+", which nothing serves: set web.listen or unsubscribe.base_url")
	}
	return w
}

func (c *Config) checkFooter(col *collector) {
	f := c.Footer
	switch f.Signed {
	case SignedHeadersOnly, SignedRefuse:
	default:
		col.add("footer.signed", `unknown mode %q; use "headers-only" or "refuse"`, f.Signed)
	}
	c.checkUnsubscribeListeners(col)
	if !f.Enabled {
		return
	}
	if c.src.wrote("footer") {
		requireDetails(col, f)
	}
	if _, err := f.TemplatesFS(); err != nil {
		col.add("footer.templates_dir", "%v", err)
	}
	for tag := range f.Lang {
		if !lang.Valid(lang.Norm(tag)) {
			col.add("footer.lang."+tag, "%q is not a language tag (fr, nl, de-ch, …)", tag)
		}
	}
	c.checkUnsubscribe(col)
}

// untranslated lists the shipped languages, other than the fallback,
// whose footers would show the [footer] prose as written: set and not
// the samples, with no [footer.lang.LANG] for them.
func (c *Config) untranslated() []string {
	f := c.Footer
	if _, samples := c.FooterDetails(); samples || !f.Enabled || f.TemplatesDir != "" {
		return nil
	}
	fallback := lang.Norm(f.FallbackLanguage)
	if fallback == "" {
		fallback = lang.Default
	}
	have := map[string]bool{}
	for tag := range f.Lang {
		have[lang.Norm(tag)] = true
	}
	var out []string
	for _, l := range lang.Shipped {
		if l != fallback && !have[l] {
			out = append(out, l)
		}
	}
	return out
}

// requireDetails wants every detail the notice cannot do without.
func requireDetails(col *collector, f Footer) {
	for _, d := range []struct{ key, value, what string }{
		{"company", f.Company, "the company that writes"},
		{"postal_address", f.PostalAddress, "its postal address"},
		{"source", f.Source, "where the addresses were obtained (GDPR Art. 14(2)(f))"},
		{"purpose", f.Purpose, "why they are used (Art. 14(1)(c))"},
		{"legal_basis", f.LegalBasis, "the legal basis (Art. 14(1)(c))"},
	} {
		if strings.TrimSpace(d.value) == "" {
			col.add("footer."+d.key, "required with the footer enabled: %s", d.what)
		}
	}
	if f.PrivacyURL != "" {
		if err := checkWebURL(f.PrivacyURL); err != nil {
			col.add("footer.privacy_url", "%v", err)
		}
	}
}

// TemplatesFS is footer.templates_dir as a file system, nil when it is
// unset, or an error when it is not a folder. What the templates in it say
// is package footer's to check: the caller passes that check to
// LoadChecked.
func (f Footer) TemplatesFS() (fs.FS, error) {
	if f.TemplatesDir == "" {
		return nil, nil
	}
	if fi, err := os.Stat(f.TemplatesDir); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("%q is not a folder", f.TemplatesDir)
	}
	return os.DirFS(f.TemplatesDir), nil
}

func (c *Config) checkUnsubscribe(col *collector) {
	u := c.Unsubscribe
	if u.BaseURL != "" {
		if err := checkWebURL(u.BaseURL); err != nil {
			col.add("unsubscribe.base_url", "%v", err)
		}
	}
	if u.MailtoDomain != "" && !validHostname(u.MailtoDomain) {
		col.add("unsubscribe.mailto_domain", "%q is not a domain name", u.MailtoDomain)
	}
	if strings.ContainsAny(u.Org, "\r\n") {
		col.add("unsubscribe.org", "must be one line")
	}
	positive(col, "unsubscribe.token_max_age", u.TokenMaxAge)
}

// checkWebURL accepts an absolute http or https URL without query or
// fragment, which a path can be appended to.
func checkWebURL(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return fmt.Errorf("%q is not a URL", s)
	case (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fmt.Errorf("%q is not an absolute http or https URL", s)
	case u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("%q: a query or fragment cannot be followed by a path", s)
	}
	if _, _, err := net.SplitHostPort(u.Host); err != nil && strings.Contains(u.Host, ":") && !strings.HasSuffix(u.Host, "]") {
		return fmt.Errorf("%q: bad host:port", s)
	}
	return nil
}

func (c *Config) checkDKIM(col *collector) {
	d := c.DKIM
	if d.Domain == "" {
		if d.Selector != "" || d.KeyFile != "" {
			col.add("dkim.domain", "required with dkim.selector or dkim.key_file (signing is off without it)")
		}
		return
	}
	if !validHostname(d.Domain) {
		col.add("dkim.domain", "%q is not a domain name", d.Domain)
	}
	if d.Selector == "" {
		col.add("dkim.selector", "required with dkim.domain")
	} else if !validHostname(d.Selector) {
		col.add("dkim.selector", "%q is not a selector (letters, digits, '-', '.'; RFC 6376 §3.1)", d.Selector)
	}
	if checkFile(col, "dkim.key_file", d.KeyFile, "dkim.domain") {
		if _, err := LoadDKIMKey(d.KeyFile); err != nil {
			col.add("dkim.key_file", "%v", err)
		}
	}
}

// LoadDKIMKey reads a PEM private key: RSA (PKCS #1 or #8, RFC 6376
// §3.3.1) or Ed25519 (PKCS #8, RFC 8463).
func LoadDKIMKey(path string) (crypto.Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("%s: no PEM block", path)
	}
	// crypto/x509 refuses RSA keys under 1024 bits, as RFC 8301 §3.2 asks
	// of verifiers.
	if k, err := x509.ParsePKCS1PrivateKey(blk.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: not an RSA or Ed25519 private key", path)
	}
	switch k := k.(type) {
	case *rsa.PrivateKey:
		return k, nil
	case ed25519.PrivateKey:
		return k, nil
	}
	return nil, fmt.Errorf("%s: a %T key; DKIM signs with RSA or Ed25519", path, k)
}

// wrote reports whether the file set anything under path.
func (s *source) wrote(path string) bool {
	if s == nil {
		return false
	}
	for k := range s.lines {
		if under(k, path) {
			return true
		}
	}
	return false
}
