package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/dncgate/dncgate/internal/testcert"
	"github.com/dncgate/dncgate/internal/testredis"
)

// TestRedisSettingsChecked: init and serve read maxmemory-policy and
// persistence on the Redis server and warn, one line each naming the
// node and what to set; good settings give no warning; a user whose ACL
// refuses CONFIG is told the check could not run. None stops the gateway.
func TestRedisSettingsChecked(t *testing.T) {
	addr := testredis.Start(t) // save "" and appendonly no
	rc := redis.NewClient(&redis.Options{Addr: addr})
	defer rc.Close()
	ctx := context.Background()
	set := func(kv ...string) {
		t.Helper()
		for i := 0; i < len(kv); i += 2 {
			if err := rc.ConfigSet(ctx, kv[i], kv[i+1]).Err(); err != nil {
				t.Fatal(err)
			}
		}
	}
	up := startUpstream(t)
	dir := t.TempDir()
	writeRedisConfig := func(url string) (cfg, smtpAddr string) {
		smtpAddr = freeAddr(t)
		cfg = filepath.Join(dir, "dncgate.toml")
		if err := os.WriteFile(cfg, []byte(relayConfig(dir, smtpAddr, up.addr, redisTOML(url))), 0o600); err != nil {
			t.Fatal(err)
		}
		return cfg, smtpAddr
	}
	evicting := "redis " + addr + ": maxmemory-policy is allkeys-lru, which drops keys when memory is full"
	volatile := "redis " + addr + ": no persistence (appendonly no, save \"\")"

	set("maxmemory-policy", "allkeys-lru")
	cfg, smtpAddr := writeRedisConfig("redis://" + addr + "/0")
	out := mustCLI(t, "", "init", "--config", cfg)
	for _, w := range []string{evicting, volatile} {
		if !strings.Contains(out, "dncgate: warning: "+w) {
			t.Errorf("init does not warn %q:\n%s", w, out)
		}
	}
	g := startGateway(t, smtpAddr, "--config", cfg)
	for _, w := range []string{evicting, volatile} {
		if !strings.Contains(g.log.String(), `"level":"WARN","msg":"`+strings.ReplaceAll(w, `"`, `\"`)) {
			t.Errorf("serve does not warn %q:\n%s", w, g.log.String())
		}
	}
	g.stop(t)

	set("maxmemory-policy", "noeviction", "appendonly", "yes")
	if out := mustCLI(t, "", "init", "--config", cfg); strings.Contains(out, "warning") {
		t.Errorf("init with noeviction and AOF warns:\n%s", out)
	}

	if err := rc.Do(ctx, "ACL", "SETUSER", "gw", "on", ">gw-secret-pass", "~*", "+@all", "-config").Err(); err != nil {
		t.Fatal(err)
	}
	cfg, smtpAddr = writeRedisConfig("redis://gw:gw-secret-pass@" + addr + "/0")
	refused := "redis " + addr + ": could not check maxmemory-policy and persistence (NOPERM"
	if out := mustCLI(t, "", "init", "--config", cfg); !strings.Contains(out, "dncgate: warning: "+refused) {
		t.Errorf("init as a user without CONFIG does not say the check could not run:\n%s", out)
	}
	g = startGateway(t, smtpAddr, "--config", cfg)
	if !strings.Contains(g.log.String(), refused) {
		t.Errorf("serve as a user without CONFIG does not say the check could not run:\n%s", g.log.String())
	}
	addUser(t, "rep@acme.test", "--config", cfg)
	if err := sendAs(smtpAddr, "rep@acme.test", "rep@acme.test", []string{"p@prospect.test"}, message("rep@acme.test", "p@prospect.test", "acl")); err != nil {
		t.Fatalf("a send through the gateway whose check could not run: %v", err)
	}
	if n := up.count()["p@prospect.test"]; n != 1 {
		t.Fatalf("the upstream received %d copies, want 1", n)
	}
}

// TestRedisOverTLS: a gateway on rediss:// with the authority in
// redis_ca_file creates its store, relays and refuses an opted-out
// recipient over TLS; without the authority it does not start.
func TestRedisOverTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, caFile := testcert.New(t).WriteFiles(t, dir)
	addr := testredis.StartTLS(t, certFile, keyFile, caFile)
	up := startUpstream(t)
	smtpAddr := freeAddr(t)
	store := fmt.Sprintf("\n[store]\nbackend = \"redis\"\nredis_url = \"rediss://%s/0\"\nredis_ca_file = %q\n\n[privacy]\nhmac_key = %q\n", addr, caFile, hmacKey)
	cfg := storeConfig(t, dir, smtpAddr, up.addr, store)
	addUser(t, "rep@acme.test", "--config", cfg)
	mustCLI(t, "", "optout", "add", "gone@prospect.test", "--reason", "asked", "--config", cfg)
	startGateway(t, smtpAddr, "--config", cfg)
	wantReply(t, smtpAddr, "ok@prospect.test", "tls-1", 250, "")
	wantReply(t, smtpAddr, "gone@prospect.test", "tls-2", 550, "5.7.1")
	if n := up.count()["ok@prospect.test"]; n != 1 {
		t.Fatalf("the upstream received %d copies, want 1", n)
	}

	noCA := filepath.Join(t.TempDir(), "dncgate.toml")
	text := relayConfig(filepath.Dir(noCA), freeAddr(t), up.addr, strings.Replace(store, fmt.Sprintf("redis_ca_file = %q\n", caFile), "", 1))
	if err := os.WriteFile(noCA, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, code := cli(t, "", "lists", "ls", "--config", noCA); code == 0 || !strings.Contains(out, "certificate") {
		t.Fatalf("rediss:// without the authority: exit %d, want a failure naming the certificate:\n%s", code, out)
	}
}
