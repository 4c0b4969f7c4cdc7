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
		"Validate the configuration and print the effective settings, passwords and keys\n"+
			"masked. Every problem is printed, with its file, line and key.")
	var c common
	c.register(fs)
	if _, err := fs.parse(args, 0, 0); err != nil {
		return err
	}
	cfg, err := c.load()
	if err != nil {
		return err
	}
	fmt.Fprint(a.stdout, cfg.Masked())
	for _, w := range append(cfg.PolicyWarnings(), cfg.FooterWarnings()...) {
		fmt.Fprintln(a.stderr, "dncgate: warning:", w)
	}
	return nil
}
