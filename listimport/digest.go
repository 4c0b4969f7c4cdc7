package listimport

import "github.com/dncgate/dncgate/listdb"

// digestBatch is how many normalised values the reading goroutine hands
// the digesting one at a time: large enough that the hand-over costs
// nothing, small enough to keep memory flat.
const digestBatch = 4096

// digestFeed keys normalised values and sorts out duplicates on a
// goroutine of its own, so that an import reads and normalises the file on
// one core while the keyed hash and the sort run on the other.
type digestFeed struct {
	ch   chan []string
	buf  []string
	done chan error
}

func startDigesting(d *listdb.Digester, set *distinctSet) *digestFeed {
	f := &digestFeed{ch: make(chan []string, 4), buf: make([]string, 0, digestBatch), done: make(chan error, 1)}
	go func() {
		var err error
		for batch := range f.ch {
			for _, v := range batch {
				if err == nil {
					err = set.add(d.Digest(v))
				}
			}
		}
		f.done <- err
	}()
	return f
}

// add queues one normalised value.
func (f *digestFeed) add(v string) {
	f.buf = append(f.buf, v)
	if len(f.buf) == digestBatch {
		f.ch <- f.buf
		f.buf = make([]string, 0, digestBatch)
	}
}

// close hands over what is left, waits for the digesting goroutine and
// returns its first error. It must be called once, also on failure, so
// that the goroutine ends.
func (f *digestFeed) close() error {
	if len(f.buf) > 0 {
		f.ch <- f.buf
	}
	close(f.ch)
	return <-f.done
}
