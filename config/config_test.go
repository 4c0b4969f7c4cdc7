package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"time"

	"github.com/dncgate/dncgate/internal/testcert"
	"github.com/dncgate/dncgate/smtpurl"
)

// testKeyPair writes a certificate and its key into dir.
func testKeyPair(t *testing.T, dir string) (certFile, keyFile string) {
	certFile, keyFile, _ = testcert.New(t, "gw.test").WriteFiles(t, dir)
	return certFile, keyFile
}

// writeConfig writes text to a config file in a fresh folder.
func writeConfig(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "dncgate.toml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaultsValidate(t *testing.T) {
	c, err := Load("")
	if err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	if len(c.Listeners) != 1 || c.Listeners[0].Address != DefaultListenAddress || c.Listeners[0].TLS != TLSNone {
		t.Errorf("default listeners = %+v, want one plain listener on %s", c.Listeners, DefaultListenAddress)
	}
	if c.Limits.MaxMessageSize != 25*MB || c.Limits.RememberDelivered.Duration != 72*time.Hour {
		t.Errorf("default limits = %+v", c.Limits)
	}
	if c.Store.Backend != BackendEmbedded || c.Server.DataDir != DefaultDataDir {
		t.Errorf("default store/data_dir = %q/%q", c.Store.Backend, c.Server.DataDir)
	}
}

// A file holding one section changes only what it writes.
func TestPartialFileKeepsDefaults(t *testing.T) {
	c, err := Load(writeConfig(t, "[limits]\nmax_recipients = 7\nmax_message_size = 1048576\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Limits.MaxRecipients = 7
	want.Limits.MaxMessageSize = MiB
	c.src, want.src = nil, nil
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got  %+v\nwant %+v", c, want)
	}
}

// Writing [[listener]] replaces the default listener; each table starts
// from the listener defaults.
func TestListenersReplaceDefault(t *testing.T) {
	c, err := Load(writeConfig(t, `
[[listener]]
address = "127.0.0.1:2600"
  [[listener.trusted]]
  network = "10.0.0.7"
  identity = "crm@acme.example"
[[listener]]
name = "second"
address = "127.0.0.1:2601"
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Listeners) != 2 {
		t.Fatalf("got %d listeners, want 2", len(c.Listeners))
	}
	l := c.Listeners[0]
	if l.TLS != TLSNone || l.Label() != "127.0.0.1:2600" || c.Listeners[1].Label() != "second" {
		t.Errorf("listeners = %+v", c.Listeners)
	}
	if p := l.Trusted[0].Prefix(); p.String() != "10.0.0.7/32" {
		t.Errorf("single address network = %v, want 10.0.0.7/32", p)
	}
}

// TestExampleLoads keeps the shipped example valid. Its certificate paths
// point into /etc, so they are redirected to a throwaway pair.
func TestExampleLoads(t *testing.T) {
	cert, key := testKeyPair(t, t.TempDir())
	secret := filepath.Join(t.TempDir(), "webhook.secret")
	if err := os.WriteFile(secret, []byte("0123456789abcdef0123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load("../dncgate.example.toml", func(c *Config) {
		for i := range c.Listeners {
			c.Listeners[i].CertFile, c.Listeners[i].KeyFile = cert, key
		}
		for i := range c.Webhooks {
			c.Webhooks[i].SecretFile = secret
		}
	})
	if err != nil {
		t.Fatalf("the example config does not load:\n%v", err)
	}
	if len(c.Listeners) != 2 || c.Listeners[0].TLS != TLSStartTLS || c.Listeners[1].TLS != TLSImplicit {
		t.Errorf("example listeners = %+v", c.Listeners)
	}
	if !strings.HasPrefix(c.Upstream.URL, string(smtpurl.SchemeStartTLS)+"://") {
		t.Errorf("example upstream = %q, want smtp+starttls", c.Upstream.URL)
	}
}

// TestExampleDocumentsEveryKey: each key of the schema appears in the example.
func TestExampleDocumentsEveryKey(t *testing.T) {
	text, err := os.ReadFile("../dncgate.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	lines := scanLines(string(text))
	var walk func(prefix string, typ reflect.Type)
	walk = func(prefix string, typ reflect.Type) {
		for name, i := range tomlFields(typ) {
			path := joinKey(prefix, []string{name})
			f := typ.Field(i).Type
			if f.Kind() == reflect.Slice && f.Elem().Kind() == reflect.Struct {
				walk(path+"[0]", f.Elem())
				continue
			}
			if f.Kind() == reflect.Map { // a table of named tables: one example entry
				name := ""
				for k := range lines {
					if rest, ok := strings.CutPrefix(k, path+"."); ok && !strings.Contains(rest, ".") {
						name = rest
					}
				}
				if name == "" {
					t.Errorf("the example shows no %s.NAME table", path)
					continue
				}
				walk(path+"."+name, f.Elem())
				continue
			}
			if _, ok := lines[path]; !ok {
				t.Errorf("the example does not show %s", path)
			}
			if f.Kind() == reflect.Struct && f != reflect.TypeOf(Duration{}) {
				walk(path, f)
			}
		}
	}
	walk("", reflect.TypeOf(Config{}))
}

func TestMaskedHidesSecrets(t *testing.T) {
	c, err := Load(writeConfig(t, `
[upstream]
url = "smtp+starttls://rep%40acme.example:upstream-Pa55@mail.acme.example:587"
[store]
backend = "redis"
redis_url = "redis://dncgate:redis-url-Pa55@10.0.0.1:6379/0"
redis_password = "redis-Pa55"
[privacy]
hmac_key = "bXktdmVyeS1zZWNyZXQtaG1hYy1rZXktb2YtYXQtbGVhc3QtMzItYnl0ZXM="
`))
	if err != nil {
		t.Fatal(err)
	}
	m := c.Masked()
	for _, s := range []string{"upstream-Pa55", "redis-url-Pa55", "redis-Pa55", c.Privacy.HMACKey} {
		if strings.Contains(m, s) {
			t.Errorf("Masked() shows the secret %q:\n%s", s, m)
		}
	}
	for _, s := range []string{
		`url = "smtp+starttls://rep%40acme.example:***@mail.acme.example:587"`,
		`redis_url = "redis://dncgate:***@10.0.0.1:6379/0"`,
		`redis_password = "***"`,
		`hmac_key = "***"`,
	} {
		if !strings.Contains(m, s) {
			t.Errorf("Masked() lacks %q:\n%s", s, m)
		}
	}
}

// The masked text of a config without secrets is a config file that loads
// back to the same values, derived defaults included.
func TestMaskedRoundTrip(t *testing.T) {
	c, err := Load(writeConfig(t, "[server]\nhostname = \"gw.test\"\ndata_dir = \"/srv/dncgate\"\n[limits]\nmax_message_size = \"512KiB\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	back, err := Load(writeConfig(t, c.Masked()))
	if err != nil {
		t.Fatalf("masked output does not load:\n%v\n%s", err, c.Masked())
	}
	if back.Masked() != c.Masked() {
		t.Errorf("round trip changed the config:\n%s\nvs\n%s", back.Masked(), c.Masked())
	}
	if back.Store.Path != "/srv/dncgate/dncgate.db" || back.Upstream.URL != "outbox:/srv/dncgate/outbox" {
		t.Errorf("derived defaults not written: path %q, url %q", back.Store.Path, back.Upstream.URL)
	}
}

func TestLogValueIsMasked(t *testing.T) {
	c := Default()
	c.Store.RedisPassword = "redis-Pa55"
	v := c.LogValue()
	if strings.Contains(v.String(), "redis-Pa55") {
		t.Errorf("LogValue shows the secret: %s", v)
	}
	if !strings.Contains(v.String(), "***") {
		t.Errorf("LogValue lacks the masked password: %s", v)
	}
}

// Overrides applied through Load are validated with the file, and problems
// with them do not point at file lines.
func TestOverridesAreValidated(t *testing.T) {
	path := writeConfig(t, "[[listener]]\naddress = \"127.0.0.1:2525\"\n")
	_, err := Load(path, func(c *Config) {
		c.Listeners = []Listener{{Address: "nowhere", TLS: TLSNone}}
		c.MarkOverridden("listener")
	})
	want := `listener[0].address: "nowhere" is not host:port (set on the command line)`
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %q", err, want)
	}
}

func TestDerivedPaths(t *testing.T) {
	c := Default()
	c.Server.DataDir = "/srv/d"
	if got := c.StorePath(); got != "/srv/d/dncgate.db" {
		t.Errorf("StorePath = %q", got)
	}
	if dir, ok := c.OutboxDir(); !ok || dir != "/srv/d/outbox" {
		t.Errorf("OutboxDir = %q, %v", dir, ok)
	}
	c.Store.Path, c.Upstream.URL = "/x/y.db", "smtp://mail.example.com"
	if got := c.StorePath(); got != "/x/y.db" {
		t.Errorf("StorePath = %q", got)
	}
	if _, ok := c.OutboxDir(); ok {
		t.Errorf("an smtp upstream reported an outbox")
	}
}

func TestMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "absent.toml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("got %v, want a not-exist error", err)
	}
}
