package main

import (
	"context"
	"fmt"

	"github.com/dncgate/dncgate/country"
	"github.com/dncgate/dncgate/footer"
)

func (a *app) footer(ctx context.Context, args []string) error {
	return a.dispatch(ctx, "dncgate footer", []command{
		{"preview", "show the footer a recipient in a country would get", (*app).footerPreview},
		{"help", "print this help", nil},
	}, args)
}

// previewToken stands in for a recipient's unsubscribe token.
const previewToken = "PREVIEW-TOKEN"

func (a *app) footerPreview(_ context.Context, args []string) error {
	fs := a.newFlags("dncgate footer preview", "", "Print the privacy notice and opt-out footer a recipient would get, as the\n"+
		"configuration and templates make it: in the language of --country (Belgium\n"+
		"and Switzerland get two), or of --language, with a stand-in unsubscribe link.")
	var c common
	c.register(fs)
	cc := fs.String("country", "", "the recipient's country `CC` (ISO 3166-1; default: none known, the fallback language)")
	language := fs.String("language", "", "the footer's language `TAG` (fr, nl+fr, …), instead of the country's")
	format := fs.String("format", "text", "`FORMAT`: text or html")
	rep := fs.String("rep", "", "the rep's display `NAME` the footer names")
	if _, err := fs.parse(args, 0, 0); err != nil {
		return err
	}
	if *format != "text" && *format != "html" {
		return fs.usageError("--format: %q; use text or html", *format)
	}
	if *cc != "" && *language != "" {
		return fs.usageError("--country and --language: give one")
	}
	code := country.None
	if *cc != "" {
		var err error
		if code, err = country.Parse(*cc); err != nil {
			return fs.usageError("--country: %v", err)
		}
	}
	cfg, err := c.load()
	if err != nil {
		return err
	}
	details, _ := cfg.FooterDetails()
	tpl, err := footerTemplates(details)
	if err != nil {
		return err
	}
	want := *language
	if want == "" {
		want = footer.FooterLanguages(code)
	}
	tag := tpl.Resolve(want)
	v := footerVars(cfg, details)
	v.UnsubscribeURL, v.RepName = footer.NewText(cfg.UnsubscribeBaseURL()+"/u/"+previewToken), footer.NewText(*rep)
	text, html, err := tpl.Render(tag, v)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "language: %s\n", tag)
	for _, w := range cfg.FooterWarnings() {
		fmt.Fprintln(a.stderr, "warning:", w)
	}
	if *format == "html" {
		fmt.Fprintln(a.stdout, html)
	} else {
		fmt.Fprintln(a.stdout, text)
	}
	return nil
}
