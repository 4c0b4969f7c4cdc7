package redisstore

// CRM contacts. Key layout, beside the package comment's:
//
//	ct:{contacts}        hash: cur ("VID:BITS"), ver (JSON of the current
//	                     version), seq, p:VID = BITS for imports running,
//	                     d:VID = BITS for versions being deleted
//	ce:{VID:BUCKET}      hash: one version's records in one bucket
//
// An e-mail digest's first BITS bits choose its bucket; the field is the
// digest's bytes 4 to 15, the value the record (contactdb.Encode). BITS is
// chosen per version so that buckets average at most 64 records, which
// Redis keeps as one compact listpack while every value is at most
// hash-max-listpack-value (64 bytes: a contact with up to three phones).
// Each bucket is its own slot, so a cluster spreads a version evenly.
//
// Every bucket of a committed version holds the empty field, written at
// Commit: a bucket without it belongs to a version deleted after a switch.
//
// A lookup is one round trip: one HMGET on the bucket. What it takes to
// find the bucket (the current VID and BITS) is cached in the process,
// and trusted without asking for contactVersionTTL. That is enough for
// correctness because Commit deletes the replaced version's buckets
// before it returns: a reader still on the old version then finds its
// bucket without the empty field, drops the cache and reads the head
// again. The TTL only bounds how long a reader can stay on an old version
// whose deletion failed. Past the TTL the head is read in the same
// pipeline as the bucket, so on one node that is still one round trip.

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dncgate/dncgate/contactdb"
	"github.com/dncgate/dncgate/listdb"
)

const (
	// contactFill is the average records a bucket is sized for, half the
	// default hash-max-listpack-entries (128).
	contactFill = 64
	// contactMinBits and contactMaxBits bound the buckets: 16 for a few
	// contacts, a million for 64 million.
	contactMinBits = 4
	contactMaxBits = 20
	// contactFieldFrom is where the field starts in the e-mail digest; the
	// bytes before it choose the bucket.
	contactFieldFrom = 4
	// contactSentinel is the field every bucket of a committed version
	// holds.
	contactSentinel = ""
	// contactKeysPerPipeline bounds one pipeline of bucket commands.
	contactKeysPerPipeline = 4096
	// contactTries bounds how often a lookup starts again after meeting a
	// version deleted under it; each switch in between costs one.
	contactTries = 3
	// contactVersionTTL is how long a process trusts the current version
	// it read without reading the head again; see the file comment.
	contactVersionTTL = time.Second
)

func (k keys) contactHead() string { return k.prefix + "ct:{contacts}" }
func (k keys) contactBucket(v ctVersion, b uint32) string {
	return k.prefix + "ce:{" + strconv.FormatInt(v.id, 10) + ":" + strconv.FormatUint(uint64(b), 16) + "}"
}

// ctVersion names one version's buckets.
type ctVersion struct {
	id   int64
	bits int
}

func (v ctVersion) String() string { return strconv.FormatInt(v.id, 10) + ":" + strconv.Itoa(v.bits) }

func parseCtVersion(s string) (ctVersion, error) {
	var v ctVersion
	id, b, ok := strings.Cut(s, ":")
	var errID, errBits error
	v.id, errID = strconv.ParseInt(id, 10, 64)
	v.bits, errBits = strconv.Atoi(b)
	if !ok || errID != nil || errBits != nil || v.bits < 0 || v.bits > contactMaxBits {
		return v, fmt.Errorf("malformed stored contacts version %q", s)
	}
	return v, nil
}

func (v ctVersion) bucket(email *listdb.Digest) uint32 {
	if v.bits == 0 {
		return 0
	}
	return binary.BigEndian.Uint32(email[:4]) >> (32 - v.bits)
}

func contactField(email *listdb.Digest) string { return string(email[contactFieldFrom:]) }

// contactBits sizes a version of n records.
func contactBits(n int64) int {
	b := bits.Len64(uint64(max(n-1, 0) / contactFill))
	return min(max(b, contactMinBits), contactMaxBits)
}

// contactStore is the Redis store's contacts, with its cache of the
// current version. It lives in the Store, so every caller shares it.
type contactStore struct {
	s *Store

	mu     sync.Mutex
	cur    *ctVersion // nil: unknown
	readAt time.Time
}

// Contacts returns the store's CRM contacts.
func (s *Store) Contacts() contactdb.Store { return &s.contacts }

// cached returns the version last read, nil when none, and whether it is
// still within its TTL.
func (c *contactStore) cached() (*ctVersion, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur == nil {
		return nil, false
	}
	v := *c.cur
	return &v, c.s.now().Sub(c.readAt) < contactVersionTTL
}

// learn records v as current unless a newer one is known: versions only
// move forward, so a reader that read the head before a switch cannot
// take the cache back.
func (c *contactStore) learn(v ctVersion) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur == nil || v.id >= c.cur.id {
		c.cur, c.readAt = &v, c.s.now()
	}
}

// unlearn drops v from the cache if it is still there.
func (c *contactStore) unlearn(v ctVersion) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur != nil && *c.cur == v {
		c.cur = nil
	}
}

// Contact reads the record's bucket, and the head too when the cached
// version is missing or past its TTL.
func (c *contactStore) Contact(ctx context.Context, email listdb.Digest) (contactdb.Contact, bool, error) {
	for range contactTries {
		v, fresh := c.cached()
		head, bucket, err := c.fetch(ctx, v, fresh, &email)
		if err != nil {
			return contactdb.Contact{}, false, fmt.Errorf("redisstore: contact: %w", err)
		}
		if head != nil {
			cur, err := headVersion(head.Val()[0])
			if err != nil || cur == nil {
				return contactdb.Contact{}, false, err
			}
			c.learn(*cur)
			if v == nil || *v != *cur {
				continue // now the bucket is known
			}
		}
		got := bucket.Val()
		if got[0] == nil {
			c.unlearn(*v) // deleted after a switch
			continue
		}
		return decodeContact(got[1])
	}
	return contactdb.Contact{}, false, fmt.Errorf("redisstore: contact: the contacts switched versions %d times during one lookup", contactTries)
}

// fetch reads the bucket of email in v, when known, and the head, unless
// v is fresh: one command, or two in one pipeline.
func (c *contactStore) fetch(ctx context.Context, v *ctVersion, fresh bool, email *listdb.Digest) (head, bucket *redis.SliceCmd, err error) {
	bucketCmd := func(r redis.Cmdable) *redis.SliceCmd {
		return r.HMGet(ctx, c.s.keys.contactBucket(*v, v.bucket(email)), contactSentinel, contactField(email))
	}
	if fresh {
		bucket = bucketCmd(c.s.c)
		return nil, bucket, bucket.Err()
	}
	_, err = c.s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		head = p.HMGet(ctx, c.s.keys.contactHead(), "cur")
		if v != nil {
			bucket = bucketCmd(p)
		}
		return nil
	})
	return head, bucket, err
}

// headVersion reads the head's cur field: nil before the first import.
func headVersion(val any) (*ctVersion, error) {
	s, ok := val.(string)
	if !ok {
		return nil, nil
	}
	v, err := parseCtVersion(s)
	if err != nil {
		return nil, fmt.Errorf("redisstore: contacts: %w", err)
	}
	return &v, nil
}

func decodeContact(val any) (contactdb.Contact, bool, error) {
	s, ok := val.(string)
	if !ok {
		return contactdb.Contact{}, false, nil
	}
	ct, err := contactdb.Decode([]byte(s))
	if err != nil {
		return ct, false, fmt.Errorf("redisstore: contact: %w", err)
	}
	return ct, true, nil
}

// Current reads the head.
func (c *contactStore) Current(ctx context.Context) (contactdb.Version, error) {
	var out contactdb.Version
	vals, err := c.s.c.HMGet(ctx, c.s.keys.contactHead(), "cur", "ver").Result()
	if err != nil {
		return out, fmt.Errorf("redisstore: contacts: current version: %w", err)
	}
	v, err := headVersion(vals[0])
	if err != nil || v == nil {
		return out, err
	}
	info, _ := vals[1].(string)
	if err := json.Unmarshal([]byte(info), &out); err != nil {
		return out, fmt.Errorf("redisstore: contacts: stored version %d: %w", v.id, err)
	}
	out.ID = strconv.FormatInt(v.id, 10)
	return out, nil
}

// Forget reads the current version from the head, not the cache, and
// deletes the record's field from its bucket.
func (c *contactStore) Forget(ctx context.Context, email listdb.Digest) error {
	cur, err := c.s.c.HGet(ctx, c.s.keys.contactHead(), "cur").Result()
	if errors.Is(err, redis.Nil) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("redisstore: contacts: forget: %w", err)
	}
	v, err := parseCtVersion(cur)
	if err != nil {
		return fmt.Errorf("redisstore: contacts: forget: %w", err)
	}
	if err := c.s.c.HDel(ctx, c.s.keys.contactBucket(v, v.bucket(&email)), contactField(&email)).Err(); err != nil {
		return fmt.Errorf("redisstore: contacts: forget: %w", err)
	}
	return nil
}

// deleteBuckets unlinks every bucket of v, one command per key: in a
// cluster they are in different slots.
func (c *contactStore) deleteBuckets(ctx context.Context, v ctVersion) error {
	n := uint32(1) << v.bits
	for from := uint32(0); from < n; from += contactKeysPerPipeline {
		_, err := c.s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for b := from; b < min(n, from+contactKeysPerPipeline); b++ {
				p.Unlink(ctx, c.s.keys.contactBucket(v, b))
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("deleting contacts version %d: %w", v.id, err)
		}
	}
	return nil
}
