package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dncgate/dncgate/internal/testredis"
)

// The soak's bounds: after the load, each instance must come back to
// within these of the baseline measured after a warm-up.
const (
	soakSessions      = 200
	soakGoroutinesTol = 20       // goroutines above the baseline
	soakFDsTol        = 10       // open file descriptors above the baseline
	soakRSSTol        = 64 << 20 // resident memory above the baseline, bytes
	soakSettle        = 30 * time.Second
)

// soakDuration is DNCGATE_SOAK, a Go duration (make soak sets 5m); 30s in
// the regular suite.
func soakDuration(t *testing.T) time.Duration {
	v := os.Getenv("DNCGATE_SOAK")
	if v == "" {
		return 30 * time.Second
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		t.Fatalf("DNCGATE_SOAK=%q: want a duration such as 5m or 30s", v)
	}
	return d
}

func soakConfig(dir, addr, web, upAddr, redisAddr, keys string) string {
	return fmt.Sprintf(`
[server]
hostname = "gw.test"
data_dir = %q

[[listener]]
name = "soak"
address = %q
tls = "none"
on_refusal = "reject"
  [[listener.trusted]]
  network = "127.0.0.1"
  identity = "rep@acme.test"

[upstream]
url = "smtp://%s"
idle_timeout = "1s"

[limits]
max_conns_per_ip = 0

[web]
listen = %q

[store]
backend = "redis"
redis_url = "redis://%s/0"

[privacy]
hmac_key = %q

[unsubscribe]
keys_file = %q
`, dir, addr, upAddr, web, redisAddr, hmacKey, keys)
}

// usage is what the soak watches of one instance.
type usage struct{ rss, goroutines, fds int64 }

func (u usage) String() string {
	return fmt.Sprintf("RSS %d MiB, %d goroutines, %d fds", u.rss>>20, u.goroutines, u.fds)
}

func measure(t *testing.T, g *gateway, web string) usage {
	t.Helper()
	pid := g.cmd.Process.Pid
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	code, body := httpGet(t, "http://"+web+"/metrics", "")
	if code != 200 {
		t.Fatalf("scrape of %s: %d", web, code)
	}
	return usage{rss: procStatusBytes(t, pid, "VmRSS"), goroutines: int64(parseMetrics(t, body).value("go_goroutines")), fds: int64(len(fds))}
}

func (u usage) within(base usage) bool {
	return u.goroutines <= base.goroutines+soakGoroutinesTol && u.fds <= base.fds+soakFDsTol && u.rss <= base.rss+soakRSSTol
}

// TestSoak runs 200 concurrent SMTP sessions through two instances on one
// Redis for DNCGATE_SOAK (30s by default): nothing lost, unchecked or
// doubled, and once the load stops each instance's memory, goroutines and
// open files come back to their baseline (within the tolerances above).
func TestSoak(t *testing.T) {
	d := soakDuration(t)
	ra := testredis.Start(t)
	up := startUpstream(t)
	keys := filepath.Join(t.TempDir(), "unsubscribe.keys")
	var addrs, webs, cfgs []string
	for range 2 {
		dir := t.TempDir()
		addr, web := freeAddr(t), freeAddr(t)
		addrs, webs = append(addrs, addr), append(webs, web)
		cfgs = append(cfgs, writeConfig(t, dir, soakConfig(dir, addr, web, up.addr, ra, keys)))
	}
	addUser(t, "rep@acme.test", "--config", cfgs[0])
	out := optOutSome(t, cfgs[0], 5)
	gws := []*gateway{startGateway(t, addrs[0], "--config", cfgs[0]), startGateway(t, addrs[1], "--config", cfgs[1])}

	// Warm-up at full concurrency: the bounded pools (Redis connections,
	// idle upstream connections), caches and the runtime reach their
	// resting size, so that what the long run adds on top is a leak.
	warm := newLoad(addrs, out, nil)
	warm.dial = trustedDial
	warm.start(t, "warm", soakSessions)
	warm.phase(3 * time.Second)
	warm.finish()
	time.Sleep(3 * time.Second) // idle upstream connections close after 1s
	base := make([]usage, 2)
	for i := range gws {
		base[i] = measure(t, gws[i], webs[i])
	}

	l := newLoad(addrs, out, nil)
	l.dial = trustedDial
	l.start(t, "soak", soakSessions)
	peak := make([]usage, 2)
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(time.Second) {
		for i := range gws {
			u := measure(t, gws[i], webs[i])
			peak[i] = usage{max(peak[i].rss, u.rss), max(peak[i].goroutines, u.goroutines), max(peak[i].fds, u.fds)}
		}
	}
	l.finish()
	stopped := time.Now()

	for i := range gws {
		var u usage
		for {
			u = measure(t, gws[i], webs[i])
			if u.within(base[i]) || time.Since(stopped) > soakSettle {
				break
			}
			time.Sleep(500 * time.Millisecond)
		}
		t.Logf("instance %d: baseline %s; peak %s; %s after the load (%s later)", i+1, base[i], peak[i], u, time.Since(stopped).Round(100*time.Millisecond))
		if !u.within(base[i]) {
			t.Errorf("instance %d did not come back to its baseline within %s: %s, baseline %s (tolerance +%d goroutines, +%d fds, +%d MiB)",
				i+1, soakSettle, u, base[i], soakGoroutinesTol, soakFDsTol, soakRSSTol>>20)
		}
		if peak[i].goroutines < base[i].goroutines+soakSessions/4 {
			t.Errorf("instance %d peaked at %d goroutines: the %d sessions did not reach it", i+1, peak[i].goroutines, soakSessions)
		}
	}
	l.tally("TestSoak", fmt.Sprintf("none: %d sessions, two instances, %s", soakSessions, d), up.deliveries(), isOptedOut, nil).check(t)
}
