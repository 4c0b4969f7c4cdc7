package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dncgate/dncgate/internal/testredis"
	"github.com/emersion/go-smtp"
)

// capConfig allows two mails per recipient in 30 days.
const capConfig = `
[[caps]]
name = "recipient-2"
scope = "recipient"
limit = 2
window = "720h"
`

const capRcpt = "p@prospect.test"

func TestCapsEmbedded(t *testing.T) {
	dir := t.TempDir()
	up := startUpstream(t)
	addr := freeAddr(t)
	cfg := writeConfig(t, dir, relayConfig(dir, addr, up.addr, capConfig))
	addUser(t, "rep@acme.test", "--config", cfg)
	startGateway(t, addr, "--config", cfg)
	checkCapScenario(t, up, []string{addr})
}

// TestCapsRedisTwoInstances: two instances on one Redis share the count, so
// sends alternating between them still reach the recipient twice only.
func TestCapsRedisTwoInstances(t *testing.T) {
	redisAddr := testredis.Start(t)
	up := startUpstream(t)
	// Instances sharing a store share the unsubscribe keys too.
	extra := fmt.Sprintf("\n[store]\nbackend = \"redis\"\nredis_url = \"redis://%s/0\"\n\n[privacy]\nhmac_key = %q\n%s\n[unsubscribe]\nkeys_file = %q\n",
		redisAddr, hmacKey, capConfig, filepath.Join(t.TempDir(), "unsubscribe.keys"))
	var addrs, cfgs []string
	for range 2 {
		dir := t.TempDir()
		addr := freeAddr(t)
		addrs = append(addrs, addr)
		cfgs = append(cfgs, writeConfig(t, dir, relayConfig(dir, addr, up.addr, extra)))
	}
	addUser(t, "rep@acme.test", "--config", cfgs[0])
	for i := range addrs {
		startGateway(t, addrs[i], "--config", cfgs[i])
	}
	checkCapScenario(t, up, addrs)
}

// checkCapScenario sends to one recipient through the gateways in turn: a
// send the upstream refuses takes no slot, two more are delivered, and the
// next is refused naming the cap.
func checkCapScenario(t *testing.T, up *upstream, addrs []string) {
	t.Helper()
	send := func(i int) error {
		subject := fmt.Sprintf("capped-%d", i)
		return sendAs(addrs[i%len(addrs)], "rep@acme.test", "rep@acme.test", []string{capRcpt},
			message("rep@acme.test", capRcpt, subject))
	}
	up.failNext(capRcpt, &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"})
	var se *smtp.SMTPError
	if err := send(0); !asSMTPError(err, &se) || se.Code != 550 {
		t.Fatalf("send refused upstream: got %v, want 550", err)
	}
	for i := 1; i <= 2; i++ {
		if err := send(i); err != nil {
			t.Fatalf("send %d within the cap: %v", i, err)
		}
	}
	err := send(3)
	if !asSMTPError(err, &se) || se.Code != 550 || se.EnhancedCode != (smtp.EnhancedCode{5, 7, 1}) {
		t.Fatalf("send over the cap: got %v, want 550 5.7.1", err)
	}
	// The listener drops and notifies (the default), so with its only
	// recipient refused the message is refused at the end of DATA.
	if want := "No recipient may be written to: <" + capRcpt + ">: cap recipient-2 reached (2 in 30 days); next slot "; !strings.HasPrefix(se.Message, want) {
		t.Fatalf("refusal %q does not start with %q", se.Message, want)
	}
	if n := up.count()[capRcpt]; n != 2 {
		t.Fatalf("%s received %d messages, want 2", capRcpt, n)
	}
}
