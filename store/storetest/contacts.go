package storetest

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dncgate/dncgate/contactdb"
	"github.com/dncgate/dncgate/listdb"
)

// contactEpoch stamps imports; nanoseconds so that a store rounding times
// fails.
var contactEpoch = time.Date(2026, 4, 2, 10, 30, 0, 987654321, time.UTC)

// RunContacts runs the contract of contactdb.Store. open is called once
// per subtest and must return an empty store that the test owns.
func RunContacts(t *testing.T, open func(t *testing.T) contactdb.Store) {
	t.Run("Empty", func(t *testing.T) { testContactsEmpty(t, open(t)) })
	t.Run("ImportThenLookup", func(t *testing.T) { testContactsImport(t, open(t)) })
	t.Run("ReimportReplaces", func(t *testing.T) { testContactsReimport(t, open(t)) })
	t.Run("ReaderDuringImport", func(t *testing.T) { testContactsReaderDuringImport(t, open(t)) })
	t.Run("AbortKeepsCurrent", func(t *testing.T) { testContactsAbort(t, open(t)) })
	t.Run("OrphanSwept", func(t *testing.T) { testContactsOrphan(t, open(t)) })
	t.Run("Forget", func(t *testing.T) { testContactsForget(t, open(t)) })
	t.Run("BadRecord", func(t *testing.T) { testContactsBadRecord(t, open(t)) })
}

// contactDigest is a digest derived from tag and i: two tags never share one.
func contactDigest(tag string, i int) listdb.Digest {
	sum := sha256.Sum256(fmt.Appendf(nil, "contact-%s-%d", tag, i))
	return listdb.Digest(sum[:listdb.DigestSize])
}

var (
	contactCountries = []string{"FR", "GB", "", "DE", "BE"}
	contactTypes     = []string{contactdb.TypeConsumer, contactdb.TypeSoleTrader, contactdb.TypeBusiness, ""}
)

// ContactRecords returns n records under tag, with a spread of countries,
// types and 0 to MaxPhones phones; variant changes each record's content
// but not its e-mail.
func ContactRecords(tag string, n, variant int) []contactdb.Record {
	out := make([]contactdb.Record, n)
	for i := range out {
		r := &out[i]
		r.Email = contactDigest(tag, i)
		k := i + variant
		r.Country = contactCountries[k%len(contactCountries)]
		r.Type = contactTypes[k%len(contactTypes)]
		for p := range (k % 3) + k%7/6*(contactdb.MaxPhones-2) {
			r.Phones = append(r.Phones, contactDigest("phone-"+tag+strconv.Itoa(variant), i*contactdb.MaxPhones+p))
		}
	}
	return out
}

// importContacts imports sets as one version, in batches of batch.
func importContacts(t *testing.T, s contactdb.Store, batch int, sets ...[]contactdb.Record) contactdb.Version {
	t.Helper()
	w, err := s.BeginImport(t.Context(), 0)
	if err != nil {
		t.Fatalf("BeginImport: %v", err)
	}
	for _, all := range sets {
		for len(all) > 0 {
			n := min(batch, len(all))
			if err := w.Add(t.Context(), all[:n]); err != nil {
				t.Fatalf("Add: %v", err)
			}
			all = all[n:]
		}
	}
	v, err := w.Commit(t.Context(), contactdb.Version{ImportedAt: contactEpoch, ImportedBy: "admin@example.com",
		FileSHA256: "cd34", Rows: 12, Valid: 10, Invalid: 2})
	if err != nil {
		t.Fatalf("Commit: %v", err)
	}
	return v
}

func sameContact(a, b contactdb.Contact) bool {
	if a.Country != b.Country || a.Type != b.Type || len(a.Phones) != len(b.Phones) {
		return false
	}
	for i := range a.Phones {
		if a.Phones[i] != b.Phones[i] {
			return false
		}
	}
	return true
}

// wantContacts checks that s holds exactly recs (found) or none of them.
func wantContacts(t *testing.T, s contactdb.Store, found bool, recs []contactdb.Record) {
	t.Helper()
	for i, r := range recs {
		got, ok, err := s.Contact(t.Context(), r.Email)
		if err != nil {
			t.Fatalf("Contact(record %d): %v", i, err)
		}
		if ok != found || found && !sameContact(got, r.Contact) {
			t.Fatalf("Contact(record %d of %d) = %+v, %v; want %+v, %v", i, len(recs), got, ok, r.Contact, found)
		}
	}
}

func testContactsEmpty(t *testing.T, s contactdb.Store) {
	ctx := t.Context()
	if v, err := s.Current(ctx); err != nil || v != (contactdb.Version{}) {
		t.Fatalf("Current of an empty store = %+v, %v; want the zero Version", v, err)
	}
	wantContacts(t, s, false, ContactRecords("x", 3, 0))
	if err := s.Forget(ctx, contactDigest("x", 0)); err != nil {
		t.Fatalf("Forget on an empty store: %v", err)
	}
}

func testContactsImport(t *testing.T, s contactdb.Store) {
	recs := ContactRecords("in", 1200, 0)
	// The first 400 come first in another variant: the later records
	// replace them.
	v := importContacts(t, s, 300, ContactRecords("in", 400, 1), recs)
	if v.ID == "" || v.Entries != 1200 || v.Duplicates != 400 {
		t.Fatalf("Commit = %+v; want an ID, 1200 entries, 400 duplicates", v)
	}
	got, err := s.Current(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != v.ID || !got.ImportedAt.Equal(contactEpoch) || got.ImportedBy != "admin@example.com" ||
		got.FileSHA256 != "cd34" || got.Rows != 12 || got.Valid != 10 || got.Invalid != 2 ||
		got.Duplicates != 400 || got.Entries != 1200 {
		t.Fatalf("Current = %+v; want %+v", got, v)
	}
	wantContacts(t, s, true, recs)
	wantContacts(t, s, false, ContactRecords("out", 200, 0))
}

func testContactsReimport(t *testing.T, s contactdb.Store) {
	both, oldOnly, newOnly := ContactRecords("both", 200, 0), ContactRecords("old", 200, 0), ContactRecords("new", 200, 0)
	v1 := importContacts(t, s, 1000, both, oldOnly)
	changed := ContactRecords("both", 200, 2)
	v2 := importContacts(t, s, 1000, newOnly, changed)
	if v1.ID == v2.ID || v2.Entries != 400 || v2.Duplicates != 0 {
		t.Fatalf("second import = %+v after %+v; want a new ID and 400 entries", v2, v1)
	}
	wantContacts(t, s, true, changed)
	wantContacts(t, s, true, newOnly)
	wantContacts(t, s, false, oldOnly)
	empty := importContacts(t, s, 1000)
	if empty.Entries != 0 {
		t.Fatalf("empty import has %d entries", empty.Entries)
	}
	wantContacts(t, s, false, newOnly)
}

// testContactsReaderDuringImport: readers looking up an old-only and a
// new-only contact, and one whose record changes, while an import runs
// and switches, each get the old answer or the new one, never a record
// of neither; each reader goes from old to new once, never back, and not
// before Commit is called.
func testContactsReaderDuringImport(t *testing.T, s contactdb.Store) {
	both, oldOnly, newOnly := ContactRecords("both", 1000, 0), ContactRecords("old", 1000, 0), ContactRecords("new", 1000, 0)
	changed := ContactRecords("both", 1000, 1)
	importContacts(t, s, 5000, both, oldOnly)
	probes := []contactProbe{{oldOnly[7], nil}, {newOnly[7], nil}, {both[7], &changed[7]}, {oldOnly[999], nil}}
	wantNew := []bool{false, true, true, false}
	var committed atomic.Bool
	stop := make(chan struct{})
	errc := make(chan error, contactReaders)
	var wg sync.WaitGroup
	for range contactReaders {
		wg.Go(func() {
			sawNew := false
			for i := 0; ; i++ {
				select {
				case <-stop:
					errc <- nil
					return
				default:
				}
				p := probes[i%len(probes)]
				isNew, err := p.isNew(t, s, wantNew[i%len(probes)])
				after := committed.Load() // read after the answer, see RunLists
				switch {
				case err != nil:
					errc <- err
					return
				case isNew && !after:
					errc <- errors.New("a reader saw the new version before Commit was called")
					return
				case !isNew && sawNew:
					errc <- errors.New("a reader saw the old version after the new one")
					return
				}
				sawNew = sawNew || isNew
			}
		})
	}
	w, err := s.BeginImport(t.Context(), 2000)
	if err != nil {
		t.Fatal(err)
	}
	for _, set := range [][]contactdb.Record{newOnly[:500], changed, newOnly[500:]} {
		if err := w.Add(t.Context(), set); err != nil {
			t.Fatal(err)
		}
	}
	committed.Store(true)
	if _, err := w.Commit(t.Context(), contactdb.Version{ImportedAt: contactEpoch}); err != nil {
		t.Fatal(err)
	}
	for i, p := range probes {
		if isNew, err := p.isNew(t, s, wantNew[i]); err != nil || !isNew {
			t.Fatalf("after Commit, probe %d answers as the old version (%v)", i, err)
		}
	}
	close(stop)
	wg.Wait()
	for range contactReaders {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
}

// contactReaders is how many readers look up while an import runs: one
// is enough to meet the switch, and on two cores a second one mostly
// slows the import down.
const contactReaders = 1

// contactProbe is a record of the old version and what the new one holds
// for its e-mail, nil when it holds the same or nothing.
type contactProbe struct {
	old contactdb.Record
	now *contactdb.Record
}

// isNew looks the probe up and says whether the answer is the new
// version's; inNew says whether the new version holds the record at all
// (the old one holds it unless it is new-only). An answer of neither
// version is an error.
func (p contactProbe) isNew(t *testing.T, s contactdb.Store, inNew bool) (bool, error) {
	got, ok, err := s.Contact(t.Context(), p.old.Email)
	switch {
	case err != nil:
		return false, err
	case p.now != nil && ok && sameContact(got, p.now.Contact):
		return true, nil
	case p.now != nil && ok && sameContact(got, p.old.Contact):
		return false, nil
	case p.now != nil:
		return false, fmt.Errorf("a changed record reads %+v, %v: neither version's", got, ok)
	case ok && !sameContact(got, p.old.Contact):
		return false, fmt.Errorf("a record reads %+v: neither version's", got)
	}
	return ok == inNew, nil
}

func testContactsAbort(t *testing.T, s contactdb.Store) {
	ctx := t.Context()
	old := ContactRecords("old", 300, 0)
	v1 := importContacts(t, s, 1000, old)
	w, err := s.BeginImport(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Add(ctx, ContactRecords("new", 300, 0)); err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(ctx); err != nil {
		t.Fatalf("Abort: %v", err)
	}
	if _, err := w.Commit(ctx, contactdb.Version{}); err == nil {
		t.Fatal("Commit after Abort succeeded")
	}
	wantContacts(t, s, true, old)
	wantContacts(t, s, false, ContactRecords("new", 300, 0))
	if v, err := s.Current(ctx); err != nil || v.ID != v1.ID {
		t.Fatalf("after Abort Current = %+v, %v; want version %s", v, err, v1.ID)
	}
}

// testContactsOrphan: an import that stopped without Commit or Abort (a
// killed process) is swept by the next BeginImport and can no longer
// commit.
func testContactsOrphan(t *testing.T, s contactdb.Store) {
	ctx := t.Context()
	importContacts(t, s, 1000, ContactRecords("old", 300, 0))
	orphan, err := s.BeginImport(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	lost := ContactRecords("lost", 400, 0)
	if err := orphan.Add(ctx, lost); err != nil {
		t.Fatal(err)
	}
	wantContacts(t, s, false, lost)
	v := importContacts(t, s, 1000, ContactRecords("new", 200, 0))
	if v.Entries != 200 {
		t.Fatalf("import after an orphan has %d entries, want 200", v.Entries)
	}
	if _, err := orphan.Commit(ctx, contactdb.Version{}); !errors.Is(err, contactdb.ErrSuperseded) {
		t.Fatalf("the orphan's Commit: %v, want ErrSuperseded", err)
	}
	wantContacts(t, s, true, ContactRecords("new", 200, 0))
	wantContacts(t, s, false, lost)
}

// testContactsForget: Forget removes one record from the current version
// only; an import holding the person brings them back.
func testContactsForget(t *testing.T, s contactdb.Store) {
	ctx := t.Context()
	recs := ContactRecords("f", 50, 0)
	v := importContacts(t, s, 1000, recs)
	if err := s.Forget(ctx, recs[3].Email); err != nil {
		t.Fatalf("Forget: %v", err)
	}
	if err := s.Forget(ctx, recs[3].Email); err != nil {
		t.Fatalf("Forget of a record already forgotten: %v", err)
	}
	if err := s.Forget(ctx, contactDigest("never", 0)); err != nil {
		t.Fatalf("Forget of an unknown e-mail: %v", err)
	}
	wantContacts(t, s, false, recs[3:4])
	wantContacts(t, s, true, recs[:3])
	wantContacts(t, s, true, recs[4:])
	if cur, err := s.Current(ctx); err != nil || cur.ID != v.ID {
		t.Fatalf("Forget changed the version: %+v, %v; want %s", cur, err, v.ID)
	}
	importContacts(t, s, 1000, recs)
	wantContacts(t, s, true, recs)
}

func testContactsBadRecord(t *testing.T, s contactdb.Store) {
	ctx := t.Context()
	good := ContactRecords("good", 10, 0)
	importContacts(t, s, 1000, good)
	w, err := s.BeginImport(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	bad := ContactRecords("bad", 3, 0)
	bad[1].Country = "fra"
	if err := w.Add(ctx, bad); err == nil {
		t.Fatal("Add accepted a record with country fra")
	}
	if err := w.Abort(ctx); err != nil {
		t.Fatal(err)
	}
	wantContacts(t, s, true, good)
}

// contactBatch is the batch an importer would hand Add.
const contactBatch = 65536

// BenchContacts is how many records BenchContactsImport imports:
// DNCGATE_BENCH_CONTACTS, else 200,000.
func BenchContacts(b *testing.B) int {
	n := 200_000
	if s := os.Getenv("DNCGATE_BENCH_CONTACTS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 1 {
			b.Fatalf("DNCGATE_BENCH_CONTACTS=%q: want a positive count", s)
		}
	}
	return n
}

// BenchContactsImport imports BenchContacts records (0 to 2 phones each)
// per iteration, each import replacing the last, reports records/s, and
// returns the records of the last import.
func BenchContactsImport(b *testing.B, s contactdb.Store) []contactdb.Record {
	ctx := b.Context()
	n := BenchContacts(b)
	recs := ContactRecords("bench", n, 0)
	for i := range recs {
		// CRM contacts mostly hold one or two numbers.
		recs[i].Phones = recs[i].Phones[:min(2, len(recs[i].Phones))]
	}
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		w, err := s.BeginImport(ctx, int64(n))
		if err != nil {
			b.Fatal(err)
		}
		for rest := recs; len(rest) > 0; rest = rest[min(contactBatch, len(rest)):] {
			if err := w.Add(ctx, rest[:min(contactBatch, len(rest))]); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := w.Commit(ctx, contactdb.Version{ImportedAt: contactEpoch}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*float64(n)/time.Since(start).Seconds(), "records/s")
	return recs
}
