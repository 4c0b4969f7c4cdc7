package suppression_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dncgate/dncgate/config"
	"github.com/dncgate/dncgate/contactdb"
	"github.com/dncgate/dncgate/country"
	"github.com/dncgate/dncgate/internal/testredis"
	"github.com/dncgate/dncgate/listdb"
	"github.com/dncgate/dncgate/listmodel"
	"github.com/dncgate/dncgate/lists"
	"github.com/dncgate/dncgate/store/embedded"
	"github.com/dncgate/dncgate/store/redisstore"
	"github.com/dncgate/dncgate/suppression"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

// t0 is when the test lists are imported.
var t0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

// backend is a store that keeps lists and contacts.
type backend interface {
	listdb.Store
	Contacts() contactdb.Store
}

// eachStore runs f on the embedded store and on a real Redis.
func eachStore(t *testing.T, f func(t *testing.T, st backend)) {
	t.Run("embedded", func(t *testing.T) {
		st, err := embedded.Open(filepath.Join(t.TempDir(), "d.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		f(t, st)
	})
	t.Run("redis", func(t *testing.T) {
		st, err := redisstore.Open(t.Context(), redisstore.Options{URL: "redis://" + testredis.Start(t)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		f(t, st)
	})
}

// fixture is a store with the lists of a small company.
type fixture struct {
	t   *testing.T
	st  backend
	chk *suppression.Checker
}

func newFixture(t *testing.T, st backend, pol config.Policy) *fixture {
	t.Helper()
	ctx := t.Context()
	if err := suppression.EnsureOptOut(ctx, st); err != nil {
		t.Fatal(err)
	}
	p, err := suppression.NewPolicy(pol)
	if err != nil {
		t.Fatal(err)
	}
	chk, err := suppression.New(suppression.Options{Lists: st, Contacts: st.Contacts(), Policy: p, Key: testKey})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, st: st, chk: chk}
}

// list creates a list and imports values (already normalised keys of its
// kind) as a version imported at t0.
func (f *fixture) list(m listdb.Meta, values ...string) {
	f.t.Helper()
	ctx := f.t.Context()
	if err := f.st.PutList(ctx, m); err != nil {
		f.t.Fatal(err)
	}
	if len(values) == 0 {
		return
	}
	w, err := f.st.BeginVersion(ctx, m.Name, int64(len(values)))
	if err != nil {
		f.t.Fatal(err)
	}
	ds := make([]listdb.Digest, len(values))
	for i, v := range values {
		ds[i] = listdb.Key(testKey, m.Kind, v)
	}
	if err := w.Add(ctx, ds); err != nil {
		f.t.Fatal(err)
	}
	if _, err := w.Commit(ctx, listdb.Version{ImportedAt: t0, ImportedBy: "test", Rows: int64(len(values)), Valid: int64(len(values))}); err != nil {
		f.t.Fatal(err)
	}
}

// contact imports one contact for addr with E.164 phones.
func (f *fixture) contact(addr, country, typ string, phones ...string) {
	f.t.Helper()
	ctx := f.t.Context()
	norm, err := lists.NormaliseEmail(addr)
	if err != nil {
		f.t.Fatal(err)
	}
	rec := contactdb.Record{Email: listdb.Key(testKey, "email", norm), Contact: contactdb.Contact{Country: country, Type: typ}}
	for _, p := range phones {
		rec.Phones = append(rec.Phones, listdb.Key(testKey, "phone", p))
	}
	w, err := f.st.Contacts().BeginImport(ctx, 1)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := w.Add(ctx, []contactdb.Record{rec}); err != nil {
		f.t.Fatal(err)
	}
	if _, err := w.Commit(ctx, contactdb.Version{ImportedAt: t0, ImportedBy: "test"}); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) decide(rcpt string, at time.Time) suppression.Verdict {
	f.t.Helper()
	v, err := f.chk.Decide(f.t.Context(), "rep@seller.example", rcpt, at)
	if err != nil {
		f.t.Fatalf("Decide(%s): %v", rcpt, err)
	}
	return v
}

// want checks a verdict's outcome and code, and that the text, when
// wanted, contains a fragment.
func want(t *testing.T, rcpt string, v suppression.Verdict, out suppression.Outcome, code, text string) {
	t.Helper()
	if v.Outcome != out || v.Code != code || !strings.Contains(v.Text, text) {
		t.Errorf("%s: got %v %q %q, want %v %q containing %q", rcpt, v.Outcome, v.Code, v.Text, out, code, text)
	}
}

// noPresets is a policy that allows everyone: the tests of lists do not
// depend on the country rules.
var noPresets = config.Policy{}

func TestOptOutAndDenyLists(t *testing.T) {
	eachStore(t, func(t *testing.T, st backend) {
		f := newFixture(t, st, noPresets)
		ctx := t.Context()
		if err := st.AddEntry(ctx, listmodel.OptOut, listdb.Key(testKey, "email", "gone@acme.fr")); err != nil {
			t.Fatal(err)
		}
		f.list(listdb.Meta{Name: "company-deny", Kind: "email", Model: "deny"}, "boss@rival.example")
		f.list(listdb.Meta{Name: "domains", Kind: "domain", Model: "deny"}, "acme.de")
		sum, _ := lists.HashEmail(lists.KindEmailSHA256, "hashed@acme.es")
		f.list(listdb.Meta{Name: "es-robinson", Kind: "email-sha256", Model: "deny", Countries: []string{"ES"}}, sum)
		at := t0.Add(time.Hour)

		v := f.decide("Gone+news@ACME.fr", at)
		want(t, "opt-out", v, suppression.Refused, suppression.CodeOptOut, "opted out")
		if v.List != listmodel.OptOut || v.KeyKind != "email" {
			t.Errorf("opt-out decided by %q/%q", v.List, v.KeyKind)
		}
		v = f.decide("boss@rival.example", at)
		want(t, "email list", v, suppression.Refused, "list:company-deny", "company-deny")
		if v.Version == "" {
			t.Error("a list refusal names no version")
		}
		want(t, "subdomain", f.decide("x@sales.acme.de", at), suppression.Refused, "list:domains", "domain match")
		want(t, "hashed", f.decide("hashed@acme.es", at), suppression.Refused, "list:es-robinson", "email-sha256")
		want(t, "other", f.decide("someone@acme.fr", at), suppression.Allowed, suppression.CodeAllowed, "")
		want(t, "parent only", f.decide("x@acme.de.example", at), suppression.Allowed, suppression.CodeAllowed, "")
		want(t, "bad address", f.decide("not-an-address", at), suppression.Refused, suppression.CodeAddress, "cannot be checked")
	})
}

// TestPhoneListsThroughContacts: a national phone list applies to an
// e-mail recipient through the CRM contact, and only in its country.
func TestPhoneListsThroughContacts(t *testing.T) {
	eachStore(t, func(t *testing.T, st backend) {
		f := newFixture(t, st, noPresets)
		f.list(listdb.Meta{Name: "be-dncm", Kind: "phone", Model: "deny", Countries: []string{"BE"}, MaxAge: 5 * 24 * time.Hour}, "+3212345678")
		f.contact("jan@firma.be", "BE", "business", "+3299999999", "+3212345678")
		at := t0.Add(24 * time.Hour)

		v := f.decide("jan@firma.be", at)
		want(t, "contact phone", v, suppression.Refused, "list:be-dncm", "phone match")
		if v.Country != "BE" || v.CountryFrom != "contact" || v.KeyKind != "phone" {
			t.Errorf("verdict %+v: want country BE from contact, key kind phone", v)
		}
		want(t, "no contact", f.decide("piet@firma.be", at), suppression.Allowed, suppression.CodeAllowed, "")
		want(t, "other country", f.decide("jan@firma.fr", at), suppression.Allowed, suppression.CodeAllowed, "")
	})
}

// TestStaleLists: a list past its age holds the recipients it governs
// back, unless it is set to warn; never-imported lists count as stale.
func TestStaleLists(t *testing.T) {
	eachStore(t, func(t *testing.T, st backend) {
		f := newFixture(t, st, noPresets)
		f.list(listdb.Meta{Name: "be-dncm", Kind: "phone", Model: "deny", Countries: []string{"BE"}, MaxAge: 5 * 24 * time.Hour}, "+3212345678")
		f.list(listdb.Meta{Name: "nl-warn", Kind: "email", Model: "deny", Countries: []string{"NL"}, MaxAge: 24 * time.Hour, WarnStale: true}, "x@y.nl")
		f.list(listdb.Meta{Name: "de-empty", Kind: "email", Model: "deny", Countries: []string{"DE"}, MaxAge: 24 * time.Hour})

		want(t, "fresh", f.decide("a@firma.be", t0.Add(4*24*time.Hour)), suppression.Allowed, suppression.CodeAllowed, "")
		v := f.decide("a@firma.be", t0.Add(7*24*time.Hour+time.Hour))
		want(t, "stale", v, suppression.TempFailed, "stale:be-dncm", "list be-dncm is 7 days old (max 5); an admin must import a fresh copy")
		want(t, "other country", f.decide("a@firma.fr", t0.Add(7*24*time.Hour)), suppression.Allowed, suppression.CodeAllowed, "")

		v = f.decide("a@firma.nl", t0.Add(3*24*time.Hour))
		want(t, "warn only", v, suppression.Allowed, suppression.CodeAllowed, "")
		if len(v.Warnings) != 1 || !strings.Contains(v.Warnings[0], "nl-warn is 3 days old") {
			t.Errorf("warnings %q", v.Warnings)
		}
		want(t, "never imported", f.decide("a@firma.de", t0), suppression.TempFailed, "stale:de-empty", "never imported")

		// A refusal stands even while another list is stale: retrying would
		// not change it.
		if err := st.AddEntry(t.Context(), listmodel.OptOut, listdb.Key(testKey, "email", "out@firma.be")); err != nil {
			t.Fatal(err)
		}
		want(t, "opt-out beats stale", f.decide("out@firma.be", t0.Add(30*24*time.Hour)), suppression.Refused, suppression.CodeOptOut, "")
	})
}

// TestConsentPolicy: where the policy asks consent, only a fresh
// clearance list of the country lets the recipient through.
func TestConsentPolicy(t *testing.T) {
	eachStore(t, func(t *testing.T, st backend) {
		f := newFixture(t, st, config.Policy{Presets: true})
		f.list(listdb.Meta{Name: "fr-consent", Kind: "email", Model: "clearance", Countries: []string{"FR"}, MaxAge: 30 * 24 * time.Hour}, "ok@orange.fr")
		at := t0.Add(time.Hour)

		v := f.decide("ok@orange.fr", at)
		want(t, "cleared consumer", v, suppression.Allowed, suppression.CodeAllowed, "cleared by list fr-consent")
		if v.Type != suppression.Consumer || v.Country != "FR" || v.List != "fr-consent" {
			t.Errorf("verdict %+v: want a French consumer cleared by fr-consent", v)
		}
		want(t, "consumer without consent", f.decide("no@orange.fr", at), suppression.Refused, suppression.CodeConsentRequired, "no consent or clearance list")
		want(t, "business", f.decide("jean.dupont@acme.fr", at), suppression.Allowed, suppression.CodeAllowed, "")
		want(t, "clearance too old", f.decide("ok@orange.fr", t0.Add(31*24*time.Hour)), suppression.TempFailed, "stale:fr-consent", "fr-consent is 31 days old")
		want(t, "German business", f.decide("hans@firma.de", at), suppression.Refused, suppression.CodeConsentRequired, "")
	})
}

// TestUnknownCountryFailsClosed: with no default_country, a recipient
// whose country cannot be learnt (no contact, a .com address) falls under
// the "*" preset: a consumer needs consent unless a clearance list for
// every country holds them; a business address follows the "*" rule's
// business setting, the preset's or the admin's.
func TestUnknownCountryFailsClosed(t *testing.T) {
	eachStore(t, func(t *testing.T, st backend) {
		f := newFixture(t, st, config.Policy{Presets: true})
		f.list(listdb.Meta{Name: "consent-all", Kind: "email", Model: "clearance"}, "cleared@gmail.com")
		at := t0.Add(time.Hour)
		v := f.decide("someone@gmail.com", at)
		want(t, "unknown consumer", v, suppression.Refused, suppression.CodeConsentRequired, "default rule: consumers need consent or clearance")
		if v.Country != country.None || v.Type != suppression.Consumer {
			t.Errorf("verdict %+v: want a consumer of no known country", v)
		}
		want(t, "cleared consumer", f.decide("cleared@gmail.com", at), suppression.Allowed, suppression.CodeAllowed, "cleared by list consent-all")
		want(t, "unknown business", f.decide("jean.dupont@acme.com", at), suppression.Allowed, suppression.CodeAllowed, "")

		strict := newFixture(t, st, config.Policy{Presets: true, Rules: []config.PolicyRule{
			{Country: "*", Business: config.PolicyConsent},
		}})
		want(t, "admin's * business", strict.decide("jean.dupont@acme.com", at), suppression.Refused, suppression.CodeConsentRequired, "rule for other countries: business contacts need consent")
		want(t, "preset * consumer under the admin's *", strict.decide("someone@gmail.com", at), suppression.Refused, suppression.CodeConsentRequired, "default rule")
		want(t, "a known country keeps its preset", strict.decide("jean.dupont@acme.fr", at), suppression.Allowed, suppression.CodeAllowed, "")
	})
}

// TestPolicyRefuse: a rule may refuse a country outright, from a date.
func TestPolicyRefuse(t *testing.T) {
	eachStore(t, func(t *testing.T, st backend) {
		since := config.Date{Time: t0.Add(48 * time.Hour)}
		pol := config.Policy{Rules: []config.PolicyRule{{Country: "PT", Since: since, Consumer: config.PolicyRefuse, SoleTrader: config.PolicyRefuse, Business: config.PolicyRefuse, Role: config.PolicyRefuse}}}
		f := newFixture(t, st, pol)
		want(t, "before", f.decide("a@empresa.pt", t0), suppression.Allowed, suppression.CodeAllowed, "")
		want(t, "after", f.decide("a@empresa.pt", t0.Add(72*time.Hour)), suppression.Refused, suppression.CodePolicyRefused, "")
	})
}

// TestStoreDown: a store that cannot answer is an error, never a pass.
func TestStoreDown(t *testing.T) {
	eachStore(t, func(t *testing.T, st backend) {
		f := newFixture(t, st, noPresets)
		want(t, "up", f.decide("a@b.fr", t0), suppression.Allowed, suppression.CodeAllowed, "")
		st.(interface{ Close() error }).Close()
		if v, err := f.chk.Decide(context.Background(), "", "a@b.fr", t0.Add(time.Hour)); err == nil {
			t.Fatalf("closed store: got %+v and no error", v)
		}
	})
}

// TestOptOutListGoneFailsClosed: a store that lost its opt-out list (a
// Redis restarted empty) must not answer "allowed".
func TestOptOutListGoneFailsClosed(t *testing.T) {
	eachStore(t, func(t *testing.T, st backend) {
		f := newFixture(t, st, config.Policy{})
		if v, err := f.chk.Decide(t.Context(), "rep@acme.test", "p@prospect.test", t0); err != nil || v.Outcome != suppression.Allowed {
			t.Fatalf("with the opt-out list: %+v, %v; want allowed", v, err)
		}
		if err := st.DropList(t.Context(), listmodel.OptOut); err != nil {
			t.Fatal(err)
		}
		// The descriptions are cached a second; the lookup runs anyway.
		v, err := f.chk.Decide(t.Context(), "rep@acme.test", "p@prospect.test", t0)
		if err == nil || !strings.Contains(err.Error(), "opt-out list is missing") {
			t.Fatalf("without the opt-out list: %+v, %v; want an error", v, err)
		}
		v, err = f.chk.Decide(t.Context(), "rep@acme.test", "p@prospect.test", t0.Add(time.Minute))
		if err == nil {
			t.Fatalf("without the opt-out list, descriptions read again: %+v; want an error", v)
		}
	})
}

// TestReroutableAddressesRefused: the spellings a relay would reroute to
// an opted-out person are refused as addresses, naming the reason; at a
// domain configured for them, '%' is an ordinary character.
func TestReroutableAddressesRefused(t *testing.T) {
	eachStore(t, func(t *testing.T, st backend) {
		f := newFixture(t, st, noPresets)
		if err := st.AddEntry(t.Context(), listmodel.OptOut, listdb.Key(testKey, "email", "suppressed@example.net")); err != nil {
			t.Fatal(err)
		}
		at := t0.Add(time.Hour)
		for rcpt, char := range map[string]string{
			"suppressed%example.net@mail.acme.example":   "'%'",
			"example.net!suppressed@mail.acme.example":   "'!'",
			"suppressed+x%example.net@mail.acme.example": "'%'",
		} {
			v := f.decide(rcpt, at)
			want(t, rcpt, v, suppression.Refused, suppression.CodeAddress, "local part contains "+char+", which a mail server may reroute")
			if strings.Contains(v.Text, "cannot be checked") {
				t.Errorf("%s: text %q; want the reason alone", rcpt, v.Text)
			}
		}
		want(t, "the address itself", f.decide("suppressed@example.net", at), suppression.Refused, suppression.CodeOptOut, "")

		p, err := suppression.NewPolicy(noPresets)
		if err != nil {
			t.Fatal(err)
		}
		r, err := lists.NewRecipients([]string{"mail.acme.example"})
		if err != nil {
			t.Fatal(err)
		}
		chk, err := suppression.New(suppression.Options{Lists: st, Contacts: st.Contacts(), Policy: p, Key: testKey, Recipients: r})
		if err != nil {
			t.Fatal(err)
		}
		v, err := chk.Decide(t.Context(), "rep@acme.example", "Dept%Sales@mail.acme.example", at)
		if err != nil || v.Outcome != suppression.Allowed {
			t.Fatalf("%% at a reroute-ok domain: %+v, %v; want allowed", v, err)
		}
		v, err = chk.Decide(t.Context(), "rep@acme.example", "suppressed%example.net@relay.acme.example", at)
		if err != nil || v.Code != suppression.CodeAddress {
			t.Fatalf("%% at another domain: %+v, %v; want refused as an address", v, err)
		}
	})
}
