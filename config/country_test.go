package config

import (
	"fmt"
	"strings"
	"testing"

	"github.com/dncgate/dncgate/country"
	"github.com/dncgate/dncgate/country/countrytest"
)

// TestCountriesReadAlike gives every country key of the configuration the
// shared table of inputs: [[caps]] countries, [[lists]] countries,
// [[policy.rule]] country and policy.default_country accept the same
// values, read them as the same code, and refuse the others naming the
// value at its line.
func TestCountriesReadAlike(t *testing.T) {
	for _, c := range countrytest.Codes {
		text := fmt.Sprintf(`[policy]
default_country = %[1]q

[[policy.rule]]
country = %[1]q
consumer = "refuse"

[[caps]]
name = "c"
scope = "recipient"
limit = 1
window = "24h"
countries = [%[1]q]

[[lists]]
name = "l"
kind = "email"
model = "deny"
countries = [%[1]q]
`, c.In)
		cfg, err := Load(writeConfig(t, text))
		if c.Want == country.None {
			for _, key := range []string{"policy.default_country", "policy.rule[0].country", "caps[0].countries[0]", "lists[0].countries[0]"} {
				if c.In == "" && key == "policy.default_country" {
					continue // "" is the key left unset
				}
				if err == nil || !strings.Contains(err.Error(), key+": ") {
					t.Errorf("%q: %s not refused: %v", c.In, key, err)
				}
			}
			if c.In != "" && !strings.Contains(err.Error(), fmt.Sprintf("%q", c.In)) {
				t.Errorf("%q: the error does not name the value: %v", c.In, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.In, err)
			continue
		}
		want := c.Want.String()
		if got := cfg.Caps[0].CountryCodes(); len(got) != 1 || got[0] != c.Want {
			t.Errorf("%q: caps countries %v, want %s", c.In, got, want)
		}
		if got := cfg.Lists[0].CountryCodes(); len(got) != 1 || got[0] != want {
			t.Errorf("%q: lists countries %v, want %s", c.In, got, want)
		}
		if got := ruleCountry(cfg.Policy.Rules[0].Country); got != want {
			t.Errorf("%q: rule country %s, want %s", c.In, got, want)
		}
	}
}
