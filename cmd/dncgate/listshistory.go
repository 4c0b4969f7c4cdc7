package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/listdb"
)

func (a *app) listsHistory(ctx context.Context, args []string) error {
	c := a.newListsCmd("history", "NAME", "Show list NAME's version in force and the versions kept for lists rollback,\n"+
		"newest import first: who imported each when, the file's SHA-256 and the counts.")
	asJSON := jsonFlag(c.fs)
	pos, err := c.fs.parse(args, 1, 1)
	if err != nil {
		return err
	}
	return c.withStore(ctx, false, func(env listEnv) error {
		m, _, err := env.db.List(ctx, pos[0])
		if err != nil {
			return fmt.Errorf("list %s: %w", pos[0], err)
		}
		h, err := env.db.History(ctx, pos[0])
		if err != nil {
			return fmt.Errorf("list %s: %w", pos[0], err)
		}
		if *asJSON {
			out := struct {
				List     string        `json:"list"`
				Keep     int           `json:"keep_versions"`
				Versions []versionJSON `json:"versions"`
			}{List: m.Name, Keep: m.Keep(), Versions: []versionJSON{}}
			for _, v := range h {
				j := newVersionJSON(v.Version)
				j.InForce = &v.InForce
				out.Versions = append(out.Versions, *j)
			}
			return a.writeJSON(out)
		}
		writeHistory(a.stdout, m, h)
		return nil
	})
}

// writeHistory writes the versions as a table, with how many replaced
// versions the list keeps.
func writeHistory(w io.Writer, m listdb.Meta, h []listdb.VersionInfo) {
	fmt.Fprintf(w, "list %s keeps %s\n", m.Name, keepText(m))
	if len(h) == 0 {
		fmt.Fprintln(w, "no version imported yet")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tSTATE\tIMPORTED (UTC)\tBY\tENTRIES\tADDED\tREMOVED\tSHA-256\tRESTORED (UTC)")
	for _, v := range h {
		state := "kept"
		if v.InForce {
			state = "in force"
		}
		added, removed := "-", "-"
		if v.Compared {
			added, removed = strconv.FormatInt(v.Added, 10), strconv.FormatInt(v.Removed, 10)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", v.ID, state, importedText(v.Version), orDash(v.ImportedBy),
			v.Entries, added, removed, orDash(v.FileSHA256), restoredText(v.Version))
	}
	tw.Flush()
}

// keepText says how many replaced versions a list keeps.
func keepText(m listdb.Meta) string {
	switch n := m.Keep(); n {
	case 0:
		return "no replaced version"
	case 1:
		return "1 replaced version"
	default:
		return fmt.Sprintf("%d replaced versions", n)
	}
}

func restoredText(v listdb.Version) string {
	if v.RestoredAt.IsZero() {
		return "-"
	}
	return v.RestoredAt.UTC().Format(time.DateTime) + " by " + orDash(v.RestoredBy)
}

func (a *app) listsRollback(ctx context.Context, args []string) error {
	c := a.newListsCmd("rollback", "NAME [VERSION]", "Put a kept version of list NAME back in force, in one step as an import\n"+
		"switches: VERSION, else the newest kept version imported before the one in\n"+
		"force. The version replaced is kept in its turn (lists history).")
	by := c.fs.String("by", "", "`NAME` of who rolls back (default: $SUDO_USER, else $USER, else the account name)")
	pos, err := c.fs.parse(args, 1, 2)
	if err != nil {
		return err
	}
	name, version := pos[0], ""
	if len(pos) == 2 {
		version = pos[1]
	}
	who := operator(*by)
	return c.withStore(ctx, false, func(env listEnv) error {
		sw, err := env.db.Rollback(ctx, name, version, who, time.Now())
		if err != nil {
			return fmt.Errorf("list %s not rolled back: %w", name, err)
		}
		newLogger(env.cfg.Log, a.stderr).Info("list rolled back", "list", name, "from", sw.From.ID, "to", sw.To.ID,
			"by", who, "sha256", sw.To.FileSHA256, "entries", sw.To.Entries)
		m, v, err := env.db.List(ctx, name)
		if err != nil {
			return fmt.Errorf("list %s rolled back to version %s, but reading it: %w", name, sw.To.ID, err)
		}
		man, err := manualOf(ctx, env.db, name)
		if err != nil {
			return err
		}
		now := time.Now()
		fmt.Fprintf(a.stdout, "list %s rolled back from version %s to version %s (by %s)\n", name, sw.From.ID, sw.To.ID, who)
		tw := tabwriter.NewWriter(a.stdout, 0, 0, 1, ' ', 0)
		fmt.Fprintf(tw, "imported:\t%s UTC by %s (age %s)\nfile sha-256:\t%s\nentries:\t%d\nstate:\t%s\n",
			importedText(v), orDash(v.ImportedBy), ageText(v, now), orDash(v.FileSHA256), v.Entries, freshness(m, v, man, now))
		tw.Flush()
		return recordAudit(ctx, env.cfg, ledger.RollbackEvent(sw, who))
	})
}

// defaultManualShown is how many records lists manual prints by default.
const defaultManualShown = 50

func (a *app) listsManual(ctx context.Context, args []string) error {
	c := a.newListsCmd("manual", "NAME", "Show the values put on list NAME or taken off it by hand, newest first:\n"+
		"when, who, which (masked) and why.")
	limit := c.fs.Int("limit", defaultManualShown, "show at most `N` records (0: all)")
	asJSON := jsonFlag(c.fs)
	pos, err := c.fs.parse(args, 1, 1)
	if err != nil {
		return err
	}
	if *limit < 0 {
		return c.fs.usageError("--limit %d: want 0 (all) or more", *limit)
	}
	return c.withStore(ctx, false, func(env listEnv) error {
		recs, err := env.db.ManualChanges(ctx, pos[0], *limit)
		if err != nil {
			return fmt.Errorf("list %s: %w", pos[0], err)
		}
		man, err := env.db.Manual(ctx, pos[0])
		if err != nil {
			return fmt.Errorf("list %s: %w", pos[0], err)
		}
		if *asJSON {
			out := struct {
				List    string             `json:"list"`
				ByHand  manualJSON         `json:"by_hand"`
				Changes []manualChangeJSON `json:"changes"`
			}{List: pos[0], ByHand: manualJSON{Added: man.Added, Removed: man.Removed}, Changes: []manualChangeJSON{}}
			for _, r := range recs {
				change := map[bool]string{true: "added", false: "removed"}[r.Added]
				out.Changes = append(out.Changes, manualChangeJSON{At: jsonTime(r.At), By: r.By, Change: change, Value: r.Value, Reason: r.Reason})
			}
			return a.writeJSON(out)
		}
		writeManual(a.stdout, pos[0], man, recs)
		return nil
	})
}

func writeManual(w io.Writer, name string, man listdb.Manual, recs []listdb.ManualChange) {
	fmt.Fprintf(w, "list %s by hand: %d added, %d removed\n", name, man.Added, man.Removed)
	if len(recs) == 0 {
		fmt.Fprintln(w, "no change by hand recorded")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "WHEN (UTC)\tBY\tCHANGE\tVALUE\tREASON")
	for _, r := range recs {
		change := "removed"
		if r.Added {
			change = "added"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.At.UTC().Format(time.DateTime), orDash(r.By), change, r.Value, orDash(r.Reason))
	}
	tw.Flush()
}
