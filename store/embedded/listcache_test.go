package embedded

import (
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/dncgate/dncgate/listdb"
)

// cacheWorld is a gateway's store and an admin's store (another process)
// on one file, and the digests the test draws probes from.
type cacheWorld struct {
	t             *testing.T
	r             *rand.Rand
	gw, admin     *Store
	pool          []listdb.Digest
	names         []string
	lookups, fast int
}

func newCacheWorld(t *testing.T) *cacheWorld {
	path := filepath.Join(t.TempDir(), "dncgate.db")
	w := &cacheWorld{t: t, r: rand.New(rand.NewPCG(9, 10)), gw: openStore(t, path), admin: openStore(t, path),
		names: []string{"a", "b", "empty", "manual", "missing"}}
	w.pool = randomDigests(w.r, 400)
	return w
}

func openStore(t *testing.T, path string) *Store {
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// probes draws a Lookup of a few lists, each with a few digests of the
// pool (and one probe without digests now and then).
func (w *cacheWorld) probes() []listdb.Probe {
	ps := make([]listdb.Probe, 1+w.r.IntN(6))
	for i := range ps {
		ps[i].List = w.names[w.r.IntN(len(w.names))]
		for range w.r.IntN(5) {
			ps[i].Digests = append(ps[i].Digests, w.pool[w.r.IntN(len(w.pool))])
		}
	}
	return ps
}

// check compares, on random probes, the gateway's Lookup with the SQL
// path's answer; fast says the cache must have answered.
func (w *cacheWorld) check(step string, fast bool) {
	w.t.Helper()
	for range 20 {
		ps := w.probes()
		got := newAnswers(ps)
		ok, err := w.gw.lists.lookup(w.t.Context(), ps, got)
		if err != nil {
			w.t.Fatalf("%s: cache lookup: %v", step, err)
		}
		if !ok && fast {
			w.t.Fatalf("%s: the cache did not answer", step)
		}
		want, err := w.gw.lookupSQL(w.t.Context(), ps, newAnswers(ps))
		if err != nil {
			w.t.Fatalf("%s: SQL lookup: %v", step, err)
		}
		w.lookups++
		if !ok {
			continue
		}
		w.fast++
		for i := range ps {
			g, x := got[i], want[i]
			if g.Missing != x.Missing || g.Version != x.Version || !slices.Equal(g.Found, x.Found) {
				w.t.Fatalf("%s: probe %d of list %s: cache %+v, SQL %+v", step, i, ps[i].List, g, x)
			}
		}
	}
}

func (w *cacheWorld) must(err error) {
	w.t.Helper()
	if err != nil {
		w.t.Fatal(err)
	}
}

// importSome imports a random part of the pool, plus digests outside it.
func (w *cacheWorld) importSome(s *Store, name string) {
	var ds []listdb.Digest
	for _, d := range w.pool {
		if w.r.IntN(2) == 0 {
			ds = append(ds, d)
		}
	}
	importDigests(w.t, s, name, append(ds, randomDigests(w.r, 3000)...))
}

// TestCacheMatchesSQL: after every kind of change, made by the gateway's
// own store or by another on the same file, the very next lookups from
// the cache answer as the SQL path does.
func TestCacheMatchesSQL(t *testing.T) {
	w := newCacheWorld(t)
	ctx := t.Context()
	w.check("no list tables", false)
	for _, name := range []string{"a", "b", "empty", "manual"} {
		w.must(w.admin.PutList(ctx, listdb.Meta{Name: name}))
	}
	w.check("lists without imports", true)
	w.importSome(w.admin, "a")
	w.check("import by the other process", true)
	w.importSome(w.gw, "b")
	w.check("import by the gateway", true)
	for i := range 300 {
		s := []*Store{w.admin, w.gw}[i%2]
		name := w.names[w.r.IntN(4)]
		d := w.pool[w.r.IntN(len(w.pool))]
		if w.r.IntN(2) == 0 {
			w.must(s.AddEntry(ctx, name, d))
		} else {
			w.must(s.RemoveEntry(ctx, name, d))
		}
		if i%10 == 0 {
			w.check(fmt.Sprintf("manual change %d", i), true)
		}
	}
	// No command deletes manual rows of a list that stays, but the log
	// carries it should one ever do.
	db, err := sql.Open("sqlite", w.admin.path)
	w.must(err)
	defer db.Close()
	_, err = db.Exec(`DELETE FROM list_manual WHERE list = 'a' AND digest > x'80'`)
	w.must(err)
	w.check("manual rows deleted", true)
	w.importSome(w.admin, "a")
	w.check("a switch to a new version", true)
	w.must(w.admin.DropList(ctx, "b"))
	w.check("a drop", true)
	w.must(w.admin.PutList(ctx, listdb.Meta{Name: "b"}))
	w.check("a list created again", true)
	w.must(w.admin.PutList(ctx, listdb.Meta{Name: "missing"}))
	w.importSome(w.admin, "missing")
	w.check("a new list with an import", true)
	if w.fast == 0 || w.fast < w.lookups-20 {
		t.Fatalf("the cache answered %d of %d lookups", w.fast, w.lookups)
	}
}

// TestCacheLogPruned: a gateway that fell behind more changes than the
// log keeps reloads, and answers as SQL does.
func TestCacheLogPruned(t *testing.T) {
	w := newCacheWorld(t)
	ctx := t.Context()
	w.must(w.admin.PutList(ctx, listdb.Meta{Name: "manual"}))
	w.importSome(w.admin, "manual")
	w.check("before", true)
	db, err := sql.Open("sqlite", w.admin.path)
	w.must(err)
	defer db.Close()
	// Many manual changes at once, as a bulk opt-out would make.
	_, err = db.Exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
		INSERT INTO list_manual (list, digest, present) SELECT 'manual', randomblob(16), 1 FROM n`, changeLogKeep+10)
	w.must(err)
	for _, d := range w.pool[:50] {
		w.must(w.admin.AddEntry(ctx, "manual", d))
	}
	var rows int
	w.must(db.QueryRow(`SELECT count(*) FROM list_changes`).Scan(&rows))
	if rows != changeLogKeep {
		t.Fatalf("the log holds %d rows, want %d", rows, changeLogKeep)
	}
	w.check("after the log was pruned", true)
}

// TestCacheIndexMissing: a version whose index file is gone is answered
// through SQL, and from the index once it was built in the background.
func TestCacheIndexMissing(t *testing.T) {
	w := newCacheWorld(t)
	ctx := t.Context()
	w.must(w.admin.PutList(ctx, listdb.Meta{Name: "a"}))
	w.importSome(w.admin, "a")
	_, v, err := w.admin.List(ctx, "a")
	w.must(err)
	path := filepath.Join(w.admin.indexDir(), v.ID+idxSuffix)
	w.must(os.Remove(path))
	ps := []listdb.Probe{{List: "a", Digests: w.pool[:10]}}
	if ok, err := w.gw.lists.lookup(ctx, ps, newAnswers(ps)); ok || err != nil {
		t.Fatalf("lookup without the index file: answered %v, %v; want the SQL path", ok, err)
	}
	// WaitIndexes returns once the build the lookup started is over.
	w.must(w.gw.WaitIndexes(ctx))
	if !w.gw.lists.idle() {
		t.Fatal("WaitIndexes returned with a job still running")
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the index was not rebuilt: %v", err)
	}
	w.names = []string{"a"}
	w.check("after the rebuild", true)
}

// TestCacheOldFile: a file whose list tables predate the change log is
// read through SQL until a PutList adds the log.
func TestCacheOldFile(t *testing.T) {
	w := newCacheWorld(t)
	ctx := t.Context()
	db, err := sql.Open("sqlite", w.admin.path)
	w.must(err)
	defer db.Close()
	_, err = db.Exec(listSchema + `; INSERT INTO lists (name, meta) VALUES ('a', '{"Name":"a"}');
		INSERT INTO list_manual (list, digest, present) VALUES ('a', x'00112233445566778899aabbccddeeff', 1)`)
	w.must(err)
	d := listdb.Digest{0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}
	got, err := w.gw.Contains(ctx, "a", d)
	if err != nil || !got[0] {
		t.Fatalf("Contains on an old file = %v, %v", got, err)
	}
	w.names = []string{"a", "missing"}
	w.check("old file", false)
	if w.fast != 0 {
		t.Fatalf("the cache answered on a file without a change log")
	}
	w.must(w.admin.PutList(ctx, listdb.Meta{Name: "a"}))
	w.pool = append(w.pool, d)
	w.check("after PutList", true)
}

// BenchmarkCacheLookup: a recipient's Lookup (5 lists, 3 digests each)
// answered by the cache, and by the SQL path for comparison.
//
//	go test ./store/embedded -run '^$' -bench CacheLookup -benchmem
func BenchmarkCacheLookup(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "dncgate.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	r := rand.New(rand.NewPCG(11, 12))
	var ps []listdb.Probe
	for l := range 5 {
		name := fmt.Sprintf("l%d", l)
		if err := s.PutList(b.Context(), listdb.Meta{Name: name}); err != nil {
			b.Fatal(err)
		}
		ds := randomDigests(r, 100_000)
		importDigests(b, s, name, ds)
		ps = append(ps, listdb.Probe{List: name, Digests: append(randomDigests(r, 2), ds[7])})
	}
	for _, path := range []string{"cache", "sql"} {
		b.Run(path, func(b *testing.B) {
			for range b.N {
				var got []listdb.Answer
				if path == "cache" {
					got, err = s.Lookup(b.Context(), ps)
				} else {
					got, err = s.lookupSQL(b.Context(), ps, newAnswers(ps))
				}
				if err != nil || !got[4].Found[2] || got[4].Found[0] {
					b.Fatalf("Lookup = %+v, %v", got, err)
				}
			}
		})
	}
}

// TestCacheUnderChanges: lookups from several goroutines while another
// store switches versions, loses index files and edits by hand always
// find the digest every version holds, never the one none holds, and
// name a version that was committed.
func TestCacheUnderChanges(t *testing.T) {
	w := newCacheWorld(t)
	ctx := t.Context()
	w.must(w.admin.PutList(ctx, listdb.Meta{Name: "a"}))
	always, never := w.pool[0], w.pool[1]
	versions := map[string]bool{importDigests(t, w.admin, "a", append(randomDigests(w.r, 2000), always)): true}
	var mu sync.Mutex
	stop := make(chan struct{})
	errc := make(chan error, 4)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					errc <- nil
					return
				default:
				}
				got, err := w.gw.Lookup(ctx, []listdb.Probe{{List: "a", Digests: []listdb.Digest{always, never}}})
				mu.Lock()
				known := err == nil && versions[got[0].Version]
				mu.Unlock()
				if err != nil || !known || !got[0].Found[0] || got[0].Found[1] {
					errc <- fmt.Errorf("Lookup = %+v, %v", got, err)
					return
				}
			}
		})
	}
	for i := range 10 {
		mu.Lock()
		versions[importDigests(t, w.admin, "a", append(randomDigests(w.r, 2000), always))] = true
		mu.Unlock()
		_, v, err := w.admin.List(ctx, "a")
		w.must(err)
		if i%3 == 0 {
			os.Remove(filepath.Join(w.admin.indexDir(), v.ID+idxSuffix))
		}
		w.must(w.admin.AddEntry(ctx, "a", w.pool[2+i]))
	}
	close(stop)
	wg.Wait()
	for range 4 {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
}
