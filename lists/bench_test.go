package lists

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// benchRows is the size of the generated phone list.
const benchRows = 1_000_000

// writePhoneList writes a French list the way national files and CRM
// exports come: a header, a number in one of the usual spellings, a date.
func writePhoneList(b *testing.B, rows int) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "phones.csv")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "numero;date_inscription")
	rng := rand.New(rand.NewPCG(5, 6))
	for range rows {
		lead := []int{1, 2, 3, 4, 5, 6, 7}[rng.IntN(7)]
		n := rng.IntN(100_000_000)
		var num string
		switch rng.IntN(4) {
		case 0, 1:
			num = fmt.Sprintf("0%d%08d", lead, n)
		case 2:
			num = fmt.Sprintf("0%d %02d %02d %02d %02d", lead, n/1_000_000, n/10_000%100, n/100%100, n%100)
		default:
			num = fmt.Sprintf("+33%d%08d", lead, n)
		}
		fmt.Fprintf(w, "%s;2025-%02d-%02d\n", num, 1+rng.IntN(12), 1+rng.IntN(28))
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// heapSampleRows is how often the live heap is sampled during a read.
const heapSampleRows = 1 << 16

// readPhoneList reads the file at path through the Reader and normalise,
// returning rows read, rows valid and the largest live heap seen.
func readPhoneList(b *testing.B, path string, normalise func(string) (string, error)) (int, int, uint64) {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	rd, err := NewReader(f, ReadOptions{Header: true})
	if err != nil {
		b.Fatal(err)
	}
	defer rd.Close()
	col, err := rd.Column("numero")
	if err != nil {
		b.Fatal(err)
	}
	rows, valid := 0, 0
	var peak uint64
	var ms runtime.MemStats
	for row, err := range rd.All() {
		if err != nil {
			b.Fatal(err)
		}
		if rows++; rows%heapSampleRows == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
		v, err := row.Value(col)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := normalise(v); err == nil {
			valid++
		}
	}
	return rows, valid, peak
}

// BenchmarkReadPhones reads and normalises a generated 1,000,000-row
// French phone list, and reports rows per second, bytes allocated per row
// and the largest live heap seen while reading (flat whatever the file
// size).
// Sub-benchmarks show the reader alone and libphonenumber without the
// fast path, on a tenth of the rows.
func BenchmarkReadPhones(b *testing.B) {
	path := writePhoneList(b, benchRows)
	p, err := NewPhoneNormaliser("FR")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("read+normalise", func(b *testing.B) { benchRead(b, path, p.Normalise) })
	b.Run("read-only", func(b *testing.B) {
		benchRead(b, path, func(s string) (string, error) { return s, nil })
	})
	small := writePhoneList(b, benchRows/10)
	b.Run("libphonenumber-only", func(b *testing.B) {
		benchRead(b, small, func(s string) (string, error) { return NormalisePhone(s, "FR") })
	})
}

func benchRead(b *testing.B, path string, normalise func(string) (string, error)) {
	b.ReportAllocs()
	var rows, valid int
	var peak uint64
	start := time.Now()
	for b.Loop() {
		var p uint64
		rows, valid, p = readPhoneList(b, path, normalise)
		peak = max(peak, p)
	}
	elapsed := time.Since(start)
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(rows)*float64(b.N)/elapsed.Seconds(), "rows/s")
	b.ReportMetric(float64(valid)/float64(rows), "valid-ratio")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(st.Size())/(1<<20), "file-MiB")
}

// BenchmarkNormaliseEmail measures the per-recipient cost of the e-mail
// key, which every check pays before a lookup.
func BenchmarkNormaliseEmail(b *testing.B) {
	addrs := []string{"Jean.Dupont+news@GoogleMail.com", "jörg@bücher.de", "sales@mail.acme.co.uk"}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := NormaliseEmail(addrs[i%len(addrs)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "addresses/s")
}
