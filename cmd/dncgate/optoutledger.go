package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/lists"
)

// auditOptOut records an opt-out made from the command line, keyed by
// the address's digest so optout history finds it.
func auditOptOut(ctx context.Context, env optoutEnv, by, reason string) error {
	d := env.digest()
	return recordAudit(ctx, env.cfg, ledger.AuditEvent{Actor: by, Action: ledger.ActOptOut, Digest: &d, Source: ledger.SourceCLI, Reason: reason})
}

func (a *app) optoutHistory(ctx context.Context, args []string) error {
	c := a.newOptoutCmd("history", "Show when and how ADDRESS was opted out (link, one-click, mailto, CLI,\n"+
		"API), from the audit trail, newest first.", false)
	asJSON := jsonFlag(c.fs)
	return c.run(ctx, a, args, func(env optoutEnv) error {
		if note := ledgerScope(env.cfg); note != "" {
			fmt.Fprintln(a.stderr, "note: "+note)
		}
		l, err := openLedger(ctx, env.cfg)
		if err != nil {
			return err
		}
		defer l.Close()
		d := env.digest()
		evs, err := l.Audits(ctx, ledger.AuditQuery{Digest: &d, Limit: ledger.MaxLimit})
		if err != nil {
			return err
		}
		if *asJSON {
			type eventJSON struct {
				At     *string `json:"at"`
				Action string  `json:"action"`
				Source string  `json:"source"`
				By     string  `json:"by"`
				Reason string  `json:"reason,omitempty"`
			}
			out := struct {
				Address string      `json:"address"` // masked
				Events  []eventJSON `json:"events"`
			}{Address: lists.MaskEmail(env.addr), Events: []eventJSON{}}
			for _, e := range evs {
				out.Events = append(out.Events, eventJSON{At: jsonTime(e.At), Action: fmt.Sprint(e.Action), Source: fmt.Sprint(e.Source), By: e.Actor, Reason: e.Reason})
			}
			return a.writeJSON(out)
		}
		if len(evs) == 0 {
			fmt.Fprintf(a.stdout, "%s: no opt-out recorded\n", lists.MaskEmail(env.addr))
			return nil
		}
		tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "TIME\tACTION\tSOURCE\tBY\tREASON")
		for _, e := range evs {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.At.Local().Format("2006-01-02 15:04:05"), e.Action, e.Source, printable(e.Actor), printable(e.Reason))
		}
		return tw.Flush()
	})
}
