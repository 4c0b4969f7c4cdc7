package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/dncgate/dncgate/config"
	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/ledger/export"
)

func (a *app) logRef(ctx context.Context, args []string) error {
	var c common
	fs := a.newFlags("dncgate log ref", "REF", "Show one transaction whole: every recipient, the version of every list\n"+
		"consulted, the verdict and the outcome.")
	c.register(fs)
	formatFlag, asJSON := formatFlags(fs)
	pos, err := fs.parse(args, 1, 1)
	if err != nil {
		return err
	}
	f, err := outputFormat(fs, *formatFlag, *asJSON)
	if err != nil {
		return err
	}
	format := &f
	return c.withLedger(ctx, a, func(_ *config.Config, l ledger.Ledger) error {
		ds, err := l.Transaction(ctx, pos[0])
		if err != nil {
			return err
		}
		if len(ds) == 0 {
			return fmt.Errorf("no transaction %q in the ledger (expired, or made on another instance?)", pos[0])
		}
		if *format != "table" {
			w, err := newDecisionWriter(*format, a.stdout)
			if err != nil {
				return err
			}
			if err := w.Write(ds); err != nil {
				return err
			}
			return w.Flush()
		}
		return printTransaction(a.stdout, ds)
	})
}

// printTransaction writes the transaction's common fields once, then each
// recipient with its proof.
func printTransaction(w io.Writer, ds []ledger.Decision) error {
	d0 := ds[0]
	fmt.Fprintf(w, "ref:      %s\ntime:     %s\nrep:      %s\nsender:   %s\nlistener: %s\nclient:   %s\n",
		printable(d0.Ref), d0.At.Local().Format("2006-01-02 15:04:05.000 MST"), printable(d0.Rep),
		printable(d0.Sender), printable(d0.Listener), printable(d0.Client))
	if d0.Subject != "" {
		fmt.Fprintf(w, "subject:  %s\n", printable(d0.Subject))
	}
	for _, d := range ds {
		fmt.Fprintf(w, "\n%s  %s  %s\n", printable(d.RcptMasked), d.Verdict, printable(string(d.Reason)))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "  country\t%s (from %s), %s, rule: %s\n", d.Country, d.CountryFrom, d.RcptType, printable(d.Rule))
		if d.Match.List != "" {
			fmt.Fprintf(tw, "  matched\t%s version %s, by %s\n", d.Match.List, d.Match.Version, d.Match.KeyKind)
		}
		fmt.Fprintf(tw, "  lists consulted\t%s\n", export.Lists(d.Lists))
		if d.Cap != "" {
			fmt.Fprintf(tw, "  caps\t%s\n", printable(d.Cap))
		}
		out := string(d.Outcome.Kind)
		if d.Outcome.Reply != "" {
			out += ": " + printable(d.Outcome.Reply)
		}
		if !d.Outcome.At.IsZero() {
			out += " (" + d.Outcome.At.Local().Format("15:04:05.000") + ")"
		}
		fmt.Fprintf(tw, "  outcome\t%s\n", out)
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}
