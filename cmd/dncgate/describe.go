package main

import (
	"context"
	"flag"
	"sort"
	"strings"
)

// cmdDoc describes one command as its own definition says: the command
// tables for groups, the flag set for leaves. The man page and the shell
// completions are written from it, so they cannot drift from the binary.
type cmdDoc struct {
	Path    string // "dncgate lists import"
	Summary string // the one-line summary of the command table
	Args    string // positional arguments of a leaf: "NAME FILE"
	Help    string // a leaf's full description
	Flags   []flagDoc
	Subs    []*cmdDoc
}

// flagDoc is one flag of a leaf.
type flagDoc struct {
	Name, Arg, Usage, Default string
	Bool                      bool
}

// describer walks the command tree: dispatch descends into every entry of
// a table instead of running one, and a leaf's parse records its flags
// and returns before doing anything.
type describer struct{ stack []*cmdDoc }

func (d *describer) top() *cmdDoc { return d.stack[len(d.stack)-1] }

// describe returns the tree of every command.
func describe(ctx context.Context) *cmdDoc {
	root := &cmdDoc{Path: "dncgate", Summary: "outbound prospecting compliance gateway"}
	a := &app{doc: &describer{stack: []*cmdDoc{root}}}
	a.stdout, a.stderr = discard{}, discard{}
	_ = a.dispatch(ctx, "dncgate", topCommands(), nil)
	return root
}

// describeTable records the entries of a command table and walks each.
func (a *app) describeTable(ctx context.Context, prog string, cmds []command) error {
	for _, c := range cmds {
		if c.run == nil {
			continue
		}
		a.describeOne(ctx, prog+" "+c.name, c.summary, func() { _ = c.run(a, ctx, []string{"-h"}) })
	}
	return errHelp
}

// describeOne records one command and what walking it finds.
func (a *app) describeOne(_ context.Context, path, summary string, walk func()) {
	d := a.doc
	node := &cmdDoc{Path: path, Summary: summary}
	d.top().Subs = append(d.top().Subs, node)
	d.stack = append(d.stack, node)
	walk()
	d.stack = d.stack[:len(d.stack)-1]
}

// record fills the current node from a leaf's flag set.
func (d *describer) record(fs *flagSet) {
	n := d.top()
	n.Args, n.Help = fs.args, fs.summary
	fs.VisitAll(func(f *flag.Flag) {
		// UnquoteUsage names no argument for a boolean flag only.
		arg, usage := flag.UnquoteUsage(f)
		n.Flags = append(n.Flags, flagDoc{Name: f.Name, Arg: arg, Usage: usage, Default: f.DefValue, Bool: arg == ""})
	})
	sort.Slice(n.Flags, func(i, j int) bool { return n.Flags[i].Name < n.Flags[j].Name })
}

// leaves returns every runnable command below n, depth first.
func (n *cmdDoc) leaves() []*cmdDoc {
	var out []*cmdDoc
	for _, s := range n.Subs {
		if s.Help != "" { // its flag set was recorded: it runs
			out = append(out, s)
		}
		out = append(out, s.leaves()...)
	}
	return out
}

// words is the command's path after the program name: "lists import".
func (n *cmdDoc) words() string {
	return strings.TrimPrefix(strings.TrimPrefix(n.Path, "dncgate"), " ")
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
