package lists

import (
	"errors"
	"strings"
	"testing"
)

func TestRecipientsNormalise(t *testing.T) {
	r, err := NewRecipients([]string{"legacy.acme.example", "BÜCHER.de"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		r          *Recipients
		in, want   string
		reason     string // "" when accepted
		reroutable bool
	}{
		{r, "Jean.Dupont+1@gmail.com", "jeandupont@gmail.com", "", false},
		{nil, "jeandupont@googlemail.com", "jeandupont@gmail.com", "", false},
		{nil, "suppressed%example.net@mail.acme.example", "", "local part contains '%', which a mail server may reroute", true},
		{nil, "example.net!suppressed@mail.acme.example", "", "local part contains '!', which a mail server may reroute", true},
		// The +tag is part of what a server reads: it must not hide the '%'.
		{nil, "suppressed+x%example.net@mail.acme.example", "", "local part contains '%', which a mail server may reroute", true},
		{nil, "a!b%c@acme.fr", "", "local part contains '!', which a mail server may reroute", true},
		// Legitimate where the configuration says so: that domain only.
		{r, "User%Dept@Legacy.Acme.Example", "user%dept@legacy.acme.example", "", false},
		{r, "host!user@legacy.acme.example", "host!user@legacy.acme.example", "", false},
		{r, "a%b@bücher.de", "a%b@xn--bcher-kva.de", "", false},
		{r, "a%b@xn--bcher-kva.de", "a%b@xn--bcher-kva.de", "", false},
		{r, "a%b@sub.legacy.acme.example", "", "local part contains '%', which a mail server may reroute", true},
		{r, "a%b@acme.example", "", "local part contains '%', which a mail server may reroute", true},
		// What does not normalise says so first.
		{nil, `"a%b"@acme.fr`, "", "quoted local part not supported", false},
		{nil, "a%b@localhost", "", "domain has a single label; want a name such as example.com", false},
	}
	for _, tt := range tests {
		got, err := tt.r.Normalise(tt.in)
		if tt.reason == "" {
			if err != nil || got != tt.want {
				t.Errorf("Normalise(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
			continue
		}
		var ve *ValueError
		if !errors.As(err, &ve) || ve.Kind != KindEmail || ve.Reason != tt.reason || got != "" {
			t.Errorf("Normalise(%q) = %q, %v; want reason %q", tt.in, got, err, tt.reason)
		}
		if errors.Is(err, ErrReroutable) != tt.reroutable {
			t.Errorf("Normalise(%q): errors.Is(ErrReroutable) = %v, want %v", tt.in, !tt.reroutable, tt.reroutable)
		}
	}
}

func TestNewRecipientsRefusesBadDomains(t *testing.T) {
	for _, d := range []string{"", "localhost", "a..example", "http://x.example", "[192.0.2.1]"} {
		if _, err := NewRecipients([]string{d}); err == nil {
			t.Errorf("NewRecipients(%q) accepted it", d)
		}
	}
	r, err := NewRecipients([]string{"googlemail.com"})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := r.Normalise("a%b@gmail.com"); err != nil || got != "a%b@gmail.com" {
		t.Errorf("googlemail.com allowed, gmail.com address = %q, %v; want it allowed (one mailbox)", got, err)
	}
}

// TestNormaliseEmailDomain: a domain alone is written as NormaliseEmail
// writes it after the '@'.
func TestNormaliseEmailDomain(t *testing.T) {
	for in, want := range map[string]string{
		"Sales.ACME.fr":  "sales.acme.fr",
		" bücher.de. ":   "xn--bcher-kva.de",
		"GoogleMail.com": "gmail.com",
	} {
		got, err := NormaliseEmailDomain(in)
		if err != nil || got != want {
			t.Errorf("NormaliseEmailDomain(%q) = %q, %v; want %q", in, got, err, want)
		}
		key, _ := NormaliseEmail("x@" + strings.TrimSpace(in))
		if key != "x@"+want {
			t.Errorf("NormaliseEmail(x@%s) = %q: not the domain NormaliseEmailDomain gives", in, key)
		}
	}
	for _, in := range []string{"", "localhost", "[192.0.2.1]", "a..b.fr"} {
		if got, err := NormaliseEmailDomain(in); err == nil {
			t.Errorf("NormaliseEmailDomain(%q) = %q, want an error", in, got)
		}
	}
}
