package suppression

import (
	"strings"
	"testing"
	"time"

	"github.com/dncgate/dncgate/config"
	"github.com/dncgate/dncgate/country"
)

func date(s string) config.Date {
	var d config.Date
	if err := d.UnmarshalText([]byte(s)); err != nil {
		panic(err)
	}
	return d
}

func mustPolicy(t *testing.T, c config.Policy) *Policy {
	t.Helper()
	p, err := NewPolicy(c)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var (
	before = time.Date(2026, 8, 10, 23, 59, 59, 0, time.UTC)
	onDay  = time.Date(2026, 8, 11, 0, 0, 0, 0, time.UTC)
)

// TestPresets checks every shipped country and type against the table the
// README documents.
func TestPresets(t *testing.T) {
	p := mustPolicy(t, config.Policy{Presets: true})
	const A, C = Allow, Consent
	want := map[string][4]Action{ // consumer, sole trader, business, role
		"FR": {C, C, A, A},
		"DE": {C, C, C, C},
		"ES": {C, C, C, C},
		"GB": {C, C, A, A},
		"BE": {C, C, C, A},
		"NL": {C, C, C, C},
		"IT": {C, C, A, A},
		"US": {C, C, A, A}, // no preset of its own: the "*" preset
		"":   {C, C, A, A},
	}
	for cc, actions := range want {
		for i, typ := range recipientTypes {
			r := p.Rule(country.Code(cc), typ, onDay)
			if r.Action != actions[i] {
				t.Errorf("%q %s: %s, want %s", cc, typ, r.Action, actions[i])
			}
			if !r.Preset || !r.Since.IsZero() {
				t.Errorf("%q %s: rule %+v is not a dateless preset", cc, typ, r)
			}
			if wantCC := cc; (wantCC == "US" || wantCC == "") && r.Country != AnyCountry || wantCC != "US" && wantCC != "" && r.Country != cc {
				t.Errorf("%q %s: rule country %q", cc, typ, r.Country)
			}
		}
	}
	if r := p.Rule(country.MustParse("uk"), Consumer, onDay); r.Country != "GB" || r.Action != Consent {
		t.Errorf("uk consumer = %+v, want the GB preset", r)
	}
}

func TestPresetsOff(t *testing.T) {
	p := mustPolicy(t, config.Policy{Presets: false})
	if r := p.Rule("DE", Business, onDay); r.Action != Allow || r.Country != AnyCountry {
		t.Errorf("DE business without presets = %+v, want the allow fallback", r)
	}
}

func TestRulePrecedenceAndDates(t *testing.T) {
	p := mustPolicy(t, config.Policy{Presets: true, Rules: []config.PolicyRule{
		{Country: "FR", Since: date("2026-08-11"), Consumer: config.PolicyRefuse},
		{Country: "FR", Business: config.PolicyConsent},
		{Country: "FR", Since: date("2027-01-01"), Consumer: config.PolicyAllow},
		{Country: "*", Consumer: config.PolicyConsent, Role: config.PolicyRefuse},
		{Country: "UK", Since: date("2026-08-11"), Role: config.PolicyConsent},
	}})
	cases := []struct {
		cc   string
		typ  RecipientType
		at   time.Time
		want Rule
	}{
		// Before the dated rule, the preset applies; from its first day, it does.
		{"FR", Consumer, before, Rule{Country: "FR", Action: Consent, Preset: true}},
		{"FR", Consumer, onDay, Rule{Country: "FR", Action: Refuse, Since: onDay}},
		// The latest rule that has started wins.
		{"FR", Consumer, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC),
			Rule{Country: "FR", Action: Allow, Since: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}},
		// A rule that leaves a type out does not hide an older one that sets it.
		{"FR", Business, onDay, Rule{Country: "FR", Action: Consent}},
		// Types no admin FR rule sets keep the preset.
		{"FR", Role, onDay, Rule{Country: "FR", Action: Allow, Preset: true}},
		{"FR", SoleTrader, onDay, Rule{Country: "FR", Action: Consent, Preset: true}},
		// "UK" in the file is GB.
		{"GB", Role, onDay, Rule{Country: "GB", Action: Consent, Since: onDay}},
		{"GB", Role, before, Rule{Country: "GB", Action: Allow, Preset: true}},
		// The "*" rule covers countries without a rule of their own, and
		// unknown countries, but not presets.
		{"US", Consumer, onDay, Rule{Country: "*", Action: Consent}},
		{"", Role, onDay, Rule{Country: "*", Action: Refuse}},
		{"DE", Role, onDay, Rule{Country: "DE", Action: Consent, Preset: true}},
		{"US", Business, onDay, Rule{Country: "*", Action: Allow, Preset: true}},
	}
	for _, c := range cases {
		if got := p.Rule(country.Code(c.cc), c.typ, c.at); got != c.want {
			t.Errorf("Rule(%q, %s, %s) = %+v, want %+v", c.cc, c.typ, c.at.Format(time.DateOnly), got, c.want)
		}
	}
}

func TestNewPolicyRefuses(t *testing.T) {
	for name, c := range map[string]config.Policy{
		"bad default":    {DefaultCountry: "XX"},
		"bad country":    {Rules: []config.PolicyRule{{Country: "France", Consumer: config.PolicyConsent}}},
		"no country":     {Rules: []config.PolicyRule{{Consumer: config.PolicyConsent}}},
		"bad action":     {Rules: []config.PolicyRule{{Country: "FR", Consumer: "opt-in"}}},
		"no action":      {Rules: []config.PolicyRule{{Country: "FR"}}},
		"duplicate":      {Rules: []config.PolicyRule{{Country: "GB", Role: config.PolicyAllow}, {Country: "uk", Business: config.PolicyAllow}}},
		"bad domain":     {ConsumerDomains: []string{"a..b"}},
		"empty local":    {RoleLocalParts: []string{"+x"}},
		"eu not country": {DefaultCountry: "EU"},
	} {
		if _, err := NewPolicy(c); err == nil {
			t.Errorf("%s: NewPolicy accepted %+v", name, c)
		}
	}
}

func TestExplain(t *testing.T) {
	cases := []struct {
		r    Rule
		typ  RecipientType
		want string
	}{
		{Rule{Country: "FR", Action: Consent, Since: onDay}, Consumer, "FR rule since 2026-08-11: consumers need consent or clearance"},
		{Rule{Country: "DE", Action: Consent, Preset: true}, Business, "DE preset rule: business contacts need consent or clearance"},
		{Rule{Country: "*", Action: Refuse}, SoleTrader, "rule for other countries: no e-mail prospecting to sole traders"},
		{Rule{Country: "*", Action: Allow, Preset: true}, Role, "default rule: generic business addresses may be mailed with an opt-out footer"},
		{Rule{Country: "F\r\nR", Action: Refuse}, "robot", "?? rule: no e-mail prospecting to recipients"},
	}
	for _, c := range cases {
		if got := c.r.Explain(c.typ); got != c.want {
			t.Errorf("Explain = %q, want %q", got, c.want)
		}
	}
}

// TestExplainFitsAReply: every explanation the policy can give is ASCII
// and at most 150 characters, to fit an SMTP reply line with the address.
func TestExplainFitsAReply(t *testing.T) {
	late := time.Date(2999, 12, 31, 0, 0, 0, 0, time.UTC)
	for _, cc := range []string{"FR", "*"} {
		for _, a := range []Action{Allow, Consent, Refuse} {
			for _, preset := range []bool{true, false} {
				for _, typ := range append(recipientTypes, "other") {
					s := Rule{Country: cc, Action: a, Since: late, Preset: preset}.Explain(typ)
					if len(s) > 150 || strings.IndexFunc(s, func(r rune) bool { return r < ' ' || r > '~' }) >= 0 {
						t.Errorf("%q: over 150 characters or not printable ASCII", s)
					}
				}
			}
		}
	}
}

func BenchmarkRule(b *testing.B) {
	p, err := NewPolicy(config.Policy{Presets: true, Rules: []config.PolicyRule{
		{Country: "FR", Since: date("2026-08-11"), Consumer: config.PolicyRefuse},
		{Country: "*", Consumer: config.PolicyConsent},
	}})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		p.Rule("FR", Business, onDay)
	}
}

// BenchmarkClassify is the policy's share of one recipient check: country,
// type and rule, for a mix of addresses.
func BenchmarkClassify(b *testing.B) {
	p, err := NewPolicy(config.Policy{Presets: true, DefaultCountry: "FR"})
	if err != nil {
		b.Fatal(err)
	}
	addrs := [][2]string{{"jean", "orange.fr"}, {"info", "acme.de"}, {"sales+q3", "acme.com"}, {"ann", "mail.btinternet.com"}, {"piet", "bedrijf.nl"}}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		a := addrs[n%len(addrs)]
		cc, _ := p.Country("", a[1])
		p.Rule(cc, p.Type("", a[0], a[1]), onDay)
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "recipients/s")
}
