package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/webhook"
	"log/slog"
	"strings"

	"github.com/dncgate/dncgate/config"
	"github.com/dncgate/dncgate/listdb"
	"github.com/dncgate/dncgate/listmodel"
	"github.com/dncgate/dncgate/lists"
	"github.com/dncgate/dncgate/suppression"
)

func (a *app) optout(ctx context.Context, args []string) error {
	return a.dispatch(ctx, "dncgate optout", []command{
		{"add", "opt an address out, as if its owner had unsubscribed", (*app).optoutAdd},
		{"check", "say whether an address is opted out", (*app).optoutCheck},
		{"erase", "opt an address out and erase what else the store keeps about it", (*app).optoutErase},
		{"history", "show when and how an address was opted out", (*app).optoutHistory},
		{"help", "print this help", nil},
	}, args)
}

// optoutCmd holds what every optout subcommand parses.
type optoutCmd struct {
	common
	fs         *flagSet
	by, reason *string
}

func (a *app) newOptoutCmd(name, summary string, decides bool) *optoutCmd {
	c := &optoutCmd{fs: a.newFlags("dncgate optout "+name, "ADDRESS", summary)}
	c.register(c.fs)
	if decides {
		c.reason = c.fs.String("reason", "", "why (`TEXT`), for the log and the audit trail")
		c.by = c.fs.String("by", "", "`NAME` of who decides, for the log (default: $SUDO_USER, else $USER, else the account name)")
	}
	return c
}

// optoutEnv is what an optout subcommand works with once the store is open.
type optoutEnv struct {
	cfg  *config.Config
	st   backend
	outs *suppression.OptOuts
	key  []byte
	addr string // the address given, normalised
	log  *slog.Logger
}

// digest is the address's key on the opt-out list and in the contacts.
func (e optoutEnv) digest() listdb.Digest {
	return listdb.Key(e.key, lists.KindEmail.String(), e.addr)
}

// run parses ADDRESS, opens the store with the opt-out list and the digest
// key, and runs f.
func (c *optoutCmd) run(ctx context.Context, a *app, args []string, f func(optoutEnv) error) error {
	pos, err := c.fs.parse(args, 1, 1)
	if err != nil {
		return err
	}
	addr, err := lists.NormaliseEmail(pos[0])
	if err != nil {
		return c.fs.usageError("%q: %v", pos[0], err)
	}
	return c.withConfigStore(ctx, func(cfg *config.Config, st backend) error {
		key, err := cfg.HMACKey()
		if err != nil {
			return fmt.Errorf("digest key: %w", err)
		}
		return f(optoutEnv{cfg: cfg, st: st, outs: suppression.NewOptOuts(st, key), key: key, addr: addr,
			log: newLogger(cfg.Log, a.stderr)})
	})
}

// decision is the log's record of who decided and why: the store keeps
// only the digest.
func (c *optoutCmd) decision(env optoutEnv) []any {
	d := env.digest()
	return []any{"rcpt", lists.MaskEmail(env.addr), "digest", hex.EncodeToString(d[:]),
		"by", operator(*c.by), "reason", *c.reason}
}

func (c *optoutCmd) needReason() error {
	if strings.TrimSpace(*c.reason) == "" {
		return c.fs.usageError("give the reason with --reason TEXT (for the log and the audit trail)")
	}
	return nil
}

func (a *app) optoutAdd(ctx context.Context, args []string) error {
	c := a.newOptoutCmd("add", "Put ADDRESS on the opt-out list, as if its owner had unsubscribed: the\n"+
		"relay refuses it from then on, on every instance. Who and why go to the log\nand the audit trail (optout history, log audit).", true)
	return c.run(ctx, a, args, func(env optoutEnv) error {
		if err := c.needReason(); err != nil {
			return err
		}
		// The CRM's event is queued first: an opt-out is never made
		// without it (see optoutapi).
		if err := notifyCRM(ctx, env, webhook.OptOut, operator(*c.by)); err != nil {
			return err
		}
		if err := env.outs.OptOut(ctx, env.addr); err != nil {
			return err
		}
		if err := auditOptOut(ctx, env, operator(*c.by), *c.reason); err != nil {
			return err
		}
		env.log.Info("opted out by an admin", c.decision(env)...)
		fmt.Fprintf(a.stdout, "%s: opted out (by %s)\n", env.addr, operator(*c.by))
		return nil
	})
}

func (a *app) optoutCheck(ctx context.Context, args []string) error {
	c := a.newOptoutCmd("check", "Say whether ADDRESS is on the opt-out list. The address is normalised\n"+
		"first, as the relay does: case, +tags and Gmail dots do not matter.\n"+
		"Exit status 0 when it is not opted out, 1 when it is, 2 when the list\n"+
		"could not be read.", false)
	asJSON := jsonFlag(c.fs)
	return a.verdictStatus(c.run(ctx, a, args, func(env optoutEnv) error {
		out, err := env.outs.IsOptedOut(ctx, env.addr)
		if err != nil {
			return err
		}
		if *asJSON {
			if err := a.writeJSON(struct {
				Address  string `json:"address"`
				OptedOut bool   `json:"opted_out"`
			}{env.addr, out}); err != nil {
				return err
			}
			if out {
				return exitStatus(exitRefused)
			}
			return nil
		}
		if out {
			fmt.Fprintf(a.stdout, "%s: opted out\n", env.addr)
			return exitStatus(exitRefused)
		}
		fmt.Fprintf(a.stdout, "%s: not opted out\n", env.addr)
		return nil
	}))
}

func (a *app) optoutErase(ctx context.Context, args []string) error {
	c := a.newOptoutCmd("erase", "Answer an erasure request (GDPR Art. 17): opt ADDRESS out if it is not\n"+
		"already, and delete its CRM contact record and its counts in recipient\n"+
		"caps. What remains is the keyed digest on the opt-out list, which keeps\n"+
		"the person suppressed without naming them. Remove them from the CRM\n"+
		"export too, or the next contacts import brings the record back.", true)
	return c.run(ctx, a, args, func(env optoutEnv) error {
		if err := c.needReason(); err != nil {
			return err
		}
		l, err := openLedger(ctx, env.cfg)
		if err != nil {
			return err
		}
		defer l.Close()
		e, err := eraser(env, l, operator(*c.by))
		e.Reason = *c.reason
		if err != nil {
			return err
		}
		if err := notifyCRM(ctx, env, webhook.Erasure, operator(*c.by)); err != nil {
			return err
		}
		done, err := e.Erase(ctx, env.addr)
		if err != nil {
			return err
		}
		contact, counts, er := done.Contact, done.CapCounts, done.Ledger
		env.log.Info("erased on request", append(c.decision(env), "contact", contact, "cap_counts_reset", counts,
			"ledger_refusals_deleted", er.Deleted, "ledger_decisions_anonymised", er.Anonymised)...)
		fmt.Fprintf(a.stdout, "%s: opted out; CRM contact record: %s; recipient cap counts reset: %d; kept: the keyed digest on the %s list (by %s)\n",
			lists.MaskEmail(env.addr), contact, counts, listmodel.OptOut, operator(*c.by))
		fmt.Fprintf(a.stdout, "ledger: %d refusals deleted, %d sent decisions kept without the address\n", er.Deleted, er.Anonymised)
		return nil
	})
}

// eraser is what an erasure reaches on this store: the opt-out list, the
// contacts and the recipient caps, each when kept, and the ledger l.
func eraser(env optoutEnv, l suppression.Records, by string) (suppression.Erasure, error) {
	e := suppression.Erasure{OptOuts: env.outs, Contacts: env.st.Contacts(), Ledger: l, By: by}
	chk, err := newChecker(env.cfg, env.st, env.key)
	if err != nil {
		return e, err
	}
	if chk != nil {
		e.Caps = chk
	}
	return e, nil
}

// notifyCRM queues the [[webhooks]] event of an opt-out or erasure made
// here; the running gateway delivers it.
func notifyCRM(ctx context.Context, env optoutEnv, typ webhook.Type, by string) error {
	n, err := newNotifier(env.cfg, env.st)
	if err != nil {
		return err
	}
	return n.Notify(ctx, optOutEvent(typ, env.key, env.addr, ledger.SourceCLI, by))
}
