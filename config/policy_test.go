package config

import (
	"strings"
	"testing"
	"time"
)

const goodPolicy = `
[policy]
default_country = "fr"
consumer_domains = ["bücher-post.de", "mail.example"]
role_local_parts = ["recrutement"]

[[policy.rule]]
country = "UK"
since = "2026-08-11"
consumer = "refuse"

[[policy.rule]]
country = "GB"
business = "consent"

[[policy.rule]]
country = "*"
consumer = "consent"
sole_trader = "consent"
`

func TestPolicyLoads(t *testing.T) {
	c, err := Load(writeConfig(t, goodPolicy))
	if err != nil {
		t.Fatal(err)
	}
	p := c.Policy
	if !p.Presets {
		t.Error("presets off although the file leaves them out")
	}
	if len(p.Rules) != 3 || len(p.ConsumerDomains) != 2 || p.RoleLocalParts[0] != "recrutement" {
		t.Fatalf("policy = %+v", p)
	}
	r := p.Rules[0]
	if ruleCountry(r.Country) != "GB" || !r.Since.Equal(time.Date(2026, 8, 11, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("rule 0 = %+v", r)
	}
	if got := r.Actions(); len(got) != 1 || got["consumer"] != PolicyRefuse {
		t.Errorf("rule 0 actions = %v", got)
	}
	if got := p.Rules[2].Actions(); len(got) != 2 || got["sole-trader"] != PolicyConsent {
		t.Errorf("rule 2 actions = %v", got)
	}
	if !p.Rules[1].Since.IsZero() {
		t.Errorf("a rule without since has date %v", p.Rules[1].Since)
	}
}

func TestPresetsCanBeTurnedOff(t *testing.T) {
	c, err := Load(writeConfig(t, "[policy]\npresets = false\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Policy.Presets {
		t.Error("presets = false ignored")
	}
	if d, _ := Load(""); !d.Policy.Presets {
		t.Error("presets are off by default")
	}
}

func TestPolicyAndListsSurviveMasked(t *testing.T) {
	c, err := Load(writeConfig(t, goodPolicy+goodLists))
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
	for _, s := range []string{`since = "2026-08-11"`, `max_age = "5d"`, `max_age = "36h"`} {
		if !strings.Contains(c.Masked(), s) {
			t.Errorf("Masked() lacks %s:\n%s", s, c.Masked())
		}
	}
}

func TestDate(t *testing.T) {
	var d Date
	if err := d.UnmarshalText([]byte("2026-08-11")); err != nil {
		t.Fatal(err)
	}
	if d.Location() != time.UTC || d.Hour() != 0 || d.String() != "2026-08-11" {
		t.Errorf("date = %v", d.Time)
	}
	for _, bad := range []string{"2026-8-11", "2026-02-30", "11/08/2026", "2026-08-11T00:00:00Z"} {
		if err := d.UnmarshalText([]byte(bad)); err == nil {
			t.Errorf("%q accepted as a date", bad)
		}
	}
	if err := d.UnmarshalText(nil); err != nil || !d.IsZero() || d.String() != "" {
		t.Errorf("empty date = %v, %v", d, err)
	}
}
