package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/dncgate/dncgate/config"
	"github.com/dncgate/dncgate/contactdb"
	"github.com/dncgate/dncgate/internal/testredis"
	"github.com/dncgate/dncgate/listdb"
	"github.com/dncgate/dncgate/lists"
	"github.com/dncgate/dncgate/unsubscribe"
)

// optoutKey is the digest key of these tests' configurations.
const optoutKey = "6f70742d6f75742d746573742d6b65792d6f662d33322d62797465732d2d2d2d"

func optoutConfig(t *testing.T, storeTOML string) string {
	t.Helper()
	return initConfig(t, t.TempDir(), fmt.Sprintf("%s\n\n[privacy]\nhmac_key = %q\n", storeTOML, optoutKey))
}

func emailDigest(key []byte, addr string) listdb.Digest {
	norm, err := lists.NormaliseEmail(addr)
	if err != nil {
		panic(err)
	}
	return listdb.Key(key, lists.KindEmail.String(), norm)
}

// importContact stores one CRM contact for addr, as contacts import would.
func importContact(t *testing.T, cfgPath, addr string) {
	t.Helper()
	_, st, key := openTestStore(t, cfgPath)
	ctx := context.Background()
	w, err := st.Contacts().BeginImport(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	rec := contactdb.Record{Email: emailDigest(key, addr), Contact: contactdb.Contact{Country: "FR", Type: contactdb.TypeBusiness}}
	if err := w.Add(ctx, []contactdb.Record{rec}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(ctx, contactdb.Version{Rows: 1, Valid: 1}); err != nil {
		t.Fatal(err)
	}
}

func hasContact(t *testing.T, cfgPath, addr string) bool {
	t.Helper()
	_, st, key := openTestStore(t, cfgPath)
	_, found, err := st.Contacts().Contact(context.Background(), emailDigest(key, addr))
	if err != nil {
		t.Fatal(err)
	}
	return found
}

func checkOptoutCommands(t *testing.T, cfg string) {
	dncgate(t, "", "optout", "check", "Jeanne@Acme.fr", "--config", cfg).want(t, 0, "stdout", "jeanne@acme.fr: not opted out")
	dncgate(t, "", "optout", "add", "jeanne+news@acme.fr", "--config", cfg).want(t, 2, "stderr", "--reason")
	r := dncgate(t, "", "optout", "add", "jeanne+news@acme.fr", "--config", cfg, "--reason", "asked by phone", "--by", "admin1")
	r.want(t, 0, "stdout", "jeanne@acme.fr: opted out (by admin1)")
	r.want(t, 0, "stderr", "opted out by an admin", "j***@acme.fr", "asked by phone")
	if strings.Contains(r.stderr, "jeanne") {
		t.Errorf("the log names the address:\n%s", r.stderr)
	}
	dncgate(t, "", "optout", "check", "JEANNE@acme.fr", "--config", cfg).want(t, 1, "stdout", "jeanne@acme.fr: opted out")
	dncgate(t, "", "optout", "check", "not-an-address", "--config", cfg).want(t, 2, "stderr", "not-an-address")

	importContact(t, cfg, "paul@acme.fr")
	r = dncgate(t, "", "optout", "erase", "Paul@acme.fr", "--config", cfg, "--reason", "erasure request 2026-42")
	r.want(t, 0, "stdout", "p***@acme.fr: opted out; CRM contact record: deleted; recipient cap counts reset: 0; kept: the keyed digest on the opt-out list")
	if hasContact(t, cfg, "paul@acme.fr") {
		t.Error("erase left the contact record")
	}
	dncgate(t, "", "optout", "check", "paul@acme.fr", "--config", cfg).want(t, 1, "stdout", "paul@acme.fr: opted out")
	// Erasing again, or someone the store never knew, still leaves a tombstone.
	dncgate(t, "", "optout", "erase", "paul@acme.fr", "--config", cfg, "--reason", "again").want(t, 0, "stdout", "CRM contact record: none held")
}

// TestOptoutEraseForgetsCapCounts: erase resets the person's counts in
// recipient caps and leaves other keys' counts alone.
func TestOptoutEraseForgetsCapCounts(t *testing.T) {
	cfg := initConfig(t, t.TempDir(), capsConfig(fmt.Sprintf("[store]\npath = %q", filepath.Join(t.TempDir(), "dncgate.db"))))
	now := time.Now().UTC()
	sendAs(t, cfg, "rep@acme.test", "ann@prospect.fr", "m1", now)
	sendAs(t, cfg, "rep@acme.test", "bob@prospect.fr", "m2", now)
	if got := row(t, dncgate(t, "", "caps", "show", "ann@prospect.fr", "--config", cfg).stdout, "recipient-30d"); got[3] != "1" {
		t.Fatalf("before erase, ann's recipient cap row %v, want count 1", got)
	}
	dncgate(t, "", "optout", "erase", "Ann@prospect.fr", "--config", cfg, "--reason", "erasure request").
		want(t, 0, "stdout", "recipient cap counts reset: 1")
	if got := row(t, dncgate(t, "", "caps", "show", "ann@prospect.fr", "--config", cfg).stdout, "recipient-30d"); got[3] != "0" {
		t.Errorf("after erase, ann's recipient cap row %v, want count 0", got)
	}
	if got := row(t, dncgate(t, "", "caps", "show", "bob@prospect.fr", "--config", cfg).stdout, "recipient-30d"); got[3] != "1" {
		t.Errorf("erasing ann changed bob's count: row %v", got)
	}
	if got := row(t, dncgate(t, "", "caps", "show", "rep@acme.test", "--config", cfg).stdout, "rep-day"); got[3] != "2" {
		t.Errorf("erasing ann changed the rep's count: row %v", got)
	}
}

// checkEraseResetsEverySpelling: sends to two spellings of one person
// fill their recipient cap (limit 2), every spelling shows the count, and
// erasing a third spelling resets it for all of them.
func checkEraseResetsEverySpelling(t *testing.T, storeTOML string) {
	cfg := initConfig(t, t.TempDir(), capsConfig(storeTOML))
	now := time.Now().UTC()
	sendAs(t, cfg, "rep@acme.test", "Jean.Dupont+1@gmail.com", "m1", now)
	sendAs(t, cfg, "rep@acme.test", "jeandupont@googlemail.com", "m2", now)
	spellings := []string{"j.e.a.n.dupont+promo@GMAIL.com", "JeanDupont@gmail.com", "jean.dupont+2@googlemail.com"}
	for _, s := range spellings {
		if got := row(t, dncgate(t, "", "caps", "show", s, "--config", cfg).stdout, "recipient-30d"); got[2] != "jeandupont@gmail.com" || got[3] != "2" {
			t.Fatalf("before erase, caps show %s: row %v, want jeandupont@gmail.com at 2", s, got)
		}
	}
	dncgate(t, "", "optout", "erase", spellings[0], "--config", cfg, "--reason", "erasure request").
		want(t, 0, "stdout", "recipient cap counts reset: 1")
	for _, s := range append(spellings, "Jean.Dupont+1@gmail.com", "jeandupont@googlemail.com") {
		if got := row(t, dncgate(t, "", "caps", "show", s, "--config", cfg).stdout, "recipient-30d"); got[3] != "0" {
			t.Errorf("after erase, caps show %s: row %v, want count 0", s, got)
		}
	}
	dncgate(t, "", "optout", "check", "jean.dupont+x@googlemail.com", "--config", cfg).want(t, 1, "stdout", "jeandupont@gmail.com: opted out")
}

func TestOptoutEraseResetsEverySpellingEmbedded(t *testing.T) {
	checkEraseResetsEverySpelling(t, fmt.Sprintf("[store]\npath = %q", filepath.Join(t.TempDir(), "dncgate.db")))
}

func TestOptoutEraseResetsEverySpellingRedis(t *testing.T) {
	checkEraseResetsEverySpelling(t, fmt.Sprintf("[store]\nbackend = \"redis\"\nredis_url = \"redis://%s/0\"", testredis.Start(t)))
}

func TestOptoutCommandsEmbedded(t *testing.T) {
	checkOptoutCommands(t, optoutConfig(t, fmt.Sprintf("[store]\npath = %q", filepath.Join(t.TempDir(), "dncgate.db"))))
}

func TestOptoutCommandsRedis(t *testing.T) {
	checkOptoutCommands(t, optoutConfig(t, fmt.Sprintf("[store]\nbackend = \"redis\"\nredis_url = \"redis://%s/0\"", testredis.Start(t))))
}

// TestOptOutSide starts what serve starts for recipients (the unsubscribe
// handler and the mailto listener) and checks both opt out on the store
// the optout command reads.
func TestOptOutSide(t *testing.T) {
	dir := t.TempDir()
	cfgPath := optoutConfig(t, fmt.Sprintf(`[store]
path = %q

[web]
listen = "127.0.0.1:0"

[unsubscribe]
org = "acme"
keys_file = %q
mailto_domain = "unsub.acme.test"
mailto_listen = "127.0.0.1:0"`, filepath.Join(dir, "dncgate.db"), filepath.Join(dir, "unsubscribe.keys")))
	cfg, st, key := openTestStore(t, cfgPath)
	side, err := startOptOut(context.Background(), cfg, st, key, slog.New(slog.DiscardHandler), make(chan error, 1), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer side.stop(context.Background())
	if len(side.mounts) != 2 || side.mounts[0].Pattern != unsubscribe.PathPrefix || side.mounts[1].Pattern != unsubscribe.PrivacyPath || side.mailto == nil {
		t.Fatalf("serve would mount %+v and mailto %v", side.mounts, side.mailto)
	}
	page := httptest.NewServer(side.mounts[1].Handler)
	defer page.Close()
	presp, err := http.Get(page.URL + unsubscribe.PrivacyPath + "?lang=fr")
	if err != nil {
		t.Fatal(err)
	}
	pbody, _ := io.ReadAll(presp.Body)
	presp.Body.Close()
	if presp.StatusCode != http.StatusOK || !strings.Contains(string(pbody), "<li>opt-out: recipients who unsubscribed") || !strings.Contains(string(pbody), "Comment nous utilisons") {
		t.Errorf("privacy page: %s\n%s", presp.Status, pbody)
	}
	web := httptest.NewServer(side.mounts[0].Handler)
	defer web.Close()
	resp, err := http.Post(web.URL+unsubscribe.PathPrefix+sealFor(t, cfg, "web@acme.fr"), "application/x-www-form-urlencoded",
		strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("one-click POST: %s", resp.Status)
	}
	rcpt := "unsubscribe+" + sealFor(t, cfg, "mail@acme.fr") + "@unsub.acme.test"
	mailUnsubscribe(t, side.mailto.Addr().String(), rcpt)
	for _, a := range []string{"web@acme.fr", "mail@acme.fr"} {
		dncgate(t, "", "optout", "check", a, "--config", cfgPath).want(t, 1, "stdout", a+": opted out")
	}
}

func sealFor(t *testing.T, cfg *config.Config, rcpt string) string {
	t.Helper()
	kr, err := unsubscribe.LoadKeyring(cfg.UnsubscribeKeysPath(), false)
	if err != nil {
		t.Fatal(err)
	}
	return kr.Seal(rcpt, cfg.UnsubscribeOrg(), time.Now())
}

// mailUnsubscribe sends an unsubscribe mail to rcpt in plain SMTP, as a
// mail provider without TLS would.
func mailUnsubscribe(t *testing.T, addr, rcpt string) {
	t.Helper()
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Mail("mail@acme.fr", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt(rcpt, nil); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("Subject: unsubscribe\r\n\r\n"))
	if err := w.Close(); err != nil {
		t.Fatalf("mailto: %v", err)
	}
}
