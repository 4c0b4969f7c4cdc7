package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"
	"github.com/redis/go-redis/v9"

	"github.com/dncgate/dncgate/internal/testhaproxy"
	"github.com/dncgate/dncgate/internal/testredis"
)

// fleetCap allows three mails per recipient in 30 days.
const fleetCap = `
[[caps]]
name = "recipient-3"
scope = "recipient"
limit = 3
window = "720h"

[auth]
slow_after = 0
block_after = 3
`

// TestThreeInstancesBehindHAProxy runs three gateways on one 3-master
// Redis Cluster behind a real haproxy sending PROXY v2, and checks through
// the balancer that they act as one gateway: lists, opt-outs, caps, users
// and lock-outs are shared, and per-client limits see the real client.
// Every send goes through the balancer; consecutive connections land on
// different instances (round robin), told apart by their greetings.
//
// The instances reach Redis as a user with only the commands dncgateACL
// grants, on masters set as README advises (AOF, noeviction): they log
// no warning of the start-up check and no refused command.
func TestThreeInstancesBehindHAProxy(t *testing.T) {
	up := startUpstream(t)
	insts := startInstances(t, 3, up.addr, aclClusterTOML(t, testredis.StartCluster(t, 3))+footerDetails+fleetCap)
	lb := behindHAProxy(t, insts)
	noRedisWarnings(t, insts)

	t.Run("list import refuses on every instance", func(t *testing.T) { fleetListImport(t, up, lb, insts) })
	t.Run("one-click on one instance stops sends on the others", func(t *testing.T) { fleetOneClick(t, up, lb, insts) })
	t.Run("a cap holds across the instances", func(t *testing.T) { fleetCapHolds(t, up, lb, insts) })
	t.Run("lock-out is shared and per real client", func(t *testing.T) { fleetLockOut(t, lb, insts) })
	noRedisWarnings(t, insts)
}

// noRedisWarnings fails when an instance warned of the Redis settings at
// start or had a command refused by its ACL.
func noRedisWarnings(t *testing.T, insts []*instance) {
	t.Helper()
	for _, in := range insts {
		if log := in.log.String(); strings.Contains(log, `"msg":"redis `) || strings.Contains(log, "NOPERM") {
			t.Fatalf("%s warns of the Redis settings or its ACL:\n%s", in.name, log)
		}
	}
}

// dncgateACL is the ACL SETUSER rule of the Redis user dncgate needs, as
// README "Running several instances" gives it: its keys only, and the
// commands the store sends (connection set-up, the scripts and the
// commands they call, hashes, sets, sorted sets, the cluster's slot map
// and CONFIG GET for the start-up check).
var dncgateACL = strings.Fields(`on >dncgate-test-password resetkeys ~dncgate:* resetchannels -@all
	+hello +auth +ping +select +command +cluster|slots +config|get
	+evalsha +eval +get +del +unlink +exists +incr +decr +pexpire +pttl
	+hget +hgetall +hmget +hset +hdel +hexists +hincrby +hkeys +hvals
	+sadd +srem +smembers +lpush +lrange
	+zadd +zrem +zcard +zcount +zscore +zrangebyscore +zrevrangebyscore +zremrangebyscore`)

// aclClusterTOML makes the user dncgate on every master, turns on AOF
// with noeviction, and returns the [store] and [privacy] of a gateway
// that logs in as that user.
func aclClusterTOML(t *testing.T, addrs []string) string {
	t.Helper()
	ctx := context.Background()
	for _, a := range addrs {
		c := redis.NewClient(&redis.Options{Addr: a})
		err := c.Do(ctx, append([]any{"ACL", "SETUSER", "dncgate"}, anys(dncgateACL)...)...).Err()
		if err == nil {
			err = c.ConfigSet(ctx, "appendonly", "yes").Err()
		}
		c.Close()
		if err != nil {
			t.Fatalf("redis %s: %v", a, err)
		}
	}
	return fmt.Sprintf("\n[store]\nbackend = \"redis\"\nredis_cluster = [%q]\nredis_username = \"dncgate\"\nredis_password = \"dncgate-test-password\"\n\n[privacy]\nhmac_key = %q\n",
		addrs[0], hmacKey)
}

func anys(s []string) []any {
	a := make([]any, len(s))
	for i, v := range s {
		a[i] = v
	}
	return a
}

// sendOnEach sends to rcpt once through the balancer for each instance and
// returns the reply codes by instance name; it fails unless the sends
// landed on every instance.
func sendOnEach(t *testing.T, lb *testhaproxy.Proxy, insts []*instance, rcpt, subject string) map[string]*smtp.SMTPError {
	t.Helper()
	got := map[string]*smtp.SMTPError{}
	for i := range insts {
		greeting, err := sendFrom(lb.Addr("smtp"), "127.0.0.2", "rep@acme.test", []string{rcpt},
			message("rep@acme.test", rcpt, fmt.Sprintf("%s-%d", subject, i)))
		in := byName(t, insts, greeting)
		var se *smtp.SMTPError
		if err != nil && !asSMTPError(err, &se) {
			t.Fatalf("%s through %s: %v", subject, in.name, err)
		}
		got[in.name] = se
	}
	if len(got) != len(insts) {
		t.Fatalf("%d sends landed on %d instances, want one each", len(insts), len(got))
	}
	return got
}

// fleetListImport: a list imported through one instance's configuration
// (the CLI against the shared store) refuses at the next RCPT on each.
func fleetListImport(t *testing.T, up *upstream, lb *testhaproxy.Proxy, insts []*instance) {
	const rcpt = "boss@rival.example"
	file := filepath.Join(t.TempDir(), "deny.csv")
	if err := os.WriteFile(file, []byte(rcpt+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustCLI(t, "", "lists", "import", "company-deny", file, "--kind", "email", "--model", "deny", "--country", "all", "--config", insts[1].cfg)
	for name, se := range sendOnEach(t, lb, insts, rcpt, "listed") {
		if se == nil || se.Code != 550 || !strings.Contains(se.Message, "company-deny") {
			t.Errorf("%s: send to a listed recipient: %v, want 550 naming company-deny", name, se)
		}
	}
	if n := up.count()[rcpt]; n != 0 {
		t.Fatalf("the listed recipient received %d copies, want 0", n)
	}
}

// fleetOneClick: a one-click POST through the web balancer opts the
// recipient out on whichever instance takes it, and the next send through
// every instance is refused.
func fleetOneClick(t *testing.T, up *upstream, lb *testhaproxy.Proxy, insts []*instance) {
	const rcpt = "jean@prospect.fr"
	greeting, err := sendFrom(lb.Addr("smtp"), "127.0.0.2", "rep@acme.test", []string{rcpt}, message("rep@acme.test", rcpt, "first"))
	if err != nil {
		t.Fatalf("first send through %s: %v", greetingHost(greeting), err)
	}
	link := linkVia(t, up, rcpt, lb.Addr("web"))
	resp, err := http.Post(link, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("one-click POST through the balancer: %d, want 200", resp.StatusCode)
	}
	var took []string
	for _, in := range insts {
		if strings.Contains(in.log.String(), `"msg":"unsubscribed"`) {
			took = append(took, in.name)
		}
	}
	if len(took) != 1 {
		t.Fatalf("instances that logged the opt-out: %v, want exactly one", took)
	}
	for name, se := range sendOnEach(t, lb, insts, rcpt, "after-optout") {
		if se == nil || se.Code != 550 || !strings.Contains(se.Message, "opted out") {
			t.Errorf("%s (opt-out taken by %s): send after the opt-out: %v, want 550 naming the opt-out", name, took[0], se)
		}
	}
	if n := up.count()[rcpt]; n != 1 {
		t.Fatalf("%s received %d copies, want the 1 sent before the opt-out", rcpt, n)
	}
}

// linkVia finds rcpt's one-click link in the copy the upstream got and
// points it at the web balancer, as the public name's DNS record would.
func linkVia(t *testing.T, up *upstream, rcpt, web string) string {
	t.Helper()
	for _, d := range up.deliveries() {
		if d.To[0] != rcpt {
			continue
		}
		m, err := mail.ReadMessage(bytes.NewReader(d.Data))
		if err != nil {
			t.Fatal(err)
		}
		link := strings.Trim(strings.Split(m.Header.Get("List-Unsubscribe"), ",")[0], "<> ")
		if !strings.HasPrefix(link, unsubBase+"/") {
			t.Fatalf("%s's link %q is not under %s", rcpt, link, unsubBase)
		}
		return "http://" + web + strings.TrimPrefix(link, unsubBase)
	}
	t.Fatalf("no copy to %s reached the upstream", rcpt)
	return ""
}

// fleetCapHolds: with a cap of 3, four sends spread over the three
// instances deliver exactly three copies; the fourth is refused naming
// the cap, whichever instance takes it.
func fleetCapHolds(t *testing.T, up *upstream, lb *testhaproxy.Proxy, insts []*instance) {
	const rcpt = "p@prospect.test"
	seen := map[string]bool{}
	delivered, refused := 0, 0
	for i := range 4 {
		greeting, err := sendFrom(lb.Addr("smtp"), "127.0.0.2", "rep@acme.test", []string{rcpt}, message("rep@acme.test", rcpt, fmt.Sprintf("capped-%d", i)))
		name := byName(t, insts, greeting).name
		seen[name] = true
		var se *smtp.SMTPError
		switch {
		case err == nil:
			delivered++
		case asSMTPError(err, &se) && se.Code == 550 && strings.Contains(se.Message, "cap recipient-3 reached"):
			refused++
			if i != 3 {
				t.Fatalf("send %d through %s refused by the cap after %d delivered: %v", i, name, delivered, se)
			}
		default:
			t.Fatalf("send %d through %s: %v", i, name, err)
		}
	}
	if len(seen) != len(insts) {
		t.Fatalf("the sends landed on %v, want every instance", seen)
	}
	if delivered != 3 || refused != 1 {
		t.Fatalf("delivered %d, refused %d; want 3 and 1", delivered, refused)
	}
	if n := up.count()[rcpt]; n != 3 {
		t.Fatalf("the upstream received %d copies for %s, want 3", n, rcpt)
	}
}

// fleetLockOut: three wrong passwords from 127.0.0.2, one on each
// instance, lock that client out everywhere, even with the right password;
// 127.0.0.3 logs in through the same balancer. The instances' logs name
// the real clients, never the balancer's 127.0.0.1.
func fleetLockOut(t *testing.T, lb *testhaproxy.Proxy, insts []*instance) {
	addr := lb.Addr("smtp")
	failedOn := map[string]bool{}
	for i := range 3 {
		greeting, code := loginFrom(t, addr, "127.0.0.2", "rep@acme.test", "guess")
		if code != 535 {
			t.Fatalf("wrong password %d from 127.0.0.2 through %s: %d, want 535", i+1, greetingHost(greeting), code)
		}
		failedOn[greetingHost(greeting)] = true
	}
	if len(failedOn) != len(insts) {
		t.Fatalf("the failures landed on %v, want one on each instance", failedOn)
	}
	for range insts {
		if greeting, code := loginFrom(t, addr, "127.0.0.2", "rep@acme.test", password); code != 454 {
			t.Fatalf("right password from the locked-out 127.0.0.2 through %s: %d, want 454", greetingHost(greeting), code)
		}
		if greeting, code := loginFrom(t, addr, "127.0.0.3", "rep@acme.test", password); code != 235 {
			t.Fatalf("right password from 127.0.0.3 through %s: %d, want 235", greetingHost(greeting), code)
		}
	}
	for _, in := range insts {
		// A session's log line may follow its reply by a moment.
		for _, want := range []string{`"msg":"auth failed"`, `"client":"127.0.0.2"`, `"client":"127.0.0.3"`} {
			waitLog(t, in.gateway, want)
		}
		if log := in.log.String(); strings.Contains(log, `"client":"127.0.0.1"`) {
			t.Errorf("%s's log names the balancer's 127.0.0.1 as a client:\n%s", in.name, log)
		}
	}
}
