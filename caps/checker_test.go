package caps_test

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dncgate/dncgate/caps"
	"github.com/dncgate/dncgate/country"
	"github.com/dncgate/dncgate/store/embedded"
)

// t0 is whole milliseconds, as the stores keep them.
var t0 = time.Date(2026, 11, 3, 14, 0, 0, 0, time.UTC)

const rep = "rep@gw.example"

var testKey = []byte("0123456789abcdef0123456789abcdef")

// recorder wraps a store and records the calls a Checker makes.
type recorder struct {
	caps.Store
	mu       sync.Mutex
	reserves int
	releases int
	commits  int
	slots    []caps.Slot
	sent     []caps.Slot // the slots of every Commit
	freed    []caps.Slot // the slots of every Release
}

func (r *recorder) Reserve(ctx context.Context, reqs []caps.Request, now time.Time) ([]caps.Reservation, error) {
	r.mu.Lock()
	r.reserves++
	for _, q := range reqs {
		r.slots = append(r.slots, q.Slot)
	}
	r.mu.Unlock()
	return r.Store.Reserve(ctx, reqs, now)
}

func (r *recorder) Release(ctx context.Context, slots []caps.Slot) error {
	r.mu.Lock()
	r.releases++
	r.freed = append(r.freed, slots...)
	r.mu.Unlock()
	return r.Store.Release(ctx, slots)
}

func (r *recorder) Commit(ctx context.Context, slots []caps.Slot, now time.Time) error {
	r.mu.Lock()
	r.commits++
	r.sent = append(r.sent, slots...)
	r.mu.Unlock()
	return r.Store.Commit(ctx, slots, now)
}

func openEmbedded(t testing.TB, path string) *embedded.Store {
	t.Helper()
	s, err := embedded.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newChecker(t *testing.T, rules ...caps.Rule) (*caps.Checker, *recorder) {
	t.Helper()
	rec := &recorder{Store: openEmbedded(t, filepath.Join(t.TempDir(), "dncgate.db"))}
	c, err := caps.New(rules, rec, testKey, caps.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c, rec
}

func rule(name string, scope caps.Scope, limit int) caps.Rule {
	return caps.Rule{Name: name, Scope: scope, Limit: limit, Window: 720 * time.Hour}
}

// mustReserve reserves and fails the test on a store error.
func mustReserve(t *testing.T, c *caps.Checker, rcpt string, country country.Code, msg string, now time.Time) (*caps.Ticket, *caps.Refusal) {
	t.Helper()
	tk, ref, err := c.Reserve(t.Context(), rep, rcpt, country, msg, now)
	if err != nil {
		t.Fatalf("Reserve(%s, %s): %v", rcpt, msg, err)
	}
	if (tk == nil) == (ref == nil) {
		t.Fatalf("Reserve(%s, %s) = ticket %v, refusal %v; want exactly one", rcpt, msg, tk, ref)
	}
	return tk, ref
}

func granted(t *testing.T, c *caps.Checker, rcpt, msg string, now time.Time) *caps.Ticket {
	t.Helper()
	tk, ref := mustReserve(t, c, rcpt, "", msg, now)
	if ref != nil {
		t.Fatalf("Reserve(%s, %s) refused: %s", rcpt, msg, ref.Text())
	}
	return tk
}

func refused(t *testing.T, c *caps.Checker, rcpt, msg string, now time.Time) *caps.Refusal {
	t.Helper()
	_, ref := mustReserve(t, c, rcpt, "", msg, now)
	if ref == nil {
		t.Fatalf("Reserve(%s, %s) granted, want a refusal", rcpt, msg)
	}
	return ref
}

func commitAt(t *testing.T, tk *caps.Ticket, now time.Time) {
	t.Helper()
	if err := tk.Commit(t.Context(), now); err != nil {
		t.Fatal(err)
	}
}

func usageOf(t *testing.T, c *caps.Checker, name, subject string, now time.Time) int {
	t.Helper()
	u, err := c.Usage(t.Context(), name, subject, now)
	if err != nil {
		t.Fatal(err)
	}
	return u.Count
}

func TestRecipientCapRefusesFourthMessage(t *testing.T) {
	c, _ := newChecker(t, rule("recipient-30d", caps.ScopeRecipient, 3))
	for i, msg := range []string{"m1", "m2", "m3"} {
		commitAt(t, granted(t, c, "Jean@Acme.fr", msg, t0), t0.Add(time.Duration(i)*time.Hour))
	}
	ref := refused(t, c, "jean@acme.fr", "m4", t0.Add(3*time.Hour))
	want := "cap recipient-30d reached (3 in 30 days); next slot 2026-12-03 14:00 UTC"
	if ref.Text() != want || ref.Temporary || ref.Scope != caps.ScopeRecipient || ref.Limit != 3 {
		t.Fatalf("refusal %+v, text %q; want %q", ref, ref.Text(), want)
	}
	granted(t, c, "jean@acme.fr", "m4", t0.Add(720*time.Hour))
	granted(t, c, "paul@acme.fr", "m4", t0.Add(3*time.Hour))
}

// TestMessagesCountOncePerDomain: two recipients at one company in one
// message are one message to the company; a second message is another.
func TestMessagesCountOncePerDomain(t *testing.T) {
	c, _ := newChecker(t, rule("domain", caps.ScopeRecipientDomain, 1))
	a := granted(t, c, "a@acme.fr", "m1", t0)
	b := granted(t, c, "b@sales.acme.fr", "m1", t0)
	refused(t, c, "c@acme.fr", "m2", t0)
	commitAt(t, a, t0)
	commitAt(t, b, t0)
	if n := usageOf(t, c, "domain", "acme.fr", t0); n != 1 {
		t.Fatalf("domain count after one message to two people = %d, want 1", n)
	}
	refused(t, c, "c@acme.fr", "m2", t0)
}

func TestRecipientsCountEach(t *testing.T) {
	r := rule("domain", caps.ScopeRecipientDomain, 2)
	r.Count = caps.CountRecipients
	c, _ := newChecker(t, r)
	granted(t, c, "a@acme.fr", "m1", t0)
	granted(t, c, "b@acme.fr", "m1", t0)
	ref := refused(t, c, "c@acme.fr", "m1", t0)
	if ref.Count != 2 {
		t.Fatalf("refusal counts %d, want 2", ref.Count)
	}
	// The same recipient twice in one message is one send.
	granted(t, c, "A@acme.fr", "m1", t0)
}

// TestSharedSlotOutlivesOneRelease: when one recipient of a message is
// refused upstream, the company slot its colleague is still being sent
// under stays held; the last release frees it.
func TestSharedSlotOutlivesOneRelease(t *testing.T) {
	c, rec := newChecker(t, rule("domain", caps.ScopeRecipientDomain, 1))
	a := granted(t, c, "a@acme.fr", "m1", t0)
	b := granted(t, c, "b@acme.fr", "m1", t0)
	if err := a.Release(t.Context()); err != nil {
		t.Fatal(err)
	}
	if rec.releases != 0 {
		t.Fatalf("releasing one of two sharers reached the store %d times", rec.releases)
	}
	refused(t, c, "c@acme.fr", "m2", t0)
	if err := b.Release(t.Context()); err != nil {
		t.Fatal(err)
	}
	granted(t, c, "c@acme.fr", "m2", t0)
}

func TestSharedSlotCommittedByEither(t *testing.T) {
	c, _ := newChecker(t, rule("domain", caps.ScopeRecipientDomain, 1))
	a := granted(t, c, "a@acme.fr", "m1", t0)
	b := granted(t, c, "b@acme.fr", "m1", t0)
	commitAt(t, b, t0)
	if err := a.Release(t.Context()); err != nil { // refused upstream after b went out
		t.Fatal(err)
	}
	if n := usageOf(t, c, "domain", "acme.fr", t0); n != 1 {
		t.Fatalf("count = %d, want the one send", n)
	}
	refused(t, c, "c@acme.fr", "m2", t0)
}

// TestRefusalTakesNothing: the first reached cap, in rule order, is
// reported, and the caps that had room keep no hold.
func TestRefusalTakesNothing(t *testing.T) {
	rep := rule("rep-day", caps.ScopeRep, 10)
	dom := rule("domain", caps.ScopeRecipientDomain, 1)
	dom.Temporary = true
	rcpt := rule("recipient", caps.ScopeRecipient, 1)
	c, rec := newChecker(t, rep, dom, rcpt)
	commitAt(t, granted(t, c, "a@acme.fr", "m1", t0), t0)
	ref := refused(t, c, "a@acme.fr", "m2", t0)
	if ref.Cap != "domain" || !ref.Temporary {
		t.Fatalf("refusal = %+v, want the domain cap, temporary", ref)
	}
	if n := usageOf(t, c, "rep-day", rep.Name+"@x", t0); n != 0 {
		t.Fatalf("unrelated subject counts %d", n)
	}
	if n := usageOf(t, c, "rep-day", "rep@gw.example", t0); n != 1 {
		t.Fatalf("rep count after one send and one refusal = %d, want 1", n)
	}
	if rec.reserves != 2 || rec.releases != 0 {
		t.Fatalf("store saw %d reserves and %d releases, want 2 and 0 (one call per recipient)", rec.reserves, rec.releases)
	}
}

func TestCountriesFilterRules(t *testing.T) {
	fr := rule("fr-only", caps.ScopeRecipient, 1)
	fr.Countries = []country.Code{"FR", "BE"}
	c, rec := newChecker(t, fr)
	for _, country := range []country.Code{"FR", "BE"} {
		tk, ref := mustReserve(t, c, "a@acme.fr", country, "m-"+country.String(), t0)
		if ref != nil || tk.Caps() != 1 {
			t.Fatalf("country %s: ticket with %d caps, refusal %v; want the cap applied", country, tk.Caps(), ref)
		}
		tk.Release(t.Context())
	}
	before := rec.reserves
	for _, country := range []country.Code{"DE", ""} {
		tk, ref := mustReserve(t, c, "a@acme.fr", country, "m", t0)
		if ref != nil || tk.Caps() != 0 {
			t.Fatalf("country %q: the FR/BE cap applied", country)
		}
		if err := tk.Commit(t.Context(), t0); err != nil {
			t.Fatal(err)
		}
	}
	if rec.reserves != before {
		t.Fatal("a recipient no cap applies to reached the store")
	}
}

func TestTicketLifecycle(t *testing.T) {
	c, _ := newChecker(t, rule("recipient", caps.ScopeRecipient, 1))
	tk := granted(t, c, "a@acme.fr", "m1", t0)
	if err := tk.Release(t.Context()); err != nil {
		t.Fatal(err)
	}
	// The mail left after all (say the release raced a late 250): it counts.
	commitAt(t, tk, t0)
	if n := usageOf(t, c, "recipient", "a@acme.fr", t0); n != 1 {
		t.Fatalf("count after commit following release = %d, want 1", n)
	}
	if err := tk.Release(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := usageOf(t, c, "recipient", "a@acme.fr", t0); n != 1 {
		t.Fatalf("release after commit changed the count to %d", n)
	}
	var none *caps.Ticket
	if none.Commit(t.Context(), t0) != nil || none.Release(t.Context()) != nil || none.Caps() != 0 {
		t.Fatal("a nil ticket is not a no-op")
	}
}

// TestHoldExpires: a ticket nobody ends stops counting after its hold.
func TestHoldExpires(t *testing.T) {
	r := rule("recipient", caps.ScopeRecipient, 1)
	r.Hold = 5 * time.Minute
	c, _ := newChecker(t, r)
	granted(t, c, "a@acme.fr", "m1", t0)
	ref := refused(t, c, "a@acme.fr", "m2", t0.Add(5*time.Minute-time.Millisecond))
	if !ref.NextSlot.Equal(t0.Add(5 * time.Minute)) {
		t.Fatalf("next slot = %s, want the hold's expiry", ref.NextSlot)
	}
	granted(t, c, "a@acme.fr", "m2", t0.Add(5*time.Minute))
}

// TestStoreSeesDigestsOnly: keys and ids are keyed digests; nothing of an
// address reaches the store, and another key gives other names.
func TestStoreSeesDigestsOnly(t *testing.T) {
	rules := []caps.Rule{
		rule("recipient", caps.ScopeRecipient, 5), rule("domain", caps.ScopeRecipientDomain, 5),
		rule("rep", caps.ScopeRep, 5), rule("rep-domain", caps.ScopeRepDomain, 5), rule("org", caps.ScopeOrg, 5),
	}
	c, rec := newChecker(t, rules...)
	granted(t, c, "jean@acme.fr", "msg-1", t0)
	hex32 := regexp.MustCompile(`^[0-9a-f]{32}$`)
	seen := map[string]bool{}
	for _, s := range rec.slots {
		if !hex32.MatchString(s.Key) || !hex32.MatchString(s.ID) {
			t.Errorf("slot %+v: key and id should be 32 hex digits", s)
		}
		seen[s.Key] = true
	}
	if len(seen) != len(rules) {
		t.Errorf("%d distinct keys for %d caps", len(seen), len(rules))
	}
	other, err := caps.New(rules, rec, []byte(strings.Repeat("k", 32)), caps.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c.StoreKey("org", "org") == other.StoreKey("org", "org") {
		t.Error("two digest keys give the same store key")
	}
}

func TestUsageAndResetByName(t *testing.T) {
	c, _ := newChecker(t, rule("recipient", caps.ScopeRecipient, 1))
	commitAt(t, granted(t, c, "a@acme.fr", "m1", t0), t0)
	if err := c.Reset(t.Context(), "recipient", "a@acme.fr"); err != nil {
		t.Fatal(err)
	}
	granted(t, c, "a@acme.fr", "m2", t0)
	if _, err := c.Usage(t.Context(), "nope", "a@acme.fr", t0); err == nil {
		t.Error("Usage of an unknown cap succeeded")
	}
	if err := c.Reset(t.Context(), "nope", "a@acme.fr"); err == nil {
		t.Error("Reset of an unknown cap succeeded")
	}
	if _, _, err := c.Reserve(t.Context(), rep, "a@acme.fr", "", "", t0); err == nil {
		t.Error("Reserve without a message id succeeded")
	}
}
