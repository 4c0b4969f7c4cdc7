# dncgate build and test entry points. `make test` is what CI runs.

GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
ARGS    ?=

.PHONY: build test bench bench-import run vet fmt

## build: compile bin/dncgate, stamped with the version
build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/dncgate ./cmd/dncgate

## test: install the test programs when missing, then run every test with the race detector
test:
	scripts/test-deps.sh
	$(GO) test -race -count=1 ./...

## bench: compare relaying through dncgate with a direct send
bench:
	bench/run.sh

## bench-import: import a generated 10-million-row phone list into both stores (ROWS=N for fewer)
bench-import:
	bench/import.sh

## run: build, then serve (pass flags with ARGS="--config dncgate.toml")
run: build
	bin/dncgate serve $(ARGS)

## vet: go vet every package
vet:
	$(GO) vet ./...

## fmt: gofmt every package
fmt:
	$(GO) fmt ./...
