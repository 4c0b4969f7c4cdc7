package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

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
