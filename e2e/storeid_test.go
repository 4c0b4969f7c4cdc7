package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/redis/go-redis/v9"

	"github.com/dncgate/dncgate/internal/testredis"
)

// storeConfig is a gateway that refuses at RCPT, on the store storeTOML
// describes ("" for the embedded store in dir).
func storeConfig(t *testing.T, dir, addr, upAddr, storeTOML string) string {
	t.Helper()
	return writeConfig(t, dir, fmt.Sprintf(`
[server]
hostname = "gw.test"
data_dir = %q

[[listener]]
name = "strict"
address = %q
tls = "none"
on_refusal = "reject"

[upstream]
url = "smtp://%s"
%s`, dir, addr, upAddr, storeTOML))
}

func redisTOML(url string) string {
	return fmt.Sprintf("\n[store]\nbackend = \"redis\"\nredis_url = %q\n\n[privacy]\nhmac_key = %q\n", url, hmacKey)
}

func clusterTOML(addrs []string) string {
	return fmt.Sprintf("\n[store]\nbackend = \"redis\"\nredis_cluster = [%q]\n\n[privacy]\nhmac_key = %q\n", addrs[0], hmacKey)
}

// rcptReply sends one message to rcpt and returns the reply code of the
// first refusal (RCPT or DATA), 250 when it went through.
func rcptReply(addr, rcpt, subject string) (int, string, error) {
	err := sendAs(addr, "rep@acme.test", "rep@acme.test", []string{rcpt}, message("rep@acme.test", rcpt, subject))
	if err == nil {
		return 250, "", nil
	}
	var se *smtp.SMTPError
	if asSMTPError(err, &se) {
		return se.Code, fmt.Sprintf("%d.%d.%d %s", se.EnhancedCode[0], se.EnhancedCode[1], se.EnhancedCode[2], se.Message), nil
	}
	return 0, "", err
}

func wantReply(t *testing.T, addr, rcpt, subject string, code int, enhanced string) {
	t.Helper()
	got, text, err := rcptReply(addr, rcpt, subject)
	if err != nil {
		t.Fatalf("%s to %s: %v", subject, rcpt, err)
	}
	if got != code || !strings.HasPrefix(text, enhanced) {
		t.Fatalf("%s to %s: %d %s, want %d %s", subject, rcpt, got, text, code, enhanced)
	}
}

// keySnapshot is every key of a Redis (or cluster) as DUMP gives it.
type keySnapshot map[string]string

func masters(c redis.UniversalClient, f func(*redis.Client) error) error {
	ctx := context.Background()
	if cc, ok := c.(*redis.ClusterClient); ok {
		return cc.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error { return f(n) })
	}
	return f(c.(*redis.Client))
}

// dump takes a snapshot of every key, as a backup would.
func dump(t *testing.T, c redis.UniversalClient) keySnapshot {
	t.Helper()
	var mu sync.Mutex
	snap := keySnapshot{}
	err := masters(c, func(n *redis.Client) error {
		ctx := context.Background()
		iter := n.Scan(ctx, 0, "*", 1000).Iterator()
		for iter.Next(ctx) {
			v, err := n.Dump(ctx, iter.Val()).Result()
			if err != nil {
				return err
			}
			mu.Lock()
			snap[iter.Val()] = v
			mu.Unlock()
		}
		return iter.Err()
	})
	if err != nil || len(snap) == 0 {
		t.Fatalf("dump: %d keys, %v", len(snap), err)
	}
	return snap
}

// restore writes a snapshot back, the identity record last: a Redis
// restored from its dump file comes back whole at start, and a gateway
// that saw the identity before the lists' keys were back would be testing
// a half-restored store, not the restore.
func restore(t *testing.T, c redis.UniversalClient, snap keySnapshot) {
	t.Helper()
	var last []string
	for k, v := range snap {
		if strings.Contains(k, "identity:") {
			last = append(last, k)
			continue
		}
		if err := c.RestoreReplace(context.Background(), k, 0, v).Err(); err != nil {
			t.Fatalf("restore %s: %v", k, err)
		}
	}
	for _, k := range last {
		if err := c.RestoreReplace(context.Background(), k, 0, snap[k]).Err(); err != nil {
			t.Fatalf("restore %s: %v", k, err)
		}
	}
}

func flushAll(t *testing.T, c redis.UniversalClient) {
	t.Helper()
	if err := masters(c, func(n *redis.Client) error { return n.FlushAll(context.Background()).Err() }); err != nil {
		t.Fatal(err)
	}
}

// TestStoreEmptiedFailsClosed is the Redis restarted empty: once the store
// is flushed under the running gateway, every recipient gets 451 4.3.0
// (the opted-out one included), commands refuse the store and a new serve
// does not start; restored from a dump, the gateway answers as before.
func TestStoreEmptiedFailsClosed(t *testing.T) {
	t.Run("redis", func(t *testing.T) {
		a := testredis.Start(t)
		emptiedScenario(t, redisTOML("redis://"+a+"/0"), redis.NewClient(&redis.Options{Addr: a}))
	})
	t.Run("cluster", func(t *testing.T) {
		addrs := testredis.StartCluster(t, 3)
		emptiedScenario(t, clusterTOML(addrs), redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs}))
	})
}

func emptiedScenario(t *testing.T, storeTOML string, rc redis.UniversalClient) {
	defer rc.Close()
	dir := t.TempDir()
	up := startUpstream(t)
	addr := freeAddr(t)
	cfg := storeConfig(t, dir, addr, up.addr, storeTOML)
	addUser(t, "rep@acme.test", "--config", cfg)
	mustCLI(t, "", "optout", "add", "gone@prospect.test", "--reason", "asked by phone", "--config", cfg)
	g := startGateway(t, addr, "--config", cfg)

	wantReply(t, addr, "ok@prospect.test", "before", 250, "")
	wantReply(t, addr, "gone@prospect.test", "before-optout", 550, "5.7.1")
	snap := dump(t, rc)
	flushAll(t, rc)
	// AUTH reads the users, gone too: log in before asking for a
	// recipient, through a session opened before the flush.
	for _, rcpt := range []string{"ok@prospect.test", "gone@prospect.test"} {
		code, text, err := rcptAfterLogin(addr, rcpt, func() { restoreUsers(t, rc, snap) })
		if err != nil {
			t.Fatal(err)
		}
		if code != 451 || !strings.HasPrefix(text, "4.3.0") {
			t.Fatalf("RCPT %s on the emptied store: %d %s, want 451 4.3.0", rcpt, code, text)
		}
	}
	waitLog(t, g, "store identity missing")
	out, code := cli(t, "", "optout", "check", "gone@prospect.test", "--config", cfg)
	if code != 2 || !strings.Contains(out, "holds data but no identity record") {
		t.Fatalf("optout check on the emptied store: exit %d:\n%s", code, out)
	}
	flushAll(t, rc)
	out, code = cli(t, "", "check", "gone@prospect.test", "--config", cfg)
	if code != 2 || !strings.Contains(out, "holds no dncgate store") || !strings.Contains(out, "dncgate init") {
		t.Fatalf("check on the empty store: exit %d:\n%s", code, out)
	}
	out, code = cli(t, "", "serve", "--config", cfg, "--listen", freeAddr(t))
	if code == 0 || !strings.Contains(out, "holds no dncgate store") {
		t.Fatalf("serve on the empty store: exit %d:\n%s", code, out)
	}

	restore(t, rc, snap)
	wantReply(t, addr, "ok@prospect.test", "restored", 250, "")
	wantReply(t, addr, "gone@prospect.test", "restored-optout", 550, "5.7.1")
	if n := up.count()["gone@prospect.test"]; n != 0 {
		t.Fatalf("the opted-out address received %d copies", n)
	}
	if n := up.count()["ok@prospect.test"]; n != 2 {
		t.Fatalf("the allowed address received %d copies, want 2 (before and after)", n)
	}
}

// restoreUsers puts the users back alone, so that AUTH passes while the
// lists and the identity stay gone.
func restoreUsers(t *testing.T, rc redis.UniversalClient, snap keySnapshot) {
	t.Helper()
	users := keySnapshot{}
	for k, v := range snap {
		if strings.Contains(k, "{users}") {
			users[k] = v
		}
	}
	restore(t, rc, users)
}

// rcptAfterLogin restores the users (before), logs in and returns the
// reply to RCPT rcpt.
func rcptAfterLogin(addr, rcpt string, before func()) (int, string, error) {
	before()
	c, err := smtp.Dial(addr)
	if err != nil {
		return 0, "", err
	}
	defer c.Close()
	if err := c.Hello("client.test"); err != nil {
		return 0, "", err
	}
	if err := c.Auth(plainAuth("rep@acme.test", password)); err != nil {
		return 0, "", err
	}
	if err := c.Mail("rep@acme.test", nil); err != nil {
		return 0, "", err
	}
	err = c.Rcpt(rcpt, nil)
	var se *smtp.SMTPError
	if !asSMTPError(err, &se) {
		return 250, "", err
	}
	return se.Code, fmt.Sprintf("%d.%d.%d %s", se.EnhancedCode[0], se.EnhancedCode[1], se.EnhancedCode[2], se.Message), nil
}

// TestStoreKeyAndPlace covers the store restored without its key and the
// command run against the wrong place, on the embedded store.
func TestStoreKeyAndPlace(t *testing.T) {
	dir := t.TempDir()
	up := startUpstream(t)
	addr := freeAddr(t)
	cfg := storeConfig(t, dir, addr, up.addr, "")
	mustCLI(t, "", "optout", "add", "gone@prospect.test", "--reason", "asked by phone", "--config", cfg)

	// A mistyped --data: no store, exit 2, nothing created there.
	other := filepath.Join(t.TempDir(), "typo")
	for _, args := range [][]string{
		{"check", "gone@prospect.test"}, {"optout", "check", "gone@prospect.test"}, {"lists", "ls"}, {"users", "ls"},
	} {
		out, code := cli(t, "", append(args, "--data", other)...)
		if code != 2 || !strings.Contains(out, filepath.Join(other, "dncgate.db")) || !strings.Contains(out, "dncgate init") {
			t.Fatalf("%v --data %s: exit %d, want 2 naming the path:\n%s", args, other, code, out)
		}
	}
	if _, err := os.Stat(other); !os.IsNotExist(err) {
		t.Fatalf("a command created %s (%v)", other, err)
	}

	// Restored without hmac.key: refused, and no new key is made.
	keyFile := filepath.Join(dir, "hmac.key")
	key, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(keyFile)
	// optout check cannot answer (2); serve and init fail (1).
	for _, args := range [][]string{{"optout", "check", "gone@prospect.test"}, {"serve", "--listen", addr}, {"init"}} {
		out, code := cli(t, "", append(args, "--config", cfg)...)
		want := map[bool]int{true: 2, false: 1}[args[0] == "optout"]
		if code != want || !strings.Contains(out, keyFile+" is missing") {
			t.Fatalf("%v without hmac.key: exit %d:\n%s", args, code, out)
		}
	}
	if _, err := os.Stat(keyFile); !os.IsNotExist(err) {
		t.Fatalf("hmac.key was created again (%v)", err)
	}
	// Another key: refused too.
	os.WriteFile(keyFile, []byte(hmacKey+"\n"), 0o600)
	out, code := cli(t, "", "optout", "check", "gone@prospect.test", "--config", cfg)
	if code != 2 || !strings.Contains(out, "is not the key this store was created with") {
		t.Fatalf("optout check with another key: exit %d:\n%s", code, out)
	}
	os.WriteFile(keyFile, key, 0o600)
	if out, code := cli(t, "", "optout", "check", "gone@prospect.test", "--config", cfg); code != 1 || !strings.Contains(out, ": opted out") {
		t.Fatalf("optout check with the key restored: exit %d, want 1:\n%s", code, out)
	}
}

// TestStoreWrongKeyRedis: a Redis instance given another hmac_key, and a
// command run on another database number, are refused.
func TestStoreWrongKeyRedis(t *testing.T) {
	a := testredis.Start(t)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, redisTOML("redis://"+a+"/0"))
	mustCLI(t, "", "optout", "add", "gone@prospect.test", "--reason", "asked by phone", "--config", cfg)
	otherKey := strings.Replace(redisTOML("redis://"+a+"/0"), hmacKey, strings.Repeat("ab", 32), 1)
	bad := filepath.Join(dir, "other.toml")
	os.WriteFile(bad, []byte(otherKey), 0o600)
	out, code := cli(t, "", "check", "gone@prospect.test", "--config", bad)
	if code != 2 || !strings.Contains(out, "is not the key this store was created with") {
		t.Fatalf("check with another hmac_key: exit %d:\n%s", code, out)
	}
	db1 := filepath.Join(dir, "db1.toml")
	os.WriteFile(db1, []byte(redisTOML("redis://"+a+"/1")), 0o600)
	out, code = cli(t, "", "check", "gone@prospect.test", "--config", db1)
	if code != 2 || !strings.Contains(out, a+"/1 holds no dncgate store") {
		t.Fatalf("check on database 1: exit %d:\n%s", code, out)
	}
}

// TestReadOnlyCommandsWriteNoLists: `check --config other.toml` with
// [[lists]] must not create them in the shared store.
func TestReadOnlyCommandsWriteNoLists(t *testing.T) {
	a := testredis.Start(t)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, redisTOML("redis://"+a+"/0"))
	other := filepath.Join(dir, "other.toml")
	os.WriteFile(other, []byte(redisTOML("redis://"+a+"/0")+`
[[lists]]
name = "gb-tps"
kind = "email"
model = "clearance"
countries = ["GB"]
`), 0o600)
	for _, args := range [][]string{{"check", "p@prospect.co.uk"}, {"lists", "ls"}, {"optout", "check", "p@prospect.co.uk"}, {"config", "check"}} {
		out, code := cli(t, "", append(args, "--config", other)...)
		if code != 0 && code != 1 {
			t.Fatalf("%v: exit %d:\n%s", args, code, out)
		}
	}
	if out := mustCLI(t, "", "lists", "ls", "--config", cfg); strings.Contains(out, "gb-tps") {
		t.Fatalf("a read-only command created the other file's list:\n%s", out)
	}
}

// TestUnsubscribeKeysMissing: once the gateway stamped links, a missing
// unsubscribe key file stops serve instead of being made again.
func TestUnsubscribeKeysMissing(t *testing.T) {
	dir := t.TempDir()
	up := startUpstream(t)
	addr := freeAddr(t)
	cfg := storeConfig(t, dir, addr, up.addr, "")
	g := startGateway(t, addr, "--config", cfg)
	if err := g.stop(t); err != nil {
		t.Fatal(err)
	}
	keys := filepath.Join(dir, "unsubscribe.keys")
	if err := os.Remove(keys); err != nil {
		t.Fatalf("serve with the footer on made no %s: %v", keys, err)
	}
	out, code := cli(t, "", "serve", "--config", cfg)
	if code != 1 || !strings.Contains(out, keys+" is missing") {
		t.Fatalf("serve without the unsubscribe keys: exit %d:\n%s", code, out)
	}
	if _, err := os.Stat(keys); !os.IsNotExist(err) {
		t.Fatalf("the key file was made again (%v)", err)
	}
}

// TestLoadFlushAndRestore sends to allowed and opted-out recipients from
// several clients while the Redis store is flushed, then restored from a
// dump: no copy may reach an opted-out recipient, and no 250 may stand
// for a copy the upstream did not get.
func TestLoadFlushAndRestore(t *testing.T) {
	ra := testredis.Start(t)
	rc := redis.NewClient(&redis.Options{Addr: ra})
	defer rc.Close()
	dir := t.TempDir()
	up := startUpstream(t)
	addr := freeAddr(t)
	cfg := storeConfig(t, dir, addr, up.addr, redisTOML("redis://"+ra+"/0"))
	addUser(t, "rep@acme.test", "--config", cfg)
	const optedOut = 5
	for i := range optedOut {
		mustCLI(t, "", "optout", "add", fmt.Sprintf("out%d@prospect.test", i), "--reason", "asked by phone", "--config", cfg)
	}
	startGateway(t, addr, "--config", cfg)
	snap := dump(t, rc)

	var (
		stop          atomic.Bool
		mu            sync.Mutex
		acked         = map[string][]string{} // subject → recipients accepted, for a DATA answered 250
		sent, refused atomic.Int64
	)
	// Each client logs in once (bcrypt is slow by design) and sends
	// message after message in its session, as a mail client would.
	var wg, ready sync.WaitGroup
	for w := range 6 {
		wg.Add(1)
		ready.Add(1)
		go func() {
			defer wg.Done()
			c, err := login(addr)
			ready.Done()
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			for n := 0; !stop.Load(); n++ {
				subject := fmt.Sprintf("w%d-%d", w, n)
				rcpts := []string{fmt.Sprintf("in%d-%d@prospect.test", w, n), fmt.Sprintf("out%d@prospect.test", n%optedOut)}
				got, err := sendEach(c, subject, rcpts)
				if err != nil {
					refused.Add(1)
					if c.Reset() != nil {
						t.Errorf("the session broke: %v", err)
						return
					}
					time.Sleep(5 * time.Millisecond)
					continue
				}
				sent.Add(1)
				mu.Lock()
				acked[subject] = got
				mu.Unlock()
			}
		}()
	}
	ready.Wait()
	phase := func(d time.Duration) int64 { n := sent.Load(); time.Sleep(d); return sent.Load() - n }
	before := phase(1500 * time.Millisecond)
	flushAll(t, rc)
	refusedBefore := refused.Load()
	during := phase(1500 * time.Millisecond)
	refusedDuring := refused.Load() - refusedBefore
	restore(t, rc, snap)
	after := phase(2 * time.Second)
	stop.Store(true)
	wg.Wait()

	t.Logf("messages answered 250: %d before the flush, %d while flushed (%d refused), %d after the restore", before, during, refusedDuring, after)
	if before == 0 || after == 0 {
		t.Fatalf("no message went through before the flush (%d) or after the restore (%d)", before, after)
	}
	if refusedDuring == 0 {
		t.Fatalf("nothing was refused while the store was flushed")
	}
	copies := map[string]int{}
	for _, d := range up.deliveries() {
		for _, to := range d.To {
			if strings.HasPrefix(to, "out") {
				t.Errorf("an opted-out recipient, %s, received a copy", to)
			}
			copies[subjectOf(d.Data)+" "+to]++
		}
	}
	missing := 0
	for subject, rcpts := range acked {
		for _, r := range rcpts {
			if strings.HasPrefix(r, "out") {
				t.Errorf("%s: RCPT %s was accepted", subject, r)
			}
			if copies[subject+" "+r] == 0 {
				missing++
			}
		}
	}
	if missing > 0 {
		t.Fatalf("%d recipients of messages answered 250 got no copy upstream", missing)
	}
}

// login opens an authenticated session.
func login(addr string) (*smtp.Client, error) {
	c, err := smtp.Dial(addr)
	if err != nil {
		return nil, err
	}
	if err := c.Hello("client.test"); err != nil {
		c.Close()
		return nil, err
	}
	if err := c.Auth(plainAuth("rep@acme.test", password)); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// sendEach sends one message in session c, offering every recipient and
// skipping those refused at RCPT; it returns those accepted when DATA got
// 250, and an error when the message was not accepted at all.
func sendEach(c *smtp.Client, subject string, rcpts []string) ([]string, error) {
	if err := c.Mail("rep@acme.test", nil); err != nil {
		return nil, err
	}
	var ok []string
	for _, r := range rcpts {
		if err := c.Rcpt(r, nil); err == nil {
			ok = append(ok, r)
		}
	}
	if len(ok) == 0 {
		return nil, fmt.Errorf("every recipient refused")
	}
	w, err := c.Data()
	if err != nil {
		return nil, err
	}
	w.Write(message("rep@acme.test", ok[0], subject))
	if err := w.Close(); err != nil {
		return nil, err
	}
	return ok, nil
}

// subjectOf is the Subject of a raw message.
func subjectOf(data []byte) string {
	for _, line := range strings.Split(string(data), "\r\n") {
		if s, ok := strings.CutPrefix(line, "Subject: "); ok {
			return s
		}
	}
	return ""
}

// TestEmbeddedStoreReplacedFailsClosed: the embedded store given another
// identity under the running gateway (re-created by another process)
// stops every recipient until the gateway is restarted on purpose.
func TestEmbeddedStoreReplacedFailsClosed(t *testing.T) {
	dir := t.TempDir()
	up := startUpstream(t)
	addr := freeAddr(t)
	cfg := storeConfig(t, dir, addr, up.addr, "")
	addUser(t, "rep@acme.test", "--config", cfg)
	g := startGateway(t, addr, "--config", cfg)
	wantReply(t, addr, "ok@prospect.test", "before", 250, "")
	mustCLI(t, "", "init", "--force", "--config", cfg)
	wantReply(t, addr, "ok@prospect.test", "replaced", 451, "4.3.0")
	waitLog(t, g, "store identity changed")
	if n := up.count()["ok@prospect.test"]; n != 1 {
		t.Fatalf("the upstream received %d copies, want 1 (before only)", n)
	}
}

// waitLog waits until the gateway logged text: a refusal's line may come
// just after its reply.
func waitLog(t *testing.T, g *gateway, text string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(g.log.String(), text); {
		if time.Now().After(deadline) {
			t.Fatalf("the gateway did not log %q:\n%s", text, g.log.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
