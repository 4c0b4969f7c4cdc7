package e2e

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/redis/go-redis/v9"

	"github.com/dncgate/dncgate/internal/testpg"
	"github.com/dncgate/dncgate/internal/testredis"
	"github.com/dncgate/dncgate/lists"
)

// The fault tests run a load of concurrent SMTP sessions through the
// built binary while a part fails, and end with one row of the fault
// table (README.md, Faults): nothing answered 250 may be missing upstream,
// no copy may reach a recipient that must be refused, no recipient may
// get a message twice by the gateway's doing.

const faultSessions = 6

// TestFaultRedisStopped: Redis stopped under the load fails every
// recipient 4xx; started again with its data, sending resumes without a
// restart of dncgate; started again empty, 451 4.3.0 (the store's
// identity is gone) until it is restarted from its dump.
func TestFaultRedisStopped(t *testing.T) {
	rs := testredis.StartServer(t)
	rc := redis.NewClient(&redis.Options{Addr: rs.Addr})
	defer rc.Close()
	dir := t.TempDir()
	up := startUpstream(t)
	addr := freeAddr(t)
	cfg := storeConfig(t, dir, addr, up.addr, redisTOML("redis://"+rs.Addr+"/0"))
	addUser(t, "rep@acme.test", "--config", cfg)
	out := optOutSome(t, cfg, 3)
	g := startGateway(t, addr, "--config", cfg)
	snap := dump(t, rc)

	l := startLoad(t, "rs", []string{addr}, faultSessions, out, nil)
	l.started(t)
	before := l.phase(1500 * time.Millisecond)
	// Only a message whose recipients were all checked while Redis was
	// down counts against it: one checked before may still end 250, under
	// load well after the stop.
	rs.Stop()
	stopped := time.Now()
	l.phase(1500 * time.Millisecond)
	restarted := time.Now()
	rs.Restart()
	again := l.phase(1500 * time.Millisecond)

	rs.Stop()
	putBack := rs.Empty()
	rs.Restart()
	emptied := time.Now()
	// Right after the restart the clients' pools may still be waiting to
	// dial again: AUTH then answers 454 (the user cannot be read), and a
	// mail client tries again, as this does for a while.
	var code int
	var text string
	var err error
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		code, text, err = rcptAfterLogin(addr, "ok@prospect.test", func() { restoreUsers(t, rc, snap) })
		var se *smtp.SMTPError
		if !asSMTPError(err, &se) || se.Code != 454 || time.Now().After(deadline) {
			break
		}
	}
	if err != nil || code != 451 || !strings.HasPrefix(text, "4.3.0") {
		t.Errorf("RCPT on the Redis restarted empty: %d %s (%v), want 451 4.3.0", code, text, err)
	}
	l.phase(1500 * time.Millisecond)
	waitLog(t, g, "store identity missing")
	rs.Stop()
	putBackAt := time.Now()
	putBack()
	rs.Restart()
	restored := l.phase(2 * time.Second)
	l.finish()
	down, empty := l.checkedWithin(stopped, restarted), l.checkedWithin(emptied, putBackAt)

	t.Logf("250s: %d before, %d stopped, %d started again, %d empty, %d restored from the dump", before, down, again, empty, restored)
	if before == 0 || again == 0 || restored == 0 {
		t.Errorf("sending did not go on: %d before, %d started again, %d restored", before, again, restored)
	}
	if down != 0 || empty != 0 {
		t.Errorf("%d messages got 250 with Redis stopped, %d with it empty; want none", down, empty)
	}
	l.tally("TestFaultRedisStopped", "Redis stopped, started, restarted empty, restored", up.deliveries(), isOptedOut, nil).check(t)
}

// TestFaultClusterFailover: a master of the Redis Cluster killed under the
// load, its replica promoted: a spell of 4xx, then sending goes on, and a
// recipient cap of 2 still lets no recipient get a third copy.
func TestFaultClusterFailover(t *testing.T) {
	cl := testredis.StartClusterWithReplicas(t, 3)
	dir := t.TempDir()
	up := startUpstream(t)
	addr := freeAddr(t)
	storeTOML := fmt.Sprintf("\n[store]\nbackend = \"redis\"\nredis_cluster = [%s]\n\n[privacy]\nhmac_key = %q\n"+
		"\n[[caps]]\nname = \"recipient-2\"\nscope = \"recipient\"\nlimit = 2\nwindow = \"1h\"\n",
		quoteAll(cl.Addrs()), hmacKey)
	cfg := storeConfig(t, dir, addr, up.addr, storeTOML)
	addUser(t, "rep@acme.test", "--config", cfg)
	out := optOutSome(t, cfg, 3)
	startGateway(t, addr, "--config", cfg)

	// Every message also goes to a recipient the sessions share, a new one
	// every third message: each is offered about 18 times against its cap
	// of 2, all along the load, the failover included.
	capped := func(w, n int) []string { return []string{fmt.Sprintf("capped%d@prospect.test", n/3)} }
	l := startLoad(t, "cl", []string{addr}, faultSessions, out, capped)
	l.started(t)
	before := l.phase(1500 * time.Millisecond)
	killed := time.Now()
	replica := cl.KillMaster(0)
	cl.WaitPromoted(replica, 20*time.Second)
	promoted := time.Since(killed)
	if _, ok := l.waitOK(20 * time.Second); !ok {
		l.finish()
		t.Fatalf("no message got 250 within 20s of the replica's promotion")
	}
	resumed := time.Since(killed)
	after := l.phase(2 * time.Second)
	l.finish()

	t.Logf("250s: %d before, %d after; replica promoted %s after the kill, sending resumed after %s",
		before, after, promoted.Round(time.Millisecond), resumed.Round(time.Millisecond))
	if before == 0 || after == 0 {
		t.Errorf("sending did not go on: %d before, %d after", before, after)
	}
	row := l.tally("TestFaultClusterFailover", "cluster master killed, replica promoted", up.deliveries(), isOptedOut, nil)
	for r, n := range up.count() {
		if strings.HasPrefix(r, "capped") && n > 2 {
			t.Errorf("%s got %d copies past its cap of 2", r, n)
			row.unchecked += n - 2
		}
	}
	row.check(t)
}

func quoteAll(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = strconv.Quote(v)
	}
	return strings.Join(q, ", ")
}

// TestFaultUpstream: the upstream fails a third of the transactions
// (4xx at RCPT and after DATA, connections dropped at RCPT and in DATA,
// slow answers, the copy stored and the connection dropped before the
// reply) and refuses some recipients 5xx. Every copy a 250 stands for is
// upstream; the client's retries reach each recipient once, except a copy
// stored without a reply, which no relay can know was delivered.
func TestFaultUpstream(t *testing.T) {
	sink := startFaultSink(t, randomFaults)
	dir := t.TempDir()
	addr := freeAddr(t)
	cfg := storeConfig(t, dir, addr, sink.addr, "")
	addUser(t, "rep@acme.test", "--config", cfg)
	out := optOutSome(t, cfg, 3)
	startGateway(t, addr, "--config", cfg)

	bad := func(w, n int) []string {
		if n%6 == 5 {
			return []string{fmt.Sprintf("bad-%d-%d@prospect.test", w, n)}
		}
		return nil
	}
	l := startLoad(t, "up", []string{addr}, faultSessions, out, bad)
	l.started(t)
	l.phase(4 * time.Second)
	l.finish()

	sink.mu.Lock()
	var kinds []string
	for f, name := range sinkFaultNames {
		if sink.done[f] == 0 {
			t.Errorf("the sink never injected %s", name)
		}
		kinds = append(kinds, fmt.Sprintf("%s %d", name, sink.done[f]))
	}
	sink.mu.Unlock()
	t.Logf("faults injected: %s; attempts answered 4xx %d, messages given up on a 5xx %d", strings.Join(kinds, ", "), l.tempfail.Load(), l.permfail.Load())
	if l.permfail.Load() == 0 {
		t.Errorf("no message was refused 5xx although the upstream refused bad-* recipients")
	}
	row := l.tally("TestFaultUpstream", "upstream 4xx, 5xx, drops, slow, stored without reply", sink.deliveries(), isOptedOut, sink.noReplies())
	row.check(t)
}

// killCaps counts every recipient in one org cap with a short hold, so
// that `caps show org` gives sends and live holds in one number; the
// ledger keeps the subject so that a copy can be matched to its record.
const killCaps = `data_timeout = "1s"

[[caps]]
name = "org-all"
scope = "org"
limit = 1000000
window = "1h"
count = "recipients"
hold = "2s"

[ledger]
store_subject = true
`

// TestFaultGatewayKilled: dncgate SIGKILL'd under the load and started
// again: every 250 is upstream, no cap hold outlives its expiry and the
// ledger holds a record for every copy sent.
func TestFaultGatewayKilled(t *testing.T) {
	t.Run("embedded", func(t *testing.T) { killScenario(t, "") })
	t.Run("redis", func(t *testing.T) { killScenario(t, redisTOML("redis://"+testredis.Start(t)+"/0")) })
}

var capCount = regexp.MustCompile(`(?m)^org-all\s+org\s+\S+\s+(\d+)\s`)

func killScenario(t *testing.T, storeTOML string) {
	dir := t.TempDir()
	up := startUpstream(t)
	addr := freeAddr(t)
	cfg := storeConfig(t, dir, addr, up.addr, killCaps+storeTOML)
	addUser(t, "rep@acme.test", "--config", cfg)
	out := optOutSome(t, cfg, 3)
	g := startGateway(t, addr, "--config", cfg)

	l := startLoad(t, "k"+strings.TrimPrefix(t.Name(), "TestFaultGatewayKilled/"), []string{addr}, faultSessions, out, nil)
	l.started(t)
	l.phase(1500 * time.Millisecond)
	g.cmd.Process.Kill()
	err := <-g.done
	g.done <- err
	startGateway(t, addr, "--config", cfg)
	if _, ok := l.waitOK(15 * time.Second); !ok {
		t.Errorf("no message got 250 within 15s of the restart")
	}
	after := l.phase(1500 * time.Millisecond)
	l.finish()
	if after == 0 {
		t.Errorf("no message got 250 after the restart")
	}
	row := l.tally(t.Name(), "dncgate SIGKILL'd and started again", up.deliveries(), isOptedOut, nil)
	// A copy the upstream took just before the kill, whose 250 the client
	// never got, is sent again by its retry: the stored-without-a-reply
	// case again, here at most one a recipient in flight.
	if row.dup <= 2*faultSessions {
		row.noReply, row.dup = row.dup, 0
	}
	row.check(t)

	// Holds taken by the killed process expire with their 2s.
	time.Sleep(2500 * time.Millisecond)
	m := capCount.FindStringSubmatch(mustCLI(t, "", "caps", "show", "org", "--config", cfg))
	if m == nil {
		t.Fatal("caps show org printed no org-all row")
	}
	count, _ := strconv.Atoi(m[1])
	t.Logf("org-all counts %d after the holds' expiry, for %d copies upstream", count, row.copies)
	if count > row.copies {
		t.Errorf("org-all counts %d once every hold expired, more than the %d copies sent: a hold outlived its expiry", count, row.copies)
	}

	// Every copy has its record in the ledger.
	records := ledgerRecords(t, cfg)
	missing := 0
	for _, d := range up.deliveries() {
		for _, to := range d.To {
			if isOptedOut(to) || strings.HasPrefix(to, "rep@") {
				continue
			}
			if !records[subjectOf(d.Data)+" "+lists.MaskEmail(to)] {
				missing++
			}
		}
	}
	if missing > 0 {
		t.Errorf("%d copies sent have no allowed record in the ledger", missing)
	}
}

// ledgerRecords reads the ledger through `dncgate log --format csv` and
// returns the allowed decisions as subject+" "+masked recipient; it fails
// the test when one decision is there twice.
func ledgerRecords(t *testing.T, cfg string) map[string]bool {
	t.Helper()
	// stdout alone: a ledger of this instance only says so on stderr.
	out, err := exec.Command(binary, "log", "--format", "csv", "--config", cfg).Output()
	if err != nil {
		t.Fatalf("dncgate log --format csv: %v", err)
	}
	rows, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
	if err != nil || len(rows) == 0 {
		t.Fatalf("dncgate log --format csv: %d rows, %v", len(rows), err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	seen := map[string]bool{}
	allowed := map[string]bool{}
	for _, r := range rows[1:] {
		id := r[col["time"]] + " " + r[col["ref"]] + " " + r[col["recipient"]]
		if seen[id] {
			t.Errorf("the ledger holds the decision %s twice", id)
		}
		seen[id] = true
		if r[col["verdict"]] == "allowed" {
			allowed[r[col["subject"]]+" "+r[col["recipient"]]] = true
		}
	}
	return allowed
}

// TestFaultLedgerDown: the PostgreSQL ledger stopped under the load: the
// spool takes the records, sending goes on, and once the ledger is back
// the spool is replayed, each record once.
func TestFaultLedgerDown(t *testing.T) {
	pg := testpg.Start(t)
	url := pg.NewDatabase(t)
	dir := t.TempDir()
	up := startUpstream(t)
	addr := freeAddr(t)
	cfg := storeConfig(t, dir, addr, up.addr, fmt.Sprintf("\n[ledger]\nurl = %q\nstore_subject = true\n", url))
	addUser(t, "rep@acme.test", "--config", cfg)
	out := optOutSome(t, cfg, 3)
	g := startGateway(t, addr, "--config", cfg)

	l := startLoad(t, "pg", []string{addr}, faultSessions, out, nil)
	l.started(t)
	before := l.phase(1500 * time.Millisecond)
	pg.Stop()
	down := l.phase(2 * time.Second)
	if fi, err := os.Stat(filepath.Join(dir, "ledger.spool")); err != nil || fi.Size() == 0 {
		t.Errorf("nothing spooled with the ledger down (%v)", err)
	}
	pg.Restart()
	start := time.Now()
	// The replay must end under the load: new writes go to the ledger
	// again once it answers, not behind the spool.
	for deadline := time.Now().Add(90 * time.Second); !strings.Contains(g.log.String(), "spooled records replayed"); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			l.finish()
			t.Fatalf("the spool was not replayed within 90s of the ledger's return, under the load:\n%s", g.log.String())
		}
	}
	t.Logf("spool replayed %s after the ledger's return", time.Since(start).Round(time.Millisecond))
	after := l.phase(time.Second)
	l.finish()
	t.Logf("250s: %d before, %d with the ledger down, %d after the replay", before, down, after)
	if down == 0 {
		t.Errorf("sending stopped with the ledger down: the spool should take the records")
	}
	row := l.tally("TestFaultLedgerDown", "ledger PostgreSQL stopped, then back", up.deliveries(), isOptedOut, nil)
	row.check(t)

	records := ledgerRecords(t, cfg)
	missing := 0
	for _, d := range up.deliveries() {
		for _, to := range d.To {
			if !isOptedOut(to) && !records[subjectOf(d.Data)+" "+lists.MaskEmail(to)] {
				missing++
			}
		}
	}
	if missing > 0 {
		t.Errorf("%d copies sent have no record in the ledger after the replay", missing)
	}
}
