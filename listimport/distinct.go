package listimport

import (
	"bufio"
	"cmp"
	"container/heap"
	byteorder "encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/dncgate/dncgate/listdb"
)

// Distinct-digest tuning.
const (
	// distinctRun is how many digests a distinctSet holds in memory
	// (16 MiB); beyond that it spills sorted runs to a temporary file.
	distinctRun = 1 << 20
	// mergeFanIn bounds the runs merged at once, each with its own read
	// buffer: more runs are first merged into fewer, so memory stays flat
	// whatever the file's size.
	mergeFanIn = 64
	// runReadBuffer is each merged run's read buffer.
	runReadBuffer = 64 << 10
)

// distinctSet takes digests with repeats and gives each back once, in
// order, in bounded memory: an external merge sort. That is what makes an
// import's duplicate count exact before the store commits, and lets each
// distinct digest be looked up in the previous version exactly once.
type distinctSet struct {
	buf     []listdb.Digest
	runSize int
	tmp     *os.File // nil until the first spill
	runs    []diskRun
	end     int64 // where the next run goes in tmp
}

// diskRun is one sorted, repeat-free run in the temporary file.
type diskRun struct{ off, n int64 }

func newDistinctSet(runSize int) *distinctSet {
	return &distinctSet{runSize: runSize}
}

// compareDigests orders digests as bytes.Compare would, in two integer
// comparisons: sorting is most of the work of a distinctSet.
func compareDigests(a, b listdb.Digest) int {
	be := byteorder.BigEndian
	if c := cmp.Compare(be.Uint64(a[:8]), be.Uint64(b[:8])); c != 0 {
		return c
	}
	return cmp.Compare(be.Uint64(a[8:]), be.Uint64(b[8:]))
}

func (s *distinctSet) add(d listdb.Digest) error {
	s.buf = append(s.buf, d)
	if len(s.buf) < s.runSize {
		return nil
	}
	return s.spill()
}

// sortBuf sorts the buffer and keeps each digest once.
func (s *distinctSet) sortBuf() {
	slices.SortFunc(s.buf, compareDigests)
	s.buf = slices.Compact(s.buf)
}

func (s *distinctSet) spill() error {
	s.sortBuf()
	if s.tmp == nil {
		f, err := os.CreateTemp("", "dncgate-import-*")
		if err != nil {
			return fmt.Errorf("sorting the digests: %w", err)
		}
		// Gone from the directory at once: nothing to clean up whatever happens.
		os.Remove(f.Name())
		s.tmp = f
	}
	w := s.runWriter()
	for i := range s.buf {
		if err := w.put(s.buf[i]); err != nil {
			return err
		}
	}
	s.buf = s.buf[:0]
	return w.close()
}

// close releases the temporary file.
func (s *distinctSet) close() error {
	if s.tmp == nil {
		return nil
	}
	return s.tmp.Close()
}

// each gives the distinct digests in order, in slices of up to batch that
// are reused between calls, and returns how many there were.
func (s *distinctSet) each(batch int, f func([]listdb.Digest) error) (int64, error) {
	if s.tmp == nil {
		s.sortBuf()
		var n int64
		for chunk := range slices.Chunk(s.buf, batch) {
			n += int64(len(chunk))
			if err := f(chunk); err != nil {
				return n, err
			}
		}
		return n, nil
	}
	if len(s.buf) > 0 {
		if err := s.spill(); err != nil {
			return 0, err
		}
	}
	s.buf = nil // the merge needs no more than its read buffers
	for len(s.runs) > mergeFanIn {
		if err := s.mergeFirst(); err != nil {
			return 0, err
		}
	}
	out := make([]listdb.Digest, 0, batch)
	var n int64
	err := s.merge(s.runs, func(d listdb.Digest) error {
		n++
		if out = append(out, d); len(out) == batch {
			err := f(out)
			out = out[:0]
			return err
		}
		return nil
	})
	if err == nil && len(out) > 0 {
		err = f(out)
	}
	return n, err
}

// mergeFirst merges the first mergeFanIn runs into one at the end.
func (s *distinctSet) mergeFirst() error {
	w := s.runWriter()
	if err := s.merge(s.runs[:mergeFanIn], w.put); err != nil {
		return err
	}
	s.runs = slices.Delete(s.runs, 0, mergeFanIn)
	return w.close()
}

// runWriter appends a run to the temporary file.
type runWriter struct {
	s   *distinctSet
	bw  *bufio.Writer
	run diskRun
}

func (s *distinctSet) runWriter() *runWriter {
	w := io.NewOffsetWriter(s.tmp, s.end)
	return &runWriter{s: s, bw: bufio.NewWriterSize(w, runReadBuffer), run: diskRun{off: s.end}}
}

func (w *runWriter) put(d listdb.Digest) error {
	w.run.n++
	if _, err := w.bw.Write(d[:]); err != nil {
		return fmt.Errorf("sorting the digests: %w", err)
	}
	return nil
}

func (w *runWriter) close() error {
	if err := w.bw.Flush(); err != nil {
		return fmt.Errorf("sorting the digests: %w", err)
	}
	w.s.runs = append(w.s.runs, w.run)
	w.s.end += w.run.n * listdb.DigestSize
	return nil
}

// merge calls put with each digest of runs once, in order.
func (s *distinctSet) merge(runs []diskRun, put func(listdb.Digest) error) error {
	h := make(runHeap, 0, len(runs))
	for _, r := range runs {
		c := &runCursor{r: bufio.NewReaderSize(io.NewSectionReader(s.tmp, r.off, r.n*listdb.DigestSize), runReadBuffer)}
		ok, err := c.next()
		if err != nil {
			return err
		}
		if ok {
			h = append(h, c)
		}
	}
	heap.Init(&h)
	var last listdb.Digest
	first := true
	for len(h) > 0 {
		c := h[0]
		if first || c.d != last {
			if err := put(c.d); err != nil {
				return err
			}
			last, first = c.d, false
		}
		ok, err := c.next()
		switch {
		case err != nil:
			return err
		case ok:
			heap.Fix(&h, 0)
		default:
			heap.Pop(&h)
		}
	}
	return nil
}

// runCursor reads one run.
type runCursor struct {
	r *bufio.Reader
	d listdb.Digest
}

func (c *runCursor) next() (bool, error) {
	_, err := io.ReadFull(c.r, c.d[:])
	if errors.Is(err, io.EOF) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("sorting the digests: reading back: %w", err)
	}
	return true, nil
}

// runHeap orders the cursors by their current digest.
type runHeap []*runCursor

func (h runHeap) Len() int           { return len(h) }
func (h runHeap) Less(i, j int) bool { return compareDigests(h[i].d, h[j].d) < 0 }
func (h runHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *runHeap) Push(x any)        { *h = append(*h, x.(*runCursor)) }
func (h *runHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
}
