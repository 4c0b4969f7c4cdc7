package config

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Without a file, and with a file that has no [footer] table, the footer
// runs on sample details that say so, and serve is told to warn.
func TestFooterSamplesWithoutFooterTable(t *testing.T) {
	for name, path := range map[string]string{
		"no file":         "",
		"no footer table": writeConfig(t, "[server]\nhostname = \"gw.test\"\n"),
	} {
		c, err := Load(path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		f, samples := c.FooterDetails()
		if !samples || !f.Enabled || f.Company != SampleCompany || !strings.Contains(f.PostalAddress, "SAMPLE") {
			t.Errorf("%s: details %+v, samples %v; want the samples", name, f, samples)
		}
		if !strings.Contains(strings.Join(c.FooterWarnings(), "\n"), "SAMPLE") {
			t.Errorf("%s: no warning about the samples: %q", name, c.FooterWarnings())
		}
	}
}

func TestFooterDetailsFromFile(t *testing.T) {
	c, err := Load(writeConfig(t, `
[footer]
company = "Acme SAS"
postal_address = "1 rue X"
privacy_url = "https://acme.example/privacy"
source = "websites"
purpose = "offers"
legal_basis = "legitimate interest"
signed = "refuse"
[footer.lang.fr]
source = "sites web"
purpose = "des offres"
legal_basis = "intérêt légitime"
[footer.lang.nl]
purpose = "aanbiedingen"
[footer.lang.DE]
purpose = "Angebote"
[footer.lang.es]
purpose = "ofertas"
[footer.lang.it]
purpose = "offerte"
[unsubscribe]
base_url = "https://u.acme.example/"
[web]
listen = "127.0.0.1:8080"
`))
	if err != nil {
		t.Fatal(err)
	}
	f, samples := c.FooterDetails()
	if samples || f.Company != "Acme SAS" || f.Signed != SignedRefuse {
		t.Errorf("details %+v, samples %v", f, samples)
	}
	if got := c.UnsubscribeBaseURL(); got != "https://u.acme.example" {
		t.Errorf("base URL %q, want the trailing / dropped", got)
	}
	if w := c.FooterWarnings(); len(w) != 0 {
		t.Errorf("warnings %q, want none", w)
	}
	if c.Footer.Lang["fr"].Source != "sites web" {
		t.Errorf("footer.lang.fr = %+v", c.Footer.Lang["fr"])
	}
	// Without the French wording, French footers show the English prose:
	// said once, naming the language.
	delete(c.Footer.Lang, "fr")
	if w := c.FooterWarnings(); len(w) != 1 || !strings.Contains(w[0], "footers in fr show footer.source") {
		t.Errorf("warnings %q, want one naming fr", w)
	}
}

func TestFooterOffNeedsNoDetails(t *testing.T) {
	c, err := Load(writeConfig(t, "[footer]\nenabled = false\n"))
	if err != nil {
		t.Fatal(err)
	}
	if f, samples := c.FooterDetails(); f.Enabled || samples {
		t.Errorf("footer %+v, samples %v; want off", f, samples)
	}
}

func TestUnsubscribeDefaults(t *testing.T) {
	c := Default()
	c.Server.Hostname, c.Server.DataDir = "gw.test", "/srv/d"
	if got := c.UnsubscribeBaseURL(); got != "http://gw.test" {
		t.Errorf("base URL without web.listen = %q", got)
	}
	c.Web.Listen = "127.0.0.1:8025"
	if got := c.UnsubscribeBaseURL(); got != "http://127.0.0.1:8025" {
		t.Errorf("base URL = %q, want http:// and web.listen", got)
	}
	if c.UnsubscribeOrg() != "gw.test" || c.UnsubscribeKeysPath() != "/srv/d/unsubscribe.keys" {
		t.Errorf("org %q, keys %q", c.UnsubscribeOrg(), c.UnsubscribeKeysPath())
	}
	if c.Unsubscribe.TokenMaxAge.Duration != DefaultTokenMaxAge {
		t.Errorf("token max age %v", c.Unsubscribe.TokenMaxAge)
	}
	if w := strings.Join(c.FooterWarnings(), "\n"); !strings.Contains(w, "https") {
		t.Errorf("no warning that one-click needs https: %q", w)
	}
}

func writePEM(t *testing.T, typ string, der []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadDKIMKey(t *testing.T) {
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	_, ek, _ := ed25519.GenerateKey(rand.Reader)
	ed, _ := x509.MarshalPKCS8PrivateKey(ek)
	pk8, _ := x509.MarshalPKCS8PrivateKey(rk)
	for name, path := range map[string]string{
		"rsa pkcs1": writePEM(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rk)),
		"rsa pkcs8": writePEM(t, "PRIVATE KEY", pk8),
		"ed25519":   writePEM(t, "PRIVATE KEY", ed),
	} {
		if _, err := LoadDKIMKey(path); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ec)
	for name, c := range map[string]struct{ path, want string }{
		"ecdsa":   {writePEM(t, "PRIVATE KEY", ecDER), "RSA or Ed25519"},
		"not pem": {writeConfig(t, "hello"), "no PEM block"},
	} {
		if _, err := LoadDKIMKey(c.path); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want %q", name, err, c.want)
		}
	}
}

func TestDKIMConfigLoads(t *testing.T) {
	_, ek, _ := ed25519.GenerateKey(rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(ek)
	key := writePEM(t, "PRIVATE KEY", der)
	c, err := Load(writeConfig(t, "[dkim]\ndomain = \"acme.example\"\nselector = \"s2026\"\nkey_file = \""+key+"\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.DKIM.Domain != "acme.example" || c.DKIM.Selector != "s2026" {
		t.Errorf("dkim %+v", c.DKIM)
	}
}

// A check another package owns reports at the key's line, sorted among
// the configuration's own problems, which are all still reported.
func TestLoadCheckedLocatesProblems(t *testing.T) {
	path := writeConfig(t, "[limits]\nmax_recipients = \"ten\"\n\n[footer]\nenabled = false\nfallback_language = \"pt\"\n\n[store]\nbackend = \"postgres\"\n")
	var saw string
	check := func(c *Config, problem func(string, error)) {
		saw = c.Footer.FallbackLanguage
		problem("footer.fallback_language", errors.New("no templates"))
	}
	_, err := LoadChecked(path, []Check{check})
	want := strings.Join([]string{
		path + `:2: limits.max_recipients: want an integer, got a string`,
		path + `:6: footer.fallback_language: no templates`,
		path + `:9: store.backend: unknown backend "postgres"; use "embedded" or "redis"`,
	}, "\n")
	if err == nil || err.Error() != want {
		t.Errorf("LoadChecked: %v\nwant:\n%s", err, want)
	}
	if saw != "pt" {
		t.Errorf("the check saw fallback_language %q, want the file's", saw)
	}
	if _, err := Load(path); err == nil || strings.Contains(err.Error(), "no templates") {
		t.Errorf("Load without checks: %v", err)
	}
}

func TestTemplatesFS(t *testing.T) {
	if fsys, err := (Footer{}).TemplatesFS(); fsys != nil || err != nil {
		t.Errorf("unset: %v, %v; want nil, nil", fsys, err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "fr.txt.tmpl"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	fsys, err := (Footer{TemplatesDir: dir}).TemplatesFS()
	if err != nil {
		t.Fatal(err)
	}
	if b, err := fs.ReadFile(fsys, "fr.txt.tmpl"); err != nil || string(b) != "x" {
		t.Errorf("read %q, %v", b, err)
	}
	file := filepath.Join(dir, "fr.txt.tmpl")
	if _, err := (Footer{TemplatesDir: file}).TemplatesFS(); err == nil || err.Error() != strconv.Quote(file)+" is not a folder" {
		t.Errorf("a file: %v", err)
	}
}

// Without privacy_url a [footer] table is complete: the footer links to
// the processing page under the unsubscribe base URL.
func TestFooterWithoutPrivacyURL(t *testing.T) {
	c, err := Load(writeConfig(t, `
[footer]
company = "Acme SAS"
postal_address = "1 rue X"
source = "websites"
purpose = "offers"
legal_basis = "legitimate interest"
[unsubscribe]
base_url = "https://u.acme.example/"
`))
	if err != nil {
		t.Fatal(err)
	}
	if f, _ := c.FooterDetails(); f.PrivacyURL != "" {
		t.Errorf("privacy URL %q, want none", f.PrivacyURL)
	}
	if got := c.PrivacyPageURL(); got != "https://u.acme.example/privacy" {
		t.Errorf("page URL %q", got)
	}
}
