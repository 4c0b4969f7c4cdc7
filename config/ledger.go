package config

import (
	"fmt"
	"github.com/dncgate/dncgate/duration"
	"net/url"
	"path/filepath"
	"strings"
	"time"
)

// Ledger is where decision records and the audit trail go, and how long
// they stay.
type Ledger struct {
	// Enabled false runs serve without a ledger, for benchmarks alone:
	// refused unless BenchOnly says so too. Mail then leaves with no
	// record, which no production gateway may do.
	Enabled   bool `toml:"enabled"`
	BenchOnly bool `toml:"bench_only"`
	// URL is postgres://… for a ledger shared by several instances; empty
	// keeps a SQLite ledger at Path on this machine.
	URL           string          `toml:"url"`
	Path          string          `toml:"path"`
	SpoolFile     string          `toml:"spool_file"`
	SpoolMaxBytes Size            `toml:"spool_max_bytes"`
	StoreSubject  bool            `toml:"store_subject"`
	Retention     LedgerRetention `toml:"retention"`
	// CommitDelay is how long the ledger's writer, under load, collects
	// more records before a commit (see ledger.Settings).
	CommitDelay Duration `toml:"commit_delay"`
}

// LedgerRetention is how long each kind of record is kept.
type LedgerRetention struct {
	Sent    Age `toml:"sent"`
	Refused Age `toml:"refused"`
	Audit   Age `toml:"audit"`
}

// Retention defaults; the README explains them.
const (
	// DefaultRetentionSent: CNIL's three years from the last contact, a
	// leap day included; a sent decision is the proof the lists were
	// consulted before that contact.
	DefaultRetentionSent = 1096 * duration.Day
	// DefaultRetentionRefused: a refusal proves nothing was sent; a year
	// covers the managers' review and a complaint about a recent attempt.
	DefaultRetentionRefused = 366 * duration.Day
	// DefaultRetentionAudit: five years, the French civil limitation
	// period (Code civil, art. 2224), longer than any decision it explains.
	DefaultRetentionAudit = 1827 * duration.Day
)

// DefaultCommitDelay is [ledger] commit_delay's default: about ten
// flushes of a local SSD, a small part of a message's time in a session,
// which its copy spends on the way to the upstream anyway (a copy waits
// for its records only before its final dot).
const DefaultCommitDelay = 2 * time.Millisecond

// MaxCommitDelay bounds commit_delay: every copy may wait that long for
// its records.
const MaxCommitDelay = 50 * time.Millisecond

// minSpool is the smallest spool worth having: a few thousand records.
const minSpool = MiB

func defaultLedger() Ledger {
	return Ledger{
		Enabled:       true,
		SpoolMaxBytes: 256 * MiB,
		CommitDelay:   Duration{DefaultCommitDelay},
		Retention: LedgerRetention{
			Sent:    Age{DefaultRetentionSent},
			Refused: Age{DefaultRetentionRefused},
			Audit:   Age{DefaultRetentionAudit},
		},
	}
}

func (c *Config) checkLedger(col *collector) {
	l := c.Ledger
	switch {
	case !l.Enabled && !l.BenchOnly:
		col.add("ledger.enabled", "false would send mail without a record of the lists consulted; "+
			"the ledger can only be turned off for a benchmark, with bench_only = true")
	case l.Enabled && l.BenchOnly:
		col.add("ledger.bench_only", "set, but the ledger is enabled; remove it")
	}
	if l.URL != "" {
		if err := checkPostgresURL(l.URL); err != nil {
			col.add("ledger.url", "%v", err)
		}
		if l.Path != "" {
			col.add("ledger.path", "set, but url is set too: the ledger is in PostgreSQL; leave path empty")
		}
	}
	if l.SpoolMaxBytes < minSpool {
		col.add("ledger.spool_max_bytes", "%s is too small; at least %s", l.SpoolMaxBytes, minSpool)
	}
	if l.CommitDelay.Duration > MaxCommitDelay {
		col.add("ledger.commit_delay", "%s is more than %s: every copy may wait that long for its records; \"2ms\" is the default, \"0s\" commits at once",
			l.CommitDelay, Duration{MaxCommitDelay})
	}
	for _, r := range []struct {
		key string
		d   Age
	}{{"sent", l.Retention.Sent}, {"refused", l.Retention.Refused}, {"audit", l.Retention.Audit}} {
		if r.d.Duration < duration.Day {
			col.add("ledger.retention."+r.key, "%s is less than a day (\"1d\"); records would go before anyone reviews them", r.d)
		}
	}
}

// checkPostgresURL accepts postgres:// and postgresql:// with a host.
// Messages never repeat the URL, which may hold a password.
func checkPostgresURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("not a URL")
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return fmt.Errorf("unknown scheme %q; use postgres://user:password@host:5432/dbname", u.Scheme)
	}
	if u.Hostname() == "" && u.Query().Get("host") == "" {
		return fmt.Errorf("needs a host, as in postgres://dncgate@10.0.0.5:5432/dncgate (or ?host=/run/postgresql for a socket)")
	}
	if p := u.Port(); p != "" {
		if n, err := parsePort(p); err != nil || n == 0 {
			return fmt.Errorf("port %q out of range 1-65535", p)
		}
	}
	return nil
}

// LedgerPath is the SQLite ledger's file: ledger.path, else
// DATA_DIR/ledger.db.
func (c *Config) LedgerPath() string {
	if c.Ledger.Path != "" {
		return c.Ledger.Path
	}
	return filepath.Join(c.Server.DataDir, "ledger.db")
}

// LedgerSpoolPath is ledger.spool_file, else DATA_DIR/ledger.spool.
func (c *Config) LedgerSpoolPath() string {
	if c.Ledger.SpoolFile != "" {
		return c.Ledger.SpoolFile
	}
	return filepath.Join(c.Server.DataDir, "ledger.spool")
}

// maskedLedger is [ledger] for Masked: the URL's password hidden (in the
// user part or as a password parameter), the derived files filled in.
func (c *Config) maskedLedger() Ledger {
	l := c.Ledger
	l.URL = maskURL(l.URL)
	if u, err := url.Parse(l.URL); err == nil && u.Query().Has("password") {
		q := u.Query()
		q.Set("password", "MASKED")
		u.RawQuery = q.Encode()
		l.URL = strings.Replace(u.String(), "MASKED", secret, 1)
	}
	if l.URL == "" {
		l.Path = c.LedgerPath()
	}
	l.SpoolFile = c.LedgerSpoolPath()
	return l
}
