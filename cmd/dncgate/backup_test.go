package main

import (
	"context"
	"fmt"
	"github.com/dncgate/dncgate/ledger"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dncgate/dncgate/caps"
	"github.com/dncgate/dncgate/internal/testredis"
	"github.com/dncgate/dncgate/store/embedded"
	"github.com/dncgate/dncgate/unsubscribe"
)

// backupFill gives the store behind cfg something of every kind: a user,
// a list imported twice (two versions), an opt-out, contacts, a cap's
// send, and the unsubscribe keys with a link sealed for a recipient.
// It returns the link's token.
func backupFill(t *testing.T, cfgPath string) string {
	t.Helper()
	checkSetup(t, cfgPath)
	phones := writeFile(t, t.TempDir(), "be2.csv", "0470 12 34 56\n0470 99 99 99\n")
	dncgate(t, "", "lists", "import", "be-dncm", phones, "--config", cfgPath, "--force").want(t, 0, "stdout", "imported list be-dncm")
	dncgate(t, password+"\n", "users", "add", "rep@acme.test", "--config", cfgPath, "--password-stdin").want(t, 0, "stdout")
	cfg, st, _ := openTestStore(t, cfgPath)
	now := time.Now()
	slot := caps.Slot{Key: "cap-key", ID: "m1", Window: 24 * time.Hour, Hold: time.Minute}
	if _, err := st.Reserve(context.Background(), []caps.Request{{Slot: slot, Limit: 5}}, now); err != nil {
		t.Fatal(err)
	}
	if err := st.Commit(context.Background(), []caps.Slot{slot}, now); err != nil {
		t.Fatal(err)
	}
	keys, err := unsubscribe.LoadKeys(cfg.UnsubscribeKeysPath(), true, "acme")
	if err != nil {
		t.Fatal(err)
	}
	return keys.Ring.Seal("gone@firma.fr", keys.Org, now)
}

// backupCheckRestored asserts that the store behind cfgPath holds what
// backupFill put in the store backed up.
func backupCheckRestored(t *testing.T, cfgPath, tok string) {
	t.Helper()
	r := dncgate(t, "", "check", "--config", cfgPath, "jan@firma.be", "Gone+x@Firma.FR", "piet@firma.be")
	out := strings.Join(strings.Fields(r.stdout), " ")
	for _, want := range []string{
		"jan@firma.be refused list:be-dncm", "Gone+x@Firma.FR refused opt-out", "piet@firma.be allowed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("check after restore lacks %q:\n%s%s", want, r.stdout, r.stderr)
		}
	}
	dncgate(t, "", "users", "ls", "--config", cfgPath).want(t, 0, "stdout", "rep@acme.test")
	dncgate(t, "", "lists", "history", "be-dncm", "--config", cfgPath).want(t, 0, "stdout", "in force", "kept")
	dncgate(t, "", "contacts", "show", "jan@firma.be", "--config", cfgPath).want(t, 0, "stdout", "BE")
	cfg, st, _ := openTestStore(t, cfgPath)
	u, err := st.Usage(context.Background(), "cap-key", 5, 24*time.Hour, time.Now())
	if err != nil || u.Count != 1 {
		t.Errorf("cap usage after restore: %+v, %v; want a count of 1", u, err)
	}
	keys, err := unsubscribe.LoadKeys(cfg.UnsubscribeKeysPath(), false, "")
	if err != nil {
		t.Fatal(err)
	}
	if c, err := keys.Ring.Open(tok); err != nil || c.Recipient != "gone@firma.fr" {
		t.Errorf("the old unsubscribe link after restore: %+v, %v", c, err)
	}
}

// TestBackupRestoreEmbedded: a backup of a live embedded store restored
// into an empty data folder gives back every kind of record, the keys
// and the ledger; opt-outs still refuse and old links still open.
func TestBackupRestoreEmbedded(t *testing.T) {
	data := t.TempDir()
	cfgPath := initConfig(t, data, fmt.Sprintf("[server]\ndata_dir = %q\n", data)+beBusinessAllowed)
	tok := backupFill(t, cfgPath)
	archive := filepath.Join(t.TempDir(), "dncgate.bak")
	dncgate(t, "", "backup", archive, "--config", cfgPath).
		want(t, 0, "stdout", "format 1, embedded store", "store/dncgate.db", "keys/hmac.key", "keys/unsubscribe.keys",
			"ledger/ledger.db", "config/dncgate.toml", "table:users                      1")
	if fi, err := os.Stat(archive); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("archive: %v, %v; want mode 0600", fi, err)
	}
	dncgate(t, "", "backup", archive, "--config", cfgPath).want(t, 1, "stderr", "exists: give another name, or --force")
	dncgate(t, "", "backup", archive, "--config", cfgPath, "--force").want(t, 0, "stdout", "wrote")

	fresh := t.TempDir()
	dncgate(t, "", "restore", archive, "--config", cfgPath, "--data", fresh).
		want(t, 0, "stdout", "restored", filepath.Join(fresh, "dncgate.db"), filepath.Join(fresh, "hmac.key"), filepath.Join(fresh, "unsubscribe.keys"))
	restoredCfg := writeFile(t, t.TempDir(), "restored.toml", fmt.Sprintf("[server]\ndata_dir = %q\n", fresh)+beBusinessAllowed)
	backupCheckRestored(t, restoredCfg, tok)
	dncgate(t, "", "log", "--config", restoredCfg, "--since", "1h").want(t, 0, "stdout")

	// Both backups and the restore are in the audit trail; the restore
	// names the archive the second backup wrote.
	var backups []ledger.AuditEvent
	for _, e := range auditTrail(t, cfgPath) {
		if e.Action == ledger.ActBackup {
			backups = append(backups, e)
		}
	}
	if len(backups) != 2 || len(backups[1].Details["sha256"]) != 64 || backups[1].Details["encrypted"] != "false" || backups[1].Actor == "" {
		t.Fatalf("backup events %+v", backups)
	}
	restored := auditTrail(t, restoredCfg)
	last := restored[len(restored)-1]
	if last.Action != ledger.ActRestore || last.Details["sha256"] != backups[1].Details["sha256"] || last.Details["archive"] != "dncgate.bak" {
		t.Fatalf("the restored trail ends with %+v; want the restore of %s", last, backups[1].Details["sha256"])
	}
}

// TestRestoreRefusals: another store's identity, a running serve and an
// encrypted archive without its passphrase are refused and change
// nothing; --force takes the other store.
func TestRestoreRefusals(t *testing.T) {
	data := t.TempDir()
	cfgPath := initConfig(t, data, fmt.Sprintf("[server]\ndata_dir = %q\n", data))
	dncgate(t, "", "lists", "add", "opt-out", "gone@firma.fr", "--reason", "r", "--config", cfgPath).want(t, 0, "stdout")
	archive := filepath.Join(t.TempDir(), "a.bak")
	pass := writeFile(t, t.TempDir(), "pass", "correct horse\n")
	dncgate(t, "", "backup", archive, "--config", cfgPath, "--passphrase-file", pass).want(t, 0, "stdout", "encrypted (age, scrypt)")

	other := t.TempDir()
	otherCfg := initConfig(t, other, fmt.Sprintf("[server]\ndata_dir = %q\n", other))
	before, err := os.ReadFile(filepath.Join(other, "dncgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	dncgate(t, "", "restore", archive, "--config", otherCfg).
		want(t, 1, "stderr", "the archive is encrypted: give its passphrase", "nothing was written")
	dncgate(t, "", "restore", archive, "--config", otherCfg, "--passphrase-file", pass).
		want(t, 1, "stderr", "restore refused: the target store is", "--force replaces it", "nothing was written")
	unlock, err := embedded.LockServe(filepath.Join(other, "serve.lock"))
	if err != nil {
		t.Fatal(err)
	}
	dncgate(t, "", "restore", archive, "--config", otherCfg, "--passphrase-file", pass, "--force").
		want(t, 1, "stderr", "dncgate serve is running on "+other, "nothing was written")
	unlock()
	// A restore holds the lock alone: serve does not start meanwhile.
	unlock, err = embedded.LockRestore(filepath.Join(other, "serve.lock"))
	if err != nil {
		t.Fatal(err)
	}
	dncgate(t, "", "serve", "--config", otherCfg, "--listen", "127.0.0.1:0").want(t, 1, "stderr", "dncgate restore is running: start serve once it is done")
	unlock()
	if after, _ := os.ReadFile(filepath.Join(other, "dncgate.db")); string(after) != string(before) {
		t.Fatal("a refused restore changed the target store")
	}
	dncgate(t, "", "optout", "check", "gone@firma.fr", "--config", otherCfg).want(t, 0, "stdout", "not opted out")
	dncgate(t, "", "restore", archive, "--config", otherCfg, "--passphrase-file", pass, "--force").want(t, 0, "stdout", "restored")
	dncgate(t, "", "optout", "check", "gone@firma.fr", "--config", otherCfg).want(t, 1, "stdout", "gone@firma.fr: opted out")
}

// TestBackupRestoreRedis: a single node restored into an empty one, and a
// cluster restored onto itself after a change, give back what was backed
// up.
func TestBackupRestoreRedis(t *testing.T) {
	redisCfg := func(dir, where string) string {
		return writeFile(t, dir, "dncgate.toml", listsConfig(fmt.Sprintf("[server]\ndata_dir = %q\n\n[store]\nbackend = \"redis\"\n%s\n", dir, where)+beBusinessAllowed))
	}
	t.Run("node", func(t *testing.T) {
		src, dst := t.TempDir(), t.TempDir()
		cfgPath := redisCfg(src, fmt.Sprintf("redis_url = \"redis://%s/0\"", testredis.Start(t)))
		initStore(t, "--config", cfgPath)
		tok := backupFill(t, cfgPath)
		archive := filepath.Join(t.TempDir(), "r.bak")
		dncgate(t, "", "backup", archive, "--config", cfgPath).want(t, 0, "stdout", "format 1, redis store", "store/redis.keys", "redis:identity")
		dstCfg := redisCfg(dst, fmt.Sprintf("redis_url = \"redis://%s/0\"", testredis.Start(t)))
		dncgate(t, "", "restore", archive, "--config", dstCfg).want(t, 0, "stdout", "Redis keys written")
		backupCheckRestored(t, dstCfg, tok)
	})
	t.Run("cluster", func(t *testing.T) {
		dir := t.TempDir()
		cfgPath := redisCfg(dir, fmt.Sprintf("redis_cluster = [%q]", testredis.StartCluster(t, 3)[0]))
		initStore(t, "--config", cfgPath)
		tok := backupFill(t, cfgPath)
		archive := filepath.Join(t.TempDir(), "c.bak")
		dncgate(t, "", "backup", archive, "--config", cfgPath).want(t, 0, "stdout", "redis store")
		dncgate(t, "", "lists", "remove", "opt-out", "gone@firma.fr", "--reason", "by mistake", "--config", cfgPath).want(t, 0, "stdout")
		dncgate(t, "", "restore", archive, "--config", cfgPath).want(t, 0, "stdout", "Redis keys written")
		backupCheckRestored(t, cfgPath, tok)
	})
}
