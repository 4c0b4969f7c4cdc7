package backup

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/dncgate/dncgate/store"
)

// The Redis part is a stream of keys, each: the name's length (uvarint)
// and the name, the expiry in Unix milliseconds (varint, 0 for none), the
// value's length (uvarint) and the value (DUMP's serialisation).

// maxKeyPart bounds a name or value read back; Redis caps a value at
// 512 MB.
const maxKeyPart = 512 << 20

type keyWriter struct {
	w      *bufio.Writer
	counts map[string]int64
}

func newKeyWriter(w io.Writer) *keyWriter {
	return &keyWriter{w: bufio.NewWriterSize(w, 1<<16), counts: map[string]int64{}}
}

func (k *keyWriter) write(d store.DumpedKey) error {
	var b [binary.MaxVarintLen64]byte
	var exp int64
	if !d.ExpireAt.IsZero() {
		exp = d.ExpireAt.UnixMilli()
	}
	k.w.Write(b[:binary.PutUvarint(b[:], uint64(len(d.Key)))])
	k.w.WriteString(d.Key)
	k.w.Write(b[:binary.PutVarint(b[:], exp)])
	k.w.Write(b[:binary.PutUvarint(b[:], uint64(len(d.Value)))])
	_, err := k.w.Write(d.Value)
	k.counts["redis:"+d.Kind]++
	return err
}

func (k *keyWriter) flush() error { return k.w.Flush() }

// keyReader reads the stream back.
type keyReader struct{ r *bufio.Reader }

func (k keyReader) next() (store.DumpedKey, error) {
	n, err := binary.ReadUvarint(k.r)
	if errors.Is(err, io.EOF) {
		return store.DumpedKey{}, io.EOF
	}
	if err != nil {
		return store.DumpedKey{}, keyStreamError(err)
	}
	name, err := k.bytes(n)
	if err != nil {
		return store.DumpedKey{}, err
	}
	exp, err := binary.ReadVarint(k.r)
	if err != nil {
		return store.DumpedKey{}, keyStreamError(err)
	}
	n, err = binary.ReadUvarint(k.r)
	if err != nil {
		return store.DumpedKey{}, keyStreamError(err)
	}
	v, err := k.bytes(n)
	if err != nil {
		return store.DumpedKey{}, err
	}
	d := store.DumpedKey{Key: string(name), Value: v}
	if exp != 0 {
		d.ExpireAt = time.UnixMilli(exp)
	}
	return d, nil
}

func (k keyReader) bytes(n uint64) ([]byte, error) {
	if n > maxKeyPart {
		return nil, fmt.Errorf("%w: a key of %d bytes in %s", ErrDamaged, n, PartRedis)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(k.r, b); err != nil {
		return nil, keyStreamError(err)
	}
	return b, nil
}

func keyStreamError(err error) error {
	return fmt.Errorf("%w: %s ends inside a key: %v", ErrDamaged, PartRedis, err)
}
