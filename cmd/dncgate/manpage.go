package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"
)

// man prints the manual page, written from the command definitions.
func (a *app) man(ctx context.Context, args []string) error {
	fs := a.newFlags("dncgate man", "", "Print the manual page dncgate(1) in roff, written from the command\n"+
		"definitions: every command, its arguments and flags. View it with\n"+
		"dncgate man | man -l -")
	if _, err := fs.parse(args, 0, 0); err != nil {
		return err
	}
	writeMan(a.stdout, describe(ctx), buildVersion())
	return nil
}

// roff escapes text for a man page: backslashes, and a leading dot or
// quote that roff would read as a request.
func roff(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = strings.ReplaceAll(s, "-", `\-`)
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(line, ".") || strings.HasPrefix(line, "'") {
			line = `\&` + line
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func writeMan(w io.Writer, root *cmdDoc, version string) {
	date := time.Now().UTC().Format("2006-01-02")
	fmt.Fprintf(w, ".TH DNCGATE 1 %q %q \"dncgate manual\"\n", date, "dncgate "+version)
	fmt.Fprintf(w, ".SH NAME\ndncgate \\- %s\n", roff(root.Summary))
	fmt.Fprintf(w, ".SH SYNOPSIS\n.B dncgate\n.I COMMAND\n[\\fIflags\\fR]\n")
	fmt.Fprintf(w, ".SH DESCRIPTION\n%s\n", roff("An SMTP relay in front of sales email: for every recipient it checks "+
		"national do-not-call and suppression lists, the company's opt-outs and frequency caps, refuses what may not "+
		"be sent with a clear SMTP reply, adds a privacy notice, an opt-out footer and one-click unsubscribe headers "+
		"to what may, and forwards it upstream. The commands below run the gateway and administer its lists, users, "+
		"opt-outs, contacts and send ledger."))
	fmt.Fprintf(w, ".PP\nEvery command that reads the configuration takes \\fB\\-\\-config\\fR \\fIFILE\\fR "+
		"(else $DNCGATE_CONFIG, else /etc/dncgate/dncgate.toml when present, else the built\\-in defaults) and "+
		"\\fB\\-\\-data\\fR \\fIDIR\\fR.\n")
	fmt.Fprintf(w, ".SH COMMANDS\n")
	for _, c := range root.leaves() {
		fmt.Fprintf(w, ".SS %s\n", roff(strings.TrimSpace(c.Path+" "+c.Args)))
		fmt.Fprintf(w, "%s\n", roff(strings.Join(strings.Fields(c.Help), " ")))
		for _, f := range c.Flags {
			fmt.Fprintf(w, ".TP\n\\fB\\-\\-%s\\fR", roff(f.Name))
			if f.Arg != "" {
				fmt.Fprintf(w, " \\fI%s\\fR", roff(f.Arg))
			}
			usage := f.Usage
			if f.Default != "" && !f.Bool {
				usage += " (default " + f.Default + ")"
			}
			fmt.Fprintf(w, "\n%s\n", roff(strings.Join(strings.Fields(usage), " ")))
		}
	}
	fmt.Fprintf(w, ".SH EXIT STATUS\n%s\n", roff("0 success, 1 failure, 2 a usage error. check and optout check: "+
		"0 when every address may be written to, 1 when one may not, 2 when the answer could not be made."))
	fmt.Fprintf(w, ".SH FILES\n.TP\n/etc/dncgate/dncgate.toml\n%s\n.TP\n/var/lib/dncgate\n%s\n",
		roff("the configuration of an installed gateway"), roff("its data folder: the store, hmac.key, unsubscribe.keys, the ledger"))
	fmt.Fprintf(w, ".SH SIGNALS\n%s\n", roff("serve: SIGHUP reloads the configuration, SIGINT and SIGTERM stop after the transactions in progress."))
}
