package e2e

import (
	"bytes"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dncgate/dncgate/internal/testredis"
	"github.com/dncgate/dncgate/webhook"
	"github.com/emersion/go-smtp"
)

const bounceDomain = "bounce.acme.test"

// returnPath is bounces+TOKEN@bounceDomain, TOKEN 39 characters of
// lower-case base32: a 47-octet local part, within the 64 of RFC 5321
// §4.5.3.1.1.
var returnPath = regexp.MustCompile(`^bounces\+[a-z2-7]{39}@` + regexp.QuoteMeta(bounceDomain) + `$`)

// TestBouncesEmbedded, TestBouncesRedis and TestBouncesCluster run the
// loop through the built binary on each store.
func TestBouncesEmbedded(t *testing.T) { checkBounces(t, "") }

func TestBouncesRedis(t *testing.T) {
	checkBounces(t, fmt.Sprintf("\n[store]\nbackend = \"redis\"\nredis_url = \"redis://%s/0\"\n\n[privacy]\nhmac_key = %q\n\n[unsubscribe]\nkeys_file = %q\n",
		testredis.Start(t), hmacKey, filepath.Join(t.TempDir(), "unsubscribe.keys")))
}

func TestBouncesCluster(t *testing.T) {
	checkBounces(t, fmt.Sprintf("\n[store]\nbackend = \"redis\"\nredis_cluster = [%q]\n\n[privacy]\nhmac_key = %q\n\n[unsubscribe]\nkeys_file = %q\n",
		testredis.StartCluster(t, 3)[0], hmacKey, filepath.Join(t.TempDir(), "unsubscribe.keys")))
}

// checkBounces: a copy goes out with its own return path and the rep's
// From:; its hard bounce (which names another address in its text) puts
// the token's recipient on the bounced list, and only them; the rep gets
// the bounce; forged and unknown tokens are refused; a replay changes
// nothing more; a complaint opts out, and the CRM's webhook hears of it.
func checkBounces(t *testing.T, extra string) {
	up := startUpstream(t)
	dir := t.TempDir()
	addr, bounceAddr := freeAddr(t), freeAddr(t)
	crm := &crmReceiver{ok: true, got: map[string]webhook.Event{}}
	srv := httptest.NewServer(crm)
	t.Cleanup(srv.Close)
	secret := filepath.Join(dir, "crm.secret")
	if err := os.WriteFile(secret, []byte(webhookSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	hooks := fmt.Sprintf("\n[[webhooks]]\nname = \"crm\"\nurl = %q\nsecret_file = %q\ntimeout = \"2s\"\n", srv.URL+"/hook", secret)
	cfg := writeConfig(t, dir, relayConfig(dir, addr, up.addr,
		fmt.Sprintf("\n[bounces]\ndomain = %q\nlisten = %q\nsoft_limit = 2\n%s%s", bounceDomain, bounceAddr, hooks, extra)))
	startGateway(t, addr, "--config", cfg)
	addUser(t, "rep@acme.test", "--config", cfg)

	rp := sendCopy(t, up, addr, "ghost@prospect.test", "first")
	dsn := hardBounce("other@prospect.test") // the text names someone else
	if err := deliverBounce(bounceAddr, rp, dsn); err != nil {
		t.Fatalf("the bounce: %v", err)
	}
	wantRefused(t, addr, "ghost@prospect.test", "[bounced]")
	sendCopy(t, up, addr, "other@prospect.test", "second") // the report's text decides nothing
	if n := bouncesTo(up, "rep@acme.test"); n != 1 {
		t.Fatalf("the rep has %d bounces, want 1", n)
	}
	csv := mustCLI(t, "", "log", "--format", "csv", "--config", cfg)
	if !strings.Contains(csv, "bounced") || !strings.Contains(csv, "hard 5.1.1") {
		t.Errorf("the ledger does not show the bounce:\n%s", csv)
	}

	// The same bounce again: taken, nothing more on the lists or in the log.
	if err := deliverBounce(bounceAddr, rp, dsn); err != nil {
		t.Fatalf("the replayed bounce: %v", err)
	}
	if again := mustCLI(t, "", "log", "--format", "csv", "--config", cfg); strings.Count(again, "hard 5.1.1") != strings.Count(csv, "hard 5.1.1") {
		t.Errorf("a replay changed the ledger:\n%s", again)
	}

	at := strings.IndexByte(rp, '@')
	last := "a"
	if rp[at-1] == 'a' {
		last = "b"
	}
	for what, rcpt := range map[string]string{
		"forged":  rp[:at-1] + last + rp[at:],
		"unknown": "bounces+" + strings.Repeat("a", 39) + "@" + bounceDomain,
		"older":   "bounces+" + strings.Repeat("a", 96) + "@" + bounceDomain,
	} {
		err := deliverBounce(bounceAddr, rcpt, hardBounce("ghost2@prospect.test"))
		var se *smtp.SMTPError
		if !asSMTPError(err, &se) || se.Code != 550 || se.EnhancedCode != (smtp.EnhancedCode{5, 1, 1}) {
			t.Errorf("%s token: %v, want 550 5.1.1", what, err)
		}
	}
	err := deliverBounce(bounceAddr, "someone@prospect.test", hardBounce("x@prospect.test"))
	var se *smtp.SMTPError
	if !asSMTPError(err, &se) || se.Code != 550 {
		t.Errorf("relaying through the bounce listener: %v, want 550", err)
	}

	// An admin takes the address off the bounced list once it works again.
	mustCLI(t, "", "lists", "remove", "bounced", "ghost@prospect.test", "--reason", "mailbox restored", "--config", cfg)
	sendCopy(t, up, addr, "ghost@prospect.test", "after-removal")

	rp = sendCopy(t, up, addr, "angry@prospect.test", "third")
	if err := deliverBounce(bounceAddr, rp, complaint("angry@prospect.test")); err != nil {
		t.Fatalf("the complaint: %v", err)
	}
	wantRefused(t, addr, "angry@prospect.test", "[opt-out]")
	if hist := mustCLI(t, "", "optout", "history", "angry@prospect.test", "--config", cfg); !strings.Contains(hist, "complaint") {
		t.Errorf("optout history after a complaint:\n%s", hist)
	}
	crm.wait(t, "the complaint's webhook", func() bool { return len(crm.got) == 1 })
	crm.mu.Lock()
	defer crm.mu.Unlock()
	if len(crm.bad) > 0 {
		t.Fatalf("the CRM refused: %v", crm.bad)
	}
	for _, ev := range crm.got {
		if ev.Type != webhook.OptOut || ev.Source != "complaint" || ev.Actor != "recipient" || ev.Address != "angry@prospect.test" || ev.Digest == "" {
			t.Fatalf("the complaint's event %+v", ev)
		}
	}
}

// sendCopy sends one message to rcpt and returns its copy's envelope sender.
func sendCopy(t *testing.T, up *upstream, addr, rcpt, subject string) string {
	t.Helper()
	if err := sendAs(addr, "rep@acme.test", "rep@acme.test", []string{rcpt}, message("rep@acme.test", rcpt, subject)); err != nil {
		t.Fatalf("sending to %s: %v", rcpt, err)
	}
	for _, d := range up.deliveries() {
		if len(d.To) == 1 && d.To[0] == rcpt && bytes.Contains(d.Data, []byte("Subject: "+subject)) {
			if !returnPath.MatchString(d.From) || strings.IndexByte(d.From, '@') > 64 {
				t.Fatalf("copy to %s: envelope sender %q, want bounces+TOKEN@%s, a local part of at most 64 octets", rcpt, d.From, bounceDomain)
			}
			if !bytes.Contains(d.Data, []byte("From: <rep@acme.test>")) {
				t.Fatalf("copy to %s: the From: field changed", rcpt)
			}
			return d.From
		}
	}
	t.Fatalf("no copy to %s at the upstream", rcpt)
	return ""
}

func wantRefused(t *testing.T, addr, rcpt, reason string) {
	t.Helper()
	err := sendAs(addr, "rep@acme.test", "rep@acme.test", []string{rcpt}, message("rep@acme.test", rcpt, "again"))
	var se *smtp.SMTPError
	if !asSMTPError(err, &se) || se.Code != 550 || !strings.Contains(se.Message, reason) {
		t.Fatalf("sending to %s again: %v, want 550 with %s", rcpt, err, reason)
	}
}

// bouncesTo counts the messages from the null path to rep at the upstream.
func bouncesTo(up *upstream, rep string) int {
	n := 0
	for _, d := range up.deliveries() {
		if d.From == "" && len(d.To) == 1 && d.To[0] == rep && bytes.Contains(d.Data, []byte("delivery-status")) {
			n++
		}
	}
	return n
}

// deliverBounce sends msg to the bounce listener from the null path.
func deliverBounce(addr, rcpt string, msg []byte) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Mail("", nil); err != nil {
		return err
	}
	if err := c.Rcpt(rcpt, nil); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	return w.Close()
}

func crlf(s string) []byte { return []byte(strings.ReplaceAll(s, "\n", "\r\n")) }

func hardBounce(named string) []byte {
	return crlf(`From: MAILER-DAEMON@mx.prospect.test
To: bounces@` + bounceDomain + `
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b"

--b
Content-Type: text/plain

<` + named + `>: 550 5.1.1 User unknown
--b
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.prospect.test

Final-Recipient: rfc822; ` + named + `
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 User unknown
--b--
`)
}

// complaint is an ARF report about the copy to rcpt.
func complaint(rcpt string) []byte {
	return crlf(`From: fbl@isp.test
To: bounces@` + bounceDomain + `
Subject: complaint
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="f"

--f
Content-Type: text/plain

A user marked this message as spam.
--f
Content-Type: message/feedback-report

Feedback-Type: abuse
Version: 1
User-Agent: isp-fbl/1.0
Original-Rcpt-To: <` + rcpt + `>
--f--
`)
}
