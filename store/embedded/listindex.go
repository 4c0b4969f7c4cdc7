package embedded

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"syscall"

	"github.com/dncgate/dncgate/listdb"
)

// A list index is one committed version's digests, sorted, in a file of
// its own beside the database. A committed version never changes (hand
// edits live in list_manual), so the file is written once, mapped
// read-only, and searched without SQL. Layout, integers little endian:
//
//	0   magic idxMagic
//	8   version id
//	16  entry count n, below 2^32
//	24  CRC-32C of the entries
//	28  zero
//	32  the entries, 16 bytes each, ascending, no duplicates
//	    the radix table: for each value p of the first b bits, the index
//	    of the first entry whose first b bits are p or more, then n;
//	    2^b + 1 numbers of 4 bytes, b = radixBits(n)
//
// The table, about 1/32 of the entries' size, takes a search straight to
// the 8 to 16 entries that share its first bits: two or three cache lines
// read at random in a file of hundreds of MB, where a binary search would
// read a dozen, each a cache and TLB miss.
const (
	idxMagic      = "DNCGIDX2"
	idxHeaderSize = 32
	idxSuffix     = ".idx"
	// idxTempPrefix starts the name of a file being built; a crash leaves
	// it behind for the sweep.
	idxTempPrefix = "build-"
	// idxScan is the interval below which the search bisects instead of
	// interpolating: a few cache lines.
	idxScan = 16
	// radixFill is the fewest entries a radix bucket holds on average.
	radixFill = 8
	// radixWord is the size of one radix table number.
	radixWord = 4
	// maxEntries is the most a file holds: radix numbers are 32 bits.
	maxEntries = math.MaxUint32
)

var errBadIndex = errors.New("not a valid list index")

// listIndex is one mapped index file.
type listIndex struct {
	version int64
	data    []byte // the whole mapping; nil for an empty version
	n       int    // entries
	bits    uint   // radix bits
	radix   []byte // the radix table, in data
}

// radixBits is b for n entries: 2^b buckets of radixFill to twice as many
// entries on average.
func radixBits(n uint64) uint {
	if n < 2*radixFill {
		return 0
	}
	return uint(bits.Len64(n/radixFill) - 1)
}

// indexSize is the size of the file of n entries.
func indexSize(n uint64) int64 {
	return idxHeaderSize + listdb.DigestSize*int64(n) + radixWord*(1<<radixBits(n)+1)
}

// radixTable computes the radix table of entries as they go by in order.
type radixTable struct {
	bits uint
	out  []byte
	next uint64 // the first bucket whose start is not out yet
	seen uint32
}

func newRadixTable(n uint64) *radixTable {
	b := radixBits(n)
	return &radixTable{bits: b, out: make([]byte, 0, radixWord*(1<<b+1))}
}

// add records the next entry.
func (r *radixTable) add(d []byte) {
	for p := binary.BigEndian.Uint64(d) >> (64 - r.bits); r.next <= p; r.next++ {
		r.out = binary.LittleEndian.AppendUint32(r.out, r.seen)
	}
	r.seen++
}

// table ends the table after the last entry and returns it.
func (r *radixTable) table() []byte {
	for ; r.next <= 1<<r.bits; r.next++ {
		r.out = binary.LittleEndian.AppendUint32(r.out, r.seen)
	}
	return r.out
}

// indexHeader is a file's first idxHeaderSize bytes.
type indexHeader struct {
	version int64
	count   uint64
	crc     uint32
}

func (h indexHeader) encode() []byte {
	b := make([]byte, idxHeaderSize)
	copy(b, idxMagic)
	binary.LittleEndian.PutUint64(b[8:], uint64(h.version))
	binary.LittleEndian.PutUint64(b[16:], h.count)
	binary.LittleEndian.PutUint32(b[24:], h.crc)
	return b
}

func decodeHeader(b []byte) (indexHeader, error) {
	if len(b) < idxHeaderSize || string(b[:len(idxMagic)]) != idxMagic {
		return indexHeader{}, fmt.Errorf("%w: bad magic", errBadIndex)
	}
	return indexHeader{
		version: int64(binary.LittleEndian.Uint64(b[8:])),
		count:   binary.LittleEndian.Uint64(b[16:]),
		crc:     binary.LittleEndian.Uint32(b[24:]),
	}, nil
}

// indexExpect is what the database says a version's index must hold.
type indexExpect struct {
	entries     int64
	first, last listdb.Digest // when entries > 0
}

// openIndex maps path and checks it against the version and what the
// database holds: the length catches a truncated file, the count and the
// first and last digests a file left by another database at the same
// path. The checksum is left to verifyIndexFile, which reads every page.
func openIndex(path string, version int64, want indexExpect) (*listIndex, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	hb := make([]byte, idxHeaderSize)
	if _, err := f.ReadAt(hb, 0); err != nil {
		return nil, fmt.Errorf("%s: %w: reading the header: %v", path, errBadIndex, err)
	}
	h, err := decodeHeader(hb)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	switch {
	case h.version != version:
		return nil, fmt.Errorf("%s: %w: holds version %d", path, errBadIndex, h.version)
	case h.count != uint64(want.entries):
		return nil, fmt.Errorf("%s: %w: %d entries, the version has %d", path, errBadIndex, h.count, want.entries)
	case fi.Size() != indexSize(h.count):
		return nil, fmt.Errorf("%s: %w: %d bytes for %d entries", path, errBadIndex, fi.Size(), h.count)
	}
	x := &listIndex{version: version, n: int(h.count)}
	if x.n == 0 {
		return x, nil
	}
	if x.data, err = syscall.Mmap(int(f.Fd()), 0, int(fi.Size()), syscall.PROT_READ, syscall.MAP_SHARED); err != nil {
		return nil, fmt.Errorf("%s: mapping: %w", path, err)
	}
	if *x.at(0) != want.first || *x.at(x.n - 1) != want.last {
		x.close()
		return nil, fmt.Errorf("%s: %w: its first or last entry is not the version's", path, errBadIndex)
	}
	x.bits = radixBits(h.count)
	x.radix = x.data[idxHeaderSize+listdb.DigestSize*x.n:]
	return x, nil
}

// verifyIndexFile reads the file at path through and checks its entries
// against the header's checksum and their order. It reads the file, not a
// mapping, so that it may run while a lookup unmaps the version.
func verifyIndexFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, indexWriteBuffer)
	hb := make([]byte, idxHeaderSize)
	if _, err := io.ReadFull(r, hb); err != nil {
		return fmt.Errorf("%s: %w: %v", path, errBadIndex, err)
	}
	h, err := decodeHeader(hb)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	var crc uint32
	var prev, d listdb.Digest
	radix := newRadixTable(h.count)
	for i := uint64(0); i < h.count; i++ {
		if _, err := io.ReadFull(r, d[:]); err != nil {
			return fmt.Errorf("%s: %w: entry %d: %v", path, errBadIndex, i, err)
		}
		if i > 0 && bytes.Compare(prev[:], d[:]) >= 0 {
			return fmt.Errorf("%s: %w: entry %d out of order", path, errBadIndex, i)
		}
		crc = crc32c(crc, d[:])
		radix.add(d[:])
		prev = d
	}
	if crc != h.crc {
		return fmt.Errorf("%s: %w: checksum %08x, header says %08x", path, errBadIndex, crc, h.crc)
	}
	want := radix.table()
	table := make([]byte, len(want))
	if _, err := io.ReadFull(r, table); err != nil {
		return fmt.Errorf("%s: %w: radix table: %v", path, errBadIndex, err)
	}
	if !bytes.Equal(table, want) {
		return fmt.Errorf("%s: %w: the radix table is not the entries'", path, errBadIndex)
	}
	return nil
}

// madvPopulateRead (Linux 5.14) maps in a range's pages from the page
// cache, reading what is missing, without touching them from Go.
const madvPopulateRead = 22

// populate maps in the pages of data, a mapping, so that lookups do not
// take a page fault on each page they first touch: hundreds per decision
// at first with lists of millions. Older kernels only get the pages read
// ahead. It is only a hint: data may have been unmapped meanwhile.
func populate(data []byte) {
	if len(data) == 0 {
		return
	}
	if syscall.Madvise(data, madvPopulateRead) != nil {
		syscall.Madvise(data, syscall.MADV_WILLNEED)
	}
}

func (x *listIndex) close() error {
	if x.data == nil {
		return nil
	}
	err := syscall.Munmap(x.data)
	x.data = nil
	return err
}

// at is entry i, in place.
func (x *listIndex) at(i int) *listdb.Digest {
	off := idxHeaderSize + i*listdb.DigestSize
	return (*listdb.Digest)(x.data[off : off+listdb.DigestSize])
}

// key128 is a digest as two big-endian words: ordered as the bytes are.
type key128 struct{ hi, lo uint64 }

func keyOf(d *listdb.Digest) key128 {
	return key128{binary.BigEndian.Uint64(d[:8]), binary.BigEndian.Uint64(d[8:])}
}

func (a key128) cmp(b key128) int {
	switch {
	case a.hi != b.hi:
		return cmpU64(a.hi, b.hi)
	default:
		return cmpU64(a.lo, b.lo)
	}
}

func cmpU64(a, b uint64) int {
	if a < b {
		return -1
	}
	if a > b {
		return 1
	}
	return 0
}

// contains reports whether the index holds d. The radix table gives the
// bucket of d's first bits; digests are HMAC output, uniform over the key
// space, so it holds radixFill to twice as many entries and a binary
// search ends it. A larger bucket (contents that are not uniform) is
// first narrowed by rounds that guess by interpolation, probe √size
// either side of the guess and keep the interval between the probes or
// the side the key is on; a round that fails to halve the interval is
// followed by a bisection, so skewed contents cost at most twice a binary
// search.
func (x *listIndex) contains(d *listdb.Digest) bool {
	if x.n == 0 {
		return false
	}
	k := keyOf(d)
	lo, hi := x.bucket(k.hi) // the key, if held, is in [lo, hi)
	for hi-lo > idxScan {
		size := hi - lo
		g := x.guess(lo, hi, k)
		r := isqrt(size)
		l, h := max(lo, g-r), min(hi-1, g+r)
		cl, ch := keyOf(x.at(l)).cmp(k), keyOf(x.at(h)).cmp(k)
		switch {
		case cl == 0 || ch == 0:
			return true
		case cl > 0:
			hi = l
		case ch < 0:
			lo = h + 1
		default:
			lo, hi = l+1, h
		}
		if hi-lo > size/2 {
			var found bool
			if lo, hi, found = x.bisect(lo, hi, k); found {
				return true
			}
		}
	}
	for lo < hi {
		var found bool
		if lo, hi, found = x.bisect(lo, hi, k); found {
			return true
		}
	}
	return false
}

// bisect compares k with the middle of [lo, hi) and returns the half
// that may hold it, or found.
func (x *listIndex) bisect(lo, hi int, k key128) (int, int, bool) {
	mid := int(uint(lo+hi) >> 1)
	switch c := keyOf(x.at(mid)).cmp(k); {
	case c == 0:
		return lo, hi, true
	case c < 0:
		return mid + 1, hi, false
	default:
		return lo, mid, false
	}
}

// bucket returns the entries whose first bits are those of hi.
func (x *listIndex) bucket(hi uint64) (lo, end int) {
	p := hi >> (64 - x.bits)
	at := x.radix[radixWord*p:]
	return int(binary.LittleEndian.Uint32(at)), int(binary.LittleEndian.Uint32(at[radixWord:]))
}

// guess interpolates k's position in [lo, hi) on the high words.
func (x *listIndex) guess(lo, hi int, k key128) int {
	a, b := keyOf(x.at(lo)).hi, keyOf(x.at(hi-1)).hi
	switch {
	case k.hi <= a:
		return lo
	case k.hi >= b:
		return hi - 1
	}
	// (k-a)·span/(b-a) < span, so the quotient fits in 64 bits.
	ph, pl := bits.Mul64(k.hi-a, uint64(hi-1-lo))
	q, _ := bits.Div64(ph, pl, b-a)
	return lo + int(q)
}

func isqrt(n int) int { return max(int(math.Sqrt(float64(n))), 1) }
