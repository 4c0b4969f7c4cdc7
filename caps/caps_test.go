package caps_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dncgate/dncgate/caps"
	"github.com/dncgate/dncgate/config"
	"github.com/dncgate/dncgate/lists"
)

func TestKey(t *testing.T) {
	const rep = "Rep+eu@Acme.Example"
	for _, c := range []struct {
		scope      caps.Scope
		rcpt, want string
	}{
		{caps.ScopeRecipient, "Jean.Dupont@Sales.ACME.fr", "jean.dupont@sales.acme.fr"},
		// Every spelling of one person is one key, the opt-out list's.
		{caps.ScopeRecipient, "Jean.Dupont+1@gmail.com", "jeandupont@gmail.com"},
		{caps.ScopeRecipient, "jeandupont@googlemail.com", "jeandupont@gmail.com"},
		{caps.ScopeRecipient, " j.e.a.n.dupont+x@GMAIL.com ", "jeandupont@gmail.com"},
		{caps.ScopeRecipient, "anna@BÜCHER.de", "anna@xn--bcher-kva.de"},
		{caps.ScopeRecipientDomain, "jean@sales.acme.fr", "acme.fr"},
		{caps.ScopeRecipientDomain, "jean@ACME.fr.", "acme.fr"},
		{caps.ScopeRecipientDomain, "bob@a.b.acme.co.uk", "acme.co.uk"},
		{caps.ScopeRecipientDomain, "anna@BÜCHER.de", "xn--bcher-kva.de"},
		{caps.ScopeRecipientDomain, "anna@shop.xn--bcher-kva.de", "xn--bcher-kva.de"},
		{caps.ScopeRecipientDomain, "anna@shop.bücher.de", "xn--bcher-kva.de"},
		{caps.ScopeRecipientDomain, "x@googlemail.com", "gmail.com"},
		{caps.ScopeRecipientDomain, "x@co.uk", "co.uk"},
		{caps.ScopeRep, "jean@acme.fr", "rep@acme.example"},
		{caps.ScopeRepDomain, "jean@sales.acme.fr", "rep@acme.example|acme.fr"},
		{caps.ScopeOrg, "jean@acme.fr", "org"},
		// A scope that does not count the recipient does not read it.
		{caps.ScopeRep, `"odd"@x`, "rep@acme.example"},
		{caps.ScopeOrg, "", "org"},
	} {
		if got, err := caps.Key(caps.Rule{Scope: c.scope}, rep, c.rcpt); err != nil || got != c.want {
			t.Errorf("Key(%s, %q) = %q, %v; want %q", c.scope, c.rcpt, got, err, c.want)
		}
	}
}

// TestKeyRefusesWhatDoesNotNormalise: no other key is made up for an
// address that has no normalised form.
func TestKeyRefusesWhatDoesNotNormalise(t *testing.T) {
	for _, c := range []struct {
		scope     caps.Scope
		rep, rcpt string
		role      string
	}{
		{caps.ScopeRecipient, "rep@acme.example", `"odd@local"@acme.de`, "recipient"},
		{caps.ScopeRecipientDomain, "rep@acme.example", "x@[192.0.2.1]", "recipient"},
		{caps.ScopeRepDomain, "rep@acme.example", "jean dupont@acme.fr", "recipient"},
		{caps.ScopeRep, `"rep"@acme.example`, "jean@acme.fr", "rep"},
		{caps.ScopeRepDomain, "", "jean@acme.fr", "rep"},
	} {
		got, err := caps.Key(caps.Rule{Scope: c.scope}, c.rep, c.rcpt)
		var ae *caps.AddressError
		var ve *lists.ValueError
		if !errors.As(err, &ae) || ae.Role != c.role || !errors.As(err, &ve) || got != "" {
			t.Errorf("Key(%s, %q, %q) = %q, %v; want an AddressError for the %s", c.scope, c.rep, c.rcpt, got, err, c.role)
			continue
		}
		if strings.Contains(err.Error(), c.rcpt) {
			t.Errorf("error %q names the address", err)
		}
	}
}

func TestDomainKey(t *testing.T) {
	dom := caps.Rule{Name: "d", Scope: caps.ScopeRecipientDomain}
	pair := caps.Rule{Name: "p", Scope: caps.ScopeRepDomain}
	for _, c := range []struct {
		r            caps.Rule
		domain, want string
	}{
		{dom, "Sales.ACME.fr", "acme.fr"},
		{dom, "shop.bücher.de", "xn--bcher-kva.de"},
		{dom, "googlemail.com", "gmail.com"},
		{pair, "sales.acme.fr", "rep@acme.example|acme.fr"},
	} {
		// As Key makes it from an address at that domain.
		fromAddr, err := caps.Key(c.r, "Rep@acme.example", "someone@"+c.domain)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := caps.DomainKey(c.r, "Rep@acme.example", c.domain); err != nil || got != c.want || got != fromAddr {
			t.Errorf("DomainKey(%s, %q) = %q, %v; want %q, as Key gives %q", c.r.Scope, c.domain, got, err, c.want, fromAddr)
		}
	}
	if _, err := caps.DomainKey(dom, "", "[192.0.2.1]"); err == nil {
		t.Error("DomainKey of an address literal succeeded")
	}
	if _, err := caps.DomainKey(caps.Rule{Name: "r", Scope: caps.ScopeRecipient}, "", "acme.fr"); err == nil {
		t.Error("DomainKey of a recipient cap succeeded")
	}
}

func TestRuleCheck(t *testing.T) {
	good := caps.Rule{Name: "r", Scope: caps.ScopeRecipient, Limit: 3, Window: time.Hour}
	if err := good.Check(); err != nil {
		t.Fatalf("a good rule: %v", err)
	}
	for want, change := range map[string]func(*caps.Rule){
		"no name":       func(r *caps.Rule) { r.Name = "" },
		"unknown scope": func(r *caps.Rule) { r.Scope = "domain" },
		"unknown count": func(r *caps.Rule) { r.Count = "mails" },
		"limit 0":       func(r *caps.Rule) { r.Limit = 0 },
		"window 0s":     func(r *caps.Rule) { r.Window = 0 },
		"negative hold": func(r *caps.Rule) { r.Hold = -time.Second },
	} {
		r := good
		change(&r)
		err := r.Check()
		if err == nil {
			t.Errorf("%s: accepted", want)
			continue
		}
		if words := strings.Fields(want); !strings.Contains(err.Error(), words[len(words)-1]) {
			t.Errorf("%s: error %q does not say what is wrong", want, err)
		}
	}
}

func TestNewRefuses(t *testing.T) {
	r := caps.Rule{Name: "r", Scope: caps.ScopeRecipient, Limit: 3, Window: time.Hour}
	if _, err := caps.New([]caps.Rule{r, r}, nil, []byte("k"), caps.Options{}); err == nil || !strings.Contains(err.Error(), "two rules named r") {
		t.Errorf("New with a duplicate name = %v", err)
	}
	if _, err := caps.New([]caps.Rule{r}, nil, nil, caps.Options{}); err == nil {
		t.Error("New without a key succeeded")
	}
	bad := r
	bad.Limit = 0
	if _, err := caps.New([]caps.Rule{bad}, nil, []byte("k"), caps.Options{}); err == nil {
		t.Error("New with limit 0 succeeded")
	}
}

func TestRefusalText(t *testing.T) {
	r := &caps.Refusal{
		Cap: "recipient-30d", Count: 3, Limit: 3, Window: 720 * time.Hour,
		NextSlot: time.Date(2026, 12, 3, 14, 10, 0, 0, time.UTC),
	}
	if got, want := r.Text(), "cap recipient-30d reached (3 in 30 days); next slot 2026-12-03 14:10 UTC"; got != want {
		t.Errorf("Text() = %q, want %q", got, want)
	}
	// A slot opening within a minute shows the next minute, in UTC.
	r.NextSlot = time.Date(2026, 12, 3, 15, 10, 0, 1, time.FixedZone("CET", 3600))
	if got, want := r.Text(), "cap recipient-30d reached (3 in 30 days); next slot 2026-12-03 14:11 UTC"; got != want {
		t.Errorf("Text() = %q, want %q", got, want)
	}
	r.NextSlot = time.Time{}
	if got, want := r.Text(), "cap recipient-30d reached (3 in 30 days)"; got != want {
		t.Errorf("Text() without a next slot = %q, want %q", got, want)
	}
}

func TestSpan(t *testing.T) {
	for d, want := range map[time.Duration]string{
		720 * time.Hour:         "30 days",
		48 * time.Hour:          "2 days",
		24 * time.Hour:          "24 hours",
		time.Hour:               "1 hour",
		90 * time.Minute:        "90 minutes",
		25 * time.Hour:          "25 hours",
		time.Second:             "1 second",
		1500 * time.Millisecond: "1.5s",
	} {
		if got := caps.Span(d); got != want {
			t.Errorf("Span(%s) = %q, want %q", d, got, want)
		}
	}
}

// TestConfigValuesMatch: the configuration's strings convert to this
// package's types as they are.
func TestConfigValuesMatch(t *testing.T) {
	for cfg, want := range map[config.CapScope]caps.Scope{
		config.CapRecipient: caps.ScopeRecipient, config.CapRecipientDomain: caps.ScopeRecipientDomain,
		config.CapRep: caps.ScopeRep, config.CapRepDomain: caps.ScopeRepDomain, config.CapOrg: caps.ScopeOrg,
	} {
		if caps.Scope(cfg) != want {
			t.Errorf("config scope %q is not caps scope %q", cfg, want)
		}
	}
	if caps.Count(config.CapMessages) != caps.CountMessages || caps.Count(config.CapRecipients) != caps.CountRecipients {
		t.Error("config counts differ from caps counts")
	}
	if config.DefaultCapHold != caps.DefaultHold {
		t.Errorf("default holds differ: config %s, caps %s", config.DefaultCapHold, caps.DefaultHold)
	}
}
