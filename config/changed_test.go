package config

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestChangedShowsOnlyWhatDiffers(t *testing.T) {
	if got := Default().ChangedText(); got != "" {
		t.Fatalf("the defaults differ from themselves:\n%s", got)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "dncgate.toml")
	os.WriteFile(path, []byte(`
[server]
hostname = "gw.acme.example"

[upstream]
url = "smtps://relay:secret@mail.acme.example:465"

[limits]
max_recipients = 50

[[caps]]
name = "recipient-30d"
scope = "recipient"
limit = 3
window = "30d"
`), 0o600)
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	got := c.ChangedText()
	for _, want := range []string{`hostname = "gw.acme.example"`, "max_recipients = 50", `name = "recipient-30d"`,
		`hold = "10m"`, `window = "30d"`, `url = "smtps://relay:***@mail.acme.example:465"`} {
		if !strings.Contains(got, want) {
			t.Errorf("Changed() lacks %s:\n%s", want, got)
		}
	}
	for _, not := range []string{"secret", "idle_timeout", "max_message_size", "[auth]", "rate_per_minute"} {
		if strings.Contains(got, not) {
			t.Errorf("Changed() shows %q, which the file did not change:\n%s", not, got)
		}
	}
}

// What config check prints is what applies: a default worked out at run
// time is printed as its value, not as the 0 or "" that selects it.
func TestMaskedPrintsValuesInForce(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "dncgate.toml")
	os.WriteFile(path, []byte("[[caps]]\nname = \"c\"\nscope = \"recipient\"\nlimit = 1\nwindow = \"1d\"\n"), 0o600)
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	m := c.Masked()
	for _, want := range []string{`hold = "10m"`, "rate_per_minute = 30", `count = "messages"`, `mode = "reject"`} {
		if !strings.Contains(m, want) {
			t.Errorf("Masked() lacks %s", want)
		}
	}
	if strings.Contains(m, `hold = "0s"`) || strings.Contains(m, "rate_per_minute = 0\n") {
		t.Errorf("Masked() prints a selector instead of the value in force:\n%s", m)
	}
}

// The start-up line names where the configuration came from and the parts
// an operator looks for, in a few hundred characters, secrets masked.
func TestSummaryIsShortAndMasked(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "dncgate.toml")
	os.WriteFile(path, []byte(`
[upstream]
url = "smtps://relay:up-Secret@mail.acme.example:465"
[store]
backend = "redis"
redis_url = "redis://:redis-Secret@127.0.0.1:6379/0"
[privacy]
hmac_key = "6d792d766572792d7365637265742d686d61632d6b65792d6f662d33322d6279"
[ledger]
url = "postgres://dncgate:pg-Secret@db.acme.example/ledger"
`), 0o600)
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	slog.New(slog.NewTextHandler(&b, nil)).LogAttrs(t.Context(), slog.LevelInfo, "starting", c.Summary()...)
	line := b.String()
	if len(line) > 500 {
		t.Errorf("start-up line is %d characters:\n%s", len(line), line)
	}
	for _, want := range []string{"config=" + path, "upstream=smtps://relay:***@mail.acme.example:465", "store=\"redis redis://:***@127.0.0.1:6379/0\"",
		"ledger=\"postgres postgres://dncgate:***@db.acme.example/ledger\"", `listeners="default=127.0.0.1:2525/none"`} {
		if !strings.Contains(line, want) {
			t.Errorf("start-up line lacks %s:\n%s", want, line)
		}
	}
	for _, secret := range []string{"up-Secret", "redis-Secret", "pg-Secret", "6d792d76"} {
		if strings.Contains(line, secret) {
			t.Errorf("start-up line shows %s:\n%s", secret, line)
		}
	}
}
