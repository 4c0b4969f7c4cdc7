package config

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCapsParse(t *testing.T) {
	c, err := Load(writeConfig(t, `
[[caps]]
name = "recipient-30d"
scope = "recipient"
limit = 3
window = "720h"

[[caps]]
name = "fr-domain-day"
scope = "recipient-domain"
limit = 20
window = "24h"
count = "recipients"
countries = ["FR", "be"]
mode = "tempfail"
hold = "15m"
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Caps) != 2 {
		t.Fatalf("caps = %+v", c.Caps)
	}
	first := c.Caps[0].Effective()
	if first.Count != CapMessages || first.Mode != CapReject || first.Hold.Duration != 10*time.Minute ||
		first.Window.Duration != 720*time.Hour || first.Limit != 3 || first.Scope != CapRecipient {
		t.Errorf("first cap with defaults = %+v", first)
	}
	second := c.Caps[1].Effective()
	if second.Count != CapRecipients || second.Mode != CapTempfail || second.Hold.Duration != 15*time.Minute ||
		!slices.Equal(second.Countries, []string{"FR", "be"}) {
		t.Errorf("second cap = %+v", second)
	}
	if m := c.Masked(); !strings.Contains(m, `name = "fr-domain-day"`) || !strings.Contains(m, `window = "1d"`) {
		t.Errorf("config check output lacks the caps:\n%s", m)
	}
}

func TestCapsNoneByDefault(t *testing.T) {
	c, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Caps) != 0 {
		t.Fatalf("default caps = %+v, want none", c.Caps)
	}
}

// TestCapHoldAgainstDataTimeout: the default hold is checked too, and the
// message says it is the default.
func TestCapHoldAgainstDataTimeout(t *testing.T) {
	_, err := Load(writeConfig(t, `
[upstream]
data_timeout = "20m"

[[caps]]
name = "c"
scope = "org"
limit = 1000
window = "24h"
`))
	want := `:5: caps[0].hold: 10m (the default) must be longer than upstream.data_timeout (20m)`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Load = %v, want a problem containing %q", err, want)
	}
}
