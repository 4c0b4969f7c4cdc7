// Command dncgate is the outbound prospecting compliance gateway: the SMTP
// submission relay (serve) and the commands that administer it.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/dncgate/dncgate/config"
)

// version is set at build time with -ldflags "-X main.version=…".
var version string

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1 // the command ran and failed
	exitUsage = 2 // the command line itself is wrong
)

func main() {
	a := &app{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}
	os.Exit(a.run(context.Background(), os.Args[1:]))
}

// app carries a command's standard streams.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	lookup         configLookup // where --config defaults to
	doc            *describer   // set while the command tree is described
}

// command is one entry of a command table: a leaf or a group of subcommands.
type command struct {
	name    string
	summary string
	run     func(a *app, ctx context.Context, args []string) error
}

func topCommands() []command {
	return []command{
		{"init", "create the store (or check the one there)", (*app).init},
		{"serve", "run the SMTP gateway", (*app).serve},
		{"users", "add, list, change and remove users", (*app).users},
		{"caps", "show and reset frequency cap counts", (*app).caps},
		{"lists", "import, show, add to and drop suppression lists", (*app).lists},
		{"optout", "opt addresses out, check them, erase them on request", (*app).optout},
		{"webhooks", "list queued and dead-lettered CRM webhook events, retry dead ones", (*app).webhooks},
		{"contacts", "import CRM contacts and show what they hold", (*app).contacts},
		{"check", "check recipients as the gateway would, before a campaign", (*app).check},
		{"scrub", "write a prospect file back with each address's verdict", (*app).scrub},
		{"log", "show recipient decisions from the send ledger", (*app).log},
		{"footer", "preview the privacy notice and opt-out footer", (*app).footer},
		{"config", "check a configuration file", (*app).config},
		{"backup", "write one archive of the store, its keys, the ledger and the configuration", (*app).backup},
		{"restore", "put a backup archive back, after checking it and the target", (*app).restore},
		{"datamap", "print every kind of personal data kept: where, in what form, for how long", (*app).datamap},
		{"version", "print the version", (*app).version},
		{"man", "print the manual page, written from these definitions", (*app).man},
		{"completion", "print a shell completion script: bash, zsh or fish", (*app).completion},
		{"help", "print this help", nil},
	}
}

func (a *app) run(ctx context.Context, args []string) int {
	err := a.dispatch(ctx, "dncgate", topCommands(), args)
	return a.report(err)
}

// dispatch runs the command named by args[0] from cmds.
func (a *app) dispatch(ctx context.Context, prog string, cmds []command, args []string) error {
	if a.doc != nil {
		return a.describeTable(ctx, prog, cmds)
	}
	if len(args) == 0 {
		return usageErrorf(prog, "missing command\n\n%s", commandList(prog, cmds))
	}
	name := args[0]
	if name == "help" || name == "-h" || name == "-help" || name == "--help" {
		return a.help(ctx, prog, cmds, args[1:])
	}
	for _, c := range cmds {
		if c.name == name && c.run != nil {
			return c.run(a, ctx, args[1:])
		}
	}
	return usageErrorf(prog, "unknown command %q\n\n%s", name, commandList(prog, cmds))
}

// help prints the command list, or a command's own usage (help users add).
func (a *app) help(ctx context.Context, prog string, cmds []command, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(a.stdout, commandList(prog, cmds))
		return nil
	}
	return a.dispatch(ctx, prog, cmds, append(args, "-h"))
}

func commandList(prog string, cmds []command) string {
	var b strings.Builder
	fmt.Fprintf(&b, "usage: %s COMMAND [flags]\n\ncommands:\n", prog)
	for _, c := range cmds {
		fmt.Fprintf(&b, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(&b, "\nRun '%s help COMMAND' or '%s COMMAND -h' for a command's flags.\n", prog, prog)
	return b.String()
}

// usageError is a mistake on the command line: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(prog, format string, args ...any) error {
	return &usageError{msg: prog + ": " + fmt.Sprintf(format, args...)}
}

// errHelp reports that usage was asked for and printed: exit code 0.
var errHelp = errors.New("help shown")

// report prints err and turns it into an exit code.
func (a *app) report(err error) int {
	var ue *usageError
	var problems config.Problems
	var st exitStatus
	switch {
	case err == nil, errors.Is(err, errHelp):
		return exitOK
	case errors.As(err, &st):
		return int(st)
	case errors.As(err, &ue):
		fmt.Fprintln(a.stderr, strings.TrimRight(ue.msg, "\n"))
		return exitUsage
	case errors.As(err, &problems):
		fmt.Fprintf(a.stderr, "dncgate: the configuration has %d problem(s):\n%v\n", len(problems), problems)
		return exitFail
	}
	fmt.Fprintln(a.stderr, "dncgate:", err)
	return exitFail
}
