package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/dncgate/dncgate/country"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/dncgate/dncgate/lists"
	"github.com/dncgate/dncgate/suppression"
)

// exitStatus ends a command with a given status and no message: check
// says "refused" with 1, and keeps 2 for errors.
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

const (
	exitRefused    = 1 // check: some recipient may not be written to
	exitCheckError = 2 // check: the check could not be made
)

// checkFlags are what check and scrub take besides the common flags.
type checkFlags struct {
	common
	from string
}

func (c *checkFlags) register(fs *flagSet) {
	c.common.register(fs)
	fs.StringVar(&c.from, "from", "", "`SENDER` the mail would come from (recorded; default: none)")
}

func (a *app) check(ctx context.Context, args []string) error {
	var c checkFlags
	fs := a.newFlags("dncgate check", "ADDRESS...",
		"Check recipients as the gateway would at RCPT and print one line each: the\n"+
			"address, allowed, refused or tempfail, and the reason code with its\n"+
			"explanation. Exit status: 0 when all are allowed, 1 when any is not,\n"+
			"2 when the check could not be made.")
	c.register(fs)
	asJSON := jsonFlag(fs)
	addrs, err := fs.parse(args, 1, -1)
	if err != nil {
		return err
	}
	return a.verdictStatus(withChecker(ctx, &c.common, func(chk *suppression.Checker) error {
		return a.printVerdicts(ctx, chk, c.from, addrs, *asJSON)
	}))
}

// verdictStatus gives the commands that answer "may this be written to"
// their exit statuses: 0 yes, 1 no (the command returned exitRefused), 2
// when the answer could not be made, so a script never reads a failure as
// a verdict. Usage errors keep theirs.
func (a *app) verdictStatus(err error) error {
	var st exitStatus
	var ue *usageError
	if err != nil && !errors.As(err, &st) && !errors.As(err, &ue) && !errors.Is(err, errHelp) {
		fmt.Fprintln(a.stderr, "dncgate:", err)
		return exitStatus(exitCheckError)
	}
	return err
}

// printVerdicts prints one line per address and returns exitStatus 1
// when any is not allowed.
func (a *app) printVerdicts(ctx context.Context, chk *suppression.Checker, from string, addrs []string, asJSON bool) error {
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	notAllowed := false
	out := make([]verdictJSON, 0, len(addrs))
	for _, addr := range addrs {
		v, err := chk.Decide(ctx, from, addr, time.Now())
		if err != nil {
			return fmt.Errorf("%s: %w", addr, err)
		}
		notAllowed = notAllowed || v.Outcome != suppression.Allowed
		if asJSON {
			out = append(out, newVerdictJSON(addr, v))
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", addr, v.Outcome, v.Explain())
	}
	if asJSON {
		if err := a.writeJSON(out); err != nil {
			return err
		}
	} else if err := tw.Flush(); err != nil {
		return err
	}
	if notAllowed {
		return exitStatus(exitRefused)
	}
	return nil
}

// scrubFlags are scrub's flags.
type scrubFlags struct {
	checkFlags
	column    string
	delimiter string
	encoding  string
	out       string
}

func (a *app) scrub(ctx context.Context, args []string) error {
	var c scrubFlags
	fs := a.newFlags("dncgate scrub", "FILE",
		"Check every address of a CSV file (a prospect list before a campaign) and\n"+
			"write the file back with two more columns, verdict and reason, to\n"+
			"standard output or --out. The file may be gzip or zip compressed.")
	c.register(fs)
	fs.StringVar(&c.column, "email-column", "email", "the addresses' column: header `NAME` or position N")
	fs.StringVar(&c.delimiter, "delimiter", "", "field `DELIMITER`: comma, semicolon, tab, pipe (default: sniffed)")
	fs.StringVar(&c.encoding, "encoding", "utf-8", "`ENCODING` of a file without a byte-order mark: utf-8, windows-1252, latin-1, utf-16le, utf-16be")
	fs.StringVar(&c.out, "out", "", "write to `FILE` instead of standard output")
	pos, err := fs.parse(args, 1, 1)
	if err != nil {
		return err
	}
	ro, err := c.readOptions()
	if err != nil {
		return fs.usageError("%v", err)
	}
	return withChecker(ctx, &c.common, func(chk *suppression.Checker) error {
		return a.scrubFile(ctx, chk, c, pos[0], ro)
	})
}

func (c scrubFlags) readOptions() (lists.ReadOptions, error) {
	ro := lists.ReadOptions{Header: true}
	var err error
	if c.delimiter != "" {
		if ro.Delimiter, err = lists.ParseDelimiter(c.delimiter); err != nil {
			return ro, err
		}
	}
	ro.Encoding, err = lists.ParseEncoding(c.encoding)
	return ro, err
}

// scrubFile checks the file through the recipient check. The output is
// written to a temporary file renamed at the end, so a failed run leaves
// no half-written result behind.
func (a *app) scrubFile(ctx context.Context, chk *suppression.Checker, c scrubFlags, path string, ro lists.ReadOptions) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	out, commit, err := a.scrubOutput(c.out)
	if err != nil {
		return err
	}
	defer commit(false)
	counts, err := chk.Scrub(ctx, f, out, suppression.ScrubOptions{Read: ro, Column: c.column, From: c.from})
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := commit(true); err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "scrub: %d rows: %d allowed, %d refused, %d tempfail, %d invalid\n",
		counts.Rows(), counts.Allowed, counts.Refused, counts.TempFailed, counts.Invalid)
	return nil
}

// scrubOutput opens where scrub writes; commit(true) makes the result
// appear, commit(false) throws it away (a no-op after commit(true)).
func (a *app) scrubOutput(path string) (io.Writer, func(bool) error, error) {
	if path == "" {
		return a.stdout, func(bool) error { return nil }, nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".scrub-*")
	if err != nil {
		return nil, nil, err
	}
	done := false
	return tmp, func(ok bool) error {
		if done {
			return nil
		}
		done = true
		if !ok {
			tmp.Close()
			return os.Remove(tmp.Name())
		}
		if err := tmp.Close(); err != nil {
			os.Remove(tmp.Name())
			return err
		}
		return os.Rename(tmp.Name(), path)
	}, nil
}

// verdictJSON is one address's verdict in check --json.
type verdictJSON struct {
	Address     string          `json:"address"`
	Verdict     string          `json:"verdict"`
	Reason      string          `json:"reason,omitempty"`
	Text        string          `json:"text,omitempty"`
	List        string          `json:"list,omitempty"`
	Version     string          `json:"version,omitempty"`
	KeyKind     string          `json:"key_kind,omitempty"`
	Country     string          `json:"country,omitempty"`
	CountryFrom string          `json:"country_from,omitempty"`
	Type        string          `json:"recipient_type,omitempty"`
	Consulted   []consultedJSON `json:"consulted"`
	Warnings    []string        `json:"warnings,omitempty"`
}

type consultedJSON struct {
	List    string `json:"list"`
	Version string `json:"version"`
}

func newVerdictJSON(addr string, v suppression.Verdict) verdictJSON {
	j := verdictJSON{Address: addr, Verdict: fmt.Sprint(v.Outcome), Reason: v.Code, Text: v.Text, List: v.List,
		Version: v.Version, KeyKind: v.KeyKind, CountryFrom: v.CountryFrom, Type: fmt.Sprint(v.Type),
		Consulted: []consultedJSON{}, Warnings: v.Warnings}
	if v.Country != country.None {
		j.Country = fmt.Sprint(v.Country)
	}
	for _, c := range v.Consulted {
		j.Consulted = append(j.Consulted, consultedJSON{List: c.List, Version: c.Version})
	}
	return j
}
