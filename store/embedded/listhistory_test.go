package embedded

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dncgate/dncgate/listdb"
)

// TestRollbackIndexes: the kept versions keep their index files and the
// swept one loses its; a rollback is answered from the kept version's
// index by a gateway on the same file, also when that file went and must
// be rebuilt.
func TestRollbackIndexes(t *testing.T) {
	w := newCacheWorld(t)
	ctx := t.Context()
	w.must(w.admin.PutList(ctx, listdb.Meta{Name: "a"}))
	r := rand.New(rand.NewPCG(3, 4))
	sets := [][]listdb.Digest{randomDigests(r, 50), randomDigests(r, 60), randomDigests(r, 70), randomDigests(r, 80)}
	var ids []string
	for _, ds := range sets {
		ids = append(ids, importDigests(t, w.admin, "a", ds))
	}
	idx := func(id string) string { return filepath.Join(w.admin.indexDir(), id+idxSuffix) }
	if _, err := os.Stat(idx(ids[0])); !os.IsNotExist(err) {
		t.Fatalf("the swept version's index file: %v, want it gone", err)
	}
	for _, id := range ids[1:] {
		if _, err := os.Stat(idx(id)); err != nil {
			t.Fatalf("index file of version %s: %v", id, err)
		}
	}
	w.pool = append(append([]listdb.Digest{}, sets[2]...), sets[3]...)
	w.names = []string{"a"}
	w.check("before the rollback", false)
	w.must(w.gw.WaitIndexes(ctx))
	w.check("version 4 mapped", true)

	if _, err := w.admin.Rollback(ctx, "a", "", "admin", time.Now()); err != nil {
		t.Fatal(err)
	}
	w.check("after the rollback", false)
	w.must(w.gw.WaitIndexes(ctx))
	w.check("kept version mapped", true)
	if got, err := w.gw.Contains(ctx, "a", sets[2][0], sets[3][0]); err != nil || !got[0] || got[1] {
		t.Fatalf("after the rollback the gateway sees %v, %v; want version 3's entries only", got, err)
	}

	// The file of the kept version to go back to is lost: rebuilt.
	w.must(os.Remove(idx(ids[3])))
	if _, err := w.admin.Rollback(ctx, "a", ids[3], "admin", time.Now()); err != nil {
		t.Fatal(err)
	}
	w.check("after the second rollback", false)
	w.must(w.gw.WaitIndexes(ctx))
	if _, err := os.Stat(idx(ids[3])); err != nil {
		t.Fatalf("the kept version's index was not rebuilt: %v", err)
	}
	w.check("rebuilt index mapped", true)
}

// TestSweepSparesRolledBack: a version made current again by a rollback
// is never deleted by a sweep that chose it before.
func TestSweepSparesRolledBack(t *testing.T) {
	s, ctx := storeWithList(t, "l")
	r := rand.New(rand.NewPCG(1, 2))
	ds := randomDigests(r, 30)
	first := importDigests(t, s, "l", ds)
	importDigests(t, s, "l", randomDigests(r, 30))
	if _, err := s.Rollback(ctx, "l", first, "admin", time.Now()); err != nil {
		t.Fatal(err)
	}
	var id int64
	if _, err := fmt.Sscan(first, &id); err != nil {
		t.Fatal(err)
	}
	if err := s.deleteVersion(ctx, id); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Contains(ctx, "l", ds...); err != nil || !got[0] || !got[len(got)-1] {
		t.Fatalf("after deleting the version in force the list holds %v, %v", got, err)
	}
}
