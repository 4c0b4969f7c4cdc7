package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/dncgate/dncgate/internal/testredis"
)

// eachBackend runs f on the embedded store, a redis-server and a 3-master
// cluster. storeTOML is the [store] and [privacy] part of a configuration;
// wipe empties the store behind dncgate's back, or with all false deletes
// only its identity record.
func eachBackend(t *testing.T, f func(t *testing.T, storeTOML string, wipe func(all bool))) {
	t.Run("embedded", func(t *testing.T) {
		data := t.TempDir()
		db := filepath.Join(data, "dncgate.db")
		f(t, fmt.Sprintf("[server]\ndata_dir = %q\n", data), func(all bool) {
			if all {
				os.Remove(db)
				return
			}
			c, err := sql.Open("sqlite", db)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, err := c.Exec("DELETE FROM identity"); err != nil {
				t.Fatal(err)
			}
		})
	})
	key := fmt.Sprintf("\n[privacy]\nhmac_key = %q\n", capsKey)
	t.Run("redis", func(t *testing.T) {
		addr := testredis.Start(t)
		f(t, fmt.Sprintf("[store]\nbackend = \"redis\"\nredis_url = \"redis://%s/0\"\n%s", addr, key), func(all bool) {
			c := redis.NewClient(&redis.Options{Addr: addr})
			defer c.Close()
			if !all {
				c.Del(context.Background(), identityKey)
				return
			}
			c.FlushAll(context.Background())
		})
	})
	t.Run("cluster", func(t *testing.T) {
		addrs := testredis.StartCluster(t, 3)
		f(t, fmt.Sprintf("[store]\nbackend = \"redis\"\nredis_cluster = [%q]\n%s", addrs[0], key), func(all bool) {
			c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
			defer c.Close()
			if !all {
				c.Del(context.Background(), identityKey)
				return
			}
			c.ForEachMaster(context.Background(), func(ctx context.Context, n *redis.Client) error { return n.FlushAll(ctx).Err() })
		})
	})
}

// identityKey is the Redis store's identity record, default prefix.
const identityKey = "dncgate:identity:{opt-out}"

// TestInitAndIdentity: init creates the store once; commands find it,
// refuse it once emptied, and refuse another key; init refuses a store
// with data but no identity unless forced.
func TestInitAndIdentity(t *testing.T) {
	eachBackend(t, func(t *testing.T, storeTOML string, wipe func(bool)) {
		dir := t.TempDir()
		cfg := writeFile(t, dir, "dncgate.toml", storeTOML)
		dncgate(t, "", "lists", "ls", "--config", cfg).want(t, 2, "stderr", "dncgate init")
		dncgate(t, "", "init", "--config", cfg).want(t, 0, "stdout", "created store")
		dncgate(t, "", "init", "--config", cfg).want(t, 0, "stdout", "store exists")
		dncgate(t, "", "optout", "add", "gone@prospect.test", "--reason", "asked", "--config", cfg).want(t, 0, "stdout")
		dncgate(t, "", "optout", "check", "gone@prospect.test", "--config", cfg).want(t, 1, "stdout", "opted out")

		// Another key: every command refuses, and so does init.
		otherKey := strings.Repeat("cd", 32)
		other := writeFile(t, dir, "other.toml", storeTOML+fmt.Sprintf("\n[privacy]\nhmac_key = %q\n", otherKey))
		if strings.Contains(storeTOML, capsKey) {
			other = writeFile(t, dir, "other.toml", strings.Replace(storeTOML, capsKey, otherKey, 1))
		}
		dncgate(t, "", "optout", "check", "gone@prospect.test", "--config", other).want(t, 2, "stderr", "is not the key this store was created with")
		dncgate(t, "", "init", "--config", other).want(t, 1, "stderr", "is not the key this store was created with")

		// A read-only command with other [[lists]] declares nothing.
		decl := writeFile(t, dir, "decl.toml", storeTOML+"\n[[lists]]\nname = \"gb-tps\"\nkind = \"email\"\nmodel = \"deny\"\ncountries = [\"GB\"]\n")
		dncgate(t, "", "check", "p@prospect.co.uk", "--config", decl).want(t, 0, "stdout", "allowed")
		if r := dncgate(t, "", "lists", "ls", "--config", cfg); r.code != 0 || strings.Contains(r.stdout, "gb-tps") {
			t.Fatalf("a read-only command declared a list (exit %d):\n%s", r.code, r.stdout)
		}

		// The identity alone gone (keys evicted, a store from before
		// identities): commands and init refuse; init --force records one.
		wipe(false)
		dncgate(t, "", "optout", "check", "gone@prospect.test", "--config", cfg).want(t, 2, "stderr", "holds data but no identity record")
		dncgate(t, "", "init", "--config", cfg).want(t, 1, "stderr", "holds data but no identity record", "dncgate init --force")
		dncgate(t, "", "init", "--force", "--config", cfg).want(t, 0, "stdout", "created store")
		dncgate(t, "", "optout", "check", "gone@prospect.test", "--config", cfg).want(t, 1, "stdout", "opted out")

		// Emptied: no store until init.
		wipe(true)
		dncgate(t, "", "optout", "check", "gone@prospect.test", "--config", cfg).want(t, 2, "stderr", "dncgate init")
		dncgate(t, password+"\n", "users", "add", "rep@acme.test", "--password-stdin", "--config", cfg).want(t, 2, "stderr", "no")
		dncgate(t, "", "init", "--config", cfg).want(t, 0, "stdout", "created store")
		dncgate(t, password+"\n", "users", "add", "rep@acme.test", "--password-stdin", "--config", cfg).want(t, 0, "stdout")
		dncgate(t, "", "optout", "check", "gone@prospect.test", "--config", cfg).want(t, 0, "stdout", "not opted out")
	})
}

// TestServeRefusesKeyWithoutStore: a data folder holding hmac.key but no
// database is a restore that forgot the database, not a new store.
func TestServeRefusesKeyWithoutStore(t *testing.T) {
	data := t.TempDir()
	key := writeFile(t, data, "hmac.key", capsKey+"\n")
	dncgate(t, "", "serve", "--data", data, "--listen", "127.0.0.1:0").want(t, 1, "stderr",
		"the digest key "+key+" is there but not the store "+filepath.Join(data, "dncgate.db"))
	if _, err := os.Stat(filepath.Join(data, "dncgate.db")); !os.IsNotExist(err) {
		t.Fatalf("serve created the database (%v)", err)
	}
	// init starts a new store with that key on purpose.
	dncgate(t, "", "init", "--data", data).want(t, 0, "stdout", "created store")
	dncgate(t, "", "optout", "check", "p@prospect.test", "--data", data).want(t, 0, "stdout", "not opted out")
}
