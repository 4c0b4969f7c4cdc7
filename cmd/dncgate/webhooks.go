package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/dncgate/dncgate/config"
	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/webhook"
)

// webhookEndpoints are the configured [[webhooks]], their secrets read.
func webhookEndpoints(cfg *config.Config) ([]webhook.Endpoint, error) {
	var out []webhook.Endpoint
	for i, w := range cfg.Webhooks {
		secret, err := cfg.WebhookSecret(i)
		if err != nil {
			return nil, fmt.Errorf("webhooks[%d].secret_file: %w", i, err)
		}
		e := webhook.Endpoint{Name: cfg.WebhookName(i), URL: w.URL, Secret: secret, Timeout: w.Timeout.Duration,
			MaxAge: w.MaxAge.Duration, IncludeAddress: w.IncludeAddress}
		for _, ev := range w.Events {
			e.Events = append(e.Events, webhook.Type(ev))
		}
		out = append(out, e)
	}
	return out, nil
}

// newNotifier queues events into q for the configured endpoints; nil
// when none is configured.
func newNotifier(cfg *config.Config, q webhook.Queue) (*webhook.Notifier, error) {
	eps, err := webhookEndpoints(cfg)
	if err != nil || len(eps) == 0 {
		return nil, err
	}
	return &webhook.Notifier{Queue: q, Endpoints: eps}, nil
}

// startWebhooks runs the deliverer until the returned stop is called.
func startWebhooks(ctx context.Context, cfg *config.Config, q webhook.Queue, m *webhook.Metrics, log *slog.Logger) (func(), error) {
	eps, err := webhookEndpoints(cfg)
	if err != nil {
		return nil, err
	}
	if len(eps) == 0 {
		return func() {}, nil
	}
	names := make([]string, len(eps))
	for i, e := range eps {
		names[i] = e.Name
	}
	m.Prepare(names)
	d := &webhook.Deliverer{Queue: q, Endpoints: eps, Log: log, Metrics: m}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() { defer close(done); d.Run(rctx) }()
	log.Info("webhooks: delivering", "endpoints", len(eps))
	return func() { cancel(); <-done }, nil
}

// optOutEvent is the webhook event of an opt-out or erasure of addr.
func optOutEvent(typ webhook.Type, key []byte, addr string, source ledger.Source, actor string) webhook.Event {
	d := ledger.RcptDigest(key, addr)
	return webhook.Event{ID: webhook.NewID(), Type: typ, At: time.Now(), Address: addr,
		Digest: hex.EncodeToString(d[:]), Source: string(source), Actor: actor}
}

func (a *app) webhooks(ctx context.Context, args []string) error {
	return a.dispatch(ctx, "dncgate webhooks", []command{
		{"ls", "list the events waiting for delivery, or the dead-lettered ones", (*app).webhooksLs},
		{"retry", "queue dead-lettered events again", (*app).webhooksRetry},
		{"help", "print this help", nil},
	}, args)
}

func (a *app) webhooksLs(ctx context.Context, args []string) error {
	var c common
	fs := a.newFlags("dncgate webhooks ls", "", "List the webhook jobs waiting for delivery (one per event and endpoint),\n"+
		"oldest first, or with --dead the ones given up after their max_age.")
	c.register(fs)
	dead := fs.Bool("dead", false, "list the dead-lettered jobs")
	limit := fs.Int("limit", 100, "list at most N jobs")
	if _, err := fs.parse(args, 0, 0); err != nil {
		return err
	}
	return c.withConfigStore(ctx, func(_ *config.Config, st backend) error {
		jobs, err := st.Webhooks(ctx, *dead, *limit)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "JOB\tENDPOINT\tQUEUED\tATTEMPTS\tNEXT\tLAST ERROR")
		for _, j := range jobs {
			next := j.NextAt.UTC().Format(time.DateTime)
			if j.Dead {
				next = "dead"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", j.ID, j.Endpoint, j.Created.UTC().Format(time.DateTime), j.Attempts, next, printable(j.LastError))
		}
		return tw.Flush()
	})
}

func (a *app) webhooksRetry(ctx context.Context, args []string) error {
	var c common
	fs := a.newFlags("dncgate webhooks retry", "[JOB ...]", "Queue dead-lettered jobs again, due now, their max_age counted afresh;\n"+
		"--all retries every dead job.")
	c.register(fs)
	all := fs.Bool("all", false, "retry every dead-lettered job")
	ids, err := fs.parse(args, 0, -1)
	if err != nil {
		return err
	}
	if len(ids) == 0 && !*all {
		return fs.usageError("name the jobs to retry (dncgate webhooks ls --dead), or give --all")
	}
	return c.withConfigStore(ctx, func(_ *config.Config, st backend) error {
		if *all {
			jobs, err := st.Webhooks(ctx, true, 1<<20)
			if err != nil {
				return err
			}
			for _, j := range jobs {
				ids = append(ids, j.ID)
			}
		}
		var errs []error
		for _, id := range ids {
			if err := st.ReviveWebhook(ctx, id, time.Now()); err != nil {
				errs = append(errs, err)
				continue
			}
			fmt.Fprintf(a.stdout, "%s: queued again\n", id)
		}
		return errors.Join(errs...)
	})
}
