package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dncgate/dncgate/listdb"
)

// runListHistory runs the contract of the kept versions, Rollback and the
// records of decisions by hand.
func runListHistory(t *testing.T, open func(t *testing.T) ListHarness) {
	t.Run("HistoryKeepsTwo", func(t *testing.T) { testListHistory(t, open(t)) })
	t.Run("KeepNone", func(t *testing.T) { testListKeepNone(t, open(t)) })
	t.Run("Rollback", func(t *testing.T) { testListRollback(t, open(t)) })
	t.Run("RollbackDuringReads", func(t *testing.T) { testListRollbackReaders(t, open(t)) })
	t.Run("ManualRecords", func(t *testing.T) { testListManualRecords(t, open(t)) })
}

// putKeeping creates list name keeping keep replaced versions; nil
// leaves the default.
func putKeeping(t *testing.T, s listdb.Store, name string, keep *int) {
	t.Helper()
	m := testMeta(name)
	m.KeepVersions = keep
	if err := s.PutList(t.Context(), m); err != nil {
		t.Fatalf("PutList(%s): %v", name, err)
	}
}

// importNth imports ds as version n of a test's series: its counts and
// SHA-256 say n, so History can be checked field by field.
func importNth(t *testing.T, s listdb.Store, name string, n int, ds []listdb.Digest) listdb.Version {
	t.Helper()
	w, err := s.BeginVersion(t.Context(), name, int64(len(ds)))
	if err != nil {
		t.Fatalf("BeginVersion(%s): %v", name, err)
	}
	if err := w.Add(t.Context(), ds); err != nil {
		t.Fatalf("Add(%s): %v", name, err)
	}
	v, err := w.Commit(t.Context(), listdb.Version{ImportedAt: listEpoch.Add(time.Duration(n) * time.Hour),
		ImportedBy: fmt.Sprintf("admin%d", n), FileSHA256: fmt.Sprintf("sha%d", n), Rows: int64(len(ds)),
		Valid: int64(len(ds)), Added: int64(n), Removed: int64(10 * n), Compared: true})
	if err != nil {
		t.Fatalf("Commit(%s) %d: %v", name, n, err)
	}
	return v
}

// wantHistory checks History against the versions given, newest first,
// the one at inForce in force.
func wantHistory(t *testing.T, s listdb.Store, name string, inForce int, want ...listdb.Version) []listdb.VersionInfo {
	t.Helper()
	h, err := s.History(t.Context(), name)
	if err != nil {
		t.Fatalf("History(%s): %v", name, err)
	}
	var ids []string
	for _, v := range h {
		ids = append(ids, v.ID)
	}
	var wantIDs []string
	for _, v := range want {
		wantIDs = append(wantIDs, v.ID)
	}
	if !slices.Equal(ids, wantIDs) {
		t.Fatalf("History(%s) holds versions %v, want %v", name, ids, wantIDs)
	}
	for i, v := range h {
		w := want[i]
		if v.InForce != (i == inForce) {
			t.Errorf("History(%s) version %s in force = %v, want %v", name, v.ID, v.InForce, i == inForce)
		}
		if !v.ImportedAt.Equal(w.ImportedAt) || v.ImportedBy != w.ImportedBy || v.FileSHA256 != w.FileSHA256 ||
			v.Entries != w.Entries || v.Rows != w.Rows || v.Added != w.Added || v.Removed != w.Removed || !v.Compared {
			t.Errorf("History(%s) version %s = %+v, want %+v", name, v.ID, v.Version, w)
		}
	}
	return h
}

// testListHistory: with the default keep, four imports leave the one in
// force and the two before it, with their counts; the first is swept.
func testListHistory(t *testing.T, h ListHarness) {
	s := h.Store
	putKeeping(t, s, "l", nil)
	if got, err := s.History(t.Context(), "l"); err != nil || len(got) != 0 {
		t.Fatalf("History before any import = %+v, %v; want none", got, err)
	}
	if _, err := s.History(t.Context(), "none"); !errors.Is(err, listdb.ErrNotFound) {
		t.Fatalf("History of a missing list: %v, want ErrNotFound", err)
	}
	var vs []listdb.Version
	for n := 1; n <= 4; n++ {
		vs = append(vs, importNth(t, s, "l", n, digests(fmt.Sprint("v", n), 100*n)))
	}
	wantHistory(t, s, "l", 0, vs[3], vs[2], vs[1])
	if n := h.Stored(t); n != 200+300+400 {
		t.Fatalf("store holds %d entries, want the three versions' 900: the first was not swept", n)
	}
	wantContains(t, s, "l", true, digests("v4", 400))
	wantContains(t, s, "l", false, digests("v3", 300))
	if h.Reopen != nil {
		wantHistory(t, h.Reopen(t), "l", 0, vs[3], vs[2], vs[1])
	}
	if err := s.DropList(t.Context(), "l"); err != nil {
		t.Fatal(err)
	}
	if n := h.Stored(t); n != 0 {
		t.Fatalf("store holds %d entries after the drop: the kept versions stayed", n)
	}
}

// testListKeepNone: a list keeping no version sweeps the one it replaces,
// and has nothing to roll back to.
func testListKeepNone(t *testing.T, h ListHarness) {
	s := h.Store
	none := 0
	putKeeping(t, s, "l", &none)
	importNth(t, s, "l", 1, digests("v1", 100))
	v2 := importNth(t, s, "l", 2, digests("v2", 50))
	wantHistory(t, s, "l", 0, v2)
	if n := h.Stored(t); n != 50 {
		t.Fatalf("store holds %d entries, want 50", n)
	}
	if _, err := s.Rollback(t.Context(), "l", "", "admin", listEpoch); !errors.Is(err, listdb.ErrNotKept) {
		t.Fatalf("Rollback with nothing kept: %v, want ErrNotKept", err)
	}
}

// testListRollback: a rollback switches to the kept version asked, or the
// newest before the one in force, keeps the one replaced and records who
// did it; a version not kept is refused, naming the kept ones.
func testListRollback(t *testing.T, h ListHarness) {
	s, ctx := h.Store, t.Context()
	putKeeping(t, s, "l", nil)
	var vs []listdb.Version
	for n := 1; n <= 4; n++ {
		vs = append(vs, importNth(t, s, "l", n, digests(fmt.Sprint("v", n), 100*n)))
	}
	if _, err := s.Rollback(ctx, "none", "", "admin", listEpoch); !errors.Is(err, listdb.ErrNotFound) {
		t.Fatalf("Rollback of a missing list: %v, want ErrNotFound", err)
	}
	_, err := s.Rollback(ctx, "l", vs[0].ID, "admin", listEpoch)
	if !errors.Is(err, listdb.ErrNotKept) || !strings.Contains(err.Error(), "kept: "+vs[2].ID+", "+vs[1].ID) {
		t.Fatalf("Rollback to the swept version %s: %v; want ErrNotKept naming %s and %s", vs[0].ID, err, vs[2].ID, vs[1].ID)
	}
	if _, err := s.Rollback(ctx, "l", vs[3].ID, "admin", listEpoch); !errors.Is(err, listdb.ErrNotKept) {
		t.Fatalf("Rollback to the version in force: %v, want ErrNotKept", err)
	}
	at := listEpoch.Add(48 * time.Hour)
	sw, err := s.Rollback(ctx, "l", "", "carol", at)
	if err != nil {
		t.Fatalf("Rollback: %v", err)
	}
	if sw.List != "l" || sw.From.ID != vs[3].ID || sw.To.ID != vs[2].ID || sw.To.RestoredBy != "carol" || !sw.To.RestoredAt.Equal(at) {
		t.Fatalf("Rollback = %+v; want from %s to %s by carol at %v", sw, vs[3].ID, vs[2].ID, at)
	}
	wantContains(t, s, "l", true, digests("v3", 300))
	wantContains(t, s, "l", false, digests("v4", 400))
	if _, cur, err := s.List(ctx, "l"); err != nil || cur.ID != vs[2].ID || cur.FileSHA256 != "sha3" || cur.RestoredBy != "carol" {
		t.Fatalf("List after Rollback = %+v, %v; want version %s restored by carol", cur, err, vs[2].ID)
	}
	hist := wantHistory(t, s, "l", 1, vs[3], vs[2], vs[1])
	if hist[0].RestoredBy != "" || !hist[1].RestoredAt.Equal(at) {
		t.Errorf("History after Rollback: %+v", hist)
	}
	if h.Reopen != nil {
		wantContains(t, h.Reopen(t), "l", true, digests("v3", 300))
	}
	// Again: the newest before the one in force, then nothing older.
	if sw, err = s.Rollback(ctx, "l", "", "carol", at); err != nil || sw.To.ID != vs[1].ID {
		t.Fatalf("second Rollback = %+v, %v; want version %s", sw, err, vs[1].ID)
	}
	wantContains(t, s, "l", true, digests("v2", 200))
	if _, err := s.Rollback(ctx, "l", "", "carol", at); !errors.Is(err, listdb.ErrNotKept) {
		t.Fatalf("Rollback past the oldest kept: %v, want ErrNotKept", err)
	}
	// Forward again, by name.
	if sw, err = s.Rollback(ctx, "l", vs[3].ID, "dave", at); err != nil || sw.To.ID != vs[3].ID {
		t.Fatalf("Rollback to %s = %+v, %v", vs[3].ID, sw, err)
	}
	wantContains(t, s, "l", true, digests("v4", 400))
	// A new import keeps the two newest others and sweeps the rest.
	v5 := importNth(t, s, "l", 5, digests("v5", 10))
	wantHistory(t, s, "l", 0, v5, vs[3], vs[2])
	if n := h.Stored(t); n != 10+400+300 {
		t.Fatalf("store holds %d entries, want 710", n)
	}
	if _, err := s.Rollback(ctx, "l", vs[1].ID, "dave", at); !errors.Is(err, listdb.ErrNotKept) {
		t.Fatalf("Rollback to the swept %s: %v, want ErrNotKept", vs[1].ID, err)
	}
}

// testListRollbackReaders: readers during a rollback see exactly the
// version in force before, then exactly the kept one.
func testListRollbackReaders(t *testing.T, h ListHarness) {
	s := h.Store
	putKeeping(t, s, "l", nil)
	putList(t, s, "still")
	importList(t, s, "still", 10, digests("still", 1))
	both, oldOnly, newOnly := digests("both", 2000), digests("old", 2000), digests("new", 2000)
	kept := importList(t, s, "l", 5000, both, newOnly)
	inForce := importList(t, s, "l", 5000, both, oldOnly)
	probe := []listdb.Digest{oldOnly[7], newOnly[7], both[7], oldOnly[1999], newOnly[1999]}
	wantOld, wantNew := []bool{true, false, true, true, false}, []bool{false, true, true, false, true}
	var (
		mu      sync.Mutex
		started bool // Rollback was called
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
				got, ver, err := lookupReader(t.Context(), s, probe)
				mu.Lock()
				after := started
				mu.Unlock()
				switch {
				case err != nil:
					errc <- err
					return
				case slices.Equal(got, wantNew) && (!after || ver != "" && ver != kept.ID):
					errc <- fmt.Errorf("the kept answer came early (%v) or from version %s, not %s", !after, ver, kept.ID)
					return
				case slices.Equal(got, wantOld) && ver != "" && ver != inForce.ID:
					errc <- fmt.Errorf("the old answer came from version %s, not %s", ver, inForce.ID)
					return
				case !slices.Equal(got, wantNew) && !slices.Equal(got, wantOld):
					errc <- fmt.Errorf("a reader saw a mix of versions: %v", got)
					return
				}
			}
		})
	}
	time.Sleep(20 * time.Millisecond) // let the readers meet the version in force
	mu.Lock()
	started = true
	mu.Unlock()
	if _, err := s.Rollback(t.Context(), "l", "", "admin", listEpoch); err != nil {
		t.Fatal(err)
	}
	got, ver, err := lookupReader(t.Context(), s, probe)
	if err != nil || !slices.Equal(got, wantNew) || ver != kept.ID {
		t.Fatalf("after Rollback, read %v from version %q, %v; want %v from %s", got, ver, err, wantNew, kept.ID)
	}
	time.Sleep(20 * time.Millisecond)
	close(stop)
	wg.Wait()
	for range 2 {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
}

// testListManualRecords: each decision by hand is recorded with who, when,
// why and the masked value, newest first, and goes with the list.
func testListManualRecords(t *testing.T, h ListHarness) {
	s, ctx := h.Store, t.Context()
	mc, ok := s.(listdb.ManualCounter)
	if !ok {
		t.Fatalf("%T records no decisions by hand", s)
	}
	d := digests("m", 2)
	rec := func(n int, added bool) listdb.ManualChange {
		return listdb.ManualChange{At: listEpoch.Add(time.Duration(n) * time.Minute), By: fmt.Sprint("op", n),
			Reason: fmt.Sprint("reason ", n), Added: added, Value: fmt.Sprintf("j***@acme%d.fr", n)}
	}
	if err := mc.ChangeEntry(ctx, "l", d[0], rec(0, true)); !errors.Is(err, listdb.ErrNotFound) {
		t.Fatalf("ChangeEntry on a missing list: %v, want ErrNotFound", err)
	}
	if _, err := mc.ManualChanges(ctx, "l", 0); !errors.Is(err, listdb.ErrNotFound) {
		t.Fatalf("ManualChanges of a missing list: %v, want ErrNotFound", err)
	}
	putList(t, s, "l")
	if got, err := mc.ManualChanges(ctx, "l", 0); err != nil || len(got) != 0 {
		t.Fatalf("ManualChanges before any = %+v, %v", got, err)
	}
	importList(t, s, "l", 10, d[1:])
	for i, c := range []struct {
		d     listdb.Digest
		added bool
	}{{d[0], true}, {d[1], false}, {d[0], false}, {d[1], true}} {
		if err := mc.ChangeEntry(ctx, "l", c.d, rec(i+1, c.added)); err != nil {
			t.Fatalf("ChangeEntry %d: %v", i+1, err)
		}
	}
	got, err := s.Contains(ctx, "l", d...)
	if err != nil || !slices.Equal(got, []bool{false, true}) {
		t.Fatalf("Contains after the changes = %v, %v; want the last decisions (off, on)", got, err)
	}
	wantManual(t, s, "l", listdb.Manual{Added: 1, Removed: 1})
	all, err := mc.ManualChanges(ctx, "l", 0)
	if err != nil || len(all) != 4 {
		t.Fatalf("ManualChanges = %+v, %v; want 4", all, err)
	}
	for i, c := range all {
		want := rec(4-i, []bool{true, false, false, true}[3-i])
		if !c.At.Equal(want.At) || c.By != want.By || c.Reason != want.Reason || c.Added != want.Added || c.Value != want.Value {
			t.Errorf("record %d = %+v, want %+v (newest first)", i, c, want)
		}
	}
	if two, err := mc.ManualChanges(ctx, "l", 2); err != nil || len(two) != 2 || two[0].By != "op4" || two[1].By != "op3" {
		t.Fatalf("ManualChanges limit 2 = %+v, %v", two, err)
	}
	if h.Reopen != nil {
		other := h.Reopen(t).(listdb.ManualCounter)
		if got, err := other.ManualChanges(ctx, "l", 1); err != nil || len(got) != 1 || got[0].By != "op4" {
			t.Fatalf("another handle reads %+v, %v", got, err)
		}
	}
	if err := s.DropList(ctx, "l"); err != nil {
		t.Fatal(err)
	}
	putList(t, s, "l")
	if got, err := mc.ManualChanges(ctx, "l", 0); err != nil || len(got) != 0 {
		t.Fatalf("ManualChanges after the list was dropped and made again = %+v, %v; want none", got, err)
	}
}
