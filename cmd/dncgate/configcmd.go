package main

import (
	"context"
	"fmt"
)

func (a *app) config(ctx context.Context, args []string) error {
	return a.dispatch(ctx, "dncgate config", []command{
		{"check", "validate a configuration and print it, secrets masked", (*app).configCheck},
		{"help", "print this help", nil},
	}, args)
}

func (a *app) configCheck(_ context.Context, args []string) error {
	fs := a.newFlags("dncgate config check", "",
		"Validate the configuration and print the settings in force (defaults worked\n"+
			"out at run time included), passwords and keys masked. Every problem is\n"+
			"printed, with its file, line and key.")
	var c common
	c.register(fs)
	changed := fs.Bool("changed", false, "print only the settings that differ from the built-in defaults")
	if _, err := fs.parse(args, 0, 0); err != nil {
		return err
	}
	cfg, err := c.load()
	if err != nil {
		return err
	}
	if *changed {
		out := cfg.ChangedText()
		if out == "" {
			out = "# every setting is at its default\n"
		}
		fmt.Fprint(a.stdout, out)
	} else {
		fmt.Fprint(a.stdout, cfg.Masked())
	}
	for _, w := range append(cfg.PolicyWarnings(), cfg.FooterWarnings()...) {
		fmt.Fprintln(a.stderr, "dncgate: warning:", w)
	}
	return nil
}
