# nerd — build, install, test, bench.
PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
OUT      ?= $(CURDIR)/_output
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT   ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS  := -s -w -X github.com/nerd-project/nerd/internal/cli.Version=$(VERSION) -X github.com/nerd-project/nerd/internal/cli.GitCommit=$(COMMIT)
E2E_FLAGS ?= -count=1 -timeout 60m

.PHONY: all build install uninstall test unit e2e bench lint clean

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(OUT)/bin/nerd ./cmd/nerd

install: build
	install -d $(DESTDIR)$(BINDIR)
	install -m 0755 $(OUT)/bin/nerd $(DESTDIR)$(BINDIR)/nerd

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/nerd

# The test command: unit tests, then the end-to-end suite against the
# freshly built binary.
test: build unit e2e

unit:
	$(GO) test -count=1 ./cmd/... ./internal/... ./pkg/...

e2e: build
	NERD_BIN=$(OUT)/bin/nerd $(GO) test $(E2E_FLAGS) ./e2e/

bench: build
	NERD_BIN=$(OUT)/bin/nerd bash bench/run.sh

lint:
	gofmt -l . | tee /dev/stderr | (! read)
	$(GO) vet ./...

clean:
	rm -rf $(OUT)
