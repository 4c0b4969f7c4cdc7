package embedded

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/dncgate/dncgate/listdb"
	"github.com/dncgate/dncgate/store"
)

// changeLogKeep is how many rows list_changes keeps. A process that fell
// further behind reloads everything, which costs one read of the lists
// and the manual entries.
const changeLogKeep = 4096

// changeSchema keeps list_changes, a log of every change a lookup must
// see, written by triggers so that any writer (another process, an older
// dncgate) records it in the same transaction as the change. A lookup
// reads the log's head, one key lookup, and only when it moved the rows
// since the last it saw. A row without digest is a change of the list
// itself (created, dropped, switched to another version); one with a
// digest is the manual decision on it, present NULL when none is left.
var changeSchema = fmt.Sprintf(`CREATE TABLE IF NOT EXISTS list_changes (
		seq     INTEGER PRIMARY KEY AUTOINCREMENT,
		list    TEXT NOT NULL,
		digest  BLOB,
		present INTEGER
	);
	CREATE TRIGGER IF NOT EXISTS list_changes_prune AFTER INSERT ON list_changes BEGIN
		DELETE FROM list_changes WHERE seq <= new.seq - %d;
	END;
	CREATE TRIGGER IF NOT EXISTS lists_created AFTER INSERT ON lists BEGIN
		INSERT INTO list_changes (list) VALUES (new.name);
	END;
	CREATE TRIGGER IF NOT EXISTS lists_dropped AFTER DELETE ON lists BEGIN
		INSERT INTO list_changes (list) VALUES (old.name);
	END;
	CREATE TRIGGER IF NOT EXISTS lists_switched AFTER UPDATE OF current ON lists BEGIN
		INSERT INTO list_changes (list) VALUES (new.name);
	END;
	CREATE TRIGGER IF NOT EXISTS list_manual_added AFTER INSERT ON list_manual BEGIN
		INSERT INTO list_changes (list, digest, present) VALUES (new.list, new.digest, new.present);
	END;
	CREATE TRIGGER IF NOT EXISTS list_manual_changed AFTER UPDATE ON list_manual BEGIN
		INSERT INTO list_changes (list, digest, present) VALUES (new.list, new.digest, new.present);
	END;
	-- DropList deletes the list first, which is logged: its manual rows
	-- need no row each.
	CREATE TRIGGER IF NOT EXISTS list_manual_cleared AFTER DELETE ON list_manual
	WHEN EXISTS (SELECT 1 FROM lists WHERE name = old.list) BEGIN
		INSERT INTO list_changes (list, digest, present) VALUES (old.list, old.digest, NULL);
	END;`, changeLogKeep)

const (
	// qChangeHead also reads the identity's id, for the guard.
	qChangeHead = `SELECT max(seq), (SELECT id FROM identity) FROM list_changes`
	qChanges    = `SELECT seq, list, digest, present FROM list_changes WHERE seq > ? ORDER BY seq`
	// qListState reads everything a lookup needs but the entries, in one
	// statement and so from one snapshot, with the log's head at it.
	qListState = `SELECT 0, name, current, NULL, NULL FROM lists
		UNION ALL SELECT 1, m.list, NULL, m.digest, m.present FROM list_manual m JOIN lists l ON l.name = m.list
		UNION ALL SELECT 2, NULL, (SELECT max(seq) FROM list_changes), NULL, NULL`
	// retryIndex is how long a version whose index failed to build or
	// open is answered by SQL before the next try.
	retryIndex = time.Minute
)

// cachedList is what a lookup needs of one list besides its entries.
type cachedList struct {
	current int64 // version id; 0 before the first import
	version string
	manual  map[listdb.Digest]bool
}

// listCache answers lookups from memory and the mapped indexes, as of the
// change log's head that the lookup read first: a lookup sees every
// change committed before it started, and each answer comes from one
// version. It falls back to SQL (ok false) when the file has no change
// log yet or an index is not loaded yet.
type listCache struct {
	s     *Store
	heads *rawReader // the change log's head

	refreshing sync.Mutex // one refresh at a time

	mu     sync.RWMutex // guards what follows; lookups hold it to read
	loaded bool
	seq    int64
	lists  map[string]*cachedList
	idx    map[int64]*listIndex // mapped indexes: current versions, and one just committed here
	closed bool

	loading sync.Mutex // guards builds and failed
	builds  map[int64]bool
	failed  map[int64]time.Time
	// oneJob lets one background job run at a time: a build or a check
	// reads a whole version, and several at once would take every core
	// from the lookups.
	oneJob chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newListCache(s *Store) *listCache {
	ctx, cancel := context.WithCancel(context.Background())
	return &listCache{s: s, heads: newRawReader(s.path, qChangeHead), idx: map[int64]*listIndex{}, builds: map[int64]bool{},
		failed: map[int64]time.Time{}, oneJob: make(chan struct{}, 1), ctx: ctx, cancel: cancel}
}

// close stops the builds and unmaps the indexes.
func (c *listCache) close() error {
	c.loading.Lock()
	c.cancel()
	c.loading.Unlock()
	c.wg.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	errs := []error{c.heads.close()}
	for id, x := range c.idx {
		errs = append(errs, x.close())
		delete(c.idx, id)
	}
	return errors.Join(errs...)
}

// lookup fills out, which holds one answer per probe as Lookup made them.
func (c *listCache) lookup(ctx context.Context, probes []listdb.Probe, out []listdb.Answer) (bool, error) {
	head, id, err := c.head(ctx)
	if noListTables(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := store.CheckGuard(c.s.guarded(), id); err != nil {
		return false, err
	}
	c.mu.RLock()
	fresh := c.loaded && c.seq >= head
	c.mu.RUnlock()
	if !fresh {
		if err := c.refresh(ctx, head); err != nil {
			return false, err
		}
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if !c.ready(probes) {
		return false, nil
	}
	c.answer(probes, out)
	return true, nil
}

// head is the change log's last sequence number, 0 when empty, and the
// identity's id, "" when none.
func (c *listCache) head(ctx context.Context) (seq int64, id string, err error) {
	_, err = c.heads.row(ctx, nil, func(cols []driver.Value) (err error) {
		switch v := cols[1].(type) {
		case string:
			id = v
		case []byte:
			id = string(v)
		}
		seq, err = int64Value(cols[0])
		return err
	})
	return seq, id, err
}

// ready reports whether every probed list with a version has its index;
// it starts loading those that lack one.
func (c *listCache) ready(probes []listdb.Probe) bool {
	ok := true
	for i := range probes {
		l := c.lists[probes[i].List]
		if l == nil || l.current == 0 || c.idx[l.current] != nil {
			continue
		}
		ok = false
		c.startLoad(l.current)
	}
	return ok
}

func (c *listCache) answer(probes []listdb.Probe, out []listdb.Answer) {
	for i := range probes {
		p := &probes[i]
		l := c.lists[p.List]
		if l == nil {
			continue
		}
		a := &out[i]
		a.Missing, a.Version = false, l.version
		x := c.idx[l.current]
		for k := range p.Digests {
			d := &p.Digests[k]
			if present, ok := l.manual[*d]; ok {
				a.Found[k] = present
			} else if x != nil {
				a.Found[k] = x.contains(d)
			}
		}
	}
}

// refresh brings the cache to at least head: from the log when it holds
// only manual decisions since the cache's sequence, else from a full read.
func (c *listCache) refresh(ctx context.Context, head int64) error {
	c.refreshing.Lock()
	defer c.refreshing.Unlock()
	c.mu.RLock()
	loaded, from := c.loaded, c.seq
	c.mu.RUnlock()
	if loaded && from >= head {
		return nil
	}
	if loaded {
		done, err := c.applyLog(ctx, from)
		if done || err != nil {
			return err
		}
	}
	return c.reload(ctx)
}

// change is one row of list_changes.
type change struct {
	seq     int64
	list    string
	digest  []byte
	present sql.NullInt64
}

// applyLog applies the changes after from, when they are all manual
// decisions on known lists and none was pruned; done false asks for a
// full reload.
func (c *listCache) applyLog(ctx context.Context, from int64) (done bool, err error) {
	rows, err := c.s.r.QueryContext(ctx, qChanges, from)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	var log []change
	for rows.Next() {
		var ch change
		if err := rows.Scan(&ch.seq, &ch.list, &ch.digest, &ch.present); err != nil {
			return false, err
		}
		if ch.seq != from+int64(len(log))+1 || len(ch.digest) != listdb.DigestSize {
			return false, nil // pruned past us, or a change of a list
		}
		log = append(log, ch)
	}
	if err := rows.Err(); err != nil {
		return false, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ch := range log {
		if c.lists[ch.list] == nil {
			return false, nil
		}
	}
	for _, ch := range log {
		l := c.lists[ch.list]
		d := listdb.Digest(ch.digest)
		if ch.present.Valid {
			l.manual[d] = ch.present.Int64 == 1
		} else {
			delete(l.manual, d)
		}
		c.seq = ch.seq
	}
	return true, nil
}

// reload reads the lists and manual decisions afresh, opens the indexes
// of versions that became current and unmaps those that stopped being.
func (c *listCache) reload(ctx context.Context) error {
	lists, seq, err := c.readState(ctx)
	if err != nil {
		return err
	}
	opened := c.openCurrent(ctx, lists)
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, x := range opened {
		if c.idx[id] == nil && !c.closed {
			c.idx[id] = x
		} else {
			x.close()
		}
	}
	c.lists, c.seq, c.loaded = lists, seq, true
	c.unmapStale()
	return nil
}

// readState runs qListState.
func (c *listCache) readState(ctx context.Context) (map[string]*cachedList, int64, error) {
	rows, err := c.s.r.QueryContext(ctx, qListState)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	lists := map[string]*cachedList{}
	var (
		seq    int64
		manual []change
	)
	for rows.Next() {
		var (
			kind int
			name sql.NullString
			num  sql.NullInt64
			ch   change
		)
		if err := rows.Scan(&kind, &name, &num, &ch.digest, &ch.present); err != nil {
			return nil, 0, err
		}
		switch kind {
		case 0:
			l := &cachedList{current: num.Int64, manual: map[listdb.Digest]bool{}}
			if num.Valid {
				l.version = strconv.FormatInt(num.Int64, 10)
			}
			lists[name.String] = l
		case 1:
			ch.list = name.String
			manual = append(manual, ch)
		case 2:
			seq = num.Int64
		}
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	for _, m := range manual {
		if l := lists[m.list]; l != nil && len(m.digest) == listdb.DigestSize {
			l.manual[listdb.Digest(m.digest)] = m.present.Int64 == 1
		}
	}
	return lists, seq, nil
}

// openCurrent maps the existing index files of current versions that
// have none mapped yet, checking only their ends so that a switch costs
// lookups no more than a few key reads; the rest of the file is checked
// in the background. A missing or bad file is built in the background.
func (c *listCache) openCurrent(ctx context.Context, lists map[string]*cachedList) map[int64]*listIndex {
	c.mu.RLock()
	var want []int64
	for _, l := range lists {
		if l.current != 0 && c.idx[l.current] == nil {
			want = append(want, l.current)
		}
	}
	c.mu.RUnlock()
	opened := map[int64]*listIndex{}
	for _, id := range want {
		if x, err := c.s.openIndexOf(ctx, id); err == nil {
			opened[id] = x
			c.startWarm(id, x.data)
		} else {
			c.startLoad(id)
		}
	}
	return opened
}

// unmapStale unmaps the indexes of versions no list has as current; the
// caller holds mu for writing, so no lookup is reading them.
func (c *listCache) unmapStale() {
	current := map[int64]bool{}
	for _, l := range c.lists {
		current[l.current] = true
	}
	for id, x := range c.idx {
		if !current[id] {
			x.close()
			delete(c.idx, id)
		}
	}
}

// openIndexOf maps the index file of a committed version.
func (s *Store) openIndexOf(ctx context.Context, version int64) (*listIndex, error) {
	want, err := expectIndex(ctx, s.r, version)
	if err != nil {
		return nil, err
	}
	return openIndex(s.indexPath(version), version, want)
}
