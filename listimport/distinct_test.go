package listimport

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/dncgate/dncgate/listdb"
)

// randomDigests draws n digests among distinct different ones.
func randomDigests(r *rand.Rand, n, distinct int) []listdb.Digest {
	pool := make([]listdb.Digest, distinct)
	for i := range pool {
		for j := range pool[i] {
			pool[i][j] = byte(r.IntN(256))
		}
	}
	out := make([]listdb.Digest, n)
	for i := range out {
		out[i] = pool[r.IntN(distinct)]
	}
	return out
}

func TestDistinctSet(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	// Runs of 7 spill hundreds of runs, more than one merge takes.
	for _, runSize := range []int{7, 1000, distinctRun} {
		t.Run(fmt.Sprint(runSize), func(t *testing.T) {
			in := randomDigests(r, 3000, 700)
			want := slices.Clone(in)
			slices.SortFunc(want, compareDigests)
			want = slices.Compact(want)
			s := newDistinctSet(runSize)
			defer s.close()
			for _, d := range in {
				if err := s.add(d); err != nil {
					t.Fatal(err)
				}
			}
			var got []listdb.Digest
			n, err := s.each(64, func(b []listdb.Digest) error {
				if len(b) > 64 {
					t.Errorf("batch of %d", len(b))
				}
				got = append(got, b...)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if n != int64(len(want)) || !slices.Equal(got, want) {
				t.Errorf("%d distinct digests given back (%d counted), want %d in order", len(got), n, len(want))
			}
		})
	}
}

// BenchmarkDistinct measures sorting out the repeats of an import's
// digests, in memory and spilled to a temporary file.
func BenchmarkDistinct(b *testing.B) {
	const n = 1 << 20
	in := randomDigests(rand.New(rand.NewPCG(3, 4)), n, n/2)
	for _, runSize := range []int{distinctRun, 1 << 16} {
		b.Run(fmt.Sprintf("run=%d", runSize), func(b *testing.B) {
			for b.Loop() {
				s := newDistinctSet(runSize)
				for _, d := range in {
					if err := s.add(d); err != nil {
						b.Fatal(err)
					}
				}
				if _, err := s.each(importBatch, func([]listdb.Digest) error { return nil }); err != nil {
					b.Fatal(err)
				}
				s.close()
			}
			b.ReportMetric(float64(b.N)*n/b.Elapsed().Seconds(), "digests/s")
		})
	}
}
