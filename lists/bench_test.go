package lists

import (
	"bufio"
	"fmt"
	"io"
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

// readPhoneList reads the file at path through the Reader and normalise,
// returning rows read and rows valid.
func readPhoneList(b *testing.B, path string, normalise func(string) (string, error)) (int, int) {
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
	for row, err := range rd.All() {
		if err != nil {
			b.Fatal(err)
		}
		rows++
		v, err := row.Value(col)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := normalise(v); err == nil {
			valid++
		}
	}
	return rows, valid
}

// BenchmarkReadPhones reads and normalises a generated 1,000,000-row
// French phone list, and reports rows per second, bytes allocated per row
// and the live heap after the read (flat whatever the file size).
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
	start := time.Now()
	for b.Loop() {
		rows, valid = readPhoneList(b, path, normalise)
	}
	elapsed := time.Since(start)
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	total := float64(rows) * float64(b.N)
	b.ReportMetric(total/elapsed.Seconds(), "rows/s")
	b.ReportMetric(float64(valid)/float64(rows), "valid-ratio")
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MiB")
	_ = io.EOF
}
