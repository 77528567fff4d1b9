# nerd — build, install, test, bench.
PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
LIBEXECDIR ?= $(PREFIX)/libexec/nerd
SYSTEMDDIR ?= /etc/systemd/system
OUT      ?= $(CURDIR)/_output
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT   ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS  := -s -w -X github.com/nerd-project/nerd/internal/cli.Version=$(VERSION) -X github.com/nerd-project/nerd/internal/cli.GitCommit=$(COMMIT)
E2E_FLAGS ?= -count=1 -timeout 60m
TINI_STATIC ?= /usr/bin/tini-static
# The standard CNI plugins nerd runs, pinned in tools/cni/go.mod (a module
# of its own, so their dependencies stay out of nerd's go.mod).
CNI_PLUGINS := main/bridge main/loopback ipam/host-local meta/portmap meta/firewall meta/tuning

# nerd-shim-runc builds against libcontainer with
# third_party/runc/compiled-seccomp.patch (a copy of the pinned runc module
# that make build prepares under $(OUT)); so do its tests.
RUNC_PATCHED := $(OUT)/runc-patched/go.mod
SHIM_RUNC_PATCHED := -modfile $(RUNC_PATCHED) -tags seccomp,nerd_compiled_seccomp

# The patched runc copy is made again only when the pin or the patch
# changes (third_party/runc/patch.sh).
$(RUNC_PATCHED): go.mod go.sum third_party/runc/compiled-seccomp.patch third_party/runc/patch.sh
	sh third_party/runc/patch.sh $(OUT)/runc-patched

.PHONY: all build install uninstall test unit e2e bench lint clean

all: build

# nerd itself is pure Go; the monitor links libcontainer, which needs cgo
# (nsenter) and libseccomp.
build: $(RUNC_PATCHED)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(OUT)/bin/nerd ./cmd/nerd
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '-s -w' -o $(OUT)/bin/nerd-shim ./cmd/nerd-shim
	@# libcontainer with third_party/runc/compiled-seccomp.patch: the
	@# container's init loads a seccomp filter compiled (and cached) by the
	@# helper instead of compiling the profile with libseccomp every start.
	@# Static, as runc's own releases: it is executed twice per start (helper,
	@# then the container's init), and without the dynamic loader each exec
	@# is ~0.7 ms faster.
	CGO_ENABLED=1 $(GO) build -trimpath $(SHIM_RUNC_PATCHED),netgo,osusergo -ldflags "-s -w -linkmode external -extldflags -static" -o $(OUT)/bin/nerd-shim-runc ./cmd/nerd-shim/nerd-shim-runc
	@# --init mounts a static init into the container, as Docker's docker-init
	@# (which is tini): ship Debian's tini-static as nerd-init.
	@if [ -x "$(TINI_STATIC)" ]; then install -m 0755 "$(TINI_STATIC)" $(OUT)/bin/nerd-init; \
	else echo "note: $(TINI_STATIC) not found (Debian package tini): --init will be unavailable" >&2; fi
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '-s -w' -o $(OUT)/bin/nerd-dns ./cmd/nerd-dns
	mkdir -p $(OUT)/bin/cni
	cd tools/cni && CGO_ENABLED=0 $(GO) build -trimpath -ldflags '-s -w' -o $(OUT)/bin/cni/ $(addprefix github.com/containernetworking/plugins/plugins/,$(CNI_PLUGINS))

install: build
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBEXECDIR)
	install -m 0755 $(OUT)/bin/nerd $(DESTDIR)$(BINDIR)/nerd
	install -m 0755 $(OUT)/bin/nerd-shim $(DESTDIR)$(LIBEXECDIR)/nerd-shim
	install -m 0755 $(OUT)/bin/nerd-shim-runc $(DESTDIR)$(LIBEXECDIR)/nerd-shim-runc
	if [ -x $(OUT)/bin/nerd-init ]; then install -m 0755 $(OUT)/bin/nerd-init $(DESTDIR)$(LIBEXECDIR)/nerd-init; fi
	install -m 0755 $(OUT)/bin/nerd-dns $(DESTDIR)$(LIBEXECDIR)/nerd-dns
	install -d $(DESTDIR)$(LIBEXECDIR)/cni
	install -m 0755 $(OUT)/bin/cni/* $(DESTDIR)$(LIBEXECDIR)/cni/
	install -d $(DESTDIR)$(SYSTEMDDIR)
	sed 's#@BINDIR@#$(BINDIR)#' contrib/systemd/nerd-boot.service > $(DESTDIR)$(SYSTEMDDIR)/nerd-boot.service
	@if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then systemctl daemon-reload && systemctl enable nerd-boot.service; fi

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/nerd $(DESTDIR)$(LIBEXECDIR)/nerd-shim $(DESTDIR)$(LIBEXECDIR)/nerd-shim-runc $(DESTDIR)$(LIBEXECDIR)/nerd-dns $(DESTDIR)$(LIBEXECDIR)/nerd-init $(DESTDIR)$(SYSTEMDDIR)/nerd-boot.service
	rm -rf $(DESTDIR)$(LIBEXECDIR)/cni

# The test command: unit tests, then the end-to-end suite against the
# freshly built binary.
test: build unit e2e

unit: $(RUNC_PATCHED)
	$(GO) test -count=1 ./cmd/... ./internal/... ./pkg/...
	$(GO) test -count=1 $(SHIM_RUNC_PATCHED) ./cmd/nerd-shim/nerd-shim-runc/

e2e: build
	NERD_BIN=$(OUT)/bin/nerd $(GO) test $(E2E_FLAGS) ./e2e/

# Cold pull+unpack of nerd vs podman (e2e/bench_test.go, docs/performance.md).
# NERD_BENCH_RUNS=N overrides the number of runs per engine (default 5),
# NERD_BENCH_DIR the parent of the stores (default /var/tmp), and
# NERD_BENCH_PODMAN=none times nerd alone.
bench: build
	NERD_BENCH=1 NERD_BIN=$(OUT)/bin/nerd $(GO) test ./e2e/ -run '^TestBench' -count=1 -v -timeout 60m

lint: $(RUNC_PATCHED)
	@out=$$(gofmt -l cmd internal pkg e2e tools); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet $(SHIM_RUNC_PATCHED) ./cmd/nerd-shim/nerd-shim-runc/

clean:
	rm -rf $(OUT)
