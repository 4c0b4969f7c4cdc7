package caps_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/dncgate/dncgate/caps"
	"github.com/dncgate/dncgate/internal/testredis"
	"github.com/dncgate/dncgate/store/redisstore"
)

// spellings are one person written five ways: the opt-out list and the
// recipient check key them all as jeandupont@gmail.com.
var spellings = []string{
	"Jean.Dupont+1@gmail.com",
	"jeandupont@googlemail.com",
	"j.e.a.n.dupont+promo@GMAIL.COM",
	"JeanDupont@GoogleMail.com.",
	"jean.dupont+2@gmail.com",
}

// identityRules count the person, their provider's domain (counting each
// recipient) and the rep's sends to it.
func identityRules() []caps.Rule {
	dom := caps.Rule{Name: "domain-30d", Scope: caps.ScopeRecipientDomain, Limit: 3, Window: 720 * time.Hour, Count: caps.CountRecipients}
	return []caps.Rule{
		rule("recipient-30d", caps.ScopeRecipient, 3),
		dom,
		rule("rep-domain-30d", caps.ScopeRepDomain, 3),
	}
}

// spellingsShareOneCount: three messages to three spellings fill the
// person's caps; the next two spellings are refused, on every cap, and
// each cap shows one count of 3 under the normalised key.
func spellingsShareOneCount(t *testing.T, st caps.Store) {
	c, err := caps.New(identityRules(), st, testKey, caps.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	for i, rcpt := range spellings[:3] {
		tk, ref, err := c.Reserve(ctx, "Rep@GW.example", rcpt, "", fmt.Sprint("m", i), t0)
		if err != nil || ref != nil {
			t.Fatalf("send %d to %s: refusal %v, err %v", i, rcpt, ref, err)
		}
		if err := tk.Commit(ctx, t0); err != nil {
			t.Fatal(err)
		}
	}
	for i, rcpt := range spellings[3:] {
		_, ref, err := c.Reserve(ctx, "rep@gw.example", rcpt, "", fmt.Sprint("n", i), t0)
		if err != nil || ref == nil || ref.Cap != "recipient-30d" || ref.Count != 3 {
			t.Fatalf("a 4th send to %s: refusal %+v, err %v; want recipient-30d full at 3", rcpt, ref, err)
		}
	}
	for name, subject := range map[string]string{
		"recipient-30d":  "jeandupont@gmail.com",
		"domain-30d":     "gmail.com",
		"rep-domain-30d": "rep@gw.example|gmail.com",
	} {
		if n := usageOf(t, c, name, subject, t0); n != 3 {
			t.Errorf("cap %s counts %d under %s, want 3", name, n, subject)
		}
	}
	// Resetting the one key frees every spelling.
	if err := c.Reset(ctx, "recipient-30d", "jeandupont@gmail.com"); err != nil {
		t.Fatal(err)
	}
	r, _ := caps.Key(identityRules()[0], "", spellings[4])
	if n := usageOf(t, c, "recipient-30d", r, t0); n != 0 {
		t.Fatalf("after the reset %s counts %d", spellings[4], n)
	}
}

func TestSpellingsShareOneCountEmbedded(t *testing.T) {
	spellingsShareOneCount(t, openEmbedded(t, filepath.Join(t.TempDir(), "dncgate.db")))
}

func TestSpellingsShareOneCountRedis(t *testing.T) {
	spellingsShareOneCount(t, openRedis(t, redisstore.Options{URL: "redis://" + testredis.Start(t)}))
}

func TestSpellingsShareOneCountCluster(t *testing.T) {
	spellingsShareOneCount(t, openRedis(t, redisstore.Options{ClusterAddrs: testredis.StartCluster(t, 3)}))
}

// TestReserveRefusesAnAddressWithoutKey: an address that does not
// normalise is an AddressError and reaches no store; a cap that does not
// count the recipient still takes its slot.
func TestReserveRefusesAnAddressWithoutKey(t *testing.T) {
	c, rec := newChecker(t, rule("recipient-30d", caps.ScopeRecipient, 3), rule("rep-day", caps.ScopeRep, 3))
	for _, rcpt := range []string{`"jean dupont"@acme.fr`, "jean@localhost", "x@[192.0.2.1]"} {
		tk, ref, err := c.Reserve(t.Context(), rep, rcpt, "", "m1", t0)
		var ae *caps.AddressError
		if !errors.As(err, &ae) || ae.Role != "recipient" || tk != nil || ref != nil {
			t.Errorf("Reserve(%q) = %v, %v, %v; want an AddressError", rcpt, tk, ref, err)
		}
	}
	if _, _, err := c.Reserve(t.Context(), `"odd"@gw.example`, "jean@acme.fr", "", "m1", t0); err == nil {
		t.Error("Reserve for a rep without a normalised form succeeded")
	}
	if rec.reserves != 0 {
		t.Fatalf("%d reservations reached the store", rec.reserves)
	}
	only, rec := newChecker(t, rule("rep-day", caps.ScopeRep, 3))
	if _, ref, err := only.Reserve(t.Context(), rep, `"jean dupont"@acme.fr`, "", "m1", t0); err != nil || ref != nil || rec.reserves != 1 {
		t.Fatalf("a rep cap alone: refusal %v, err %v, %d store calls; want the slot", ref, err, rec.reserves)
	}
}
