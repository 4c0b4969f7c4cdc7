package suppression_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dncgate/dncgate/config"
	"github.com/dncgate/dncgate/contactdb"
	"github.com/dncgate/dncgate/internal/testredis"
	"github.com/dncgate/dncgate/listdb"
	"github.com/dncgate/dncgate/listmodel"
	"github.com/dncgate/dncgate/store/embedded"
	"github.com/dncgate/dncgate/store/redisstore"
	"github.com/dncgate/dncgate/suppression"
)

// Decision benchmarks: 5 lists governing every recipient (the opt-out
// list, a company e-mail list, a national phone list joined through the
// contacts, a domain list and a hashed e-mail list), DNCGATE_BENCH_ENTRIES
// entries each (200000 by default; the figure is 10000000) and as
// many contacts.
//
//	go test ./suppression -run '^$' -bench Decide -benchtime 20000x
//	DNCGATE_BENCH_ENTRIES=10000000 go test ./suppression -run '^$' -bench Decide -benchtime 20000x -timeout 1h

const (
	benchDefaultEntries = 200_000
	benchRecipients     = 4096 // known contacts the benchmark writes to, in turn
	benchBatch          = 65536
)

func benchEntries(b *testing.B) int {
	n := benchDefaultEntries
	if v := os.Getenv("DNCGATE_BENCH_ENTRIES"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < benchRecipients {
			b.Fatalf("DNCGATE_BENCH_ENTRIES=%q: want a number of at least %d", v, benchRecipients)
		}
	}
	return n
}

// hookCount counts Redis round trips: a command alone or a whole pipeline.
type hookCount struct{ n atomic.Int64 }

func (h *hookCount) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *hookCount) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, c redis.Cmder) error { h.n.Add(1); return next(ctx, c) }
}
func (h *hookCount) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cs []redis.Cmder) error { h.n.Add(1); return next(ctx, cs) }
}

func BenchmarkDecideRedis(b *testing.B) {
	st, err := redisstore.Open(b.Context(), redisstore.Options{URL: "redis://" + testredis.Start(b)})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	var hook hookCount
	st.AddHook(&hook)
	benchDecide(b, st, st.Contacts(), st.Ping, hook.n.Load)
}

func BenchmarkDecideEmbedded(b *testing.B) {
	st, err := embedded.Open(filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	benchDecide(b, st, st.Contacts(), nil, nil)
}

// benchDecide loads the lists and contacts, then measures decisions from
// 1 and from 4 goroutines.
func benchDecide(b *testing.B, db listdb.Store, cs contactdb.Store, ping func(context.Context) error, trips func() int64) {
	n := benchEntries(b)
	rcpts := loadBenchData(b, db, cs, n)
	pol, err := suppression.NewPolicy(config.Policy{})
	if err != nil {
		b.Fatal(err)
	}
	chk, err := suppression.New(suppression.Options{Lists: db, Contacts: cs, Policy: pol, Key: testKey})
	if err != nil {
		b.Fatal(err)
	}
	warmUp(b, db, chk, rcpts)
	for _, g := range []int{1, 4} {
		b.Run(fmt.Sprintf("entries=%d/goroutines=%d", n, g), func(b *testing.B) {
			runDecisions(b, chk, rcpts, g, ping, trips)
		})
	}
}

// warmUp brings the store to the state it runs in once started: the
// embedded store's background index jobs over (until then lookups go
// through SQL and share the CPU with a check of every index file), and
// every recipient decided once, so the timed runs do not pay the first
// touch of each page of the file.
func warmUp(b *testing.B, db listdb.Store, chk *suppression.Checker, rcpts []string) {
	now := t0.Add(time.Hour)
	decide := func(rs []string) {
		for _, r := range rs {
			if _, err := chk.Decide(b.Context(), "rep@seller.example", r, now); err != nil {
				b.Fatal(err)
			}
		}
		if w, ok := db.(interface{ WaitIndexes(context.Context) error }); ok {
			if err := w.WaitIndexes(b.Context()); err != nil {
				b.Fatal(err)
			}
		}
	}
	decide(rcpts[:1]) // the first lookup finds the new versions and maps their indexes
	decide(rcpts)
}

// runDecisions times each decision, and a bare PING after it when the
// backend has one, so both latencies come from the same moments.
func runDecisions(b *testing.B, chk *suppression.Checker, rcpts []string, g int, ping func(context.Context) error, trips func() int64) {
	ctx := b.Context()
	var mu sync.Mutex
	var lat, pings []time.Duration
	var next atomic.Int64
	var before int64
	if trips != nil {
		before = trips()
	}
	now := t0.Add(time.Hour)
	b.ResetTimer()
	var wg sync.WaitGroup
	for range g {
		wg.Go(func() {
			var l, p []time.Duration
			for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
				start := time.Now()
				if _, err := chk.Decide(ctx, "rep@seller.example", rcpts[int(i)%len(rcpts)], now); err != nil {
					b.Error(err)
					return
				}
				l = append(l, time.Since(start))
				if ping != nil {
					start = time.Now()
					ping(ctx)
					p = append(p, time.Since(start))
				}
			}
			mu.Lock()
			lat, pings = append(lat, l...), append(pings, p...)
			mu.Unlock()
		})
	}
	wg.Wait()
	b.StopTimer()
	report(b, "", lat)
	if ping != nil {
		report(b, "ping-", pings)
		b.ReportMetric(float64(trips()-before-int64(len(pings)))/float64(len(lat)), "round-trips/decision")
	}
}

func report(b *testing.B, prefix string, ds []time.Duration) {
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	q := func(p float64) float64 { return float64(ds[int(p*float64(len(ds)-1))].Nanoseconds()) / 1e3 }
	b.ReportMetric(q(0.50), prefix+"p50-µs")
	b.ReportMetric(q(0.99), prefix+"p99-µs")
}

// loadBenchData fills the five lists with n random digests each and the
// contacts with n records, and returns the addresses of benchRecipients
// Belgian contacts; one in four has a phone on the national list, one in
// sixteen is opted out.
func loadBenchData(b *testing.B, db listdb.Store, cs contactdb.Store, n int) []string {
	ctx := b.Context()
	r := rand.New(rand.NewPCG(7, 11))
	metas := []listdb.Meta{
		suppression.OptOutMeta,
		{Name: "company", Kind: "email", Model: "deny"},
		{Name: "be-dncm", Kind: "phone", Model: "deny", Countries: []string{"BE"}, MaxAge: 5 * 24 * time.Hour},
		{Name: "domains", Kind: "domain", Model: "deny"},
		{Name: "hashed", Kind: "email-sha256", Model: "deny"},
	}
	rcpts := make([]string, benchRecipients)
	var recs []contactdb.Record
	var onPhoneList, optedOut []listdb.Digest
	for i := range rcpts {
		rcpts[i] = fmt.Sprintf("contact%d@firma%d.be", i, i%97)
		phone := fmt.Sprintf("+3247%07d", i)
		rec := contactdb.Record{Email: listdb.Key(testKey, "email", rcpts[i]),
			Contact: contactdb.Contact{Country: "BE", Type: "business", Phones: []listdb.Digest{
				listdb.Key(testKey, "phone", phone), listdb.Key(testKey, "phone", fmt.Sprintf("+322%07d", i))}}}
		recs = append(recs, rec)
		if i%4 == 0 {
			onPhoneList = append(onPhoneList, rec.Phones[0])
		}
		if i%16 == 1 {
			optedOut = append(optedOut, rec.Email)
		}
	}
	for _, m := range metas {
		if err := db.PutList(ctx, m); err != nil {
			b.Fatal(err)
		}
		extra := map[string][]listdb.Digest{"be-dncm": onPhoneList, listmodel.OptOut: optedOut}[m.Name]
		importRandom(b, db, m.Name, r, n, extra)
	}
	importContacts(b, cs, r, n, recs)
	return rcpts
}

func randomDigest(r *rand.Rand) listdb.Digest {
	var d listdb.Digest
	for i := 0; i < len(d); i += 8 {
		v := r.Uint64()
		for j := range 8 {
			d[i+j] = byte(v >> (8 * j))
		}
	}
	return d
}

func importRandom(b *testing.B, db listdb.Store, name string, r *rand.Rand, n int, extra []listdb.Digest) {
	ctx := b.Context()
	w, err := db.BeginVersion(ctx, name, int64(n))
	if err != nil {
		b.Fatal(err)
	}
	batch := append(make([]listdb.Digest, 0, benchBatch), extra...)
	for i := len(extra); i < n; i++ {
		batch = append(batch, randomDigest(r))
		if len(batch) == benchBatch || i == n-1 {
			if err := w.Add(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if _, err := w.Commit(ctx, listdb.Version{ImportedAt: t0, ImportedBy: "bench"}); err != nil {
		b.Fatal(err)
	}
}

func importContacts(b *testing.B, cs contactdb.Store, r *rand.Rand, n int, known []contactdb.Record) {
	ctx := b.Context()
	w, err := cs.BeginImport(ctx, int64(n))
	if err != nil {
		b.Fatal(err)
	}
	batch := append(make([]contactdb.Record, 0, benchBatch), known...)
	for i := len(known); i < n; i++ {
		batch = append(batch, contactdb.Record{Email: randomDigest(r),
			Contact: contactdb.Contact{Country: "FR", Type: "business", Phones: []listdb.Digest{randomDigest(r)}}})
		if len(batch) == benchBatch || i == n-1 {
			if err := w.Add(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if _, err := w.Commit(ctx, contactdb.Version{ImportedAt: t0, ImportedBy: "bench"}); err != nil {
		b.Fatal(err)
	}
}
