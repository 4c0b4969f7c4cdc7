package embedded

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/dncgate/dncgate/listdb"
)

// writeTestIndex writes sorted as the index of version at path, as
// buildIndex lays it out, and returns what the database would expect.
func writeTestIndex(t testing.TB, path string, version int64, sorted []listdb.Digest) indexExpect {
	t.Helper()
	h := indexHeader{version: version, count: uint64(len(sorted))}
	body := make([]byte, 0, len(sorted)*listdb.DigestSize)
	for i := range sorted {
		body = append(body, sorted[i][:]...)
	}
	h.crc = crc32c(0, body)
	radix := newRadixTable(uint64(len(sorted)))
	for i := range sorted {
		radix.add(sorted[i][:])
	}
	if err := os.WriteFile(path, slices.Concat(h.encode(), body, radix.table()), 0o600); err != nil {
		t.Fatal(err)
	}
	want := indexExpect{entries: int64(len(sorted))}
	if len(sorted) > 0 {
		want.first, want.last = sorted[0], sorted[len(sorted)-1]
	}
	return want
}

func sortedDigests(ds []listdb.Digest) []listdb.Digest {
	slices.SortFunc(ds, func(a, b listdb.Digest) int { return bytes.Compare(a[:], b[:]) })
	return slices.CompactFunc(ds, func(a, b listdb.Digest) bool { return a == b })
}

func randomDigests(r *rand.Rand, n int) []listdb.Digest {
	out := make([]listdb.Digest, n)
	for i := range out {
		binary.BigEndian.PutUint64(out[i][:8], r.Uint64())
		binary.BigEndian.PutUint64(out[i][8:], r.Uint64())
	}
	return out
}

// skewedDigests share their first bytes and differ in a few low bits of
// each word: the worst case for interpolation.
func skewedDigests(r *rand.Rand, n int) []listdb.Digest {
	out := make([]listdb.Digest, n)
	for i := range out {
		binary.BigEndian.PutUint64(out[i][:8], 0xabcdef0000000000|uint64(r.IntN(64))<<(r.IntN(3)*20))
		binary.BigEndian.PutUint64(out[i][8:], r.Uint64()>>r.IntN(64))
	}
	return out
}

// TestIndexContains: the search agrees with a binary search of the same
// entries, on uniform and skewed contents, for held digests, their
// neighbours and random ones.
func TestIndexContains(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	dir := t.TempDir()
	sets := map[string][]listdb.Digest{
		"empty": nil, "one": randomDigests(r, 1), "small": randomDigests(r, 15),
		"uniform": randomDigests(r, 50000), "skewed": skewedDigests(r, 20000),
	}
	for name, set := range sets {
		sorted := sortedDigests(set)
		path := filepath.Join(dir, name+idxSuffix)
		x, err := openIndex(path, 7, writeTestIndex(t, path, 7, sorted))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		defer x.close()
		probes := append(randomDigests(r, 2000), skewedDigests(r, 2000)...)
		for i := 0; i < len(sorted); i += 1 + len(sorted)/3000 {
			near := sorted[i]
			near[15]++
			probes = append(probes, sorted[i], near)
		}
		for _, d := range probes {
			_, want := slices.BinarySearchFunc(sorted, d, func(a, b listdb.Digest) int { return bytes.Compare(a[:], b[:]) })
			if got := x.contains(&d); got != want {
				t.Fatalf("%s: contains(%x) = %v, want %v", name, d, got, want)
			}
		}
	}
}

// TestIndexOpenRefuses: a truncated file, one of another version, one
// whose ends are not the version's and a foreign file are refused at
// open; a flipped byte inside is caught by verifyIndexFile.
func TestIndexOpenRefuses(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	dir := t.TempDir()
	sorted := sortedDigests(randomDigests(r, 1000))
	path := filepath.Join(dir, "5"+idxSuffix)
	want := writeTestIndex(t, path, 5, sorted)
	if err := verifyIndexFile(path); err != nil {
		t.Fatalf("verify of a good file: %v", err)
	}
	good, _ := os.ReadFile(path)
	cases := map[string]func() (int64, indexExpect){
		"truncated":     func() (int64, indexExpect) { os.WriteFile(path, good[:len(good)-3], 0o600); return 5, want },
		"other version": func() (int64, indexExpect) { os.WriteFile(path, good, 0o600); return 6, want },
		"other count": func() (int64, indexExpect) {
			w := want
			w.entries++
			return 5, w
		},
		"other ends": func() (int64, indexExpect) {
			w := want
			w.last[0] ^= 1
			return 5, w
		},
		"foreign": func() (int64, indexExpect) {
			os.WriteFile(path, []byte("SQLite format 3\x00"+string(good[16:])), 0o600)
			return 5, want
		},
	}
	for name, setup := range cases {
		os.WriteFile(path, good, 0o600)
		version, w := setup()
		if x, err := openIndex(path, version, w); !errors.Is(err, errBadIndex) {
			if x != nil {
				x.close()
			}
			t.Errorf("%s: open gave %v, want errBadIndex", name, err)
		}
	}
	bad := slices.Clone(good)
	bad[idxHeaderSize+500*listdb.DigestSize+3] ^= 0x10
	os.WriteFile(path, bad, 0o600)
	if err := verifyIndexFile(path); !errors.Is(err, errBadIndex) {
		t.Fatalf("verify of a changed entry: %v, want errBadIndex", err)
	}
	bad = slices.Clone(good)
	bad[len(bad)-2*radixWord] ^= 0x10
	os.WriteFile(path, bad, 0o600)
	if err := verifyIndexFile(path); !errors.Is(err, errBadIndex) {
		t.Fatalf("verify of a changed radix table: %v, want errBadIndex", err)
	}
}

// TestIndexSweepKeeps: the sweep removes the index and lock files of
// versions that do not exist and stale builds, and keeps the current
// version's files, fresh builds and files it does not know.
func TestIndexSweepKeeps(t *testing.T) {
	s, ctx := storeWithList(t, "l")
	v := importDigests(t, s, "l", randomDigests(rand.New(rand.NewPCG(5, 6)), 100))
	dir := s.indexDir()
	for _, name := range []string{"99" + idxSuffix, "99" + lockSuffix, idxTempPrefix + "old", idxTempPrefix + "new", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * staleBuild)
	os.Chtimes(filepath.Join(dir, idxTempPrefix+"old"), old, old)
	if err := s.sweepIndexes(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(dir)
	var left []string
	for _, e := range ents {
		left = append(left, e.Name())
	}
	slices.Sort(left)
	want := []string{v + idxSuffix, v + lockSuffix, idxTempPrefix + "new", "notes.txt"}
	slices.Sort(want)
	if !slices.Equal(left, want) {
		t.Fatalf("after the sweep the folder holds %v, want %v", left, want)
	}
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("index folder: %v, %v; want mode 700", fi.Mode(), err)
	}
	fi, err = os.Stat(filepath.Join(dir, v+idxSuffix))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("index file: %v, %v; want mode 600", fi.Mode(), err)
	}
}

// storeWithList opens a new store holding an empty list of that name.
func storeWithList(t *testing.T, name string) (*Store, context.Context) {
	s := openStore(t, filepath.Join(t.TempDir(), "dncgate.db"))
	if err := s.PutList(t.Context(), listdb.Meta{Name: name}); err != nil {
		t.Fatal(err)
	}
	return s, t.Context()
}

// importDigests imports ds as a new version of name, waits for its index
// file, and returns the version's id.
func importDigests(t testing.TB, s *Store, name string, ds []listdb.Digest) string {
	t.Helper()
	w, err := s.BeginVersion(t.Context(), name, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Add(t.Context(), ds); err != nil {
		t.Fatal(err)
	}
	v, err := w.Commit(t.Context(), listdb.Version{ImportedAt: time.Unix(1, 0)})
	if err != nil {
		t.Fatal(err)
	}
	// The index is built in the background; the tests look at its file.
	if err := s.WaitIndexes(t.Context()); err != nil {
		t.Fatal(err)
	}
	return v.ID
}

// BenchmarkIndexContains: one search of a mapped index of a million
// uniform digests, half of them held.
func BenchmarkIndexContains(b *testing.B) {
	r := rand.New(rand.NewPCG(7, 8))
	sorted := sortedDigests(randomDigests(r, 1_000_000))
	path := filepath.Join(b.TempDir(), "1"+idxSuffix)
	x, err := openIndex(path, 1, writeTestIndex(b, path, 1, sorted))
	if err != nil {
		b.Fatal(err)
	}
	defer x.close()
	populate(x.data)
	probes := append(randomDigests(r, 4096), sorted[:4096]...)
	r.Shuffle(len(probes), func(i, j int) { probes[i], probes[j] = probes[j], probes[i] })
	b.ResetTimer()
	found := 0
	for i := range b.N {
		if x.contains(&probes[i%len(probes)]) {
			found++
		}
	}
	b.ReportMetric(float64(found)/float64(b.N), "found/op")
}

// BenchmarkIndexBuild: building the index file of one version of
// DNCGATE_BENCH_ENTRIES entries (1000000 by default), and its size.
//
//	DNCGATE_BENCH_ENTRIES=10000000 go test ./store/embedded -run '^$' -bench IndexBuild -benchtime 1x -timeout 30m
func BenchmarkIndexBuild(b *testing.B) {
	n := 1_000_000
	if v := os.Getenv("DNCGATE_BENCH_ENTRIES"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			b.Fatalf("DNCGATE_BENCH_ENTRIES=%q is not a positive number", v)
		}
	}
	s, err := Open(filepath.Join(b.TempDir(), "dncgate.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.PutList(b.Context(), listdb.Meta{Name: "l"}); err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(13, 14))
	w, err := s.BeginVersion(b.Context(), "l", int64(n))
	if err != nil {
		b.Fatal(err)
	}
	for done := 0; done < n; done += 65536 {
		if err := w.Add(b.Context(), randomDigests(r, min(65536, n-done))); err != nil {
			b.Fatal(err)
		}
	}
	v, err := w.Commit(b.Context(), listdb.Version{})
	if err != nil {
		b.Fatal(err)
	}
	id, _ := strconv.ParseInt(v.ID, 10, 64)
	b.ResetTimer()
	for range b.N {
		if err := s.buildIndex(b.Context(), id); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	fi, err := os.Stat(s.indexPath(id))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(fi.Size())/1e6, "file-MB")
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/build")
}

// TestIndexBuildLock: a build waits for the lock another process holds,
// keeps the good file that process built, and rebuilds a bad one.
func TestIndexBuildLock(t *testing.T) {
	s, ctx := storeWithList(t, "l")
	id, _ := strconv.ParseInt(importDigests(t, s, "l", randomDigests(rand.New(rand.NewPCG(15, 16)), 3000)), 10, 64)
	other, err := os.OpenFile(s.lockPath(id), os.O_RDWR, 0)
	if err != nil {
		t.Fatalf("the import left no lock file: %v", err)
	}
	if err := syscall.Flock(int(other.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.ensureIndex(done, id, true); !errors.Is(err, context.Canceled) {
		t.Fatalf("ensureIndex while another holds the lock: %v, want it to wait", err)
	}
	// The other process builds while it holds the lock.
	os.Remove(s.indexPath(id))
	if err := s.buildIndex(ctx, id); err != nil {
		t.Fatal(err)
	}
	theirs, _ := os.Stat(s.indexPath(id))
	other.Close()
	if err := s.ensureIndex(ctx, id, true); err != nil {
		t.Fatal(err)
	}
	if ours, _ := os.Stat(s.indexPath(id)); !os.SameFile(theirs, ours) {
		t.Fatal("a good file built by another process was built again")
	}
	b, _ := os.ReadFile(s.indexPath(id))
	b[idxHeaderSize+100*listdb.DigestSize] ^= 1
	os.WriteFile(s.indexPath(id), b, 0o600)
	if err := s.ensureIndex(ctx, id, true); err != nil {
		t.Fatal(err)
	}
	if err := verifyIndexFile(s.indexPath(id)); err != nil {
		t.Fatalf("a bad file was kept: %v", err)
	}
}
