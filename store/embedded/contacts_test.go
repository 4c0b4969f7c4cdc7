package embedded_test

import (
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/dncgate/dncgate/contactdb"
	"github.com/dncgate/dncgate/store/storetest"
)

func TestContactsContract(t *testing.T) {
	storetest.RunContacts(t, func(t *testing.T) contactdb.Store {
		return openAt(t, filepath.Join(t.TempDir(), "dncgate.db")).Contacts()
	})
}

// TestContactsLeftoversSwept: what an abort, a superseded import and a
// replaced version wrote is gone from the file, and a second handle (the
// server, while the admin command imports) sees each commit at once.
func TestContactsLeftoversSwept(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dncgate.db")
	admin, server := openAt(t, path).Contacts(), openAt(t, path).Contacts()
	ctx := t.Context()
	recs := storetest.ContactRecords("a", 100, 0)
	w, err := admin.BeginImport(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Add(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := server.Contact(ctx, recs[0].Email); err != nil || ok {
		t.Fatalf("before Commit the server finds %v, %v", ok, err)
	}
	if _, err := w.Commit(ctx, contactdb.Version{}); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := server.Contact(ctx, recs[0].Email); err != nil || !ok {
		t.Fatalf("after Commit the server finds %v, %v", ok, err)
	}
	left, err := admin.BeginImport(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := left.Add(ctx, storetest.ContactRecords("left", 300, 0)); err != nil {
		t.Fatal(err)
	}
	w2, err := server.BeginImport(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := left.Commit(ctx, contactdb.Version{}); !errors.Is(err, contactdb.ErrSuperseded) {
		t.Fatalf("Commit of the superseded import: %v, want ErrSuperseded", err)
	}
	if err := w2.Add(ctx, storetest.ContactRecords("b", 40, 0)); err != nil {
		t.Fatal(err)
	}
	if _, err := w2.Commit(ctx, contactdb.Version{}); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, path, "contact_entries"); n != 40 {
		t.Fatalf("%d entries stored, want the current version's 40", n)
	}
	if n := countRows(t, path, "contact_versions"); n != 1 {
		t.Fatalf("%d versions stored, want 1", n)
	}
}

// BenchmarkContacts imports DNCGATE_BENCH_CONTACTS records (default
// 200,000) and times lookups of them one at a time.
// go test -run - -bench Contacts -benchtime 3x ./store/embedded
func BenchmarkContacts(b *testing.B) {
	path := filepath.Join(b.TempDir(), "dncgate.db")
	s := openAt(b, path).Contacts()
	recs := storetest.BenchContactsImport(b, s)
	b.StopTimer()
	lat := make([]time.Duration, 0, 10000)
	for i := range cap(lat) {
		start := time.Now()
		if _, ok, err := s.Contact(b.Context(), recs[i*7919%len(recs)].Email); err != nil || !ok {
			b.Fatalf("Contact: %v, %v", ok, err)
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "lookup-p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "lookup-p99-µs")
}
