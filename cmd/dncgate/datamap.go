package main

import (
	"context"
	"strings"

	"github.com/dncgate/dncgate/config"
	"github.com/dncgate/dncgate/datamap"
	"github.com/dncgate/dncgate/ledger"
	ledgerpg "github.com/dncgate/dncgate/ledger/postgres"
	ledgersqlite "github.com/dncgate/dncgate/ledger/sqlite"
	"github.com/dncgate/dncgate/lists"
	"github.com/dncgate/dncgate/relay/upstream"
	"github.com/dncgate/dncgate/smtpurl"
	"github.com/dncgate/dncgate/store/embedded"
	"github.com/dncgate/dncgate/store/redisstore"
)

func (a *app) datamap(_ context.Context, args []string) error {
	fs := a.newFlags("dncgate datamap", "", "Print every kind of personal data this configuration keeps: what it is, where,\n"+
		"in what form, for how long and what deletes it, and who can read it.")
	var c common
	c.register(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := fs.parse(args, 0, 0); err != nil {
		return err
	}
	cfg, err := c.load()
	if err != nil {
		return err
	}
	entries := dataMap(cfg)
	if *asJSON {
		return datamap.WriteJSON(a.stdout, entries)
	}
	return datamap.WriteText(a.stdout, entries)
}

// dataMap collects the declarations of the parts cfg uses.
func dataMap(cfg *config.Config) []datamap.Entry {
	st, led := embedded.DataMap, ledgersqlite.DataMap
	if cfg.Store.Backend == config.BackendRedis {
		st = redisstore.DataMap
	}
	if cfg.Ledger.URL != "" {
		led = ledgerpg.DataMap
	}
	parts := [][]datamap.Entry{st, led, ledger.SpoolDataMap, lists.LogDataMap}
	if strings.HasPrefix(cfg.UpstreamURL(), string(smtpurl.SchemeOutbox)+":") {
		parts = append(parts, upstream.DataMap)
	}
	return datamap.Collect(parts...)
}
