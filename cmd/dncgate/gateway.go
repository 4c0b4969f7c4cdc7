package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/dncgate/dncgate/config"
	"github.com/dncgate/dncgate/store"
)

// runGateway is provided by the relay wiring.
func runGateway(ctx context.Context, cfg *config.Config, st store.Store, key []byte, log *slog.Logger) error {
	return errors.New("gateway not wired yet")
}
