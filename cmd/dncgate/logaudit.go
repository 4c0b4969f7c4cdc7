package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dncgate/dncgate/config"
	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/ledger/export"
)

// logAudit is "dncgate log audit": the audit trail, newest first.
func (a *app) logAudit(ctx context.Context, args []string) error {
	var c common
	fs := a.newFlags("dncgate log audit", "", "Show the audit trail, newest first: every change to what may be sent (list\n"+
		"imports and rollbacks, entries by hand, opt-outs with their source, erasures,\n"+
		"user changes, cap resets, reloads, backups and restores) and the console's\n"+
		"logins and exports, with who made it. A table shows one page and the\n"+
		"--cursor for the next; csv and json write every match unless --limit is given.")
	c.register(fs)
	since := fs.String("since", "30d", "from `T`: a duration back from now (\"24h\", \"30d\"), a date or an RFC 3339 time; \"\" for all")
	until := fs.String("until", "", "up to `T` (exclusive), as --since; default: now")
	action := fs.String("action", "", "only the action `A`: "+actionNames())
	by := fs.String("by", "", "only changes made by `WHO` (an operator, a console or API user, recipient, sighup, bounce)")
	object := fs.String("object", "", "only changes to `NAME`: a list, a user, a cap")
	address := fs.String("address", "", "only events about the person `A` (opt-outs, entries by hand; by its keyed digest)")
	format, asJSON := formatFlags(fs)
	cursor := fs.String("cursor", "", "continue after the page that printed this `CURSOR`")
	limit := fs.Int("limit", -1, "at most `N` events (default: 50 for a table, all for csv and json)")
	if _, err := fs.parse(args, 0, 0); err != nil {
		return err
	}
	now := time.Now()
	q := ledger.AuditQuery{Action: ledger.Action(*action), Actor: *by, Object: *object}
	var err error
	if q.Since, err = parseWhen(*since, now); err != nil {
		return fs.usageError("--since: %v", err)
	}
	if q.Until, err = parseWhen(*until, now); err != nil {
		return fs.usageError("--until: %v", err)
	}
	if q.Action != "" && !q.Action.Valid() {
		return fs.usageError("--action: %q is none of %s", *action, actionNames())
	}
	if q.After, err = ledger.ParseCursor(*cursor); err != nil {
		return fs.usageError("--cursor: not a cursor this command printed")
	}
	f, err := outputFormat(fs, *format, *asJSON)
	if err != nil {
		return err
	}
	if *limit > ledger.MaxLimit {
		return fs.usageError("--limit: at most %d a page; csv and json without --limit write every match", ledger.MaxLimit)
	}
	all := *limit < 0 && f != "table"
	switch {
	case all:
		q.Limit = ledger.MaxLimit
	case *limit < 0:
		q.Limit = 50
	case *limit == 0:
		return fs.usageError("--limit: at least 1")
	default:
		q.Limit = *limit
	}
	return c.withLedger(ctx, a, func(cfg *config.Config, l ledger.Ledger) error {
		if *address != "" {
			d, err := addressDigest(cfg, *address)
			if err != nil {
				return fs.usageError("--address: %v", err)
			}
			q.Digest = &d
		}
		w, err := newAuditWriter(f, a.stdout)
		if err != nil {
			return err
		}
		n, next, err := writeAudits(ctx, l, q, all, w)
		if err != nil {
			return err
		}
		switch {
		case next != "":
			fmt.Fprintf(a.stderr, "more: add --cursor %s\n", next)
		case n == 0 && f == "table":
			fmt.Fprintln(a.stderr, "no event matches")
		}
		return nil
	})
}

// writeAudits writes one page, or with all every page, and returns how
// many events it wrote and, for one full page, the cursor of the next.
func writeAudits(ctx context.Context, l ledger.Ledger, q ledger.AuditQuery, all bool, w export.AuditWriter) (int, string, error) {
	n := 0
	for {
		evs, err := l.Audits(ctx, q)
		if err != nil {
			return n, "", err
		}
		if err := w.Write(evs); err != nil {
			return n, "", err
		}
		n += len(evs)
		if len(evs) < q.Limit {
			return n, "", w.Flush()
		}
		cur := evs[len(evs)-1].Cursor()
		if !all {
			return n, cur.Encode(), w.Flush()
		}
		q.After = &cur
	}
}

func newAuditWriter(format string, w io.Writer) (export.AuditWriter, error) {
	switch format {
	case "csv":
		return export.NewAuditCSV(w)
	case "json":
		return export.NewAuditJSON(w), nil
	}
	return &auditTable{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}, nil
}

// auditTable is the terminal's view: one line an event.
type auditTable struct {
	tw     *tabwriter.Writer
	header bool
}

func (t *auditTable) Write(evs []ledger.AuditEvent) error {
	if !t.header && len(evs) > 0 {
		fmt.Fprintln(t.tw, "TIME\tACTION\tBY\tOBJECT\tSOURCE\tREASON\tDETAILS")
		t.header = true
	}
	for _, e := range evs {
		fmt.Fprintf(t.tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.At.Local().Format("2006-01-02 15:04:05"), e.Action,
			printable(e.Actor), printable(e.Object), e.Source, printable(e.Reason), printable(export.Details(e.Details)))
	}
	return nil
}

func (t *auditTable) Flush() error { return t.tw.Flush() }

func actionNames() string {
	names := make([]string, len(ledger.Actions))
	for i, a := range ledger.Actions {
		names[i] = string(a)
	}
	return strings.Join(names, ", ")
}
