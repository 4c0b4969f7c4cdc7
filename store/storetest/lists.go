package storetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dncgate/dncgate/listdb"
)

// ListHarness is one fresh, empty list store handed to a contract test.
type ListHarness struct {
	Store listdb.Store
	// Stored counts the entries the store holds in every version of every
	// list, current or not: what the suite checks leftovers with.
	Stored func(t *testing.T) int64
	// Reopen, when set, opens another handle on the same backend, as
	// another process would: what one handle writes, the other must read.
	Reopen func(t *testing.T) listdb.Store
}

// listEpoch stamps imports; nanoseconds so that a store rounding times fails.
var listEpoch = time.Date(2026, 3, 1, 9, 0, 0, 123456789, time.UTC)

// RunLists runs the contract of listdb.Store. open is called once per
// subtest and must return an empty store that the test owns.
func RunLists(t *testing.T, open func(t *testing.T) ListHarness) {
	t.Run("Describe", func(t *testing.T) { testListDescribe(t, open(t)) })
	t.Run("ImportThenContains", func(t *testing.T) { testListImport(t, open(t)) })
	t.Run("ReimportReplaces", func(t *testing.T) { testListReimport(t, open(t)) })
	t.Run("ReaderDuringImport", func(t *testing.T) { testListReaderDuringImport(t, open(t), containsReader) })
	t.Run("LookupDuringImport", func(t *testing.T) { testListReaderDuringImport(t, open(t), lookupReader) })
	t.Run("Lookup", func(t *testing.T) { testListLookup(t, open(t)) })
	t.Run("AbortKeepsCurrent", func(t *testing.T) { testListAbort(t, open(t)) })
	t.Run("OrphanSwept", func(t *testing.T) { testListOrphan(t, open(t)) })
	t.Run("Drop", func(t *testing.T) { testListDrop(t, open(t)) })
	t.Run("ManualEntries", func(t *testing.T) { testListManual(t, open(t)) })
	runListHistory(t, open)
}

// digests returns n distinct digests derived from tag, so two tags give
// disjoint sets.
func digests(tag string, n int) []listdb.Digest {
	out := make([]listdb.Digest, n)
	for i := range out {
		sum := sha256.Sum256(fmt.Appendf(nil, "%s-%d", tag, i))
		copy(out[i][:], sum[:])
	}
	return out
}

// testMeta describes a list that keeps no replaced version, so that the
// tests of imports count only the version in force; listhistory.go tests
// what is kept.
func testMeta(name string) listdb.Meta {
	none := 0
	return listdb.Meta{Name: name, Kind: "phone", Model: "deny", Countries: []string{"BE", "FR"},
		MaxAge: 5 * 24 * time.Hour, Source: "national register", WarnStale: true, KeepVersions: &none}
}

// importList imports sets as one version, in batches of batch, and returns
// the committed version.
func importList(t *testing.T, s listdb.Store, name string, batch int, sets ...[]listdb.Digest) listdb.Version {
	t.Helper()
	w, err := s.BeginVersion(t.Context(), name, 0)
	if err != nil {
		t.Fatalf("BeginVersion(%s): %v", name, err)
	}
	all := slices.Concat(sets...)
	for len(all) > 0 {
		n := min(batch, len(all))
		if err := w.Add(t.Context(), all[:n]); err != nil {
			t.Fatalf("Add(%s): %v", name, err)
		}
		all = all[n:]
	}
	v, err := w.Commit(t.Context(), listdb.Version{ImportedAt: listEpoch, ImportedBy: "admin@example.com",
		FileSHA256: "ab12", Rows: 10, Valid: 8, Invalid: 1, Duplicates: 1})
	if err != nil {
		t.Fatalf("Commit(%s): %v", name, err)
	}
	return v
}

// wantContains checks Contains(name, ds) against want, one bool for all.
func wantContains(t *testing.T, s listdb.Store, name string, want bool, ds []listdb.Digest) {
	t.Helper()
	got, err := s.Contains(t.Context(), name, ds...)
	if err != nil {
		t.Fatalf("Contains(%s): %v", name, err)
	}
	if len(got) != len(ds) {
		t.Fatalf("Contains(%s) gave %d answers for %d digests", name, len(got), len(ds))
	}
	for i, g := range got {
		if g != want {
			t.Fatalf("Contains(%s) digest %d of %d = %v, want %v", name, i, len(ds), g, want)
		}
	}
}

func putList(t *testing.T, s listdb.Store, name string) {
	t.Helper()
	if err := s.PutList(t.Context(), testMeta(name)); err != nil {
		t.Fatalf("PutList(%s): %v", name, err)
	}
}

func testListDescribe(t *testing.T, h ListHarness) {
	s, ctx := h.Store, t.Context()
	if _, _, err := s.List(ctx, "nope"); !errors.Is(err, listdb.ErrNotFound) {
		t.Fatalf("List of a missing list: %v, want ErrNotFound", err)
	}
	if _, err := s.Contains(ctx, "nope", digests("x", 1)...); !errors.Is(err, listdb.ErrNotFound) {
		t.Fatalf("Contains on a missing list: %v, want ErrNotFound", err)
	}
	if _, err := s.BeginVersion(ctx, "nope", 0); !errors.Is(err, listdb.ErrNotFound) {
		t.Fatalf("BeginVersion on a missing list: %v, want ErrNotFound", err)
	}
	if err := s.PutList(ctx, listdb.Meta{Name: "a b"}); err == nil {
		t.Fatal("PutList accepted a name with a space")
	}
	putList(t, s, "zz")
	putList(t, s, "be-dncm")
	m, v, err := s.List(ctx, "be-dncm")
	if err != nil || !equalMeta(m, testMeta("be-dncm")) || v != (listdb.Version{}) {
		t.Fatalf("List = %+v, %+v, %v; want the meta given and no version", m, v, err)
	}
	wantContains(t, s, "be-dncm", false, digests("x", 3))
	changed := testMeta("be-dncm")
	changed.MaxAge = time.Hour
	changed.WarnStale = false
	if err := s.PutList(ctx, changed); err != nil {
		t.Fatal(err)
	}
	all, err := s.Lists(ctx)
	if err != nil || len(all) != 2 || all[0].Meta.Name != "be-dncm" || all[1].Meta.Name != "zz" {
		t.Fatalf("Lists = %+v, %v; want be-dncm then zz", all, err)
	}
	if !equalMeta(all[0].Meta, changed) || !equalMeta(all[1].Meta, testMeta("zz")) {
		t.Fatalf("PutList did not replace the description: %+v", all[0].Meta)
	}
}

func equalMeta(a, b listdb.Meta) bool {
	return a.Name == b.Name && a.Kind == b.Kind && a.Model == b.Model && slices.Equal(a.Countries, b.Countries) &&
		a.MaxAge == b.MaxAge && a.Source == b.Source && a.WarnStale == b.WarnStale &&
		(a.KeepVersions == nil) == (b.KeepVersions == nil) && a.Keep() == b.Keep()
}

func testListImport(t *testing.T, h ListHarness) {
	s := h.Store
	putList(t, s, "l")
	in := digests("in", 3000)
	// Unsorted, in small batches, with every digest twice.
	v := importList(t, s, "l", 700, in, in[:1000], in[1000:])
	if v.ID == "" || v.Entries != int64(len(in)) {
		t.Fatalf("Commit = %+v; want an ID and %d entries", v, len(in))
	}
	_, got, err := s.List(t.Context(), "l")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != v.ID || !got.ImportedAt.Equal(listEpoch) || got.ImportedBy != "admin@example.com" ||
		got.FileSHA256 != "ab12" || got.Rows != 10 || got.Valid != 8 || got.Invalid != 1 ||
		got.Duplicates != 1 || got.Entries != v.Entries {
		t.Fatalf("List version = %+v; want %+v", got, v)
	}
	wantContains(t, s, "l", true, in)
	wantContains(t, s, "l", false, digests("out", 500))
	mixed, err := s.Contains(t.Context(), "l", in[0], digests("out", 1)[0], in[1])
	if err != nil || !slices.Equal(mixed, []bool{true, false, true}) {
		t.Fatalf("Contains(in, out, in) = %v, %v", mixed, err)
	}
	if n := h.Stored(t); n != int64(len(in)) {
		t.Fatalf("store holds %d entries, want %d", n, len(in))
	}
}

func testListReimport(t *testing.T, h ListHarness) {
	s := h.Store
	putList(t, s, "l")
	both, oldOnly, newOnly := digests("both", 400), digests("old", 400), digests("new", 400)
	v1 := importList(t, s, "l", 1000, both, oldOnly)
	v2 := importList(t, s, "l", 1000, newOnly, both)
	if v1.ID == v2.ID {
		t.Fatalf("two imports got the same version id %q", v1.ID)
	}
	wantContains(t, s, "l", true, both)
	wantContains(t, s, "l", true, newOnly)
	wantContains(t, s, "l", false, oldOnly)
	if n := h.Stored(t); n != 800 {
		t.Fatalf("store holds %d entries after the switch, want 800: the old version stayed", n)
	}
	empty := importList(t, s, "l", 1000)
	if empty.Entries != 0 {
		t.Fatalf("empty import has %d entries", empty.Entries)
	}
	wantContains(t, s, "l", false, both)
}

// reader asks list "l" of s about probe and returns the answer and the
// version that gave it ("" when the reader cannot tell).
type reader func(ctx context.Context, s listdb.Store, probe []listdb.Digest) ([]bool, string, error)

func containsReader(ctx context.Context, s listdb.Store, probe []listdb.Digest) ([]bool, string, error) {
	got, err := s.Contains(ctx, "l", probe...)
	return got, "", err
}

// lookupReader asks "l" beside "still", which the test never changes.
func lookupReader(ctx context.Context, s listdb.Store, probe []listdb.Digest) ([]bool, string, error) {
	still := digests("still", 2)
	got, err := s.Lookup(ctx, []listdb.Probe{{List: "still", Digests: still[:1]}, {List: "l", Digests: probe}})
	if err != nil {
		return nil, "", err
	}
	if a := got[0]; a.Missing || a.Version == "" || !slices.Equal(a.Found, []bool{true}) {
		return nil, "", fmt.Errorf("Lookup of the list left alone = %+v", a)
	}
	return got[1].Found, got[1].Version, nil
}

// testListReaderDuringImport: readers checking one old-only and one
// new-only digest (and a few held by both) while an import runs and
// switches see exactly the old answer, then exactly the new one.
func testListReaderDuringImport(t *testing.T, h ListHarness, read reader) {
	s := h.Store
	putList(t, s, "l")
	putList(t, s, "still")
	importList(t, s, "still", 10, digests("still", 1))
	both, oldOnly, newOnly := digests("both", 2000), digests("old", 2000), digests("new", 2000)
	v1 := importList(t, s, "l", 5000, both, oldOnly)
	probe := []listdb.Digest{oldOnly[7], newOnly[7], both[7], oldOnly[1999], newOnly[1999]}
	wantOld, wantNew := []bool{true, false, true, true, false}, []bool{false, true, true, false, true}

	var (
		mu        sync.Mutex
		committed bool
		seenNew   bool
	)
	stop := make(chan struct{})
	errc := make(chan error, 2)
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					errc <- nil
					return
				default:
				}
				got, ver, err := read(t.Context(), s, probe)
				// Read after the answer: committed is set before Commit
				// is called, so a new answer with it unset came too early.
				mu.Lock()
				after := committed
				mu.Unlock()
				switch {
				case err != nil:
					errc <- err
					return
				case slices.Equal(got, wantNew) && ver != "" && ver == v1.ID:
					errc <- fmt.Errorf("the new answer came from the old version %s", ver)
					return
				case slices.Equal(got, wantOld) && ver != "" && ver != v1.ID:
					errc <- fmt.Errorf("the old answer came from version %s, not %s", ver, v1.ID)
					return
				case slices.Equal(got, wantNew):
					if !after {
						errc <- errors.New("a reader saw the new version before Commit was called")
						return
					}
					mu.Lock()
					seenNew = true
					mu.Unlock()
				case !slices.Equal(got, wantOld):
					errc <- fmt.Errorf("a reader saw a mix of versions: %v", got)
					return
				}
			}
		})
	}
	w, err := s.BeginVersion(t.Context(), "l", 4000)
	if err != nil {
		t.Fatal(err)
	}
	for _, set := range [][]listdb.Digest{newOnly[:1000], both, newOnly[1000:]} {
		if err := w.Add(t.Context(), set); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	committed = true
	mu.Unlock()
	v2, err := w.Commit(t.Context(), listdb.Version{ImportedAt: listEpoch})
	if err != nil {
		t.Fatal(err)
	}
	// The readers go on until one has seen the new version: the switch is
	// over once Commit returns.
	for {
		mu.Lock()
		done := seenNew
		mu.Unlock()
		if done {
			break
		}
		got, ver, err := read(t.Context(), s, probe)
		if err != nil || !slices.Equal(got, wantNew) || ver != "" && ver != v2.ID {
			t.Fatalf("after Commit, read %v from version %q, %v; want %v from %s", got, ver, err, wantNew, v2.ID)
		}
		mu.Lock()
		seenNew = true
		mu.Unlock()
	}
	close(stop)
	wg.Wait()
	for range 2 {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
}

func testListAbort(t *testing.T, h ListHarness) {
	s, ctx := h.Store, t.Context()
	putList(t, s, "l")
	old := digests("old", 500)
	v1 := importList(t, s, "l", 1000, old)
	w, err := s.BeginVersion(ctx, "l", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Add(ctx, digests("new", 700)); err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(ctx); err != nil {
		t.Fatalf("Abort: %v", err)
	}
	if _, err := w.Commit(ctx, listdb.Version{}); err == nil {
		t.Fatal("Commit after Abort succeeded")
	}
	wantContains(t, s, "l", true, old)
	wantContains(t, s, "l", false, digests("new", 700))
	if _, v, err := s.List(ctx, "l"); err != nil || v.ID != v1.ID {
		t.Fatalf("after Abort List version = %+v, %v; want %s", v, err, v1.ID)
	}
	if n := h.Stored(t); n != 500 {
		t.Fatalf("store holds %d entries after Abort, want 500", n)
	}
}

// testListOrphan: an import that stopped without Commit or Abort (a killed
// process) is swept by the next BeginVersion, and can no longer commit.
func testListOrphan(t *testing.T, h ListHarness) {
	s, ctx := h.Store, t.Context()
	putList(t, s, "l")
	importList(t, s, "l", 1000, digests("old", 300))
	orphan, err := s.BeginVersion(ctx, "l", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := orphan.Add(ctx, digests("lost", 900)); err != nil {
		t.Fatal(err)
	}
	wantContains(t, s, "l", false, digests("lost", 900))
	v := importList(t, s, "l", 1000, digests("new", 200))
	if v.Entries != 200 {
		t.Fatalf("import after an orphan has %d entries, want 200", v.Entries)
	}
	if n := h.Stored(t); n != 200 {
		t.Fatalf("store holds %d entries, want 200: the orphan's entries stayed", n)
	}
	if _, err := orphan.Commit(ctx, listdb.Version{}); !errors.Is(err, listdb.ErrSuperseded) {
		t.Fatalf("the orphan's Commit: %v, want ErrSuperseded", err)
	}
	wantContains(t, s, "l", true, digests("new", 200))
	wantContains(t, s, "l", false, digests("lost", 900))
}

func testListDrop(t *testing.T, h ListHarness) {
	s, ctx := h.Store, t.Context()
	putList(t, s, "l")
	putList(t, s, "other")
	importList(t, s, "l", 1000, digests("a", 600))
	importList(t, s, "other", 1000, digests("b", 100))
	if err := s.DropList(ctx, "l"); err != nil {
		t.Fatalf("DropList: %v", err)
	}
	if err := s.DropList(ctx, "l"); !errors.Is(err, listdb.ErrNotFound) {
		t.Fatalf("second DropList: %v, want ErrNotFound", err)
	}
	if _, _, err := s.List(ctx, "l"); !errors.Is(err, listdb.ErrNotFound) {
		t.Fatalf("List after DropList: %v, want ErrNotFound", err)
	}
	if n := h.Stored(t); n != 100 {
		t.Fatalf("store holds %d entries after the drop, want the other list's 100", n)
	}
	wantContains(t, s, "other", true, digests("b", 100))
	putList(t, s, "l")
	wantContains(t, s, "l", false, digests("a", 600))
}

// testListManual: entries added or removed by hand outlive imports, the
// last decision on a digest wins, and they go with the list.
func testListManual(t *testing.T, h ListHarness) {
	s, ctx := h.Store, t.Context()
	d := digests("m", 5)
	if err := s.AddEntry(ctx, "l", d[0]); !errors.Is(err, listdb.ErrNotFound) {
		t.Fatalf("AddEntry on a missing list: %v, want ErrNotFound", err)
	}
	if err := s.RemoveEntry(ctx, "l", d[0]); !errors.Is(err, listdb.ErrNotFound) {
		t.Fatalf("RemoveEntry on a missing list: %v, want ErrNotFound", err)
	}
	putList(t, s, "l")
	check := func(want ...bool) {
		t.Helper()
		got, err := s.Contains(ctx, "l", d...)
		if err != nil || !slices.Equal(got, want) {
			t.Fatalf("Contains = %v, %v; want %v", got, err, want)
		}
	}
	if err := s.AddEntry(ctx, "l", d[4]); err != nil {
		t.Fatalf("AddEntry: %v", err)
	}
	check(false, false, false, false, true) // before any import
	importList(t, s, "l", 1000, d[:2])
	if err := s.AddEntry(ctx, "l", d[2]); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveEntry(ctx, "l", d[0]); err != nil {
		t.Fatal(err)
	}
	check(false, true, true, false, true)
	v := importList(t, s, "l", 1000, []listdb.Digest{d[0], d[3]})
	if v.Entries != 2 {
		t.Fatalf("import counts %d entries, want 2: manual ones are not a version's", v.Entries)
	}
	check(false, false, true, true, true)
	if err := s.AddEntry(ctx, "l", d[0]); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveEntry(ctx, "l", d[2]); err != nil {
		t.Fatal(err)
	}
	check(true, false, false, true, true)
	wantManual(t, s, "l", listdb.Manual{Added: 2, Removed: 1}) // d[0], d[4] on; d[2] off
	if err := s.DropList(ctx, "l"); err != nil {
		t.Fatal(err)
	}
	putList(t, s, "l")
	check(false, false, false, false, false)
	wantManual(t, s, "l", listdb.Manual{})
	if mc, ok := s.(listdb.ManualCounter); ok {
		if _, err := mc.Manual(ctx, "none"); !errors.Is(err, listdb.ErrNotFound) {
			t.Errorf("Manual of a missing list: %v, want ErrNotFound", err)
		}
	}
}

// wantManual checks the manual counts of a store that keeps them.
func wantManual(t *testing.T, s listdb.Store, name string, want listdb.Manual) {
	t.Helper()
	mc, ok := s.(listdb.ManualCounter)
	if !ok {
		t.Fatalf("%T counts no manual entries", s)
	}
	got, err := mc.Manual(t.Context(), name)
	if err != nil || got != want {
		t.Errorf("Manual(%s) = %+v, %v; want %+v", name, got, err, want)
	}
}

// testListLookup: one Lookup answers several lists, each from its
// current version, and sees manual changes, imports, drops and new lists
// from the next Lookup on, also when another handle made them.
func testListLookup(t *testing.T, h ListHarness) {
	s, ctx := h.Store, t.Context()
	other := s
	if h.Reopen != nil {
		other = h.Reopen(t)
	}
	a, b, x := digests("a", 300), digests("b", 300), digests("x", 2)
	for _, name := range []string{"a", "b", "c"} {
		putList(t, s, name)
	}
	va, vb := importList(t, s, "a", 1000, a), importList(t, s, "b", 1000, b)
	must(t, s.AddEntry(ctx, "c", x[0]))
	probes := []listdb.Probe{
		{List: "a", Digests: []listdb.Digest{a[0], b[0], a[299]}},
		{List: "nope", Digests: a[:1]},
		{List: "b", Digests: []listdb.Digest{x[1], b[5]}},
		{List: "c", Digests: []listdb.Digest{x[0], x[1], a[0]}},
		{List: "a"},
	}
	want := []listdb.Answer{
		{Found: []bool{true, false, true}, Version: va.ID},
		{Found: []bool{false}, Missing: true},
		{Found: []bool{false, true}, Version: vb.ID},
		{Found: []bool{true, false, false}},
		{Version: va.ID},
	}
	wantLookup(t, other, probes, want) // the other handle knows the lists too
	wantLookup(t, s, probes, want)

	must(t, other.AddEntry(ctx, "a", b[0]))
	must(t, other.RemoveEntry(ctx, "a", a[0]))
	must(t, other.RemoveEntry(ctx, "c", x[0]))
	want[0].Found, want[3].Found = []bool{false, true, true}, []bool{false, false, false}
	wantLookup(t, s, probes, want)

	vb2 := importList(t, other, "b", 1000, x[1:])
	must(t, other.DropList(ctx, "a"))
	putList(t, other, "nope")
	want[0] = listdb.Answer{Found: []bool{false, false, false}, Missing: true}
	want[1] = listdb.Answer{Found: []bool{false}}
	want[2] = listdb.Answer{Found: []bool{true, false}, Version: vb2.ID}
	want[4] = listdb.Answer{Missing: true}
	wantLookup(t, s, probes, want)

	vn := importList(t, s, "nope", 1000, a[:1])
	want[1] = listdb.Answer{Found: []bool{true}, Version: vn.ID}
	wantLookup(t, s, probes, want)
	if got, err := s.Lookup(ctx, nil); err != nil || len(got) != 0 {
		t.Fatalf("Lookup of no probes = %v, %v", got, err)
	}
	odd := []listdb.Probe{{List: "q\"u\\o\x00te é", Digests: a[:1]}}
	wantLookup(t, s, odd, []listdb.Answer{{Found: []bool{false}, Missing: true}})
}

// wantLookup checks Lookup(probes) against want.
func wantLookup(t *testing.T, s listdb.Store, probes []listdb.Probe, want []listdb.Answer) {
	t.Helper()
	got, err := s.Lookup(t.Context(), probes)
	if err != nil {
		t.Fatalf("Lookup: %v", err)
	}
	if len(got) != len(want) {
		t.Fatalf("Lookup gave %d answers for %d probes", len(got), len(probes))
	}
	for i, g := range got {
		w := want[i]
		if len(g.Found) != len(probes[i].Digests) || !slices.Equal(g.Found, w.Found) ||
			g.Version != w.Version || g.Missing != w.Missing {
			t.Fatalf("Lookup probe %d (list %s) = %+v; want %+v", i, probes[i].List, g, w)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// BenchEntries is how many digests BenchImport imports per iteration.
const BenchEntries = 1_000_000

// benchBatch is the batch an importer would hand Add.
const benchBatch = 65536

// RandomDigests returns n random digests from a fixed seed.
func RandomDigests(n int) []listdb.Digest {
	r := rand.NewChaCha8([32]byte{1})
	out := make([]listdb.Digest, n)
	for i := range out {
		_, _ = r.Read(out[i][:]) // ChaCha8.Read never fails
	}
	return out
}

// BenchImport imports BenchEntries random digests into list name per
// iteration, each as a new version replacing the last, and reports
// entries/s. after, when set, runs once after the last import.
func BenchImport(b *testing.B, s listdb.Store, name string, after func(b *testing.B)) {
	ctx := b.Context()
	if err := s.PutList(ctx, testMeta(name)); err != nil {
		b.Fatal(err)
	}
	ds := RandomDigests(BenchEntries)
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		w, err := s.BeginVersion(ctx, name, BenchEntries)
		if err != nil {
			b.Fatal(err)
		}
		for rest := ds; len(rest) > 0; rest = rest[min(benchBatch, len(rest)):] {
			if err := w.Add(ctx, rest[:min(benchBatch, len(rest))]); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := w.Commit(ctx, listdb.Version{ImportedAt: listEpoch}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*BenchEntries/time.Since(start).Seconds(), "entries/s")
	if after != nil {
		after(b)
	}
}

// LookupBench is what BenchLookup measures beside the lookups.
type LookupBench struct {
	// Ping, when set, is a bare round trip to the backend, timed after
	// every Lookup so that both come from the same run.
	Ping func(ctx context.Context) error
	// RoundTrips, when set, counts the round trips made so far, a Ping
	// being one.
	RoundTrips func() int64
}

const (
	// benchLists and benchDigests shape a recipient's check: the lists
	// that govern it, and the digests asked of each.
	benchLists, benchDigests = 5, 3
	// benchProbeSets is how many different checks the benchmark cycles
	// through, so that the buckets read vary.
	benchProbeSets = 4096
	// benchEntriesDefault is the entries per list unless
	// DNCGATE_BENCH_ENTRIES says otherwise.
	benchEntriesDefault = 200_000
)

// BenchLookup imports benchLists lists of DNCGATE_BENCH_ENTRIES entries
// each (200000 by default), then measures Lookups of benchLists probes of
// benchDigests digests (one on the list, the others not) from 1 and from 4
// goroutines, and reports their p50 and p99 latency, and those of lb.Ping
// and the round trips per Lookup when lb says how.
func BenchLookup(b *testing.B, s listdb.Store, lb LookupBench) {
	n := benchEntriesDefault
	if v := os.Getenv("DNCGATE_BENCH_ENTRIES"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			b.Fatalf("DNCGATE_BENCH_ENTRIES=%q is not a positive number", v)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	sets := make([][]listdb.Probe, benchProbeSets)
	for l := range benchLists {
		name := fmt.Sprintf("bench-%d", l)
		if err := s.PutList(b.Context(), testMeta(name)); err != nil {
			b.Fatal(err)
		}
		ds := digests(name, n)
		benchImport(b, s, name, ds)
		for i := range sets {
			miss := digests(fmt.Sprintf("miss-%d-%d", l, i), benchDigests-1)
			sets[i] = append(sets[i], listdb.Probe{List: name, Digests: append(miss, ds[r.IntN(n)])})
		}
	}
	for _, g := range []int{1, 4} {
		b.Run(fmt.Sprintf("goroutines=%d", g), func(b *testing.B) { benchLookups(b, s, lb, sets, g) })
	}
}

// benchImport imports ds as the list's new version.
func benchImport(b *testing.B, s listdb.Store, name string, ds []listdb.Digest) {
	w, err := s.BeginVersion(b.Context(), name, int64(len(ds)))
	if err != nil {
		b.Fatal(err)
	}
	for rest := ds; len(rest) > 0; rest = rest[min(benchBatch, len(rest)):] {
		if err := w.Add(b.Context(), rest[:min(benchBatch, len(rest))]); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := w.Commit(b.Context(), listdb.Version{ImportedAt: listEpoch}); err != nil {
		b.Fatal(err)
	}
}

// benchLookups runs b.N Lookups from g goroutines, each followed by a Ping.
func benchLookups(b *testing.B, s listdb.Store, lb LookupBench, sets [][]listdb.Probe, g int) {
	ctx := b.Context()
	lookups, pings := make([][]time.Duration, g), make([][]time.Duration, g)
	var next atomic.Int64
	var before int64
	if lb.RoundTrips != nil {
		before = lb.RoundTrips()
	}
	b.ResetTimer()
	var wg sync.WaitGroup
	for w := range g {
		wg.Go(func() {
			for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
				start := time.Now()
				got, err := s.Lookup(ctx, sets[i%benchProbeSets])
				lookups[w] = append(lookups[w], time.Since(start))
				if err != nil || !got[0].Found[benchDigests-1] || got[0].Found[0] {
					b.Errorf("Lookup = %+v, %v; want the last digest found, not the first", got, err)
					return
				}
				if lb.Ping != nil {
					start = time.Now()
					err = lb.Ping(ctx)
					pings[w] = append(pings[w], time.Since(start))
					if err != nil {
						b.Error(err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	reportPercentiles(b, "", slices.Concat(lookups...))
	ps := slices.Concat(pings...)
	if lb.Ping != nil {
		reportPercentiles(b, "ping-", ps)
	}
	if lb.RoundTrips != nil {
		b.ReportMetric(float64(lb.RoundTrips()-before-int64(len(ps)))/float64(b.N), "roundtrips/lookup")
	}
}

// reportPercentiles reports the p50 and p99 of ds in microseconds.
func reportPercentiles(b *testing.B, prefix string, ds []time.Duration) {
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	for _, p := range []int{50, 99} {
		d := ds[min(len(ds)-1, len(ds)*p/100)]
		b.ReportMetric(float64(d.Nanoseconds())/1e3, fmt.Sprintf("%sp%d-µs", prefix, p))
	}
}
