package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/dncgate/dncgate/duration"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dncgate/dncgate/config"
	"github.com/dncgate/dncgate/country"
	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/listdb"
	"github.com/dncgate/dncgate/listmodel"
	"github.com/dncgate/dncgate/lists"
)

// allCountries given to --country means the list applies everywhere.
const allCountries = "all"

func (a *app) lists(ctx context.Context, args []string) error {
	return a.dispatch(ctx, "dncgate lists", []command{
		{"import", "import a file as the new version of a list", (*app).listsImport},
		{"ls", "list the lists with their entries and freshness", (*app).listsLs},
		{"show", "show a list's description and current version", (*app).listsShow},
		{"history", "show the version in force and the versions kept", (*app).listsHistory},
		{"rollback", "put a kept version back in force", (*app).listsRollback},
		{"add", "put one value on a list by hand", (*app).listsAdd},
		{"remove", "take one value off a list by hand", (*app).listsRemove},
		{"manual", "show who put values on a list or took them off by hand, when and why", (*app).listsManual},
		{"drop", "delete a list and all its entries", (*app).listsDrop},
		{"help", "print this help", nil},
	}, args)
}

// listsCmd holds what every lists subcommand parses.
type listsCmd struct {
	common
	fs *flagSet
}

func (a *app) newListsCmd(name, args, summary string) *listsCmd {
	c := &listsCmd{fs: a.newFlags("dncgate lists "+name, args, summary)}
	c.register(c.fs)
	return c
}

// listEnv is what a lists subcommand works with once the store is open.
type listEnv struct {
	cfg *config.Config
	db  backend
	key []byte // nil unless asked for
}

// withStore loads the configuration, opens the store and runs f with its
// lists; withKey also reads the digest key. It writes no list: serve and
// init apply the [[lists]] declarations (applyLists).
func (c *listsCmd) withStore(ctx context.Context, withKey bool, f func(listEnv) error) error {
	return c.withConfigStore(ctx, func(cfg *config.Config, st backend) error {
		env := listEnv{cfg: cfg, db: st}
		if withKey {
			var err error
			if env.key, err = cfg.HMACKey(); err != nil {
				return fmt.Errorf("digest key: %w", err)
			}
		}
		return f(env)
	})
}

// parseMaxAge reads --max-age in the one duration syntax ("5d", "36h");
// "" is no maximum.
func parseMaxAge(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := duration.Parse(s)
	if err != nil {
		return 0, fmt.Errorf("--max-age: %w", err)
	}
	return d, nil
}

// parseCountries reads the --country values: ISO 3166-1 alpha-2 codes, or
// "all" alone for a list that applies everywhere (stored as none).
func parseCountries(given []string) ([]string, error) {
	var out []string
	for _, cc := range given {
		if strings.EqualFold(strings.TrimSpace(cc), allCountries) {
			if len(given) > 1 {
				return nil, errors.New(`--country all cannot be combined with country codes`)
			}
			return nil, nil
		}
		c, err := country.Parse(cc)
		if err != nil {
			return nil, fmt.Errorf(`%w, or "all"`, err)
		}
		out = append(out, c.String())
	}
	return out, nil
}

// listRegion is the default region for national phone numbers: the one
// given, else the list's single country.
func listRegion(given string, m listdb.Meta) string {
	if given != "" || len(m.Countries) != 1 {
		return given
	}
	return m.Countries[0]
}

func (a *app) listsLs(ctx context.Context, args []string) error {
	c := a.newListsCmd("ls", "", "List every list: its kind, model, countries, entries, current version,\n"+
		"when it was imported, its age and whether it is fresh or stale by its max age.")
	asJSON := jsonFlag(c.fs)
	if _, err := c.fs.parse(args, 0, 0); err != nil {
		return err
	}
	return c.withStore(ctx, false, func(env listEnv) error {
		infos, err := env.db.Lists(ctx)
		if err != nil {
			return fmt.Errorf("reading the lists: %w", err)
		}
		manual := make([]listdb.Manual, len(infos))
		for i, in := range infos {
			if manual[i], err = manualOf(ctx, env.db, in.Meta.Name); err != nil {
				return err
			}
		}
		now := time.Now()
		if *asJSON {
			out := make([]listJSON, len(infos))
			for i, in := range infos {
				out[i] = newListJSON(in.Meta, in.Current, manual[i], nil, now)
			}
			return a.writeJSON(out)
		}
		return writeLists(a.stdout, infos, manual, now)
	})
}

// manualOf counts the list's entries by hand.
func manualOf(ctx context.Context, db listdb.ManualCounter, name string) (listdb.Manual, error) {
	m, err := db.Manual(ctx, name)
	if err != nil {
		return m, fmt.Errorf("list %s: %w", name, err)
	}
	return m, nil
}

// writeLists writes the table of lists; manual holds each one's entries
// by hand.
func writeLists(w io.Writer, infos []listdb.Info, manual []listdb.Manual, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKIND\tMODEL\tCOUNTRIES\tENTRIES\tVERSION\tIMPORTED (UTC)\tAGE\tSTATE")
	for i, in := range infos {
		m, v := in.Meta, in.Current
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.Name, m.Kind, m.Model, countriesText(m.Countries),
			entriesText(v, manual[i]), orDash(v.ID), importedText(v), ageText(v, now), freshness(m, v, manual[i], now))
	}
	return tw.Flush()
}

// entriesText is the version's entries, "+N" for those added by hand:
// the two may overlap, so they are not summed.
func entriesText(v listdb.Version, man listdb.Manual) string {
	if man.Added == 0 {
		return strconv.FormatInt(v.Entries, 10)
	}
	return fmt.Sprintf("%d+%d", v.Entries, man.Added)
}

func countriesText(cc []string) string {
	if len(cc) == 0 {
		return allCountries
	}
	return strings.Join(cc, ",")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func importedText(v listdb.Version) string {
	if v.ID == "" {
		return "never"
	}
	return v.ImportedAt.UTC().Format(time.DateTime)
}

func ageText(v listdb.Version, now time.Time) string {
	if v.ID == "" {
		return "-"
	}
	age := now.Sub(v.ImportedAt)
	if age >= duration.Day {
		if h := (age % duration.Day) / time.Hour; h > 0 {
			return fmt.Sprintf("%dd%dh", age/duration.Day, h)
		}
		return fmt.Sprintf("%dd", age/duration.Day)
	}
	return age.Truncate(time.Second).String()
}

// freshness is the list's state as lists ls and show write it.
func freshness(m listdb.Meta, v listdb.Version, man listdb.Manual, now time.Time) string {
	return listdb.FreshnessOf(m, v, man, now).String()
}

func (a *app) listsShow(ctx context.Context, args []string) error {
	c := a.newListsCmd("show", "NAME", "Show a list's description and its current version.")
	asJSON := jsonFlag(c.fs)
	pos, err := c.fs.parse(args, 1, 1)
	if err != nil {
		return err
	}
	return c.withStore(ctx, false, func(env listEnv) error {
		m, v, err := env.db.List(ctx, pos[0])
		if err != nil {
			return fmt.Errorf("list %s: %w", pos[0], err)
		}
		man, err := manualOf(ctx, env.db, pos[0])
		if err != nil {
			return err
		}
		h, err := env.db.History(ctx, pos[0])
		if err != nil {
			return fmt.Errorf("list %s: %w", pos[0], err)
		}
		if *asJSON {
			return a.writeJSON(newListJSON(m, v, man, keptIDs(h), time.Now()))
		}
		writeList(a.stdout, m, v, man, keptText(h), time.Now())
		return nil
	})
}

// keptText names the versions kept for lists rollback.
func keptText(h []listdb.VersionInfo) string {
	ids := keptIDs(h)
	if len(ids) == 0 {
		return "none"
	}
	return strings.Join(ids, ", ")
}

// writeList writes a list's description and current version; kept names
// the versions kept.
func writeList(w io.Writer, m listdb.Meta, v listdb.Version, man listdb.Manual, kept string, now time.Time) {
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	maxAge := "none"
	if m.MaxAge > 0 {
		maxAge = duration.Format(m.MaxAge)
	}
	fmt.Fprintf(tw, "name:\t%s\nkind:\t%s\nmodel:\t%s\ncountries:\t%s\nmax age:\t%s\non stale:\t%s\nsource:\t%s\n",
		m.Name, m.Kind, m.Model, countriesText(m.Countries), maxAge, onStaleText(m), orDash(m.Source))
	fmt.Fprintf(tw, "state:\t%s\nversion:\t%s\n", freshness(m, v, man, now), orDash(v.ID))
	if v.ID != "" {
		fmt.Fprintf(tw, "imported:\t%s UTC by %s (age %s)\nfile sha-256:\t%s\n", importedText(v), orDash(v.ImportedBy), ageText(v, now), v.FileSHA256)
		fmt.Fprintf(tw, "rows:\t%d\nvalid:\t%d\ninvalid:\t%d\nduplicates:\t%d\nentries:\t%d\n",
			v.Rows, v.Valid, v.Invalid, v.Duplicates, v.Entries)
	}
	fmt.Fprintf(tw, "by hand:\t%d added, %d removed\nkeeps:\t%s (kept now: %s)\n", man.Added, man.Removed, keepText(m), kept)
	tw.Flush()
}

// Values of --on-stale: what the gateway does with the recipients a stale
// list governs.
const (
	onStaleRefuse = "refuse" // a temporary failure: the sender retries later
	onStaleWarn   = "warn"   // a warning in the log, and the list is used as it is
)

func onStaleText(m listdb.Meta) string {
	if m.WarnStale {
		return onStaleWarn
	}
	return onStaleRefuse
}

// errNotOnList refuses to remove a value the list does not hold.
var errNotOnList = errors.New("not on the list")

// entryCmd is lists add and lists remove: one value, by hand.
type entryCmd struct {
	*listsCmd
	region, reason, by *string
}

func (a *app) newEntryCmd(name, summary string) *entryCmd {
	c := &entryCmd{listsCmd: a.newListsCmd(name, "NAME VALUE", summary)}
	c.region = c.fs.String("region", "", "default `CC` for national phone numbers (default: the list's single country)")
	c.reason = c.fs.String("reason", "", "why (`TEXT`), recorded with who and when")
	c.by = c.fs.String("by", "", "`NAME` of who decides (default: $SUDO_USER, else $USER, else the account name)")
	return c
}

// run normalises and keys VALUE for list NAME and hands the digest to
// change with the record of the decision: who, when, why and the value
// masked, since the store keeps only the digest. The decision is logged
// too.
func (c *entryCmd) run(ctx context.Context, a *app, args []string, added bool,
	change func(backend, string, listdb.Digest, listdb.ManualChange) error) error {
	pos, err := c.fs.parse(args, 2, 2)
	if err != nil {
		return err
	}
	verb := map[bool]string{true: "added", false: "removed"}[added]
	if strings.TrimSpace(*c.reason) == "" {
		return c.fs.usageError("give the reason for the %s with --reason TEXT", map[bool]string{true: "addition", false: "removal"}[added])
	}
	name, value, who := pos[0], pos[1], operator(*c.by)
	return c.withStore(ctx, true, func(env listEnv) error {
		db := env.db
		m, _, err := db.List(ctx, name)
		if err != nil {
			return fmt.Errorf("list %s: %w", name, err)
		}
		kind, err := lists.ParseKind(m.Kind)
		if err != nil {
			return fmt.Errorf("list %s: %w", name, err)
		}
		norm, err := lists.NewNormaliser(kind, listRegion(*c.region, m))
		if err != nil {
			return fmt.Errorf("list %s: %w", name, err)
		}
		key, err := norm.Normalise(value)
		if err != nil {
			return c.fs.usageError("%q: %v", value, err)
		}
		d := listdb.Key(env.key, kind.String(), key)
		rec := listdb.ManualChange{At: time.Now().UTC(), By: who, Reason: strings.TrimSpace(*c.reason), Added: added, Value: lists.Mask(kind, key)}
		if err := change(db, name, d, rec); errors.Is(err, errNotOnList) {
			return fmt.Errorf("%s is not on the list %s: nothing removed", key, name)
		} else if err != nil {
			return fmt.Errorf("list %s: %w", name, err)
		}
		newLogger(env.cfg.Log, a.stderr).Info("list entry "+verb, "list", name, "value", rec.Value,
			"digest", hex.EncodeToString(d[:]), "by", who, "reason", rec.Reason)
		fmt.Fprintf(a.stdout, "%s %s %s %s (by %s)\n", verb, key, map[bool]string{true: "to", false: "from"}[added], name, who)
		action := map[bool]ledger.Action{true: ledger.ActEntryAdd, false: ledger.ActEntryRemove}[added]
		return recordAudit(ctx, env.cfg, ledger.AuditEvent{At: rec.At, Actor: who, Action: action, Object: name, Digest: &d,
			Reason: rec.Reason, Details: map[string]string{"kind": kind.String(), "value": rec.Value}})
	})
}

func (a *app) listsAdd(ctx context.Context, args []string) error {
	c := a.newEntryCmd("add", "Put VALUE on list NAME by hand; it stays there across re-imports until\n"+
		"removed. Who, when, why and VALUE masked are recorded (lists manual).")
	return c.run(ctx, a, args, true, func(db backend, name string, d listdb.Digest, rec listdb.ManualChange) error {
		return db.ChangeEntry(ctx, name, d, rec)
	})
}

func (a *app) listsRemove(ctx context.Context, args []string) error {
	c := a.newEntryCmd("remove", "Take VALUE off list NAME by hand, also when an import holds it; it stays\n"+
		"off across re-imports until added again. Who, when, why and VALUE masked\n"+
		"are recorded (lists manual). A value the list does not hold is refused.")
	return c.run(ctx, a, args, false, func(db backend, name string, d listdb.Digest, rec listdb.ManualChange) error {
		held, err := db.Contains(ctx, name, d)
		if err != nil {
			return err
		}
		if !held[0] {
			return errNotOnList
		}
		return db.ChangeEntry(ctx, name, d, rec)
	})
}

func (a *app) listsDrop(ctx context.Context, args []string) error {
	c := a.newListsCmd("drop", "NAME", "Delete list NAME with all its versions and manual entries.")
	by := c.fs.String("by", "", "`NAME` of who drops it, for the log (default: $SUDO_USER, else $USER, else the account name)")
	pos, err := c.fs.parse(args, 1, 1)
	if err != nil {
		return err
	}
	if pos[0] == listmodel.OptOut {
		return c.fs.usageError("the %s list cannot be dropped: it holds who unsubscribed, and every recipient is checked against it; "+
			"take single entries off with lists remove", listmodel.OptOut)
	}
	return c.withStore(ctx, false, func(env listEnv) error {
		if err := env.db.DropList(ctx, pos[0]); err != nil {
			return fmt.Errorf("list %s: %w", pos[0], err)
		}
		who := operator(*by)
		newLogger(env.cfg.Log, a.stderr).Info("list dropped", "list", pos[0], "by", who)
		fmt.Fprintf(a.stdout, "dropped list %s (by %s)\n", pos[0], who)
		return recordAudit(ctx, env.cfg, ledger.AuditEvent{Actor: who, Action: ledger.ActListDrop, Object: pos[0]})
	})
}
