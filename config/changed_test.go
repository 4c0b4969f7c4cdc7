package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestChangedShowsOnlyWhatDiffers(t *testing.T) {
	if got := Default().Changed(); got != "" {
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
	got := c.Changed()
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
