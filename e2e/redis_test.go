package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/dncgate/dncgate/internal/testredis"
	"github.com/emersion/go-smtp"
	"github.com/redis/go-redis/v9"
)

const hmacKey = "4f1c2a9be03d5e6f7a8b9c0d1e2f30415263748596a7b8c9d0e1f20314253647"

// TestRedisInstancesShareState runs two gateway instances on one Redis: a user
// added by the CLI logs in on both, and a retry that lands on the other
// instance still reaches only the recipient that was missing.
func TestRedisInstancesShareState(t *testing.T) {
	redisAddr := testredis.Start(t)
	up := startUpstream(t)
	// Instances sharing a store share the unsubscribe keys too.
	extra := fmt.Sprintf("\n[store]\nbackend = \"redis\"\nredis_url = \"redis://%s/0\"\n\n[privacy]\nhmac_key = %q\n\n[unsubscribe]\nkeys_file = %q\n",
		redisAddr, hmacKey, filepath.Join(t.TempDir(), "unsubscribe.keys"))

	var addrs []string
	var cfgs []string
	for i := 0; i < 2; i++ {
		dir := t.TempDir()
		addr := freeAddr(t)
		addrs = append(addrs, addr)
		cfgs = append(cfgs, writeConfig(t, dir, relayConfig(dir, addr, up.addr, extra)))
	}
	for i := range addrs {
		startGateway(t, addrs[i], "--config", cfgs[i])
	}
	addUser(t, "rep@acme.test", "--config", cfgs[0])

	rcpts := []string{"a@prospect.test", "b@prospect.test"}
	body := message("rep@acme.test", "a@prospect.test", "shared")
	up.failNext("b@prospect.test", &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 4, 2}, Message: "busy"})
	err := sendAs(addrs[0], "rep@acme.test", "rep@acme.test", rcpts, body)
	var se *smtp.SMTPError
	if !asSMTPError(err, &se) || se.Code/100 != 4 {
		t.Fatalf("first attempt on instance 1: got %v, want a 4xx", err)
	}
	if err := sendAs(addrs[1], "rep@acme.test", "rep@acme.test", rcpts, body); err != nil {
		t.Fatalf("retry on instance 2: %v", err)
	}
	for _, r := range rcpts {
		if n := up.count()[r]; n != 1 {
			t.Errorf("%s received %d copies, want 1", r, n)
		}
	}
}

// TestRedisDownFailsClosed: with the store unreachable, nothing is sent and
// the client is told to retry.
func TestRedisDownFailsClosed(t *testing.T) {
	dir := t.TempDir()
	up := startUpstream(t)
	redisAddr := testredis.Start(t)
	addr := freeAddr(t)
	extra := fmt.Sprintf("\n[store]\nbackend = \"redis\"\nredis_url = \"redis://%s/0\"\n\n[privacy]\nhmac_key = %q\n", redisAddr, hmacKey)
	cfg := writeConfig(t, dir, relayConfig(dir, addr, up.addr, extra))
	addUser(t, "rep@acme.test", "--config", cfg)
	startGateway(t, addr, "--config", cfg)

	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Auth(plainAuth("rep@acme.test", password)); err != nil {
		t.Fatal(err)
	}
	// Take the store away mid-session.
	rc := redis.NewClient(&redis.Options{Addr: redisAddr})
	rc.ShutdownNoSave(context.Background())
	rc.Close()
	err = c.Mail("rep@acme.test", nil)
	if err == nil {
		if err = c.Rcpt("p@prospect.test", nil); err == nil {
			w, derr := c.Data()
			if derr == nil {
				w.Write(message("rep@acme.test", "p@prospect.test", "down"))
				err = w.Close()
			} else {
				err = derr
			}
		}
	}
	var se *smtp.SMTPError
	if !asSMTPError(err, &se) || se.Code/100 != 4 {
		t.Fatalf("with Redis down: got %v, want a 4xx reply", err)
	}
	if n := len(up.deliveries()); n != 0 {
		t.Fatalf("upstream received %d messages while the store was down", n)
	}
}
