package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/redis/go-redis/v9"

	"github.com/dncgate/dncgate/internal/testredis"
)

// tripLog records the store's round trips: one per command sent alone and
// one per pipeline, which on a single node is one write and one wait.
type tripLog struct {
	mu    sync.Mutex
	trips []string // the command names of each round trip
}

func (l *tripLog) DialHook(next redis.DialHook) redis.DialHook { return next }

func (l *tripLog) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		l.add([]redis.Cmder{cmd})
		return next(ctx, cmd)
	}
}

func (l *tripLog) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		l.add(cmds)
		return next(ctx, cmds)
	}
}

func (l *tripLog) add(cmds []redis.Cmder) {
	names := make([]string, len(cmds))
	for i, c := range cmds {
		names[i] = c.Name()
	}
	l.mu.Lock()
	l.trips = append(l.trips, strings.Join(names, "+"))
	l.mu.Unlock()
}

// take returns the round trips since the last take.
func (l *tripLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	t := l.trips
	l.trips = nil
	return t
}

// roundTripConfig is the bench's "everything on" profile: four lists and
// the opt-out list, CRM contacts, three caps, on a single Redis.
func roundTripConfig(dir, listen, storeLine string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[server]\nhostname = \"rt.localhost\"\ndata_dir = %q\n\n", filepath.Join(dir, "data"))
	fmt.Fprintf(&b, "[[listener]]\nname = \"rt\"\naddress = %q\ntls = \"none\"\n  [[listener.trusted]]\n  network = \"127.0.0.0/8\"\n  identity = \"rep@acme.test\"\n\n", listen)
	fmt.Fprintf(&b, "[upstream]\nurl = \"outbox:%s\"\n\n", filepath.Join(dir, "outbox"))
	fmt.Fprintf(&b, "[store]\nbackend = \"redis\"\n%s\n\n", storeLine)
	fmt.Fprintf(&b, "[privacy]\nhmac_key = \"%s\"\n\n", strings.Repeat("5a", 32))
	b.WriteString("[footer]\nenabled = false\n\n[policy]\ndefault_country = \"FR\"\n")
	for _, l := range [][3]string{{"company-deny", "email", "all"}, {"fr-dnc", "phone", "FR"}, {"domain-deny", "domain", "all"}, {"hashed-deny", "email-sha256", "all"}} {
		fmt.Fprintf(&b, "\n[[lists]]\nname = %q\nkind = %q\nmodel = \"deny\"\ncountries = [%q]\nmax_age = \"30d\"\nsource = \"test\"\n", l[0], l[1], l[2])
	}
	b.WriteString("\n[[caps]]\nname = \"recipient-30d\"\nscope = \"recipient\"\nlimit = 1000\nwindow = \"720h\"\n")
	b.WriteString("\n[[caps]]\nname = \"domain-day\"\nscope = \"recipient-domain\"\nlimit = 1000\nwindow = \"24h\"\n")
	b.WriteString("\n[[caps]]\nname = \"rep-day\"\nscope = \"rep\"\nlimit = 1000\nwindow = \"24h\"\ncount = \"recipients\"\n")
	return b.String()
}

// startRoundTripGateway runs the gateway in this process on a store whose
// round trips trips records; storeLine names the Redis.
func startRoundTripGateway(t *testing.T, storeLine string) (addr string, trips *tripLog) {
	t.Helper()
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr = ln.Addr().String()
	ln.Close()
	cfgPath := initConfig(t, dir, roundTripConfig(dir, addr, storeLine))
	files := map[string]string{
		"company-deny": "someone@firm.example.org\n", "fr-dnc": "06 12 34 56 78\n",
		"domain-deny": "deny.example.org\n", "hashed-deny": strings.Repeat("ab", 32) + "\n",
		"opt-out": "gone@firm.example.org\n",
	}
	for name, text := range files {
		dncgate(t, "", "lists", "import", name, writeFile(t, dir, name+".csv", text), "--config", cfgPath, "--force", "--by", "test").want(t, 0, "stdout")
	}
	dncgate(t, password+"\n", "users", "add", "rep@acme.test", "--config", cfgPath, "--password-stdin").want(t, 0, "stdout")
	contacts := "email,phone,country,type\nrcpt@example.net,+33 9 70 00 00 01,FR,business\n"
	dncgate(t, "", "contacts", "import", writeFile(t, dir, "contacts.csv", contacts), "--config", cfgPath, "--by", "test").want(t, 0, "stdout")

	cfg, st, key := openTestStore(t, cfgPath)
	trips = &tripLog{}
	st.(interface{ AddHook(redis.Hook) }).AddHook(trips)
	ctx, cancel := context.WithCancel(context.Background())
	if err := applyLists(ctx, cfg, st); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- runGateway(ctx, cfg, st, key, slog.New(slog.DiscardHandler), nil) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("gateway: %v", err)
		}
	})
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr, trips
		}
		if time.Now().After(deadline) {
			t.Fatalf("the gateway did not listen on %s", addr)
		}
	}
}

// sendOne sends a one-recipient message on c and returns the store's round
// trips from MAIL to the reply after the final dot.
func sendOne(t *testing.T, c *smtp.Client, trips *tripLog, i int) []string {
	t.Helper()
	trips.take()
	if err := c.Mail("rep@acme.test", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("rcpt@example.net", nil); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(w, "From: <rep@acme.test>\r\nTo: <rcpt@example.net>\r\nSubject: %d\r\nMessage-ID: <%d.rt@acme.test>\r\n\r\nHello %d.\r\n", i, i, i)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return trips.take()
}

// TestRedisRoundTripsPerMessage counts the round trips to Redis that one
// message to one recipient costs on the whole relay path: the recipient
// check, the cap reservation, the delivered markers and the caps' commit.
// Background reads (the lists' descriptions, once a second; on a cluster
// its slot map) fall into some messages; the fewest a message took is the
// path's own count. A lone session: no other shares a batched script run.
// On a cluster a round trip is one wave of commands, sent to the nodes
// that hold their keys in parallel.
func TestRedisRoundTripsPerMessage(t *testing.T) {
	for name, store := range map[string]func(t *testing.T) string{
		"node":    func(t *testing.T) string { return fmt.Sprintf("redis_url = \"redis://%s/0\"", testredis.Start(t)) },
		"cluster": func(t *testing.T) string { return fmt.Sprintf("redis_cluster = [%q]", testredis.StartCluster(t, 3)[0]) },
	} {
		t.Run(name, func(t *testing.T) { countRoundTrips(t, store(t)) })
	}
}

func countRoundTrips(t *testing.T, storeLine string) {
	addr, trips := startRoundTripGateway(t, storeLine)
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("client.test"); err != nil {
		t.Fatal(err)
	}
	sendOne(t, c, trips, 0) // the first reads what later ones find cached
	const n = 20
	counts := make([]int, n)
	var fewest []string
	total := 0
	for i := range n {
		got := sendOne(t, c, trips, i+1)
		counts[i] = len(got)
		total += len(got)
		if fewest == nil || len(got) < len(fewest) {
			fewest = got
		}
	}
	t.Logf("round trips per one-recipient message: fewest %d, mean %.2f over %d; the fewest:\n  %s",
		slices.Min(counts), float64(total)/n, n, strings.Join(fewest, "\n  "))
	if got := slices.Min(counts); got != wantRoundTrips {
		t.Errorf("a one-recipient message took %d round trips to Redis, want %d:\n  %s", got, wantRoundTrips, strings.Join(fewest, "\n  "))
	}
	if err := c.Quit(); err != nil && err != io.EOF {
		t.Log(err)
	}
}

// wantRoundTrips is the count README's "Scaling out on Redis" states: the
// contact, the lists, the caps' reservation, the delivered markers, and
// the held writes after the upstream's answer.
const wantRoundTrips = 5
