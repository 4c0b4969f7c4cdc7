package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/dncgate/dncgate/config"
)

// flagSet is a subcommand's flags with the usage line it prints.
type flagSet struct {
	*flag.FlagSet
	prog    string // "dncgate users add"
	args    string // "EMAIL"
	summary string
	out     io.Writer
	lookup  configLookup // how common finds the configuration file
	doc     *describer   // set while the command tree is described
}

func (a *app) newFlags(prog, args, summary string) *flagSet {
	fs := &flagSet{FlagSet: flag.NewFlagSet(prog, flag.ContinueOnError), prog: prog, args: args, summary: summary, out: a.stdout, lookup: a.lookup, doc: a.doc}
	fs.SetOutput(io.Discard)
	return fs
}

func (fs *flagSet) usage() string {
	var b strings.Builder
	fmt.Fprintf(&b, "usage: %s %s\n\n%s\n", fs.prog, strings.TrimSpace(fs.args+" [flags]"), fs.summary)
	fs.SetOutput(&b)
	b.WriteString("\nflags:\n")
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	return b.String()
}

// parse accepts flags before and after positional arguments ("users add
// EMAIL --role admin"), as the flag package alone does not, and checks
// their number is within [min, max] (max < 0: no limit).
func (fs *flagSet) parse(args []string, min, max int) ([]string, error) {
	if fs.doc != nil {
		fs.doc.record(fs)
		return nil, errHelp
	}
	var pos []string
	for {
		if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(fs.out, fs.usage())
			return nil, errHelp
		} else if err != nil {
			return nil, fs.usageError("%v", err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if rest[0] == "--" {
			pos = append(pos, rest[1:]...)
			break
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
	if len(pos) < min || (max >= 0 && len(pos) > max) {
		return nil, fs.usageError("want %s, got %d argument(s)", fs.args, len(pos))
	}
	return pos, nil
}

func (fs *flagSet) usageError(format string, args ...any) error {
	return usageErrorf(fs.prog, format+"\nRun '%s -h' for usage.", append(args, fs.prog)...)
}

// common are the flags every command that reads the configuration takes.
type common struct {
	config string
	data   string
	lookup configLookup
}

func (c *common) register(fs *flagSet) {
	c.lookup = fs.lookup
	fs.StringVar(&c.config, "config", "", "configuration `FILE` (default: $"+configEnv+", else "+installedConfig+" when it exists, else built-in defaults)")
	fs.StringVar(&c.data, "data", "", "data `DIR`, overriding server.data_dir")
}

// load reads the configuration, applies --data and the extra overrides,
// and validates the result, the footer templates included.
func (c *common) load(overrides ...func(*config.Config)) (*config.Config, error) {
	data := func(cfg *config.Config) {
		if c.data != "" {
			cfg.Server.DataDir = c.data
			cfg.MarkOverridden("server.data_dir")
		}
	}
	path, err := c.lookup.find(c.config)
	if err != nil {
		return nil, err
	}
	return config.LoadChecked(path, []config.Check{checkFooter}, append([]func(*config.Config){data}, overrides...)...)
}

// withConfigStore loads the configuration, opens its store (which must
// exist and be the one the configured key belongs to), runs f with both
// and closes the store.
func (c *common) withConfigStore(ctx context.Context, f func(*config.Config, backend) error) error {
	cfg, err := c.load()
	if err != nil {
		return err
	}
	st, err := openChecked(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	return f(cfg, st)
}

// listFlag collects a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }
