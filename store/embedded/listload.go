package embedded

import (
	"context"
	"os"
	"time"
)

// startLoad maps a version's index in the background, building the file
// first when it is missing or bad, unless that is under way or failed
// less than retryIndex ago. Lookups meanwhile go through SQL. Builds are
// shared within a Store by builds, and between processes by the build
// lock (ensureIndex).
func (c *listCache) startLoad(version int64) {
	c.background(version, c.load)
}

// startWarm maps in the pages of an index that lookups already use and
// checks its whole file, which was opened after checking only its ends;
// a bad file is dropped. data is the mapping, copied before x is shared.
func (c *listCache) startWarm(version int64, data []byte) {
	c.background(version, func(context.Context, int64) error {
		populate(data)
		if verifyIndexFile(c.s.indexPath(version)) != nil {
			c.drop(version)
			os.Remove(c.s.indexPath(version)) // the next lookup rebuilds it
		}
		return nil // not a failure to wait on: the next lookup rebuilds
	})
}

// background runs job for version unless one runs already or the last
// failed less than retryIndex ago.
func (c *listCache) background(version int64, job func(context.Context, int64) error) {
	c.loading.Lock()
	defer c.loading.Unlock()
	if c.ctx.Err() != nil || c.builds[version] {
		return
	}
	if at, ok := c.failed[version]; ok && c.s.now().Sub(at) < retryIndex {
		return
	}
	c.builds[version] = true
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		err := c.ctx.Err()
		select {
		case c.oneJob <- struct{}{}:
			err = job(c.ctx, version)
			<-c.oneJob
		case <-c.ctx.Done():
		}
		c.loading.Lock()
		defer c.loading.Unlock()
		delete(c.builds, version)
		if err != nil {
			c.failed[version] = c.s.now()
		} else {
			delete(c.failed, version)
		}
	}()
}

// load makes sure the version has a good index file, building it when
// missing or bad, maps it and installs it while the version is still
// current.
func (c *listCache) load(ctx context.Context, version int64) error {
	if err := c.s.ensureIndex(ctx, version, true); err != nil {
		return err
	}
	x, err := c.s.openIndexOf(ctx, version)
	if err != nil {
		return err
	}
	populate(x.data)
	c.install(x)
	return nil
}

// install adds x to the mapped indexes if a list still has its version
// as current and none is mapped for it yet; else it unmaps x.
func (c *listCache) install(x *listIndex) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.idx[x.version] != nil || !c.isCurrent(x.version) {
		x.close()
		return
	}
	c.idx[x.version] = x
}

// drop unmaps a version's index; lookups go through SQL until it is
// loaded again.
func (c *listCache) drop(version int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if x := c.idx[version]; x != nil {
		x.close()
		delete(c.idx, version)
	}
}

func (c *listCache) isCurrent(version int64) bool {
	for _, l := range c.lists {
		if l.current == version {
			return true
		}
	}
	return false
}

// indexPoll is how often WaitIndexes looks whether the jobs are done.
const indexPoll = 10 * time.Millisecond

// WaitIndexes returns once no index job (a build, a mapping, a check of a
// file) runs in the background, or when ctx ends. Lookups never need it:
// until an index is ready they go through SQL. It is for what measures
// lookups, which should meet the store as it runs once started, not
// sharing the CPU with a check of every index file.
func (s *Store) WaitIndexes(ctx context.Context) error {
	t := time.NewTicker(indexPoll)
	defer t.Stop()
	for !s.lists.idle() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

// idle reports whether no background job is running or waiting.
func (c *listCache) idle() bool {
	c.loading.Lock()
	defer c.loading.Unlock()
	return len(c.builds) == 0
}
