package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/dncgate/dncgate/duration"
	"io"
	"os"
	"os/user"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dncgate/dncgate/caps"
	"github.com/dncgate/dncgate/config"
)

// capsKeyHelp says what KEY may be, for the usage text of both commands.
const capsKeyHelp = "KEY is an address (recipient and rep caps), a domain (recipient-domain caps),\n" +
	"REP|DOMAIN (rep-domain caps) or \"org\" (org caps)."

func (a *app) caps(ctx context.Context, args []string) error {
	return a.dispatch(ctx, "dncgate caps", []command{
		{"show", "show a key's count and next free slot in each cap", (*app).capsShow},
		{"reset", "forget a key's sends and holds in one cap", (*app).capsReset},
		{"help", "print this help", nil},
	}, args)
}

// capsCmd holds what every caps subcommand parses.
type capsCmd struct {
	common
	fs *flagSet
}

func (a *app) newCapsCmd(name, summary string) *capsCmd {
	c := &capsCmd{fs: a.newFlags("dncgate caps "+name, "KEY", summary+"\n"+capsKeyHelp)}
	c.register(c.fs)
	return c
}

// withChecker loads the configuration, opens the store and runs f with the
// checker of the configured caps, named as the gateway names them.
func (c *capsCmd) withChecker(ctx context.Context, f func(*config.Config, *caps.Checker) error) error {
	return c.withConfigStore(ctx, func(cfg *config.Config, st backend) error {
		if len(cfg.Caps) == 0 {
			return errors.New("no [[caps]] are configured")
		}
		key, err := cfg.HMACKey()
		if err != nil {
			return fmt.Errorf("digest key: %w", err)
		}
		chk, err := newChecker(cfg, st, key)
		if err != nil {
			return err
		}
		return f(cfg, chk)
	})
}

func (a *app) capsShow(ctx context.Context, args []string) error {
	c := a.newCapsCmd("show", "Show, for every configured cap whose scope fits KEY, the sends and holds\n"+
		"counted in its window, its limit and when its next slot is free (UTC).")
	asJSON := jsonFlag(c.fs)
	pos, err := c.fs.parse(args, 1, 1)
	if err != nil {
		return err
	}
	key := pos[0]
	return c.withChecker(ctx, func(_ *config.Config, chk *caps.Checker) error {
		rows, err := capUsages(ctx, chk, key, time.Now())
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			return c.fs.usageError("no configured cap counts %q; %s", key, capsKeyHelp)
		}
		if *asJSON {
			type usageJSON struct {
				Cap      string  `json:"cap"`
				Scope    string  `json:"scope"`
				Key      string  `json:"key"`
				Count    int64   `json:"count"`
				Limit    int64   `json:"limit"`
				Window   string  `json:"window"`
				NextFree *string `json:"next_free"` // null: a slot is free now
			}
			out := make([]usageJSON, 0, len(rows))
			for _, u := range rows {
				j := usageJSON{Cap: u.rule.Name, Scope: string(u.rule.Scope), Key: u.subject, Count: int64(u.Count),
					Limit: int64(u.Limit), Window: duration.Format(u.rule.Window)}
				if !u.OK {
					j.NextFree = jsonTime(u.NextSlot)
				}
				out = append(out, j)
			}
			return a.writeJSON(out)
		}
		return writeUsages(a.stdout, rows)
	})
}

// capUsage is one row of caps show.
type capUsage struct {
	rule    caps.Rule
	subject string
	caps.Reservation
}

// capUsages reads the usage of every cap whose scope fits key, in the
// configured order.
func capUsages(ctx context.Context, chk *caps.Checker, key string, now time.Time) ([]capUsage, error) {
	var rows []capUsage
	for _, r := range chk.Rules() {
		subject, ok, err := capSubject(r, key)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		res, err := chk.Usage(ctx, r.Name, subject, now)
		if err != nil {
			return nil, fmt.Errorf("cap %s, key %s: %w", r.Name, subject, err)
		}
		rows = append(rows, capUsage{rule: r, subject: subject, Reservation: res})
	}
	return rows, nil
}

func writeUsages(w io.Writer, rows []capUsage) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CAP\tSCOPE\tKEY\tCOUNT\tLIMIT\tWINDOW\tNEXT FREE (UTC)")
	for _, u := range rows {
		next := "now"
		if !u.OK {
			next = u.NextSlot.UTC().Format(time.DateTime)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\t%s\n", u.rule.Name, u.rule.Scope, u.subject, u.Count, u.Limit, duration.Format(u.rule.Window), next)
	}
	return tw.Flush()
}

// capSubject returns the subject r counts for key, as caps.Key builds it
// at RCPT (an address normalised: any spelling of a person finds their
// count), and whether key is of the kind r's scope counts. A key of that
// kind which does not normalise is an error.
func capSubject(r caps.Rule, key string) (string, bool, error) {
	key = strings.TrimSpace(key)
	rep, domain, pair := strings.Cut(key, "|")
	isAddr := !pair && strings.Contains(key, "@")
	isDomain := !pair && !isAddr && key != "" && !strings.EqualFold(key, "org")
	var subject string
	var fits bool
	var err error
	switch r.Scope {
	case caps.ScopeRecipient:
		if fits = isAddr; fits {
			subject, err = caps.Key(r, "", key)
		}
	case caps.ScopeRep:
		if fits = isAddr; fits {
			subject, err = caps.Key(r, key, "")
		}
	case caps.ScopeRecipientDomain:
		if fits = isDomain; fits {
			subject, err = caps.DomainKey(r, "", key)
		}
	case caps.ScopeRepDomain:
		if fits = pair && strings.Contains(rep, "@") && domain != "" && !strings.Contains(domain, "@"); fits {
			subject, err = caps.DomainKey(r, rep, domain)
		}
	case caps.ScopeOrg:
		fits = strings.EqualFold(key, "org")
		subject, err = caps.Key(r, "", "")
	}
	if err != nil {
		return "", true, fmt.Errorf("%q: %w", key, err)
	}
	return subject, fits, nil
}

func (a *app) capsReset(ctx context.Context, args []string) error {
	c := a.newCapsCmd("reset", "Forget every send and hold of KEY in the cap named by --cap, so KEY may be\n"+
		"sent to again at once. The reset is logged with who made it.")
	name := c.fs.String("cap", "", "`NAME` of the cap to reset (required)")
	by := c.fs.String("by", "", "`NAME` of who resets, for the log (default: $SUDO_USER, else $USER, else the account name)")
	pos, err := c.fs.parse(args, 1, 1)
	if err != nil {
		return err
	}
	if *name == "" {
		return c.fs.usageError("give the cap to reset with --cap NAME")
	}
	key, who := pos[0], operator(*by)
	return c.withChecker(ctx, func(cfg *config.Config, chk *caps.Checker) error {
		r, err := findRule(chk, *name)
		if err != nil {
			return c.fs.usageError("%v", err)
		}
		subject, ok, err := capSubject(r, key)
		if err != nil {
			return c.fs.usageError("%v", err)
		}
		if !ok {
			return c.fs.usageError("cap %s has scope %s, which does not count %q; %s", r.Name, r.Scope, key, capsKeyHelp)
		}
		if err := chk.Reset(ctx, r.Name, subject); err != nil {
			return fmt.Errorf("resetting cap %s for %s: %w", r.Name, subject, err)
		}
		newLogger(cfg.Log, a.stderr).Info("cap reset", "cap", r.Name, "key", subject, "by", who)
		fmt.Fprintf(a.stdout, "reset cap %s for %s (by %s)\n", r.Name, subject, who)
		return recordAudit(ctx, cfg, capResetEvent(cfg, r.Name, subject, who))
	})
}

// findRule returns the configured cap named name.
func findRule(chk *caps.Checker, name string) (caps.Rule, error) {
	var names []string
	for _, r := range chk.Rules() {
		if r.Name == name {
			return r, nil
		}
		names = append(names, r.Name)
	}
	return caps.Rule{}, fmt.Errorf("no cap named %q; the configured caps are %s", name, strings.Join(names, ", "))
}

// operator names who runs the command: by when given, else the user sudo
// was run by, else the login user, else the account the process runs as
// (root under a service manager that sets no $USER), so a change is never
// recorded as made by nobody.
func operator(by string) string {
	for _, who := range []string{by, os.Getenv("SUDO_USER"), os.Getenv("USER")} {
		if who = strings.TrimSpace(who); who != "" {
			return who
		}
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "uid " + strconv.Itoa(os.Getuid())
}
