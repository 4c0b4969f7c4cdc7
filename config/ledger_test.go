package config

import (
	"github.com/dncgate/dncgate/duration"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLedgerDefaults(t *testing.T) {
	c, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	r := c.Ledger.Retention
	if r.Sent.Duration != 1096*duration.Day || r.Refused.Duration != 366*duration.Day || r.Audit.Duration != 1827*duration.Day {
		t.Errorf("default retention = %+v", r)
	}
	if c.LedgerPath() != filepath.Join(DefaultDataDir, "ledger.db") || c.LedgerSpoolPath() != filepath.Join(DefaultDataDir, "ledger.spool") {
		t.Errorf("ledger files = %q, %q", c.LedgerPath(), c.LedgerSpoolPath())
	}
	if c.Ledger.CommitDelay.Duration != 2*time.Millisecond {
		t.Errorf("default commit_delay = %s, want 2ms", c.Ledger.CommitDelay)
	}
}

func TestLedgerKeys(t *testing.T) {
	c, err := Load(writeConfig(t, `
[ledger]
url = "postgres://dncgate:secret@10.0.0.5:5432/dncgate"
spool_max_bytes = "8MiB"
store_subject = true
[ledger.retention]
sent = "730d"
refused = "36h"
`))
	if err != nil {
		t.Fatal(err)
	}
	l := c.Ledger
	if l.URL == "" || l.SpoolMaxBytes != 8*MiB || !l.StoreSubject || l.Retention.Sent.Duration != 730*duration.Day ||
		l.Retention.Refused.Duration != 36*time.Hour || l.Retention.Audit.Duration != DefaultRetentionAudit {
		t.Errorf("ledger = %+v", l)
	}
}

// The ledger's password never reaches the effective configuration.
func TestLedgerURLMasked(t *testing.T) {
	for _, u := range []string{"postgres://dncgate:Sekr3t@db.example/dncgate", "postgres://db.example/dncgate?user=dncgate&password=Sekr3t"} {
		c, err := Load(writeConfig(t, "[ledger]\nurl = \""+u+"\"\n"))
		if err != nil {
			t.Fatal(err)
		}
		m := c.Masked()
		if strings.Contains(m, "Sekr3t") || !strings.Contains(m, "***") || !strings.Contains(m, "db.example") {
			t.Errorf("masked config shows:\n%s", m)
		}
	}
}
