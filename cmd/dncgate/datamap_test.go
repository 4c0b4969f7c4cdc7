package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dncgate/dncgate/backup"
	"github.com/dncgate/dncgate/datamap"
	"github.com/dncgate/dncgate/internal/testredis"
	"github.com/dncgate/dncgate/store"
	"github.com/dncgate/dncgate/store/embedded"
	"github.com/dncgate/dncgate/webhook"
)

// storeKinds fills the store behind cfgPath with every kind of record
// and returns the tables or key kinds it then holds, as a backup counts
// them from the store itself, and the ledger's tables.
func storeKinds(t *testing.T, cfgPath string) (kinds []string, keys bool, ledgerTables []string) {
	t.Helper()
	backupFill(t, cfgPath)
	cfg, st, _ := openTestStore(t, cfgPath)
	ctx := context.Background()
	if err := st.MarkDelivered(ctx, "msg", "rcpt", time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Hit(ctx, "auth:user:rep@acme.test", time.Hour); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := st.CreateSession(ctx, store.Session{ID: "s1", User: "rep@acme.test", CSRF: "c", CreatedAt: now, SeenAt: now}, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := st.SetSecondFactor(ctx, "rep@acme.test", store.SecondFactor{Secret: "JBSWY3DPEHPK3PXP", Recovery: []string{"d1"}, EnrolledAt: now}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.ReserveAttempt(ctx, []store.AttemptKey{{Key: "auth:client:192.0.2.1/32", Limit: 5}}, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := st.EnqueueWebhooks(ctx, []webhook.Job{{ID: "evt_1/crm", Endpoint: "crm", Body: []byte("{}"), Created: now}}); err != nil {
		t.Fatal(err)
	}
	src, err := backupSource(ctx, cfg, cfgPath, st)
	if err != nil {
		t.Fatal(err)
	}
	m, err := backup.Create(ctx, src, io.Discard, backup.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for k := range m.Counts {
		kind, ok := strings.CutPrefix(k, "table:")
		if !ok {
			kind, keys = strings.TrimPrefix(k, "redis:"), true
		}
		kinds = append(kinds, kind)
	}
	counts, err := embedded.FileTableCounts(ctx, cfg.LedgerPath())
	if err != nil {
		t.Fatal(err)
	}
	for tb := range counts {
		ledgerTables = append(ledgerTables, tb)
	}
	return kinds, keys, ledgerTables
}

// TestDataMapCoversStores: every table and key kind a filled store holds,
// and every table of the ledger, is declared in the data map the
// datamap command prints for that configuration.
func TestDataMapCoversStores(t *testing.T) {
	for name, where := range map[string]string{
		"embedded": "",
		"redis":    fmt.Sprintf("[store]\nbackend = \"redis\"\nredis_url = \"redis://%s/0\"\n", testredis.Start(t)),
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			cfgPath := initConfig(t, dir, listsConfig(fmt.Sprintf("[server]\ndata_dir = %q\n\n%s", dir, where)+beBusinessAllowed))
			kinds, keys, ledgerTables := storeKinds(t, cfgPath)
			if len(kinds) < 8 || !slices.Contains(ledgerTables, "audit") {
				t.Fatalf("the fill left too little to test: %v, ledger %v", kinds, ledgerTables)
			}
			r := dncgate(t, "", "datamap", "--config", cfgPath, "--json")
			r.want(t, 0, "stdout")
			var entries []datamap.Entry
			if err := json.Unmarshal([]byte(r.stdout), &entries); err != nil {
				t.Fatalf("datamap --json: %v\n%s", err, r.stdout)
			}
			if u := datamap.Uncovered(entries, kinds, keys); len(u) > 0 {
				t.Errorf("no data map declaration covers %v", u)
			}
			if u := datamap.Uncovered(entries, ledgerTables, false); len(u) > 0 {
				t.Errorf("no data map declaration covers the ledger's %v", u)
			}
			if u := datamap.Uncovered(entries, []string{"undeclared"}, keys); len(u) != 1 {
				t.Errorf("an undeclared kind passes: %v", u)
			}
		})
	}
}

// TestDataMapText: the text names the forms and the outbox only when
// the outbox is the upstream.
func TestDataMapText(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "a.toml", fmt.Sprintf("[server]\ndata_dir = %q\n", dir))
	dncgate(t, "", "datamap", "--config", cfg).want(t, 0, "stdout",
		"list entries and opt-outs", "form:      keyed digest", "send ledger: decisions", "masked, with its keyed digest",
		"outbox", "no personal data in: store bookkeeping")
	smtp := writeFile(t, dir, "b.toml", fmt.Sprintf("[server]\ndata_dir = %q\n\n[upstream]\nurl = \"smtp://mx.acme.test:25\"\n", dir))
	if r := dncgate(t, "", "datamap", "--config", smtp); strings.Contains(r.stdout, "\noutbox\n") {
		t.Errorf("outbox listed with an SMTP upstream:\n%s", r.stdout)
	}
}
