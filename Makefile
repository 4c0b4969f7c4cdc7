# dncgate build and test entry points. `make test` is what CI runs.

GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
ARGS    ?=

.PHONY: bench-all build test soak bench bench-import run vet fmt install

# install: where things go; DESTDIR prefixes them all (a package's staging folder).
DESTDIR    ?=
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
SYSCONFDIR ?= /etc
UNITDIR    ?= /lib/systemd/system
MANDIR     ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d
CONFIG     := $(DESTDIR)$(SYSCONFDIR)/dncgate/dncgate.toml

## build: compile bin/dncgate, stamped with the version
build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/dncgate ./cmd/dncgate

## test: install the test programs when missing, then run every test with the race detector
test:
	scripts/test-deps.sh
	$(GO) test -race -count=1 ./...

## soak: 200 SMTP sessions through two instances for DNCGATE_SOAK (default 5m; the regular suite runs it for 30s)
soak:
	scripts/test-deps.sh
	DNCGATE_SOAK=$${DNCGATE_SOAK:-5m} $(GO) test -count=1 -run '^TestSoak$$' -v -timeout 60m ./e2e

## bench: compare relaying through dncgate with a direct send
bench:
	bench/run.sh

## bench-all: the side-by-side run (ceiling, Postfix, dncgate everything-on on the embedded store, Redis and a Redis Cluster) and the HAProxy scale curve, in one go (SIDE_BY_SIDE=PATH/run-peers.sh)
bench-all:
	bench/all.sh

## bench-import: import a generated 10-million-row phone list into both stores (ROWS=N for fewer)
bench-import:
	bench/import.sh

## run: build, then serve (pass flags with ARGS="--config dncgate.toml")
run: build
	bin/dncgate serve --web-listen 127.0.0.1:8080 $(ARGS)

## vet: go vet every package
vet:
	$(GO) vet ./...

## fmt: gofmt every package
fmt:
	$(GO) fmt ./...

## install: the binary in BINDIR, the commented configuration in SYSCONFDIR/dncgate (never over an existing one), the systemd unit in UNITDIR
install: build
	install -d -m 0755 $(DESTDIR)$(BINDIR) $(DESTDIR)$(SYSCONFDIR)/dncgate $(DESTDIR)$(UNITDIR)
	install -m 0755 bin/dncgate $(DESTDIR)$(BINDIR)/dncgate
	sed -e 's|/usr/local/bin/dncgate|$(BINDIR)/dncgate|g' -e 's|/etc/dncgate/|$(SYSCONFDIR)/dncgate/|g' \
		packaging/dncgate.service >bin/dncgate.service
	install -m 0644 bin/dncgate.service $(DESTDIR)$(UNITDIR)/dncgate.service
	install -d -m 0755 $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	bin/dncgate man | gzip -9n >bin/dncgate.1.gz
	install -m 0644 bin/dncgate.1.gz $(DESTDIR)$(MANDIR)/man1/dncgate.1.gz
	bin/dncgate completion bash >bin/dncgate.bash && install -m 0644 bin/dncgate.bash $(DESTDIR)$(BASHCOMPDIR)/dncgate
	bin/dncgate completion zsh >bin/_dncgate && install -m 0644 bin/_dncgate $(DESTDIR)$(ZSHCOMPDIR)/_dncgate
	bin/dncgate completion fish >bin/dncgate.fish && install -m 0644 bin/dncgate.fish $(DESTDIR)$(FISHCOMPDIR)/dncgate.fish
	@if [ -e $(CONFIG) ]; then \
		echo "install: keeping the existing $(CONFIG)"; \
	else \
		sed -e 's|/etc/dncgate/|$(SYSCONFDIR)/dncgate/|g' packaging/dncgate.toml >bin/dncgate.toml && \
		install -m 0640 bin/dncgate.toml $(CONFIG) && \
		if getent group dncgate >/dev/null 2>&1; then chgrp dncgate $(CONFIG); \
		else echo "install: no dncgate group yet: after useradd, run chgrp dncgate $(CONFIG)"; fi; \
	fi
